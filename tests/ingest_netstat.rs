//! `netstat -s` pastes: every wording, the story, partial and mangled pastes, raw fallbacks,
//! ambiguous phrases, several pastes in one file.

mod common;

use common::{PhraseRow, fill, index, index_of, rows};
use netdoctor::ingest::{self, Format, PhraseIndex};
use netdoctor::snapshot::Snapshot;

fn load(text: &str, index: &PhraseIndex) -> (Snapshot, ingest::IngestReport) {
    match ingest::load_texts_with(&[("paste.txt", text, None)], index) {
        Ok(result) => result,
        Err(e) => panic!("ingest failed: {e}"),
    }
}

fn story_text() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/story/netstat-s.txt"
    );
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Builds a full paste (headers, histograms) with the `variant`-th wording of every counter;
/// returns the text and the expected value per counter.
fn full_paste(rows: &[PhraseRow], variant: usize) -> (String, Vec<(String, u64)>) {
    let mut by_counter: Vec<(&str, Vec<&PhraseRow>)> = Vec::new();
    for row in rows {
        match by_counter.iter_mut().find(|(n, _)| *n == row.name) {
            Some((_, list)) => list.push(row),
            None => by_counter.push((&row.name, vec![row])),
        }
    }
    let mut sections: Vec<&str> = Vec::new();
    for row in rows {
        if !sections.contains(&row.section.as_str()) {
            sections.push(&row.section);
        }
    }
    let mut text = String::new();
    let mut expected = Vec::new();
    let mut value = 1_000u64;
    for section in sections {
        text.push_str(&format!("{section}:\n"));
        for part in [None, Some("input"), Some("output")] {
            let mut header_done = false;
            for (name, list) in &by_counter {
                let Some(row) = list.get(variant) else {
                    continue;
                };
                if row.section != section || row.histogram != part {
                    continue;
                }
                if let (Some(h), false) = (part, header_done) {
                    text.push_str(&format!("    ICMP {h} histogram:\n"));
                    header_done = true;
                }
                value += 7;
                let indent = if part.is_some() { "        " } else { "    " };
                text.push_str(&format!("{indent}{}\n", fill(&row.phrase, value)));
                expected.push((name.to_string(), value));
            }
        }
    }
    (text, expected)
}

