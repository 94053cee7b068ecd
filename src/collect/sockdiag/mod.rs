//! Socket state over NETLINK_SOCK_DIAG (inet_diag), with /proc/net/tcp as the fallback.
//!
//! Why hand-rolled on libc: the inet_diag ABI is small and stable UAPI; parsing replies by
//! offset without allocating per message costs well under a millisecond of user time for
//! 50,000 sockets, while the crates measured (netlink-packet-sock-diag, neli) cost 15–40 ms
//! and give nothing but struct definitions (../shared/reference/dependencies-measured.md §1).
//! The kernel's dump itself is the floor, so we ask only for the states a view needs: the
//! listener view asks for LISTEN alone, which lets the kernel skip the connection hash.
//!
//! Layout: [`request`] builds the 72-byte dump request, [`reply`] parses replies by offset,
//! [`procnet`] parses /proc/net/tcp{,6}, [`owners`] maps socket inodes to processes, [`view`]
//! shapes sockets into the Snapshot's `SocketView`. The syscalls live in `collect::sys`.

pub mod owners;
pub mod procnet;
pub mod reply;
pub mod request;
pub mod state;
pub mod view;

use std::net::SocketAddr;
use std::path::Path;

use crate::collect::ProcPaths;
use crate::collect::sys::netlink::SockDiagSocket;
use crate::snapshot::SourceStatus;
use crate::snapshot::sockets::SocketView;

pub use request::Family;
pub use state::TcpState;
pub use view::ViewOptions;

/// One TCP socket as inet_diag or /proc/net/tcp describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSocket {
    pub state: TcpState,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// LISTEN: accept-queue length. Others: unread bytes.
    pub rqueue: u32,
    /// LISTEN (netlink only): accept-queue limit. Others: unacknowledged + unsent bytes.
    pub wqueue: u32,
    pub uid: u32,
    /// Socket inode (0 for request and TIME_WAIT sockets).
    pub inode: u64,
}

/// Why socket state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SocketsError {
    #[error("sock_diag netlink socket: {0}")]
    Netlink(#[source] std::io::Error),
    #[error("sock_diag reply: {0}")]
    Reply(#[from] reply::ReplyError),
    #[error("sock_diag dump ended without NLMSG_DONE")]
    Unfinished,
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Result of a netlink dump.
#[derive(Debug, Clone, Default)]
pub struct Dump {
    pub sockets: Vec<TcpSocket>,
    /// The kernel flagged the dump as interrupted (sockets changed meanwhile).
    pub interrupted: bool,
}

/// Size of the receive buffer; the kernel fills at most 32 KiB per dump datagram.
const RECEIVE_BUFFER: usize = 64 * 1024;

/// Dumps every TCP socket (IPv4 and IPv6) whose state bit is in `states`.
///
/// Tries the legacy TCPDIAG_GETSOCK request first, which walks the kernel's socket hashes
/// once for both families; if the kernel refuses it, dumps IPv4 then IPv6 with
/// SOCK_DIAG_BY_FAMILY (two walks).
pub fn dump_tcp(states: u32) -> Result<Dump, SocketsError> {
    let socket = SockDiagSocket::open().map_err(SocketsError::Netlink)?;
    let mut buffer = vec![0u8; RECEIVE_BUFFER];
    let mut dump = Dump::default();
    socket
        .send(&request::compat_dump_request(states, 1))
        .map_err(SocketsError::Netlink)?;
    match receive_dump(&socket, &mut buffer, 1, &mut dump) {
        Ok(()) => return Ok(dump),
        Err(SocketsError::Reply(reply::ReplyError::Kernel { .. })) if dump.sockets.is_empty() => {}
        Err(other) => return Err(other),
    }
    for (sequence, family) in [(2u32, Family::Inet), (3u32, Family::Inet6)] {
        socket
            .send(&request::dump_request(family, states, sequence))
            .map_err(SocketsError::Netlink)?;
        receive_dump(&socket, &mut buffer, sequence, &mut dump)?;
    }
    Ok(dump)
}

/// Receives the replies of one dump until NLMSG_DONE.
fn receive_dump(
    socket: &SockDiagSocket,
    buffer: &mut [u8],
    sequence: u32,
    dump: &mut Dump,
) -> Result<(), SocketsError> {
    loop {
        let length = socket.recv(buffer).map_err(SocketsError::Netlink)?;
        if length == 0 {
            return Err(SocketsError::Unfinished);
        }
        let datagram = buffer.get(..length).unwrap_or(&[]);
        let outcome = reply::parse_datagram(datagram, sequence, |s| dump.sockets.push(s))?;
        dump.interrupted |= outcome.interrupted;
        if outcome.done {
            return Ok(());
        }
    }
}

/// What to collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectOptions {
    pub view: ViewOptions,
    /// Look up the processes owning listeners.
    pub owners: bool,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            view: ViewOptions::default(),
            owners: true,
        }
    }
}

