//! TIME_WAIT, timestamp and port rules: `tw-recycle` (the story: the setting and its
//! consequences in one finding), `paws-rejects`, `timewait-overflow` and `port-exhaustion`.

use super::RuleOutcome;
use super::support::{
    FindingText, IP_SYSCTL_DOC, LifetimeFloor, RateFloor, SNMP_DOC, counter_evidence, describe,
    kernel, kernel_evidence, lifetime_caveat, rate_or_lifetime, strings, sum_readings, weight,
};
use crate::analyze::finding::{Evidence, Severity};
use crate::analyze::window::{SysctlReading, Window};
use crate::render::{approx, thousands};
use crate::snapshot::KernelVersion;

const TW_RECYCLE_REMOVED: KernelVersion = KernelVersion::new(4, 12);

/// True when a sysctl value is a number other than 0.
fn is_on(reading: &SysctlReading) -> bool {
    reading.as_i64().is_some_and(|v| v != 0)
}

/// `tw-recycle`: net.ipv4.tcp_tw_recycle on (or configured) on a kernel that still has it,
/// tied to its consequences: SYNs from clients behind NAT dropped (ListenDrops, PAWSPassive)
/// and their ACKs failing cookie checks (SyncookiesFailed). Also fires from the counter side
/// alone: PAWSPassive only rises with tcp_tw_recycle.
pub fn tw_recycle(window: &Window) -> RuleOutcome {
    let setting = window.sysctl("net.ipv4.tcp_tw_recycle");
    let timestamps = window.sysctl("net.ipv4.tcp_timestamps");
    let passive = window.counter("TcpExtPAWSPassive");
    let drops = window.counter("TcpExtListenDrops");
    let overflows = window.counter("TcpExtListenOverflows");
    let cookies_failed = window.counter("TcpExtSyncookiesFailed");
    let kernel_version = kernel(window);
    let kernel_has_it = kernel_version.map(|k| k < TW_RECYCLE_REMOVED);
    let have_sysctls = window.after.sysctl.is_some();

    let passive_floor = RateFloor {
        min_delta: 1,
        warning_per_s: 0.2,
        critical_per_s: Some(1.0),
    };
    let passive_lifetime = LifetimeFloor {
        min_total: 100,
        min_avg_per_s: 0.0,
    };
    let counter_severity = rate_or_lifetime(&passive, passive_floor, passive_lifetime);

    let setting_on = setting.as_ref().filter(|s| is_on(s));
    if setting_on.is_none() && counter_severity.is_none() {
        if !have_sysctls && !passive.present() && kernel_has_it != Some(false) {
            return RuleOutcome::missing(
                "net.ipv4.tcp_tw_recycle (no sysctl data) and TcpExtPAWSPassive (not in the \
                 data), and the kernel version does not rule it out",
            );
        }
        return RuleOutcome::quiet();
    }

    let timestamps_off = timestamps.as_ref().and_then(|t| t.as_i64()) == Some(0);
    let consequences_seen = drops.total_or_zero() > 0
        || cookies_failed.total_or_zero() > 0
        || passive.total_or_zero() > 0;
    let mut caveats = Vec::new();
    let (mut severity, state_words) = match setting_on {
        Some(s) if s.live => (
            Severity::Critical,
            format!("net.ipv4.tcp_tw_recycle is {} (live)", s.value),
        ),
        Some(s) => {
            let place = match (&s.file, s.line) {
                (Some(f), Some(l)) => format!(" in {f}:{l}"),
                _ => String::new(),
            };
            match kernel_has_it {
                Some(false) => (
                    Severity::Info,
                    format!(
                        "net.ipv4.tcp_tw_recycle = {} is configured{place}, but kernel {} no \
                         longer has it (removed in 4.12): the line is dead configuration that \
                         makes `sysctl --system` report an error at boot",
                        s.value,
                        kernel_version.map(|k| k.to_string()).unwrap_or_default()
                    ),
                ),
                Some(true) => {
                    caveats.push(
                        "The live value was not read; the configured value applies at the next \
                         boot or `sysctl --system`."
                            .to_string(),
                    );
                    (
                        Severity::Critical,
                        format!("net.ipv4.tcp_tw_recycle = {} is configured{place}", s.value),
                    )
                }
                None => {
                    caveats.push(
                        "This conclusion depends on the kernel version, which the data does not \
                         show: before Linux 4.12 the setting is live and drops SYNs as described; \
                         from 4.12 on the key does not exist and the line only causes an error \
                         at boot."
                            .to_string(),
                    );
                    let severity = if consequences_seen {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    };
                    (
                        severity,
                        format!("net.ipv4.tcp_tw_recycle = {} is configured{place}", s.value),
                    )
                }
            }
        }
        None => {
            let sev = counter_severity.unwrap_or(Severity::Info);
            if let Some(off) = setting.as_ref().filter(|s| !is_on(s)) {
                caveats.push(format!(
                    "net.ipv4.tcp_tw_recycle is {} now: the rejections counted here happened \
                     while it was on (since boot), unless they are still rising.",
                    off.value
                ));
            }
            if !have_sysctls {
                caveats.push(
                    "The sysctl settings were not read: the cause is inferred from PAWSPassive, \
                     which only tcp_tw_recycle increments."
                        .to_string(),
                );
            }
            (
                sev,
                "TcpExtPAWSPassive is counting: only tcp_tw_recycle rejects SYNs this way"
                    .to_string(),
            )
        }
    };
    if timestamps_off && severity > Severity::Info && setting_on.is_some() {
        // Without timestamps the per-peer check has nothing to compare.
        severity = Severity::Warning;
        caveats.push(
            "net.ipv4.tcp_timestamps is 0, so the per-peer timestamp check is dormant; turning \
             timestamps back on would activate it."
                .to_string(),
        );
    }
    if let Some(c) = counter_severity {
        severity = severity.max(c);
    }

    // The consequences, as the story needs them: the dropped SYNs and the invalid cookies.
    let mut consequences = Vec::new();
    if drops.total_or_zero() > 0 {
        let mut words = describe(window, &drops, "SYNs to LISTEN sockets dropped");
        if overflows.present() {
            words.push_str(&format!(
                " (of which {} were accept-queue overflows)",
                thousands(overflows.total_or_zero())
            ));
        }
        consequences.push(words);
    }
    if cookies_failed.total_or_zero() > 0 {
        consequences.push(describe(
            window,
            &cookies_failed,
            "invalid SYN cookies received",
        ));
    }
    if passive.total_or_zero() > 0 {
        consequences.push(describe(
            window,
            &passive,
            "passive connections rejected by timestamp (PAWSPassive)",
        ));
    }
    let summary = if consequences.is_empty() {
        format!("{state_words}. No dropped SYNs are in the data yet.")
    } else {
        format!(
            "{state_words}. Likely consequences: {}.",
            consequences.join("; ")
        )
    };

    let mut explanation = String::from(
        "With tcp_tw_recycle=1 and TCP timestamps on, the kernel remembers the last timestamp \
         it saw from each client IP address and silently drops a SYN whose timestamp is older. \
         Clients behind one NAT or load balancer share an IP address but not a clock, so after \
         one of them connects, the others' SYNs look old and are dropped: they see connect \
         timeouts, intermittently, from one office or network. Each dropped SYN counts in \
         ListenDrops (\"SYNs to LISTEN sockets dropped\") and in PAWSPassive; the same clients' \
         late ACKs reach the listener with no matching connection and count as invalid SYN \
         cookies (SyncookiesFailed).",
    );
    if drops.total_or_zero() > 0 || cookies_failed.total_or_zero() > 0 {
        explanation.push_str(&format!(
            " The {} dropped SYNs and {} invalid SYN cookies in the evidence are the likely \
             consequence of this setting{}.",
            approx(drops.total_or_zero()),
            approx(cookies_failed.total_or_zero()),
            if overflows.present() {
                ", beyond what accept-queue overflows explain"
            } else {
                ""
            }
        ));
    }
    explanation.push_str(" The option was removed in Linux 4.12.");

    let mut remedy = vec!["Turn it off now: `sysctl -w net.ipv4.tcp_tw_recycle=0`.".to_string()];
    match setting_on.and_then(|s| s.file.clone().zip(s.line)) {
        Some((file, line)) => {
            remedy.push(format!(
                "Delete the line `net.ipv4.tcp_tw_recycle = ...` at {file}:{line} so it does not come back at boot."
            ));
            remedy.push(
                "Check no other file sets it: `grep -rn tcp_tw_recycle /etc/sysctl.conf \
                 /etc/sysctl.d/ /run/sysctl.d/ /usr/lib/sysctl.d/`."
                    .to_string(),
            );
        }
        None => remedy.push(
            "Delete `net.ipv4.tcp_tw_recycle` from /etc/sysctl.conf and /etc/sysctl.d/*.conf: \
             `grep -rn tcp_tw_recycle /etc/sysctl.conf /etc/sysctl.d/ /usr/lib/sysctl.d/`."
                .to_string(),
        ),
    }
    remedy.extend(strings(&[
        "Keep net.ipv4.tcp_timestamps=1: turning timestamps off is not the fix (it disables PAWS and makes tcp_tw_reuse unsafe).",
        "For TIME_WAIT pressure on outgoing connections use connection reuse and `net.ipv4.tcp_tw_reuse=1` instead.",
    ]));

    let mut evidence = Vec::new();
    evidence.extend(setting.as_ref().map(|s| s.evidence()));
    evidence.extend(timestamps.as_ref().map(|s| s.evidence()));
    evidence.extend(counter_evidence(&[
        &drops,
        &overflows,
        &cookies_failed,
        &passive,
    ]));
    evidence.extend(kernel_evidence(window));
    caveats.extend(lifetime_caveat(window));

    let mut finding = FindingText {
        id: "tw-recycle",
        title: if severity == Severity::Info && setting_on.is_some_and(|s| !s.live) {
            "net.ipv4.tcp_tw_recycle is configured, but this kernel no longer has it".to_string()
        } else {
            "tcp_tw_recycle drops SYNs from clients behind NAT".to_string()
        },
        summary,
        explanation,
        remedy,
        references: strings(&[
            IP_SYSCTL_DOC,
            "https://vincent.bernat.ch/en/blog/2014-tcp-time-wait-state-linux",
            "https://stackoverflow.com/questions/8893888/dropping-of-connections-with-tcp-tw-recycle",
        ]),
    }
    .into_finding(
        severity,
        evidence,
        // The named cause of the biggest drops outranks the drops themselves.
        1.0e9 + weight(&drops),
    );
    finding.caveats = caveats;
    RuleOutcome::one(finding)
}

