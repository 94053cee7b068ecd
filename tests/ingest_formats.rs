//! The other `--from` formats: nstat, /proc/net files, sysctl output and configuration, ss,
//! netdoctor snapshot JSON; detection errors; combining files; dated series; FILE@TIME.

mod common;

use std::io::Write;

use common::index;
use netdoctor::ingest::{self, Format, FromSpec, IngestError, PhraseIndex};
use netdoctor::snapshot::Snapshot;

fn load(text: &str, index: &PhraseIndex) -> (Snapshot, ingest::IngestReport) {
    match ingest::load_texts_with(&[("paste.txt", text, None)], index) {
        Ok(result) => result,
        Err(e) => panic!("ingest failed: {e}"),
    }
}

const EXTERNAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/external");

#[test]
fn nstat_with_header_rate_column_and_prompt() {
    let text = "[root@web1 ~]# nstat -az\n#kernel\nIpInReceives                    1495               0.0\n\
TcpExtListenDrops               35544811584        0.0\nTcpMaxConn                      -1                 0.0\n\
Ip6InReceives                   12                 0.0\n";
    let (snapshot, report) = load(text, &index());
    assert_eq!(report.files[0].format, Format::Nstat);
    assert_eq!(snapshot.counter("IpInReceives"), Some(1495));
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(35_544_811_584));
    assert_eq!(snapshot.counter("TcpMaxConn"), Some(-1));
    assert_eq!(snapshot.counter("Ip6InReceives"), Some(12));
    assert_eq!(report.skipped_lines(), 0);
    assert!(
        report.files[0]
            .notes
            .iter()
            .any(|n| n.contains("rate column"))
    );
    assert!(
        snapshot
            .counters
            .iter()
            .any(|c| c.name == "TcpExtListenDrops" && c.section == "TcpExt")
    );
}

#[test]
fn nstat_without_a_says_values_are_increases() {
    let text = "$ nstat\n#kernel\nTcpExtListenDrops               12                 0.0\n";
    let (_, report) = load(text, &index());
    assert!(
        report.files[0]
            .notes
            .iter()
            .any(|n| n.contains("increases since"))
    );
}

#[test]
fn nstat_json() {
    let text = r#"{"kernel":{"IpInReceives":1495,"TcpExtListenDrops":7}}"#;
    let (snapshot, report) = load(text, &index());
    assert_eq!(report.files[0].format, Format::NstatJson);
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(7));
}

#[test]
fn proc_files_from_the_external_corpus() {
    let base = format!("{EXTERNAL}/node_exporter/collector/fixtures/proc/net");
    if !std::path::Path::new(&base).exists() {
        println!("SKIP proc_files_from_the_external_corpus: {EXTERNAL} absent");
        return;
    }
    let index = index();
    for (file, format, probe) in [
        ("snmp", Format::ProcSnmp, "TcpInCsumErrors"),
        ("netstat", Format::ProcSnmp, "TcpExtSyncookiesFailed"),
        ("snmp6", Format::ProcSnmp6, "Ip6InReceives"),
    ] {
        let text = std::fs::read_to_string(format!("{base}/{file}")).unwrap_or_default();
        let (snapshot, report) = load(&text, &index);
        assert_eq!(report.files[0].format, format, "{file}");
        assert_eq!(
            report.skipped_lines(),
            0,
            "{file}: {:?}",
            report.files[0].first_skipped
        );
        assert!(snapshot.counter(probe).is_some(), "{file}: {probe}");
    }
}

#[test]
fn proc_pairs_zip_by_position_and_report_mismatches() {
    let text =
        "Tcp: RtoAlgorithm RtoMin MaxConn\nTcp: 1 200 -1\nUdp: InDatagrams NoPorts\nUdp: 5\n";
    let (snapshot, report) = load(text, &index());
    assert_eq!(report.files[0].format, Format::ProcSnmp);
    assert_eq!(snapshot.counter("TcpMaxConn"), Some(-1));
    assert_eq!(snapshot.counter("UdpInDatagrams"), Some(5));
    assert_eq!(report.files[0].skipped_lines, 1);
}

#[test]
fn sysctl_a_output_gives_live_values() {
    let mut text = String::from("$ sudo sysctl -a\n");
    text.push_str("sysctl: permission denied on key 'fs.protected_hardlinks'\n");
    text.push_str("net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_rmem = 4096\t131072\t6291456\n");
    for i in 0..250 {
        text.push_str(&format!("kernel.sample_{i} = {i}\n"));
    }
    let (snapshot, report) = load(&text, &index());
    assert_eq!(report.files[0].format, Format::SysctlOutput);
    let view = snapshot.sysctl.as_ref();
    assert_eq!(
        view.and_then(|v| v.live("net.ipv4.tcp_tw_recycle")),
        Some("1")
    );
    assert_eq!(
        view.and_then(|v| v.live("net.ipv4.tcp_rmem")),
        Some("4096 131072 6291456")
    );
    assert!(snapshot.has_source("sysctl"));
    assert!(!snapshot.has_source("sysctl_files"));
    assert_eq!(report.skipped_lines(), 0);
}

