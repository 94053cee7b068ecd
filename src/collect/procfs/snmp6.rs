//! /proc/net/snmp6: one `Name value` line per counter (`Ip6InReceives  1`).
//!
//! The names already follow the nstat convention; the section is the name up to and
//! including its first `6` (`Ip6`, `Icmp6`, `Udp6`, `UdpLite6`), or `Snmp6` when there is none.

use super::{
    CounterSink, ParseError, ParsedCounters, is_name, nothing_parsed, parse_decimal, tokens,
};
use crate::snapshot::{Counter, CounterValue, Skipped};

/// The section of an snmp6 counter name: `Icmp6InType1` → `Icmp6`.
pub fn snmp6_section(name: &str) -> &str {
    match name.find('6') {
        Some(i) => name.get(..=i).unwrap_or("Snmp6"),
        None => "Snmp6",
    }
}

/// Parses /proc/net/snmp6 text. Errors only when nothing could be understood.
pub fn parse_snmp6(text: &str, file: &str) -> Result<ParsedCounters, ParseError> {
    let mut parsed = ParsedCounters::default();
    let mut sink = CounterSink::new(&mut parsed.counters);
    visit_snmp6(
        text,
        file,
        &mut |section, field, value| sink.put(section, field, value),
        &mut parsed.skipped,
    )?;
    sink.finish();
    Ok(parsed)
}

/// The allocation-free core of [`parse_snmp6`]: `emit(section, rest_of_name, value)` where
/// section + rest is the full name. Returns the number of counters.
pub fn visit_snmp6(
    text: &str,
    file: &str,
    emit: &mut dyn FnMut(&str, &str, CounterValue),
    skipped_out: &mut Vec<Skipped>,
) -> Result<usize, ParseError> {
    let skipped_before = skipped_out.len();
    let mut emitted = 0usize;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let mut tokens = tokens(line);
        let Some(name) = tokens.next() else { continue };
        let value = tokens.next();
        let extra = tokens.next();
        match (is_name(name), value.and_then(parse_decimal), extra) {
            (true, Some(v), None) => {
                let section = snmp6_section(name);
                let field = name.get(section.len()..).unwrap_or_default();
                if section == "Snmp6" {
                    emit(section, name, v);
                } else {
                    emit(section, field, v);
                }
                emitted += 1;
            }
            (false, _, _) => {
                skipped_out.push(Skipped::new(line_no, "not a counter name", line.trim()))
            }
            (true, None, _) => skipped_out.push(Skipped::new(
                line_no,
                format!("{name}: expected one decimal value"),
                line.trim(),
            )),
            (true, Some(_), Some(_)) => skipped_out.push(Skipped::new(
                line_no,
                format!("{name}: more than one value"),
                line.trim(),
            )),
        }
    }
    if emitted == 0 {
        return Err(nothing_parsed(
            file,
            skipped_out.get(skipped_before..).unwrap_or_default(),
        ));
    }
    Ok(emitted)
}

/// Fast path for repeated samples: when `text` names exactly the counters in `counters`, in
/// order, writes their new values and returns true; false (with `counters` partly written) as
/// soon as a name or the count differs.
pub fn refresh_snmp6_values(text: &str, counters: &mut [Counter]) -> bool {
    let mut next = 0usize;
    for line in text.lines() {
        let mut words = tokens(line);
        let Some(name) = words.next() else { continue };
        let (Some(value), None) = (words.next().and_then(parse_decimal), words.next()) else {
            return false;
        };
        match counters.get_mut(next) {
            Some(counter) if counter.name == name => counter.value = value,
            _ => return false,
        }
        next += 1;
    }
    next == counters.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sections() {
        let p = parse_snmp6(
            "Ip6InReceives  \t 5\nIcmp6InType133 2\nUdpLite6InErrors 0\n",
            "snmp6",
        )
        .unwrap();
        assert_eq!(p.counters[0].name, "Ip6InReceives");
        assert_eq!(p.counters[0].section, "Ip6");
        assert_eq!(p.counters[1].name, "Icmp6InType133");
        assert_eq!(p.counters[1].section, "Icmp6");
        assert_eq!(p.counters[2].section, "UdpLite6");
    }

    #[test]
    fn bad_lines_are_skipped_with_line_numbers() {
        let p = parse_snmp6("Ip6InReceives 5\nIp6Foo x\n", "snmp6").unwrap();
        assert_eq!(p.counters.len(), 1);
        assert_eq!(p.skipped[0].line, 2);
        let err = parse_snmp6("%%%\n", "snmp6").unwrap_err();
        let mut c = parse_snmp6("Ip6A 1\nIp6B 2\n", "snmp6").unwrap().counters;
        assert!(refresh_snmp6_values("Ip6A 3\nIp6B 4\n", &mut c));
        assert_eq!(c[1].value, 4);
        assert!(!refresh_snmp6_values("Ip6A 3\nIp6C 4\n", &mut c));
        assert!(!refresh_snmp6_values("Ip6A 3\n", &mut c));
        assert!(err.to_string().starts_with("snmp6:1:"));
    }
}
