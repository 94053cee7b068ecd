//! Property tests of the sysctl rules and the port parsers: whatever a configuration file or a
//! captured /proc/sys says (random text, huge or negative numbers, signs in odd places, many
//! fields), for every key the rules read, under every loader, evaluating, building the table
//! and rendering never panic; and the port-range and reserved-ports parsers never panic and
//! only return ranges whose low end is not above the high end.

use netdoctor::analyze::rules::sysctl::{self as rules, port_count};
use netdoctor::parse::{PortSettingError, parse_port_range, parse_reserved_ports};
use netdoctor::render::Style;
use netdoctor::render::sysctl::{self as render, SysctlReport};
use netdoctor::snapshot::sockets::{Listener, SocketView};
use netdoctor::snapshot::{
    Counter, HostFacts, Origin, Snapshot, SysctlAssignment, SysctlKey, SysctlView,
};
use proptest::prelude::*;

/// Keys the rules do not read (plain, per interface, module keys), besides every one they do.
const OTHER_KEYS: &[&str] = &[
    "net.ipv4.tcp_abc",
    "net.netfilter.nf_conntrack_max",
    "vm.overcommit_memory",
    "fs.file-max",
];

/// Every key the rules read (`collect::sysctl::RULE_KEYS`, an interface pattern spelled out
/// for all, default, eth0 and lo), then the others.
fn all_keys() -> Vec<String> {
    let mut keys = Vec::new();
    for key in netdoctor::collect::sysctl::RULE_KEYS {
        if key.contains('*') {
            for iface in ["all", "default", "eth0", "lo"] {
                keys.push(key.replace('*', iface));
            }
        } else {
            keys.push((*key).to_string());
        }
    }
    keys.extend(OTHER_KEYS.iter().map(|k| (*k).to_string()));
    keys
}

const COUNTERS: &[&str] = &[
    "TcpExtTCPTimeWaitOverflow",
    "TcpExtPAWSPassive",
    "TcpExtListenDrops",
    "TcpExtListenOverflows",
    "TcpExtTCPReqQFullDrop",
    "TcpExtTCPMemoryPressures",
    "TcpExtTCPAbortOnMemory",
    "TcpExtIPReversePathFilter",
];

/// A value as a file or /proc/sys could hold it.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        any::<i128>().prop_map(|n| n.to_string()),
        any::<u128>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| format!("-{n}")),
        "[-+]{0,3}(0[xX])?[-+]{0,2}[0-9a-fA-F]{0,40}",
        proptest::collection::vec(any::<i128>(), 0..12).prop_map(|v| v
            .iter()
            .map(i128::to_string)
            .collect::<Vec<_>>()
            .join(" ")),
        proptest::collection::vec(any::<u16>(), 0..4).prop_map(|v| v
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join("\t")),
        (any::<i64>(), any::<i64>()).prop_map(|(a, b)| format!("{a} {b}")),
        edge_case(),
        Just(String::new()),
        Just("0".to_string()),
        Just("1".to_string()),
    ]
}

/// Values that once panicked, and their neighbours.
fn edge_case() -> impl Strategy<Value = String> {
    proptest::sample::select(vec![
        format!("-{}", i128::MIN),
        format!("--{}", i128::MIN.unsigned_abs()),
        "0x-80000000000000000000000000000000".to_string(),
        "-0x80000000000000000000000000000000".to_string(),
        format!("{} {}", i64::MIN, i64::MAX),
        format!("{} {}", i64::MAX, i64::MIN),
        "5000 100".to_string(),
        "65535 0".to_string(),
        format!("{} {} {}", u64::MAX, u64::MAX, u64::MAX),
        format!("{}", i64::MIN),
    ])
}

fn assignment() -> impl Strategy<Value = SysctlAssignment> {
    (value(), "[a-z/.]{0,12}", 0usize..100_000, any::<bool>()).prop_map(
        |(value, file, line, ignore_failure)| SysctlAssignment {
            value,
            file,
            line,
            ignore_failure,
        },
    )
}

fn live_missing() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("no such key on this kernel".to_string())),
        Just(Some(netdoctor::collect::sysctl::NOT_IN_TREE.to_string())),
        Just(Some("permission denied".to_string())),
        ".{0,20}".prop_map(Some),
    ]
}