#[test]
fn sysctl_p_output_and_plain_lines() {
    let (snapshot, report) = load("# sysctl -p\nnet.core.somaxconn = 4096\n", &index());
    assert_eq!(report.files[0].format, Format::SysctlOutput);
    assert_eq!(
        snapshot
            .sysctl
            .as_ref()
            .and_then(|v| v.live("net.core.somaxconn")),
        Some("4096")
    );
    // No marker either way: configuration, and the report says it was a reading.
    let (snapshot, report) = load("net.core.somaxconn = 4096\n", &index());
    assert_eq!(report.files[0].format, Format::SysctlConfig);
    assert!(report.files[0].reading.contains("could be"));
    let key = snapshot
        .sysctl
        .as_ref()
        .and_then(|v| v.key("net.core.somaxconn"));
    assert_eq!(
        key.and_then(|k| k.configured.as_ref()).map(|a| a.line),
        Some(1)
    );
}

#[test]
fn sysctl_conf_duplicates_become_overrides() {
    let text = "; comment\nnet.core.somaxconn=128\n\n-net/core/somaxconn = 4096\nnonsense here\n";
    let (snapshot, report) = load(text, &index());
    assert_eq!(report.files[0].format, Format::SysctlConfig);
    let key = snapshot
        .sysctl
        .as_ref()
        .and_then(|v| v.key("net.core.somaxconn"));
    let configured = key.and_then(|k| k.configured.as_ref());
    assert_eq!(
        configured.map(|a| (a.value.as_str(), a.line, a.ignore_failure)),
        Some(("4096", 4, true))
    );
    assert_eq!(key.map(|k| k.overrides.len()), Some(1));
    assert_eq!(report.files[0].skipped_lines, 1);
    assert_eq!(report.files[0].first_skipped[0].line, 5);
}

#[test]
fn ss_listeners_and_states() {
    let text = "$ ss -ltn\nState  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n\
LISTEN 129    128          0.0.0.0:443       0.0.0.0:*\nLISTEN 0      4096            [::]:22          [::]:*\n";
    let (snapshot, report) = load(text, &index());
    assert_eq!(report.files[0].format, Format::Ss);
    let view = snapshot.sockets.as_ref();
    assert_eq!(view.map(|v| v.listeners.len()), Some(2));
    assert_eq!(view.map(|v| v.listeners[0].queue), Some(129));
    assert_eq!(view.map(|v| v.listeners[0].backlog), Some(Some(128)));
    assert!(view.is_some_and(|v| v.method.contains("listeners only")));
    assert!(snapshot.has_source("sockets"));

    let text = "Netid State     Recv-Q Send-Q Local Address:Port  Peer Address:Port\n\
udp   UNCONN    0      0          0.0.0.0:68         0.0.0.0:*\n\
tcp   SYN-RECV  0      0        10.0.0.1:443     10.0.0.9:5123\n\
tcp   TIME-WAIT 0      0        10.0.0.1:443     10.0.0.9:5124\n\
tcp   TIME-WAIT 0      0        10.0.0.1:443     10.0.0.9:5125\n";
    let (snapshot, report) = load(text, &index());
    assert_eq!(report.skipped_lines(), 0);
    let states = snapshot.sockets.map(|v| v.states).unwrap_or_default();
    assert!(states.contains(&("TIME_WAIT".to_string(), 2)));
    assert!(states.contains(&("SYN_RECV".to_string(), 1)));
}

#[test]
fn snapshot_json_round_trips() {
    let mut original = Snapshot::new(netdoctor::snapshot::Origin::Live);
    original.collected_at_unix_s = Some(1_714_557_600.0);
    original.host.uptime_s = Some(86_400.0);
    original.counters.push(netdoctor::snapshot::Counter {
        name: "TcpExtListenDrops".into(),
        section: "TcpExt".into(),
        value: 42,
    });
    let text = serde_json::to_string_pretty(&original).unwrap_or_default();
    let (snapshot, report) = load(&text, &index());
    assert_eq!(report.files[0].format, Format::SnapshotJson);
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(42));
    assert_eq!(snapshot.host.uptime_s, Some(86_400.0));
    assert_eq!(snapshot.collected_at_unix_s, Some(1_714_557_600.0));

    let bad = text.replace("netdoctor.snapshot/v1", "netdoctor.snapshot/v9");
    let err = ingest::load_texts_with(&[("old.json", &bad, None)], &index());
    assert!(matches!(err, Err(IngestError::BadSnapshot { .. })));
}

