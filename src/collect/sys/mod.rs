//! The syscall module: the only place with `unsafe` (setns, netlink sockets, signal handlers),
//! each block with a SAFETY comment, and the home of the thin wrappers around raw sockets.

pub mod interrupt;
pub mod raw;
