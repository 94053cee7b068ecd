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

use super::{CounterSink, ParseError, is_name, nothing_parsed, set_string, tokens};
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
    parse_nf_conntrack_stat_into(text, file, &mut parsed.per_cpu, &mut parsed.skipped)?;
    Ok(parsed)
}

/// [`parse_nf_conntrack_stat`] into a reused vector: rows and field names already there keep
/// their allocations.
pub fn parse_nf_conntrack_stat_into(
    text: &str,
    file: &str,
    per_cpu: &mut Vec<ConntrackCpu>,
    skipped_out: &mut Vec<Skipped>,
) -> Result<(), ParseError> {
    let skipped_before = skipped_out.len();
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
    if !tokens(header).all(is_name) {
        return Err(ParseError::Malformed {
            file: file.to_string(),
            line: header_line,
            reason: format!("expected a header line of column names, found {header:?}"),
        });
    }
    let name_count = tokens(header).count();
    let mut used = 0usize;
    let mut row: u32 = 0;
    for (line_no, line) in lines {
        let cpu_index = row;
        row = row.saturating_add(1);
        if used == per_cpu.len() {
            per_cpu.push(ConntrackCpu::default());
        }
        let Some(cpu) = per_cpu.get_mut(used) else {
            break;
        };
        cpu.cpu = cpu_index;
        let mut names = tokens(header);
        let mut kept = 0usize;
        let mut value_count = 0usize;
        let mut bad = false;
        for token in tokens(line) {
            value_count += 1;
            let Some(name) = names.next() else { continue };
            let Some(value) = u64::from_str_radix(token, 16)
                .ok()
                .filter(|_| !token.starts_with('+'))
            else {
                bad = true;
                break;
            };
            match cpu.fields.get_mut(kept) {
                Some((existing, v)) => {
                    set_string(existing, name);
                    *v = value;
                }
                None => cpu.fields.push((name.to_string(), value)),
            }
            kept += 1;
        }
        cpu.fields.truncate(kept);
        if bad {
            skipped_out.push(Skipped::new(line_no, "not a row of hex values", line));
            continue;
        }
        if value_count != name_count {
            skipped_out.push(Skipped::new(
                line_no,
                format!("{name_count} names but {value_count} values; kept the first {kept}"),
                line,
            ));
        }
        if kept > 0 {
            used += 1;
        }
    }
    per_cpu.truncate(used);
    if used == 0 {
        let problems = skipped_out.get(skipped_before..).unwrap_or_default();
        if problems.is_empty() {
            return Err(ParseError::Malformed {
                file: file.to_string(),
                line: header_line,
                reason: "a header line but no rows".to_string(),
            });
        }
        return Err(nothing_parsed(file, problems));
    }
    Ok(())
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
    camel_case_into(&mut out, header_name);
    out
}

/// [`camel_case`] appended to `out`.
fn camel_case_into(out: &mut String, header_name: &str) {
    for part in header_name.split('_') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
}

/// Calls `emit("Conntrack", field, value)` for each derived counter: `Entries` (first row),
/// every other column summed over the rows (by position; rows share one header), then
/// `Count` and `Max` when known.
pub fn visit_conntrack_counters(conntrack: &Conntrack, emit: &mut dyn FnMut(&str, &str, i128)) {
    let mut field = String::with_capacity(32);
    if let Some(first) = conntrack.per_cpu.first() {
        if let Some(entries) = first.get("entries") {
            emit("Conntrack", "Entries", i128::from(entries));
        }
        for (k, (name, _)) in first.fields.iter().enumerate() {
            if name == "entries" {
                continue;
            }
            let total: i128 = conntrack
                .per_cpu
                .iter()
                .filter_map(|cpu| cpu.fields.get(k))
                .filter(|(n, _)| n == name)
                .map(|(_, v)| i128::from(*v))
                .sum();
            field.clear();
            camel_case_into(&mut field, name);
            emit("Conntrack", &field, total);
        }
    }
    if let Some(count) = conntrack.count {
        emit("Conntrack", "Count", i128::from(count));
    }
    if let Some(max) = conntrack.max {
        emit("Conntrack", "Max", i128::from(max));
    }
}

/// The derived `Conntrack*` counters as a vector (see [`visit_conntrack_counters`]).
pub fn conntrack_counters(conntrack: &Conntrack) -> Vec<Counter> {
    let mut out = Vec::new();
    let mut sink = CounterSink::new(&mut out);
    visit_conntrack_counters(conntrack, &mut |section, field, value| {
        sink.put(section, field, value)
    });
    sink.finish();
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
