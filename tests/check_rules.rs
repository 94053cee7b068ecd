//! Rule tests from constructed snapshots: each rule fires with the right severity and
//! evidence; a healthy busy host stays quiet; lifetime-only windows never show a rate; the
//! story (tcp_tw_recycle behind NAT) comes out as one critical finding tying the drops to it.

use netdoctor::analyze::check::{CheckOptions, Status, run_check};
use netdoctor::analyze::rules::{self, RuleOutcome};
use netdoctor::analyze::window::{Change, Window};
use netdoctor::analyze::{Evidence, Finding, Severity};
use netdoctor::snapshot::sockets::{Listener, PortUsage, SocketView};
use netdoctor::snapshot::{
    Conntrack, Counter, HostFacts, Origin, Snapshot, SockstatLine, SoftnetCpu, SysctlAssignment,
    SysctlKey, SysctlView,
};

const MONTH_S: f64 = 30.0 * 86400.0;

fn section_of(name: &str) -> &'static str {
    for prefix in [
        "TcpExt",
        "IpExt",
        "Tcp",
        "Udp6",
        "UdpLite",
        "Udp",
        "Icmp6",
        "Icmp",
        "Ip6",
        "Ip",
        "Softnet",
        "Conntrack",
    ] {
        if name.starts_with(prefix) {
            return prefix;
        }
    }
    "Other"
}

/// A live-host snapshot with the given counters, kernel 6.1, up 30 days, at monotonic `t`.
fn snap(counters: &[(&str, i128)], t: f64) -> Snapshot {
    let mut s = Snapshot::new(Origin::Live);
    s.host = HostFacts {
        hostname: Some("web1".into()),
        kernel: Some("6.1.0-18-amd64".into()),
        uptime_s: Some(MONTH_S + t),
        cpus: Some(4),
        mem_bytes: Some(16 << 30),
        netns_inode: Some(4026531840),
        ..HostFacts::default()
    };
    s.monotonic_s = Some(MONTH_S + t);
    s.counters = counters
        .iter()
        .map(|(n, v)| Counter {
            name: n.to_string(),
            section: section_of(n).to_string(),
            value: *v,
        })
        .collect();
    s
}

/// The same counters with some increased by the given deltas, `secs` later.
fn later(base: &Snapshot, deltas: &[(&str, i128)], secs: f64) -> Snapshot {
    let mut s = base.clone();
    s.monotonic_s = base.monotonic_s.map(|t| t + secs);
    s.host.uptime_s = base.host.uptime_s.map(|t| t + secs);
    for (name, d) in deltas {
        match s.counters.iter_mut().find(|c| c.name == *name) {
            Some(c) => c.value += d,
            None => panic!("test setup: counter {name} not in the base snapshot"),
        }
    }
    s
}

fn sysctl_view(pairs: &[(&str, &str)]) -> SysctlView {
    SysctlView {
        loader: Some("test".into()),
        keys: pairs
            .iter()
            .map(|(k, v)| SysctlKey {
                key: k.to_string(),
                live: Some(v.to_string()),
                ..SysctlKey::default()
            })
            .collect(),
        ..SysctlView::default()
    }
}

/// Ports in use towards one destination (built field by field: the type may grow, and a
/// struct literal would stop compiling or trip `needless_update`).
#[allow(clippy::field_reassign_with_default)]
fn port_usage(local: &str, remote: &str, in_use: u64, available: u64) -> PortUsage {
    let mut usage = PortUsage::default();
    usage.local_addr = local.to_string();
    usage.remote = remote.to_string();
    usage.in_use = in_use;
    usage.available = Some(available);
    usage
}

fn outcome(id: &str, window: &Window) -> RuleOutcome {
    let rule = rules::rule(id).unwrap_or_else(|| panic!("rule {id} not registered"));
    (rule.evaluate)(window)
}

fn findings(id: &str, window: &Window) -> Vec<Finding> {
    match outcome(id, window) {
        RuleOutcome::Evaluated(f) => f,
        RuleOutcome::NotEvaluated { missing } => panic!("{id} not evaluated: {missing}"),
    }
}

fn one(id: &str, window: &Window) -> Finding {
    let mut f = findings(id, window);
    assert_eq!(f.len(), 1, "{id}: expected one finding, got {f:#?}");
    f.remove(0)
}

fn counter_evidence<'a>(f: &'a Finding, name: &str) -> &'a Evidence {
    f.evidence
        .iter()
        .find(|e| matches!(e, Evidence::Counter { name: n, .. } if n == name))
        .unwrap_or_else(|| panic!("{}: no evidence for {name}: {:#?}", f.id, f.evidence))
}

fn assert_counter(f: &Finding, name: &str, total: i128, delta: Option<i128>, rate: Option<f64>) {
    match counter_evidence(f, name) {
        Evidence::Counter {
            total: t,
            delta: d,
            per_second: ps,
            ..
        } => {
            assert_eq!(*t, total, "{name} total");
            assert_eq!(*d, delta, "{name} delta");
            match (ps, rate) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{name} rate {a} != {b}"),
                (None, None) => {}
                _ => panic!("{name} rate {ps:?}, expected {rate:?}"),
            }
        }
        _ => unreachable!(),
    }
}

/// Fires `id` on a 5-second window where `name` rose by `delta` from `total`.
fn fire(id: &str, base: &[(&str, i128)], deltas: &[(&str, i128)]) -> Finding {
    let before = snap(base, 0.0);
    let after = later(&before, deltas, 5.0);
    one(id, &Window::pair(&before, &after))
}

fn quiet(id: &str, base: &[(&str, i128)], deltas: &[(&str, i128)]) {
    let before = snap(base, 0.0);
    let after = later(&before, deltas, 5.0);
    let found = findings(id, &Window::pair(&before, &after));
    assert!(found.is_empty(), "{id} should stay quiet: {found:#?}");
}

// ---------------------------------------------------------------------------------------
// Window

