//! The phrase index: `netstat -s` wordings → counters, built once from the knowledge base.
//!
//! Every knowledge-base counter lists its `netstat -s` phrases with `{n}` where the number
//! stands. The index normalises each phrase (ASCII lower case, whitespace collapsed, a trailing
//! full stop dropped) into a key such as `{n} syns to listen sockets dropped` and keeps a hash
//! map from key to the counters that print it (several when Udp and Udp6 share a wording).
//!
//! A pasted line is looked up by replacing one free-standing run of digits with `{n}` and
//! normalising the rest the same way: one pass over the line and one hash lookup per number
//! in it, whatever the number of phrases. No regular expressions.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use crate::snapshot::CounterValue;

/// One counter the index knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhraseCounter {
    /// Canonical (nstat) name: `TcpExtListenDrops`.
    pub name: String,
    /// Section: `TcpExt`, `Udp6`.
    pub section: String,
    /// Field within the section: `ListenDrops`.
    pub field: String,
}

/// What the index is built from: one counter and its wordings.
#[derive(Debug, Clone, Copy)]
pub struct PhraseSource<'a> {
    pub name: &'a str,
    pub section: &'a str,
    pub field: &'a str,
    /// Phrases with `{n}` where the number stands.
    pub phrases: &'a [&'a str],
    /// The header netstat prints the counter under (`TcpExt:`), when it differs from the
    /// section.
    pub netstat_section: Option<&'a str>,
}

/// A phrase matched on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhraseMatch<'i> {
    /// Indices into [`PhraseIndex::counter`] of every counter with this wording.
    pub candidates: &'i [u32],
    /// The number on the line.
    pub value: CounterValue,
}

/// FNV-1a: a fast hash for the short phrase keys. The table is built from the knowledge base
/// and only looked up with pasted text, never grown by it, so a crafted paste cannot degrade it.
#[derive(Default)]
pub struct Fnv1a(u64);

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = hash;
    }
}

type PhraseMap = HashMap<Vec<u8>, Vec<u32>, BuildHasherDefault<Fnv1a>>;

/// The compiled index.
#[derive(Debug, Default)]
pub struct PhraseIndex {
    counters: Vec<PhraseCounter>,
    /// The header name each counter is printed under (section by default).
    headers: Vec<String>,
    by_phrase: PhraseMap,
    by_field: HashMap<String, Vec<u32>>,
    by_name: HashMap<String, u32, BuildHasherDefault<Fnv1a>>,
}

impl PhraseIndex {
    /// Builds an index over the given counters.
    pub fn new<'a>(sources: impl IntoIterator<Item = PhraseSource<'a>>) -> Self {
        let mut index = PhraseIndex::default();
        let mut key = Vec::new();
        for source in sources {
            let id = index.counters.len() as u32;
            index.counters.push(PhraseCounter {
                name: source.name.to_string(),
                section: source.section.to_string(),
                field: source.field.to_string(),
            });
            let header = source
                .netstat_section
                .map(|h| h.trim().trim_end_matches(':').to_string())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| source.section.to_string());
            index.headers.push(header);
            for phrase in source.phrases {
                if phrase_key(phrase, &mut key) {
                    let ids = index.by_phrase.entry(key.clone()).or_default();
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
            index
                .by_field
                .entry(source.field.to_string())
                .or_default()
                .push(id);
            index.by_name.insert(source.name.to_string(), id);
        }
        index
    }

    /// The index over the knowledge base's counters, built on first use.
    pub fn from_kb() -> &'static PhraseIndex {
        static INDEX: OnceLock<PhraseIndex> = OnceLock::new();
        INDEX.get_or_init(|| {
            PhraseIndex::new(crate::kb::counters().iter().map(|c| PhraseSource {
                name: c.name,
                section: c.section,
                field: c.field,
                phrases: c.phrases,
                netstat_section: c.netstat_section,
            }))
        })
    }

    /// Number of counters known.
    pub fn len(&self) -> usize {
        self.counters.len()
    }

    /// True when the index knows no counter (the knowledge base is empty).
    pub fn is_empty(&self) -> bool {
        self.counters.is_empty()
    }

    /// Number of distinct phrase keys.
    pub fn phrase_count(&self) -> usize {
        self.by_phrase.len()
    }

    /// A counter by index.
    pub fn counter(&self, id: u32) -> Option<&PhraseCounter> {
        self.counters.get(id as usize)
    }

    /// The section header (without colon) a counter is printed under by netstat.
    pub fn header(&self, id: u32) -> Option<&str> {
        self.headers.get(id as usize).map(String::as_str)
    }

    /// Counters with this field name (`TCPTimeouts`), for raw lines without a section.
    pub fn by_field(&self, field: &str) -> &[u32] {
        self.by_field.get(field).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The index of a counter by canonical name.
    pub fn id_of(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// A counter by canonical name.
    pub fn by_name(&self, name: &str) -> Option<&PhraseCounter> {
        self.by_name.get(name).and_then(|&id| self.counter(id))
    }

    /// Looks a line up: tries each free-standing run of digits as the number. `buf` is reused
    /// between calls to avoid allocation.
    pub fn lookup(&self, line: &str, buf: &mut Vec<u8>) -> Option<PhraseMatch<'_>> {
        if self.by_phrase.is_empty() {
            return None;
        }
        let bytes = line.as_bytes();
        let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
        let word_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_alphanumeric);
        let mut i = 0;
        while i < bytes.len() {
            if !digit_at(i) {
                i += 1;
                continue;
            }
            let start = i;
            while digit_at(i) {
                i += 1;
            }
            let end = i;
            let free_before = start == 0 || !word_at(start - 1);
            let free_after = !word_at(end);
            if !(free_before && free_after) {
                continue;
            }
            let (Some(before), Some(after), Some(number)) =
                (line.get(..start), line.get(end..), line.get(start..end))
            else {
                continue;
            };
            build_key(before, after, buf);
            if let Some(ids) = self.by_phrase.get(buf.as_slice()) {
                let value = parse_number(number)?;
                return Some(PhraseMatch {
                    candidates: ids,
                    value,
                });
            }
        }
        None
    }
}

