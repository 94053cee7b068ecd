//! Property tests for the procfs parsers: garbage, truncation, mismatched counts, huge
//! numbers, binary input and a 10 MB file never panic; they give a clear error naming the
//! file and line, or a partial result that says what it skipped.

use netdoctor::collect::procfs::{
    ParseError, conntrack::parse_conntrack_value, parse_nf_conntrack_stat, parse_snmp_pairs,
    parse_snmp6, parse_sockstat, parse_softnet,
};
use proptest::prelude::*;

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/captures/6.18.44-loopback-tcp-udp-conntrack/proc/net/"
);

fn capture(name: &str) -> String {
    std::fs::read_to_string(format!("{CAPTURE}{name}")).unwrap()
}

/// Runs every parser over `text`; each must return, and an error must name the file and a
/// line inside the text.
fn all_parsers_survive(text: &str) {
    let lines = text.lines().count().max(1);
    let check = |err: ParseError, file: &str| {
        let msg = err.to_string();
        assert!(msg.starts_with(file), "{msg}");
        if let ParseError::Malformed { line, .. } = err {
            assert!(line >= 1 && line <= lines, "line {line} of {lines}");
        }
    };
    if let Err(e) = parse_snmp_pairs(text, "F-snmp") {
        check(e, "F-snmp");
    }
    if let Err(e) = parse_snmp6(text, "F-snmp6") {
        check(e, "F-snmp6");
    }
    if let Err(e) = parse_sockstat(text, "F-sockstat") {
        check(e, "F-sockstat");
    }
    if let Err(e) = parse_softnet(text, "F-softnet") {
        check(e, "F-softnet");
    }
    if let Err(e) = parse_nf_conntrack_stat(text, "F-conntrack") {
        check(e, "F-conntrack");
    }
    if let Err(e) = parse_conntrack_value(text, "F-count") {
        check(e, "F-count");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn binary_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        all_parsers_survive(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn text_garbage_never_panics(text in "[A-Za-z0-9: \\-\t\n_]{0,2000}") {
        all_parsers_survive(&text);
    }

    #[test]
    fn truncated_files_give_a_prefix_or_an_error(cut in 0usize..20_000, which in 0usize..7) {
        let name = ["snmp", "netstat", "snmp6", "sockstat", "sockstat6", "softnet_stat", "stat/nf_conntrack"][which];
        let full = capture(name);
        let mut cut = cut.min(full.len());
        while !full.is_char_boundary(cut) { cut -= 1; }
        let part = &full[..cut];
        all_parsers_survive(part);
        if matches!(name, "snmp" | "netstat") {
            let whole = parse_snmp_pairs(&full, name).unwrap().counters;
            if let Ok(p) = parse_snmp_pairs(part, name) {
                // Every counter but the very last (whose digits may be cut) is exact.
                let n = p.counters.len();
                for (i, c) in p.counters.iter().enumerate() {
                    let w = whole.iter().find(|w| w.name == c.name).unwrap();
                    if i + 1 < n { prop_assert_eq!(w.value, c.value); }
                }
                prop_assert!(n <= whole.len());
            }
        }
    }

    #[test]
    fn mismatched_counts_keep_what_pairs_up(names in 1usize..40, values in 1usize..40) {
        let header: Vec<String> = (0..names).map(|i| format!("F{i}")).collect();
        let vals: Vec<String> = (0..values).map(|i| i.to_string()).collect();
        let text = format!("Sec: {}\nSec: {}\n", header.join(" "), vals.join(" "));
        let p = parse_snmp_pairs(&text, "snmp").unwrap();
        prop_assert_eq!(p.counters.len(), names.min(values));
        prop_assert_eq!(p.skipped.len(), usize::from(names != values));
        if names != values {
            prop_assert_eq!(p.skipped[0].line, 2);
        }
    }

    #[test]
    fn huge_numbers_round_trip(v in any::<u64>(), w in any::<u128>(), neg in any::<i64>()) {
        let w = w >> 1; // within i128
        let text = format!("Big: A B C\nBig: {v} {w} {neg}\n");
        let p = parse_snmp_pairs(&text, "netstat").unwrap();
        prop_assert_eq!(p.counters[0].value, i128::from(v));
        prop_assert_eq!(p.counters[1].value, w as i128);
        prop_assert_eq!(p.counters[2].value, i128::from(neg));
        let p6 = parse_snmp6(&format!("Ip6Big {v}\n"), "snmp6").unwrap();
        prop_assert_eq!(p6.counters[0].value, i128::from(v));
    }
}

#[test]
fn twenty_digit_values() {
    let text = "TcpExt: A B C\nTcpExt: 18446744073709551615 99999999999999999999 1\n";
    let p = parse_snmp_pairs(text, "netstat").unwrap();
    assert_eq!(p.counters[0].value, 18_446_744_073_709_551_615);
    assert_eq!(p.counters[1].value, 99_999_999_999_999_999_999);
    // Beyond i128: that field is skipped with its line, the others are kept.
    let text = format!("TcpExt: A B\nTcpExt: {} 5\n", "9".repeat(45));
    let p = parse_snmp_pairs(&text, "netstat").unwrap();
    assert_eq!(p.counters.len(), 1);
    assert_eq!(p.skipped[0].line, 2);
    // A softnet column beyond 32 bits is not a softnet row.
    let err = parse_softnet("1ffffffff 0 0 0 0 0 0 0 0\n", "softnet_stat").unwrap_err();
    assert!(err.to_string().contains("not a 32-bit hex value"), "{err}");
}

#[test]
fn ten_megabytes_of_input() {
    // A valid file repeated to 10 MB: parsed whole without panicking. (No time limit is
    // asserted: the benchmarks measure speed; a loaded test machine must not fail this.)
    let netstat = capture("netstat");
    let big = netstat.repeat(10 * 1024 * 1024 / netstat.len() + 1);
    assert!(big.len() >= 10 * 1024 * 1024);
    let p = parse_snmp_pairs(&big, "netstat").unwrap();
    assert!(p.counters.len() > 100_000);
    assert!(p.skipped.is_empty());
    all_parsers_survive(&big);
    // 10 MB of one endless line and 10 MB of binary.
    let line = "x".repeat(10 * 1024 * 1024);
    all_parsers_survive(&line);
    let binary: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    all_parsers_survive(&String::from_utf8_lossy(&binary));
}

mod small_parsers {
    use netdoctor::cli::counters::name_matches;
    use netdoctor::collect::host::{
        parse_cpu_list, parse_mem_total, parse_netns_link, parse_uptime,
    };
    use netdoctor::render::counters::phrase_without_number;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn host_fact_parsers_never_panic(text in "\\PC{0,200}") {
            let _ = parse_uptime(&text);
            let _ = parse_cpu_list(&text);
            let _ = parse_mem_total(&text);
            let _ = parse_netns_link(&text);
        }

        #[test]
        fn cpu_lists_count_their_members(ranges in proptest::collection::vec((0u32..4096, 0u32..64), 1..8)) {
            let text: Vec<String> = ranges.iter().map(|(a, n)| if *n == 0 { a.to_string() } else { format!("{a}-{}", a + n) }).collect();
            let expected: u32 = ranges.iter().map(|(_, n)| n + 1).sum();
            prop_assert_eq!(parse_cpu_list(&text.join(",")), Some(expected));
        }

        #[test]
        fn patterns_and_phrases_never_panic(pattern in "[a-zA-Z*?{}]{0,20}", name in "[A-Za-z0-9]{0,40}") {
            let _ = name_matches(&pattern.to_ascii_lowercase(), &name);
            let _ = phrase_without_number(&pattern);
            // A pattern that is the name itself always matches; `*` matches everything.
            prop_assert!(name_matches(&name.to_ascii_lowercase(), &name));
            prop_assert!(name_matches("*", &name));
        }
    }
}
