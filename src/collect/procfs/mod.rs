//! Readers and pure parsers for the counter files under /proc/net.