fn sysctl_key(name: &str) -> impl Strategy<Value = SysctlKey> + use<> {
    let name = name.to_string();
    (
        proptest::option::of(value()),
        live_missing(),
        proptest::option::of(assignment()),
        proptest::collection::vec(assignment(), 0..3),
        proptest::option::of(Just("net.ipv4.conf.*.rp_filter".to_string())),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(
            move |(live, live_missing, configured, overrides, glob, mode)| SysctlKey {
                key: name.clone(),
                live,
                live_missing,
                configured,
                overrides,
                glob,
                mode,
            },
        )
}

fn keys() -> impl Strategy<Value = Vec<SysctlKey>> {
    let per_key: Vec<_> = all_keys()
        .iter()
        .map(|k| proptest::option::of(sysctl_key(k)))
        .collect();
    per_key.prop_map(|keys| keys.into_iter().flatten().collect())
}

fn listener() -> impl Strategy<Value = Listener> {
    (
        any::<u64>(),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(queue, backlog, capped)| Listener {
            local: "0.0.0.0:80".to_string(),
            queue,
            backlog,
            capped_by_somaxconn: capped,
            ..Listener::default()
        })
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    (
        keys(),
        prop_oneof![
            Just(None),
            Just(Some("files".to_string())),
            Just(Some("systemd-sysctl".to_string())),
            Just(Some("procps sysctl --system".to_string())),
        ],
        proptest::option::of(prop_oneof![
            "[0-9]{1,3}\\.[0-9]{1,3}(\\.[0-9]{1,3})?[-a-z0-9.]{0,10}",
            ".{0,12}",
        ]),
        (
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<f64>()),
        ),
        proptest::collection::vec((0..COUNTERS.len(), any::<i128>()), 0..6),
        proptest::option::of(proptest::collection::vec(listener(), 0..4)),
        (any::<bool>(), proptest::option::of("[a-z]{0,8}")),
    )
        .prop_map(
            |(keys, loader, kernel, (mem, page, uptime), counters, listeners, (netns, init))| {
                let origin = if netns {
                    Origin::Netns {
                        name: "x".to_string(),
                    }
                } else {
                    Origin::Live
                };
                let mut s = Snapshot::new(origin);
                s.host = HostFacts {
                    kernel,
                    mem_bytes: mem,
                    page_size: page,
                    uptime_s: uptime,
                    ..HostFacts::default()
                };
                s.counters = counters
                    .into_iter()
                    .filter_map(|(i, value)| {
                        COUNTERS.get(i).map(|name| Counter {
                            name: (*name).to_string(),
                            section: "TcpExt".to_string(),
                            value,
                        })
                    })
                    .collect();
                s.sockets = listeners.map(|listeners| SocketView {
                    listeners,
                    ..SocketView::default()
                });
                s.sysctl = Some(SysctlView {
                    loader,
                    keys,
                    init_process: init,
                    ..SysctlView::default()
                });
                s
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rules_table_and_rendering_never_panic(s in snapshot()) {
        let evaluation = rules::evaluate_all(&s);
        let from_files = s.sysctl.as_ref().and_then(|v| v.loader.as_deref()) == Some("files");
        let rows = rules::table(&s);
        prop_assert_eq!(rows.len(), s.sysctl.as_ref().map_or(0, |v| v.keys.len()));
        if from_files {
            prop_assert!(rows.iter().all(|r| !r.drifted));
            prop_assert!(!evaluation.findings.iter().any(|f| f.id == "sysctl-drift"));
        }
        for f in &evaluation.findings {
            prop_assert!(!f.id.is_empty());
            prop_assert!(!f.title.contains("Only -"), "{}", f.title);
        }
        let report = SysctlReport {
            snapshot: &s,
            rows,
            findings: evaluation.findings,
            not_evaluated: evaluation.not_evaluated,
            unavailable: Vec::new(),
        };
        let _ = render::text(&report, Style::plain());
        prop_assert!(render::json(&report).is_ok());
    }

    #[test]
    fn values_equal_never_panics_and_is_reflexive(a in value(), b in value()) {
        let _ = rules::values_equal(&a, &b);
        prop_assert!(rules::values_equal(&a, &a));
    }

    #[test]
    fn port_range_parser_never_panics(text in prop_oneof![
        ".{0,40}",
        (value(), value()).prop_map(|(a, b)| format!("{a} {b}")),
    ]) {
        match parse_port_range(&text) {
            Ok((low, high)) => {
                prop_assert!(low <= high);
                prop_assert!((1..=65536).contains(&port_count(low, high)));
            }
            Err(PortSettingError::LowAboveHigh { low, high }) => prop_assert!(low > high),
            Err(_) => {}
        }
    }

    #[test]
    fn port_range_parser_reads_every_pair_of_ports(low in any::<u16>(), high in any::<u16>()) {
        let parsed = parse_port_range(&format!("{low}\t{high}\n"));
        if low <= high {
            prop_assert_eq!(parsed, Ok((low, high)));
            prop_assert_eq!(port_count(low, high), u32::from(high - low) + 1);
        } else {
            prop_assert_eq!(parsed, Err(PortSettingError::LowAboveHigh { low, high }));
        }
    }

    #[test]
    fn sockets_port_parsers_never_panic(text in prop_oneof![
        ".{0,60}",
        "[0-9,\\- ]{0,60}",
        proptest::collection::vec((any::<u32>(), proptest::option::of(any::<u32>())), 0..8)
            .prop_map(|items| items
                .iter()
                .map(|(a, b)| match b {
                    Some(b) => format!("{a}-{b}"),
                    None => a.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")),
    ]) {
        if let Ok((low, high)) = parse_port_range(&text) {
            prop_assert!(low <= high);
        }
        if let Ok(ranges) = parse_reserved_ports(&text) {
            prop_assert!(ranges.iter().all(|(low, high)| low <= high));
        }
    }
}
