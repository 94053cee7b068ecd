//! Name/value counter text: `nstat` output (plain and `-j`); and the detection scores for
//! name/value text and for the header/value line pairs of /proc/net/snmp and /proc/net/netstat
//! (those files, and snmp6, are parsed by `collect::procfs`, the live collector's parsers).
//!
//! nstat prints `#kernel`, then `Name value rate` lines; the third column is nstat's own
//! running average and is ignored (a pasted rate has no known interval). Without `-a`, nstat
//! prints increases since its previous run, not lifetime totals: when the paste's prompt shows
//! that, the report says so.

use super::Parsed;
use super::clean::{self, LineKind};
use super::phrases::{PhraseIndex, parse_number};
use crate::snapshot::{Counter, CounterValue};

/// Section prefixes of nstat names, longest first so `TcpExt` wins over `Tcp`.
const SECTION_PREFIXES: &[&str] = &[
    "MPTcpExt", "UdpLite6", "IcmpMsg", "UdpLite", "TcpExt", "Icmp6", "IpExt", "Icmp", "Sctp",
    "Udp6", "Ip6", "Tcp", "Udp", "Ip",
];

/// The section of a canonical counter name (`TcpExtListenDrops` → `TcpExt`).
pub fn section_of(name: &str, index: &PhraseIndex) -> Option<String> {
    if let Some(c) = index.by_name(name) {
        return Some(c.section.clone());
    }
    SECTION_PREFIXES
        .iter()
        .find(|p| name.len() > p.len() && name.starts_with(*p))
        .map(|p| (*p).to_string())
}

/// True for a canonical counter name: ASCII letters and digits, starting upper case.
fn is_counter_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Parses a signed integer (`-1` for TcpMaxConn).
fn parse_signed(text: &str) -> Option<CounterValue> {
    match text.strip_prefix('-') {
        Some(rest) => parse_number(rest).map(|v| -v),
        None => parse_number(text),
    }
}

/// nstat output or /proc/net/snmp6: `Name value [rate]` lines.
pub fn parse_name_value(text: &str, index: &PhraseIndex) -> Parsed {
    let mut parsed = Parsed::default();
    let mut seen = std::collections::HashMap::new();
    let mut rate_column = false;
    let mut nstat_mode_known = false;
    let mut saw_kernel_header = false;
    for (number, raw) in text.lines().enumerate() {
        let number = number + 1;
        let line = match clean::classify(raw) {
            LineKind::Blank => continue,
            LineKind::Prompt { command } => {
                let hints = clean::command_hints(command);
                nstat_mode_known |= hints.nstat_all || hints.nstat_delta;
                if hints.nstat_delta {
                    parsed.notes.push(format!(
                        "line {number}: `{command}` without -a prints increases since the \
                         previous nstat run, not lifetime totals: read as given"
                    ));
                }
                continue;
            }
            LineKind::Text(line) => line,
        };
        if line.starts_with('#') {
            saw_kernel_header |= line.starts_with("#kernel");
            continue; // `#kernel`
        }
        if super::spec::parse_date_output(line).is_some() {
            continue; // `date` output next to the paste: its time is read by the caller
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(value)) = (words.next(), words.next()) else {
            parsed.skipped.push(number, "not a `Name value` line", raw);
            continue;
        };
        let rate = words.next();
        if words.next().is_some() || !is_counter_name(name) {
            parsed.skipped.push(number, "not a `Name value` line", raw);
            continue;
        }
        rate_column |= rate.is_some();
        let Some(value) = parse_signed(value) else {
            parsed
                .skipped
                .push(number, "value is not a 64-bit integer", raw);
            continue;
        };
        let Some(section) = section_of(name, index) else {
            parsed
                .skipped
                .push(number, "counter name of no known section", raw);
            continue;
        };
        push_counter(&mut parsed, &mut seen, name.to_string(), section, value);
    }
    if saw_kernel_header && !nstat_mode_known {
        parsed.notes.push(
            "nstat output without its command line: values are lifetime totals if nstat ran \
             with -a (or for the first time), otherwise increases since its previous run; read \
             as totals"
                .to_string(),
        );
    }
    if rate_column {
        parsed.notes.push(
            "nstat's rate column (its own running average over an unknown interval) is ignored"
                .to_string(),
        );
    }
    parsed
}

/// Adds a counter, replacing an earlier value of the same name.
fn push_counter(
    parsed: &mut Parsed,
    seen: &mut std::collections::HashMap<String, usize>,
    name: String,
    section: String,
    value: CounterValue,
) {
    match seen.get(&name) {
        Some(&at) => {
            if let Some(c) = parsed.counters.get_mut(at) {
                c.value = value;
            }
        }
        None => {
            seen.insert(name.clone(), parsed.counters.len());
            parsed.counters.push(Counter {
                name,
                section,
                value,
            });
        }
    }
}

/// `nstat -j` output: `{"kernel":{"IpInReceives":123,...}}`.
pub fn parse_nstat_json(text: &str, index: &PhraseIndex) -> Result<Parsed, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let kernel = value
        .get("kernel")
        .and_then(|k| k.as_object())
        .ok_or("no `kernel` object")?;
    let mut parsed = Parsed::default();
    let mut seen = std::collections::HashMap::new();
    for (name, v) in kernel {
        let number = v
            .as_u64()
            .map(CounterValue::from)
            .or_else(|| v.as_i64().map(CounterValue::from));
        match (number, section_of(name, index)) {
            (Some(value), Some(section)) => {
                push_counter(&mut parsed, &mut seen, name.clone(), section, value)
            }
            _ => parsed
                .skipped
                .push(0, "not a known counter with an integer value", name),
        }
    }
    Ok(parsed)
}

/// Scores for detection: (name/value lines, nstat markers, proc header/value pairs).
pub fn scores(lines: &[&str]) -> (usize, bool, usize) {
    let mut name_value = 0;
    let mut nstat_marker = false;
    let mut pairs = 0;
    let mut previous_header: Option<&str> = None;
    for line in lines {
        if line.starts_with("#kernel") {
            nstat_marker = true;
            continue;
        }
        let mut words = line.split_whitespace();
        if let (Some(name), Some(value)) = (words.next(), words.next()) {
            let rest = words.count();
            if rest <= 1 && is_counter_name(name) && parse_signed(value).is_some() {
                name_value += 1;
            }
        }
        if let Some((section, rest)) = line.split_once(':') {
            let section = section.trim();
            let mut count = 0;
            let mut numeric = true;
            for word in rest.split_whitespace() {
                count += 1;
                numeric &= word.bytes().all(|b| b.is_ascii_digit() || b == b'-');
            }
            if is_counter_name(section) && count >= 2 {
                if numeric && previous_header == Some(section) {
                    pairs += 2;
                    previous_header = None;
                } else if !numeric {
                    previous_header = Some(section);
                }
            }
        }
    }
    (name_value, nstat_marker, pairs)
}
