//! Listen-path rules: the accept queue (`listen-overflow`), the SYN queue
//! (`syn-queue-overflow`), SYN cookies (`syn-flood`, `syncookies-failed`) and the part of
//! ListenDrops no known cause explains (`listen-drops-unexplained`).

use super::RuleOutcome;
use super::support::{
    FindingText, IP_SYSCTL_DOC, LifetimeFloor, RateFloor, SNMP_DOC, counter_evidence,
    derived_reading, describe, kernel, kernel_evidence, lifetime_caveat, rate_or_lifetime, strings,
    weight,
};
use crate::analyze::finding::{Evidence, Severity};
use crate::analyze::window::Window;
use crate::render::thousands;
use crate::snapshot::KernelVersion;
use crate::snapshot::sockets::Listener;

/// Drops of connection attempts: a few per second already mean users waiting on SYN
/// retransmits (1 s, 3 s, 7 s ...).
const DROP_FLOOR: RateFloor = RateFloor {
    min_delta: 5,
    warning_per_s: 1.0,
    critical_per_s: Some(20.0),
};

/// Lifetime drops worth an info line: a thousand, and on average at least one per 100 s.
const DROP_LIFETIME: LifetimeFloor = LifetimeFloor {
    min_total: 1000,
    min_avg_per_s: 0.01,
};

/// Listeners whose accept queue is at or over its limit right now.
fn full_listeners<'a>(window: &Window<'a>) -> Vec<&'a Listener> {
    window
        .after
        .sockets
        .as_ref()
        .map(|view| {
            view.listeners
                .iter()
                .filter(|l| l.backlog.is_some_and(|b| l.queue >= b && l.queue > 0))
                .collect()
        })
        .unwrap_or_default()
}

/// Why the socket table is missing, in words.
fn sockets_missing_reason(window: &Window) -> String {
    ["sock_diag", "proc_net_tcp", "sockets"]
        .iter()
        .find_map(|name| window.after.source(name).and_then(|s| s.missing_reason()))
        .map(|reason| format!("socket table not collected: {reason}"))
        .unwrap_or_else(|| "socket table not collected".to_string())
}

fn listener_evidence(listener: &Listener) -> Evidence {
    Evidence::Socket {
        local: listener.local.clone(),
        queue: Some(listener.queue),
        backlog: listener.backlog,
        capped_by_somaxconn: listener.capped_by_somaxconn,
        process: listener.process.clone(),
        detail: Some("accept queue at or over its limit".to_string()),
    }
}