/// `paws-rejects`: segments of established connections rejected because their timestamp is
/// older than the last one seen (PAWSEstab, PAWSActive).
pub fn paws_rejects(window: &Window) -> RuleOutcome {
    let estab = window.counter("TcpExtPAWSEstab");
    let active = window.counter("TcpExtPAWSActive");
    if !estab.present() && !active.present() {
        return RuleOutcome::missing("TcpExtPAWSEstab and TcpExtPAWSActive (not in the data)");
    }
    let in_segs = window.counter("TcpInSegs");
    let both = sum_readings("TcpExtPAWSEstab+TcpExtPAWSActive", &[&estab, &active]);
    let floor = RateFloor {
        min_delta: 50,
        warning_per_s: 10.0,
        critical_per_s: None,
    };
    let lifetime = LifetimeFloor {
        min_total: 10_000,
        min_avg_per_s: 0.1,
    };
    // A tenth of a percent of incoming segments: below that it is old duplicates, noise.
    let share_ok = |rejects: Option<i128>, segs: Option<i128>| match (rejects, segs) {
        (Some(r), Some(s)) if s > 0 => r as f64 / s as f64 >= 0.001,
        _ => true,
    };
    let now = floor
        .judge(&both)
        .filter(|_| share_ok(both.delta(), in_segs.delta()));
    let ever =
        (lifetime.notable(&both) && share_ok(both.total, in_segs.total)).then_some(Severity::Info);
    let Some(severity) = now.or(ever) else {
        return RuleOutcome::quiet();
    };
    let mut finding = FindingText {
        id: "paws-rejects",
        title: "Segments are rejected by the timestamp check (PAWS)".to_string(),
        summary: format!(
            "{}.",
            describe(window, &both, "segments rejected for an old timestamp")
        ),
        explanation: "PAWS (protection against wrapped sequence numbers) drops a segment whose \
            TCP timestamp is older than the last one seen on the connection. A steady rate means \
            several hosts share one address and one connection's 4-tuple (NAT reusing ports, \
            load balancers), a middlebox rewriting timestamps, or a peer whose clock jumped. The \
            sender retransmits and the connection stalls."
            .to_string(),
        remedy: strings(&[
            "Find the peers: `tcpdump -ni any 'tcp[tcpflags] & tcp-syn != 0' -vv` shows TSval per SYN; look for one source address with timestamps that jump back.",
            "Check NAT/load-balancer port reuse towards this host; avoid tcp_tw_recycle on old kernels.",
            "Keep net.ipv4.tcp_timestamps=1; turning timestamps off hides the check but removes PAWS protection.",
        ]),
        references: strings(&[SNMP_DOC]),
    }
    .into_finding(
        severity,
        counter_evidence(&[&estab, &active, &in_segs]),
        weight(&both),
    );
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}