#[test]
fn every_wording_reads_back_under_its_section() {
    let (rows, source) = rows();
    let index = index_of(&rows);
    let mut checked = 0;
    for variant in 0..8 {
        let (text, expected) = full_paste(&rows, variant);
        if expected.is_empty() {
            break;
        }
        let (snapshot, report) = load(&text, &index);
        assert_eq!(report.files[0].format, Format::NetstatS);
        assert_eq!(
            report.skipped_lines(),
            0,
            "{:?}",
            report.files[0].first_skipped
        );
        for (name, value) in &expected {
            assert_eq!(
                snapshot.counter(name),
                Some(i128::from(*value)),
                "{name} (variant {variant}, rows from {source})"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
    println!("checked {checked} wordings from the {source}");
}

#[test]
fn every_wording_alone_without_a_header() {
    let (rows, _) = rows();
    let index = index_of(&rows);
    for row in &rows {
        let text = format!("   {}\n", fill(&row.phrase, 4242));
        let (snapshot, report) = load(&text, &index);
        let same_wording: Vec<&str> = rows
            .iter()
            .filter(|r| r.phrase.eq_ignore_ascii_case(&row.phrase))
            .map(|r| r.name.as_str())
            .collect();
        let read: Vec<&str> = snapshot.counters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(read.len(), 1, "{}: {read:?}", row.phrase);
        assert!(
            same_wording.contains(&read[0]),
            "{} read as {}",
            row.phrase,
            read[0]
        );
        assert_eq!(snapshot.counters[0].value, 4242);
        let distinct: std::collections::HashSet<&str> = same_wording.iter().copied().collect();
        if distinct.len() > 1 {
            let notes = report.files[0].notes.join("\n");
            assert!(
                notes.contains("read as"),
                "no reading noted for `{}`: {notes}",
                row.phrase
            );
        }
    }
}

#[test]
fn every_wording_in_the_knowledge_base() {
    let kb = netdoctor::kb::counters();
    if kb.iter().all(|c| c.phrases.is_empty()) {
        println!(
            "SKIP every_wording_in_the_knowledge_base: the knowledge base lists no phrases yet"
        );
        return;
    }
    let index = PhraseIndex::from_kb();
    let rows: Vec<PhraseRow> = kb
        .iter()
        .flat_map(|c| {
            c.phrases
                .iter()
                .filter(|p| p.contains("{n}"))
                .map(|p| PhraseRow {
                    name: c.name.to_string(),
                    section: c
                        .netstat_section
                        .map(|s| s.trim_end_matches(':').to_string())
                        .unwrap_or_else(|| c.section.to_string()),
                    field: c.field.to_string(),
                    phrase: p.to_string(),
                    histogram: if c.section.starts_with("Icmp") && p.trim_end().ends_with(": {n}") {
                        Some(if c.field.starts_with("In") {
                            "input"
                        } else {
                            "output"
                        })
                    } else {
                        None
                    },
                })
        })
        .collect();
    let mut checked = 0;
    for variant in 0..8 {
        let (text, expected) = full_paste(&rows, variant);
        if expected.is_empty() {
            break;
        }
        let (snapshot, report) = load(&text, index);
        assert_eq!(
            report.skipped_lines(),
            0,
            "{:?}",
            report.files[0].first_skipped
        );
        for (name, value) in &expected {
            assert_eq!(snapshot.counter(name), Some(i128::from(*value)), "{name}");
            checked += 1;
        }
    }
    println!("checked {checked} knowledge-base wordings");
}

#[test]
fn the_story_keeps_totals_exactly_and_has_no_rate() {
    let text = story_text();
    assert!(!text.is_empty(), "story fixture missing");
    let index = index();
    let (snapshot, report) = load(&text, &index);
    assert_eq!(report.files[0].format, Format::NetstatS);
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(35_544_811_584));
    assert_eq!(snapshot.counter("TcpExtSyncookiesFailed"), Some(7_008_728));
    assert_eq!(snapshot.counter("TcpExtTCPRcvCollapsed"), Some(10_703));
    assert_eq!(snapshot.counter("TcpExtTCPSynRetrans"), Some(9_120_871));
    assert_eq!(snapshot.counter("IcmpMsgInType3"), Some(1_031_770));
    // No time: no rate can be computed from it.
    assert_eq!(snapshot.collected_at_unix_s, None);
    assert_eq!(snapshot.monotonic_s, None);
    assert!(!snapshot.has_source("second_sample"));
    assert!(!snapshot.has_source("sockets"));
    assert!(!snapshot.has_source("host"));
    assert!(report.notes.iter().any(|n| n.contains("lifetime totals")));
    assert!(matches!(
        snapshot.origin,
        netdoctor::snapshot::Origin::Files { .. }
    ));

    let conf = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/story/sysctl.conf"
    ))
    .unwrap_or_default();
    let both = ingest::load_texts_with(
        &[("netstat-s.txt", &text, None), ("sysctl.conf", &conf, None)],
        &index,
    );
    let Ok((snapshot, report)) = both else {
        panic!("story pair failed to load")
    };
    assert_eq!(report.files[1].format, Format::SysctlConfig);
    let key = snapshot
        .sysctl
        .as_ref()
        .and_then(|v| v.key("net.ipv4.tcp_tw_recycle"));
    let configured = key.and_then(|k| k.configured.as_ref());
    assert_eq!(configured.map(|a| a.value.as_str()), Some("1"));
    assert_eq!(configured.map(|a| a.line), Some(9));
    assert_eq!(configured.map(|a| a.file.as_str()), Some("sysctl.conf"));
    assert_eq!(key.and_then(|k| k.live.as_deref()), None);
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(35_544_811_584));
}