/// `listen-overflow`: the accept queue of a listener is full, so the kernel drops SYNs or
/// final ACKs (TcpExtListenOverflows). Names each full listener and whether somaxconn capped
/// its backlog.
pub fn listen_overflow(window: &Window) -> RuleOutcome {
    let overflows = window.counter("TcpExtListenOverflows");
    let sockets = window.after.sockets.as_ref();
    if !overflows.present() && sockets.is_none() {
        return RuleOutcome::missing(format!(
            "TcpExtListenOverflows and the socket table ({})",
            sockets_missing_reason(window)
        ));
    }
    let full = full_listeners(window);
    let counter_severity = rate_or_lifetime(&overflows, DROP_FLOOR, DROP_LIFETIME);
    let severity = match (counter_severity, full.is_empty()) {
        (None, true) => return RuleOutcome::quiet(),
        // A listener full right now drops the next SYN: at least a warning.
        (Some(s), false) => s.max(Severity::Warning),
        (None, false) => Severity::Warning,
        (Some(s), true) => s,
    };

    let somaxconn = window.sysctl("net.core.somaxconn");
    let mut evidence = counter_evidence(&[&overflows]);
    let mut caveats = Vec::new();
    let listener_words = if let Some(view) = sockets {
        if full.is_empty() {
            format!(
                "No listener is at its limit at the moment of the sample ({} listeners seen): the \
                 overflow comes in bursts.",
                view.listeners.len()
            )
        } else {
            let names: Vec<String> = full
                .iter()
                .map(|l| {
                    let limit = l
                        .backlog
                        .map(|b| thousands(i128::from(b)))
                        .unwrap_or_else(|| "?".into());
                    let capped = match l.capped_by_somaxconn {
                        Some(true) => ", capped by net.core.somaxconn",
                        _ => "",
                    };
                    let who = l
                        .process
                        .as_deref()
                        .map(|p| format!(" ({p})"))
                        .unwrap_or_default();
                    format!(
                        "{}{who} holds {} of {limit}{capped}",
                        l.local,
                        thousands(i128::from(l.queue))
                    )
                })
                .collect();
            evidence.extend(full.iter().map(|l| listener_evidence(l)));
            format!("At its limit now: {}.", names.join("; "))
        }
    } else {
        caveats.push(format!(
            "The listener is unknown: {}. `ss -ltn` shows each listener's queue (Recv-Q) and \
             limit (Send-Q).",
            sockets_missing_reason(window)
        ));
        "Which listener overflows is unknown (no socket table).".to_string()
    };
    if let Some(s) = &somaxconn {
        evidence.push(s.evidence());
    }

    let any_capped = full.iter().any(|l| l.capped_by_somaxconn == Some(true));
    let mut remedy = strings(&[
        "Find the listener: `ss -ltnp` — a Recv-Q at or above its Send-Q means the accept queue is full.",
        "Make the application call accept() faster: more worker processes or threads, no blocking work in the accept loop.",
        "Raise the backlog the application passes to listen() (nginx: `listen 443 backlog=4096;`, many servers have a `backlog` setting).",
    ]);
    if any_capped || full.is_empty() {
        remedy.push(
            "The effective limit is min(listen backlog, net.core.somaxconn): raise both, e.g. \
             `sysctl -w net.core.somaxconn=4096` and persist it in /etc/sysctl.d/90-netdoctor.conf, \
             then restart the service (the limit is read at listen() time)."
                .to_string(),
        );
    }
    let old_default = kernel(window).is_some_and(|k| k < KernelVersion::new(5, 4))
        && somaxconn.as_ref().and_then(|s| s.as_i64()) == Some(128);
    if old_default {
        caveats.push(
            "net.core.somaxconn is 128, the default before Linux 5.4 (4096 since): every \
             listener asking for more is silently capped at 128."
                .to_string(),
        );
    }
    if kernel(window).is_some_and(|k| k < KernelVersion::new(4, 10)) {
        caveats.push(
            "Before Linux 4.10 a full accept queue did not always drop the SYN: the handshake \
             could complete and stall, so clients may see stalls rather than timeouts."
                .to_string(),
        );
    }
    caveats.extend(lifetime_caveat(window));

    let summary = format!(
        "{}. {listener_words}",
        describe(window, &overflows, "accept-queue overflows")
    );
    let mut finding = FindingText {
        id: "listen-overflow",
        title: "A listener's accept queue overflows: connection attempts are dropped".to_string(),
        summary,
        explanation: "A listening socket queues finished handshakes until the application calls \
            accept(). When that queue holds more than its limit (the smaller of the listen() \
            backlog and net.core.somaxconn), the kernel drops the SYN or the final ACK and counts \
            TcpExtListenOverflows (and ListenDrops). The client retransmits after 1, 3, 7 s ... \
            and finally times out: slow or failed connects while the service looks healthy."
            .to_string(),
        remedy,
        references: strings(&[
            SNMP_DOC,
            "https://blog.cloudflare.com/syn-packet-handling-in-the-wild/",
        ]),
    }
    .into_finding(severity, evidence, weight(&overflows) + full.len() as f64);
    finding.caveats = caveats;
    RuleOutcome::one(finding)
}

