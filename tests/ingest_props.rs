//! Robustness: mutated real pastes never panic or hang; a 10 MB paste completes.

mod common;

use std::time::{Duration, Instant};

use netdoctor::ingest::{self, PhraseIndex};
use proptest::prelude::*;

fn seeds() -> Vec<String> {
    let story = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/story/netstat-s.txt"
    ))
    .unwrap_or_default();
    let conf = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/story/sysctl.conf"
    ))
    .unwrap_or_default();
    let capture = |name: &str| {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/captures/6.18.44-loopback-tcp-udp-conntrack/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap_or_default()
    };
    vec![
        story,
        conf,
        capture("netstat-s.txt"),
        capture("nstat-az.txt"),
        capture("proc/net/snmp6"),
        capture("proc/net/sockstat"),
        capture("proc/net/softnet_stat"),
        capture("proc/net/stat/nf_conntrack"),
        "#kernel\nIpInReceives                    1495               0.0\nTcpMaxConn -1 0.0\n".into(),
        "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn\nTcp: 1 200 120000 -1\n".into(),
        "State  Recv-Q Send-Q Local Address:Port Peer Address:Port\nLISTEN 0 128 0.0.0.0:80 0.0.0.0:*\n".into(),
        "root@h:~# netstat -s | grep -i listen\n```\n  12 SYNs to LISTEN sockets dropped\n```\n".into(),
        r#"{"schema":"netdoctor.snapshot/v1","origin":{"kind":"live"},"counters":[]}"#.into(),
        r#"{"kernel":{"IpInReceives":1}}"#.into(),
    ]
}

/// Applies byte-level edits: (position, action, byte).
fn mutate(seed: &str, edits: &[(usize, u8, u8)], cut: Option<usize>) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for &(pos, action, byte) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = pos % bytes.len();
        match action % 5 {
            0 => bytes.insert(at, byte),
            1 => {
                bytes.remove(at);
            }
            2 => bytes[at] = byte,
            3 => {
                // A huge number where a digit was.
                let huge = b"99999999999999999999999999999999999999999999";
                bytes.splice(at..at, huge.iter().copied());
            }
            _ => {
                // Duplicate a slice (a second paste, a repeated line).
                let end = (at + usize::from(byte)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    if let Some(cut) = cut
        && !bytes.is_empty()
    {
        bytes.truncate(cut % bytes.len());
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn exercise(text: &str, index: &PhraseIndex) {
    let started = Instant::now();
    let _ = ingest::load_texts_with(&[("fuzz", text, None)], index);
    let _ = ingest::load_series_texts_with(&[("fuzz", text, Some(1.0))], index);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "too slow on {} bytes",
        text.len()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_pastes_never_panic(
        seed in 0usize..14,
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..24),
        cut in prop::option::of(any::<usize>()),
    ) {
        let index = common::index();
        let seeds = seeds();
        let text = mutate(&seeds[seed % seeds.len()], &edits, cut);
        exercise(&text, &index);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        exercise(&text, &common::index());
    }

    #[test]
    fn arbitrary_lines_of_paste_vocabulary_never_panic(
        lines in prop::collection::vec(
            prop_oneof![
                Just("Tcp:".to_string()),
                Just("ICMP input histogram:".to_string()),
                Just("$ netstat -s -6".to_string()),
                Just("root@h:~# sysctl -a | grep tcp".to_string()),
                Just("[root@h ~]# ss -tan".to_string()),
                Just("# cat /proc/net/snmp".to_string()),
                Just("$ nstat -az".to_string()),
                Just("#kernel".to_string()),
                Just("$ date; netstat -s | grep -i listen".to_string()),
                "(Mon|Wed) May  [0-9]{1,2} [0-9]{1,2}:[0-9]{2}:[0-9]{2} (UTC|CEST) 20[0-9]{2}",
                Just("```".to_string()),
                "[0-9]{1,45} packets received",
                "[A-Za-z]{1,12}: -?[0-9]{1,30}",
                "[a-z.]{1,20} = [0-9 ]{0,20}",
                "LISTEN [0-9]{1,25} [0-9]{1,3} [0-9.:]{1,20} \\*",
                "\\PC{0,40}",
            ],
            0..60,
        )
    ) {
        exercise(&lines.join("\n"), &common::index());
    }
}

#[test]
fn a_ten_megabyte_paste_completes() {
    let index = common::index();
    let story = seeds().swap_remove(0);
    assert!(!story.is_empty());
    let mut text = String::with_capacity(10 * 1024 * 1024 + story.len());
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&story);
    }
    let started = Instant::now();
    let result = ingest::load_texts_with(&[("big", &text, None)], &index);
    let elapsed = started.elapsed();
    let Ok((snapshot, report)) = result else {
        panic!("10 MB paste failed")
    };
    assert_eq!(snapshot.counter("TcpExtListenDrops"), Some(35_544_811_584));
    assert!(report.files[0].first_skipped.len() <= ingest::FIRST_SKIPPED);
    assert!(
        report.files[0]
            .notes
            .iter()
            .any(|n| n.contains("pastes in this file"))
    );
    // No timing threshold here (benches/ingest.rs measures speed); completing is the test.
    println!("10 MB paste in {elapsed:?}");

    // 10 MB of one unbroken garbage line: an error or a result, quickly.
    let garbage = "x".repeat(10 * 1024 * 1024);
    let started = Instant::now();
    let _ = ingest::load_texts_with(&[("garbage", &garbage, None)], &index);
    println!("10 MB garbage line in {:?}", started.elapsed());
}
