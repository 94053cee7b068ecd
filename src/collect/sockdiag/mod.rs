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
//! Settings (somaxconn, the ephemeral port range, reserved ports) are read through
//! `collect::sysctl::read_live` and parsed by the pure [`parse_port_range`] and
//! [`parse_reserved_ports`] of `crate::parse`, which the sysctl rules share. Owners are returned as data
//! (`ProcessOwner`); derived figures, alarm levels and words come from `analyze::sockets`.

pub mod owners;
pub mod procnet;
pub mod reply;
pub mod request;
pub mod state;
pub mod view;

use std::net::SocketAddr;
use std::path::Path;

use crate::collect::ProcPaths;
use crate::collect::read;
use crate::collect::sys::netlink::SockDiagSocket;
use crate::collect::sysctl;
use crate::parse::{parse_port_range, parse_reserved_ports};
use crate::snapshot::SourceStatus;
use crate::snapshot::sockets::{ProcessOwner, SocketView, UnknownOwner};

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
    #[error("sock_diag netlink socket")]
    Netlink(#[source] std::io::Error),
    #[error("sock_diag reply")]
    Reply(#[from] reply::ReplyError),
    #[error("sock_diag dump ended without NLMSG_DONE")]
    Unfinished,
    #[error("cannot read {path}")]
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
    // The settings first: port use counts only ports taken from the ephemeral range.
    let mut settings = SocketView::default();
    match sysctl::root_of(paths) {
        Some(root) => read_settings(&root, &mut settings),
        None => settings.notes.push(format!(
            "somaxconn and the ephemeral port range not read: {}",
            paths
                .sys_dir
                .as_ref()
                .err()
                .map_or("no /proc/sys for this target", String::as_str)
        )),
    }
    let view_options = ViewOptions {
        ephemeral_range: settings.ip_local_port_range,
        ..options.view
    };
    let mut view = if netlink_sees_target {
        match collect_live_netlink(&view_options) {
            Ok(view) => view,
            Err(netlink_error) => {
                let mut view = collect_from_proc(&paths.net_dir, &view_options)?;
                view.notes.insert(
                    0,
                    format!(
                        "sock_diag unavailable ({}); read {}/tcp instead",
                        crate::collect::error_chain(&netlink_error),
                        paths.net_dir.display()
                    ),
                );
                view
            }
        }
    } else {
        let mut view = collect_from_proc(&paths.net_dir, &view_options)?;
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
    view.somaxconn = settings.somaxconn;
    view.ip_local_port_range = settings.ip_local_port_range;
    view.ip_local_reserved_ports = settings.ip_local_reserved_ports;
    view.notes.append(&mut settings.notes);
    if !paths.live {
        for l in &mut view.listeners {
            l.owner = Some(ProcessOwner::Unknown {
                reason: UnknownOwner::CapturedTree,
            });
        }
        crate::analyze::sockets::label_owners(&mut view);
    } else if options.owners {
        fill_owners(&paths.proc_dir, &mut view);
    }
    Ok(view)
}

/// The socket part of a snapshot as collected, and the source status to record beside it
/// ("sock_diag" or "proc_net_tcp" available, or "sock_diag" missing with the reason).
///
/// For `netdoctor snapshot` and `check`: `snapshot.sockets = view; snapshot.set_source(status)`.
/// The derived fields (capped_by_somaxconn, fill, ratios, levels) are analysis: the caller
/// runs `analyze::sockets::annotate` on the view, so collection stays I/O only.
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
        Err(error) => {
            // Name the source that was actually tried: netlink on the live host, the
            // /proc/net/tcp files of a captured tree or of a namespace we could not enter.
            let (name, path) = if paths.live && paths.note.is_none() {
                ("sock_diag", "NETLINK_SOCK_DIAG".to_string())
            } else {
                (
                    "proc_net_tcp",
                    paths.net_dir.join("tcp").display().to_string(),
                )
            };
            (
                None,
                SourceStatus::missing(name, &path, crate::collect::error_chain(&error)),
            )
        }
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

/// Largest /proc/net/tcp or tcp6 read (150 bytes a socket: about 1.7 million sockets).
pub const PROC_NET_TCP_MAX: u64 = 256 << 20;

/// Reads NET_DIR/tcp and NET_DIR/tcp6 (either may be absent, not both), regular files only
/// (a FIFO or a device in a captured tree is refused), at most [`PROC_NET_TCP_MAX`] bytes each.
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
        match read::read_regular_capped(&path, PROC_NET_TCP_MAX) {
            Ok(read) => {
                read_any = true;
                if read.truncated {
                    notes.push(format!(
                        "{}: larger than {} MiB: only the first {} MiB read",
                        path.display(),
                        PROC_NET_TCP_MAX >> 20,
                        PROC_NET_TCP_MAX >> 20
                    ));
                }
                let text = String::from_utf8_lossy(&read.bytes);
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

/// Fills `owner` of every listener from /proc/PID/fd (typed: who holds it, or why that is
/// not known), and words it into `process` (`analyze::sockets::label_owners`) so that a view
/// annotated before the look-up still reads right.
pub fn fill_owners(proc_dir: &Path, view: &mut SocketView) {
    let inodes: Vec<u64> = view.listeners.iter().map(|l| l.inode).collect();
    let found = owners::find_owners(proc_dir, &inodes);
    for listener in &mut view.listeners {
        listener.owner = Some(found.owner_of(listener.inode));
    }
    crate::analyze::sockets::label_owners(view);
}

/// Reads net.core.somaxconn, net.ipv4.ip_local_port_range and ip_local_reserved_ports under
/// ROOT/proc/sys through `collect::sysctl::read_live` (live: the entered namespace's values,
/// since /proc/sys/net follows the reader's namespace). Unreadable or unparsable: None, with a
/// note saying why.
pub fn read_settings(root: &Path, view: &mut SocketView) {
    let read = |key: &str| sysctl::read_live(root, key).map_err(|e| e.to_string());
    view.somaxconn = match read("net.core.somaxconn") {
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(value) => Some(value),
            Err(_) => {
                view.notes.push(format!(
                    "net.core.somaxconn {text:?} is not a number: cannot tell whether it caps \
                     backlogs"
                ));
                None
            }
        },
        Err(reason) => {
            view.notes.push(format!(
                "net.core.somaxconn not readable ({reason}): cannot tell whether it caps backlogs"
            ));
            None
        }
    };
    view.ip_local_port_range = match read("net.ipv4.ip_local_port_range") {
        Ok(text) => match parse_port_range(&text) {
            Ok(range) => Some(range),
            Err(error) => {
                view.notes.push(format!(
                    "net.ipv4.ip_local_port_range {text:?} not understood ({error}): port usage \
                     has no denominator"
                ));
                None
            }
        },
        Err(reason) => {
            view.notes.push(format!(
                "net.ipv4.ip_local_port_range not readable ({reason}): port usage has no \
                 denominator"
            ));
            None
        }
    };
    view.ip_local_reserved_ports = match read("net.ipv4.ip_local_reserved_ports") {
        Ok(text) => match parse_reserved_ports(&text) {
            Ok(ranges) => Some(ranges),
            Err(error) => {
                view.notes.push(format!(
                    "net.ipv4.ip_local_reserved_ports not understood ({error}): reserved ports \
                     not subtracted"
                ));
                None
            }
        },
        // Absent on old kernels and in some captures: nothing reserved is the kernel default.
        Err(_) => None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_through_sysctl_read_live() {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path().join("proc/sys/net");
        std::fs::create_dir_all(sys.join("core")).unwrap();
        std::fs::create_dir_all(sys.join("ipv4")).unwrap();
        std::fs::write(sys.join("core/somaxconn"), "4096\n").unwrap();
        std::fs::write(sys.join("ipv4/ip_local_port_range"), "40000\t40049\n").unwrap();
        std::fs::write(sys.join("ipv4/ip_local_reserved_ports"), "40000-40009\n").unwrap();
        let mut view = SocketView::default();
        read_settings(dir.path(), &mut view);
        assert_eq!(view.somaxconn, Some(4096));
        assert_eq!(view.ip_local_port_range, Some((40000, 40049)));
        assert_eq!(view.ip_local_reserved_ports, Some(vec![(40000, 40009)]));
        assert!(view.notes.is_empty(), "{:?}", view.notes);

        std::fs::write(sys.join("ipv4/ip_local_port_range"), "40049 40000\n").unwrap();
        std::fs::remove_file(sys.join("core/somaxconn")).unwrap();
        let mut view = SocketView::default();
        read_settings(dir.path(), &mut view);
        assert_eq!((view.somaxconn, view.ip_local_port_range), (None, None));
        assert!(
            view.notes
                .iter()
                .any(|n| n.contains("somaxconn not readable"))
        );
        assert!(view.notes.iter().any(|n| n.contains("above the high port")));
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