#[test]
fn window_rates_resets_and_lifetime_average() {
    let before = snap(&[("TcpExtListenDrops", 1000), ("TcpInSegs", 500)], 0.0);
    let mut after = later(&before, &[("TcpExtListenDrops", 50)], 5.0);
    after.counters[1].value = 100; // went down: a reset
    let w = Window::pair(&before, &after);
    assert_eq!(w.elapsed_s(), Some(5.0));
    let drops = w.counter("TcpExtListenDrops");
    assert_eq!(drops.delta(), Some(50));
    assert_eq!(drops.per_second(), Some(10.0));
    let avg = drops.since_boot_per_second().expect("uptime known");
    assert!((avg - 1050.0 / (MONTH_S + 5.0)).abs() < 1e-9);
    let segs = w.counter("TcpInSegs");
    assert!(segs.was_reset());
    assert_eq!(segs.delta(), None);
    assert_eq!(segs.per_second(), None);
    assert_eq!(w.counter("TcpExtNope").change, Change::Absent);
}

#[test]
fn window_elapsed_falls_back_to_wall_clock_and_refuses_backwards_time() {
    let mut before = snap(&[("TcpInSegs", 1)], 0.0);
    let mut after = later(&before, &[("TcpInSegs", 9)], 2.0);
    before.monotonic_s = None;
    after.monotonic_s = None;
    before.collected_at_unix_s = Some(1000.0);
    after.collected_at_unix_s = Some(1004.0);
    assert_eq!(Window::pair(&before, &after).elapsed_s(), Some(4.0));
    after.collected_at_unix_s = Some(990.0);
    let w = Window::pair(&before, &after);
    assert_eq!(w.elapsed_s(), None);
    let r = w.counter("TcpInSegs");
    assert_eq!(r.delta(), Some(9));
    assert_eq!(r.per_second(), None, "no rate without a measured time");
}

#[test]
fn window_softnet_wraps_per_cpu() {
    let mut before = snap(&[("SoftnetDropped", i128::from(u32::MAX - 5) + 7)], 0.0);
    before.softnet = vec![
        SoftnetCpu {
            cpu: 0,
            cpu_from_column: true,
            dropped: u32::MAX - 5,
            ..SoftnetCpu::default()
        },
        SoftnetCpu {
            cpu: 1,
            cpu_from_column: true,
            dropped: 7,
            ..SoftnetCpu::default()
        },
    ];
    let mut after = before.clone();
    after.monotonic_s = before.monotonic_s.map(|t| t + 5.0);
    after.softnet[0].dropped = 4; // wrapped: +10
    after.softnet[1].dropped = 12; // +5
    after.counters[0].value = 16; // the naive sum went down
    let w = Window::pair(&before, &after);
    assert_eq!(w.counter("SoftnetDropped").delta(), Some(15));
    let per_cpu = w.softnet_per_cpu();
    assert_eq!(per_cpu[0].dropped, 10);
    assert_eq!(per_cpu[1].dropped, 5);
}

#[test]
fn window_has_no_lifetime_average_for_a_namespace() {
    let mut s = snap(&[("TcpExtListenDrops", 1000)], 0.0);
    s.origin = Origin::Netns {
        name: "blue".into(),
    };
    let w = Window::single(&s);
    assert_eq!(w.counter("TcpExtListenDrops").since_boot_per_second(), None);
}

// ---------------------------------------------------------------------------------------
// One test per rule

#[test]
fn listen_overflow_names_the_full_listener_and_somaxconn_cap() {
    let base = [("TcpExtListenOverflows", 100), ("TcpExtListenDrops", 100)];
    let mut before = snap(&base, 0.0);
    before.sysctl = Some(sysctl_view(&[("net.core.somaxconn", "128")]));
    let mut after = later(
        &before,
        &[("TcpExtListenOverflows", 250), ("TcpExtListenDrops", 250)],
        5.0,
    );
    after.sockets = Some(SocketView {
        method: "sock_diag".into(),
        listeners: vec![
            Listener {
                local: "0.0.0.0:8080".into(),
                queue: 129,
                backlog: Some(128),
                capped_by_somaxconn: Some(true),
                process: Some("app (pid 42)".into()),
                ..Listener::default()
            },
            Listener {
                local: "0.0.0.0:22".into(),
                queue: 0,
                backlog: Some(128),
                ..Listener::default()
            },
        ],
        ..SocketView::default()
    });
    let f = one("listen-overflow", &Window::pair(&before, &after));
    assert_eq!(f.severity, Severity::Critical, "50/s is critical");
    assert_counter(&f, "TcpExtListenOverflows", 350, Some(250), Some(50.0));
    assert!(f.summary.contains("0.0.0.0:8080"), "{}", f.summary);
    assert!(!f.summary.contains("0.0.0.0:22"), "{}", f.summary);
    let socket = f
        .evidence
        .iter()
        .find_map(|e| match e {
            Evidence::Socket {
                local,
                capped_by_somaxconn,
                ..
            } => Some((local.clone(), *capped_by_somaxconn)),
            _ => None,
        })
        .expect("socket evidence");
    assert_eq!(socket, ("0.0.0.0:8080".to_string(), Some(true)));
}

#[test]
fn listen_overflow_from_counters_alone_says_the_listener_is_unknown() {
    let f = fire(
        "listen-overflow",
        &[("TcpExtListenOverflows", 0)],
        &[("TcpExtListenOverflows", 20)],
    );
    assert_eq!(f.severity, Severity::Warning, "4/s is a warning");
    assert!(f.summary.contains("unknown"), "{}", f.summary);
    assert!(f.caveats.iter().any(|c| c.contains("listener is unknown")));
}

#[test]
fn listen_overflow_not_evaluated_without_counter_or_sockets() {
    let s = snap(&[("TcpInSegs", 1)], 0.0);
    assert!(matches!(
        outcome("listen-overflow", &Window::single(&s)),
        RuleOutcome::NotEvaluated { .. }
    ));
}

#[test]
fn syn_queue_overflow_fires_on_drops_with_cookies_off() {
    let base = [
        ("TcpExtTCPReqQFullDrop", 0),
        ("TcpExtTCPReqQFullDoCookies", 0),
    ];
    let mut before = snap(&base, 0.0);
    before.sysctl = Some(sysctl_view(&[("net.ipv4.tcp_syncookies", "0")]));
    let after = later(&before, &[("TcpExtTCPReqQFullDrop", 500)], 5.0);
    let f = one("syn-queue-overflow", &Window::pair(&before, &after));
    assert_eq!(f.severity, Severity::Critical);
    assert_counter(&f, "TcpExtTCPReqQFullDrop", 500, Some(500), Some(100.0));
    assert!(f.summary.contains("tcp_syncookies is 0"));
    assert!(f.remedy.iter().any(|r| r.contains("tcp_syncookies=1")));
}

