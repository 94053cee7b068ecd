//! netdoctor: finds out why connections to or from a Linux host fail, time out or stall.
//!
//! Data flows one way:
//!
//! ```text
//! collect (procfs, sysctl files, sock_diag, netns entry)  ─┐
//! ingest  (pasted netstat -s, nstat, sysctl -a, ss, JSON) ─┴─▶ Snapshot ─▶ analyze ─▶ render
//!                                                                         ▲
//!                                                                         kb (knowledge base)
//! ```
//!
//! `collect` is the only code that touches the kernel or the filesystem of the live host;
//! `analyze` is pure; `render` formats what analysis decided. See ARCHITECTURE.md.

pub mod analyze;
pub mod cli;
pub mod collect;
pub mod ingest;
pub mod kb;
pub mod lab;
pub mod parse;
pub mod render;
pub mod snapshot;
