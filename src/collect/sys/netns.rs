//! Entering another network namespace with setns(2), by file (a /run/netns name or
//! /proc/PID/ns/net).
//!
//! A minimal stand-in for the procfs helper's `collect::enter_target`; the lead reconciles
//! the two. setns changes the namespace of the calling thread only, so callers do this on the
//! main thread before any other thread starts.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Moves the calling thread into the network namespace that `path` refers to.
pub fn enter_netns_file(path: &Path) -> io::Result<()> {
    let file = File::open(path)?;
    // SAFETY: setns(2) takes a descriptor we own (kept open by `file` for the whole call) and
    // an integer flag; it shares no memory with the kernel.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
