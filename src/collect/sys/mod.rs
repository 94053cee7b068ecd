//! The syscall module: the only place with `unsafe` (setns, netlink sockets), each block
//! with a SAFETY comment.
