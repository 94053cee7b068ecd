//! `netstat -s` and `netstat -s -6` text, from any net-tools version, whole or in pieces.
//!
//! Reads section headers (`Tcp:`, `TcpExt:`, `Udp6:` ...), the ICMP histogram sub-headers,
//! phrase lines (matched through the [`PhraseIndex`], the number anywhere in the line) and the
//! raw `Name: value` lines net-tools prints for fields it has no phrase for (or cannot find in
//! its own unsorted tables). Indentation is ignored. Shell prompts, fences and prose are
//! handled by [`super::clean`].
//!
//! Ambiguous phrases (`packets received` is Udp and Udp6, `total packets received` Ip and Ip6,
//! `echo requests:` in four histograms) are resolved by the section and histogram they appear
//! under. Without a header (grep output), the IPv4 reading is taken unless the paste shows it
//! came from `netstat -s -6` (a prompt with `-6`, or IPv6-only lines), and the report says
//! which reading was taken.
//!
//! Two pastes in one file (a repeated counter, or a second `netstat -s` prompt) are read in
//! order and later values replace earlier ones: the file's last paste wins, and the report
//! says so. For rates, give each paste its own file with a time (`FILE@TIME`).

use std::collections::HashMap;

use super::clean::{self, LineKind};
use super::phrases::{PhraseIndex, parse_number};
use super::{Parsed, SkipLog};
use crate::snapshot::{Counter, CounterValue};

/// Section headers netstat prints, canonical spelling.
const KNOWN_SECTIONS: &[&str] = &[
    "Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite", "TcpExt", "IpExt", "MPTcpExt", "Sctp", "Ip6",
    "Icmp6", "Udp6", "UdpLite6",
];

/// The canonical section of a header line (`TcpExt:` → `TcpExt`), when it is one.
pub fn section_header(line: &str) -> Option<String> {
    let name = line.strip_suffix(':')?.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    if let Some(known) = KNOWN_SECTIONS.iter().find(|s| s.eq_ignore_ascii_case(name)) {
        return Some((*known).to_string());
    }
    // Sections added after this was written (`MPTcpExt` once was new): CamelCase names
    // ending in Ext or 6.
    let first_upper = name.bytes().next().is_some_and(|b| b.is_ascii_uppercase());
    (first_upper && (name.ends_with("Ext") || name.ends_with('6'))).then(|| name.to_string())
}

/// Where a counter sits in the output, and the paste block it was last seen in.
type Slot = (usize, usize);

/// Which ICMP histogram the lines belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Histogram {
    Input,
    Output,
}

/// A line not understood, held back one line in case a chat tool wrapped it.
struct Pending {
    line: usize,
    text: String,
    reason: &'static str,
}

/// Parser state while reading one file.
struct Reader<'i> {
    index: &'i PhraseIndex,
    section: Option<String>,
    histogram: Option<Histogram>,
    /// Evidence the paste is `netstat -s -6` output (used only without headers).
    ipv6: bool,
    counters: Vec<Counter>,
    /// Per index counter: (position in `counters`, paste block it was last seen in).
    slot_by_id: Vec<Option<Slot>>,
    /// The same for raw names the index does not know.
    slot_by_name: HashMap<String, Slot>,
    block: usize,
    block_has_counters: bool,
    block_starts: Vec<usize>,
    skipped: SkipLog,
    /// Phrase key → note, one per ambiguous wording read without a section.
    readings: Vec<(String, String)>,
    headers_seen: usize,
    grep: bool,
    pending: Option<Pending>,
    buf: Vec<u8>,
}

/// Parses `netstat -s` text with the given phrase index.
pub fn parse(text: &str, index: &PhraseIndex) -> Parsed {
    let mut reader = Reader {
        index,
        section: None,
        histogram: None,
        ipv6: false,
        counters: Vec::new(),
        slot_by_id: vec![None; index.len()],
        slot_by_name: HashMap::new(),
        block: 0,
        block_has_counters: false,
        block_starts: Vec::new(),
        skipped: SkipLog::default(),
        readings: Vec::new(),
        headers_seen: 0,
        grep: false,
        pending: None,
        buf: Vec::new(),
    };
    // A first pass for evidence of `-6` output, so a headerless paste's ambiguous first lines
    // are read the same way as its last.
    reader.ipv6 = looks_like_ipv6(text, index);
    for (number, raw) in text.lines().enumerate() {
        reader.line(number + 1, raw);
    }
    reader.finish()
}

