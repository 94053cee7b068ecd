//! The procfs parsers over real kernel files: the external corpus in
//! ../shared/fixtures/external (skipped with a printed reason when absent) and our own
//! captures under tests/fixtures/captures (always present).

use std::path::{Path, PathBuf};

use netdoctor::collect::procfs::{
    ParseError, conntrack::parse_conntrack_value, conntrack_counters, parse_nf_conntrack_stat,
    parse_snmp_pairs, parse_snmp6, parse_sockstat, parse_softnet, softnet_counters,
};
use netdoctor::snapshot::{Conntrack, Counter};

const EXTERNAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/external");
const CAPTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/captures");

/// The external corpus, or None (after printing why) when it is not there.
fn external(test: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(EXTERNAL);
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("SKIP {test}: {EXTERNAL} is absent");
        None
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn value(counters: &[Counter], name: &str) -> i128 {
    counters
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .value
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Which parser a corpus file is for, by its name; None for files that are not ours
/// (socket tables, provenance notes, our README files and pasted tool output).
fn kind_of(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent()?.file_name()?.to_str()?;
    Some(match name {
        n if n.contains("snmp6") => "snmp6",
        "snmp" | "netstat" => "pairs",
        n if n.starts_with("procnet-snmp-")
            || n.starts_with("proc_net_snmp")
            || n.starts_with("proc_net_netstat") =>
        {
            "pairs"
        }
        n if n.contains("sockstat") => "sockstat",
        "softnet_stat" => "softnet",
        "softnet_stat.broken" => "softnet_broken",
        "nf_conntrack" if parent == "stat" => "conntrack",
        "nf_conntrack_count" | "nf_conntrack_max" => "conntrack_value",
        _ => return None,
    })
}

/// Parses one file with its parser; returns how many values it gave and what was skipped.
fn parse_file(path: &Path) -> Option<(usize, usize)> {
    let text = read(path);
    let file = path.display().to_string();
    Some(match kind_of(path)? {
        "pairs" => {
            let p = parse_snmp_pairs(&text, &file).unwrap();
            (p.counters.len(), p.skipped.len())
        }
        "snmp6" => {
            let p = parse_snmp6(&text, &file).unwrap();
            (p.counters.len(), p.skipped.len())
        }
        "sockstat" => {
            let p = parse_sockstat(&text, &file).unwrap();
            (p.lines.len(), p.skipped.len())
        }
        "softnet" => {
            let p = parse_softnet(&text, &file).unwrap();
            (p.cpus.len(), p.skipped.len())
        }
        "softnet_broken" => {
            let err = parse_softnet(&text, &file).unwrap_err();
            assert!(
                matches!(err, ParseError::Malformed { line: 1, .. }),
                "{err}"
            );
            (0, 0)
        }
        "conntrack" => {
            let p = parse_nf_conntrack_stat(&text, &file).unwrap();
            (p.per_cpu.len(), p.skipped.len())
        }
        "conntrack_value" => {
            parse_conntrack_value(&text, &file).unwrap();
            (1, 0)
        }
        _ => return None,
    })
}

#[test]
fn every_external_and_captured_file_parses_without_skipping() {
    let mut files = Vec::new();
    if let Some(dir) = external("every_external_and_captured_file_parses_without_skipping") {
        files_under(&dir, &mut files);
    }
    files_under(Path::new(CAPTURES), &mut files);
    // The procfs snmp6 file ends with a `Mode: 644` line left by its ttar archive: that one
    // line must be reported as skipped, and nothing else anywhere.
    let ttar_trailer = "procfs/testdata/fixtures.ttar.d/fixtures/proc/26231/net/snmp6";
    let mut parsed = 0;
    for path in &files {
        if let Some((values, skipped)) = parse_file(path) {
            parsed += 1;
            let expected = usize::from(path.ends_with(ttar_trailer));
            assert_eq!(skipped, expected, "{} skipped parts", path.display());
            if !path.ends_with("softnet_stat.broken") {
                assert!(values > 0, "{} gave nothing", path.display());
            }
        }
    }
    assert!(parsed >= 9, "only {parsed} files parsed");
}

#[test]
fn procfs_netstat_values() {
    let Some(dir) = external("procfs_netstat_values") else {
        return;
    };
    let path = dir.join("procfs/testdata/fixtures.ttar.d/fixtures/proc/26231/net/netstat");
    let p = parse_snmp_pairs(&read(&path), "netstat").unwrap();
    assert_eq!(value(&p.counters, "TcpExtTCPRcvQDrop"), 92425);
    assert_eq!(value(&p.counters, "TcpExtTCPBacklogDrop"), 6);
    assert_eq!(
        p.counters.iter().filter(|c| c.section == "TcpExt").count(),
        113
    );
    assert_eq!(
        p.counters.iter().filter(|c| c.section == "IpExt").count(),
        18
    );
}

#[test]
fn snmp_sections_signed_values_and_old_kernels() {
    let Some(dir) = external("snmp_sections_signed_values_and_old_kernels") else {
        return;
    };
    let p = parse_snmp_pairs(
        &read(&dir.join("node_exporter/collector/fixtures/proc/net/snmp")),
        "snmp",
    )
    .unwrap();
    assert_eq!(value(&p.counters, "TcpMaxConn"), -1);
    assert_eq!(value(&p.counters, "TcpActiveOpens"), 3556);
    assert_eq!(value(&p.counters, "TcpInSegs"), 57_252_008);
    assert_eq!(value(&p.counters, "TcpOutRsts"), 1003);
    let old =
        parse_snmp_pairs(&read(&dir.join("pcp/qa/linux/procnet-snmp-2.6.32")), "snmp").unwrap();
    assert_eq!(
        old.counters.iter().filter(|c| c.section == "Tcp").count(),
        14
    );
    assert_eq!(
        old.counters.iter().filter(|c| c.section == "Udp").count(),
        6
    );
    assert_eq!(value(&old.counters, "UdpInDatagrams"), 76584);
    assert!(old.counters.iter().any(|c| c.section == "IcmpMsg"));
    assert!(old.counters.iter().any(|c| c.section == "UdpLite"));
}

#[test]
fn netstat_with_mptcp_and_listen_drops() {
    let Some(dir) = external("netstat_with_mptcp_and_listen_drops") else {
        return;
    };
    let real = parse_snmp_pairs(
        &read(&dir.join("pcp/qa/linux/proc_net_netstat@5a02510921")),
        "netstat",
    )
    .unwrap();
    assert_eq!(value(&real.counters, "TcpExtListenOverflows"), 17);
    assert_eq!(value(&real.counters, "TcpExtListenDrops"), 17);
    assert_eq!(value(&real.counters, "TcpExtTCPReqQFullDoCookies"), 2);
    assert_eq!(value(&real.counters, "TcpExtPruneCalled"), 1196);
    assert_eq!(
        real.counters
            .iter()
            .filter(|c| c.section == "MPTcpExt")
            .count(),
        13
    );
    let union =
        parse_snmp_pairs(&read(&dir.join("pcp/qa/linux/proc_net_netstat")), "netstat").unwrap();
    assert_eq!(
        union
            .counters
            .iter()
            .filter(|c| c.section == "TcpExt")
            .count(),
        145
    );
    assert_eq!(
        union
            .counters
            .iter()
            .filter(|c| c.section == "MPTcpExt")
            .count(),
        77
    );
    let node = parse_snmp_pairs(
        &read(&dir.join("node_exporter/collector/fixtures/proc/net/netstat")),
        "netstat",
    )
    .unwrap();
    assert_eq!(value(&node.counters, "TcpExtSyncookiesFailed"), 2);
    assert_eq!(value(&node.counters, "TcpExtTCPRcvQDrop"), 131);
}

#[test]
fn snmp6_and_sockstat_values() {
    let Some(dir) = external("snmp6_and_sockstat_values") else {
        return;
    };
    let p = parse_snmp6(
        &read(&dir.join("pcp/qa/linux/procnet-snmp6-2.6.32")),
        "snmp6",
    )
    .unwrap();
    assert_eq!(value(&p.counters, "Ip6InReceives"), 20912);
    let ttar = parse_snmp6(
        &read(&dir.join("procfs/testdata/fixtures.ttar.d/fixtures/proc/26231/net/snmp6")),
        "snmp6",
    )
    .unwrap();
    assert_eq!(ttar.skipped.len(), 1);
    assert_eq!(ttar.skipped[0].line, 92);
    assert_eq!(ttar.skipped[0].text, "Mode: 644");
    let p = parse_snmp6(
        &read(&dir.join("node_exporter/collector/fixtures/proc/net/snmp6")),
        "snmp6",
    )
    .unwrap();
    assert_eq!(value(&p.counters, "Ip6InReceives"), 7);
    assert_eq!(value(&p.counters, "Ip6InNoRoutes"), 5);
    let s = parse_sockstat(
        &read(&dir.join("pcp/qa/linux/proc_net_sockstat")),
        "sockstat",
    )
    .unwrap();
    let tcp = s.lines.iter().find(|l| l.protocol == "TCP").unwrap();
    assert_eq!(tcp.fields[1], ("orphan".to_string(), 9));
    assert_eq!(s.lines[0].fields[0], ("used".to_string(), 1866));
    let s6 = parse_sockstat(
        &read(&dir.join("node_exporter/collector/fixtures/proc/net/sockstat6")),
        "sockstat6",
    )
    .unwrap();
    assert_eq!(s6.lines[0].protocol, "TCP6");
    assert_eq!(s6.lines[0].fields[0].1, 17);
}

#[test]
fn softnet_layouts_and_cpu_ids() {
    let Some(dir) = external("softnet_layouts_and_cpu_ids") else {
        return;
    };
    let root4 = parse_softnet(
        &read(&dir.join("sysstat/tests/root4/proc/net/softnet_stat")),
        "softnet_stat",
    )
    .unwrap();
    let ids: Vec<u32> = root4.cpus.iter().map(|c| c.cpu).collect();
    assert_eq!(ids, [0, 1, 2, 3, 4, 5, 7, 8]);
    assert!(root4.cpus.iter().all(|c| c.cpu_from_column));
    assert_eq!(root4.cpus[1].backlog_len, Some(0xa));

    let node = parse_softnet(
        &read(&dir.join("node_exporter/collector/fixtures/proc/net/softnet_stat")),
        "softnet_stat",
    )
    .unwrap();
    assert_eq!(node.cpus.len(), 4);
    assert_eq!(node.cpus[1].dropped, 0x29);
    assert!(!node.cpus[1].cpu_from_column);
    assert_eq!(node.cpus[1].cpu, 1);
    let derived = softnet_counters(&node.cpus);
    assert_eq!(value(&derived, "SoftnetDropped"), 0x29);
    assert_eq!(value(&derived, "SoftnetTimeSqueeze"), 1 + 0xa + 0x55 + 0x32);

    let mixed = parse_softnet(
        &read(&dir.join("procfs/testdata/fixtures.ttar.d/fixtures/proc/net/softnet_stat")),
        "softnet_stat",
    )
    .unwrap();
    let widths: Vec<usize> = mixed.cpus.iter().map(|c| c.columns.len()).collect();
    assert_eq!(widths, [13, 13, 11, 9, 10]);
    assert_eq!(mixed.cpus[2].time_squeeze, 0xf000_0769);
    assert_eq!(mixed.cpus[3].received_rps, None);
    assert_eq!(mixed.cpus[4].received_rps, Some(mixed.cpus[4].columns[9]));

    let broken = dir.join("procfs/testdata/fixtures.ttar.d/fixtures/proc/net/softnet_stat.broken");
    let err = parse_softnet(&read(&broken), "softnet_stat.broken").unwrap_err();
    assert_eq!(
        err.to_string(),
        "softnet_stat.broken:1: expected at least 9 hex columns, found 4 (\"00015c73 00020e76 F0000769 00000000\")"
    );
}

#[test]
fn conntrack_old_header_generation() {
    let Some(dir) = external("conntrack_old_header_generation") else {
        return;
    };
    let base = dir.join("node_exporter/collector/fixtures/proc");
    let stat = parse_nf_conntrack_stat(&read(&base.join("net/stat/nf_conntrack")), "nf_conntrack")
        .unwrap();
    assert_eq!(stat.per_cpu.len(), 4);
    let view = Conntrack {
        count: Some(
            parse_conntrack_value(
                &read(&base.join("sys/net/netfilter/nf_conntrack_count")),
                "count",
            )
            .unwrap(),
        ),
        max: Some(
            parse_conntrack_value(
                &read(&base.join("sys/net/netfilter/nf_conntrack_max")),
                "max",
            )
            .unwrap(),
        ),
        per_cpu: stat.per_cpu,
    };
    let c = conntrack_counters(&view);
    assert_eq!(value(&c, "ConntrackEntries"), 0x21);
    assert!(c.iter().any(|x| x.name == "ConntrackSearched"));
    assert!(c.iter().any(|x| x.name == "ConntrackDeleteList"));
    assert_eq!(value(&c, "ConntrackCount"), 123);
    assert_eq!(value(&c, "ConntrackMax"), 65536);
    let beats = parse_nf_conntrack_stat(
        &read(&dir.join(
            "beats/metricbeat/module/linux/conntrack/_meta/testdata/proc/net/stat/nf_conntrack",
        )),
        "nf_conntrack",
    )
    .unwrap();
    let c = conntrack_counters(&Conntrack {
        count: None,
        max: None,
        per_cpu: beats.per_cpu,
    });
    assert_eq!(value(&c, "ConntrackInvalid"), 0x1b + 0x4 + 0x53 + 0x8);
}

/// Every capture: every value nstat printed from the same quiet namespace at the same moment
/// equals ours.
#[test]
fn every_capture_matches_its_nstat() {
    let mut captures = 0;
    for entry in std::fs::read_dir(CAPTURES).unwrap().flatten() {
        let dir = entry.path();
        let mut ours: Vec<Counter> = Vec::new();
        for file in ["snmp", "netstat"] {
            ours.extend(
                parse_snmp_pairs(&read(&dir.join("proc/net").join(file)), file)
                    .unwrap()
                    .counters,
            );
        }
        ours.extend(
            parse_snmp6(&read(&dir.join("proc/net/snmp6")), "snmp6")
                .unwrap()
                .counters,
        );
        let nstat = read(&dir.join("nstat-az.txt"));
        let mut compared = 0;
        for line in nstat.lines().filter(|l| !l.starts_with('#')) {
            let mut t = line.split_whitespace();
            let (Some(name), Some(v)) = (t.next(), t.next()) else {
                continue;
            };
            assert_eq!(
                value(&ours, name),
                v.parse::<i128>().unwrap(),
                "{}: {name}",
                dir.display()
            );
            compared += 1;
        }
        assert!(
            compared > 300,
            "{}: only {compared} nstat values",
            dir.display()
        );
        captures += 1;
    }
    assert!(captures >= 2);
}

#[test]
fn listen_overflow_capture() {
    let dir = Path::new(CAPTURES).join("6.18.44-listen-overflow");
    let p = parse_snmp_pairs(&read(&dir.join("proc/net/netstat")), "netstat").unwrap();
    assert_eq!(value(&p.counters, "TcpExtListenOverflows"), 84);
    assert_eq!(value(&p.counters, "TcpExtListenDrops"), 84);
    assert_eq!(value(&p.counters, "TcpExtTCPSynRetrans"), 56);
    assert_eq!(value(&p.counters, "TcpExtSyncookiesSent"), 0);
}

/// Our capture: the new conntrack header generation, and every value nstat printed from the
/// same quiet namespace at the same moment equals ours.
#[test]
fn capture_matches_nstat_taken_at_the_same_moment() {
    let dir = Path::new(CAPTURES).join("6.18.44-loopback-tcp-udp-conntrack");
    let mut ours: Vec<Counter> = Vec::new();
    for file in ["snmp", "netstat"] {
        ours.extend(
            parse_snmp_pairs(&read(&dir.join("proc/net").join(file)), file)
                .unwrap()
                .counters,
        );
    }
    ours.extend(
        parse_snmp6(&read(&dir.join("proc/net/snmp6")), "snmp6")
            .unwrap()
            .counters,
    );
    let nstat = read(&dir.join("nstat-az.txt"));
    let mut compared = 0;
    for line in nstat.lines().filter(|l| !l.starts_with('#')) {
        let mut t = line.split_whitespace();
        let (Some(name), Some(v)) = (t.next(), t.next()) else {
            continue;
        };
        let v: i128 = v.parse().unwrap();
        assert_eq!(value(&ours, name), v, "{name}");
        compared += 1;
    }
    assert!(compared > 300, "only {compared} nstat values");
    assert_eq!(value(&ours, "TcpAttemptFails"), 1);
    assert_eq!(value(&ours, "UdpNoPorts"), 1);
    assert_eq!(value(&ours, "Udp6NoPorts"), 5);

    let stat = parse_nf_conntrack_stat(
        &read(&dir.join("proc/net/stat/nf_conntrack")),
        "nf_conntrack",
    )
    .unwrap();
    let view = Conntrack {
        count: Some(23),
        max: None,
        per_cpu: stat.per_cpu,
    };
    let c = conntrack_counters(&view);
    assert_eq!(value(&c, "ConntrackEntries"), 23);
    assert!(c.iter().any(|x| x.name == "ConntrackClashres"));
    assert!(c.iter().any(|x| x.name == "ConntrackChainlength"));
    let softnet = parse_softnet(&read(&dir.join("proc/net/softnet_stat")), "softnet_stat").unwrap();
    assert!(
        softnet
            .cpus
            .iter()
            .all(|c| c.columns.len() == 15 && c.cpu_from_column)
    );
}
