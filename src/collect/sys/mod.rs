//! The syscall module: the only place with `unsafe` (setns, netlink sockets), each block
//! with a SAFETY comment.
//!
//! Everything here is a thin, typed wrapper over one libc call family; the callers above it
//! (`collect::sockdiag`, `collect::enter_target`) never see raw pointers or descriptors.

pub mod netlink;
pub mod netns;
