//! Counter readings for the lab's teaching page: /proc/net/netstat and /proc/net/snmp as read
//! inside a lab namespace, turned into nstat-named values, and the differences between two
//! readings.
//!
//! The parser is deliberately small (header line, value line, repeat) and never panics: a pair
//! whose lines do not match is skipped and named in the returned notes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::snapshot::CounterValue;

/// Counters by nstat name (`TcpExtListenOverflows`, `UdpRcvbufErrors`).
pub type CounterReading = BTreeMap<String, CounterValue>;

/// Parses the "Section: names" / "Section: values" line pairs of /proc/net/netstat or
/// /proc/net/snmp (several files may be concatenated). Returns the counters and notes about
/// what was skipped.
pub fn parse_counter_pairs(text: &str) -> (CounterReading, Vec<String>) {
    let mut counters = CounterReading::new();
    let mut notes = Vec::new();
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    while let Some((header_no, header)) = lines.next() {
        let Some((section, names)) = header.split_once(':') else {
            notes.push(format!("line {}: no section name, skipped", header_no + 1));
            continue;
        };
        let Some((values_no, values_line)) = lines.next() else {
            notes.push(format!(
                "line {}: section {section} has no value line",
                header_no + 1
            ));
            break;
        };
        let Some((values_section, values)) = values_line.split_once(':') else {
            notes.push(format!("line {}: no section name, skipped", values_no + 1));
            continue;
        };
        if values_section != section {
            notes.push(format!(
                "line {}: expected values of {section}, found {values_section}",
                values_no + 1
            ));
            continue;
        }
        let names: Vec<&str> = names.split_whitespace().collect();
        let values: Vec<&str> = values.split_whitespace().collect();
        if names.len() != values.len() {
            notes.push(format!(
                "line {}: {section} has {} names but {} values; extra ones skipped",
                values_no + 1,
                names.len(),
                values.len()
            ));
        }
        for (name, value) in names.iter().zip(values.iter()) {
            match value.parse::<CounterValue>() {
                Ok(v) => {
                    counters.insert(format!("{section}{name}"), v);
                }
                Err(_) => notes.push(format!(
                    "line {}: {section}{name} value {value:?} is not a number",
                    values_no + 1
                )),
            }
        }
    }
    (counters, notes)
}

/// How one counter moved during a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CounterMove {
    pub name: String,
    pub before: CounterValue,
    pub after: CounterValue,
    pub delta: CounterValue,
    /// One of the scenario's watched counters (shown even when it did not move).
    pub watched: bool,
}

/// The counters that moved between two readings: first the `watched` ones (in that order, also
/// when they stayed at zero, so the page can say "did not move"), then every other counter that
/// changed, largest change first. Gauges such as `TcpCurrEstab` count as moves too.
pub fn moves(
    before: &CounterReading,
    after: &CounterReading,
    watched: &[&str],
) -> Vec<CounterMove> {
    let mut out = Vec::new();
    let pick = |name: &str| {
        let b = before.get(name).copied();
        let a = after.get(name).copied();
        match (b, a) {
            (None, None) => None,
            (b, a) => {
                let before = b.unwrap_or(0);
                let after = a.unwrap_or(0);
                Some(CounterMove {
                    name: name.to_string(),
                    before,
                    after,
                    delta: after - before,
                    watched: watched.contains(&name),
                })
            }
        }
    };
    for name in watched {
        if let Some(m) = pick(name) {
            out.push(m);
        }
    }
    let mut others: Vec<CounterMove> = after
        .keys()
        .filter(|name| !watched.contains(&name.as_str()))
        .filter_map(|name| pick(name))
        .filter(|m| m.delta != 0 && !is_volume_counter(&m.name))
        .collect();
    others.sort_by(|a, b| b.delta.abs().cmp(&a.delta.abs()).then(a.name.cmp(&b.name)));
    out.extend(others);
    out
}

/// Byte and ECN counters: they move with any traffic and teach nothing on the page.
fn is_volume_counter(name: &str) -> bool {
    name.ends_with("Octets") || name.ends_with("ECTPkts") || name.ends_with("CEPkts")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NETSTAT: &str =
        "TcpExt: SyncookiesSent ListenOverflows\nTcpExt: 3 27\nIpExt: InNoRoutes\nIpExt: 0\n";

    #[test]
    fn names_follow_nstat() {
        let (c, notes) = parse_counter_pairs(NETSTAT);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(c.get("TcpExtListenOverflows"), Some(&27));
        assert_eq!(c.get("IpExtInNoRoutes"), Some(&0));
    }

    #[test]
    fn signed_values_and_mismatches() {
        let (c, notes) = parse_counter_pairs("Tcp: MaxConn RtoMin\nTcp: -1\nUdp: A\nIp: 1\n");
        assert_eq!(c.get("TcpMaxConn"), Some(&-1));
        assert_eq!(notes.len(), 2, "{notes:?}");
    }

    #[test]
    fn moves_lists_watched_first_then_changes() {
        let (before, _) = parse_counter_pairs("TcpExt: A B C\nTcpExt: 1 5 9\n");
        let (after, _) = parse_counter_pairs("TcpExt: A B C\nTcpExt: 1 6 19\n");
        let m = moves(&before, &after, &["TcpExtA"]);
        let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["TcpExtA", "TcpExtC", "TcpExtB"]);
        assert_eq!(m[1].delta, 10);
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC*") {
            let _ = parse_counter_pairs(&text);
        }

        #[test]
        fn never_panics_on_near_valid(names in proptest::collection::vec("[A-Za-z]{1,8}", 0..6),
                                      values in proptest::collection::vec("-?[0-9]{1,40}", 0..6)) {
            let text = format!("TcpExt: {}\nTcpExt: {}\n", names.join(" "), values.join(" "));
            let _ = parse_counter_pairs(&text);
        }
    }
}
