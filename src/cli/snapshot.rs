//! `netdoctor snapshot`: everything collected, as one versioned JSON document.
//!
//! Live (or `--netns`, `--pid`, `--root`): one sample of every counter file, the socket view
//! (sock_diag, or /proc/net/tcp) and the sysctl view (live values and the files that set
//! them). With `--from`: the snapshot the ingest layer builds from pasted text
//! (`cli::from::load`, formats detected from the content, the report on standard error).
//! Either way the document is what `--from FILE` reads back, so a snapshot is also a support
//! bundle and a test fixture.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::{EXIT_OK, OutputArgs, SourceArgs};
use crate::collect::procfs::Collector;
use crate::collect::{enter_target, sockdiag, sysctl};
use crate::snapshot::Snapshot;

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Write the snapshot to FILE instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Counters only: leave out the socket and sysctl views
    #[arg(long)]
    pub counters_only: bool,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: SnapshotArgs) -> anyhow::Result<i32> {
    let snapshot = if args.source.from.is_empty() {
        collect(&args)?
    } else {
        super::from::load(&args.source)?.0
    };
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

/// One sample of the target, with its socket and sysctl views unless `--counters-only`.
fn collect(args: &SnapshotArgs) -> anyhow::Result<Snapshot> {
    let paths = enter_target(&args.source.target())?;
    let mut collector = Collector::open(paths.clone());
    let mut snapshot = collector.sample()?;
    if args.counters_only {
        return Ok(snapshot);
    }
    let (sockets, status) =
        sockdiag::collect_for_snapshot(&paths, &sockdiag::CollectOptions::default());
    snapshot.sockets = sockets.map(|mut view| {
        crate::analyze::sockets::annotate(&mut view);
        view
    });
    snapshot.set_source(status);
    let (sysctl_view, status) = sysctl::collect_view_for(&paths);
    snapshot.sysctl = sysctl_view;
    snapshot.set_source(status);
    Ok(snapshot)
}
