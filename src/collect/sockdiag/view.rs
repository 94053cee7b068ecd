//! Shaping a list of TCP sockets into the Snapshot's [`SocketView`]: listeners with their
//! SYN-RECV counts and SO_REUSEPORT groups, counts per state, the busiest destinations and
//! local addresses, and outgoing connections per (local address, destination).
//!
//! Counting and grouping only; ratios and judgements are left to `analyze::sockets`.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use super::TcpSocket;
use super::state::TcpState;
use crate::snapshot::sockets::{ConnectionGroup, Listener, PortUsage, SocketView};

/// What the view should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewOptions {
    /// inet_diag state mask that was asked for (bit N = state N).
    pub states: u32,
    /// Keep only sockets whose local or remote port is this.
    pub port: Option<u16>,
    /// How many destinations, local addresses and port-usage rows to keep.
    pub top: usize,
    /// True when the backlog column of listeners is meaningful (netlink), false for
    /// /proc/net/tcp where it is not shown.
    pub backlog_known: bool,
    /// net.ipv4.ip_local_port_range when known: only connections whose local port lies in
    /// it take a port from the ephemeral pool (a port bound explicitly, or left from a wider
    /// range set earlier, does not).
    pub ephemeral_range: Option<(u16, u16)>,
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions {
            states: TcpState::ALL_MASK,
            port: None,
            top: 10,
            backlog_known: true,
            ephemeral_range: None,
        }
    }
}

/// "127.0.0.1:8080", "[::1]:8080".
pub fn endpoint(address: &SocketAddr) -> String {
    address.to_string()
}

