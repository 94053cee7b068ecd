//! Ingest: text people paste into tickets (`netstat -s`, `nstat`, /proc/net files, `sysctl -a`,
//! sysctl.conf, `ss -ltn`, netdoctor snapshot JSON) → Snapshots, with an honest report.
//!
//! Each `--from` file's format is detected from its content, never its name
//! ([`detect`]). Several files combine into one snapshot ([`load`]): counters from one, sysctls
//! from another, sockets from a third. Dated pastes of the same host (`FILE@TIME` or
//! `--use-mtime`) become a time-ordered series ([`load_series`]) so rates are real rates.
//!
//! Honesty rules: every line that was not understood is counted and the first few are listed
//! with their line numbers; a file that matches no format is an error; the snapshot's sources
//! say what pasted text cannot show (socket table, uptime, a second sample). An undated paste
//! carries lifetime totals: its snapshot has no time, so nothing downstream can turn a total
//! into a rate.
//!
//! The `netstat -s` wordings come from the knowledge base (`kb::counters()`, each entry's
//! `phrases`), compiled once into a [`phrases::PhraseIndex`]. Functions ending in `_with`
//! take an explicit index (tests, and callers with their own tables).

pub mod clean;
pub mod netstat_s;
pub mod phrases;
pub mod procfiles;
pub mod spec;
pub mod ss;
pub mod sysctl_text;
pub mod tables;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

use serde::Serialize;

pub use phrases::PhraseIndex;
pub use spec::FromSpec;

use crate::snapshot::{
    Counter, Origin, SNAPSHOT_SCHEMA, Skipped, Snapshot, SourceStatus, SysctlAssignment, SysctlKey,
    SysctlView, sockets::SocketView,
};

/// How many skipped lines a report lists per file (all are counted).
pub const FIRST_SKIPPED: usize = 5;

/// Errors that stop ingest. Each names the file (and line) at fault.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("--from {spec}: {reason}")]
    BadSpec { spec: String, reason: String },
    #[error("no --from file given")]
    NoFiles,
    #[error("standard input (`-`) can be given only once")]
    StdinTwice,
    #[error("cannot read {file}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{file}: not a format netdoctor reads (netstat -s, nstat, /proc/net/snmp|netstat|snmp6|\
         sockstat|softnet_stat|stat/nf_conntrack, sysctl -a/-p, sysctl.conf, ss -ltn/-tan, \
         netdoctor snapshot JSON){hint}"
    )]
    NoFormat { file: String, hint: String },
    #[error("{file}: {reason}")]
    BadSnapshot { file: String, reason: String },
    #[error(
        "{file} holds counters but no time, while other files are dated: give it one \
         ({file}@2024-05-01T10:00:00) or --use-mtime, so its counters are not mixed into \
         another moment"
    )]
    UndatedCounters { file: String },
}

/// The formats `--from` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `netstat -s` / `netstat -s -6` text, whole or partial.
    NetstatS,
    /// `nstat` output (`#kernel`, `Name value rate`).
    Nstat,
    /// `nstat -j`.
    NstatJson,
    /// /proc/net/snmp or /proc/net/netstat contents (header/value line pairs).
    ProcSnmp,
    /// /proc/net/snmp6 contents (`Name value`).
    ProcSnmp6,
    /// `sysctl -a` or `sysctl -p` output: live values.
    SysctlOutput,
    /// A sysctl.conf or sysctl.d file: configured values.
    SysctlConfig,
    /// /proc/net/sockstat or sockstat6 contents.
    ProcSockstat,
    /// /proc/net/softnet_stat contents.
    ProcSoftnet,
    /// /proc/net/stat/nf_conntrack contents.
    ProcConntrackStat,
    /// `ss -ltn`, `ss -tan` (or `ss -an`) output.
    Ss,
    /// A netdoctor snapshot (schema netdoctor.snapshot/v1).
    SnapshotJson,
}

impl Format {
    /// Human name.
    pub fn describe(self) -> &'static str {
        match self {
            Format::NetstatS => "netstat -s",
            Format::Nstat => "nstat",
            Format::NstatJson => "nstat -j",
            Format::ProcSnmp => "/proc/net/snmp or /proc/net/netstat",
            Format::ProcSnmp6 => "/proc/net/snmp6",
            Format::SysctlOutput => "sysctl output (live values)",
            Format::SysctlConfig => "sysctl configuration file",
            Format::ProcSockstat => "/proc/net/sockstat",
            Format::ProcSoftnet => "/proc/net/softnet_stat",
            Format::ProcConntrackStat => "/proc/net/stat/nf_conntrack",
            Format::Ss => "ss socket list",
            Format::SnapshotJson => "netdoctor snapshot",
        }
    }
}

/// What was read from one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The file as given (`-` is shown as `stdin`).
    pub file: String,
    pub format: Format,
    /// Why the format was chosen, or which reading was taken.
    pub reading: String,
    /// When the paste was taken (seconds since the epoch), if known.
    pub taken_at_unix_s: Option<f64>,
    pub counters_read: usize,
    pub sysctl_keys_read: usize,
    pub sockets_read: usize,
    /// Lines not understood (all of them counted) ...
    pub skipped_lines: usize,
    /// ... and the first few, with line numbers.
    pub first_skipped: Vec<Skipped>,
    /// Readings taken and caveats (ambiguous phrases, several pastes in one file, grep).
    pub notes: Vec<String>,
}

/// What ingest did, file by file, plus notes about the combination.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    pub files: Vec<FileReport>,
    pub notes: Vec<String>,
}

impl IngestReport {
    /// Total lines skipped over every file.
    pub fn skipped_lines(&self) -> usize {
        self.files.iter().map(|f| f.skipped_lines).sum()
    }

