//! Memory rules: receive-buffer pressure (`rcvbuf-pressure`), TCP memory limits
//! (`tcp-memory-pressure`: sockstat mem against tcp_mem) and orphaned sockets (`orphan-limit`).

use super::RuleOutcome;
use super::support::{
    FindingText, IP_SYSCTL_DOC, LifetimeFloor, RateFloor, SNMP_DOC, counter_evidence, describe,
    lifetime_caveat, nonzero_evidence, rate_or_lifetime, strings, sum_readings, weight,
};
use crate::analyze::finding::{Evidence, Severity};
use crate::analyze::window::Window;
use crate::render::thousands;

/// `rcvbuf-pressure`: receivers do not keep up or their buffers are too small: data dropped
/// (RcvPruned, TCPRcvQDrop, OfoPruned) or CPU spent compacting queues (PruneCalled,
/// TCPRcvCollapsed).
pub fn rcvbuf_pressure(window: &Window) -> RuleOutcome {
    let pruned = window.counter("TcpExtRcvPruned");
    let qdrop = window.counter("TcpExtTCPRcvQDrop");
    let ofo = window.counter("TcpExtOfoPruned");
    let prune_called = window.counter("TcpExtPruneCalled");
    let collapsed = window.counter("TcpExtTCPRcvCollapsed");
    if [&pruned, &qdrop, &ofo, &prune_called, &collapsed]
        .iter()
        .all(|r| !r.present())
    {
        return RuleOutcome::missing(
            "TcpExtRcvPruned, TCPRcvQDrop, OfoPruned, PruneCalled and TCPRcvCollapsed (none in \
             the data)",
        );
    }
    let loss = sum_readings(
        "TcpExtRcvPruned+TcpExtTCPRcvQDrop+TcpExtOfoPruned",
        &[&pruned, &qdrop, &ofo],
    );
    let loss_severity = rate_or_lifetime(
        &loss,
        RateFloor {
            min_delta: 5,
            warning_per_s: 1.0,
            critical_per_s: Some(100.0),
        },
        LifetimeFloor {
            min_total: 1000,
            min_avg_per_s: 0.01,
        },
    );
    // Pruning and collapsing cost CPU but lose nothing: info, and only when heavy.
    let prune_severity = RateFloor {
        min_delta: 250,
        warning_per_s: 50.0,
        critical_per_s: None,
    }
    .judge(&prune_called)
    .map(|_| Severity::Info);
    let collapse_severity = RateFloor {
        min_delta: 25_000,
        warning_per_s: 5_000.0,
        critical_per_s: None,
    }
    .judge(&collapsed)
    .map(|_| Severity::Info);
    let Some(severity) = loss_severity.max(prune_severity).max(collapse_severity) else {
        return RuleOutcome::quiet();
    };
    let mut evidence = nonzero_evidence(&[&pruned, &qdrop, &ofo, &prune_called, &collapsed]);
    let rmem = window.sysctl("net.ipv4.tcp_rmem");
    evidence.extend(rmem.iter().map(|r| r.evidence()));
    let summary = format!(
        "{}. {}. {}.",
        describe(
            window,
            &loss,
            "received segments thrown away for lack of buffer"
        ),
        describe(window, &prune_called, "queue prunes"),
        describe(window, &collapsed, "packets collapsed in receive queues")
    );
    let mut finding = FindingText {
        id: "rcvbuf-pressure",
        title: if loss_severity.is_some() {
            "Receive buffers overflow: TCP data is thrown away and must be resent".to_string()
        } else {
            "Receive queues are compacted often: receivers are slow or buffers small".to_string()
        },
        summary,
        explanation: "When a socket's receive queue exceeds its buffer (SO_RCVBUF, or tcp_rmem \
            with autotuning) because the application reads too slowly, the kernel first collapses \
            queued packets to save memory (PruneCalled, TCPRcvCollapsed: CPU cost), then drops \
            out-of-order data (OfoPruned) and finally data it cannot keep (RcvPruned, \
            TCPRcvQDrop): the sender must retransmit and throughput collapses."
            .to_string(),
        remedy: strings(&[
            "Find the slow readers: `ss -tmn` — large `rb` with `d` (drops) growing, or Recv-Q staying high.",
            "Make the application read faster, or give it a bigger buffer (do not fix SO_RCVBUF in the application unless needed: it disables autotuning).",
            "Raise the autotuning ceiling: `sysctl -w net.ipv4.tcp_rmem=\"4096 131072 16777216\"` and `net.core.rmem_max=16777216`, persisted in /etc/sysctl.d/90-netdoctor.conf.",
        ]),
        references: strings(&[SNMP_DOC, IP_SYSCTL_DOC]),
    }
    .into_finding(severity, evidence, weight(&loss).max(weight(&prune_called)));
    if !qdrop.present() {
        finding.caveats.push(
            "TCPRcvQDrop is not in the data (kernels before about 5.1 lack it): drops when TCP \
             memory is exhausted are then invisible here."
                .to_string(),
        );
    }
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}

