//! /proc/net/stat/nf_conntrack (per-CPU statistics) and nf_conntrack_count / nf_conntrack_max.
//!
//! The stat file is a header line of names and one row of `%08x` values per possible CPU.
//! Two header generations exist: older kernels print `searched ... delete_list`, newer ones
//! `clashres ... chainlength`; the header drives the parse, so both (and any future column)
//! are read. `entries` is the table size and is the same on every row.
//!
//! Derived counters (section `Conntrack`): every column but `entries` summed over the rows,
//! named `Conntrack` + the header name in CamelCase split on `_` (`insert_failed` →
//! `ConntrackInsertFailed`, `clashres` → `ConntrackClashres`); the gauges `ConntrackEntries`
//! (from the first row, not summed), `ConntrackCount` (nf_conntrack_count) and
//! `ConntrackMax` (nf_conntrack_max).

use super::{ParseError, is_name, nothing_parsed, skipped};
use crate::snapshot::{Conntrack, ConntrackCpu, Counter, Skipped};

/// Parsed per-CPU rows with what was skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedConntrackStat {
    pub per_cpu: Vec<ConntrackCpu>,
    pub skipped: Vec<Skipped>,
}

/// Parses /proc/net/stat/nf_conntrack text. Errors when there is no header line of names or
/// no row could be read.
pub fn parse_nf_conntrack_stat(text: &str, file: &str) -> Result<ParsedConntrackStat, ParseError> {
    let mut parsed = ParsedConntrackStat::default();
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err(ParseError::Empty {
            file: file.to_string(),
        });
    };
    let names: Vec<&str> = header.split_ascii_whitespace().collect();
    if !names.iter().all(|n| is_name(n)) {
        return Err(ParseError::Malformed {
            file: file.to_string(),
            line: header_line,
            reason: format!("expected a header line of column names, found {header:?}"),
        });
    }
    let mut row: u32 = 0;
    for (line_no, line) in lines {
        let cpu = row;
        row = row.saturating_add(1);
        let mut fields = Vec::with_capacity(names.len());
        let mut value_count = 0usize;
        let mut bad = false;
        for token in line.split_ascii_whitespace() {
            value_count += 1;
            let Some(name) = names.get(value_count - 1) else {
                continue;
            };
            match u64::from_str_radix(token, 16) {
                Ok(v) if !token.starts_with('+') => fields.push(((*name).to_string(), v)),
                _ => {
                    bad = true;
                    break;
                }
            }
        }
        if bad {
            parsed
                .skipped
                .push(skipped(line_no, "not a row of hex values", line));
            continue;
        }
        if value_count != names.len() {
            parsed.skipped.push(skipped(
                line_no,
                format!(
                    "{} names but {value_count} values; kept the first {}",
                    names.len(),
                    fields.len()
                ),
                line,
            ));
        }
        if !fields.is_empty() {
            parsed.per_cpu.push(ConntrackCpu { cpu, fields });
        }
    }
    if parsed.per_cpu.is_empty() {
        if parsed.skipped.is_empty() {
            return Err(ParseError::Malformed {
                file: file.to_string(),
                line: header_line,
                reason: "a header line but no rows".to_string(),
            });
        }
        return Err(nothing_parsed(file, &parsed.skipped));
    }
    Ok(parsed)
}

/// Parses nf_conntrack_count or nf_conntrack_max: one decimal number.
pub fn parse_conntrack_value(text: &str, file: &str) -> Result<u64, ParseError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ParseError::Empty {
            file: file.to_string(),
        });
    }
    trimmed.parse::<u64>().map_err(|_| ParseError::Malformed {
        file: file.to_string(),
        line: 1,
        reason: format!(
            "expected one decimal number, found {:?}",
            trimmed.get(..40).unwrap_or(trimmed)
        ),
    })
}

/// `insert_failed` → `InsertFailed`.
pub fn camel_case(header_name: &str) -> String {
    let mut out = String::with_capacity(header_name.len());
    for part in header_name.split('_') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// The derived `Conntrack*` counters of a conntrack view.
pub fn conntrack_counters(conntrack: &Conntrack) -> Vec<Counter> {
    let mut out: Vec<Counter> = Vec::new();
    let make = |field: &str, value: i128| Counter {
        name: format!("Conntrack{field}"),
        section: "Conntrack".to_string(),
        value,
    };
    if let Some(first) = conntrack.per_cpu.first() {
        let mut columns: Vec<(&str, i128)> = Vec::new();
        for cpu in &conntrack.per_cpu {
            for (name, value) in &cpu.fields {
                if name == "entries" {
                    continue;
                }
                match columns.iter_mut().find(|(n, _)| n == name) {
                    Some((_, total)) => *total += i128::from(*value),
                    None => columns.push((name.as_str(), i128::from(*value))),
                }
            }
        }
        if let Some(entries) = first.get("entries") {
            out.push(make("Entries", i128::from(entries)));
        }
        out.extend(
            columns
                .into_iter()
                .map(|(name, total)| make(&camel_case(name), total)),
        );
    }
    if let Some(count) = conntrack.count {
        out.push(make("Count", i128::from(count)));
    }
    if let Some(max) = conntrack.max {
        out.push(make("Max", i128::from(max)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEW: &str = "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n\
00000005  00000001 00000000 00000000 0000000a 00000000 00000000 00000000 00000000 00000002 00000000 00000000 00000000  00000000 00000000 00000000 00000000\n\
00000005  00000000 00000000 00000000 00000001 00000000 00000000 00000000 00000000 00000003 00000000 00000000 00000000  00000000 00000000 00000000 00000000\n";

    #[test]
    fn header_driven_sums_and_gauges() {
        let p = parse_nf_conntrack_stat(NEW, "nf_conntrack").unwrap();
        assert_eq!(p.per_cpu.len(), 2);
        let view = Conntrack {
            count: Some(5),
            max: Some(65536),
            per_cpu: p.per_cpu,
        };
        let c = conntrack_counters(&view);
        let get = |n: &str| c.iter().find(|x| x.name == n).map(|x| x.value);
        assert_eq!(get("ConntrackEntries"), Some(5));
        assert_eq!(get("ConntrackInvalid"), Some(11));
        assert_eq!(get("ConntrackInsertFailed"), Some(5));
        assert_eq!(get("ConntrackClashres"), Some(1));
        assert_eq!(get("ConntrackSearchRestart"), Some(0));
        assert_eq!(get("ConntrackMax"), Some(65536));
        assert_eq!(c.len(), 17 + 2);
    }

    #[test]
    fn values_and_errors() {
        assert_eq!(parse_conntrack_value("123\n", "count"), Ok(123));
        assert!(parse_conntrack_value("x", "count").is_err());
        assert!(parse_nf_conntrack_stat("00000001 00000002\n", "nf").is_err());
        assert_eq!(camel_case("delete_list"), "DeleteList");
    }
}
