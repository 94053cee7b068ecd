//! Readers and pure parsers for the counter files under /proc/net.
//!
//! Each file format has its own module with a pure parser (`&str` in, data out) that the
//! `ingest` layer reuses on pasted text, and [`reader::Collector`] keeps the files open and
//! re-reads them from offset 0 on every sample. Parsers never panic: they return what they
//! understood plus a list of [`Skipped`] pieces, or a [`ParseError`] naming the file and the
//! 1-based line when nothing usable was found.
//!
//! Canonical counter ids follow nstat (section + field: `TcpExtListenDrops`); the derived
//! softnet and conntrack ids are documented in [`softnet`] and [`conntrack`].

pub mod conntrack;
pub mod reader;
pub mod snmp;
pub mod snmp6;
pub mod sockstat;
pub mod softnet;

pub use conntrack::{
    conntrack_counters, parse_conntrack_value, parse_nf_conntrack_stat,
    parse_nf_conntrack_stat_into, visit_conntrack_counters,
};
pub use reader::{CollectError, Collector};
pub use snmp::{PairsLayout, parse_snmp_pairs, refresh_pairs_values, visit_snmp_pairs};
pub use snmp6::{parse_snmp6, refresh_snmp6_values, visit_snmp6};
pub use sockstat::{parse_sockstat, parse_sockstat_into};
pub use softnet::{parse_softnet, parse_softnet_into, softnet_counters, visit_softnet_counters};

use crate::snapshot::{Counter, CounterValue, Skipped};

/// A file that could not be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The file had no content (only whitespace).
    #[error("{file}: empty file")]
    Empty { file: String },
    /// Nothing usable was found; `line` is the first line that was not understood.
    #[error("{file}:{line}: {reason}")]
    Malformed {
        file: String,
        line: usize,
        reason: String,
    },
}

/// Counters parsed from one file, with what was skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedCounters {
    /// Counters in file order, named by the nstat convention.
    pub counters: Vec<Counter>,
    /// Lines or fields that were not understood.
    pub skipped: Vec<Skipped>,
}

/// Turns "nothing parsed" into an error that names the first problem, or `Empty`.
pub(crate) fn nothing_parsed(file: &str, skipped: &[Skipped]) -> ParseError {
    match skipped.first() {
        Some(first) => ParseError::Malformed {
            file: file.to_string(),
            line: first.line,
            reason: format!("{} ({:?})", first.reason, first.text),
        },
        None => ParseError::Empty {
            file: file.to_string(),
        },
    }
}

/// Parses a decimal counter value: unsigned up to 39 digits, or signed (`-1`).
/// None for anything else (empty, `+`, hex, spaces, out of the i128 range).
pub fn parse_decimal(token: &str) -> Option<CounterValue> {
    let bytes = token.as_bytes();
    if !bytes.is_empty() && bytes.len() <= 19 && bytes.iter().all(u8::is_ascii_digit) {
        // Fast path: at most 19 digits always fits in a u64.
        let mut value: u64 = 0;
        for b in bytes {
            value = value * 10 + u64::from(b - b'0');
        }
        return Some(CounterValue::from(value));
    }
    let digits = token.strip_prefix('-').unwrap_or(token);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse::<CounterValue>().ok()
}

/// Splits on ASCII whitespace, byte by byte (faster than `split_ascii_whitespace`, which
/// walks characters); every piece is a valid `&str` because it is cut at ASCII bytes.
pub(crate) fn tokens(text: &str) -> Tokens<'_> {
    Tokens { text, pos: 0 }
}

/// Iterator returned by [`tokens`].
pub(crate) struct Tokens<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> Iterator for Tokens<'t> {
    type Item = &'t str;

    #[inline]
    fn next(&mut self) -> Option<&'t str> {
        let bytes = self.text.as_bytes();
        let mut start = self.pos;
        while bytes.get(start).is_some_and(u8::is_ascii_whitespace) {
            start += 1;
        }
        if start >= bytes.len() {
            self.pos = start;
            return None;
        }
        let mut end = start;
        while bytes.get(end).is_some_and(|b| !b.is_ascii_whitespace()) {
            end += 1;
        }
        self.pos = end;
        self.text.get(start..end)
    }
}