/// `syn-queue-overflow`: SYNs arrive faster than handshakes complete and the SYN queue is
/// full: dropped (TCPReqQFullDrop, cookies off) or answered with cookies (TCPReqQFullDoCookies).
pub fn syn_queue_overflow(window: &Window) -> RuleOutcome {
    let drop = window.counter("TcpExtTCPReqQFullDrop");
    let cookies = window.counter("TcpExtTCPReqQFullDoCookies");
    if !drop.present() && !cookies.present() {
        return RuleOutcome::missing(
            "TcpExtTCPReqQFullDrop and TcpExtTCPReqQFullDoCookies (not in the data; kernels \
             before about 3.10 lack them)",
        );
    }
    let drop_severity = rate_or_lifetime(&drop, DROP_FLOOR, DROP_LIFETIME);
    let cookie_floor = RateFloor {
        min_delta: 10,
        warning_per_s: 1.0,
        critical_per_s: None,
    };
    // Cookies keep connections working: only informational.
    let cookie_severity = cookie_floor.judge(&cookies).map(|_| Severity::Info);
    let Some(severity) = drop_severity.max(cookie_severity) else {
        return RuleOutcome::quiet();
    };
    let syncookies = window.sysctl("net.ipv4.tcp_syncookies");
    let max_syn_backlog = window.sysctl("net.ipv4.tcp_max_syn_backlog");
    let mut evidence = counter_evidence(&[&drop, &cookies]);
    evidence.extend(syncookies.iter().map(|s| s.evidence()));
    evidence.extend(max_syn_backlog.iter().map(|s| s.evidence()));
    let cookies_off = syncookies.as_ref().and_then(|s| s.as_i64()) == Some(0);
    let mut summary = format!(
        "{}. {}.",
        describe(window, &drop, "SYNs dropped with a full SYN queue"),
        describe(
            window,
            &cookies,
            "SYN-queue overflows answered with cookies"
        )
    );
    if cookies_off {
        summary.push_str(" net.ipv4.tcp_syncookies is 0, so a full SYN queue drops SYNs.");
    }
    let mut remedy = Vec::new();
    if cookies_off || drop_severity.is_some() {
        remedy.push(
            "Turn SYN cookies on: `sysctl -w net.ipv4.tcp_syncookies=1`, persisted in \
             /etc/sysctl.d/90-netdoctor.conf."
                .to_string(),
        );
    }
    remedy.extend(strings(&[
        "Raise the listener's listen() backlog (and net.core.somaxconn): since Linux 4.4 the SYN queue limit follows the accept-queue limit.",
        "With cookies off, net.ipv4.tcp_max_syn_backlog also bounds the queue: `sysctl -w net.ipv4.tcp_max_syn_backlog=8192`.",
        "If the SYNs are a flood, filter them upstream or rate-limit new connections (nft `limit rate`).",
    ]));
    let mut caveats = Vec::new();
    if kernel(window).is_some_and(|k| k < KernelVersion::new(4, 4)) {
        caveats.push(
            "On kernels before 4.4 the SYN queue was sized from min(backlog, \
             tcp_max_syn_backlog) rounded to a power of two; newer kernels use the listen \
             backlog."
                .to_string(),
        );
    }
    caveats.extend(lifetime_caveat(window));
    let mut finding = FindingText {
        id: "syn-queue-overflow",
        title: "The SYN queue overflows: handshakes are dropped or fall back to SYN cookies"
            .to_string(),
        summary,
        explanation: "Half-open connections (SYN received, SYN-ACK sent) wait in the listener's \
            SYN queue. When it is full, the kernel either answers with a SYN cookie (stateless; \
            TCPReqQFullDoCookies) or, with tcp_syncookies=0, drops the SYN (TCPReqQFullDrop, and \
            ListenDrops). A burst larger than the backlog, slow clients, or a SYN flood fill it."
            .to_string(),
        remedy,
        references: strings(&[SNMP_DOC, IP_SYSCTL_DOC]),
    }
    .into_finding(severity, evidence, weight(&drop).max(weight(&cookies)));
    finding.caveats = caveats;
    RuleOutcome::one(finding)
}

/// `syn-flood`: SyncookiesSent rising — the kernel is answering SYNs with cookies because a
/// listener's SYN queue is full (or cookies are forced with tcp_syncookies=2).
pub fn syn_flood(window: &Window) -> RuleOutcome {
    let sent = window.counter("TcpExtSyncookiesSent");
    if !sent.present() {
        return RuleOutcome::missing("TcpExtSyncookiesSent (not in the data)");
    }
    let recv = window.counter("TcpExtSyncookiesRecv");
    let failed = window.counter("TcpExtSyncookiesFailed");
    let floor = RateFloor {
        min_delta: 20,
        warning_per_s: 10.0,
        critical_per_s: Some(500.0),
    };
    let lifetime = LifetimeFloor {
        min_total: 10_000,
        min_avg_per_s: 0.1,
    };
    let syncookies = window.sysctl("net.ipv4.tcp_syncookies");
    let forced = syncookies.as_ref().and_then(|s| s.as_i64()) == Some(2);
    let Some(mut severity) = rate_or_lifetime(&sent, floor, lifetime) else {
        return RuleOutcome::quiet();
    };
    if forced {
        // With tcp_syncookies=2 every SYN is answered with a cookie: a rise is normal traffic.
        severity = Severity::Info;
    }
    let mut evidence = counter_evidence(&[&sent, &recv, &failed]);
    evidence.extend(syncookies.iter().map(|s| s.evidence()));
    let mut summary = format!(
        "{}; {}.",
        describe(window, &sent, "SYN cookies sent"),
        describe(window, &recv, "valid cookies returned")
    );
    if forced {
        summary.push_str(
            " net.ipv4.tcp_syncookies is 2: every SYN gets a cookie, so this is normal traffic.",
        );
    }
    let mut finding = FindingText {
        id: "syn-flood",
        title: "SYN cookies are being sent: a listener's SYN queue is full (SYN flood or burst)"
            .to_string(),
        summary,
        explanation: "The kernel sends SYN cookies only when a listener's SYN queue is full (or \
            when tcp_syncookies=2 forces them). A steady stream of cookies means more SYNs arrive \
            than the queue holds: a SYN flood, a burst of clients, or a backlog far too small. \
            Connections completed by cookie lose TCP options when timestamps are off. Compare \
            SyncookiesRecv (clients that came back) with SyncookiesSent: a flood of spoofed \
            SYNs gets few back."
            .to_string(),
        remedy: strings(&[
            "Look for the log line `possible SYN flooding on port N. Sending cookies.`: `journalctl -k | grep -i 'SYN flooding'` names the port.",
            "See half-open connections per listener: `ss -n state syn-recv | awk '{print $4}' | sort | uniq -c | sort -rn | head`.",
            "If legitimate, raise the listener's backlog and net.core.somaxconn; if a flood, filter upstream or rate-limit SYNs.",
        ]),
        references: strings(&[SNMP_DOC, "https://blog.cloudflare.com/syn-packet-handling-in-the-wild/"]),
    }
    .into_finding(severity, evidence, weight(&sent));
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}