/// `timewait-overflow`: sockets closed without TIME_WAIT protection because the TIME_WAIT
/// table is full (tcp_max_tw_buckets).
pub fn timewait_overflow(window: &Window) -> RuleOutcome {
    let overflow = window.counter("TcpExtTCPTimeWaitOverflow");
    if !overflow.present() {
        return RuleOutcome::missing("TcpExtTCPTimeWaitOverflow (not in the data)");
    }
    let floor = RateFloor {
        min_delta: 5,
        warning_per_s: 1.0,
        critical_per_s: None,
    };
    let lifetime = LifetimeFloor {
        min_total: 1000,
        min_avg_per_s: 0.01,
    };
    let Some(severity) = rate_or_lifetime(&overflow, floor, lifetime) else {
        return RuleOutcome::quiet();
    };
    let buckets = window.sysctl("net.ipv4.tcp_max_tw_buckets");
    let tw_now = window.after.sockstat_value("TCP", "tw");
    let mut evidence = counter_evidence(&[&overflow]);
    if let Some(tw) = tw_now {
        evidence.push(Evidence::Fact {
            label: "TIME_WAIT sockets now (sockstat TCP tw)".to_string(),
            value: thousands(i128::from(tw)),
        });
    }
    evidence.extend(buckets.iter().map(|b| b.evidence()));
    let mut summary = format!(
        "{}.",
        describe(window, &overflow, "sockets closed without TIME_WAIT")
    );
    if let (Some(tw), Some(max)) = (tw_now, buckets.as_ref().and_then(|b| b.as_i64())) {
        summary.push_str(&format!(
            " {} sockets are in TIME_WAIT now, limit {}.",
            thousands(i128::from(tw)),
            thousands(i128::from(max))
        ));
    }
    let mut finding = FindingText {
        id: "timewait-overflow",
        title: "The TIME_WAIT table is full: connections close without TIME_WAIT".to_string(),
        summary,
        explanation: "Each actively closed TCP connection waits 60 s in TIME_WAIT so that late \
            segments cannot corrupt a new connection on the same ports. When \
            net.ipv4.tcp_max_tw_buckets entries exist, the kernel skips TIME_WAIT for new ones \
            and counts TCPTimeWaitOverflow. It means a very high rate of short connections; \
            the skipped protection rarely hurts, but the cause (no connection reuse) usually \
            also exhausts ports."
            .to_string(),
        remedy: strings(&[
            "Reuse connections (HTTP keep-alive, connection pools) instead of one connection per request.",
            "If the host really needs more: `sysctl -w net.ipv4.tcp_max_tw_buckets=262144` (each entry costs a few hundred bytes), persisted in /etc/sysctl.d/90-netdoctor.conf.",
            "See who creates them: `ss -tan state time-wait | awk '{print $4}' | sort | uniq -c | sort -rn | head`.",
        ]),
        references: strings(&[IP_SYSCTL_DOC]),
    }
    .into_finding(severity, evidence, weight(&overflow));
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}