/// True when a paste shows it is `netstat -s -6` output: a prompt with `-6`, an IPv6 section
/// header, or a line only IPv6 output has.
fn looks_like_ipv6(text: &str, index: &PhraseIndex) -> bool {
    let mut buf = Vec::new();
    for raw in text.lines().take(4000) {
        match clean::classify(raw) {
            LineKind::Prompt { command } => {
                let hints = clean::command_hints(command);
                if hints.netstat_s {
                    return hints.ipv6;
                }
            }
            LineKind::Text(line) => {
                // Headers decide the sections themselves; the first one tells the family.
                if let Some(section) = section_header(line) {
                    return section.ends_with('6');
                }
                if let Some(m) = index.lookup(line, &mut buf) {
                    let all_v6 = m
                        .candidates
                        .iter()
                        .all(|&id| index.counter(id).is_some_and(|c| c.section.ends_with('6')));
                    if all_v6 {
                        return true;
                    }
                }
            }
            LineKind::Blank => {}
        }
    }
    false
}

impl<'i> Reader<'i> {
    fn line(&mut self, number: usize, raw: &str) {
        let line = match clean::classify(raw) {
            LineKind::Blank => {
                self.flush_pending();
                return;
            }
            LineKind::Prompt { command } => {
                self.flush_pending();
                let hints = clean::command_hints(command);
                self.grep |= hints.grep;
                if hints.netstat_s || hints.nstat_all || hints.nstat_delta {
                    self.start_block(number);
                    self.section = None;
                    self.histogram = None;
                }
                return;
            }
            LineKind::Text(line) => line,
        };
        if let Some(section) = section_header(line) {
            self.flush_pending();
            self.section = Some(section);
            self.histogram = None;
            self.headers_seen += 1;
            return;
        }
        let lower_is = |text: &str| line.eq_ignore_ascii_case(text);
        if lower_is("ICMP input histogram:") || lower_is("ICMP output histogram:") {
            self.flush_pending();
            self.histogram = Some(if lower_is("ICMP input histogram:") {
                Histogram::Input
            } else {
                Histogram::Output
            });
            return;
        }
        match self.interpret(number, line) {
            Ok(()) => self.flush_pending(),
            Err(_) if super::spec::parse_date_output(line).is_some() => {
                // `date` output next to the paste: its time is read by the caller.
                self.flush_pending();
            }
            Err(reason) => {
                // A line a chat tool wrapped: the previous line not understood, and this one
                // not alone, may be one line together.
                if let Some(pending) = self.pending.take() {
                    let joined = format!("{} {line}", pending.text);
                    if self.interpret(pending.line, &joined).is_ok() {
                        return;
                    }
                    self.skipped
                        .push(pending.line, pending.reason, &pending.text);
                }
                self.pending = Some(Pending {
                    line: number,
                    text: line.to_string(),
                    reason,
                });
            }
        }
    }

    /// Records the line held back for joining as skipped.
    fn flush_pending(&mut self) {
        if let Some(pending) = self.pending.take() {
            self.skipped
                .push(pending.line, pending.reason, &pending.text);
        }
    }