/// Parses tcp_mem into (min, pressure, max) pages.
fn tcp_mem(window: &Window) -> Option<(i64, i64, i64, Evidence)> {
    let reading = window.sysctl("net.ipv4.tcp_mem")?;
    match reading.numbers().as_slice() {
        [Some(min), Some(pressure), Some(max)] => Some((*min, *pressure, *max, reading.evidence())),
        _ => None,
    }
}

/// `tcp-memory-pressure`: TCP as a whole is short of memory (tcp_mem): buffers shrink and,
/// past the hard limit, connections are reset (TCPAbortOnMemory).
pub fn tcp_memory_pressure(window: &Window) -> RuleOutcome {
    let pressures = window.counter("TcpExtTCPMemoryPressures");
    let aborts = window.counter("TcpExtTCPAbortOnMemory");
    let mem_pages = window.after.sockstat_value("TCP", "mem");
    let limits = tcp_mem(window);
    if !pressures.present() && !aborts.present() && mem_pages.is_none() {
        return RuleOutcome::missing(
            "TcpExtTCPMemoryPressures, TCPAbortOnMemory and sockstat TCP mem (none in the data)",
        );
    }
    let mut severity: Option<Severity> = None;
    let mut reasons = Vec::new();
    if let (Some(mem), Some((_, pressure, max, _))) = (mem_pages, &limits) {
        if *max > 0 && mem as f64 >= 0.9 * *max as f64 {
            severity = severity.max(Some(Severity::Critical));
            reasons.push(format!(
                "TCP uses {} pages, at least 90% of the hard limit {} (tcp_mem[2]).",
                thousands(i128::from(mem)),
                thousands(i128::from(*max))
            ));
        } else if *pressure > 0 && mem >= *pressure {
            severity = severity.max(Some(Severity::Warning));
            reasons.push(format!(
                "TCP uses {} pages, over the pressure threshold {} (tcp_mem[1]).",
                thousands(i128::from(mem)),
                thousands(i128::from(*pressure))
            ));
        }
    }
    let event_floor = RateFloor {
        min_delta: 1,
        warning_per_s: 0.0,
        critical_per_s: None,
    };
    let abort_floor = RateFloor {
        min_delta: 1,
        warning_per_s: 0.0,
        critical_per_s: Some(10.0),
    };
    let pressure_now = event_floor.judge(&pressures);
    let abort_now = abort_floor.judge(&aborts);
    severity = severity.max(pressure_now).max(abort_now);
    let pressure_ever = LifetimeFloor {
        min_total: 10,
        min_avg_per_s: 0.0,
    }
    .notable(&pressures);
    let abort_ever = LifetimeFloor {
        min_total: 100,
        min_avg_per_s: 0.0,
    }
    .notable(&aborts);
    if severity.is_none() && (pressure_ever || abort_ever) {
        severity = Some(Severity::Info);
    }
    let Some(severity) = severity else {
        return RuleOutcome::quiet();
    };
    let mut evidence = counter_evidence(&[&pressures, &aborts]);
    if let Some(mem) = mem_pages {
        evidence.push(Evidence::Fact {
            label: "TCP memory in use (sockstat TCP mem, pages)".to_string(),
            value: thousands(i128::from(mem)),
        });
    }
    evidence.extend(limits.as_ref().map(|(_, _, _, e)| e.clone()));
    let mut summary = format!(
        "{}. {}.",
        describe(window, &pressures, "entries into TCP memory pressure"),
        describe(window, &aborts, "connections reset for lack of memory")
    );
    for r in &reasons {
        summary.push(' ');
        summary.push_str(r);
    }
    let mut finding = FindingText {
        id: "tcp-memory-pressure",
        title: "TCP is short of memory (tcp_mem): buffers shrink, connections may be reset"
            .to_string(),
        summary,
        explanation: "All TCP sockets together may use at most tcp_mem pages (three numbers: no \
            pressure below the first, pressure above the second, hard limit at the third). Under \
            pressure the kernel shrinks buffers (slower transfers); at the hard limit it refuses \
            memory, drops data and resets connections (TCPAbortOnMemory, \"TCP: out of memory -- \
            consider tuning tcp_mem\" in the kernel log). Causes: a socket hog with huge unread \
            queues, many connections with large buffers, or tcp_mem set too low (it is in pages, \
            not bytes)."
            .to_string(),
        remedy: strings(&[
            "Find the hog: `ss -tmn | sort -t: -k2 -rn` shows socket memory (skmem); look for large `r`/`t` values.",
            "Check the kernel log: `journalctl -k | grep -Ei 'out of memory|orphaned'`.",
            "If the limit is too low for the memory installed, raise it (pages!): e.g. `sysctl -w net.ipv4.tcp_mem=\"786432 1048576 1572864\"`, persisted in /etc/sysctl.d/90-netdoctor.conf.",
        ]),
        references: strings(&[IP_SYSCTL_DOC, SNMP_DOC]),
    }
    .into_finding(severity, evidence, weight(&aborts).max(weight(&pressures)));
    if limits.is_none() {
        finding.caveats.push(
            "net.ipv4.tcp_mem is not in the data: memory in use could not be compared with its \
             limits."
                .to_string(),
        );
    }
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}