/// The number of usable ephemeral ports from net.ipv4.ip_local_port_range, when known.
fn port_range_size(window: &Window) -> Option<(u64, SysctlReading)> {
    let range = window.sysctl("net.ipv4.ip_local_port_range")?;
    match range.numbers().as_slice() {
        [Some(low), Some(high)] if high >= low => {
            let size = u64::try_from(high - low + 1).ok()?;
            Some((size, range))
        }
        _ => None,
    }
}

/// `port-exhaustion`: the ephemeral ports towards one destination are (nearly) all in use,
/// so connect() fails with EADDRNOTAVAIL ("Cannot assign requested address").
pub fn port_exhaustion(window: &Window) -> RuleOutcome {
    let Some(view) = window.after.sockets.as_ref() else {
        return RuleOutcome::missing(
            "the socket table (ports in use per destination); it was not collected",
        );
    };
    let range = port_range_size(window);
    let mut findings = Vec::new();
    for usage in &view.port_usage {
        let (available, assumed) = match (usage.available, &range) {
            (Some(a), _) => (a, false),
            (None, Some((size, _))) => (*size, false),
            // 32768-60999, the default range.
            (None, None) => (28_232, true),
        };
        if available == 0 {
            continue;
        }
        let share = usage.in_use as f64 / available as f64;
        let severity = if share >= 0.95 {
            Severity::Critical
        } else if share >= 0.80 {
            Severity::Warning
        } else {
            continue;
        };
        let mut evidence = vec![Evidence::Fact {
            label: format!(
                "ephemeral ports in use {} -> {}",
                usage.local_addr, usage.remote
            ),
            value: format!(
                "{} of {} ({:.0}%)",
                thousands(i128::from(usage.in_use)),
                thousands(i128::from(available)),
                share * 100.0
            ),
        }];
        evidence.extend(range.as_ref().map(|(_, r)| r.evidence()));
        let mut finding = FindingText {
            id: "port-exhaustion",
            title: format!("Ephemeral ports towards {} are running out", usage.remote),
            summary: format!(
                "{} of {} usable local ports from {} to {} are in use ({:.0}%): {}",
                thousands(i128::from(usage.in_use)),
                thousands(i128::from(available)),
                usage.local_addr,
                usage.remote,
                share * 100.0,
                if usage.in_use >= available {
                    "none is free, so new connections to that destination fail now with \
                     \"Cannot assign requested address\"."
                } else {
                    "new connections to that destination fail with \"Cannot assign requested \
                     address\" once none is free."
                }
            ),
            explanation: "Each outgoing connection to the same destination address and port \
                needs its own local port. Connections in TIME_WAIT keep their port for 60 s, so a \
                client opening many short connections to one server runs through \
                ip_local_port_range (about 28,000 ports by default) and connect() fails with \
                EADDRNOTAVAIL."
                .to_string(),
            remedy: strings(&[
                "Reuse connections (keep-alive, pools) instead of opening one per request.",
                "Widen the range: `sysctl -w net.ipv4.ip_local_port_range=\"10240 65000\"` (keep clear of ports your services listen on), persisted in /etc/sysctl.d/90-netdoctor.conf.",
                "Let outgoing connections reuse TIME_WAIT ports safely: `sysctl -w net.ipv4.tcp_tw_reuse=1` (needs timestamps).",
                "Spread over more source addresses or destination ports.",
            ]),
            references: strings(&[IP_SYSCTL_DOC]),
        }
        .into_finding(severity, evidence, share * 100.0);
        if assumed {
            finding.caveats.push(
                "The usable port count is not in the data; assumed the default range \
                 32768-60999."
                    .to_string(),
            );
        }
        findings.push(finding);
    }
    RuleOutcome::Evaluated(findings)
}
