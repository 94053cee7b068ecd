//! `netdoctor explain TERM`: what a counter, a netstat -s line, a sysctl or a finding means.
//!
//! Glue only: the lookup lives in `kb::lookup`, the formatting in `render::explain`. Exit code
//! 0 when something matched (one entry or a list), 3 when nothing did (with suggestions).

use std::io::Write;

use clap::Args;

use super::{EXIT_OK, EXIT_UNKNOWN, OutputArgs};
use crate::kb;
use crate::render::explain;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
netdoctor explain TcpExtListenDrops\n  \
netdoctor explain ListenDrops\n  \
netdoctor explain \"SYNs to LISTEN sockets dropped\"\n  \
netdoctor explain 35544811584 SYNs to LISTEN sockets ignored\n  \
netdoctor explain net/ipv4/tcp_tw_recycle\n  \
netdoctor explain listen-overflow")]
pub struct ExplainArgs {
    /// A counter (TcpExtListenDrops or ListenDrops), a netstat -s line or part of one, a
    /// sysctl (net.core.somaxconn or net/core/somaxconn) or a finding id. Several words are
    /// joined with spaces, so quoting a phrase is optional
    #[arg(value_name = "TERM", required = true, num_args = 1..)]
    pub term: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: ExplainArgs) -> anyhow::Result<i32> {
    let term = args.term.join(" ");
    let lookup = kb::lookup(&term);
    let code = if lookup.entries.is_empty() {
        EXIT_UNKNOWN
    } else {
        EXIT_OK
    };
    let mut stdout = std::io::stdout().lock();
    if args.output.json {
        serde_json::to_writer_pretty(&mut stdout, &explain::json(&lookup))?;
        writeln!(stdout)?;
    } else if lookup.entries.is_empty() {
        eprint!("{}", explain::not_found(&lookup));
    } else {
        let style = args.output.style();
        write!(stdout, "{}", explain::text(&lookup, style))?;
    }
    stdout.flush()?;
    Ok(code)
}
