//! The Collector: repeated samples of a changing tree give exactly what a fresh full parse
//! gives (the values-only fast path never serves stale or misplaced values), and the live
//! host samples in kernel order.

use std::path::Path;

use netdoctor::collect::ProcPaths;
use netdoctor::collect::procfs::Collector;
use netdoctor::snapshot::{Counter, Origin, Snapshot};

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/captures/6.18.44-loopback-tcp-udp-conntrack"
);

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Adds `delta` to every number on the value lines of an snmp/netstat text.
fn bump(text: &str, delta: i64) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let (section, rest) = line.split_once(':').unwrap();
        let numeric = rest
            .split_whitespace()
            .next()
            .is_some_and(|t| t.parse::<i64>().is_ok());
        out.push_str(section);
        out.push(':');
        for t in rest.split_whitespace() {
            out.push(' ');
            match t.parse::<i64>() {
                Ok(v) if numeric => out.push_str(&(v + delta).to_string()),
                _ => out.push_str(t),
            }
        }
        out.push('\n');
    }
    out
}

fn fresh(root: &Path) -> Vec<Counter> {
    Collector::open(ProcPaths::root(root))
        .sample()
        .unwrap()
        .counters
}

#[test]
fn repeated_samples_equal_fresh_full_parses() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(Path::new(CAPTURE), tmp.path());
    let root = tmp.path();
    let net = root.join("proc/net");
    let mut collector = Collector::open(ProcPaths::root(root));
    let mut reused = Snapshot::default();

    let first = collector.sample_ref().unwrap().counters.clone();
    assert_eq!(first, fresh(root));

    // Same shape, new values: served by the fast path, equal to a fresh parse.
    for (round, file) in ["snmp", "netstat"].iter().enumerate() {
        let text = std::fs::read_to_string(net.join(file)).unwrap();
        std::fs::write(net.join(file), bump(&text, round as i64 + 1)).unwrap();
    }
    let snmp6 = std::fs::read_to_string(net.join("snmp6")).unwrap();
    std::fs::write(
        net.join("snmp6"),
        snmp6
            .replace("Ip6InReceives", "Ip6InReceives 77 #")
            .replace(" 77 #", ""),
    )
    .unwrap();
    let second = collector.sample_ref().unwrap().counters.clone();
    assert_eq!(second, fresh(root));
    assert_ne!(second, first);
    collector.sample_into(&mut reused).unwrap();
    assert_eq!(reused.counters, second);

    // A new field in the middle of snmp and a changed snmp6 name: full parse, still equal.
    let text = std::fs::read_to_string(net.join("snmp")).unwrap();
    let text: String = text
        .lines()
        .map(|l| match l.strip_prefix("Tcp: ") {
            Some(rest) if rest.starts_with("RtoAlgorithm") => format!("Tcp: NewField {rest}\n"),
            Some(rest) => format!("Tcp: 42 {rest}\n"),
            None => format!("{l}\n"),
        })
        .collect();
    std::fs::write(net.join("snmp"), text).unwrap();
    std::fs::write(
        net.join("snmp6"),
        snmp6.replacen("Ip6InReceives", "Ip6InFuture", 1),
    )
    .unwrap();
    let third = collector.sample_ref().unwrap().counters.clone();
    assert_eq!(third, fresh(root));
    assert!(
        third
            .iter()
            .any(|c| c.name == "TcpNewField" && c.value == 42)
    );
    assert!(third.iter().any(|c| c.name == "Ip6InFuture"));
    collector.sample_into(&mut reused).unwrap();
    assert_eq!(reused.counters, third);

    // And back to the fast path on the next unchanged sample.
    let fourth = collector.sample_ref().unwrap().counters.clone();
    assert_eq!(fourth, third);

    // A broken file drops its counters and says why; the rest stays.
    std::fs::write(net.join("snmp"), "garbage\n").unwrap();
    let snap = collector.sample_ref().unwrap();
    assert!(!snap.has_source("snmp"));
    assert!(snap.counter("TcpActiveOpens").is_none());
    assert!(snap.counter("TcpExtTW").is_some());
    assert_eq!(snap.counters, fresh(root));
}

#[test]
fn live_host_samples_in_kernel_order() {
    if !Path::new("/proc/net/snmp").exists() {
        println!("SKIP live_host_samples_in_kernel_order: no /proc/net/snmp");
        return;
    }
    let mut collector = Collector::open(ProcPaths::live(Origin::Live));
    let a = collector.sample().unwrap();
    let b = collector.sample_ref().unwrap().clone();
    let names = |s: &Snapshot| {
        s.counters
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&a), names(&b));
    assert_eq!(
        a.counters.first().map(|c| c.name.as_str()),
        Some("IpForwarding")
    );
    assert!(a.has_source("snmp") && a.has_source("netstat"));
    assert!(a.host.kernel.is_some() && a.host.uptime_s.is_some() && a.monotonic_s.is_some());
    assert!(b.monotonic_s >= a.monotonic_s);
    assert!(!a.softnet.is_empty());
}

