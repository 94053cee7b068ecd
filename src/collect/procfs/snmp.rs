//! /proc/net/snmp and /proc/net/netstat: pairs of a header line and a value line per section.
//!
//! ```text
//! Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens ...
//! Tcp: 1 200 120000 -1 53 ...
//! ```
//!
//! The header drives everything: every section (Ip, Icmp, IcmpMsg, Tcp, Udp, UdpLite, TcpExt,
//! IpExt, MPTcpExt and any a future kernel adds) and every field is kept, in file order, as
//! section + field (`TcpMaxConn`). IcmpMsg may come as several pairs (16 types per pair).
//! Values are signed decimals (`TcpMaxConn` is -1) of up to 39 digits. When a value line has
//! more or fewer values than its header has names, the pairs that line up are kept and the
//! rest is reported as skipped, with the line number.

use super::{
    CounterSink, ParseError, ParsedCounters, is_name, nothing_parsed, parse_decimal, tokens,
};
use crate::snapshot::{Counter, CounterValue, Skipped};

/// A header line waiting for its value line.
struct PendingHeader<'t> {
    line: usize,
    section: &'t str,
    names: &'t str,
}

/// True for a token that is meant as a number (`-1`, `123`, or too many digits to hold):
/// what tells a value line from a header line.
fn looks_numeric(token: &str) -> bool {
    let digits = token.strip_prefix('-').unwrap_or(token);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Parses /proc/net/snmp or /proc/net/netstat text. `file` names the source in errors and
/// skipped entries. Errors only when nothing at all could be understood.
pub fn parse_snmp_pairs(text: &str, file: &str) -> Result<ParsedCounters, ParseError> {
    let mut parsed = ParsedCounters::default();
    let mut sink = CounterSink::new(&mut parsed.counters);
    visit_snmp_pairs(
        text,
        file,
        &mut |section, field, value| sink.put(section, field, value),
        &mut parsed.skipped,
    )?;
    sink.finish();
    Ok(parsed)
}

/// The allocation-free core of [`parse_snmp_pairs`]: calls `emit(section, field, value)` for
/// every counter in file order and appends what it skipped. Returns the number of counters.
pub fn visit_snmp_pairs(
    text: &str,
    file: &str,
    emit: &mut dyn FnMut(&str, &str, CounterValue),
    skipped_out: &mut Vec<Skipped>,
) -> Result<usize, ParseError> {
    let skipped_before = skipped_out.len();
    let mut emitted = 0usize;
    let mut pending: Option<PendingHeader<'_>> = None;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let Some((section, rest)) = trimmed.split_once(':') else {
            skipped_out.push(Skipped::new(line_no, "not a `Section: ...` line", trimmed));
            continue;
        };
        let section = section.trim_end();
        if !is_name(section) {
            skipped_out.push(Skipped::new(
                line_no,
                "not a section name before ':'",
                trimmed,
            ));
            continue;
        }
        let first = tokens(rest).next();
        let is_value_line = first.is_some_and(looks_numeric);
        if !is_value_line {
            if first.is_none() {
                // `Section:` with nothing after it: no fields to name.
                continue;
            }
            if let Some(old) = pending.take() {
                skipped_out.push(Skipped::new(
                    old.line,
                    format!("{} header without a value line", old.section),
                    old.names,
                ));
            }
            pending = Some(PendingHeader {
                line: line_no,
                section,
                names: rest,
            });
            continue;
        }
        let header = match pending.take() {
            Some(h) if h.section == section => h,
            other => {
                if let Some(old) = other {
                    skipped_out.push(Skipped::new(
                        old.line,
                        format!("{} header without a value line", old.section),
                        old.names,
                    ));
                }
                skipped_out.push(Skipped::new(
                    line_no,
                    format!("{section} values without a header line"),
                    trimmed,
                ));
                continue;
            }
        };
        let mut names = tokens(header.names);
        let mut values = tokens(rest);
        let (mut name_count, mut value_count) = (0usize, 0usize);
        loop {
            match (names.next(), values.next()) {
                (Some(name), Some(value)) => {
                    name_count += 1;
                    value_count += 1;
                    match (is_name(name), parse_decimal(value)) {
                        (true, Some(v)) => {
                            emit(section, name, v);
                            emitted += 1;
                        }
                        (false, _) => skipped_out.push(Skipped::new(
                            header.line,
                            format!("{section}: not a field name"),
                            name,
                        )),
                        (true, None) => skipped_out.push(Skipped::new(
                            line_no,
                            format!("{section}{name}: not a decimal number"),
                            value,
                        )),
                    }
                }
                (Some(_), None) => name_count += 1,
                (None, Some(_)) => value_count += 1,
                (None, None) => break,
            }
        }
        if name_count != value_count {
            skipped_out.push(Skipped::new(
                line_no,
                format!(
                    "{section}: {name_count} names but {value_count} values; kept the first {}",
                    name_count.min(value_count)
                ),
                trimmed,
            ));
        }
    }
    if let Some(old) = pending {
        skipped_out.push(Skipped::new(
            old.line,
            format!("{} header without a value line", old.section),
            old.names,
        ));
    }
    if emitted == 0 {
        let problems = skipped_out.get(skipped_before..).unwrap_or_default();
        if !problems.is_empty() || text.trim().is_empty() {
            return Err(nothing_parsed(file, problems));
        }
    }
    Ok(emitted)
}

