//! The socket part of the Snapshot: listeners with their accept queues, connection counts per
//! state, the busiest destinations and local addresses, and ephemeral-port use per destination.
//!
//! Filled by `collect::sockdiag` (netlink) or the /proc/net/tcp fallback; derived figures
//! (`capped_by_somaxconn`, fill percentages, port-usage ratios, alarm [`Level`]s and the
//! `process` label) are filled in by `analyze::sockets::annotate`. Read by the `sockets` command and by `check` rules such as
//! `listen-overflow` and `port-exhaustion`.

use serde::{Deserialize, Serialize};

/// Socket state of one network namespace.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SocketView {
    /// "sock_diag" or "proc_net_tcp": where the data came from.
    pub method: String,
    /// Listening TCP sockets, sorted by port and address; members of an SO_REUSEPORT group
    /// (same address:port) are adjacent.
    pub listeners: Vec<Listener>,
    /// Number of TCP sockets per state name ("ESTABLISHED", "TIME_WAIT", ...), for the states
    /// that were asked for, in kernel state order.
    pub states: Vec<(String, u64)>,
    /// Ephemeral-port use per (local address, remote address:port), busiest first (top N).
    #[serde(default)]
    pub port_usage: Vec<PortUsage>,
    /// The state names that were asked for (empty: all).
    #[serde(default)]
    pub states_requested: Vec<String>,
    /// A port filter that was applied (local or remote port), if any.
    #[serde(default)]
    pub port_filter: Option<u16>,
    /// Total TCP sockets seen (after the port filter).
    #[serde(default)]
    pub total: u64,
    /// ESTABLISHED and TIME_WAIT connections grouped by remote address:port, busiest first.
    #[serde(default)]
    pub destinations: Vec<ConnectionGroup>,
    /// ESTABLISHED and TIME_WAIT connections grouped by local address, busiest first.
    #[serde(default)]
    pub local_addresses: Vec<ConnectionGroup>,
    /// How many distinct destinations there were before the top-N cut.
    #[serde(default)]
    pub destinations_total: u64,
    /// How many distinct (local address, destination) pairs had outgoing connections before
    /// the top-N cut.
    #[serde(default)]
    pub port_usage_total: u64,
    /// net.core.somaxconn in this namespace, when readable.
    #[serde(default)]
    pub somaxconn: Option<u64>,
    /// net.ipv4.ip_local_port_range (low, high), when readable.
    #[serde(default)]
    pub ip_local_port_range: Option<(u16, u16)>,
    /// net.ipv4.ip_local_reserved_ports as inclusive ranges (None when unreadable).
    #[serde(default)]
    pub ip_local_reserved_ports: Option<Vec<(u16, u16)>>,
    /// Usable ephemeral ports: the range less reserved ports (filled by analysis).
    #[serde(default)]
    pub usable_ephemeral_ports: Option<u64>,
    /// Things the reader should know: what could not be determined and why.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl SocketView {
    /// The count for a state name, 0 when absent.
    pub fn state_count(&self, name: &str) -> u64 {
        self.states
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, c)| *c)
    }
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
    /// Connections in SYN-RECV for this listener's address:port (shared by an SO_REUSEPORT
    /// group). None when SYN-RECV sockets were not asked for.
    pub syn_recv: Option<u64>,
    /// The owner in words ("nginx (pid 812)", "unknown: ..."), for readers of the JSON and
    /// for findings. Worded by `analyze::sockets::annotate` from [`Listener::owner`]; ingested
    /// views may carry the text a paste showed (ss `users:(...)`). None when not looked up.
    pub process: Option<String>,
    /// Who holds the socket, as collection found it (None: not looked up).
    #[serde(default)]
    pub owner: Option<ProcessOwner>,
    /// The local address without the port ("0.0.0.0", "::1").
    #[serde(default)]
    pub address: String,
    /// The local port.
    #[serde(default)]
    pub port: u16,
    /// The socket inode (0 when unknown).
    #[serde(default)]
    pub inode: u64,
    /// The socket's owning uid.
    #[serde(default)]
    pub uid: Option<u32>,
    /// Number of listeners on the same address:port (more than 1: an SO_REUSEPORT group).
    #[serde(default)]
    pub reuseport_group_size: u32,
    /// queue / backlog in percent (filled by analysis; None when the backlog is unknown).
    #[serde(default)]
    pub fill_percent: Option<f64>,
    /// How close the accept queue is to its limit (filled by analysis; None when the backlog
    /// is unknown).
    #[serde(default)]
    pub level: Option<Level>,
}

/// How close a queue or a port range is to its limit, as analysis judges it. Render maps it to
/// a colour; it never compares figures itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Well below the limit.
    Ok,
    /// Getting close: worth watching.
    Elevated,
    /// At or practically at the limit: the next connection may fail.
    Full,
}

/// The process holding a socket, or why it is not known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProcessOwner {
    /// Found through /proc/PID/fd. `command` is /proc/PID/comm (None: the process exited
    /// before its name was read).
    Known { pid: u32, command: Option<String> },
    /// Not found.
    Unknown { reason: UnknownOwner },
}

/// Why the owner of a socket is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnknownOwner {
    /// The kernel reported no inode for the socket.
    NoInode,
    /// Some processes' descriptor tables could not be read (not root).
    NotPermitted { unreadable_processes: u32 },
    /// No visible process holds it (closing, or held from another PID namespace).
    NotFound,
    /// A captured tree has no process table to search.
    CapturedTree,
}

/// ESTABLISHED and TIME_WAIT connections sharing one key (a remote address:port, or a local
/// address).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConnectionGroup {
    /// "10.0.0.5:443", "[2001:db8::1]:443" or, for local groups, "10.0.0.2".
    pub key: String,
    pub established: u64,
    pub time_wait: u64,
}

/// Ephemeral ports in use towards one destination from one local address.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PortUsage {
    pub local_addr: String,
    pub remote: String,
    pub in_use: u64,
    /// Usable ephemeral ports (ip_local_port_range less reserved ports).
    pub available: Option<u64>,
    /// in_use / available (filled by analysis).
    #[serde(default)]
    pub ratio: Option<f64>,
    /// How close this destination is to running out of ephemeral ports (filled by analysis;
    /// None when the ratio is unknown).
    #[serde(default)]
    pub level: Option<Level>,
}