#[test]
fn snapshots_round_trip_through_json() {
    let mut collector = Collector::open(ProcPaths::root(Path::new(CAPTURE)));
    let mut snap = collector.sample().unwrap();
    // Values beyond 64 bits (only a damaged capture has them) survive too.
    snap.counters.push(Counter {
        name: "TestHuge".into(),
        section: "Test".into(),
        value: 99_999_999_999_999_999_999,
    });
    let text = serde_json::to_string_pretty(&snap).unwrap();
    let back: Snapshot = serde_json::from_str(&text).unwrap();
    assert_eq!(back, snap);
    assert_eq!(back.counter("TcpMaxConn"), Some(-1));
    if Path::new("/proc/net/snmp").exists() {
        let live = Collector::open(ProcPaths::live(Origin::Live))
            .sample()
            .unwrap();
        let mut back: Snapshot =
            serde_json::from_str(&serde_json::to_string(&live).unwrap()).unwrap();
        // Floats may come back one unit in the last place off (serde_json's fast float
        // parser); everything else is exact.
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= a.abs() * 1e-12,
            (a, b) => a == b,
        };
        assert!(close(back.monotonic_s, live.monotonic_s));
        assert!(close(back.collected_at_unix_s, live.collected_at_unix_s));
        assert!(close(back.host.uptime_s, live.host.uptime_s));
        back.monotonic_s = live.monotonic_s;
        back.collected_at_unix_s = live.collected_at_unix_s;
        back.host.uptime_s = live.host.uptime_s;
        assert_eq!(back, live);
    }
}

#[test]
fn sample_into_keeps_what_other_collectors_put_in_the_snapshot() {
    let mut collector = Collector::open(ProcPaths::root(Path::new(CAPTURE)));
    let mut snap = Snapshot::default();
    snap.set_source(netdoctor::snapshot::SourceStatus::available(
        "sock_diag",
        "NETLINK",
    ));
    snap.sysctl = Some(Default::default());
    for _ in 0..3 {
        collector.sample_into(&mut snap).unwrap();
        assert!(snap.has_source("sock_diag"));
        assert!(snap.has_source("snmp"));
        assert!(snap.sysctl.is_some());
        let names: Vec<&str> = snap.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names.iter().filter(|n| **n == "snmp").count(),
            1,
            "{names:?}"
        );
        assert_eq!(names.len(), 10, "{names:?}");
    }
}

mod random_shapes {
    use super::*;
    use proptest::prelude::*;

    /// snmp-like text from sections of (name count, value count) with small values.
    fn pairs_text(sections: &[(u8, u8, u8)]) -> String {
        let mut out = String::new();
        for (i, (names, values, seed)) in sections.iter().enumerate() {
            let header: Vec<String> = (0..*names).map(|k| format!("F{k}")).collect();
            let vals: Vec<String> = (0..*values)
                .map(|k| (u32::from(*seed) * 7 + k as u32).to_string())
                .collect();
            out.push_str(&format!(
                "S{i}: {}\nS{i}: {}\n",
                header.join(" "),
                vals.join(" ")
            ));
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever shapes the files take from one sample to the next, the values-only path
        /// gives exactly what a fresh full parse gives.
        #[test]
        fn repeated_samples_follow_any_change(
            first in proptest::collection::vec((1u8..6, 1u8..6, any::<u8>()), 1..5),
            second in proptest::collection::vec((1u8..6, 1u8..6, any::<u8>()), 0..5),
            snmp6_lines in 0usize..6,
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let net = tmp.path().join("proc/net");
            std::fs::create_dir_all(&net).unwrap();
            let snmp6 = |n: usize, v: u32| (0..n).map(|k| format!("Ip6F{k} {}\n", v + k as u32)).collect::<String>();
            std::fs::write(net.join("snmp"), pairs_text(&first)).unwrap();
            std::fs::write(net.join("snmp6"), snmp6(snmp6_lines, 1)).unwrap();
            let mut collector = Collector::open(ProcPaths::root(tmp.path()));
            let fresh = |root: &Path| Collector::open(ProcPaths::root(root)).sample().map(|s| s.counters).ok();
            let a = collector.sample_ref().ok().map(|s| s.counters.clone());
            prop_assert_eq!(a, fresh(tmp.path()));
            std::fs::write(net.join("snmp"), pairs_text(&second)).unwrap();
            std::fs::write(net.join("snmp6"), snmp6(snmp6_lines, 9)).unwrap();
            let b = collector.sample_ref().ok().map(|s| s.counters.clone());
            prop_assert_eq!(b, fresh(tmp.path()));
            let c = collector.sample_ref().ok().map(|s| s.counters.clone());
            prop_assert_eq!(c, fresh(tmp.path()));
        }
    }
}