/// Collects the socket view of a target whose paths `collect::enter_target` returned (so a
/// namespace target has been entered already).
/// Live, entered: sock_diag, falling back to NET_DIR/tcp{,6} (with a note) when netlink fails.
/// A pid whose namespace could not be entered: /proc/PID/net/tcp{,6}, since netlink would
/// show our own namespace. Captured tree: DIR/proc/net/tcp{,6}.
pub fn collect_socket_view(
    paths: &ProcPaths,
    options: &CollectOptions,
) -> Result<SocketView, SocketsError> {
    let netlink_sees_target = paths.live && paths.note.is_none();
    let mut view = if netlink_sees_target {
        match collect_live_netlink(&options.view) {
            Ok(view) => view,
            Err(netlink_error) => {
                let mut view = collect_from_proc(&paths.net_dir, &options.view)?;
                view.notes.insert(
                    0,
                    format!(
                        "sock_diag unavailable ({netlink_error}); read {}/tcp instead",
                        paths.net_dir.display()
                    ),
                );
                view
            }
        }
    } else {
        let mut view = collect_from_proc(&paths.net_dir, &options.view)?;
        if let Some(status) = &paths.note {
            view.notes.insert(
                0,
                format!(
                    "could not enter the target's network namespace ({}); read {}/tcp and tcp6 \
                     instead",
                    status.path,
                    paths.net_dir.display()
                ),
            );
        }
        view
    };
    match &paths.sys_dir {
        Ok(sys_dir) => read_settings(sys_dir, &mut view),
        Err(reason) => view.notes.push(format!(
            "somaxconn and the ephemeral port range not read: {reason}"
        )),
    }
    if !paths.live {
        for l in &mut view.listeners {
            l.process = Some("unknown: a captured tree has no process table".to_string());
        }
    } else if options.owners {
        fill_owners(&paths.proc_dir, &mut view);
    }
    Ok(view)
}

/// The socket part of a snapshot and the source status to record beside it ("sock_diag" or
/// "proc_net_tcp" available, or "sock_diag" missing with the reason). Derived fields
/// (capped_by_somaxconn, ratios) are left to `analyze::sockets::annotate`.
pub fn collect_for_snapshot(
    paths: &ProcPaths,
    options: &CollectOptions,
) -> (Option<SocketView>, SourceStatus) {
    match collect_socket_view(paths, options) {
        Ok(view) => {
            let path = if view.method == "sock_diag" {
                "NETLINK_SOCK_DIAG".to_string()
            } else {
                paths.net_dir.join("tcp").display().to_string()
            };
            let status = SourceStatus::available(&view.method, &path);
            (Some(view), status)
        }
        Err(error) => (
            None,
            SourceStatus::missing("sock_diag", "NETLINK_SOCK_DIAG", error.to_string()),
        ),
    }
}

/// The netlink state mask to ask for to show `shown`: the states shown, plus LISTEN when
/// connections are shown (listeners tell outgoing connections from accepted ones; the
/// listening hash is cheap to walk).
pub fn request_mask(shown: u32) -> u32 {
    let mut mask = shown;
    if shown & !TcpState::LISTEN.bit() != 0 {
        mask |= TcpState::LISTEN.bit();
    }
    mask & TcpState::ALL_MASK
}

fn collect_live_netlink(options: &ViewOptions) -> Result<SocketView, SocketsError> {
    let dump = dump_tcp(request_mask(options.states))?;
    let mut view = view::build_view(&dump.sockets, "sock_diag", options);
    if dump.interrupted {
        view.notes.push(
            "the kernel flagged the dump as interrupted: sockets came and went while it ran, \
             counts may be off by a few"
                .to_string(),
        );
    }
    Ok(view)
}