#[test]
fn syn_queue_overflow_with_cookies_is_info() {
    let f = fire(
        "syn-queue-overflow",
        &[
            ("TcpExtTCPReqQFullDrop", 0),
            ("TcpExtTCPReqQFullDoCookies", 0),
        ],
        &[("TcpExtTCPReqQFullDoCookies", 100)],
    );
    assert_eq!(f.severity, Severity::Info);
}

#[test]
fn syn_flood_fires_on_cookie_rate_and_is_info_when_cookies_are_forced() {
    let base = [
        ("TcpExtSyncookiesSent", 0),
        ("TcpExtSyncookiesRecv", 0),
        ("TcpExtSyncookiesFailed", 0),
    ];
    let f = fire("syn-flood", &base, &[("TcpExtSyncookiesSent", 5000)]);
    assert_eq!(f.severity, Severity::Critical, "1000/s");
    assert_counter(&f, "TcpExtSyncookiesSent", 5000, Some(5000), Some(1000.0));

    let mut before = snap(&base, 0.0);
    before.sysctl = Some(sysctl_view(&[("net.ipv4.tcp_syncookies", "2")]));
    let after = later(&before, &[("TcpExtSyncookiesSent", 5000)], 5.0);
    assert_eq!(
        one("syn-flood", &Window::pair(&before, &after)).severity,
        Severity::Info
    );
}

#[test]
fn syncookies_failed_fires_and_notes_no_cookies_sent() {
    let f = fire(
        "syncookies-failed",
        &[
            ("TcpExtSyncookiesFailed", 7_008_728),
            ("TcpExtSyncookiesSent", 10),
        ],
        &[("TcpExtSyncookiesFailed", 50)],
    );
    assert_eq!(f.severity, Severity::Warning);
    assert_counter(
        &f,
        "TcpExtSyncookiesFailed",
        7_008_778,
        Some(50),
        Some(10.0),
    );
    assert!(f.summary.contains("stray or late ACKs"), "{}", f.summary);
}

#[test]
fn listen_drops_unexplained_decomposes_and_reports_the_rest() {
    let f = fire(
        "listen-drops-unexplained",
        &[
            ("TcpExtListenDrops", 1000),
            ("TcpExtListenOverflows", 900),
            ("TcpExtTCPReqQFullDrop", 50),
        ],
        &[
            ("TcpExtListenDrops", 300),
            ("TcpExtListenOverflows", 100),
            ("TcpExtTCPReqQFullDrop", 0),
        ],
    );
    // 300 - 100 - 0 = 200 unexplained in 5 s = 40/s: critical.
    assert_eq!(f.severity, Severity::Critical);
    assert_counter(
        &f,
        "TcpExtListenDrops (unexplained part)",
        1300 - 1000 - 50,
        Some(200),
        Some(40.0),
    );
    assert!(f.summary.contains("TcpExtListenOverflows"), "{}", f.summary);
    assert!(
        f.summary.contains("TcpExtPAWSPassive"),
        "absent counters named"
    );
    assert!(f.caveats.iter().any(|c| c.contains("4.12")));
}

#[test]
fn listen_drops_fully_explained_stay_quiet() {
    quiet(
        "listen-drops-unexplained",
        &[("TcpExtListenDrops", 1000), ("TcpExtListenOverflows", 1000)],
        &[("TcpExtListenDrops", 300), ("TcpExtListenOverflows", 300)],
    );
}

#[test]
fn paws_rejects_fires_on_a_share_of_segments() {
    let f = fire(
        "paws-rejects",
        &[
            ("TcpExtPAWSEstab", 0),
            ("TcpExtPAWSActive", 0),
            ("TcpInSegs", 0),
        ],
        &[("TcpExtPAWSEstab", 500), ("TcpInSegs", 10_000)],
    );
    assert_eq!(f.severity, Severity::Warning);
    assert_counter(&f, "TcpExtPAWSEstab", 500, Some(500), Some(100.0));
    // The same rejects among a million segments are noise.
    quiet(
        "paws-rejects",
        &[
            ("TcpExtPAWSEstab", 0),
            ("TcpExtPAWSActive", 0),
            ("TcpInSegs", 0),
        ],
        &[("TcpExtPAWSEstab", 500), ("TcpInSegs", 1_000_000)],
    );
}

#[test]
fn tw_recycle_live_on_old_kernel_is_critical_and_ties_consequences() {
    let mut before = snap(
        &[
            ("TcpExtListenDrops", 1_000_000),
            ("TcpExtListenOverflows", 10),
            ("TcpExtSyncookiesFailed", 5000),
            ("TcpExtPAWSPassive", 999_000),
        ],
        0.0,
    );
    before.host.kernel = Some("3.10.0-1160.el7.x86_64".into());
    before.sysctl = Some(sysctl_view(&[
        ("net.ipv4.tcp_tw_recycle", "1"),
        ("net.ipv4.tcp_timestamps", "1"),
    ]));
    let after = later(
        &before,
        &[("TcpExtListenDrops", 700), ("TcpExtPAWSPassive", 700)],
        5.0,
    );
    let f = one("tw-recycle", &Window::pair(&before, &after));
    assert_eq!(f.severity, Severity::Critical);
    assert_counter(&f, "TcpExtPAWSPassive", 999_700, Some(700), Some(140.0));
    assert!(f.explanation.contains("ListenDrops"));
    assert!(f.explanation.contains("SyncookiesFailed"));
    assert!(f.remedy.iter().any(|r| r.contains("tcp_tw_recycle=0")));
}

#[test]
fn tw_recycle_counter_side_alone_fires_without_sysctls() {
    let f = fire(
        "tw-recycle",
        &[("TcpExtPAWSPassive", 0), ("TcpExtListenDrops", 0)],
        &[("TcpExtPAWSPassive", 20), ("TcpExtListenDrops", 20)],
    );
    assert_eq!(f.severity, Severity::Critical, "4/s rejected SYNs");
    assert!(f.caveats.iter().any(|c| c.contains("not read")));
}