/// `orphan-limit`: orphaned sockets (closed by the application, still finishing) approach
/// tcp_max_orphans, past which the kernel resets connections.
pub fn orphan_limit(window: &Window) -> RuleOutcome {
    let orphans = window.after.sockstat_value("TCP", "orphan");
    let max = window.sysctl("net.ipv4.tcp_max_orphans");
    let max_value = max.as_ref().and_then(|m| m.as_i64());
    let (Some(orphans), Some(limit)) = (orphans, max_value) else {
        let max_reason = window
            .after
            .sysctl
            .as_ref()
            .and_then(|v| v.key("net.ipv4.tcp_max_orphans"))
            .and_then(|k| k.live_missing.clone());
        let in_namespace = matches!(
            window.after.origin,
            crate::snapshot::Origin::Netns { .. } | crate::snapshot::Origin::Pid { .. }
        );
        let max_words = match max_reason {
            Some(_) if in_namespace => "sysctl net.ipv4.tcp_max_orphans (a host-wide setting: \
                                        not visible inside a network namespace)"
                .to_string(),
            Some(reason) => format!("sysctl net.ipv4.tcp_max_orphans ({reason})"),
            None => "sysctl net.ipv4.tcp_max_orphans (not in the data)".to_string(),
        };
        let mut missing = Vec::new();
        if orphans.is_none() {
            missing.push("sockstat TCP orphan (not in the data)".to_string());
        }
        if max_value.is_none() {
            missing.push(max_words);
        }
        return RuleOutcome::missing(missing.join(" and "));
    };
    if limit <= 0 {
        return RuleOutcome::quiet();
    }
    let share = orphans as f64 / limit as f64;
    // The kernel compares orphans shifted left by up to 2 (x4) for sockets under pressure, so a
    // quarter of the limit can already trigger resets.
    let severity = if share >= 0.5 {
        Severity::Critical
    } else if share >= 0.25 {
        Severity::Warning
    } else {
        return RuleOutcome::quiet();
    };
    let aborts = window.counter("TcpExtTCPAbortOnMemory");
    let mut evidence = vec![Evidence::Fact {
        label: "orphaned TCP sockets now (sockstat TCP orphan)".to_string(),
        value: thousands(i128::from(orphans)),
    }];
    evidence.extend(max.iter().map(|m| m.evidence()));
    evidence.extend(aborts.evidence());
    let finding = FindingText {
        id: "orphan-limit",
        title: "Orphaned TCP sockets approach tcp_max_orphans".to_string(),
        summary: format!(
            "{} orphaned sockets, {:.0}% of net.ipv4.tcp_max_orphans ({}). {}.",
            thousands(i128::from(orphans)),
            share * 100.0,
            thousands(i128::from(limit)),
            describe(window, &aborts, "connections reset for lack of memory or orphans")
        ),
        explanation: "An orphan is a socket the application has closed while the kernel still \
            finishes it (sending queued data, FIN_WAIT). Past tcp_max_orphans — counted up to \
            four times for sockets in trouble — the kernel resets them (TCPAbortOnMemory, \"TCP: \
            too many orphaned sockets\"). Many orphans mean peers that stop reading, or an \
            application closing connections with unsent data."
            .to_string(),
        remedy: strings(&[
            "See them: `ss -tn state fin-wait-1 state fin-wait-2 state closing state last-ack | head`.",
            "Shorten how long they live: `sysctl -w net.ipv4.tcp_orphan_retries=2` and `net.ipv4.tcp_fin_timeout=30`.",
            "If memory allows, raise the limit: `sysctl -w net.ipv4.tcp_max_orphans=262144` (each orphan can hold up to 64 KiB), persisted in /etc/sysctl.d/90-netdoctor.conf.",
        ]),
        references: strings(&[IP_SYSCTL_DOC]),
    }
    .into_finding(severity, evidence, share * 100.0);
    RuleOutcome::one(finding)
}
