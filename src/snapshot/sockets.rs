//! The socket part of the Snapshot: listeners with their accept queues, connection counts per
//! state, and ephemeral-port use per destination.
//!
//! Filled by `collect::sockdiag` (netlink) or the /proc/net/tcp fallback; read by the
//! `sockets` command and by `check` rules such as `listen-overflow` and `port-exhaustion`.

use serde::{Deserialize, Serialize};

/// Socket state of one network namespace.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SocketView {
    /// "sock_diag" or "proc_net_tcp": where the data came from.
    pub method: String,
    /// Listening TCP sockets.
    pub listeners: Vec<Listener>,
    /// Number of TCP sockets per state name ("ESTABLISHED", "TIME_WAIT", ...).
    pub states: Vec<(String, u64)>,
    /// Ephemeral-port use per (local address, remote address:port).
    #[serde(default)]
    pub port_usage: Vec<PortUsage>,
}

/// One listening socket.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Listener {
    /// "127.0.0.1:8080" or "[::1]:8080".
    pub local: String,
    /// Current accept-queue length (ss Recv-Q).
    pub queue: u64,
    /// Accept-queue limit: min(listen() backlog, somaxconn) (ss Send-Q). None when unknown
    /// (the /proc/net/tcp fallback does not show it).
    pub backlog: Option<u64>,
    /// The limit equals net.core.somaxconn, so the application probably asked for more.
    pub capped_by_somaxconn: Option<bool>,
    /// Connections in SYN-RECV for this listener.
    pub syn_recv: Option<u64>,
    /// The owning process, or why it is unknown.
    pub process: Option<String>,
}

/// Ephemeral ports in use towards one destination from one local address.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PortUsage {
    pub local_addr: String,
    pub remote: String,
    pub in_use: u64,
    /// Usable ephemeral ports (ip_local_port_range less reserved ports).
    pub available: Option<u64>,
}