#[test]
fn partial_paste_with_prompt_fences_prose_and_mangled_indentation() {
    let text = "Hi, this is what we see on web1 since Monday:\n\n```\n\
root@web1:~# netstat -s | grep -i -e listen -e cookies\n\
\t 35544811584 SYNs to LISTEN sockets dropped\n\
>   7008728\u{a0}invalid SYN  cookies received\r\n\
10703 packets collapsed in receive queue due to low socket buffer\n\
```\nany idea? thanks\n";
    let index = index();
    let (snapshot, report) = load(text, &index);
    let file = &report.files[0];
    assert_eq!(file.format, Format::NetstatS);
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(35_544_811_584));
    assert_eq!(snapshot.counter("TcpExtSyncookiesFailed"), Some(7_008_728));
    assert_eq!(snapshot.counter("TcpExtTCPRcvCollapsed"), Some(10_703));
    assert_eq!(file.counters_read, 3);
    assert_eq!(file.skipped_lines, 2, "{:?}", file.first_skipped);
    assert_eq!(file.first_skipped[0].line, 1);
    assert_eq!(file.first_skipped[1].line, 9);
    assert!(file.notes.iter().any(|n| n.contains("grep")));
}

#[test]
fn historic_wordings_read_as_today() {
    let text = "Tcp:\n    5 active connections openings\n    9 segments send out\n    \
                3 segments retransmited\nTcpExt:\n    4 SYNs to LISTEN sockets ignored\n    \
                2 packets rejects in established connections because of timestamp\n";
    let index = index();
    let (snapshot, report) = load(text, &index);
    assert_eq!(
        report.skipped_lines(),
        0,
        "{:?}",
        report.files[0].first_skipped
    );
    assert_eq!(snapshot.counter("TcpActiveOpens"), Some(5));
    assert_eq!(snapshot.counter("TcpOutSegs"), Some(9));
    assert_eq!(snapshot.counter("TcpRetransSegs"), Some(3));
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(4));
    assert_eq!(snapshot.counter("TcpExtPAWSEstab"), Some(2));
}

#[test]
fn raw_fallback_lines_take_their_section() {
    let text = "Ip:\n    Forwarding: 2\n    OutTransmits: 809\nIcmp:\n    ICMP output histogram:\n\
IcmpMsg:\n        InType3: 1\nTcp:\n    InCsumErrors: 4\nTcpExt:\n    TCPTimeouts: 2\n\
    TcpTimeoutRehash: 2\nIpExt:\n    InOctets: 35023458\nMPTcpExt:\n";
    let index = index();
    let (snapshot, report) = load(text, &index);
    assert_eq!(report.skipped_lines(), 0);
    assert_eq!(snapshot.counter("IpForwarding"), Some(2));
    assert_eq!(snapshot.counter("IpOutTransmits"), Some(809));
    assert_eq!(snapshot.counter("IcmpMsgInType3"), Some(1));
    assert_eq!(snapshot.counter("TcpInCsumErrors"), Some(4));
    assert_eq!(snapshot.counter("TcpExtTCPTimeouts"), Some(2));
    assert_eq!(snapshot.counter("TcpExtTcpTimeoutRehash"), Some(2));
    assert_eq!(snapshot.counter("IpExtInOctets"), Some(35_023_458));
    assert!(snapshot.has_source("snmp") && snapshot.has_source("netstat"));
    assert!(!snapshot.has_source("snmp6"));
}

#[test]
fn a_raw_line_without_header_is_found_by_field() {
    let index = index();
    let (snapshot, report) = load("$ netstat -s | grep Timeouts\n    TCPTimeouts: 2\n", &index);
    assert_eq!(snapshot.counter("TcpExtTCPTimeouts"), Some(2));
    assert_eq!(report.skipped_lines(), 0);
    // A field nothing knows, without a section: reported, not guessed.
    let (snapshot, report) = load("TCPSomethingNew: 5\n12 resets sent\nTcp:\n", &index);
    assert_eq!(snapshot.counter("TCPSomethingNew"), None);
    assert_eq!(
        report.files[0].skipped_lines,
        1 + usize::from(snapshot.counter("TcpOutRsts").is_none())
    );
}

