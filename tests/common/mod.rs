//! Shared helpers for the ingest tests: a phrase index and the phrase rows pastes are
//! generated from.
//!
//! The index comes from the knowledge base once it lists phrases. Until then (and to test the
//! matcher over every net-tools wording whatever the KB holds) the rows are read from the
//! shared reference table ../shared/reference/netstat-phrases.md when it is present, and a
//! small built-in table of the story's counters and a few historic wordings otherwise.

#![allow(dead_code)]

use netdoctor::ingest::phrases::{PhraseIndex, PhraseSource};

/// One counter and one of its wordings.
#[derive(Debug, Clone)]
pub struct PhraseRow {
    pub name: String,
    pub section: String,
    pub field: String,
    /// With `{n}` for the number.
    pub phrase: String,
    /// "input" / "output" for ICMP histogram lines.
    pub histogram: Option<&'static str>,
}

/// Historic wordings and the story's counters: enough to test without the reference file.
const BUILT_IN: &[(&str, &str, &str, &str)] = &[
    (
        "TcpExtListenDrops",
        "TcpExt",
        "ListenDrops",
        "{n} SYNs to LISTEN sockets dropped",
    ),
    (
        "TcpExtListenDrops",
        "TcpExt",
        "ListenDrops",
        "{n} SYNs to LISTEN sockets ignored",
    ),
    (
        "TcpExtSyncookiesFailed",
        "TcpExt",
        "SyncookiesFailed",
        "{n} invalid SYN cookies received",
    ),
    (
        "TcpExtSyncookiesRecv",
        "TcpExt",
        "SyncookiesRecv",
        "{n} SYN cookies received",
    ),
    (
        "TcpExtSyncookiesSent",
        "TcpExt",
        "SyncookiesSent",
        "{n} SYN cookies sent",
    ),
    (
        "TcpExtTCPRcvCollapsed",
        "TcpExt",
        "TCPRcvCollapsed",
        "{n} packets collapsed in receive queue due to low socket buffer",
    ),
    (
        "TcpExtListenOverflows",
        "TcpExt",
        "ListenOverflows",
        "{n} times the listen queue of a socket overflowed",
    ),
    (
        "TcpExtDelayedACKLost",
        "TcpExt",
        "DelayedACKLost",
        "Quick ack mode was activated {n} times",
    ),
    (
        "TcpRetransSegs",
        "Tcp",
        "RetransSegs",
        "{n} segments retransmitted",
    ),
    (
        "TcpRetransSegs",
        "Tcp",
        "RetransSegs",
        "{n} segments retransmited",
    ),
    ("TcpOutSegs", "Tcp", "OutSegs", "{n} segments sent out"),
    ("TcpOutSegs", "Tcp", "OutSegs", "{n} segments send out"),
    (
        "TcpActiveOpens",
        "Tcp",
        "ActiveOpens",
        "{n} active connection openings",
    ),
    (
        "TcpActiveOpens",
        "Tcp",
        "ActiveOpens",
        "{n} active connections openings",
    ),
    (
        "TcpExtPAWSEstab",
        "TcpExt",
        "PAWSEstab",
        "{n} packets rejected in established connections because of timestamp",
    ),
    (
        "TcpExtPAWSEstab",
        "TcpExt",
        "PAWSEstab",
        "{n} packets rejects in established connections because of timestamp",
    ),
    (
        "UdpInDatagrams",
        "Udp",
        "InDatagrams",
        "{n} packets received",
    ),
    (
        "Udp6InDatagrams",
        "Udp6",
        "InDatagrams",
        "{n} packets received",
    ),
    (
        "IpInReceives",
        "Ip",
        "InReceives",
        "{n} total packets received",
    ),
    (
        "Ip6InReceives",
        "Ip6",
        "InReceives",
        "{n} total packets received",
    ),
    ("IcmpInEchos", "Icmp", "InEchos", "echo requests: {n}"),
    ("IcmpOutEchos", "Icmp", "OutEchos", "echo request: {n}"),
    ("IcmpOutEchos", "Icmp", "OutEchos", "echo requests: {n}"),
    ("Icmp6InEchos", "Icmp6", "InEchos", "echo requests: {n}"),
    ("Icmp6OutEchos", "Icmp6", "OutEchos", "echo requests: {n}"),
    (
        "TcpExtTCPTimeouts",
        "TcpExt",
        "TCPTimeouts",
        "{n} other TCP timeouts",
    ),
];

