//! Entering a network namespace with setns(2) on the calling thread.
//!
//! After [`enter_net_namespace`] the calling thread's network namespace is the one of `file`
//! (a /run/netns/NAME bind mount or a /proc/PID/ns/net link). Files opened and sockets created
//! afterwards by this thread belong to it; /proc/net follows the *main* thread, so callers
//! enter on the main thread before opening anything.

use std::fs::File;
use std::os::fd::AsRawFd;

/// Moves the calling thread into the network namespace `file` refers to.
pub fn enter_net_namespace(file: &File) -> std::io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is an open descriptor owned by `file`, which outlives this call; setns
    // with CLONE_NEWNET only changes this thread's namespace and reads no memory of ours.
    let rc = unsafe { libc::setns(fd, libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
