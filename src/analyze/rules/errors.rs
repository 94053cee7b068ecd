//! Path and integrity rules: TCP retransmissions (`tcp-retransmits`), reverse-path filter
//! drops (`rp-filter-drops`) and checksum errors (`checksum-errors`).

use super::RuleOutcome;
use super::support::{
    FindingText, IP_SYSCTL_DOC, LifetimeFloor, RateFloor, SNMP_DOC, counter_evidence, describe,
    lifetime_caveat, rate_or_lifetime, strings, sum_readings, weight,
};
use crate::analyze::finding::{Evidence, Severity};
use crate::analyze::window::Window;
use crate::render::thousands;

/// `tcp-retransmits`: the share of retransmitted segments is high, or SYNs are being
/// retransmitted (handshakes losing packets).
pub fn tcp_retransmits(window: &Window) -> RuleOutcome {
    let retrans = window.counter("TcpRetransSegs");
    let out = window.counter("TcpOutSegs");
    let syn = window.counter("TcpExtTCPSynRetrans");
    if !retrans.present() || !out.present() {
        return RuleOutcome::missing("TcpRetransSegs and TcpOutSegs (not in the data)");
    }
    // RetransSegs includes SYN and SYN-ACK retransmissions (TCPSynRetrans): handshakes are
    // judged apart, so the share counts data retransmissions only, which is what loss on
    // the path shows up as. Enough traffic to make a share meaningful, then 2% (warning)
    // and 10% (critical).
    let data_retrans = |r: i128, s: Option<i128>| (r - s.unwrap_or(0)).max(0);
    let ratio_now = match (retrans.delta(), out.delta()) {
        (Some(r), Some(o)) => {
            let data = data_retrans(r, syn.delta());
            (o >= 1000 && data >= 50).then(|| data as f64 / o as f64)
        }
        _ => None,
    };
    let ratio_ever = match (retrans.total, out.total) {
        (Some(r), Some(o)) if o >= 1_000_000 => Some(data_retrans(r, syn.total) as f64 / o as f64),
        _ => None,
    };
    // SYNs retransmitted while a listener on this host drops SYNs in the same window are
    // most likely this host's own clients knocking on its own full queue: the listen rules
    // name that cause, so the handshake part is only context here.
    let local_listen_drops = ["TcpExtListenDrops", "TcpExtTCPReqQFullDrop"]
        .iter()
        .any(|name| window.counter(name).delta().is_some_and(|d| d > 0));
    let judge_ratio = |ratio: f64| {
        if ratio >= 0.10 {
            Some(Severity::Critical)
        } else if ratio >= 0.02 {
            Some(Severity::Warning)
        } else {
            None
        }
    };
    let mut severity = ratio_now.and_then(judge_ratio);
    let syn_severity = RateFloor {
        min_delta: 5,
        warning_per_s: 1.0,
        critical_per_s: None,
    }
    .judge(&syn)
    .map(|s| {
        if local_listen_drops {
            Severity::Info
        } else {
            s
        }
    });
    severity = severity.max(syn_severity);
    if severity.is_none() && ratio_ever.and_then(judge_ratio).is_some() {
        severity = Some(Severity::Info);
    }
    let Some(severity) = severity else {
        return RuleOutcome::quiet();
    };
    let mut summary = String::new();
    match ratio_now {
        Some(r) => summary.push_str(&format!(
            "{:.1}% of sent segments were data retransmissions {} ({} of {}).",
            r * 100.0,
            super::support::window_words(window),
            thousands(data_retrans(retrans.delta_or_zero(), syn.delta())),
            thousands(out.delta_or_zero())
        )),
        None => {
            if let Some(r) = ratio_ever {
                summary.push_str(&format!(
                    "{} {:.1}% of sent segments were data retransmissions ({} of {}).",
                    if window.lifetime_words() == "since boot" {
                        "Since boot"
                    } else {
                        "In total"
                    },
                    r * 100.0,
                    thousands(data_retrans(retrans.total_or_zero(), syn.total)),
                    thousands(out.total_or_zero())
                ));
                if window.has_two_samples() {
                    summary.push_str(" Too little traffic in the window to judge it now.");
                }
            }
        }
    }
    if syn.present() {
        summary.push(' ');
        summary.push_str(&describe(window, &syn, "SYN/SYN-ACK retransmissions"));
        summary.push('.');
    }
    let mut finding = FindingText {
        id: "tcp-retransmits",
        title: if ratio_now.and_then(judge_ratio).is_none() && syn_severity.is_some() {
            "Handshakes are retransmitted: SYNs or SYN-ACKs go unanswered".to_string()
        } else {
            "TCP retransmits a large share of segments: loss on the path or at a peer".to_string()
        },
        summary: summary.trim().to_string(),
        explanation: "A segment is retransmitted when its ACK does not come back in time or \
            duplicate ACKs report it lost. A few tenths of a percent is normal on the internet; \
            several percent means loss on the path (a congested or faulty link, a policer), at \
            the peer (its receive queue or listener overflowing), or a middlebox dropping \
            packets. SYN retransmissions mean handshakes lose packets: a peer not answering, a \
            firewall, or a peer's full listen queue."
            .to_string(),
        remedy: strings(&[
            "Find the peers: `ss -ti | grep -B1 retrans` shows per-connection retransmits; group by destination.",
            "Check the interfaces: `ip -s -s link` (errors, dropped) and `ethtool -S IFACE | grep -Ei 'drop|err|miss'`.",
            "For SYN retransmits, check the server side of those connections (netdoctor check there: listen-overflow, syn-queue-overflow).",
        ]),
        references: strings(&[SNMP_DOC]),
    }
    .into_finding(
        severity,
        counter_evidence(&[&retrans, &out, &syn]),
        ratio_now.or(ratio_ever).unwrap_or(0.0) * 1000.0,
    );
    finding.caveats.extend(lifetime_caveat(window));
    if local_listen_drops && syn_severity.is_some() {
        finding.caveats.push(
            "A listener on this host dropped SYNs in the same window: the SYN retransmissions \
             are likely its own clients retrying (see the listen findings), not loss on the path."
                .to_string(),
        );
    }
    RuleOutcome::one(finding)
}

