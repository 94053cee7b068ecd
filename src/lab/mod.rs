//! The lab: reproduces each failure in network namespaces and runs the diagnosis on it.
//!
//! A run ([`run::run_scenario`]) creates `netdoctor-lab-<pid>-<scenario>` namespaces with
//! `ip netns add`, wires them (loopback, veth pairs), sets sysctls and nft rules inside them,
//! starts the scenario's traffic driver inside (this binary again, as `lab drive`), runs
//! `netdoctor check --netns NAME --json` while the traffic flows, reads the counters before and
//! after, and removes everything again, also on failure and Ctrl-C. The scenarios are data
//! ([`scenarios::SCENARIOS`]); the report says what was done, what the counters did, what
//! `check` concluded, and whether that is the finding the scenario must end in.

pub mod check;
pub mod counters;
pub mod drivers;
pub mod netns;
pub mod run;
pub mod scenarios;

use thiserror::Error;

/// Schema id of `lab run --json` documents.
pub const LAB_SCHEMA: &str = "netdoctor.lab/v1";
/// Schema id of `lab list --json` documents.
pub const LAB_LIST_SCHEMA: &str = "netdoctor.lab-list/v1";

/// Everything that can stop a lab run.
#[derive(Debug, Error)]
pub enum LabError {
    #[error("the lab needs root (it creates network namespaces); run it with sudo")]
    NotRoot,
    #[error("the lab needs the `{tool}` tool ({package}); install it and try again")]
    MissingTool {
        tool: &'static str,
        package: &'static str,
    },
    #[error("unknown scenario {0:?}; `netdoctor lab list` shows them all")]
    UnknownScenario(String),
    #[error("could not start {program}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("traffic driver: {0}")]
    Driver(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("interrupted; the lab namespaces were removed")]
    Interrupted,
}

impl LabError {
    pub(crate) fn spawn(program: &str, source: std::io::Error) -> Self {
        LabError::Spawn {
            program: program.to_string(),
            source,
        }
    }
}
