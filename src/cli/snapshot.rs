//! `netdoctor snapshot`: everything collected, as one versioned JSON document.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use super::{EXIT_OK, OutputArgs, SourceArgs};
use crate::collect::enter_target;
use crate::collect::procfs::Collector;

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Write the snapshot to FILE instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: SnapshotArgs) -> anyhow::Result<i32> {
    if !args.source.from.is_empty() {
        bail!("`snapshot --from` is not supported yet");
    }
    let paths = enter_target(&args.source.target())?;
    let mut collector = Collector::open(paths);
    let snapshot = collector.sample()?;
    let mut text = serde_json::to_string_pretty(&snapshot).context("serialising the snapshot")?;
    text.push('\n');
    match &args.output_file {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(EXIT_OK)
}