/// `syncookies-failed`: ACKs that looked like answers to SYN cookies failed validation.
pub fn syncookies_failed(window: &Window) -> RuleOutcome {
    let failed = window.counter("TcpExtSyncookiesFailed");
    if !failed.present() {
        return RuleOutcome::missing("TcpExtSyncookiesFailed (not in the data)");
    }
    let sent = window.counter("TcpExtSyncookiesSent");
    let floor = RateFloor {
        min_delta: 5,
        warning_per_s: 1.0,
        critical_per_s: Some(100.0),
    };
    let Some(severity) = rate_or_lifetime(&failed, floor, DROP_LIFETIME) else {
        return RuleOutcome::quiet();
    };
    let no_cookies_now = sent.delta() == Some(0);
    let mut summary = format!(
        "{}.",
        describe(window, &failed, "invalid SYN cookies received")
    );
    if no_cookies_now && failed.delta().is_some_and(|d| d > 0) {
        summary.push_str(
            " No cookies were sent in the same window: these are stray or late ACKs, not \
             answers to a flood.",
        );
    }
    let mut caveats = vec![
        "What counts as an invalid cookie changed across kernels: older kernels counted more \
         stray ACKs to a listener here; recent ones only right after the listener overflowed \
         into cookie mode."
            .to_string(),
    ];
    caveats.extend(lifetime_caveat(window));
    let mut finding = FindingText {
        id: "syncookies-failed",
        title: "ACKs to a listener failed SYN-cookie validation".to_string(),
        summary,
        explanation: "An ACK reached a listening socket with no matching half-open connection, \
            while the listener had recently sent cookies, and the ACK's sequence number was not \
            a valid cookie. Typical causes: clients answering after their cookie expired, ACKs \
            of connections the server already forgot (TIME_WAIT sockets recycled early, \
            tcp_tw_recycle), or forged ACKs."
            .to_string(),
        remedy: strings(&[
            "Check for tcp_tw_recycle: `sysctl net.ipv4.tcp_tw_recycle` (kernels before 4.12) and remove it from /etc/sysctl.conf and /etc/sysctl.d/.",
            "If SYN cookies are being sent at the same time, treat it with the syn-flood finding (backlog, filtering).",
        ]),
        references: strings(&[SNMP_DOC]),
    }
    .into_finding(severity, counter_evidence(&[&failed, &sent]), weight(&failed));
    finding.caveats = caveats;
    RuleOutcome::one(finding)
}

