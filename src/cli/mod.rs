//! Command-line interface: clap definitions and one file per subcommand (glue only).
//!
//! Each subcommand parses its arguments, calls collection, analysis and rendering, and returns
//! an exit code. Errors are `anyhow` here (the edge); `main` maps them to exit code 3.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::collect::Target;

/// Exit code: everything is fine (or, for `check`, no finding at warning level or above).
pub const EXIT_OK: i32 = 0;
/// Exit code of `check`: the worst finding is a warning.
pub const EXIT_WARNING: i32 = 1;
/// Exit code of `check`: the worst finding is critical.
pub const EXIT_CRITICAL: i32 = 2;
/// Exit code: usage or runtime error ("unknown" in the monitoring-plugin convention).
pub const EXIT_UNKNOWN: i32 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "netdoctor",
    version,
    about = "Find out why connections to or from this Linux host fail, time out or stall",
    long_about = "netdoctor reads the kernel's network counters (as rates, not lifetime totals), \
the sysctl settings and the files that set them, and the state of the listening sockets, and \
joins them into named findings: what is wrong, the evidence, why it happens, and what to change \
and where.\n\nStart with `netdoctor check`. Use `netdoctor explain TERM` to learn what any \
counter, netstat -s phrase, sysctl or finding means.",
    after_help = "Examples:\n  netdoctor check                       diagnose this host (two samples, 5 s apart)\n  \
netdoctor check --netns blue          diagnose a network namespace\n  \
netdoctor counters ListenDrops --interval 1   one counter as a rate\n  \
netdoctor explain \"SYNs to LISTEN sockets dropped\"\n  \
netdoctor check --from netstat-s.txt --from sysctl.conf   diagnose a ticket's pastes\n\n\
Exit codes: 0 ok, 1 warning, 2 critical (check only), 3 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose: sample twice, judge rates and settings, print named findings
    Check(check::CheckArgs),
    /// Show kernel network counters (like nstat, readable), optionally as rates
    Counters(counters::CountersArgs),
    /// Explain a counter, a netstat -s phrase, a sysctl or a finding id
    Explain(explain::ExplainArgs),
    /// Write everything collected as one versioned JSON document
    Snapshot(snapshot::SnapshotArgs),
    /// Audit sysctl settings: live values, the file and line that set them, what is dangerous
    Sysctl(sysctl::SysctlArgs),
    /// Show listeners with their accept queues, and connections per state and destination
    Sockets(sockets::SocketsArgs),
    /// Reproduce each failure in a network namespace and show the diagnosis (root)
    Lab(lab::LabArgs),
}

/// Where to read from: shared by every command that collects.
#[derive(Debug, Clone, Default, Args)]
pub struct SourceArgs {
    /// Look inside the named network namespace (a name under /run/netns; needs root)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["pid", "root"])]
    pub netns: Option<String>,
    /// Look inside the network namespace of process PID
    #[arg(long, value_name = "PID", conflicts_with_all = ["netns", "root"])]
    pub pid: Option<u32>,
    /// Read a captured tree instead of the live host: DIR/proc/net/..., DIR/proc/sys/...
    /// (a sosreport, or a container's /proc mounted elsewhere)
    #[arg(long, value_name = "DIR", conflicts_with_all = ["netns", "pid"])]
    pub root: Option<PathBuf>,
    /// Read text instead of the live host (repeatable; `-` is standard input): a pasted
    /// `netstat -s`, `nstat`, /proc/net file contents, `sysctl -a`, a sysctl.conf, `ss -ltn`,
    /// or a netdoctor snapshot. The format is detected from the content. FILE@TIME
    /// (e.g. netstat.txt@2024-05-01T10:00:00) says when the paste was taken, for rates
    #[arg(long = "from", value_name = "FILE", conflicts_with_all = ["netns", "pid", "root"])]
    pub from: Vec<String>,
    /// With --from: take each file's modification time as the time it was taken
    #[arg(long, requires = "from")]
    pub use_mtime: bool,
}

impl SourceArgs {
    /// The collection target these arguments name.
    pub fn target(&self) -> Target {
        if let Some(name) = &self.netns {
            Target::Netns(name.clone())
        } else if let Some(pid) = self.pid {
            Target::Pid(pid)
        } else if let Some(root) = &self.root {
            Target::Root(root.clone())
        } else {
            Target::Live
        }
    }
}

/// Output options shared by every command.
#[derive(Debug, Clone, Default, Args)]
pub struct OutputArgs {
    /// Print JSON instead of human text (stable schema, see docs/)
    #[arg(long)]
    pub json: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: crate::render::ColorChoice,
}

impl OutputArgs {
    /// The style for standard output: colour when asked, or on a terminal unless NO_COLOR is
    /// set (https://no-color.org).
    pub fn style(&self) -> crate::render::Style {
        use std::io::IsTerminal;
        let color = match self.color {
            crate::render::ColorChoice::Always => true,
            crate::render::ColorChoice::Never => false,
            crate::render::ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        crate::render::Style { color }
    }
}

pub mod check;
pub mod counters;
pub mod explain;
pub mod from;
pub mod lab;
pub mod snapshot;
pub mod sockets;
pub mod sysctl;

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Counters(args) => counters::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Sysctl(args) => sysctl::run(args),
        Command::Sockets(args) => sockets::run(args),
        Command::Lab(args) => lab::run(args),
    }
}
