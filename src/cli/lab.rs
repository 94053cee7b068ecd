//! `netdoctor lab`: list, run and clean up the lab scenarios (glue only; the work is in
//! `crate::lab`, the page in `crate::render::lab`).

use std::io::Write;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::{EXIT_OK, EXIT_WARNING, OutputArgs};
use crate::collect::sys::interrupt;
use crate::lab::LabError;
use crate::lab::drivers::{self, Control};
use crate::lab::run::{self, Outcome, RunOptions};
use crate::lab::scenarios::{self, SCENARIOS};
use crate::render::lab as page;

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes of `lab run`: 0 the scenario ended in its expected finding \
(or cannot run here, and says why), 1 it did not, 3 error (e.g. not root)."
)]
pub struct LabArgs {
    #[command(subcommand)]
    pub command: LabCommand,
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// List the scenarios and the finding each must end in
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Build one failure in a fresh network namespace, run `check` on it, explain, clean up
    Run {
        /// Scenario name (see `netdoctor lab list`)
        scenario: String,
        /// Leave the namespaces in place afterwards (remove them with `netdoctor lab clean`)
        #[arg(long)]
        keep: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Remove netdoctor-lab-* namespaces and their processes left by ended or crashed runs
    Clean {
        /// Also remove the namespaces of runs still going
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Internal: the traffic driver of a scenario, run inside its namespace
    #[command(hide = true)]
    Drive { scenario: String },
}

pub fn run(args: LabArgs) -> anyhow::Result<i32> {
    match args.command {
        LabCommand::List { output } => {
            let mut stdout = std::io::stdout().lock();
            if output.json {
                writeln!(
                    stdout,
                    "{}",
                    serde_json::to_string_pretty(&page::list_json(SCENARIOS))?
                )?;
            } else {
                let style = output.style();
                write!(stdout, "{}", page::list_text(SCENARIOS, style))?;
            }
            Ok(EXIT_OK)
        }
        LabCommand::Run {
            scenario,
            keep,
            output,
        } => {
            let found =
                scenarios::find(&scenario).ok_or(LabError::UnknownScenario(scenario.clone()))?;
            interrupt::install_interrupt_flag().context("installing the Ctrl-C handler")?;
            let exe = std::env::current_exe().context("finding the netdoctor binary")?;
            let report = run::run_scenario(found, &RunOptions { keep, exe })?;
            let mut stdout = std::io::stdout().lock();
            if output.json {
                writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                let style = output.style();
                write!(stdout, "{}", page::run_text(&report, style))?;
            }
            Ok(match report.outcome {
                Outcome::Proved | Outcome::Skipped => EXIT_OK,
                _ => EXIT_WARNING,
            })
        }
        LabCommand::Clean { all, output } => {
            let report = run::clean(all)?;
            let mut stdout = std::io::stdout().lock();
            if output.json {
                let doc = serde_json::json!({"schema": "netdoctor.lab-clean/v1", "result": report});
                writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
            } else {
                write!(stdout, "{}", page::clean_text(&report, output.style()))?;
            }
            Ok(if report.failed.is_empty() {
                EXIT_OK
            } else {
                super::EXIT_UNKNOWN
            })
        }
        LabCommand::Drive { scenario } => {
            let found =
                scenarios::find(&scenario).ok_or(LabError::UnknownScenario(scenario.clone()))?;
            let control = Control::from_stdin();
            drivers::run(found.driver, &control)?;
            Ok(EXIT_OK)
        }
    }
}