/// Reads NET_DIR/tcp and NET_DIR/tcp6 (either may be absent, not both).
pub fn collect_from_proc(
    net_dir: &Path,
    options: &ViewOptions,
) -> Result<SocketView, SocketsError> {
    let mut sockets = Vec::new();
    let mut notes = Vec::new();
    let mut read_any = false;
    let mut first_error = None;
    for name in ["tcp", "tcp6"] {
        let path = net_dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                read_any = true;
                let parsed = procnet::parse_proc_net_tcp(&text);
                for skipped in parsed.skipped.iter().take(3) {
                    notes.push(format!(
                        "{}:{}: skipped ({}): {}",
                        path.display(),
                        skipped.line,
                        skipped.reason,
                        skipped.text
                    ));
                }
                if parsed.skipped.len() > 3 {
                    notes.push(format!(
                        "{}: {} more lines skipped",
                        path.display(),
                        parsed.skipped.len() - 3
                    ));
                }
                sockets.extend(parsed.sockets);
            }
            Err(source) => {
                notes.push(format!("{} not read: {source}", path.display()));
                first_error.get_or_insert(SocketsError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        }
    }
    if !read_any && let Some(error) = first_error {
        return Err(error);
    }
    let options = ViewOptions {
        backlog_known: false,
        // /proc lists every state; SYN_RECV rows are there too.
        ..*options
    };
    let mut view = view::build_view(&sockets, "proc_net_tcp", &options);
    view.notes.extend(notes);
    Ok(view)
}

/// Fills `process`, `pid` and `command` of every listener from /proc/PID/fd.
pub fn fill_owners(proc_dir: &Path, view: &mut SocketView) {
    let inodes: Vec<u64> = view.listeners.iter().map(|l| l.inode).collect();
    let found = owners::find_owners(proc_dir, &inodes);
    for listener in &mut view.listeners {
        let (text, owner) = found.describe(listener.inode);
        listener.pid = owner.map(|o| o.pid);
        listener.command = owner.map(|o| o.command.clone());
        listener.process = Some(text);
    }
}

/// Reads somaxconn, ip_local_port_range and ip_local_reserved_ports from PROC_SYS (this
/// namespace's values; /proc/sys/net follows the reader's namespace). Unreadable: None, with
/// a note.
pub fn read_settings(proc_sys: &Path, view: &mut SocketView) {
    let read = |relative: &str| std::fs::read_to_string(proc_sys.join(relative)).ok();
    view.somaxconn = read("net/core/somaxconn").and_then(|t| t.trim().parse().ok());
    view.ip_local_port_range = read("net/ipv4/ip_local_port_range")
        .as_deref()
        .and_then(parse_port_range);
    view.ip_local_reserved_ports = read("net/ipv4/ip_local_reserved_ports")
        .as_deref()
        .and_then(parse_reserved_ports);
    if view.somaxconn.is_none() {
        view.notes
            .push("net.core.somaxconn not readable: cannot tell whether it caps backlogs".into());
    }
    if view.ip_local_port_range.is_none() {
        view.notes.push(
            "net.ipv4.ip_local_port_range not readable: port usage has no denominator".into(),
        );
    }
}

/// "32768\t60999" → (32768, 60999). None when malformed or low > high.
pub fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let mut parts = text.split_ascii_whitespace();
    let low: u16 = parts.next()?.parse().ok()?;
    let high: u16 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || low > high {
        return None;
    }
    Some((low, high))
}

/// "8080,9000-9100" (or empty) → [(8080, 8080), (9000, 9100)]. None when malformed.
pub fn parse_reserved_ports(text: &str) -> Option<Vec<(u16, u16)>> {
    let mut out = Vec::new();
    for item in text
        .trim()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (low, high) = match item.split_once('-') {
            Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
            None => {
                let p: u16 = item.parse().ok()?;
                (p, p)
            }
        };
        if low > high {
            return None;
        }
        out.push((low, high));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parsers() {
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("60999 32768"), None);
        assert_eq!(parse_reserved_ports("\n"), Some(vec![]));
        assert_eq!(
            parse_reserved_ports("8080,9000-9100\n"),
            Some(vec![(8080, 8080), (9000, 9100)])
        );
        assert_eq!(parse_reserved_ports("x"), None);
    }

    #[test]
    fn listener_view_asks_for_listen_only() {
        assert_eq!(request_mask(TcpState::LISTEN.bit()), 1 << 10);
        assert_eq!(
            request_mask(TcpState::TIME_WAIT.bit()),
            (1 << 10) | (1 << 6)
        );
    }
}