    /// Reads one phrase or raw line and records its counter.
    fn interpret(&mut self, number: usize, line: &str) -> Result<(), &'static str> {
        let mut buf = std::mem::take(&mut self.buf);
        let index = self.index;
        let matched = index.lookup(line, &mut buf);
        let result = match matched {
            Some(m) => {
                let (id, reading) = self.choose(m.candidates);
                if let Some(note) = reading {
                    self.note_reading(&buf, note, number);
                }
                match index.counter(id) {
                    Some(c) => {
                        self.push(number, Some(id), &c.name, &c.section, m.value);
                        Ok(())
                    }
                    None => Err("phrase without counter"),
                }
            }
            None => self.raw_line(line).map(|(name, section, value)| {
                let id = index.id_of(&name);
                self.push(number, id, &name, &section, value);
            }),
        };
        self.buf = buf;
        result
    }

    /// A raw `Name: value` line (net-tools' fallback for fields it has no phrase for).
    fn raw_line(&mut self, line: &str) -> Result<(String, String, CounterValue), &'static str> {
        let Some((field, value)) = line.split_once(':') else {
            return Err("not a netstat -s line");
        };
        let field = field.trim_matches(clean::is_space);
        let value = value.trim_matches(clean::is_space);
        let is_name = field
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && field
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !is_name {
            return Err("not a netstat -s line");
        }
        let (negative, digits) = match value.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("not a netstat -s line");
        }
        let Some(magnitude) = parse_number(digits) else {
            return Err("number larger than a 64-bit counter");
        };
        let value = if negative { -magnitude } else { magnitude };
        if let Some(section) = &self.section {
            // `netstat -s -6` prints snmp6 names whole (`Ip6InOctets: 128` under `Ip6:`).
            if section.ends_with('6') && field.starts_with(section.as_str()) {
                return Ok((field.to_string(), section.clone(), value));
            }
            return Ok((format!("{section}{field}"), section.clone(), value));
        }
        // No header: find the field in the knowledge base.
        let candidates = self.index.by_field(field);
        if !candidates.is_empty() {
            let candidates = candidates.to_vec();
            let (id, reading) = self.choose(&candidates);
            if let Some(note) = reading {
                self.readings
                    .push((format!("raw {field}"), format!("`{field}: N` {note}")));
            }
            if let Some(c) = self.index.counter(id) {
                return Ok((c.name.clone(), c.section.clone(), value));
            }
        }
        if let Some(c) = self.index.by_name(field) {
            return Ok((c.name.clone(), c.section.clone(), value));
        }
        Err(
            "raw `Name: value` line with no section header and a field the knowledge base does not know",
        )
    }

    /// Picks one of the counters a wording can mean; the second value explains a reading
    /// taken without enough context.
    fn choose(&self, candidates: &[u32]) -> (u32, Option<String>) {
        let first = candidates.first().copied().unwrap_or(0);
        if candidates.len() == 1 {
            return (first, None);
        }
        let index = self.index;
        let mut pool: Vec<u32> = candidates.to_vec();
        if let Some(section) = &self.section {
            let in_section: Vec<u32> = pool
                .iter()
                .copied()
                .filter(|&id| index.header(id) == Some(section.as_str()))
                .collect();
            if !in_section.is_empty() {
                pool = in_section;
            }
        }
        if let Some(histogram) = self.histogram {
            let prefix = match histogram {
                Histogram::Input => "In",
                Histogram::Output => "Out",
            };
            let direction: Vec<u32> = pool
                .iter()
                .copied()
                .filter(|&id| {
                    index
                        .counter(id)
                        .is_some_and(|c| c.field.starts_with(prefix))
                })
                .collect();
            if !direction.is_empty() {
                pool = direction;
            }
        }
        if pool.len() == 1 {
            return (pool.first().copied().unwrap_or(first), None);
        }
        // Still ambiguous: prefer the address family the paste shows, then input histograms.
        let want_v6 = self.ipv6;
        let family: Vec<u32> = pool
            .iter()
            .copied()
            .filter(|&id| {
                index
                    .counter(id)
                    .is_some_and(|c| c.section.ends_with('6') == want_v6)
            })
            .collect();
        if !family.is_empty() {
            pool = family;
        }
        let inbound: Vec<u32> = pool
            .iter()
            .copied()
            .filter(|&id| index.counter(id).is_some_and(|c| c.field.starts_with("In")))
            .collect();
        if pool.len() > 1 && !inbound.is_empty() {
            pool = inbound;
        }
        let chosen = pool.first().copied().unwrap_or(first);
        let name = |id: u32| index.counter(id).map(|c| c.name.as_str()).unwrap_or("?");
        let others: Vec<&str> = candidates
            .iter()
            .copied()
            .filter(|&id| id != chosen)
            .map(name)
            .collect();
        let why = if self.section.is_none() {
            "has no section header"
        } else {
            "is ambiguous under its header"
        };
        let family_word = if want_v6 { "IPv6" } else { "IPv4" };
        (
            chosen,
            Some(format!(
                "{why}: read as {} ({family_word} reading), could also be {}",
                name(chosen),
                others.join(", ")
            )),
        )
    }

    fn note_reading(&mut self, key: &[u8], note: String, line: usize) {
        let key = String::from_utf8_lossy(key);
        if self.readings.iter().any(|(k, _)| *k == key) || self.readings.len() >= 32 {
            return;
        }
        let phrase = key.replace("{n}", "N");
        self.readings
            .push((key.to_string(), format!("line {line}: `{phrase}` {note}")));
    }

    fn start_block(&mut self, line: usize) {
        if self.block_has_counters {
            self.block += 1;
            self.block_has_counters = false;
            self.block_starts.push(line);
        }
    }

    fn push(
        &mut self,
        line: usize,
        id: Option<u32>,
        name: &str,
        section: &str,
        value: CounterValue,
    ) {
        if self.block_starts.is_empty() {
            self.block_starts.push(line);
        }
        let seen = match id {
            Some(id) => self.slot_by_id.get(id as usize).copied().flatten(),
            None => self.slot_by_name.get(name).copied(),
        };
        let at = match seen {
            Some((at, block)) => {
                if block == self.block {
                    // The same counter twice in one paste: a second paste begins here.
                    self.start_block(line);
                }
                if let Some(existing) = self.counters.get_mut(at) {
                    existing.value = value;
                }
                at
            }
            None => {
                self.counters.push(Counter {
                    name: name.to_string(),
                    section: section.to_string(),
                    value,
                });
                self.counters.len() - 1
            }
        };
        let slot = Some((at, self.block));
        match id.and_then(|id| self.slot_by_id.get_mut(id as usize)) {
            Some(entry) => *entry = slot,
            None => match self.slot_by_name.get_mut(name) {
                Some(entry) => *entry = (at, self.block),
                None => {
                    self.slot_by_name.insert(name.to_string(), (at, self.block));
                }
            },
        }
        self.block_has_counters = true;
    }

    fn finish(mut self) -> Parsed {
        self.flush_pending();
        let mut notes = Vec::new();
        if self.block_starts.len() > 1 {
            let mut starts: Vec<String> = self
                .block_starts
                .iter()
                .take(5)
                .map(|l| l.to_string())
                .collect();
            if self.block_starts.len() > 5 {
                starts.push("...".to_string());
            }
            notes.push(format!(
                "{} pastes in this file (starting at lines {}): read in order, a later value \
                 replaces an earlier one, so the counters are those of the last paste",
                self.block_starts.len(),
                starts.join(", ")
            ));
        }
        if self.headers_seen == 0 && !self.counters.is_empty() {
            notes.push(
                "no section headers (a partial paste, e.g. grep output): sections inferred \
                 from the wording"
                    .to_string(),
            );
        }
        if self.headers_seen > 0
            && self.skipped.count > 5
            && self.skipped.count > self.counters.len()
        {
            notes.push(
                "most lines under the section headers were not understood: if the output is \
                 translated, re-run netstat with LC_ALL=C (net-tools translates its phrases)"
                    .to_string(),
            );
        }
        if self.grep {
            notes.push(
                "the paste was filtered with grep: counters not shown are unknown, not zero"
                    .to_string(),
            );
        }
        notes.extend(self.readings.into_iter().map(|(_, note)| note));
        Parsed {
            counters: self.counters,
            skipped: self.skipped,
            notes,
            ipv6: self.ipv6,
        }
    }
}

/// How many lines of a sample look like netstat -s output (for format detection).
/// Without an index, phrase lines are not looked up (a cheap first pass: headers and raw
/// lines often decide alone).
pub fn score(lines: &[&str], index: Option<&PhraseIndex>) -> usize {
    let mut buf = Vec::new();
    let mut score = 0;
    for line in lines {
        if section_header(line).is_some()
            || line.eq_ignore_ascii_case("ICMP input histogram:")
            || line.eq_ignore_ascii_case("ICMP output histogram:")
            || index.is_some_and(|index| index.lookup(line, &mut buf).is_some())
        {
            score += 2;
        } else if is_raw_line(line) {
            score += 1;
        }
    }
    score
}

/// `Name: 123`.
fn is_raw_line(line: &str) -> bool {
    line.split_once(':').is_some_and(|(name, value)| {
        let value = value.trim();
        name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !value.is_empty()
            && value.bytes().all(|b| b.is_ascii_digit())
    })
}
