//! Real captures read through `--from`: the 6.18 loopback capture's `netstat -s` and
//! `nstat -az`, taken in the same quiet moment as its /proc/net files, read back to the same
//! values the live collector's parsers read from those files.

use std::collections::BTreeMap;

use netdoctor::ingest::{self, Format, PhraseIndex};

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/captures/6.18.44-loopback-tcp-udp-conntrack"
);

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{CAPTURE}/{name}")).unwrap_or_default()
}

fn counters(label: &str, text: &str) -> (BTreeMap<String, i128>, Format, usize) {
    match ingest::load_texts_with(&[(label, text, None)], PhraseIndex::from_kb()) {
        Ok((snapshot, report)) => (
            snapshot
                .counters
                .iter()
                .map(|c| (c.name.clone(), c.value))
                .collect(),
            report.files[0].format,
            report.skipped_lines(),
        ),
        Err(e) => panic!("{label}: {e}"),
    }
}

/// The /proc/net files as ingest reads them (the same parsers the collector uses).
fn proc_counters() -> BTreeMap<String, i128> {
    let mut all = BTreeMap::new();
    for file in ["proc/net/snmp", "proc/net/netstat", "proc/net/snmp6"] {
        let (read, _, skipped) = counters(file, &read(file));
        assert_eq!(skipped, 0, "{file}");
        all.extend(read);
    }
    all
}

#[test]
fn netstat_s_capture_equals_proc() {
    let text = read("netstat-s.txt");
    if text.is_empty() {
        println!("SKIP netstat_s_capture_equals_proc: capture absent");
        return;
    }
    let proc = proc_counters();
    let (read, format, skipped) = counters("netstat-s.txt", &text);
    assert_eq!(format, Format::NetstatS);
    assert_eq!(skipped, 0);
    assert!(read.len() > 30);
    for (name, value) in &read {
        assert_eq!(proc.get(name), Some(value), "{name}");
    }
}

#[test]
fn nstat_capture_equals_proc() {
    let text = read("nstat-az.txt");
    if text.is_empty() {
        println!("SKIP nstat_capture_equals_proc: capture absent");
        return;
    }
    let proc = proc_counters();
    let (read, format, skipped) = counters("nstat-az.txt", &text);
    assert_eq!(format, Format::Nstat);
    assert_eq!(skipped, 0);
    for (name, value) in &read {
        let expected = proc
            .get(name)
            .map(|v| if *v < 0 { v + (1i128 << 64) } else { *v });
        assert_eq!(expected, Some(*value), "{name}");
    }
}

#[test]
fn the_capture_mangled_like_a_chat_paste_reads_the_same() {
    let text = read("netstat-s.txt");
    if text.is_empty() {
        println!("SKIP the_capture_mangled_like_a_chat_paste_reads_the_same: capture absent");
        return;
    }
    let (clean, _, _) = counters("netstat-s.txt", &text);
    // Indentation gone, tabs and non-breaking spaces, quote markers, CRLF, a fence and prose.
    let mut mangled = String::from("Here is netstat -s from the box:\n```console\n$ netstat -s\n");
    for (i, line) in text.lines().enumerate() {
        let line = match i % 4 {
            0 => line.trim().to_string(),
            1 => format!("\t{}", line.trim().replace(' ', "\u{a0}")),
            2 => format!("> {line}"),
            _ => format!("{line}\r"),
        };
        mangled.push_str(&line);
        mangled.push('\n');
    }
    mangled.push_str("```\nThanks!\n");
    let (read, format, skipped) = counters("chat.txt", &mangled);
    assert_eq!(format, Format::NetstatS);
    assert_eq!(read, clean);
    assert_eq!(skipped, 2);
}

#[test]
fn sockstat_softnet_and_conntrack_files_read_as_the_collector_reads_them() {
    let files = [
        ("proc/net/sockstat", Format::ProcSockstat),
        ("proc/net/sockstat6", Format::ProcSockstat),
        ("proc/net/softnet_stat", Format::ProcSoftnet),
        ("proc/net/stat/nf_conntrack", Format::ProcConntrackStat),
    ];
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|(name, _)| (name.to_string(), read(name)))
        .collect();
    if texts.iter().any(|(_, t)| t.is_empty()) {
        println!(
            "SKIP sockstat_softnet_and_conntrack_files_read_as_the_collector_reads_them: capture absent"
        );
        return;
    }
    let inputs: Vec<(&str, &str, Option<f64>)> = texts
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_str(), None))
        .collect();
    let Ok((snapshot, report)) = ingest::load_texts_with(&inputs, PhraseIndex::from_kb()) else {
        panic!("load failed")
    };
    for (file, (_, format)) in report.files.iter().zip(files) {
        assert_eq!(file.format, format, "{}", file.file);
        assert_eq!(file.skipped_lines, 0, "{}", file.file);
    }
    assert_eq!(snapshot.sockstat_value("TCP", "tw"), Some(20));
    assert!(snapshot.sockstat.iter().any(|l| l.protocol == "TCP6"));
    assert_eq!(snapshot.softnet.len(), 2);
    assert!(snapshot.counter("SoftnetProcessed").is_some());
    assert!(
        snapshot
            .conntrack
            .as_ref()
            .is_some_and(|c| !c.per_cpu.is_empty())
    );
    assert!(snapshot.counter("ConntrackInsertFailed").is_some());
    for source in ["sockstat", "sockstat6", "softnet_stat", "nf_conntrack"] {
        assert!(snapshot.has_source(source), "{source}");
    }
}
