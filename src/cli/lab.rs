//! `netdoctor lab`: argument definitions and glue.

use clap::Args;

use super::{EXIT_UNKNOWN, OutputArgs, SourceArgs};

#[derive(Debug, Args)]
pub struct LabArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: LabArgs) -> anyhow::Result<i32> {
    let _ = (&args.source, &args.output);
    eprintln!("netdoctor lab: not implemented yet");
    Ok(EXIT_UNKNOWN)
}
