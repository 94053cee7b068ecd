//! Figures derived from the socket view: accept-queue fill, whether somaxconn capped a
//! listener's backlog, the usable ephemeral ports and how much of them each destination uses,
//! how alarming each of those is ([`Level`]), and the owner of each listener in words.
//!
//! Pure functions (no I/O); [`annotate`] fills the derived fields of a `SocketView` so that
//! `sockets` and `check` read the same numbers, levels and words. Render only maps a level to
//! a colour.
//!
//! The owner is worded here rather than in render because findings (`listen-overflow`,
//! `somaxconn-low`) carry it as evidence text, and analysis cannot call into render.

use crate::snapshot::sockets::{Level, ProcessOwner, SocketView, UnknownOwner};

/// Accept-queue fill (percent of the backlog) from which a listener is `Elevated`.
pub const FILL_ELEVATED_PERCENT: f64 = 80.0;
/// Accept-queue fill from which a listener is `Full`: the next connection waits or is dropped.
pub const FILL_FULL_PERCENT: f64 = 100.0;
/// Share of the usable ephemeral ports in use towards one destination from which it is
/// `Elevated`.
pub const PORTS_ELEVATED_RATIO: f64 = 0.5;
/// Share from which it is `Full`: connect() will soon fail with EADDRNOTAVAIL.
pub const PORTS_FULL_RATIO: f64 = 0.9;

/// True when the backlog limit equals somaxconn: listen() asked for at least that much and the
/// kernel cut it down (`min(backlog, somaxconn)`). An application asking for exactly somaxconn
/// is indistinguishable, hence "probably". None when either figure is unknown.
pub fn capped_by_somaxconn(backlog: Option<u64>, somaxconn: Option<u64>) -> Option<bool> {
    Some(backlog? == somaxconn?)
}

/// Accept-queue fill in percent. The kernel lets the queue hold backlog + 1 connections, so
/// this can exceed 100. None when the backlog is unknown; a zero backlog counts as full when
/// anything waits.
pub fn fill_percent(queue: u64, backlog: Option<u64>) -> Option<f64> {
    let backlog = backlog?;
    if backlog == 0 {
        return Some(if queue > 0 { 100.0 } else { 0.0 });
    }
    Some(queue as f64 * 100.0 / backlog as f64)
}

/// Ports the kernel may pick for an unbound connect(): ip_local_port_range (inclusive) less the
/// reserved ports that fall inside it (overlapping reserved ranges counted once).
pub fn usable_ephemeral_ports(range: (u16, u16), reserved: &[(u16, u16)]) -> u64 {
    let (low, high) = range;
    if low > high {
        return 0;
    }
    let mut clipped: Vec<(u16, u16)> = reserved
        .iter()
        .filter_map(|&(a, b)| {
            let a = a.max(low);
            let b = b.min(high);
            (a <= b).then_some((a, b))
        })
        .collect();
    clipped.sort_unstable();
    let mut reserved_count = 0u64;
    let mut covered_to: Option<u16> = None;
    for (a, b) in clipped {
        let start = match covered_to {
            Some(end) if end >= b => continue,
            Some(end) if end >= a => end.saturating_add(1),
            _ => a,
        };
        reserved_count += u64::from(b - start) + 1;
        covered_to = Some(b);
    }
    (u64::from(high - low) + 1).saturating_sub(reserved_count)
}

/// in_use / available; None when nothing is available to divide by.
pub fn port_usage_ratio(in_use: u64, available: Option<u64>) -> Option<f64> {
    let available = available?;
    (available > 0).then(|| in_use as f64 / available as f64)
}

/// The level of an accept queue `fill` percent full.
pub fn fill_level(fill: f64) -> Level {
    if fill >= FILL_FULL_PERCENT {
        Level::Full
    } else if fill >= FILL_ELEVATED_PERCENT {
        Level::Elevated
    } else {
        Level::Ok
    }
}

/// The level of a destination using `ratio` of the usable ephemeral ports.
pub fn port_usage_level(ratio: f64) -> Level {
    if ratio >= PORTS_FULL_RATIO {
        Level::Full
    } else if ratio >= PORTS_ELEVATED_RATIO {
        Level::Elevated
    } else {
        Level::Ok
    }
}

/// The owner of a socket in words: "nginx (pid 812)", or "unknown: WHY".
pub fn owner_label(owner: &ProcessOwner) -> String {
    match owner {
        ProcessOwner::Known {
            pid,
            command: Some(command),
        } => format!("{command} (pid {pid})"),
        ProcessOwner::Known { pid, command: None } => {
            format!("pid {pid} (exited before its name was read)")
        }
        ProcessOwner::Unknown { reason } => match reason {
            UnknownOwner::NoInode => "unknown: the kernel gave no inode".to_string(),
            UnknownOwner::NotPermitted {
                unreadable_processes,
            } => format!(
                "unknown: not permitted to read the descriptors of {unreadable_processes} \
                 processes (run as root)"
            ),
            UnknownOwner::NotFound => "unknown: no visible process holds it (closing, or held \
                                       from another PID namespace)"
                .to_string(),
            UnknownOwner::CapturedTree => {
                "unknown: a captured tree has no process table".to_string()
            }
        },
    }
}

/// Words `process` from `owner` for every listener whose owner was looked up (listeners
/// without an `owner`, e.g. from an ss paste, keep the text they came with).
pub fn label_owners(view: &mut SocketView) {
    for listener in &mut view.listeners {
        if let Some(owner) = &listener.owner {
            listener.process = Some(owner_label(owner));
        }
    }
}