/// Replaces a string's content, keeping its allocation when the content is the same or fits.
pub(crate) fn set_string(dst: &mut String, src: &str) {
    if dst != src {
        dst.clear();
        dst.push_str(src);
    }
}

/// True for a section or counter name: ASCII letters, digits and `_`, starting with a letter.
pub(crate) fn is_name(token: &str) -> bool {
    let mut bytes = token.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A sink that writes counters into a reused vector: an entry whose name already matches is
/// only given its new value, so steady-state sampling allocates nothing.
pub(crate) struct CounterSink<'a> {
    counters: &'a mut Vec<Counter>,
    next: usize,
}

impl<'a> CounterSink<'a> {
    pub(crate) fn new(counters: &'a mut Vec<Counter>) -> Self {
        CounterSink { counters, next: 0 }
    }

    /// Starts writing after the first `next` entries (those are kept as they are).
    pub(crate) fn at(counters: &'a mut Vec<Counter>, next: usize) -> Self {
        CounterSink { counters, next }
    }

    pub(crate) fn put(&mut self, section: &str, field: &str, value: CounterValue) {
        if let Some(existing) = self.counters.get_mut(self.next) {
            // The section is always the start of the name (we build it so), so comparing
            // the section's length and the name's two parts is enough.
            let name = existing.name.as_bytes();
            let same = existing.section.len() == section.len()
                && name.len() == section.len() + field.len()
                && name.get(..section.len()) == Some(section.as_bytes())
                && name.get(section.len()..) == Some(field.as_bytes());
            if !same {
                existing.section.clear();
                existing.section.push_str(section);
                existing.name.clear();
                existing.name.push_str(section);
                existing.name.push_str(field);
            }
            existing.value = value;
        } else {
            let mut name = String::with_capacity(section.len() + field.len());
            name.push_str(section);
            name.push_str(field);
            self.counters.push(Counter {
                name,
                section: section.to_string(),
                value,
            });
        }
        self.next += 1;
    }

    /// How many entries were written (including any kept before `at`).
    pub(crate) fn written(&self) -> usize {
        self.next
    }

    /// Drops entries left over from a longer earlier sample.
    pub(crate) fn finish(self) -> usize {
        self.counters.truncate(self.next);
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_values() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("-1"), Some(-1));
        assert_eq!(
            parse_decimal("18446744073709551615"),
            Some(18_446_744_073_709_551_615)
        );
        assert_eq!(
            parse_decimal("99999999999999999999"),
            Some(99_999_999_999_999_999_999)
        );
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_decimal("-"), None);
        assert_eq!(parse_decimal("+1"), None);
        assert_eq!(parse_decimal("1a"), None);
        assert_eq!(parse_decimal(&"9".repeat(60)), None);
    }

    #[test]
    fn tokens_split_on_ascii_whitespace() {
        let t: Vec<&str> = tokens("  a\tbb  é c\r\n").collect();
        assert_eq!(t, ["a", "bb", "é", "c"]);
        assert_eq!(tokens("   ").count(), 0);
    }

    #[test]
    fn skipped_text_is_cut_on_a_char_boundary() {
        let text = "é".repeat(100);
        let s = Skipped::new(3, "x", &text);
        assert!(s.text.len() <= Skipped::TEXT_MAX);
        assert_eq!(s.text, "é".repeat(60));
        assert_eq!(s.line, 3);
        // Line ends dropped, control characters escaped, tabs kept; an escape is never cut.
        let s = Skipped::new(1, "y", "a\tb\u{1b}c\r\n");
        assert_eq!(s.text, "a\tb\\u{1b}c");
        let s = Skipped::new(1, "y", &format!("{}\u{7}", "x".repeat(117)));
        assert_eq!(s.text, "x".repeat(117));
    }

    #[test]
    fn sink_reuses_and_renames() {
        let mut v = Vec::new();
        let mut sink = CounterSink::new(&mut v);
        sink.put("Tcp", "InSegs", 1);
        sink.put("Tcp", "OutSegs", 2);
        sink.finish();
        let mut sink = CounterSink::new(&mut v);
        sink.put("Tcp", "InSegs", 5);
        sink.put("Udp", "InErrors", 6);
        sink.finish();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].name, "TcpInSegs");
        assert_eq!(v[0].value, 5);
        assert_eq!(v[1].name, "UdpInErrors");
        assert_eq!(v[1].section, "Udp");
    }
}