/// Builds the view. `method` is "sock_diag" or "proc_net_tcp". Owners are not looked up here
/// (see `owners`); `owner` and `process` stay None.
pub fn build_view(sockets: &[TcpSocket], method: &str, options: &ViewOptions) -> SocketView {
    let mut view = SocketView {
        method: method.to_string(),
        port_filter: options.port,
        states_requested: if options.states & TcpState::ALL_MASK == TcpState::ALL_MASK {
            Vec::new()
        } else {
            (1..=TcpState::MAX_KNOWN)
                .map(TcpState)
                .filter(|s| options.states & s.bit() != 0 && *s != TcpState::NEW_SYN_RECV)
                .map(|s| s.name().to_string())
                .collect()
        },
        ..SocketView::default()
    };
    let mut per_state = [0u64; 256];
    let mut listeners: Vec<&TcpSocket> = Vec::new();
    let mut syn_recv: HashMap<SocketAddr, u64> = HashMap::new();
    let mut destinations: HashMap<SocketAddr, (u64, u64)> = HashMap::new();
    let mut locals: HashMap<IpAddr, (u64, u64)> = HashMap::new();
    let mut connections: Vec<&TcpSocket> = Vec::new();
    // Every listener, even when listeners are not shown: they tell accepted connections
    // from outgoing ones.
    let all_listeners: Vec<&TcpSocket> = sockets
        .iter()
        .filter(|s| s.state == TcpState::LISTEN)
        .collect();
    let serving = ServingPorts::new(&all_listeners);

    for socket in sockets {
        if let Some(port) = options.port
            && socket.local.port() != port
            && socket.remote.port() != port
        {
            continue;
        }
        // A request socket can be reported as NEW_SYN_RECV by /proc; count it as SYN_RECV.
        let state = if socket.state == TcpState::NEW_SYN_RECV {
            TcpState::SYN_RECV
        } else {
            socket.state
        };
        if options.states & state.bit() == 0 {
            continue;
        }
        view.total += 1;
        if let Some(count) = per_state.get_mut(usize::from(state.0)) {
            *count += 1;
        }
        match state {
            TcpState::LISTEN => listeners.push(socket),
            TcpState::SYN_RECV => *syn_recv.entry(socket.local).or_default() += 1,
            TcpState::ESTABLISHED | TcpState::TIME_WAIT => {
                let tw = u64::from(state == TcpState::TIME_WAIT);
                let est = 1 - tw;
                // Outgoing: grouped by destination address:port. Incoming: by client
                // address (its ports are ephemeral and would make one group each).
                let key = if serving.accepts(socket) {
                    SocketAddr::new(socket.remote.ip(), 0)
                } else {
                    socket.remote
                };
                let d = destinations.entry(key).or_default();
                d.0 += est;
                d.1 += tw;
                let l = locals.entry(socket.local.ip()).or_default();
                l.0 += est;
                l.1 += tw;
                connections.push(socket);
            }
            TcpState::CLOSE | TcpState::BOUND_INACTIVE => {}
            _ => connections.push(socket),
        }
    }

    for state in (1..=TcpState::MAX_KNOWN).map(TcpState) {
        if state == TcpState::NEW_SYN_RECV {
            continue;
        }
        if options.states & state.bit() != 0 {
            let count = per_state.get(usize::from(state.0)).copied().unwrap_or(0);
            view.states.push((state.name().to_string(), count));
        }
    }
    for (number, count) in per_state.iter().enumerate() {
        let named = (1..=usize::from(TcpState::MAX_KNOWN)).contains(&number);
        if !named && *count > 0 {
            view.states.push((format!("STATE_{number}"), *count));
        }
    }

    view.listeners = build_listeners(&listeners, &syn_recv, options);
    view.destinations_total = destinations.len() as u64;
    view.destinations = top_groups(destinations, options.top, |a| {
        if a.port() == 0 {
            let ip = endpoint(&a);
            format!("{} (incoming)", ip.strip_suffix(":0").unwrap_or(&ip))
        } else {
            endpoint(&a)
        }
    });
    view.local_addresses = top_groups(locals, options.top, |a| a.to_string());
    let (usage, distinct) =
        port_usage(&connections, &serving, options.ephemeral_range, options.top);
    view.port_usage = usage;
    view.port_usage_total = distinct;
    if !options.backlog_known && !view.listeners.is_empty() {
        view.notes.push(
            "backlog unknown: /proc/net/tcp does not show a listener's accept-queue limit \
             (sock_diag does)"
                .to_string(),
        );
    }
    if options.states & TcpState::SYN_RECV.bit() == 0
        && options.states & TcpState::LISTEN.bit() != 0
    {
        view.notes.push(
            "SYN-RECV not counted: the listener view leaves connections out \
             (run without --listen to count it)"
                .to_string(),
        );
    }
    view
}

fn build_listeners(
    listeners: &[&TcpSocket],
    syn_recv: &HashMap<SocketAddr, u64>,
    options: &ViewOptions,
) -> Vec<Listener> {
    let syn_recv_asked = options.states & TcpState::SYN_RECV.bit() != 0;
    let mut sorted: Vec<&TcpSocket> = listeners.to_vec();
    sorted.sort_by(|a, b| {
        (a.local.port(), a.local.ip(), a.inode).cmp(&(b.local.port(), b.local.ip(), b.inode))
    });
    let mut group_sizes: HashMap<SocketAddr, u32> = HashMap::new();
    for l in &sorted {
        *group_sizes.entry(l.local).or_default() += 1;
    }
    sorted
        .iter()
        .map(|l| Listener {
            local: endpoint(&l.local),
            queue: u64::from(l.rqueue),
            backlog: options.backlog_known.then_some(u64::from(l.wqueue)),
            capped_by_somaxconn: None,
            syn_recv: syn_recv_asked.then(|| syn_recv_for(l.local, listeners, syn_recv)),
            process: None,
            owner: None,
            address: l.local.ip().to_string(),
            port: l.local.port(),
            inode: l.inode,
            uid: Some(l.uid),
            reuseport_group_size: group_sizes.get(&l.local).copied().unwrap_or(1),
            fill_percent: None,
            level: None,
        })
        .collect()
}