/// Rows from the knowledge base (when it lists phrases).
fn kb_rows() -> Vec<PhraseRow> {
    let mut rows = Vec::new();
    for c in netdoctor::kb::counters() {
        // `{s}` wordings (`Forwarding is {s}`) carry no number: net-tools never prints them.
        for phrase in c.phrases.iter().filter(|p| p.contains("{n}")) {
            rows.push(PhraseRow {
                name: c.name.to_string(),
                section: c.section.to_string(),
                field: c.field.to_string(),
                phrase: phrase.to_string(),
                histogram: histogram_of(c.section, c.field, phrase),
            });
        }
    }
    rows
}

/// ICMP per-type lines are `text: {n}` under a histogram header.
fn histogram_of(section: &str, field: &str, phrase: &str) -> Option<&'static str> {
    if !section.starts_with("Icmp") || !phrase.trim_end().ends_with(": {n}") {
        return None;
    }
    if field.starts_with("In") {
        Some("input")
    } else {
        Some("output")
    }
}

/// Rows read from the shared reference table, when present.
pub fn reference_rows() -> Option<Vec<PhraseRow>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/reference/netstat-phrases.md"
    );
    let text = std::fs::read_to_string(path).ok()?;
    let mut rows = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(section), Some(name), Some(phrase)) = (cols.get(1), cols.get(3), cols.get(4))
        else {
            continue;
        };
        let Some(section) = section.split_whitespace().last() else {
            continue;
        };
        if !phrase.contains("%llu") || section == "Section" {
            continue;
        }
        let field = name.strip_prefix(section).unwrap_or(name).to_string();
        let phrase = phrase.replace("%llu", "{n}");
        rows.push(PhraseRow {
            histogram: histogram_of(section, &field, &phrase),
            name: name.to_string(),
            section: section.to_string(),
            field,
            phrase,
        });
    }
    (!rows.is_empty()).then_some(rows)
}

fn built_in_rows() -> Vec<PhraseRow> {
    BUILT_IN
        .iter()
        .map(|(name, section, field, phrase)| PhraseRow {
            name: name.to_string(),
            section: section.to_string(),
            field: field.to_string(),
            phrase: phrase.to_string(),
            histogram: histogram_of(section, field, phrase),
        })
        .collect()
}

/// The rows tests work from, and where they came from: the knowledge base's, the reference
/// table's and the built-in historic wordings together (deduplicated), so the tests cover every
/// wording whichever of them is complete.
pub fn rows() -> (Vec<PhraseRow>, &'static str) {
    let kb = kb_rows();
    let reference = reference_rows();
    let source = match (kb.is_empty(), reference.is_some()) {
        (false, true) => "knowledge base + reference table + built-in historic wordings",
        (false, false) => "knowledge base + built-in historic wordings",
        (true, true) => "reference table + built-in historic wordings",
        (true, false) => "built-in table",
    };
    let mut rows: Vec<PhraseRow> = Vec::new();
    for row in kb
        .into_iter()
        .chain(reference.unwrap_or_default())
        .chain(built_in_rows())
    {
        // The first source to claim a wording in a section keeps it (the knowledge base
        // corrects the reference where net-tools' table names a field the kernel never had).
        let duplicate = rows.iter().any(|r| {
            (r.name == row.name || (r.section == row.section && r.histogram == row.histogram))
                && r.phrase.eq_ignore_ascii_case(&row.phrase)
        });
        if !duplicate {
            rows.push(row);
        }
    }
    (rows, source)
}

/// A phrase index over rows (several rows of one counter become one entry).
pub fn index_of(rows: &[PhraseRow]) -> PhraseIndex {
    let mut grouped: Vec<(&PhraseRow, Vec<&str>)> = Vec::new();
    for row in rows {
        match grouped.iter_mut().find(|(r, _)| r.name == row.name) {
            Some((_, phrases)) => phrases.push(&row.phrase),
            None => grouped.push((row, vec![&row.phrase])),
        }
    }
    PhraseIndex::new(grouped.iter().map(|(row, phrases)| PhraseSource {
        name: &row.name,
        section: &row.section,
        field: &row.field,
        phrases,
        netstat_section: None,
    }))
}

/// The index the tests use.
pub fn index() -> PhraseIndex {
    index_of(&rows().0)
}

/// A row's phrase with the number filled in.
pub fn fill(phrase: &str, value: u64) -> String {
    phrase.replace("{n}", &value.to_string())
}

/// True when running as root with the named tools on PATH; prints the skip reason otherwise.
pub fn root_with_tools(test: &str, tools: &[&str]) -> bool {
    let uid = std::process::Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string());
    if uid.as_deref() != Some("0") {
        println!("SKIP {test}: needs root (network namespaces)");
        return false;
    }
    for tool in tools {
        let found = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            println!("SKIP {test}: `{tool}` not installed");
            return false;
        }
    }
    true
}
