//! The lab: reproduces each failure in network namespaces and runs the diagnosis on it.