/// `listen-drops-unexplained`: ListenDrops decomposed into its known causes; what is left
/// (memory, routing, LSM/BPF, PAWS with tw_recycle on old kernels) is reported.
pub fn listen_drops_unexplained(window: &Window) -> RuleOutcome {
    let drops = window.counter("TcpExtListenDrops");
    if !drops.present() {
        return RuleOutcome::missing("TcpExtListenDrops (not in the data)");
    }
    let parts = [
        (window.counter("TcpExtListenOverflows"), "accept queue full"),
        (
            window.counter("TcpExtTCPReqQFullDrop"),
            "SYN queue full, cookies off",
        ),
        (
            window.counter("TcpExtPAWSPassive"),
            "SYN rejected by the per-peer timestamp check (tcp_tw_recycle)",
        ),
        (
            window.counter("TcpExtTCPMigrateReqFailure"),
            "handshake lost while migrating to another reuseport listener",
        ),
    ];
    let explained_total: i128 = parts.iter().map(|(r, _)| r.total_or_zero()).sum();
    let left_total = drops.total.map(|t| (t - explained_total).max(0));
    let left_delta = drops.delta().and_then(|d| {
        parts
            .iter()
            .filter(|(r, _)| r.present())
            .map(|(r, _)| r.delta())
            .sum::<Option<i128>>()
            .map(|explained| (d - explained).max(0))
    });
    let left = derived_reading(
        "TcpExtListenDrops (unexplained part)",
        left_total,
        left_delta,
        &drops,
    );
    let Some(severity) = rate_or_lifetime(&left, DROP_FLOOR, DROP_LIFETIME) else {
        return RuleOutcome::quiet();
    };

    let mut breakdown = Vec::new();
    let mut absent = Vec::new();
    for (reading, cause) in &parts {
        match reading.total {
            Some(t) => breakdown.push(format!("{} {} ({cause})", thousands(t), reading.name)),
            None => absent.push(reading.name.clone()),
        }
    }
    let left_words = describe(window, &left, "drops no known counter explains");
    let mut summary = format!(
        "{}. Of {} ListenDrops in total: {}.",
        left_words,
        thousands(drops.total_or_zero()),
        if breakdown.is_empty() {
            "no explaining counter is in the data".to_string()
        } else {
            breakdown.join(", ")
        }
    );
    if !absent.is_empty() {
        summary.push_str(&format!(
            " Not in the data (counted as 0): {}.",
            absent.join(", ")
        ));
    }
    let overflows_total = parts[0].0.total_or_zero();
    if drops.total_or_zero() > 10 * overflows_total.max(1) {
        summary.push_str(
            " ListenDrops far above ListenOverflows is the fingerprint of SYNs dropped for \
             reasons other than a full accept queue.",
        );
    }
    let mut caveats = Vec::new();
    match kernel(window) {
        Some(k) if k < KernelVersion::new(4, 12) => caveats.push(format!(
            "Kernel {k} still has tcp_tw_recycle: with it on, SYNs from clients behind NAT are \
             rejected and counted here (and in PAWSPassive where the kernel prints it)."
        )),
        Some(k) => caveats.push(format!(
            "Kernel {k} has no tcp_tw_recycle (removed in 4.12), so it is not the cause here."
        )),
        None => caveats.push(
            "The kernel version is not in the data: on kernels before 4.12, tcp_tw_recycle \
             (PAWSPassive) is a likely cause of unexplained drops."
                .to_string(),
        ),
    }
    caveats.extend(lifetime_caveat(window));
    let mut evidence = counter_evidence(&[&drops]);
    evidence.extend(parts.iter().filter_map(|(r, _)| r.evidence()));
    evidence.extend(left.evidence());
    evidence.extend(kernel_evidence(window));
    let mut finding = FindingText {
        id: "listen-drops-unexplained",
        title: "Listening sockets drop SYNs for reasons other than a full queue".to_string(),
        summary,
        explanation: "ListenDrops counts every packet a listening socket throws away. A full \
            accept queue (ListenOverflows), a full SYN queue with cookies off (TCPReqQFullDrop) \
            and the tcp_tw_recycle timestamp check (PAWSPassive, old kernels) each add to it and \
            have their own counters. What is left comes from causes without one: no memory for \
            the request, no route back to the client for the SYN-ACK, a security module or BPF \
            program rejecting the connection, or failures creating the child socket."
            .to_string(),
        remedy: strings(&[
            "On kernels before 4.12: `sysctl net.ipv4.tcp_tw_recycle`; if 1, set it to 0 and delete the line from /etc/sysctl.conf or /etc/sysctl.d/*.conf.",
            "Check the route back to the clients: `ip route get CLIENT_IP` on the server.",
            "Watch where the kernel drops: `perf trace -e skb:kfree_skb` or `dropwatch -l kas` while the counter rises.",
            "Check memory: `grep -i 'out of memory' /var/log/kern.log`, and `cat /proc/net/sockstat`.",
        ]),
        references: strings(&[
            SNMP_DOC,
            "https://vincent.bernat.ch/en/blog/2014-tcp-time-wait-state-linux",
        ]),
    }
    .into_finding(severity, evidence, weight(&left));
    finding.caveats = caveats;
    RuleOutcome::one(finding)
}
