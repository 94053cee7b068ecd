//! UDP rules: datagrams dropped because a receive buffer was full (`udp-rcvbuf-errors`) and
//! sends refused for lack of send buffer (`udp-sndbuf-errors`), IPv4 and IPv6 together.

use super::RuleOutcome;
use super::support::{
    FindingText, IP_SYSCTL_DOC, LifetimeFloor, RateFloor, SNMP_DOC, describe, lifetime_caveat,
    nonzero_evidence, rate_or_lifetime, strings, sum_readings, weight,
};
use crate::analyze::window::Window;

const UDP_FLOOR: RateFloor = RateFloor {
    min_delta: 5,
    warning_per_s: 1.0,
    critical_per_s: Some(100.0),
};

const UDP_LIFETIME: LifetimeFloor = LifetimeFloor {
    min_total: 1000,
    min_avg_per_s: 0.01,
};

/// `udp-rcvbuf-errors`: datagrams dropped because the receiving socket's buffer was full
/// (the application does not read fast enough, or SO_RCVBUF / rmem_max is too small).
pub fn udp_rcvbuf_errors(window: &Window) -> RuleOutcome {
    let v4 = window.counter("UdpRcvbufErrors");
    let v6 = window.counter("Udp6RcvbufErrors");
    if !v4.present() && !v6.present() {
        return RuleOutcome::missing("UdpRcvbufErrors and Udp6RcvbufErrors (not in the data)");
    }
    let both = sum_readings("UdpRcvbufErrors+Udp6RcvbufErrors", &[&v4, &v6]);
    let mem4 = window.counter("UdpMemErrors");
    let mem6 = window.counter("Udp6MemErrors");
    let Some(severity) = rate_or_lifetime(&both, UDP_FLOOR, UDP_LIFETIME) else {
        return RuleOutcome::quiet();
    };
    let mut evidence = nonzero_evidence(&[&v4, &v6, &mem4, &mem6]);
    for key in [
        "net.core.rmem_max",
        "net.core.rmem_default",
        "net.ipv4.udp_mem",
    ] {
        evidence.extend(window.sysctl(key).map(|s| s.evidence()));
    }
    let mut summary = format!(
        "{}.",
        describe(window, &both, "datagrams dropped for a full receive buffer")
    );
    let mem = sum_readings("UdpMemErrors+Udp6MemErrors", &[&mem4, &mem6]);
    if mem.delta().is_some_and(|d| d > 0) {
        summary.push_str(&format!(
            " {} — the global udp_mem limit is also hit.",
            describe(
                window,
                &mem,
                "datagrams dropped for the global UDP memory limit"
            )
        ));
    }
    let mut finding = FindingText {
        id: "udp-rcvbuf-errors",
        title: "UDP datagrams are dropped: a receive buffer is full".to_string(),
        summary,
        explanation: "Each UDP socket holds received datagrams until the application reads \
            them, up to its receive buffer (SO_RCVBUF, default net.core.rmem_default, at most \
            net.core.rmem_max). A full buffer drops the datagram and counts RcvbufErrors (and \
            InErrors). DNS servers, syslog/statsd collectors and QUIC are typical victims: the \
            reader is too slow for bursts or the buffer too small."
            .to_string(),
        remedy: strings(&[
            "Find the socket: `ss -uamn` — the `d` field of skmem counts drops per socket.",
            "Allow bigger buffers: `sysctl -w net.core.rmem_max=8388608` (QUIC stacks want several MB) and let the application set SO_RCVBUF, or raise net.core.rmem_default; persist in /etc/sysctl.d/90-netdoctor.conf.",
            "Make the reader faster (more reader threads, SO_REUSEPORT sockets).",
        ]),
        references: strings(&[SNMP_DOC, IP_SYSCTL_DOC]),
    }
    .into_finding(severity, evidence, weight(&both));
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}

/// `udp-sndbuf-errors`: sends failed with ENOBUFS because the socket's send buffer (or the
/// device queue) was full.
pub fn udp_sndbuf_errors(window: &Window) -> RuleOutcome {
    let v4 = window.counter("UdpSndbufErrors");
    let v6 = window.counter("Udp6SndbufErrors");
    if !v4.present() && !v6.present() {
        return RuleOutcome::missing("UdpSndbufErrors and Udp6SndbufErrors (not in the data)");
    }
    let both = sum_readings("UdpSndbufErrors+Udp6SndbufErrors", &[&v4, &v6]);
    let Some(severity) = rate_or_lifetime(&both, UDP_FLOOR, UDP_LIFETIME) else {
        return RuleOutcome::quiet();
    };
    let mut evidence = nonzero_evidence(&[&v4, &v6]);
    for key in ["net.core.wmem_max", "net.core.wmem_default"] {
        evidence.extend(window.sysctl(key).map(|s| s.evidence()));
    }
    let mut finding = FindingText {
        id: "udp-sndbuf-errors",
        title: "UDP sends fail: a send buffer or device queue is full".to_string(),
        summary: format!(
            "{}.",
            describe(window, &both, "UDP sends refused for lack of buffer")
        ),
        explanation: "A UDP send that finds the socket's send buffer (SO_SNDBUF, \
            net.core.wmem_default, at most wmem_max) full, or the device queue refusing the \
            packet, fails with ENOBUFS and counts SndbufErrors. The application may not check \
            the error, so the datagram is silently lost. Bursty senders (logging, metrics, \
            media) hit it."
            .to_string(),
        remedy: strings(&[
            "Allow bigger send buffers: `sysctl -w net.core.wmem_max=8388608` and let the application set SO_SNDBUF (or raise net.core.wmem_default); persist in /etc/sysctl.d/90-netdoctor.conf.",
            "Check the device queue: `tc -s qdisc show` (drops, overlimits) and `ip -s link` (TX dropped).",
            "Pace the sender.",
        ]),
        references: strings(&[SNMP_DOC, IP_SYSCTL_DOC]),
    }
    .into_finding(severity, evidence, weight(&both));
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}