/// Fills the derived fields of a view: per listener `capped_by_somaxconn`, `fill_percent`,
/// `level` and the `process` label; the usable ephemeral ports; and per destination
/// `available`, `ratio` and `level`. Idempotent: calling it again recomputes the same fields.
pub fn annotate(view: &mut SocketView) {
    let somaxconn = view.somaxconn;
    for listener in &mut view.listeners {
        listener.capped_by_somaxconn = capped_by_somaxconn(listener.backlog, somaxconn);
        listener.fill_percent = fill_percent(listener.queue, listener.backlog);
        listener.level = listener.fill_percent.map(fill_level);
    }
    label_owners(view);
    view.usable_ephemeral_ports = view.ip_local_port_range.map(|range| {
        usable_ephemeral_ports(
            range,
            view.ip_local_reserved_ports.as_deref().unwrap_or(&[]),
        )
    });
    for usage in &mut view.port_usage {
        usage.available = view.usable_ephemeral_ports;
        usage.ratio = port_usage_ratio(usage.in_use, usage.available);
        usage.level = usage.ratio.map(port_usage_level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped() {
        assert_eq!(capped_by_somaxconn(Some(1024), Some(1024)), Some(true));
        assert_eq!(capped_by_somaxconn(Some(4), Some(1024)), Some(false));
        assert_eq!(capped_by_somaxconn(None, Some(1024)), None);
    }

    #[test]
    fn usable_ports() {
        assert_eq!(usable_ephemeral_ports((32768, 60999), &[]), 28232);
        assert_eq!(usable_ephemeral_ports((1000, 1009), &[(1005, 1005)]), 9);
        assert_eq!(
            usable_ephemeral_ports((1000, 1009), &[(990, 1002), (1001, 1003), (1009, 2000)]),
            5
        );
        assert_eq!(usable_ephemeral_ports((1000, 1009), &[(0, 65535)]), 0);
    }

    #[test]
    fn ratios() {
        assert_eq!(port_usage_ratio(50, Some(100)), Some(0.5));
        assert_eq!(port_usage_ratio(50, Some(0)), None);
        assert_eq!(fill_percent(5, Some(4)), Some(125.0));
        assert_eq!(fill_percent(5, None), None);
    }

    #[test]
    fn levels_at_their_thresholds() {
        assert_eq!(fill_level(0.0), Level::Ok);
        assert_eq!(fill_level(79.9), Level::Ok);
        assert_eq!(fill_level(80.0), Level::Elevated);
        assert_eq!(fill_level(100.0), Level::Full);
        assert_eq!(fill_level(125.0), Level::Full);
        assert_eq!(port_usage_level(0.49), Level::Ok);
        assert_eq!(port_usage_level(0.5), Level::Elevated);
        assert_eq!(port_usage_level(0.9), Level::Full);
    }

    #[test]
    fn annotate_sets_levels_and_owner_words() {
        use crate::snapshot::sockets::{Listener, PortUsage};
        let mut view = SocketView {
            somaxconn: Some(4096),
            ip_local_port_range: Some((40000, 40099)),
            listeners: vec![
                Listener {
                    queue: 5,
                    backlog: Some(4),
                    owner: Some(ProcessOwner::Known {
                        pid: 812,
                        command: Some("nginx".into()),
                    }),
                    ..Listener::default()
                },
                Listener {
                    queue: 0,
                    backlog: None,
                    owner: Some(ProcessOwner::Unknown {
                        reason: UnknownOwner::NotPermitted {
                            unreadable_processes: 3,
                        },
                    }),
                    ..Listener::default()
                },
                Listener {
                    process: Some("users:((\"sshd\",pid=1,fd=3))".into()),
                    backlog: Some(128),
                    ..Listener::default()
                },
            ],
            port_usage: vec![
                PortUsage {
                    in_use: 95,
                    ..PortUsage::default()
                },
                PortUsage {
                    in_use: 60,
                    ..PortUsage::default()
                },
                PortUsage {
                    in_use: 1,
                    ..PortUsage::default()
                },
            ],
            ..SocketView::default()
        };
        annotate(&mut view);
        annotate(&mut view);
        let levels: Vec<_> = view.listeners.iter().map(|l| l.level).collect();
        assert_eq!(levels, [Some(Level::Full), None, Some(Level::Ok)]);
        assert_eq!(
            view.listeners[0].process.as_deref(),
            Some("nginx (pid 812)")
        );
        assert!(
            view.listeners[1]
                .process
                .as_deref()
                .is_some_and(|p| p.starts_with("unknown: not permitted") && p.contains(" 3 "))
        );
        assert_eq!(
            view.listeners[2].process.as_deref(),
            Some("users:((\"sshd\",pid=1,fd=3))")
        );
        let levels: Vec<_> = view.port_usage.iter().map(|u| u.level).collect();
        assert_eq!(
            levels,
            [Some(Level::Full), Some(Level::Elevated), Some(Level::Ok)]
        );
    }

    #[test]
    fn levels_serialise_as_words() {
        assert_eq!(
            serde_json::to_string(&Level::Elevated).unwrap(),
            "\"elevated\""
        );
        let owner = ProcessOwner::Unknown {
            reason: UnknownOwner::NotPermitted {
                unreadable_processes: 2,
            },
        };
        let json = serde_json::to_value(&owner).unwrap();
        assert_eq!(json["status"], "unknown");
        assert_eq!(json["reason"]["kind"], "not_permitted");
        assert_eq!(json["reason"]["unreadable_processes"], 2);
        let back: ProcessOwner = serde_json::from_value(json).unwrap();
        assert_eq!(back, owner);
    }
}