/// The shape of an snmp/netstat text: its header lines, and how many values each pair has.
/// A sampler that sees the same shape again only needs to read the values (see
/// [`refresh_pairs_values`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairsLayout {
    /// Every header line (trimmed), each followed by `\n`, in file order.
    headers: String,
    /// The number of values on each value line, in file order.
    counts: Vec<usize>,
}

impl PairsLayout {
    /// The layout of a text that [`visit_snmp_pairs`] parsed without skipping anything.
    pub fn of(text: &str) -> PairsLayout {
        let mut layout = PairsLayout::default();
        for line in text.lines() {
            let trimmed = line.trim();
            let Some((_, rest)) = trimmed.split_once(':') else {
                continue;
            };
            match tokens(rest).next() {
                None => {}
                Some(first) if looks_numeric(first) => layout.counts.push(tokens(rest).count()),
                Some(_) => {
                    layout.headers.push_str(trimmed);
                    layout.headers.push('\n');
                }
            }
        }
        layout
    }

    /// How many counters a text of this layout holds.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }
}

/// Fast path for repeated samples: when `text` has exactly the header lines of `layout`, writes
/// its values, in order, into `counters` (which must hold the counters of that layout, in
/// order) and returns true. Returns false, with `counters` partly written, as soon as anything
/// differs; the caller then parses in full.
pub fn refresh_pairs_values(text: &str, layout: &PairsLayout, counters: &mut [Counter]) -> bool {
    let mut headers = layout.headers.as_str();
    let mut counts = layout.counts.iter();
    let mut next = 0usize;
    let mut expect_values = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let Some((_, rest)) = trimmed.split_once(':') else {
            return false;
        };
        let Some(first) = tokens(rest).next() else {
            continue;
        };
        if !looks_numeric(first) {
            let Some((cached, remaining)) = headers.split_once('\n') else {
                return false;
            };
            if expect_values || cached != trimmed {
                return false;
            }
            headers = remaining;
            expect_values = true;
            continue;
        }
        let Some(&expected) = counts.next() else {
            return false;
        };
        if !expect_values {
            return false;
        }
        expect_values = false;
        let mut seen = 0usize;
        for token in tokens(rest) {
            let (Some(value), Some(counter)) = (parse_decimal(token), counters.get_mut(next))
            else {
                return false;
            };
            counter.value = value;
            next += 1;
            seen += 1;
        }
        if seen != expected {
            return false;
        }
    }
    headers.is_empty() && counts.next().is_none() && !expect_values && next == counters.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_fast_path_updates_values_or_refuses() {
        let first = "Tcp: A B\nTcp: 1 2\nUdp: C\nUdp: 3\n";
        let mut parsed = parse_snmp_pairs(first, "snmp").unwrap();
        let layout = PairsLayout::of(first);
        assert_eq!(layout.total(), 3);
        assert!(refresh_pairs_values(
            "Tcp: A B\nTcp: 5 6\nUdp: C\nUdp: 7\n",
            &layout,
            &mut parsed.counters
        ));
        let values: Vec<i128> = parsed.counters.iter().map(|c| c.value).collect();
        assert_eq!(values, [5, 6, 7]);
        // A new field, a missing section or a short value line: refused.
        assert!(!refresh_pairs_values(
            "Tcp: A B X\nTcp: 5 6 1\nUdp: C\nUdp: 7\n",
            &layout,
            &mut parsed.counters
        ));
        assert!(!refresh_pairs_values(
            "Tcp: A B\nTcp: 5 6\n",
            &layout,
            &mut parsed.counters
        ));
        assert!(!refresh_pairs_values(
            "Tcp: A B\nTcp: 5\nUdp: C\nUdp: 7\n",
            &layout,
            &mut parsed.counters
        ));
        assert!(!refresh_pairs_values(
            "Tcp: A B\nUdp: C\nTcp: 5 6\nUdp: 7\n",
            &layout,
            &mut parsed.counters
        ));
    }

    const SNMP: &str = "Ip: Forwarding DefaultTTL InReceives\nIp: 2 64 1194\n\
IcmpMsg: InType3 OutType3\nIcmpMsg: 1 1\n\
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn\nTcp: 1 200 120000 -1\n";

    #[test]
    fn pairs_in_order_with_signed_values() {
        let p = parse_snmp_pairs(SNMP, "snmp").unwrap();
        let names: Vec<_> = p.counters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "IpForwarding",
                "IpDefaultTTL",
                "IpInReceives",
                "IcmpMsgInType3",
                "IcmpMsgOutType3",
                "TcpRtoAlgorithm",
                "TcpRtoMin",
                "TcpRtoMax",
                "TcpMaxConn"
            ]
        );
        assert_eq!(p.counters[8].value, -1);
        assert_eq!(p.counters[3].section, "IcmpMsg");
        assert!(p.skipped.is_empty());
    }

    #[test]
    fn mismatch_keeps_pairs_and_reports_line() {
        let text = "Tcp: A B C\nTcp: 1 2\nUdp: X\nUdp: 7 8\n";
        let p = parse_snmp_pairs(text, "snmp").unwrap();
        assert_eq!(p.counters.len(), 3);
        assert_eq!(p.skipped.len(), 2);
        assert_eq!(p.skipped[0].line, 2);
        assert!(p.skipped[0].reason.contains("3 names but 2 values"));
        assert_eq!(p.skipped[1].line, 4);
    }

    #[test]
    fn unknown_sections_and_huge_numbers() {
        let text = "FutureExt: NewThing\nFutureExt: 99999999999999999999\n";
        let p = parse_snmp_pairs(text, "netstat").unwrap();
        assert_eq!(p.counters[0].name, "FutureExtNewThing");
        assert_eq!(p.counters[0].value, 99_999_999_999_999_999_999);
    }

    #[test]
    fn garbage_is_an_error_naming_file_and_line() {
        let err = parse_snmp_pairs("\nhello world\n", "/proc/net/snmp").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/proc/net/snmp:2: not a `Section: ...` line (\"hello world\")"
        );
        assert!(matches!(
            parse_snmp_pairs("  \n", "x"),
            Err(ParseError::Empty { .. })
        ));
    }

    #[test]
    fn header_without_values_is_skipped() {
        let text = "Tcp: A B\nUdp: C\nUdp: 3\n";
        let p = parse_snmp_pairs(text, "snmp").unwrap();
        assert_eq!(p.counters.len(), 1);
        assert_eq!(p.skipped[0].line, 1);
    }
}