/// Parses a run of ASCII digits as a counter value (None when longer than a value can hold).
pub fn parse_number(digits: &str) -> Option<CounterValue> {
    let mut value: CounterValue = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value
            .checked_mul(10)?
            .checked_add(CounterValue::from(b - b'0'))?;
    }
    // Kernel counters are 64-bit: a longer number is not a counter.
    (value <= CounterValue::from(u64::MAX)).then_some(value)
}

/// Appends `text` lower-cased with whitespace runs collapsed to one space and the ends trimmed.
fn push_normalised(text: &str, out: &mut Vec<u8>) {
    let mut pending_space = false;
    let start_len = out.len();
    if text.is_ascii() {
        for &b in text.as_bytes() {
            if b.is_ascii_whitespace() || b == 0x0b {
                pending_space = out.len() > start_len;
                continue;
            }
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(b.to_ascii_lowercase());
        }
        return;
    }
    let mut utf8 = [0u8; 4];
    for c in text.chars() {
        if super::clean::is_space(c) {
            pending_space = out.len() > start_len;
            continue;
        }
        if pending_space {
            out.push(b' ');
            pending_space = false;
        }
        out.extend_from_slice(c.to_ascii_lowercase().encode_utf8(&mut utf8).as_bytes());
    }
}

/// The key of a phrase split around its number: normalised text with ` {n} ` in between
/// (spaces around the number always, so `echo requests:12` and `echo requests: 12` agree).
fn build_key(before: &str, after: &str, out: &mut Vec<u8>) {
    out.clear();
    push_normalised(before, out);
    if !out.is_empty() {
        out.push(b' ');
    }
    out.extend_from_slice(b"{n}");
    if !after.trim_matches(super::clean::is_space).is_empty() {
        out.push(b' ');
    }
    push_normalised(after, out);
    finish_key(out);
}

/// Drops a trailing full stop (older net-tools ended some lines with one).
fn finish_key(key: &mut Vec<u8>) {
    while matches!(key.last(), Some(b'.' | b' ')) {
        key.pop();
    }
}

/// The key of a knowledge-base phrase; false when it has no number placeholder.
fn phrase_key(phrase: &str, key: &mut Vec<u8>) -> bool {
    let phrase = phrase
        .replace("%llu", "{n}")
        .replace("%lu", "{n}")
        .replace("%u", "{n}")
        .replace("%d", "{n}");
    let Some((before, after)) = phrase.split_once("{n}") else {
        return false;
    };
    build_key(before, after, key);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> PhraseIndex {
        PhraseIndex::new([
            PhraseSource {
                name: "TcpExtListenDrops",
                section: "TcpExt",
                field: "ListenDrops",
                phrases: &[
                    "{n} SYNs to LISTEN sockets dropped",
                    "{n} SYNs to LISTEN sockets ignored",
                ],
                netstat_section: Some("TcpExt:"),
            },
            PhraseSource {
                name: "TcpExtDelayedACKLost",
                section: "TcpExt",
                field: "DelayedACKLost",
                phrases: &["Quick ack mode was activated {n} times"],
                netstat_section: Some("TcpExt:"),
            },
            PhraseSource {
                name: "IcmpInEchos",
                section: "Icmp",
                field: "InEchos",
                phrases: &["echo requests: {n}"],
                netstat_section: Some("Icmp:"),
            },
        ])
    }

    #[test]
    fn matches_number_anywhere() {
        let index = index();
        let mut buf = Vec::new();
        let m = index.lookup("35544811584 SYNs to LISTEN sockets dropped", &mut buf);
        assert_eq!(m.map(|m| m.value), Some(35_544_811_584));
        let m = index.lookup("  QUICK ack  mode was activated 7 times.", &mut buf);
        assert_eq!(m.map(|m| m.value), Some(7));
        let m = index.lookup("echo requests: 12", &mut buf);
        assert_eq!(m.map(|m| m.value), Some(12));
        let m = index.lookup("echo requests:12", &mut buf);
        assert_eq!(m.map(|m| m.value), Some(12));
        assert_eq!(
            index
                .lookup("5 SYNs to LISTEN sockets ignored", &mut buf)
                .map(|m| m.value),
            Some(5)
        );
        assert_eq!(
            index.lookup("SYNs to LISTEN sockets dropped", &mut buf),
            None
        );
    }

    #[test]
    fn refuses_numbers_too_large() {
        assert_eq!(parse_number("18446744073709551615"), Some(u64::MAX.into()));
        assert_eq!(parse_number("18446744073709551616"), None);
        assert_eq!(
            parse_number("999999999999999999999999999999999999999999"),
            None
        );
    }
}