    /// What each file was read as, for an error that says the data needed is not there:
    /// "a.txt: netstat -s; b.txt: ss -ltn".
    pub fn formats_read(&self) -> String {
        self.files
            .iter()
            .map(|f| format!("{}: {}", f.file, f.format.describe()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Skipped lines: every one counted, the first few kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SkipLog {
    pub count: usize,
    pub first: Vec<Skipped>,
}

impl SkipLog {
    /// Records a skipped line (text truncated to 120 characters).
    pub fn push(&mut self, line: usize, reason: &str, text: &str) {
        self.count += 1;
        if self.first.len() < FIRST_SKIPPED {
            let text = clean::strip_decoration(text);
            let text: String = text.chars().take(120).collect();
            self.first.push(Skipped {
                line,
                reason: reason.to_string(),
                text,
            });
        }
    }
}

/// What a counter parser returns for one text.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub counters: Vec<Counter>,
    pub skipped: SkipLog,
    pub notes: Vec<String>,
    /// The paste looked like IPv6 (`netstat -s -6`) output.
    pub ipv6: bool,
}

/// One file read and understood.
#[derive(Debug, Clone)]
struct FileData {
    label: String,
    format: Format,
    reading: String,
    taken_at: Option<f64>,
    counters: Vec<Counter>,
    sysctl: Vec<sysctl_text::SysctlLine>,
    sockets: Option<SocketView>,
    sockstat: Vec<crate::snapshot::SockstatLine>,
    softnet: Vec<crate::snapshot::SoftnetCpu>,
    conntrack: Option<crate::snapshot::Conntrack>,
    snapshot: Option<Box<Snapshot>>,
    /// A pasted sysctl.conf / sysctl.d file as the configuration loader reads it (globs,
    /// `-key` exclusions, every skipped line).
    conf: Option<crate::collect::sysconf::ParsedConf>,
    skipped: SkipLog,
    notes: Vec<String>,
}

/// Detects the format of a text. None when nothing in it is recognised.
pub fn detect(text: &str) -> Option<(Format, String)> {
    detect_with(text, PhraseIndex::from_kb())
}

/// [`detect`] with an explicit phrase index.
pub fn detect_with(text: &str, index: &PhraseIndex) -> Option<(Format, String)> {
    let start = text.trim_start_matches(clean::is_space);
    if start.starts_with('{') {
        if start.contains("\"schema\"") && start.contains("netdoctor.snapshot/") {
            return Some((Format::SnapshotJson, "netdoctor snapshot JSON".to_string()));
        }
        if start.contains("\"kernel\"") {
            return Some((Format::NstatJson, "nstat -j JSON".to_string()));
        }
    }
    let mut lines: Vec<&str> = Vec::new();
    let mut prompt_hint: Option<&str> = None;
    for raw in text.lines() {
        match clean::classify(raw) {
            clean::LineKind::Text(line) => lines.push(line),
            clean::LineKind::Prompt { command } => {
                prompt_hint.get_or_insert(command);
            }
            clean::LineKind::Blank => {}
        }
        if lines.len() >= 600 {
            break;
        }
    }
    // A prompt naming the command is evidence too (a one-line grep result has little else).
    let tool = prompt_hint
        .and_then(|c| c.split('|').next())
        .map(|c| {
            let mut words = c.split_whitespace().filter(|w| *w != "sudo");
            let first = words.next().unwrap_or("");
            first.rsplit('/').next().unwrap_or(first).to_string()
        })
        .unwrap_or_default();
    let bonus = |name: &str| if tool == name { 2 } else { 0 };
    // The first 64 lines usually decide; the rest of the sample only when they do not.
    let mut sample = lines.get(..64).unwrap_or(&lines);
    let decisive = |s: &[(usize, Format); 8]| {
        let mut sorted: Vec<usize> = s.iter().map(|(score, _)| *score).collect();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let best = sorted.first().copied().unwrap_or(0);
        let second = sorted.get(1).copied().unwrap_or(0);
        best >= 16 && second * 4 <= best
    };
    // First without phrase lookups: a netstat -s paste's headers and raw lines usually decide.
    let mut scores = format_scores(sample, None, &bonus);
    let netstat_by_headers = decisive(&scores.0)
        && scores
            .0
            .iter()
            .max_by_key(|(score, _)| *score)
            .is_some_and(|(_, f)| *f == Format::NetstatS);
    if !netstat_by_headers {
        scores = format_scores(sample, Some(index), &bonus);
        if !decisive(&scores.0) && sample.len() < lines.len() {
            sample = &lines;
            scores = format_scores(sample, Some(index), &bonus);
        }
    }
    let (candidates, nstat_marker) = scores;
    let (best, format) = candidates
        .iter()
        .copied()
        .max_by_key(|(score, _)| *score)
        .unwrap_or((0, Format::NetstatS));
    let from_content = best.saturating_sub(match format {
        Format::NetstatS => bonus("netstat"),
        Format::Nstat => bonus("nstat"),
        Format::SysctlOutput => bonus("sysctl"),
        Format::Ss => bonus("ss"),
        _ => 0,
    });
    if best < 2 || from_content == 0 {
        return None;
    }
    let format = match format {
        Format::Nstat => {
            let three_columns = sample.iter().any(|l| l.split_whitespace().count() == 3);
            let all_v6 = sample.iter().all(|l| {
                let name = l.split_whitespace().next().unwrap_or("");
                ["Ip6", "Icmp6", "Udp6", "UdpLite6"]
                    .iter()
                    .any(|p| name.starts_with(p))
            });
            if !nstat_marker && !three_columns && all_v6 {
                Format::ProcSnmp6
            } else {
                Format::Nstat
            }
        }
        other => other,
    };
    let why = match prompt_hint {
        Some(command) => format!("content (prompt shows `{command}`)"),
        None => "content".to_string(),
    };
    Some((format, why))
}

/// Scores each format over a sample of cleaned lines; also whether nstat's `#kernel` was seen.
fn format_scores(
    sample: &[&str],
    index: Option<&PhraseIndex>,
    bonus: &dyn Fn(&str) -> usize,
) -> ([(usize, Format); 8], bool) {
    let netstat = netstat_s::score(sample, index) + bonus("netstat");
    let (name_value, nstat_marker, pairs) = tables::scores(sample);
    let nstat = name_value * 2 + if nstat_marker { 5 } else { 0 } + bonus("nstat");
    let sysctl = sample
        .iter()
        .filter(|l| !l.starts_with('#') && sysctl_text::is_assignment(l))
        .count()
        * 2
        + bonus("sysctl");
    let ss_score = bonus("ss")
        + sample
            .iter()
            .map(|l| {
                if ss::is_header(l) {
                    3
                } else if ss::is_row(l) {
                    2
                } else {
                    0
                }
            })
            .sum::<usize>();
    let (sockstat, softnet, conntrack) = procfiles::scores(sample);
    (
        [
            (netstat, Format::NetstatS),
            (nstat, Format::Nstat),
            (pairs * 2, Format::ProcSnmp),
            (sysctl, Format::SysctlOutput),
            (ss_score, Format::Ss),
            (sockstat, Format::ProcSockstat),
            (softnet, Format::ProcSoftnet),
            (conntrack, Format::ProcConntrackStat),
        ],
        nstat_marker,
    )
}

/// A cheap gate before looking for parts: every prompt form ends in `$ ` or `# `.
fn has_two_prompts(text: &str) -> bool {
    let mut marks = 0;
    let mut previous = 0u8;
    for &b in text.as_bytes() {
        if b == b' ' && (previous == b'$' || previous == b'#') {
            marks += 1;
            if marks >= 2 {
                return true;
            }
        }
        previous = b;
    }
    false
}

/// The most command outputs one file is split into.
const MAX_SEGMENTS: usize = 32;

/// What a prompt's command shows, as a key that differs between tools (`cat` keeps its path).
fn tool_key(command: &str) -> Option<String> {
    let first_part = command.split('|').next().unwrap_or("");
    let mut words = first_part.split_whitespace().filter(|w| *w != "sudo");
    let first = words.next()?;
    let tool = first.rsplit('/').next().unwrap_or(first);
    match tool {
        "netstat" | "nstat" | "ss" | "sysctl" => Some(tool.to_string()),
        "cat" | "tail" | "head" | "less" | "more" => words
            .find(|w| !w.starts_with('-'))
            .map(|path| format!("cat {path}")),
        _ => None,
    }
}

/// Splits a ticket holding several commands' outputs (`$ netstat -s` ... `$ sysctl -a` ...
/// `$ ss -ltn` ...) at the prompts, when they name different tools. Each part is (first line
/// index, text); prose before the first prompt stays with the first part.
fn segments(text: &str) -> Option<Vec<(usize, &str)>> {
    if !has_two_prompts(text) {
        return None;
    }
    let mut starts: Vec<(usize, usize, String)> = Vec::new(); // (line index, byte offset, tool)
    let mut offset = 0;
    for (number, raw) in text.split_inclusive('\n').enumerate() {
        if let clean::LineKind::Prompt { command } = clean::classify(raw)
            && let Some(tool) = tool_key(command)
        {
            starts.push((number, offset, tool));
        }
        offset += raw.len();
    }
    let first_tool = starts.first().map(|(_, _, t)| t.clone())?;
    // A ticket holds a handful of commands; many prompts are one tool's repeated pastes
    // (or garbage), read as one text.
    if starts.len() > MAX_SEGMENTS || starts.iter().all(|(_, _, t)| *t == first_tool) {
        return None;
    }
    let mut parts = Vec::with_capacity(starts.len());
    for (i, (line, start, _)) in starts.iter().enumerate() {
        let (line, start) = if i == 0 { (0, 0) } else { (*line, *start) };
        let end = starts.get(i + 1).map_or(text.len(), |(_, next, _)| *next);
        parts.push((line, text.get(start..end).unwrap_or("")));
    }
    Some(parts)
}

/// True when a prompt's command prints counters (`netstat -s`, `nstat`, `cat /proc/net/snmp`),
/// also inside a chain (`date; netstat -s | grep listen`).
fn prints_counters(command: &str) -> bool {
    command.split([';', '|', '&']).any(|part| {
        let hints = clean::command_hints(part);
        hints.netstat_s
            || hints.nstat_all
            || hints.nstat_delta
            || tool_key(part).is_some_and(|k| {
                k.starts_with("cat /proc/net/snmp") || k.starts_with("cat /proc/net/netstat")
            })
    })
}

/// Several dated pastes of counters in one file (`$ date; netstat -s | grep listen` twice, a
/// minute apart): (first line index, text, time, zone understood) per paste, when every paste
/// has its own `date` line and the times differ. The time of a paste is the first `date` output
/// after its prompt, or the last one printed since the previous paste.
fn dated_blocks(text: &str) -> Option<Vec<(usize, &str, f64, bool)>> {
    // Cheap gate: two pastes need two prompts naming a counter tool.
    if !has_two_prompts(text)
        || text
            .matches("stat")
            .chain(text.matches("snmp"))
            .take(2)
            .count()
            < 2
    {
        return None;
    }
    struct Block {
        line: usize,
        offset: usize,
        time: Option<(f64, bool)>,
        has_counters_after_time: bool,
    }
    let mut blocks: Vec<Block> = Vec::new();
    let mut waiting: Option<(f64, bool)> = None;
    let mut offset = 0;
    for (number, raw) in text.split_inclusive('\n').enumerate() {
        match clean::classify(raw) {
            clean::LineKind::Prompt { command } if prints_counters(command) => {
                if blocks.len() >= MAX_SEGMENTS {
                    return None;
                }
                blocks.push(Block {
                    line: number,
                    offset,
                    time: waiting.take(),
                    has_counters_after_time: false,
                });
            }
            clean::LineKind::Text(line) => {
                if let Some(time) = spec::parse_date_output(line) {
                    match blocks.last_mut() {
                        Some(block) if block.time.is_none() => block.time = Some(time),
                        _ => waiting = Some(time),
                    }
                } else if let Some(block) = blocks.last_mut() {
                    block.has_counters_after_time |= block.time.is_some();
                }
            }
            _ => {}
        }
        offset += raw.len();
    }
    if blocks.len() < 2
        || blocks
            .iter()
            .any(|b| b.time.is_none() || !b.has_counters_after_time)
    {
        return None;
    }
    let mut times: Vec<f64> = blocks.iter().filter_map(|b| b.time.map(|t| t.0)).collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    if times.len() != blocks.len() {
        return None;
    }
    let mut out = Vec::with_capacity(blocks.len());
    for (i, block) in blocks.iter().enumerate() {
        let (line, start) = if i == 0 {
            (0, 0)
        } else {
            (block.line, block.offset)
        };
        let end = blocks.get(i + 1).map_or(text.len(), |next| next.offset);
        let (time, zone_known) = block.time?;
        out.push((line, text.get(start..end)?, time, zone_known));
    }
    Some(out)
}

/// Parses one file: several dated pastes as separate moments, else one text.
fn parse_file(
    label: &str,
    text: &str,
    time: Option<f64>,
    index: &PhraseIndex,
) -> Result<Vec<FileData>, IngestError> {
    let blocks = if time.is_none() {
        dated_blocks(text)
    } else {
        None
    };
    let Some(blocks) = blocks else {
        let mut data = parse_text(label, text, index)?;
        if time.is_some() {
            data.taken_at = time;
        }
        return Ok(vec![data]);
    };
    let mut out = Vec::with_capacity(blocks.len());
    for (first_line, block, taken_at, zone_known) in blocks {
        let last_line = first_line + block.lines().count();
        let padded = format!("{}{block}", "\n".repeat(first_line));
        let part_label = format!("{label} (lines {}-{last_line})", first_line + 1);
        let mut data = parse_text(&part_label, &padded, index)?;
        data.taken_at = Some(taken_at);
        data.notes.push(format!(
            "one of several dated pastes in {label}: taken {} (from its `date` line)",
            spec::format_time(taken_at)
        ));
        if !zone_known {
            data.notes.push(
                "the `date` line names a time zone other than UTC: read as UTC, so the time \
                 is shifted but differences between pastes are exact"
                    .to_string(),
            );
        }
        out.push(data);
    }
    Ok(out)
}

/// Parses one text: several commands' outputs part by part, else as one format.
fn parse_text(label: &str, text: &str, index: &PhraseIndex) -> Result<FileData, IngestError> {
    let Some(parts) = segments(text) else {
        return parse_one(label, text, index);
    };
    let mut combined: Option<FileData> = None;
    let mut descriptions = Vec::new();
    let mut unknown = SkipLog::default();
    for (first_line, part) in parts {
        // Blank lines in front keep the part's line numbers those of the file.
        let padded = format!("{}{part}", "\n".repeat(first_line));
        let last_line = first_line + part.lines().count();
        match parse_one(label, &padded, index) {
            Ok(data) => {
                descriptions.push(format!(
                    "lines {}-{}: {}",
                    first_line + 1,
                    last_line,
                    data.format.describe()
                ));
                combined = Some(match combined {
                    None => data,
                    Some(mut all) => {
                        absorb(&mut all, data);
                        all
                    }
                });
            }
            Err(IngestError::NoFormat { .. }) => {
                for (n, raw) in padded.lines().enumerate().skip(first_line) {
                    if !clean::strip_decoration(raw).is_empty() {
                        unknown.push(n + 1, "in a part of no known format", raw);
                    }
                }
                descriptions.push(format!(
                    "lines {}-{}: not understood",
                    first_line + 1,
                    last_line
                ));
            }
            Err(other) => return Err(other),
        }
    }
    let Some(mut data) = combined else {
        return parse_one(label, text, index);
    };
    data.skipped.count += unknown.count;
    for skipped in unknown.first {
        if data.skipped.first.len() < FIRST_SKIPPED {
            data.skipped.first.push(skipped);
        }
    }
    data.skipped.first.sort_by_key(|s| s.line);
    data.reading = format!("several command outputs: {}", descriptions.join("; "));
    Ok(data)
}

/// Adds a later part of the same file to what earlier parts gave.
fn absorb(all: &mut FileData, part: FileData) {
    let mut position: HashMap<String, usize> = all
        .counters
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.clone(), i))
        .collect();
    for counter in part.counters {
        match position.get(&counter.name) {
            Some(&at) => {
                if let Some(existing) = all.counters.get_mut(at) {
                    existing.value = counter.value;
                }
            }
            None => {
                position.insert(counter.name.clone(), all.counters.len());
                all.counters.push(counter);
            }
        }
    }
    all.sysctl.extend(part.sysctl);
    if let Some(conf) = part.conf {
        match all.conf.as_mut() {
            Some(existing) => {
                existing.assignments.extend(conf.assignments);
                existing.exclusions.extend(conf.exclusions);
                existing.skipped.extend(conf.skipped);
            }
            None => all.conf = Some(conf),
        }
    }
    all.sockstat.extend(part.sockstat);
    if !part.softnet.is_empty() {
        all.softnet = part.softnet;
    }
    if part.conntrack.is_some() {
        all.conntrack = part.conntrack;
    }
    if part.sockets.is_some() {
        all.sockets = part.sockets;
    }
    if part.snapshot.is_some() {
        all.snapshot = part.snapshot;
    }
    all.taken_at = all.taken_at.or(part.taken_at);
    all.skipped.count += part.skipped.count;
    for skipped in part.skipped.first {
        if all.skipped.first.len() < FIRST_SKIPPED {
            all.skipped.first.push(skipped);
        }
    }
    all.notes.extend(part.notes);
}

/// Parses one text of one format (detected). `label` names it in the report.
fn parse_one(label: &str, text: &str, index: &PhraseIndex) -> Result<FileData, IngestError> {
    let Some((format, why)) = detect_with(text, index) else {
        let first = text
            .lines()
            .map(clean::strip_decoration)
            .find(|l| !l.is_empty())
            .map(|l| {
                format!(
                    " (first line: `{}`)",
                    l.chars().take(60).collect::<String>()
                )
            })
            .unwrap_or_else(|| " (the file is empty)".to_string());
        return Err(IngestError::NoFormat {
            file: label.to_string(),
            hint: first,
        });
    };
    let mut data = FileData {
        label: label.to_string(),
        format,
        reading: format!("{}, detected from {why}", format.describe()),
        taken_at: None,
        counters: Vec::new(),
        sysctl: Vec::new(),
        sockets: None,
        sockstat: Vec::new(),
        softnet: Vec::new(),
        conntrack: None,
        snapshot: None,
        conf: None,
        skipped: SkipLog::default(),
        notes: Vec::new(),
    };
    let parsed = match format {
        Format::NetstatS => {
            if index.is_empty() {
                data.notes.push(
                    "the knowledge base lists no netstat -s phrases yet: only raw `Name: value` \
                     lines under section headers could be read"
                        .to_string(),
                );
            }
            netstat_s::parse(text, index)
        }
        Format::Nstat => tables::parse_name_value(text, index),
        Format::ProcSnmp | Format::ProcSnmp6 => {
            // The live collector's parsers, on the paste without its fences and prompts.
            let bare = bare_lines(text);
            let result = if format == Format::ProcSnmp {
                crate::collect::procfs::snmp::parse_snmp_pairs(&bare, label)
            } else {
                crate::collect::procfs::snmp6::parse_snmp6(&bare, label)
            };
            let mut parsed = Parsed::default();
            match result {
                Ok(counters) => {
                    parsed.counters = counters.counters;
                    for skipped in counters.skipped {
                        parsed
                            .skipped
                            .push(skipped.line, &skipped.reason, &skipped.text);
                    }
                }
                Err(e) => parsed.notes.push(e.to_string()),
            }
            parsed
        }
        Format::NstatJson => {
            tables::parse_nstat_json(text, index).map_err(|reason| IngestError::BadSnapshot {
                file: label.to_string(),
                reason: format!("nstat JSON: {reason}"),
            })?
        }
        Format::SysctlOutput | Format::SysctlConfig => {
            let (kind, why) = sysctl_text::decide(sysctl_text::evidence(text));
            data.format = match kind {
                sysctl_text::SysctlKind::Output => Format::SysctlOutput,
                sysctl_text::SysctlKind::Config => Format::SysctlConfig,
            };
            data.reading = why.to_string();
            match kind {
                sysctl_text::SysctlKind::Output => {
                    let (lines, parsed) = sysctl_text::parse(text, kind);
                    data.sysctl = lines;
                    parsed
                }
                sysctl_text::SysctlKind::Config => {
                    // The configuration loader's own parser, on the paste without fences.
                    let conf =
                        crate::collect::sysconf::parse_sysctl_conf_full(&bare_lines(text), label);
                    let skipped = conf.skipped.clone();
                    data.sysctl = conf
                        .assignments
                        .iter()
                        .cloned()
                        .map(|a| sysctl_text::SysctlLine {
                            key: a.key,
                            value: a.value,
                            line: a.line,
                            ignore_failure: a.ignore_failure,
                            live: false,
                        })
                        .collect();
                    data.conf = Some(conf);
                    let mut parsed = Parsed::default();
                    for s in skipped {
                        parsed.skipped.push(s.line, &s.reason, &s.text);
                    }
                    parsed
                }
            }
        }
        Format::ProcSockstat | Format::ProcSoftnet | Format::ProcConntrackStat => {
            let bare = bare_lines(text);
            let mut parsed = Parsed::default();
            let mut skipped = Vec::new();
            let failed = match format {
                Format::ProcSockstat => {
                    crate::collect::procfs::sockstat::parse_sockstat(&bare, label).map(|p| {
                        data.sockstat = p.lines;
                        skipped = p.skipped;
                    })
                }
                Format::ProcSoftnet => {
                    crate::collect::procfs::parse_softnet(&bare, label).map(|p| {
                        parsed.counters = crate::collect::procfs::softnet_counters(&p.cpus);
                        data.softnet = p.cpus;
                        skipped = p.skipped;
                    })
                }
                _ => crate::collect::procfs::conntrack::parse_nf_conntrack_stat(&bare, label).map(
                    |p| {
                        let conntrack = crate::snapshot::Conntrack {
                            per_cpu: p.per_cpu,
                            ..crate::snapshot::Conntrack::default()
                        };
                        parsed.counters =
                            crate::collect::procfs::conntrack::conntrack_counters(&conntrack);
                        data.conntrack = Some(conntrack);
                        skipped = p.skipped;
                    },
                ),
            };
            if let Err(e) = failed {
                parsed.notes.push(e.to_string());
            }
            for s in skipped {
                parsed.skipped.push(s.line, &s.reason, &s.text);
            }
            parsed
        }
        Format::Ss => {
            let (view, parsed) = ss::parse(text);
            data.sockets = Some(view);
            parsed
        }
        Format::SnapshotJson => {
            let snapshot = parse_snapshot(label, text)?;
            data.taken_at = snapshot.collected_at_unix_s;
            data.counters = snapshot.counters.clone();
            data.snapshot = Some(Box::new(snapshot));
            Parsed::default()
        }
    };
    if format != Format::SnapshotJson {
        data.counters = parsed.counters;
    }
    data.skipped = parsed.skipped;
    data.notes.extend(parsed.notes);
    if parsed.ipv6 && data.format == Format::NetstatS {
        data.reading.push_str("; IPv6 output (netstat -s -6)");
    }
    Ok(data)
}

/// The paste with fences, prompts and quote markers blanked out (line numbers kept), for the
/// /proc parsers that expect the kernel's own text.
fn bare_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for raw in text.lines() {
        if let clean::LineKind::Text(line) = clean::classify(raw) {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// A netdoctor snapshot document.
fn parse_snapshot(label: &str, text: &str) -> Result<Snapshot, IngestError> {
    let snapshot: Snapshot = serde_json::from_str(text).map_err(|e| IngestError::BadSnapshot {
        file: label.to_string(),
        reason: format!("line {}, column {}: {e}", e.line(), e.column()),
    })?;
    if snapshot.schema != SNAPSHOT_SCHEMA {
        return Err(IngestError::BadSnapshot {
            file: label.to_string(),
            reason: format!(
                "schema `{}` is not {SNAPSHOT_SCHEMA}, the one this version reads",
                snapshot.schema
            ),
        });
    }
    Ok(snapshot)
}

/// Reads a spec's text and time.
fn read_spec(spec: &FromSpec) -> Result<(String, String, Option<f64>, Vec<String>), IngestError> {
    let mut notes = Vec::new();
    let (label, bytes) = if spec.is_stdin() {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|source| IngestError::Io {
                file: "stdin".to_string(),
                source,
            })?;
        ("stdin".to_string(), bytes)
    } else {
        let bytes = std::fs::read(&spec.path).map_err(|source| IngestError::Io {
            file: spec.path.clone(),
            source,
        })?;
        (spec.path.clone(), bytes)
    };
    let mut time = spec.taken_at_unix_s;
    if time.is_none() && spec.use_mtime {
        if spec.is_stdin() {
            notes.push("--use-mtime: standard input has no modification time".to_string());
        } else {
            time = std::fs::metadata(&spec.path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64());
            if time.is_none() {
                notes.push("--use-mtime: the file's modification time is unknown".to_string());
            }
        }
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            notes.push("not valid UTF-8: undecodable bytes replaced".to_string());
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    Ok((label, text, time, notes))
}

/// Reads and parses every spec.
fn read_all(specs: &[FromSpec], index: &PhraseIndex) -> Result<Vec<FileData>, IngestError> {
    if specs.is_empty() {
        return Err(IngestError::NoFiles);
    }
    if specs.iter().filter(|s| s.is_stdin()).count() > 1 {
        return Err(IngestError::StdinTwice);
    }
    let mut files = Vec::with_capacity(specs.len());
    for spec in specs {
        let (label, text, time, notes) = read_spec(spec)?;
        for mut data in parse_file(&label, &text, time, index)? {
            data.notes.extend(notes.iter().cloned());
            files.push(data);
        }
    }
    Ok(files)
}

/// Parses texts already in memory: (label, text, time). The building block of [`load`], for
/// tests and benchmarks.
pub fn load_texts_with(
    texts: &[(&str, &str, Option<f64>)],
    index: &PhraseIndex,
) -> Result<(Snapshot, IngestReport), IngestError> {
    if texts.is_empty() {
        return Err(IngestError::NoFiles);
    }
    let mut files = Vec::with_capacity(texts.len());
    for (label, text, time) in texts {
        files.extend(parse_file(label, text, *time, index)?);
    }
    Ok(combine_one(files))
}

/// Loads every `--from` file into one snapshot (counters from one, sysctls from another ...).
/// When files carry different times, they are applied oldest first, so the latest values
/// win; use [`load_series`] for rates.
pub fn load(specs: &[FromSpec]) -> Result<(Snapshot, IngestReport), IngestError> {
    load_with(specs, PhraseIndex::from_kb())
}

/// [`load`] with an explicit phrase index.
pub fn load_with(
    specs: &[FromSpec],
    index: &PhraseIndex,
) -> Result<(Snapshot, IngestReport), IngestError> {
    Ok(combine_one(read_all(specs, index)?))
}

/// [`load`], and the pasted configuration files (sysctl.conf, sysctl.d) as the sysctl
/// configuration loader sees them, in the order they are applied: what `netdoctor sysctl`
/// judges on its own when the pastes hold no live values. Its loader is
/// [`LoaderKind::Files`](crate::collect::sysconf::LoaderKind::Files).
pub fn load_with_config(
    specs: &[FromSpec],
) -> Result<(Snapshot, IngestReport, crate::collect::sysconf::ConfigSet), IngestError> {
    use crate::collect::sysconf::{ConfFile, ConfigSet, FileState, LoaderChoice, LoaderKind};
    let mut files = read_all(specs, PhraseIndex::from_kb())?;
    sort_oldest_first(&mut files);
    let config = ConfigSet {
        loader: LoaderChoice {
            kind: LoaderKind::Files,
            reason: "configuration taken from the files given with --from, in that order, and \
                     judged on its own: this host's live values and sockets are not used (the \
                     host's kernel tells which keys exist)"
                .to_string(),
        },
        files: files
            .iter()
            .filter_map(|f| {
                f.conf.as_ref().map(|parsed| ConfFile {
                    path: f.label.clone(),
                    target: None,
                    state: FileState::Applied,
                    parsed: parsed.clone(),
                    empty: parsed.assignments.is_empty() && parsed.exclusions.is_empty(),
                })
            })
            .collect(),
    };
    let (snapshot, report) = combine_one(files);
    Ok((snapshot, report, config))
}

/// Oldest first; undated files keep command-line order, before dated ones.
fn sort_oldest_first(files: &mut [FileData]) {
    files.sort_by(|a, b| {
        a.taken_at
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&b.taken_at.unwrap_or(f64::NEG_INFINITY))
    });
}

fn combine_one(mut files: Vec<FileData>) -> (Snapshot, IngestReport) {
    sort_oldest_first(&mut files);
    let mut report = IngestReport::default();
    let times: Vec<f64> = dedup_times(files.iter().filter_map(|f| f.taken_at));
    if times.len() > 1 {
        report.notes.push(format!(
            "the files carry {} different times: combined into one snapshot, later values \
             replacing earlier ones; use two snapshots (load_series, `check` with dated \
             pastes) for rates",
            times.len()
        ));
    }
    report.files = files.iter().map(file_report).collect();
    // The counters move into the snapshot (no copy): the report above has their count.
    let owned: Vec<Vec<Counter>> = files
        .iter_mut()
        .map(|f| std::mem::take(&mut f.counters))
        .collect();
    let inputs = files
        .iter()
        .zip(owned)
        .map(|(f, counters)| (f, Cow::Owned(counters)))
        .collect();
    let snapshot = merge(inputs, &mut report.notes);
    if snapshot.collected_at_unix_s.is_none() && !snapshot.counters.is_empty() {
        report.notes.push(
            "no time given: counters are lifetime totals since boot (or since a reset), not \
             rates; give two dated pastes (FILE@2024-05-01T10:00:00) for rates"
                .to_string(),
        );
    }
    (snapshot, report)
}

/// Loads dated pastes as a time-ordered series of snapshots (oldest first), for rates.
/// Files with the same time form one snapshot; undated files without counters (sysctl
/// configuration, ss output) are added to every snapshot. With no time at all, the series has
/// one snapshot, as [`load`] gives.
pub fn load_series(specs: &[FromSpec]) -> Result<(Vec<Snapshot>, IngestReport), IngestError> {
    load_series_with(specs, PhraseIndex::from_kb())
}

/// [`load_series`] with an explicit phrase index.
pub fn load_series_with(
    specs: &[FromSpec],
    index: &PhraseIndex,
) -> Result<(Vec<Snapshot>, IngestReport), IngestError> {
    series_of(read_all(specs, index)?)
}

/// [`load_series`] over texts in memory: (label, text, time).
pub fn load_series_texts_with(
    texts: &[(&str, &str, Option<f64>)],
    index: &PhraseIndex,
) -> Result<(Vec<Snapshot>, IngestReport), IngestError> {
    let mut files = Vec::with_capacity(texts.len());
    for (label, text, time) in texts {
        files.extend(parse_file(label, text, *time, index)?);
    }
    if files.is_empty() {
        return Err(IngestError::NoFiles);
    }
    series_of(files)
}

fn series_of(files: Vec<FileData>) -> Result<(Vec<Snapshot>, IngestReport), IngestError> {
    let times = dedup_times(files.iter().filter_map(|f| f.taken_at));
    if times.is_empty() {
        let (snapshot, report) = combine_one(files);
        return Ok((vec![snapshot], report));
    }
    if let Some(undated) = files
        .iter()
        .find(|f| f.taken_at.is_none() && !f.counters.is_empty())
    {
        return Err(IngestError::UndatedCounters {
            file: undated.label.clone(),
        });
    }
    let mut report = IngestReport::default();
    let context: Vec<&FileData> = files.iter().filter(|f| f.taken_at.is_none()).collect();
    let mut snapshots = Vec::with_capacity(times.len());
    for time in &times {
        let mut group: Vec<&FileData> = context.clone();
        group.extend(files.iter().filter(|f| f.taken_at == Some(*time)));
        let inputs = group
            .iter()
            .map(|f| (*f, Cow::Borrowed(f.counters.as_slice())))
            .collect();
        let mut snapshot = merge(inputs, &mut report.notes);
        if times.len() > 1 {
            snapshot.set_source(SourceStatus::available("second_sample", "dated pastes"));
        }
        snapshots.push(snapshot);
    }
    if times.len() == 1 {
        report.notes.push(
            "one moment only: counters are lifetime totals, not rates; a second dated paste \
             of the same host gives rates"
                .to_string(),
        );
    } else {
        let span = times.last().copied().unwrap_or(0.0) - times.first().copied().unwrap_or(0.0);
        report.notes.push(format!(
            "{} dated samples from {} to {} ({span:.0} s): rates are measured between them",
            times.len(),
            spec::format_time(times.first().copied().unwrap_or(0.0)),
            spec::format_time(times.last().copied().unwrap_or(0.0)),
        ));
    }
    report.files = files.iter().map(file_report).collect();
    Ok((snapshots, report))
}

/// Distinct times, ascending.
fn dedup_times(times: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut times: Vec<f64> = times.collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    times
}

fn file_report(file: &FileData) -> FileReport {
    let sysctl_keys_read = file.sysctl.len()
        + file
            .snapshot
            .as_ref()
            .and_then(|s| s.sysctl.as_ref())
            .map_or(0, |v| v.keys.len());
    let sockets_read = file
        .sockets
        .as_ref()
        .or(file.snapshot.as_ref().and_then(|s| s.sockets.as_ref()))
        .map_or(0, |v| v.states.iter().map(|(_, n)| *n as usize).sum());
    FileReport {
        file: file.label.clone(),
        format: file.format,
        reading: file.reading.clone(),
        taken_at_unix_s: file.taken_at,
        counters_read: file.counters.len(),
        sysctl_keys_read,
        sockets_read,
        skipped_lines: file.skipped.count,
        first_skipped: file.skipped.first.clone(),
        notes: file.notes.clone(),
    }
}

/// Which /proc source a counter section comes from.
fn source_of_section(section: &str) -> &'static str {
    match section {
        "TcpExt" | "IpExt" | "MPTcpExt" => "netstat",
        s if s.ends_with('6') => "snmp6",
        "Softnet" => "softnet_stat",
        "Conntrack" => "nf_conntrack",
        _ => "snmp",
    }
}

/// Combines files (in application order) into one snapshot.
fn merge(inputs: Vec<(&FileData, Cow<'_, [Counter]>)>, notes: &mut Vec<String>) -> Snapshot {
    let labels: Vec<String> = inputs.iter().map(|(f, _)| f.label.clone()).collect();
    let mut snapshot = Snapshot::new(Origin::Files { files: labels });
    // Counter name → (index in snapshot.counters, file it came from); built only once a
    // second file brings counters (the common single-paste case moves them without a map).
    let mut position: HashMap<String, (usize, &str)> = HashMap::new();
    let mut first_from: Option<&str> = None;
    let mut replaced: Vec<(String, String, String)> = Vec::new();
    let mut sysctl = SysctlView {
        loader: Some("pasted files, in command-line order".to_string()),
        loader_reason: Some(
            "pasted with --from: live values from sysctl output, configured values from the \
             pasted sysctl.conf / sysctl.d files applied in command-line order (a later file \
             overrides an earlier one)"
                .to_string(),
        ),
        ..SysctlView::default()
    };
    let mut sysctl_keys: HashMap<String, usize> = HashMap::new();
    let mut family_paths: HashMap<&'static str, Vec<String>> = HashMap::new();
    let mut has_live = false;
    let mut pasted_conf: Vec<crate::collect::sysconf::ConfFile> = Vec::new();
    for (file, counters) in inputs {
        if let Some(embedded) = &file.snapshot {
            adopt_snapshot(&mut snapshot, embedded);
            if let Some(view) = &embedded.sysctl {
                for key in &view.keys {
                    sysctl_keys.insert(key.key.clone(), sysctl.keys.len());
                    has_live |= key.live.is_some();
                    sysctl.keys.push(key.clone());
                }
                sysctl.files.extend(view.files.iter().cloned());
            }
        }
        let mut families: Vec<&'static str> = Vec::new();
        for counter in counters.iter() {
            let family = source_of_section(&counter.section);
            if !families.contains(&family) {
                families.push(family);
            }
        }
        for family in families {
            family_paths
                .entry(family)
                .or_default()
                .push(file.label.clone());
        }
        if !counters.is_empty() {
            match first_from {
                None => {
                    snapshot.counters = counters.into_owned();
                    first_from = Some(&file.label);
                }
                Some(first) => {
                    if position.is_empty() {
                        for (at, c) in snapshot.counters.iter().enumerate() {
                            position.insert(c.name.clone(), (at, first));
                        }
                    }
                    for counter in counters.into_owned() {
                        match position.get_mut(&counter.name) {
                            Some((at, from)) => {
                                if let Some(existing) = snapshot.counters.get_mut(*at) {
                                    existing.value = counter.value;
                                }
                                if *from != file.label && replaced.len() < 1000 {
                                    replaced.push((
                                        counter.name.clone(),
                                        from.to_string(),
                                        file.label.clone(),
                                    ));
                                }
                                *from = &file.label;
                            }
                            None => {
                                position.insert(
                                    counter.name.clone(),
                                    (snapshot.counters.len(), &file.label),
                                );
                                snapshot.counters.push(counter);
                            }
                        }
                    }
                }
            }
        }
        if let Some(conf) = &file.conf {
            sysctl.files.push(crate::snapshot::SysctlFile {
                path: file.label.clone(),
                state: "applied (pasted)".to_string(),
                skipped: conf.skipped.clone(),
                ..crate::snapshot::SysctlFile::default()
            });
            pasted_conf.push(crate::collect::sysconf::ConfFile {
                path: file.label.clone(),
                target: None,
                state: crate::collect::sysconf::FileState::Applied,
                parsed: conf.clone(),
                empty: conf.assignments.is_empty() && conf.exclusions.is_empty(),
            });
        }
        // Live values here; configured ones are resolved once every live key is known (a
        // glob line matches the keys a pasted `sysctl -a` shows).
        for line in file.sysctl.iter().filter(|l| l.live) {
            has_live = true;
            let at = *sysctl_keys.entry(line.key.clone()).or_insert_with(|| {
                sysctl.keys.push(SysctlKey {
                    key: line.key.clone(),
                    ..SysctlKey::default()
                });
                sysctl.keys.len() - 1
            });
            if let Some(key) = sysctl.keys.get_mut(at) {
                key.live = Some(line.value.clone());
                key.live_missing = None;
            }
        }
        if let Some(view) = &file.sockets {
            snapshot.sockets = Some(view.clone());
            snapshot.set_source(SourceStatus::available("sockets", &file.label));
        }
        if !file.sockstat.is_empty() {
            let v6 = file.sockstat.iter().all(|l| l.protocol.ends_with('6'));
            snapshot
                .sockstat
                .retain(|l| !file.sockstat.iter().any(|n| n.protocol == l.protocol));
            snapshot.sockstat.extend(file.sockstat.iter().cloned());
            let name = if v6 { "sockstat6" } else { "sockstat" };
            snapshot.set_source(SourceStatus::available(name, &file.label));
        }
        if !file.softnet.is_empty() {
            snapshot.softnet = file.softnet.clone();
            snapshot.set_source(SourceStatus::available("softnet_stat", &file.label));
        }
        if let Some(conntrack) = &file.conntrack {
            let table = snapshot.conntrack.get_or_insert_with(Default::default);
            table.per_cpu = conntrack.per_cpu.clone();
            snapshot.set_source(SourceStatus::available("nf_conntrack", &file.label));
        }
        if let Some(time) = file.taken_at {
            snapshot.collected_at_unix_s = Some(
                snapshot
                    .collected_at_unix_s
                    .map_or(time, |t: f64| t.max(time)),
            );
        }
        let mut status = SourceStatus::available(&format!("paste:{}", file.label), &file.label);
        status.skipped = file.skipped.first.clone();
        snapshot.set_source(status);
    }
    if !replaced.is_empty() {
        let shown: Vec<String> = replaced
            .iter()
            .take(5)
            .map(|(name, from, to)| format!("{name} ({from} → {to})"))
            .collect();
        notes.push(format!(
            "{} counters were given by more than one file; the later file's value is used: {}{}",
            replaced.len(),
            shown.join(", "),
            if replaced.len() > 5 { ", ..." } else { "" }
        ));
    }
    // Pasted times are wall-clock: the same clock serves as the monotonic one between pastes.
    snapshot.monotonic_s = snapshot.collected_at_unix_s;
    if !pasted_conf.is_empty() {
        resolve_pasted_configuration(&mut sysctl, &mut sysctl_keys, pasted_conf);
    }
    // A whole `sysctl -a` names the kernel it came from.
    if snapshot.host.kernel.is_none()
        && let Some(release) = sysctl.live("kernel.osrelease")
    {
        snapshot.host.kernel = Some(release.to_string());
    }
    if !sysctl.keys.is_empty() {
        snapshot.sysctl = Some(sysctl);
    }
    for family in ["snmp", "netstat", "snmp6"] {
        match family_paths.get(family) {
            Some(paths) => snapshot.set_source(SourceStatus::available(family, &paths.join(", "))),
            None if snapshot.source(family).is_none() => snapshot.set_source(
                SourceStatus::missing(family, "--from files", "not in the pasted files"),
            ),
            None => {}
        }
    }
    let missing = |snapshot: &mut Snapshot, name: &str, reason: &str| {
        if snapshot.source(name).is_none() {
            snapshot.set_source(SourceStatus::missing(name, "--from files", reason));
        }
    };
    for name in ["sockstat", "sockstat6", "softnet_stat", "nf_conntrack"] {
        missing(&mut snapshot, name, "not in the pasted files");
    }
    if has_live {
        snapshot.set_source(SourceStatus::available("sysctl", "pasted sysctl output"));
    } else {
        missing(
            &mut snapshot,
            "sysctl",
            "no live values pasted (no `sysctl -a` output)",
        );
    }
    if snapshot
        .sysctl
        .as_ref()
        .is_some_and(|v| !v.files.is_empty())
    {
        snapshot.set_source(SourceStatus::available(
            "sysctl_files",
            "pasted configuration",
        ));
    } else {
        missing(
            &mut snapshot,
            "sysctl_files",
            "no configuration file pasted",
        );
    }
    if snapshot.sockets.is_none() {
        missing(
            &mut snapshot,
            "sockets",
            "no socket table in the pasted files (no `ss -ltn` / `ss -tan` output)",
        );
    }
    if snapshot.host.uptime_s.is_none() {
        missing(
            &mut snapshot,
            "host",
            "pasted text: uptime, kernel and CPU count unknown, so totals cannot be judged per second since boot",
        );
    }
    missing(
        &mut snapshot,
        "second_sample",
        "one sample: counters are lifetime totals, not rates",
    );
    snapshot
}

/// Puts the pasted configuration files' winners into the view, with the loader's rules (the
/// last assignment wins, explicit keys before globs, `-key` keeps a key out of globs): a glob
/// line is expanded over the live keys pasted with it, and listed as unmatched otherwise.
fn resolve_pasted_configuration(
    view: &mut SysctlView,
    positions: &mut HashMap<String, usize>,
    files: Vec<crate::collect::sysconf::ConfFile>,
) {
    use crate::collect::sysconf::{self, ConfAssignment, ConfigSet, LoaderChoice, LoaderKind};
    let config = ConfigSet {
        loader: LoaderChoice {
            kind: LoaderKind::Files,
            reason: String::new(),
        },
        files,
    };
    let live_paths: Vec<(String, Vec<String>)> = view
        .keys
        .iter()
        .filter(|k| k.live.is_some())
        .map(|k| {
            let path = sysconf::dotted_to_path(&k.key);
            (k.key.clone(), path.split('/').map(str::to_string).collect())
        })
        .collect();
    let mut expand = |pattern: &str| -> Vec<String> {
        let Some(path) = sysconf::normalize_key(pattern) else {
            return Vec::new();
        };
        let parts: Vec<&str> = path.split('/').collect();
        live_paths
            .iter()
            .filter(|(_, components)| {
                components.len() == parts.len()
                    && parts
                        .iter()
                        .zip(components)
                        .all(|(p, c)| sysconf::glob_match(p, c))
            })
            .map(|(key, _)| key.clone())
            .collect()
    };
    let (resolved, unmatched) = sysconf::resolve_winners(&config, &mut expand);
    let assignment = |a: &ConfAssignment| SysctlAssignment {
        value: a.value.clone(),
        file: a.file.clone(),
        line: a.line,
        ignore_failure: a.ignore_failure,
    };
    for item in resolved {
        let at = *positions.entry(item.key.clone()).or_insert_with(|| {
            view.keys.push(SysctlKey {
                key: item.key.clone(),
                ..SysctlKey::default()
            });
            view.keys.len() - 1
        });
        let Some(key) = view.keys.get_mut(at) else {
            continue;
        };
        // A configured value an embedded snapshot brought is overridden by the pasted files.
        if let Some(previous) = key.configured.take() {
            key.overrides.push(previous);
        }
        key.overrides.extend(item.overrides.iter().map(assignment));
        key.configured = Some(assignment(&item.winner));
        key.glob = item.glob;
    }
    view.unmatched_globs
        .extend(unmatched.iter().map(|a| SysctlAssignment {
            value: format!("{} = {}", a.key, a.value),
            ..assignment(a)
        }));
}

/// Takes what an embedded netdoctor snapshot holds that pastes do not.
fn adopt_snapshot(target: &mut Snapshot, embedded: &Snapshot) {
    if target.host == crate::snapshot::HostFacts::default() {
        target.host = embedded.host.clone();
    }
    if target.sockstat.is_empty() {
        target.sockstat = embedded.sockstat.clone();
    }
    if target.softnet.is_empty() {
        target.softnet = embedded.softnet.clone();
    }
    if target.conntrack.is_none() {
        target.conntrack = embedded.conntrack.clone();
    }
    if embedded.sockets.is_some() {
        target.sockets = embedded.sockets.clone();
    }
    for source in &embedded.sources {
        target.set_source(source.clone());
    }
}
