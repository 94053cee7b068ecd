//! Counter readings for the lab's teaching page: /proc/net/netstat and /proc/net/snmp as read
//! inside a lab namespace, turned into nstat-named values, and the differences between two
//! readings.
//!
//! Parsing is the collector's own (`collect::procfs::snmp`); this module adds the comparison.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::collect::procfs::snmp::parse_snmp_pairs;
use crate::snapshot::CounterValue;

/// Counters by nstat name (`TcpExtListenOverflows`, `UdpRcvbufErrors`).
pub type CounterReading = BTreeMap<String, CounterValue>;

/// Reads the counters out of /proc/net/snmp and /proc/net/netstat text (concatenated is fine)
/// with the project's parser. Returns the counters and what the parser skipped.
pub fn parse_counter_pairs(text: &str) -> (CounterReading, Vec<String>) {
    match parse_snmp_pairs(text, "/proc/net/snmp + /proc/net/netstat") {
        Ok(parsed) => (
            parsed
                .counters
                .into_iter()
                .map(|c| (c.name, c.value))
                .collect(),
            parsed.skipped.iter().map(|s| format!("{s:?}")).collect(),
        ),
        Err(e) => (CounterReading::new(), vec![e.to_string()]),
    }
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
    fn moves_lists_watched_first_then_changes() {
        let (before, _) = parse_counter_pairs("TcpExt: A B C\nTcpExt: 1 5 9\n");
        let (after, _) = parse_counter_pairs("TcpExt: A B C\nTcpExt: 1 6 19\n");
        let m = moves(&before, &after, &["TcpExtA"]);
        let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["TcpExtA", "TcpExtC", "TcpExtB"]);
        assert_eq!(m[1].delta, 10);
    }
}
