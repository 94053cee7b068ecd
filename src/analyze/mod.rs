//! Analysis: pure functions from Snapshots to Findings. No I/O, no clock.

pub mod check;
pub mod counter_delta;
pub mod finding;
pub mod rules;
pub mod sockets;
pub mod window;

pub use finding::{Evidence, Finding, NotEvaluated, Severity};
