//! Figures derived from the socket view: accept-queue fill, whether somaxconn capped a
//! listener's backlog, the usable ephemeral ports and how much of them each destination uses.
//!
//! Pure functions (no I/O); [`annotate`] fills the derived fields of a `SocketView` so that
//! `sockets` and `check` read the same numbers.

use crate::snapshot::sockets::SocketView;

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

/// Fills the derived fields of a view: per listener `capped_by_somaxconn` and `fill_percent`,
/// the usable ephemeral ports, and per destination `available` and `ratio`.
pub fn annotate(view: &mut SocketView) {
    let somaxconn = view.somaxconn;
    for listener in &mut view.listeners {
        listener.capped_by_somaxconn = capped_by_somaxconn(listener.backlog, somaxconn);
        listener.fill_percent = fill_percent(listener.queue, listener.backlog);
    }
    view.usable_ephemeral_ports = view.ip_local_port_range.map(|range| {
        usable_ephemeral_ports(
            range,
            view.ip_local_reserved_ports.as_deref().unwrap_or(&[]),
        )
    });
    for usage in &mut view.port_usage {
        usage.available = view.usable_ephemeral_ports;
        usage.ratio = port_usage_ratio(usage.in_use, usage.available);
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
}