#[test]
fn ambiguous_phrases_follow_the_section_or_say_which_reading() {
    let index = index();
    let text = "Udp:\n    29 packets received\nUdp6:\n    31 packets received\n";
    let (snapshot, report) = load(text, &index);
    assert_eq!(snapshot.counter("UdpInDatagrams"), Some(29));
    assert_eq!(snapshot.counter("Udp6InDatagrams"), Some(31));
    assert!(report.files[0].notes.iter().all(|n| !n.contains("read as")));

    let (snapshot, report) = load("    29 packets received\n", &index);
    assert_eq!(snapshot.counter("UdpInDatagrams"), Some(29));
    let notes = report.files[0].notes.join("\n");
    assert!(
        notes.contains("read as UdpInDatagrams") && notes.contains("Udp6InDatagrams"),
        "{notes}"
    );

    let (snapshot, _) = load(
        "$ netstat -s -6 | grep received\n    29 packets received\n",
        &index,
    );
    assert_eq!(snapshot.counter("Udp6InDatagrams"), Some(29));

    let text = "Icmp:\n    ICMP input histogram:\n        echo requests: 5\n    \
                ICMP output histogram:\n        echo requests: 6\n";
    let (snapshot, _) = load(text, &index);
    assert_eq!(snapshot.counter("IcmpInEchos"), Some(5));
    assert_eq!(snapshot.counter("IcmpOutEchos"), Some(6));
}

#[test]
fn two_pastes_in_one_file_keep_the_later_values() {
    let index = index();
    let text = "$ netstat -s | grep -i listen\n    100 SYNs to LISTEN sockets dropped\n\
                $ sleep 60; netstat -s | grep -i listen\n    160 SYNs to LISTEN sockets dropped\n\
                \n    170 SYNs to LISTEN sockets dropped\n";
    let (snapshot, report) = load(text, &index);
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(170));
    assert_eq!(snapshot.counters.len(), 1);
    let notes = report.files[0].notes.join("\n");
    assert!(notes.contains("3 pastes"), "{notes}");
}

#[test]
fn this_hosts_netstat_output_is_read_whole() {
    let Ok(out) = std::process::Command::new("netstat")
        .arg("-s")
        .env("LC_ALL", "C")
        .output()
    else {
        println!("SKIP this_hosts_netstat_output_is_read_whole: netstat not installed");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (rows, source) = rows();
    if source == "built-in table" {
        println!("SKIP this_hosts_netstat_output_is_read_whole: no full phrase table");
        return;
    }
    let index = index_of(&rows);
    let (snapshot, report) = load(&text, &index);
    assert_eq!(
        report.skipped_lines(),
        0,
        "{:?}",
        report.files[0].first_skipped
    );
    assert!(snapshot.counter("TcpActiveOpens").is_some());
}

#[test]
fn translated_output_says_to_use_the_c_locale() {
    let text = "Ip:\n    1495 Pakete insgesamt empfangen\n    0 weitergeleitet\n    \
                0 eingehende Pakete verworfen\n    1495 eingehende Pakete ausgeliefert\n    \
                809 Anforderungen gesendet\n    Forwarding: 2\nTcp:\n    15 aktive Verbindungsöffnungen\n    \
                2 passive Verbindungsöffnungen\n";
    let (snapshot, report) = load(text, &index());
    assert_eq!(snapshot.counter("IpForwarding"), Some(2));
    let file = &report.files[0];
    assert_eq!(file.skipped_lines, 7);
    assert!(
        file.notes.iter().any(|n| n.contains("LC_ALL=C")),
        "{:?}",
        file.notes
    );
}

#[test]
fn lines_wrapped_by_a_chat_tool_are_joined() {
    let text = "TcpExt:\n    10703 packets collapsed in receive queue due to\nlow socket buffer\n    \
                35544811584 SYNs to LISTEN\n    sockets dropped\n    Quick ack mode was activated\n7 times\n\
                a line of prose\n";
    let (snapshot, report) = load(text, &index());
    assert_eq!(snapshot.counter("TcpExtTCPRcvCollapsed"), Some(10_703));
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(35_544_811_584));
    assert_eq!(snapshot.counter("TcpExtDelayedACKLost"), Some(7));
    let file = &report.files[0];
    assert_eq!(file.skipped_lines, 1, "{:?}", file.first_skipped);
    assert_eq!(file.first_skipped[0].line, 8);
}