/// SYN-RECV sockets belonging to the listener bound to `local`: those to exactly this
/// address:port, plus, for a wildcard listener, those to any address on its port that no
/// more specific listener claims.
fn syn_recv_for(
    local: SocketAddr,
    listeners: &[&TcpSocket],
    syn_recv: &HashMap<SocketAddr, u64>,
) -> u64 {
    if !local.ip().is_unspecified() {
        return syn_recv.get(&local).copied().unwrap_or(0);
    }
    syn_recv
        .iter()
        .filter(|(addr, _)| addr.port() == local.port())
        .filter(|(addr, _)| {
            let same_family = addr.is_ipv4() == local.is_ipv4();
            // A v4 request can reach a dual-stack [::] listener when no 0.0.0.0 one exists.
            let v4_to_dual_stack = addr.is_ipv4()
                && local.is_ipv6()
                && !listeners
                    .iter()
                    .any(|l| l.local.is_ipv4() && l.local.port() == local.port());
            same_family || v4_to_dual_stack
        })
        .filter(|(addr, _)| {
            addr.ip().is_unspecified() || !listeners.iter().any(|l| l.local == **addr)
        })
        .map(|(_, count)| *count)
        .sum()
}

fn top_groups<K: Ord>(
    groups: HashMap<K, (u64, u64)>,
    top: usize,
    key: impl Fn(K) -> String,
) -> Vec<ConnectionGroup> {
    let mut all: Vec<(K, (u64, u64))> = groups.into_iter().collect();
    all.sort_by(|a, b| {
        let total_a = a.1.0 + a.1.1;
        let total_b = b.1.0 + b.1.1;
        total_b.cmp(&total_a).then_with(|| a.0.cmp(&b.0))
    });
    all.into_iter()
        .take(top)
        .map(|(k, (established, time_wait))| ConnectionGroup {
            key: key(k),
            established,
            time_wait,
        })
        .collect()
}

/// The address:ports listeners serve, to tell accepted connections from outgoing ones.
struct ServingPorts {
    exact: HashSet<SocketAddr>,
    wildcard: HashSet<u16>,
}

impl ServingPorts {
    fn new(listeners: &[&TcpSocket]) -> Self {
        ServingPorts {
            exact: listeners.iter().map(|l| l.local).collect(),
            wildcard: listeners
                .iter()
                .filter(|l| l.local.ip().is_unspecified())
                .map(|l| l.local.port())
                .collect(),
        }
    }

    /// True when the connection's local end is a port a listener serves (so it was
    /// accepted, or waits to be), false for connections this host opened.
    fn accepts(&self, connection: &TcpSocket) -> bool {
        self.exact.contains(&connection.local) || self.wildcard.contains(&connection.local.port())
    }
}