#[test]
fn unknown_content_is_a_clear_error() {
    for text in [
        "",
        "hello world\nthis is prose\n",
        "\u{0}\u{1}\u{2}binary",
        "$ netstat -s\n",
    ] {
        match ingest::load_texts_with(&[("mystery.txt", text, None)], &index()) {
            Err(IngestError::NoFormat { file, .. }) => assert_eq!(file, "mystery.txt"),
            other => panic!("expected NoFormat for {text:?}, got {other:?}"),
        }
    }
}

#[test]
fn files_combine_into_one_snapshot() {
    let index = index();
    let netstat = "TcpExt:\n    35544811584 SYNs to LISTEN sockets dropped\n";
    let sysctl = "# from /etc/sysctl.conf\nnet.ipv4.tcp_tw_recycle = 1\n";
    let ss = "State  Recv-Q Send-Q Local Address:Port Peer Address:Port\nLISTEN 0 128 0.0.0.0:80 0.0.0.0:*\n";
    let result = ingest::load_texts_with(
        &[
            ("netstat.txt", netstat, None),
            ("sysctl.conf", sysctl, None),
            ("ss.txt", ss, None),
        ],
        &index,
    );
    let Ok((snapshot, report)) = result else {
        panic!("combine failed")
    };
    assert_eq!(report.files.len(), 3);
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(35_544_811_584));
    assert!(
        snapshot
            .sysctl
            .as_ref()
            .and_then(|v| v.key("net.ipv4.tcp_tw_recycle"))
            .is_some()
    );
    assert!(snapshot.sockets.is_some());
    match &snapshot.origin {
        netdoctor::snapshot::Origin::Files { files } => assert_eq!(files.len(), 3),
        other => panic!("origin {other:?}"),
    }
    for source in [
        "paste:netstat.txt",
        "paste:sysctl.conf",
        "paste:ss.txt",
        "netstat",
        "sysctl_files",
        "sockets",
    ] {
        assert!(snapshot.has_source(source), "{source}");
    }
    for source in [
        "snmp",
        "snmp6",
        "sysctl",
        "host",
        "second_sample",
        "softnet_stat",
    ] {
        assert!(!snapshot.has_source(source), "{source}");
        assert!(
            snapshot.source(source).is_some(),
            "{source} not marked missing"
        );
    }
}

#[test]
fn dated_pastes_make_a_series_for_rates() {
    let index = index();
    let early = "TcpExt:\n    100 SYNs to LISTEN sockets dropped\n";
    let late = "TcpExt:\n    160 SYNs to LISTEN sockets dropped\n";
    let conf = "# conf\nnet.ipv4.tcp_tw_recycle = 1\n";
    let t0 = 1_714_557_600.0;
    let result = ingest::load_series_texts_with(
        &[
            ("late.txt", late, Some(t0 + 60.0)),
            ("conf", conf, None),
            ("early.txt", early, Some(t0)),
        ],
        &index,
    );
    let Ok((series, report)) = result else {
        panic!("series failed")
    };
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].counter("TcpExtListenDrops"), Some(100));
    assert_eq!(series[1].counter("TcpExtListenDrops"), Some(160));
    assert_eq!(series[0].collected_at_unix_s, Some(t0));
    assert_eq!(series[1].monotonic_s, Some(t0 + 60.0));
    assert!(
        series
            .iter()
            .all(|s| s.sysctl.is_some() && s.has_source("second_sample"))
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("rates are measured"))
    );

    // An undated counter paste among dated ones is refused, not mixed in.
    let mixed =
        ingest::load_series_texts_with(&[("a", early, Some(t0)), ("b", late, None)], &index);
    assert!(matches!(mixed, Err(IngestError::UndatedCounters { .. })));

    // load() of the same dated pair: one snapshot with the later values, and a note.
    let one = ingest::load_texts_with(
        &[("late", late, Some(t0 + 60.0)), ("early", early, Some(t0))],
        &index,
    );
    let Ok((snapshot, report)) = one else {
        panic!("load failed")
    };
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(160));
    assert!(report.notes.iter().any(|n| n.contains("different times")));
}

