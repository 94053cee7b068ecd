//! Collection: the only layer that reads the kernel or the filesystem.
//!
//! Readers here turn /proc files, sysctl configuration files and netlink replies into
//! Snapshot pieces. Parsing is done by pure functions (`procfs::parse_*`) that the `ingest`
//! layer and the tests reuse on text from elsewhere.

pub mod host;
pub mod procfs;
pub mod read;
pub mod sockdiag;
pub mod sys;
pub mod sysconf;
pub mod sysctl;
pub mod target;

pub use target::{ProcPaths, TargetError, enter_target};

use std::path::PathBuf;

/// Which network stack to look at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Target {
    /// The namespace this process runs in.
    #[default]
    Live,
    /// A named namespace under /run/netns.
    Netns(String),
    /// The namespace of a process.
    Pid(u32),
    /// A captured directory tree holding proc/net/... and proc/sys/...
    Root(PathBuf),
}

/// An error and every cause under it, joined with ": " ("cannot read /x: Permission denied"),
/// for the one-line reasons a `missing` source carries.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
