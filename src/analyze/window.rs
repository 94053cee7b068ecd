//! A Window: two snapshots of the same origin (or one), with deltas and rates that handle
//! counter resets and wraps.
//!
//! Rules read counters through a Window so that "since boot" (lifetime totals against uptime)
//! and "over the window" (a measured delta and rate) stay separate: a rate exists only when
//! two samples were taken.

use crate::snapshot::Snapshot;

/// One or two snapshots of the same origin.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    /// The earlier sample, when two were taken.
    pub before: Option<&'a Snapshot>,
    /// The latest sample: totals, settings and sockets are read from it.
    pub after: &'a Snapshot,
}

impl<'a> Window<'a> {
    /// A window of one snapshot: lifetime totals only, no rates.
    pub fn single(snapshot: &'a Snapshot) -> Self {
        Window {
            before: None,
            after: snapshot,
        }
    }

    /// A window of two snapshots, earlier first.
    pub fn pair(before: &'a Snapshot, after: &'a Snapshot) -> Self {
        Window {
            before: Some(before),
            after,
        }
    }
}