#[test]
fn tw_recycle_configured_on_new_kernel_is_dead_config_info() {
    let mut s = snap(&[("TcpExtListenDrops", 5)], 0.0);
    s.sysctl = Some(SysctlView {
        keys: vec![SysctlKey {
            key: "net.ipv4.tcp_tw_recycle".into(),
            live: None,
            live_missing: Some("no such key on this kernel".into()),
            configured: Some(SysctlAssignment {
                value: "1".into(),
                file: "/etc/sysctl.conf".into(),
                line: 12,
                ..SysctlAssignment::default()
            }),
            ..SysctlKey::default()
        }],
        ..SysctlView::default()
    });
    let f = one("tw-recycle", &Window::single(&s));
    assert_eq!(f.severity, Severity::Info);
    assert!(f.summary.contains("dead configuration"), "{}", f.summary);
}

#[test]
fn tw_recycle_quiet_when_kernel_rules_it_out() {
    // Kernel 6.1, no sysctl data, no PAWSPassive: tcp_tw_recycle cannot exist.
    let s = snap(&[("TcpExtListenDrops", 5)], 0.0);
    assert_eq!(
        outcome("tw-recycle", &Window::single(&s)),
        RuleOutcome::Evaluated(Vec::new())
    );
    let mut old = s.clone();
    old.host.kernel = Some("4.4.0".into());
    assert!(matches!(
        outcome("tw-recycle", &Window::single(&old)),
        RuleOutcome::NotEvaluated { .. }
    ));
}

#[test]
fn timewait_overflow_fires_with_bucket_limit() {
    let mut before = snap(&[("TcpExtTCPTimeWaitOverflow", 0)], 0.0);
    before.sockstat = vec![SockstatLine {
        protocol: "TCP".into(),
        fields: vec![("inuse".into(), 10), ("tw".into(), 4096)],
    }];
    before.sysctl = Some(sysctl_view(&[("net.ipv4.tcp_max_tw_buckets", "4096")]));
    let after = later(&before, &[("TcpExtTCPTimeWaitOverflow", 100)], 5.0);
    let f = one("timewait-overflow", &Window::pair(&before, &after));
    assert_eq!(f.severity, Severity::Warning);
    assert_counter(&f, "TcpExtTCPTimeWaitOverflow", 100, Some(100), Some(20.0));
    assert!(f.summary.contains("4,096"), "{}", f.summary);
}

#[test]
fn port_exhaustion_names_the_destination() {
    let mut s = snap(&[("TcpActiveOpens", 1)], 0.0);
    s.sockets = Some(SocketView {
        method: "sock_diag".into(),
        port_usage: vec![
            port_usage("10.0.0.2", "10.0.0.9:5432", 27_000, 28_232),
            port_usage("10.0.0.2", "10.0.0.7:443", 200, 28_232),
        ],
        ..SocketView::default()
    });
    let f = one("port-exhaustion", &Window::single(&s));
    assert_eq!(f.severity, Severity::Critical, "96% in use");
    assert!(f.title.contains("10.0.0.9:5432"));
    assert!(!f.summary.contains("10.0.0.7:443"));
}

#[test]
fn rcvbuf_pressure_fires_on_data_loss_and_stays_info_on_collapse() {
    let base = [
        ("TcpExtRcvPruned", 0),
        ("TcpExtTCPRcvQDrop", 0),
        ("TcpExtOfoPruned", 0),
        ("TcpExtPruneCalled", 0),
        ("TcpExtTCPRcvCollapsed", 0),
    ];
    let f = fire(
        "rcvbuf-pressure",
        &base,
        &[("TcpExtTCPRcvQDrop", 50), ("TcpExtPruneCalled", 60)],
    );
    assert_eq!(f.severity, Severity::Warning, "10/s lost");
    assert_counter(&f, "TcpExtTCPRcvQDrop", 50, Some(50), Some(10.0));
    let f = fire(
        "rcvbuf-pressure",
        &base,
        &[
            ("TcpExtPruneCalled", 1000),
            ("TcpExtTCPRcvCollapsed", 40_000),
        ],
    );
    assert_eq!(f.severity, Severity::Info);
}

#[test]
fn tcp_memory_pressure_compares_sockstat_with_tcp_mem() {
    let mut s = snap(
        &[
            ("TcpExtTCPMemoryPressures", 0),
            ("TcpExtTCPAbortOnMemory", 0),
        ],
        0.0,
    );
    s.sockstat = vec![SockstatLine {
        protocol: "TCP".into(),
        fields: vec![("inuse".into(), 10), ("mem".into(), 95_000)],
    }];
    s.sysctl = Some(sysctl_view(&[("net.ipv4.tcp_mem", "50000 80000 100000")]));
    let f = one("tcp-memory-pressure", &Window::single(&s));
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.summary.contains("95,000"), "{}", f.summary);
    // Aborts rising without sockstat/tcp_mem: at least a warning.
    let f = fire(
        "tcp-memory-pressure",
        &[
            ("TcpExtTCPMemoryPressures", 0),
            ("TcpExtTCPAbortOnMemory", 0),
        ],
        &[("TcpExtTCPAbortOnMemory", 3)],
    );
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.caveats.iter().any(|c| c.contains("tcp_mem")));
}