/// Outgoing connections per (local address, remote address:port). A connection is taken as
/// outgoing when its local port is not one a listener serves on that address (or on the
/// wildcard): accepted connections share the listener's port, outgoing ones use an
/// ephemeral port. TIME_WAIT sockets count: they still hold the port for that destination.
/// When the ephemeral range is known, a local port outside it is not counted: it was not
/// taken from the pool that runs out.
fn port_usage(
    connections: &[&TcpSocket],
    serving: &ServingPorts,
    ephemeral_range: Option<(u16, u16)>,
    top: usize,
) -> (Vec<PortUsage>, u64) {
    let mut usage: HashMap<(IpAddr, SocketAddr), u64> = HashMap::new();
    for c in connections {
        if serving.accepts(c) {
            continue;
        }
        if let Some((low, high)) = ephemeral_range
            && !(low..=high).contains(&c.local.port())
        {
            continue;
        }
        *usage.entry((c.local.ip(), c.remote)).or_default() += 1;
    }
    let distinct = usage.len() as u64;
    let mut all: Vec<((IpAddr, SocketAddr), u64)> = usage.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let rows = all
        .into_iter()
        .take(top)
        .map(|((local, remote), in_use)| PortUsage {
            local_addr: local.to_string(),
            remote: endpoint(&remote),
            in_use,
            available: None,
            ratio: None,
            level: None,
        })
        .collect();
    (rows, distinct)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock(state: TcpState, local: &str, remote: &str, r: u32, w: u32, inode: u64) -> TcpSocket {
        TcpSocket {
            state,
            local: local.parse().unwrap(),
            remote: remote.parse().unwrap(),
            rqueue: r,
            wqueue: w,
            uid: 0,
            inode,
        }
    }

    #[test]
    fn listeners_syn_recv_groups_and_usage() {
        let sockets = vec![
            sock(TcpState::LISTEN, "0.0.0.0:80", "0.0.0.0:0", 3, 128, 1),
            sock(TcpState::LISTEN, "0.0.0.0:80", "0.0.0.0:0", 0, 128, 2),
            sock(TcpState::LISTEN, "127.0.0.1:9000", "0.0.0.0:0", 0, 4, 3),
            sock(TcpState::SYN_RECV, "10.0.0.1:80", "10.0.0.9:5000", 0, 0, 0),
            sock(
                TcpState::SYN_RECV,
                "127.0.0.1:9000",
                "127.0.0.1:5001",
                0,
                0,
                0,
            ),
            // inbound, accepted on port 80: not outgoing
            sock(
                TcpState::ESTABLISHED,
                "10.0.0.1:80",
                "10.0.0.9:5002",
                0,
                0,
                10,
            ),
            // outgoing to 10.0.0.5:443 from two ephemeral ports, one in TIME_WAIT
            sock(
                TcpState::ESTABLISHED,
                "10.0.0.1:40000",
                "10.0.0.5:443",
                0,
                0,
                11,
            ),
            sock(
                TcpState::TIME_WAIT,
                "10.0.0.1:40001",
                "10.0.0.5:443",
                0,
                0,
                0,
            ),
        ];
        let view = build_view(&sockets, "sock_diag", &ViewOptions::default());
        assert_eq!(view.listeners.len(), 3);
        assert_eq!(view.listeners[0].local, "0.0.0.0:80");
        assert_eq!(view.listeners[0].reuseport_group_size, 2);
        assert_eq!(view.listeners[0].syn_recv, Some(1));
        assert_eq!(view.listeners[2].syn_recv, Some(1));
        assert_eq!(view.listeners[2].backlog, Some(4));
        assert_eq!(view.state_count("ESTABLISHED"), 2);
        assert_eq!(view.state_count("TIME_WAIT"), 1);
        assert_eq!(view.state_count("SYN_RECV"), 2);
        assert_eq!(view.port_usage.len(), 1);
        assert_eq!(view.port_usage[0].remote, "10.0.0.5:443");
        assert_eq!(view.port_usage[0].in_use, 2);
        assert_eq!(view.destinations[0].key, "10.0.0.5:443");
        assert_eq!(view.destinations[0].time_wait, 1);
        assert_eq!(view.destinations[1].key, "10.0.0.9 (incoming)");

        // Port 40001 lies outside a range narrowed to 40000..=40000 (set after it was
        // taken, or bound explicitly): it does not use up the pool that runs out.
        let narrowed = ViewOptions {
            ephemeral_range: Some((40000, 40000)),
            ..ViewOptions::default()
        };
        let view = build_view(&sockets, "sock_diag", &narrowed);
        assert_eq!(view.port_usage[0].in_use, 1);
    }

    #[test]
    fn port_filter_and_unknown_backlog() {
        let sockets = vec![
            sock(TcpState::LISTEN, "0.0.0.0:80", "0.0.0.0:0", 3, 0, 1),
            sock(TcpState::LISTEN, "0.0.0.0:81", "0.0.0.0:0", 3, 0, 2),
        ];
        let options = ViewOptions {
            port: Some(81),
            backlog_known: false,
            ..ViewOptions::default()
        };
        let view = build_view(&sockets, "proc_net_tcp", &options);
        assert_eq!(view.listeners.len(), 1);
        assert_eq!(view.listeners[0].backlog, None);
        assert!(view.notes.iter().any(|n| n.contains("backlog unknown")));
    }
}