/// rp_filter settings in the sysctl view that are on (1 strict, 2 loose).
fn rp_filter_settings(window: &Window) -> Vec<Evidence> {
    let Some(view) = window.after.sysctl.as_ref() else {
        return Vec::new();
    };
    view.keys
        .iter()
        .filter(|k| k.key.starts_with("net.ipv4.conf.") && k.key.ends_with(".rp_filter"))
        .filter_map(|k| window.sysctl(&k.key))
        .filter(|r| r.as_i64().is_some_and(|v| v != 0))
        .map(|r| r.evidence())
        .collect()
}

/// `rp-filter-drops`: packets dropped by reverse-path filtering (the reply route to their
/// source would leave by another interface).
pub fn rp_filter_drops(window: &Window) -> RuleOutcome {
    let drops = window.counter("TcpExtIPReversePathFilter");
    if !drops.present() {
        return RuleOutcome::missing("TcpExtIPReversePathFilter (not in the data)");
    }
    let Some(severity) = rate_or_lifetime(
        &drops,
        RateFloor {
            min_delta: 5,
            warning_per_s: 1.0,
            critical_per_s: None,
        },
        LifetimeFloor {
            min_total: 100,
            min_avg_per_s: 0.0,
        },
    ) else {
        return RuleOutcome::quiet();
    };
    let mut evidence = counter_evidence(&[&drops]);
    evidence.extend(rp_filter_settings(window));
    let mut finding = FindingText {
        id: "rp-filter-drops",
        title: "Packets are dropped by reverse-path filtering (rp_filter)".to_string(),
        summary: format!(
            "{}.",
            describe(window, &drops, "packets dropped by the reverse-path filter")
        ),
        explanation: "With rp_filter=1 (strict) the kernel drops a packet when the route back to \
            its source would leave by a different interface than the one it came in on. \
            Multi-homed hosts, asymmetric routing, policy routing, some CNI plugins and VPNs \
            break under strict mode. The effective value per interface is the maximum of \
            conf.all.rp_filter and conf.IFACE.rp_filter."
            .to_string(),
        remedy: strings(&[
            "Find the interface: `sysctl -w net.ipv4.conf.all.log_martians=1` and watch `journalctl -k | grep martian`.",
            "Use loose mode where routing is asymmetric: `sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.IFACE.rp_filter=2`, persisted in /etc/sysctl.d/90-netdoctor.conf.",
        ]),
        references: strings(&[IP_SYSCTL_DOC]),
    }
    .into_finding(severity, evidence, weight(&drops));
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}

/// The checksum-error counters, IPv4 and IPv6.
const CHECKSUM_COUNTERS: &[&str] = &[
    "TcpInCsumErrors",
    "UdpInCsumErrors",
    "Udp6InCsumErrors",
    "UdpLiteInCsumErrors",
    "IpExtInCsumErrors",
    "IcmpInCsumErrors",
    "Icmp6InCsumErrors",
];

/// `checksum-errors`: received packets with bad checksums (NIC, cable, offload or middlebox
/// corruption).
pub fn checksum_errors(window: &Window) -> RuleOutcome {
    let readings: Vec<_> = CHECKSUM_COUNTERS
        .iter()
        .map(|name| window.counter(name))
        .collect();
    if readings.iter().all(|r| !r.present()) {
        return RuleOutcome::missing(
            "the InCsumErrors counters (not in the data; kernels before 3.10 lack them)",
        );
    }
    let refs: Vec<_> = readings.iter().collect();
    let all = sum_readings("InCsumErrors (all protocols)", &refs);
    let Some(severity) = rate_or_lifetime(
        &all,
        RateFloor {
            min_delta: 5,
            warning_per_s: 1.0,
            critical_per_s: None,
        },
        LifetimeFloor {
            min_total: 100,
            min_avg_per_s: 0.001,
        },
    ) else {
        return RuleOutcome::quiet();
    };
    let nonzero: Vec<_> = readings.iter().filter(|r| r.total_or_zero() > 0).collect();
    let mut finding = FindingText {
        id: "checksum-errors",
        title: "Packets arrive with bad checksums".to_string(),
        summary: format!(
            "{}.",
            describe(window, &all, "packets with bad checksums")
        ),
        explanation: "A packet whose IP, TCP, UDP or ICMP checksum does not match its content \
            was corrupted on the way: a faulty NIC, cable or switch port, a broken checksum \
            offload, or a middlebox rewriting packets. The kernel drops it and the sender must \
            retransmit. UDP checksums may be verified only when the application reads, so UDP \
            errors can rise at read time."
            .to_string(),
        remedy: strings(&[
            "Check the interfaces for errors: `ip -s -s link` and `ethtool -S IFACE | grep -Ei 'crc|err'`.",
            "Try without checksum offload: `ethtool -K IFACE rx off` (temporarily) and see whether the counter stops.",
            "Capture a few: `tcpdump -ni IFACE -vv | grep -i 'incorrect'` shows the peers.",
        ]),
        references: strings(&[SNMP_DOC]),
    }
    .into_finding(
        severity,
        nonzero.iter().filter_map(|r| r.evidence()).collect(),
        weight(&all),
    );
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}