#[test]
fn orphan_limit_fires_on_share_of_the_limit() {
    let mut s = snap(&[("TcpExtTCPAbortOnMemory", 0)], 0.0);
    s.sockstat = vec![SockstatLine {
        protocol: "TCP".into(),
        fields: vec![("orphan".into(), 20_000)],
    }];
    s.sysctl = Some(sysctl_view(&[("net.ipv4.tcp_max_orphans", "32768")]));
    let f = one("orphan-limit", &Window::single(&s));
    assert_eq!(f.severity, Severity::Critical, "61% of the limit");
    // Without the sysctl the rule says what it lacked.
    s.sysctl = None;
    match outcome("orphan-limit", &Window::single(&s)) {
        RuleOutcome::NotEvaluated { missing } => assert!(missing.contains("tcp_max_orphans")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn conntrack_full_fires_on_fill_and_on_drops() {
    let mut s = snap(&[("ConntrackDrop", 0), ("ConntrackEarlyDrop", 0)], 0.0);
    s.conntrack = Some(Conntrack {
        count: Some(255_000),
        max: Some(262_144),
        ..Conntrack::default()
    });
    let f = one("conntrack-full", &Window::single(&s));
    assert_eq!(f.severity, Severity::Critical, "97% full");
    let f = fire(
        "conntrack-full",
        &[("ConntrackDrop", 0), ("ConntrackEarlyDrop", 0)],
        &[("ConntrackDrop", 40), ("ConntrackEarlyDrop", 10)],
    );
    assert_eq!(f.severity, Severity::Critical, "10/s dropped");
    assert_counter(&f, "ConntrackDrop", 40, Some(40), Some(8.0));
}

#[test]
fn conntrack_not_loaded_is_not_evaluated() {
    let s = snap(&[("TcpInSegs", 1)], 0.0);
    assert!(matches!(
        outcome("conntrack-full", &Window::single(&s)),
        RuleOutcome::NotEvaluated { .. }
    ));
    assert!(matches!(
        outcome("conntrack-insert-failed", &Window::single(&s)),
        RuleOutcome::NotEvaluated { .. }
    ));
}

#[test]
fn conntrack_insert_failed_fires() {
    let f = fire(
        "conntrack-insert-failed",
        &[("ConntrackInsertFailed", 0), ("ConntrackClashres", 0)],
        &[("ConntrackInsertFailed", 25)],
    );
    assert_eq!(f.severity, Severity::Warning);
    assert_counter(&f, "ConntrackInsertFailed", 25, Some(25), Some(5.0));
}

fn softnet_rows(dropped: [u32; 2], squeeze: [u32; 2]) -> Vec<SoftnetCpu> {
    (0..2)
        .map(|i| SoftnetCpu {
            cpu: i as u32,
            cpu_from_column: true,
            processed: 1_000_000,
            dropped: dropped[i],
            time_squeeze: squeeze[i],
            ..SoftnetCpu::default()
        })
        .collect()
}

#[test]
fn softnet_drops_names_the_cpu_and_squeeze_is_apart() {
    let mut before = snap(&[("SoftnetDropped", 0), ("SoftnetTimeSqueeze", 0)], 0.0);
    before.softnet = softnet_rows([0, 0], [0, 0]);
    let mut after = later(
        &before,
        &[("SoftnetDropped", 600), ("SoftnetTimeSqueeze", 1000)],
        5.0,
    );
    after.softnet = softnet_rows([0, 600], [500, 500]);
    let w = Window::pair(&before, &after);
    let f = one("softnet-drops", &w);
    assert_eq!(f.severity, Severity::Critical, "120/s dropped");
    assert!(f.summary.contains("CPU 1 600"), "{}", f.summary);
    assert!(!f.summary.contains("CPU 0 "), "{}", f.summary);
    assert!(!f.summary.to_lowercase().contains("squeeze"));
    let squeeze = one("softnet-squeeze", &w);
    assert_eq!(
        squeeze.severity,
        Severity::Info,
        "time_squeeze is never a loss"
    );
}

#[test]
fn softnet_squeeze_alone_is_never_more_than_info() {
    let mut before = snap(&[("SoftnetDropped", 0), ("SoftnetTimeSqueeze", 0)], 0.0);
    before.softnet = softnet_rows([0, 0], [0, 0]);
    let mut after = later(&before, &[("SoftnetTimeSqueeze", 100_000)], 5.0);
    after.softnet = softnet_rows([0, 0], [50_000, 50_000]);
    let w = Window::pair(&before, &after);
    assert!(findings("softnet-drops", &w).is_empty());
    assert_eq!(one("softnet-squeeze", &w).severity, Severity::Info);
}

#[test]
fn udp_rcvbuf_errors_sum_v4_and_v6() {
    let f = fire(
        "udp-rcvbuf-errors",
        &[
            ("UdpRcvbufErrors", 10),
            ("Udp6RcvbufErrors", 0),
            ("UdpMemErrors", 0),
        ],
        &[("UdpRcvbufErrors", 300), ("Udp6RcvbufErrors", 300)],
    );
    assert_eq!(f.severity, Severity::Critical, "120/s");
    assert_counter(&f, "UdpRcvbufErrors", 310, Some(300), Some(60.0));
    assert_counter(&f, "Udp6RcvbufErrors", 300, Some(300), Some(60.0));
}

#[test]
fn udp_sndbuf_errors_fire() {
    let f = fire(
        "udp-sndbuf-errors",
        &[("UdpSndbufErrors", 0), ("Udp6SndbufErrors", 0)],
        &[("UdpSndbufErrors", 20)],
    );
    assert_eq!(f.severity, Severity::Warning);
    assert_counter(&f, "UdpSndbufErrors", 20, Some(20), Some(4.0));
}

#[test]
fn tcp_retransmits_judge_the_share_with_a_traffic_floor() {
    let base = [
        ("TcpRetransSegs", 0),
        ("TcpOutSegs", 0),
        ("TcpExtTCPSynRetrans", 0),
    ];
    let f = fire(
        "tcp-retransmits",
        &base,
        &[("TcpRetransSegs", 600), ("TcpOutSegs", 10_000)],
    );
    assert_eq!(f.severity, Severity::Warning, "6%");
    assert!(f.summary.contains("6.0%"), "{}", f.summary);
    // 60% of 100 segments: too little traffic to judge.
    quiet(
        "tcp-retransmits",
        &base,
        &[("TcpRetransSegs", 60), ("TcpOutSegs", 100)],
    );
    let f = fire("tcp-retransmits", &base, &[("TcpExtTCPSynRetrans", 20)]);
    assert_eq!(f.severity, Severity::Warning, "SYN retransmits 4/s");
}

#[test]
fn tcp_retransmits_count_handshakes_apart_and_defer_to_local_listen_drops() {
    // What the lab's listen-overflow scenario showed: clients on this host retry SYNs to its
    // own full listener. RetransSegs includes those SYNs, so the data share is 0 % and the
    // handshake retries are context for the listen finding, not a path problem.
    let base = [
        ("TcpRetransSegs", 0),
        ("TcpOutSegs", 0),
        ("TcpExtTCPSynRetrans", 0),
        ("TcpExtListenDrops", 0),
    ];
    let f = fire(
        "tcp-retransmits",
        &base,
        &[
            ("TcpRetransSegs", 270),
            ("TcpOutSegs", 1_500),
            ("TcpExtTCPSynRetrans", 270),
            ("TcpExtListenDrops", 280),
        ],
    );
    assert_eq!(f.severity, Severity::Info, "{}", f.summary);
    assert!(
        f.caveats.iter().any(|c| c.contains("its own clients")),
        "{:?}",
        f.caveats
    );
    // Data retransmissions are judged without the SYN part: 600 + 300 SYNs of 10,000 is 6 %.
    let f = fire(
        "tcp-retransmits",
        &base,
        &[
            ("TcpRetransSegs", 900),
            ("TcpOutSegs", 10_000),
            ("TcpExtTCPSynRetrans", 300),
            ("TcpExtListenDrops", 1),
        ],
    );
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.summary.contains("6.0%"), "{}", f.summary);
}

#[test]
fn rp_filter_drops_fire_with_the_setting() {
    let mut before = snap(&[("TcpExtIPReversePathFilter", 0)], 0.0);
    before.sysctl = Some(sysctl_view(&[
        ("net.ipv4.conf.all.rp_filter", "1"),
        ("net.ipv4.conf.eth1.rp_filter", "0"),
    ]));
    let after = later(&before, &[("TcpExtIPReversePathFilter", 50)], 5.0);
    let f = one("rp-filter-drops", &Window::pair(&before, &after));
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.evidence.iter().any(
        |e| matches!(e, Evidence::Sysctl { key, .. } if key == "net.ipv4.conf.all.rp_filter")
    ));
    assert!(!f.evidence.iter().any(
        |e| matches!(e, Evidence::Sysctl { key, .. } if key == "net.ipv4.conf.eth1.rp_filter")
    ));
}

#[test]
fn checksum_errors_fire() {
    let f = fire(
        "checksum-errors",
        &[("TcpInCsumErrors", 0), ("UdpInCsumErrors", 0)],
        &[("TcpInCsumErrors", 30)],
    );
    assert_eq!(f.severity, Severity::Warning);
    assert_counter(&f, "TcpInCsumErrors", 30, Some(30), Some(6.0));
}

// ---------------------------------------------------------------------------------------
// Whole-check properties

/// A month-old busy web server: millions of segments, a little of everything that is normal.
fn busy_healthy_base() -> Vec<(&'static str, i128)> {
    vec![
        ("TcpActiveOpens", 2_000_000),
        ("TcpPassiveOpens", 90_000_000),
        ("TcpInSegs", 9_000_000_000),
        ("TcpOutSegs", 9_500_000_000),
        ("TcpRetransSegs", 20_000_000),
        ("TcpInCsumErrors", 3),
        ("TcpExtListenOverflows", 40),
        ("TcpExtListenDrops", 41),
        ("TcpExtTCPReqQFullDrop", 0),
        ("TcpExtTCPReqQFullDoCookies", 0),
        ("TcpExtSyncookiesSent", 0),
        ("TcpExtSyncookiesRecv", 0),
        ("TcpExtSyncookiesFailed", 12),
        ("TcpExtPAWSEstab", 3000),
        ("TcpExtPAWSActive", 0),
        ("TcpExtTCPTimeWaitOverflow", 0),
        ("TcpExtRcvPruned", 0),
        ("TcpExtTCPRcvQDrop", 0),
        ("TcpExtOfoPruned", 0),
        ("TcpExtPruneCalled", 4000),
        ("TcpExtTCPRcvCollapsed", 90_000),
        ("TcpExtTCPMemoryPressures", 0),
        ("TcpExtTCPAbortOnMemory", 0),
        ("TcpExtTCPSynRetrans", 20_000),
        ("TcpExtIPReversePathFilter", 0),
        ("UdpRcvbufErrors", 5),
        ("Udp6RcvbufErrors", 0),
        ("UdpSndbufErrors", 0),
        ("UdpInCsumErrors", 0),
        ("SoftnetDropped", 0),
        ("SoftnetTimeSqueeze", 30_000),
        ("ConntrackInsertFailed", 2),
        ("ConntrackDrop", 0),
        ("ConntrackEarlyDrop", 0),
        ("ConntrackClashres", 10),
    ]
}

fn busy_healthy_pair() -> (Snapshot, Snapshot) {
    let mut before = snap(&busy_healthy_base(), 0.0);
    before.softnet = softnet_rows([0, 0], [15_000, 15_000]);
    before.sockstat = vec![SockstatLine {
        protocol: "TCP".into(),
        fields: vec![
            ("inuse".into(), 3000),
            ("orphan".into(), 40),
            ("tw".into(), 9000),
            ("alloc".into(), 3100),
            ("mem".into(), 2000),
        ],
    }];
    before.conntrack = Some(Conntrack {
        count: Some(30_000),
        max: Some(262_144),
        ..Conntrack::default()
    });
    before.sysctl = Some(sysctl_view(&[
        ("net.ipv4.tcp_mem", "188418 251224 376836"),
        ("net.ipv4.tcp_max_orphans", "65536"),
        ("net.core.somaxconn", "4096"),
        ("net.ipv4.tcp_syncookies", "1"),
        ("net.ipv4.tcp_timestamps", "1"),
    ]));
    before.sockets = Some(SocketView {
        method: "sock_diag".into(),
        listeners: vec![Listener {
            local: "0.0.0.0:443".into(),
            queue: 3,
            backlog: Some(4096),
            ..Listener::default()
        }],
        port_usage: vec![port_usage("10.0.0.2", "10.0.0.9:5432", 300, 28_232)],
        ..SocketView::default()
    });
    // 5 s of a busy, healthy server: 10k segments/s each way, 0.2% retransmits, a few
    // PAWS rejects, some collapsing, a little time_squeeze, no drops.
    let mut after = later(
        &before,
        &[
            ("TcpActiveOpens", 50),
            ("TcpPassiveOpens", 5000),
            ("TcpInSegs", 50_000),
            ("TcpOutSegs", 52_000),
            ("TcpRetransSegs", 100),
            ("TcpExtPAWSEstab", 2),
            ("TcpExtPruneCalled", 3),
            ("TcpExtTCPRcvCollapsed", 150),
            ("TcpExtTCPSynRetrans", 2),
            ("SoftnetTimeSqueeze", 20),
        ],
        5.0,
    );
    after.softnet = softnet_rows([0, 0], [15_010, 15_010]);
    (before, after)
}

#[test]
fn a_busy_healthy_host_stays_quiet() {
    let (before, after) = busy_healthy_pair();
    let report = run_check(&Window::pair(&before, &after), &CheckOptions::default());
    assert!(
        report.findings.is_empty(),
        "a healthy busy host must produce no finding: {:#?}",
        report.findings
    );
    assert_eq!(report.status, Status::Ok);
    assert_eq!(report.exit_code(), 0);
    // Lifetime only: still quiet.
    let report = run_check(&Window::single(&after), &CheckOptions::default());
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

/// A host with big lifetime totals of everything, judged from one sample.
fn troubled_lifetime_snapshot() -> Snapshot {
    let counters: Vec<(&str, i128)> = busy_healthy_base()
        .into_iter()
        .map(|(n, v)| {
            (
                n,
                if n.starts_with("TcpOut") || n.starts_with("TcpIn") {
                    v
                } else {
                    v * 1000 + 100_000
                },
            )
        })
        .chain([("TcpExtPAWSPassive", 5_000_000)])
        .collect();
    let mut s = snap(&counters, 0.0);
    s.softnet = softnet_rows([100_000, 50_000], [1, 1]);
    s
}

#[test]
fn lifetime_only_windows_never_show_rates() {
    let s = troubled_lifetime_snapshot();
    let report = run_check(&Window::single(&s), &CheckOptions::default());
    assert!(
        !report.findings.is_empty(),
        "lifetime totals give info lines"
    );
    assert_eq!(report.window_s, None);
    for f in &report.findings {
        for e in &f.evidence {
            if let Evidence::Counter {
                name,
                delta,
                per_second,
                ..
            } = e
            {
                assert_eq!(*delta, None, "{}: {name} has a delta", f.id);
                assert_eq!(*per_second, None, "{}: {name} has a rate", f.id);
            }
        }
        assert!(!f.summary.contains("right now"), "{}: {}", f.id, f.summary);
        assert!(
            f.severity == Severity::Info || f.id == "tw-recycle",
            "{} is {} from lifetime totals alone",
            f.id,
            f.severity
        );
    }
    let text = netdoctor::render::check::human(&report, netdoctor::render::Style::plain());
    assert!(!text.contains("right now"));
    assert!(text.contains("no current rate"));
}

#[test]
fn lifetime_total_is_reported_apart_from_a_quiet_window() {
    let before = snap(&[("TcpExtListenOverflows", 35_544_811_584)], 0.0);
    let after = later(&before, &[], 5.0);
    let f = one("listen-overflow", &Window::pair(&before, &after));
    assert_eq!(f.severity, Severity::Info);
    assert!(
        f.summary.contains("since boot 35.5 billion")
            && f.summary.contains("in the last 5 s: none"),
        "{}",
        f.summary
    );
    assert_counter(
        &f,
        "TcpExtListenOverflows",
        35_544_811_584,
        Some(0),
        Some(0.0),
    );
}

#[test]
fn the_story_gives_tw_recycle_first_critical_without_any_rate() {
    // Three pasted netstat -s lines and a sysctl.conf: no uptime, no kernel, one sample.
    let mut s = Snapshot::new(Origin::Files {
        files: vec!["netstat.txt".into(), "sysctl.conf".into()],
    });
    s.counters = [
        ("TcpExtListenDrops", 35_544_811_584),
        ("TcpExtSyncookiesFailed", 7_008_728),
        ("TcpExtTCPRcvCollapsed", 10_703),
    ]
    .iter()
    .map(|(n, v)| Counter {
        name: n.to_string(),
        section: "TcpExt".into(),
        value: *v,
    })
    .collect();
    let assign = |key: &str, value: &str, line: usize| SysctlKey {
        key: key.into(),
        live: None,
        live_missing: Some("pasted configuration: no live value".into()),
        configured: Some(SysctlAssignment {
            value: value.into(),
            file: "sysctl.conf".into(),
            line,
            ..SysctlAssignment::default()
        }),
        ..SysctlKey::default()
    };
    s.sysctl = Some(SysctlView {
        keys: vec![
            assign("net.ipv4.tcp_tw_recycle", "1", 3),
            assign("net.ipv4.tcp_max_syn_backlog", "16192", 4),
            assign("net.core.somaxconn", "4096", 5),
            assign("net.ipv4.tcp_tw_reuse", "1", 6),
        ],
        ..SysctlView::default()
    });
    let report = run_check(&Window::single(&s), &CheckOptions::default());
    assert_eq!(report.exit_code(), 2);
    let first = report.findings.first().expect("findings");
    assert_eq!(first.id, "tw-recycle");
    assert_eq!(first.severity, Severity::Critical);
    assert!(
        first.explanation.contains("35.5 billion dropped SYNs"),
        "{}",
        first.explanation
    );
    assert!(
        first
            .explanation
            .contains("7.0 million invalid SYN cookies")
    );
    assert!(first.summary.contains("sysctl.conf:3"), "{}", first.summary);
    assert!(first.caveats.iter().any(|c| c.contains("kernel version")));
    assert_counter(first, "TcpExtListenDrops", 35_544_811_584, None, None);
    // No rate anywhere: not measured, not averaged (no uptime).
    let json = netdoctor::render::check::json(&report).expect("json");
    assert!(!json.contains("since_boot_per_second"), "{json}");
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid json");
    for f in value["findings"].as_array().expect("findings") {
        for e in f["evidence"].as_array().expect("evidence") {
            if e["kind"] == "counter" {
                assert!(e["per_second"].is_null() && e["delta"].is_null(), "{e}");
            }
        }
    }
    let text = netdoctor::render::check::human(&report, netdoctor::render::Style::plain());
    assert!(text.contains("35,544,811,584"));
    assert!(!shows_a_rate(&text), "no rate in the text:\n{text}");
    assert!(!text.contains("avg "), "no average in the text:\n{text}");
}

/// True when the text holds a rate such as "12/s", "3.5/s" or "0/s".
fn shows_a_rate(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices("/s").any(|(i, _)| {
        let digit_before = i > 0 && bytes[i - 1].is_ascii_digit();
        let word_after = bytes.get(i + 2).is_some_and(|b| b.is_ascii_alphanumeric());
        digit_before && !word_after
    })
}

#[test]
fn min_severity_filters_findings_and_the_status_follows() {
    let before = snap(&[("TcpExtListenOverflows", 0), ("UdpSndbufErrors", 0)], 0.0);
    let after = later(
        &before,
        &[("TcpExtListenOverflows", 20), ("UdpSndbufErrors", 0)],
        5.0,
    );
    let w = Window::pair(&before, &after);
    let all = run_check(&w, &CheckOptions::default());
    assert_eq!(all.status, Status::Warning);
    let critical_only = run_check(
        &w,
        &CheckOptions {
            min_severity: Severity::Critical,
        },
    );
    assert!(critical_only.findings.is_empty());
    assert_eq!(critical_only.exit_code(), 0);
}

#[test]
fn every_registered_rule_has_a_unique_id_and_needs() {
    let mut ids: Vec<&str> = rules::RULES.iter().map(|r| r.id).collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate rule ids");
    assert!(rules::RULES.iter().all(|r| !r.needs.is_empty()));
}

#[test]
fn every_rule_id_has_a_knowledge_base_entry() {
    // Every file under kb/findings: a rule's entry may live with another producer of the
    // same id (tw-recycle is shared with the sysctl audit).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/kb/findings");
    let mut entries = Vec::new();
    for file in std::fs::read_dir(dir).expect("kb/findings") {
        let path = file.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read kb file");
        let doc: toml::Table = text.parse().expect("valid TOML");
        if let Some(list) = doc.get("finding").and_then(|f| f.as_array()) {
            entries.extend(list.iter().cloned());
        }
    }
    let kb_ids: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.get("id").and_then(|i| i.as_str()))
        .collect();
    let mut unique = kb_ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        kb_ids.len(),
        "duplicate finding ids in kb/findings"
    );
    for rule in rules::RULES {
        assert!(kb_ids.contains(&rule.id), "no kb entry for {}", rule.id);
    }
    for entry in &entries {
        for field in [
            "id",
            "title",
            "meaning",
            "reads",
            "thresholds",
            "why",
            "remedy",
        ] {
            assert!(entry.get(field).is_some(), "{entry:?} lacks {field}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Robustness: any numbers, any shape, never a panic, never an unmeasured rate.

/// Every counter name the registry mentions, plus a few the rules read besides.
fn rule_counter_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = rules::RULES
        .iter()
        .flat_map(|r| r.needs.iter().copied())
        .filter(|n| !n.contains(':') && !n.contains(' ') && !n.contains('.'))
        .collect();
    names.extend([
        "TcpExtSyncookiesRecv",
        "TcpExtListenOverflows",
        "Udp6MemErrors",
        "SoftnetDropped",
        "SoftnetTimeSqueeze",
    ]);
    names.sort_unstable();
    names.dedup();
    names
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    #[test]
    fn rules_never_panic_and_never_invent_rates(
        before_values in proptest::collection::vec(proptest::num::i64::ANY, 40),
        after_values in proptest::collection::vec(proptest::num::i64::ANY, 40),
        elapsed in proptest::option::of(-10.0f64..1e6),
        uptime in proptest::option::of(-1.0f64..1e9),
        kernel in proptest::option::of("[0-9]{1,2}\\.[0-9]{1,3}[a-z0-9.-]{0,10}"),
        softnet in proptest::collection::vec((proptest::num::u32::ANY, proptest::num::u32::ANY), 0..4),
        sockstat in proptest::collection::vec(proptest::num::i64::ANY, 3),
        fill in proptest::option::of((proptest::num::u64::ANY, proptest::num::u64::ANY)),
        sysctls in proptest::collection::vec("[ -~]{0,12}", 4),
    ) {
        let names = rule_counter_names();
        let counters = |values: &[i64]| -> Vec<(&'static str, i128)> {
            names
                .iter()
                .zip(values.iter().cycle())
                .map(|(n, v)| (*n, i128::from(*v)))
                .collect()
        };
        let mut before = snap(&counters(&before_values), 0.0);
        let mut after = snap(&counters(&after_values), 0.0);
        before.host.kernel = kernel.clone();
        after.host.kernel = kernel;
        after.host.uptime_s = uptime;
        after.monotonic_s = elapsed.and_then(|e| before.monotonic_s.map(|b| b + e));
        before.softnet = softnet
            .iter()
            .enumerate()
            .map(|(i, (d, _))| SoftnetCpu { cpu: i as u32, dropped: *d, ..SoftnetCpu::default() })
            .collect();
        after.softnet = softnet
            .iter()
            .enumerate()
            .map(|(i, (_, d))| SoftnetCpu { cpu: i as u32, dropped: *d, time_squeeze: *d, ..SoftnetCpu::default() })
            .collect();
        after.sockstat = vec![SockstatLine {
            protocol: "TCP".into(),
            fields: vec![
                ("orphan".into(), sockstat[0]),
                ("tw".into(), sockstat[1]),
                ("mem".into(), sockstat[2]),
            ],
        }];
        after.conntrack = fill.map(|(count, max)| Conntrack {
            count: Some(count),
            max: Some(max),
            ..Conntrack::default()
        });
        after.sysctl = Some(sysctl_view(&[
            ("net.ipv4.tcp_tw_recycle", sysctls[0].as_str()),
            ("net.ipv4.tcp_mem", sysctls[1].as_str()),
            ("net.ipv4.tcp_max_orphans", sysctls[2].as_str()),
            ("net.ipv4.ip_local_port_range", sysctls[3].as_str()),
        ]));
        let _ = run_check(&Window::pair(&before, &after), &CheckOptions::default());
        let single = run_check(&Window::single(&after), &CheckOptions::default());
        for f in &single.findings {
            for e in &f.evidence {
                if let Evidence::Counter { delta, per_second, .. } = e {
                    proptest::prop_assert!(delta.is_none() && per_second.is_none());
                }
            }
        }
        let _ = netdoctor::render::check::human(&single, netdoctor::render::Style::plain());
        proptest::prop_assert!(netdoctor::render::check::json(&single).is_ok());
    }
}