#[test]
fn from_specs_read_files_times_and_mtimes() {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("tempdir: {e}"),
    };
    let path = dir.path().join("netstat@host.txt");
    let written = std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(b"Tcp:\n    12 resets sent\n    OutRsts: 12\n"));
    assert!(written.is_ok());
    let name = path.display().to_string();
    let dated = FromSpec::parse(&format!("{name}@2024-05-01T10:00:00"), false);
    let Ok(dated) = dated else { panic!("spec") };
    assert_eq!(dated.path, name);
    let Ok((snapshot, report)) = ingest::load_with(&[dated], &index()) else {
        panic!("load")
    };
    assert_eq!(snapshot.collected_at_unix_s, Some(1_714_557_600.0));
    assert_eq!(report.files[0].file, name);

    let Ok(by_mtime) = FromSpec::parse(&name, true) else {
        panic!("spec")
    };
    let Ok((snapshot, _)) = ingest::load_with(&[by_mtime], &index()) else {
        panic!("load")
    };
    assert!(
        snapshot
            .collected_at_unix_s
            .is_some_and(|t| t > 1_700_000_000.0)
    );

    let missing = FromSpec::parse("/nonexistent/netdoctor-ingest.txt", false);
    let Ok(missing) = missing else { panic!("spec") };
    assert!(matches!(
        ingest::load_with(&[missing], &index()),
        Err(IngestError::Io { .. })
    ));
    let stdin_twice = [FromSpec::parse("-", false), FromSpec::parse("-", false)];
    let specs: Vec<FromSpec> = stdin_twice.into_iter().filter_map(Result::ok).collect();
    assert!(matches!(
        ingest::load_with(&specs, &index()),
        Err(IngestError::StdinTwice)
    ));
}

#[test]
fn one_ticket_with_several_commands_is_read_part_by_part() {
    let text = "Hello, outputs from web1 below.\n\
```\n\
root@web1:~# netstat -s | grep -i listen\n\
    35544811584 SYNs to LISTEN sockets dropped\n\
    24781095 times the listen queue of a socket overflowed\n\
root@web1:~# sysctl -a | grep tw_\n\
net.ipv4.tcp_tw_recycle = 1\n\
net.ipv4.tcp_tw_reuse = 1\n\
root@web1:~# cat /etc/sysctl.conf\n\
# tuning\n\
net.ipv4.tcp_tw_recycle = 1\n\
root@web1:~# ss -ltn\n\
State  Recv-Q Send-Q Local Address:Port Peer Address:Port\n\
LISTEN 129    128    0.0.0.0:443        0.0.0.0:*\n\
```\n\
thanks\n";
    let (snapshot, report) = load(text, &index());
    let file = &report.files[0];
    assert!(
        file.reading.contains("several command outputs"),
        "{}",
        file.reading
    );
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(35_544_811_584));
    let view = snapshot.sysctl.as_ref();
    let key = view.and_then(|v| v.key("net.ipv4.tcp_tw_recycle"));
    assert_eq!(key.and_then(|k| k.live.as_deref()), Some("1"));
    assert_eq!(
        key.and_then(|k| k.configured.as_ref()).map(|a| a.line),
        Some(11)
    );
    assert_eq!(
        snapshot.sockets.as_ref().map(|v| v.listeners.len()),
        Some(1)
    );
    // The prose lines are skipped with their own line numbers.
    assert_eq!(file.skipped_lines, 2, "{:?}", file.first_skipped);
    assert_eq!(file.first_skipped[0].line, 1);
    assert_eq!(file.first_skipped[1].line, 16);
}

#[test]
fn two_dated_pastes_in_one_file_are_two_moments() {
    let text = "root@web1:~# date; netstat -s | grep -i listen\n\
Wed May  1 10:00:00 UTC 2024\n\
    100 SYNs to LISTEN sockets dropped\n\
    40 times the listen queue of a socket overflowed\n\
root@web1:~# date\n\
Wed May  1 10:01:00 UTC 2024\n\
root@web1:~# netstat -s | grep -i listen\n\
    160 SYNs to LISTEN sockets dropped\n\
    70 times the listen queue of a socket overflowed\n";
    let index = index();
    let Ok((series, report)) =
        ingest::load_series_texts_with(&[("ticket.txt", text, None)], &index)
    else {
        panic!("series failed")
    };
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].counter("TcpExtListenDrops"), Some(100));
    assert_eq!(series[1].counter("TcpExtListenDrops"), Some(160));
    assert_eq!(series[0].collected_at_unix_s, Some(1_714_557_600.0));
    assert_eq!(series[1].collected_at_unix_s, Some(1_714_557_660.0));
    assert_eq!(report.files.len(), 2);
    assert_eq!(report.files[1].file, "ticket.txt (lines 7-9)");
    assert_eq!(report.skipped_lines(), 0, "{:?}", report.files);

    // One snapshot: the later paste's values.
    let Ok((snapshot, _)) = ingest::load_texts_with(&[("ticket.txt", text, None)], &index) else {
        panic!("load failed")
    };
    assert_eq!(snapshot.counter("TcpExtListenOverflows"), Some(70));
    // Undated repeats stay one text, later values winning.
    let undated: String = text
        .lines()
        .filter(|l| !l.starts_with("Wed"))
        .collect::<Vec<_>>()
        .join("\n");
    let Ok((series, _)) = ingest::load_series_texts_with(&[("t", &undated, None)], &index) else {
        panic!("series failed")
    };
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].counter("TcpExtListenDrops"), Some(160));
}
