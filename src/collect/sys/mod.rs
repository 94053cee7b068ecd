//! The syscall module: the only place with `unsafe` (setns, netlink sockets, signal handlers),
//! each block with a SAFETY comment, and the home of the thin wrappers around raw sockets.

pub mod interrupt;
pub mod netlink;
pub mod netns;
pub mod raw;

/// CLOCK_MONOTONIC in seconds, or None if the clock cannot be read.
pub fn monotonic_seconds() -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec owned by this frame; clock_gettime only
    // writes into it and CLOCK_MONOTONIC is always a valid clock id on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9)
}

/// The system page size in bytes (sockstat `mem` and tcp_mem are in pages).
pub fn page_size() -> Option<u64> {
    // SAFETY: sysconf takes no pointers and only reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|s| *s > 0)
}
