//! The counter reader: opens every counter file once and re-reads it from offset 0 on each
//! sample, into one reused buffer, parsing into a reused [`Snapshot`].
//!
//! A file that is absent or unreadable becomes a `missing` source with the reason; a sample
//! fails only when not one counter file could be read.

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::conntrack::{
    parse_conntrack_value, parse_nf_conntrack_stat_into, visit_conntrack_counters,
};
use super::snmp::{PairsLayout, refresh_pairs_values, visit_snmp_pairs};
use super::snmp6::{refresh_snmp6_values, visit_snmp6};
use super::sockstat::parse_sockstat_into;
use super::softnet::{parse_softnet_into, visit_softnet_counters};
use super::{CounterSink, ParseError};
use crate::collect::host::{parse_uptime, read_host_facts};
use crate::collect::read::open_target_file;
use crate::collect::sys;
use crate::collect::target::{NETNS_ENTRY_SOURCE, ProcPaths};
use crate::snapshot::{
    Availability, Conntrack, HostFacts, SNAPSHOT_SCHEMA, Skipped, Snapshot, SourceStatus,
};

/// The counter files, in the order they are read and their counters are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Snmp,
    Netstat,
    Snmp6,
    Sockstat,
    Sockstat6,
    Softnet,
    ConntrackStat,
    ConntrackCount,
    ConntrackMax,
}

impl Kind {
    const ALL: [Kind; 9] = [
        Kind::Snmp,
        Kind::Netstat,
        Kind::Snmp6,
        Kind::Sockstat,
        Kind::Sockstat6,
        Kind::Softnet,
        Kind::ConntrackStat,
        Kind::ConntrackCount,
        Kind::ConntrackMax,
    ];

    /// The source id recorded in the snapshot: the file's own name ("snmp", "nf_conntrack").
    fn source_name(self) -> &'static str {
        let path = self.relative_path();
        path.rsplit('/').next().unwrap_or(path)
    }

    /// The path below the net directory or the sys directory.
    fn relative_path(self) -> &'static str {
        match self {
            Kind::Snmp => "snmp",
            Kind::Netstat => "netstat",
            Kind::Snmp6 => "snmp6",
            Kind::Sockstat => "sockstat",
            Kind::Sockstat6 => "sockstat6",
            Kind::Softnet => "softnet_stat",
            Kind::ConntrackStat => "stat/nf_conntrack",
            Kind::ConntrackCount => "net/netfilter/nf_conntrack_count",
            Kind::ConntrackMax => "net/netfilter/nf_conntrack_max",
        }
    }

    /// True for the two /proc/sys values (nf_conntrack_count, nf_conntrack_max). They are not
    /// read through `sysctl::read_live`, the reader of every other /proc/sys value, on purpose:
    /// that opens, checks and closes the file on every call, while the sampling loop keeps
    /// these open and re-reads them with one pread each sample (the open costs more than the
    /// read). What can be shared is: the open goes through the same `read` module's
    /// checks, and the value through `parse_conntrack_value`.
    fn under_sys(self) -> bool {
        matches!(self, Kind::ConntrackCount | Kind::ConntrackMax)
    }

    /// The kernel prints these one CPU per seq_file record and caps a read at a page, so a
    /// short read is not the end: read until a read returns 0. The others are produced in
    /// one piece (single_open, sysctl), so a short read is the end, and stopping there saves
    /// the kernel regenerating the text for a read at EOF.
    fn read_until_zero(self) -> bool {
        matches!(self, Kind::Softnet | Kind::ConntrackStat)
    }

    /// The index of this file's [`FastPath`] slot (the counter files with many fields).
    fn fast_slot(self) -> Option<usize> {
        match self {
            Kind::Snmp => Some(0),
            Kind::Netstat => Some(1),
            Kind::Snmp6 => Some(2),
            _ => None,
        }
    }

    /// A hint added to "absent".
    fn absent_hint(self) -> &'static str {
        match self {
            Kind::Snmp6 | Kind::Sockstat6 => " (IPv6 disabled?)",
            Kind::ConntrackStat | Kind::ConntrackCount | Kind::ConntrackMax => {
                " (connection tracking not loaded in this namespace)"
            }
            _ => "",
        }
    }
}

/// One counter file: its path and the open file, or why it could not be opened.
#[derive(Debug)]
struct SourceFile {
    kind: Kind,
    path: String,
    file: Result<File, String>,
}

/// Why a sample failed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// Not one counter file could be read.
    #[error("no kernel counter could be read from {origin}: {reasons}")]
    NothingReadable { origin: String, reasons: String },
}

/// Where the counters of one file sat in the snapshot last time, and the file's shape, so
/// that the next sample of the same shape only reads values.
#[derive(Debug, Default)]
struct FastPath {
    /// Index of the file's first counter in `Snapshot::counters`.
    start: usize,
    /// How many counters the file gave.
    total: usize,
    /// For snmp and netstat: the header lines; None until a clean full parse.
    layout: Option<PairsLayout>,
    /// True when `start`/`total` describe the last sample.
    valid: bool,
}

/// Keeps the counter files of one target open and samples them.
#[derive(Debug)]
pub struct Collector {
    paths: ProcPaths,
    host: HostFacts,
    files: Vec<SourceFile>,
    uptime: Option<File>,
    buf: Vec<u8>,
    /// Per counter file (snmp, netstat, snmp6), for [`Collector::sample_ref`].
    fast: [FastPath; 3],
    /// The snapshot [`Collector::sample_ref`] reuses.
    own: Snapshot,
    /// How many counters the last sample gave.
    last_count: usize,
}

/// Initial buffer size: enough for the largest file (netstat, ≈8 KiB on 6.x) at once.
const INITIAL_BUFFER: usize = 64 * 1024;

impl Collector {
    /// Opens every counter file of the target (missing ones are remembered with the reason)
    /// and reads the host facts that do not change.
    pub fn open(paths: ProcPaths) -> Self {
        let files = Kind::ALL
            .iter()
            .map(|&kind| open_source(&paths, kind))
            .collect();
        let uptime = open_target_file(&paths.proc_dir.join("uptime"), paths.live).ok();
        let host = read_host_facts(&paths);
        Collector {
            paths,
            host,
            files,
            uptime,
            buf: vec![0; INITIAL_BUFFER],
            fast: Default::default(),
            own: Snapshot::default(),
            last_count: 0,
        }
    }

    /// The directories this collector reads.
    pub fn paths(&self) -> &ProcPaths {
        &self.paths
    }

    /// The files a sample reads that could be opened, with whether each is read until a
    /// read returns 0 (see `Kind::read_until_zero`); the uptime file last. For benchmarks that
    /// compare a sample with a raw read of the same files.
    pub fn open_files(&self) -> Vec<(PathBuf, bool)> {
        let mut out: Vec<(PathBuf, bool)> = self
            .files
            .iter()
            .filter(|f| f.file.is_ok())
            .map(|f| (PathBuf::from(&f.path), f.kind.read_until_zero()))
            .collect();
        if self.uptime.is_some() {
            out.push((self.paths.proc_dir.join("uptime"), false));
        }
        out
    }

    /// Takes one sample into a new snapshot.
    pub fn sample(&mut self) -> Result<Snapshot, CollectError> {
        let mut snapshot = Snapshot::default();
        // Room for as many counters as the last sample had (or a typical 6.x kernel's).
        let expected = self.own.counters.len().max(self.last_count).max(512);
        snapshot.counters.reserve_exact(expected);
        self.sample_impl(&mut snapshot, false)?;
        Ok(snapshot)
    }

    /// Takes one sample into `snapshot`, reusing its allocations (counter names that did not
    /// change are not rebuilt). Everything this collector owns in the snapshot is replaced;
    /// `sysctl` and `sockets` are left alone.
    pub fn sample_into(&mut self, snapshot: &mut Snapshot) -> Result<(), CollectError> {
        self.sample_impl(snapshot, false)
    }

    /// Takes one sample into a snapshot the collector keeps and returns it: the cheapest way
    /// to sample repeatedly. While the files keep their shape (the same sections and fields),
    /// only the values are read; any change falls back to a full parse.
    pub fn sample_ref(&mut self) -> Result<&Snapshot, CollectError> {
        let mut own = std::mem::take(&mut self.own);
        let result = self.sample_impl(&mut own, true);
        self.own = own;
        result.map(|()| &self.own)
    }

    fn sample_impl(&mut self, snapshot: &mut Snapshot, fast: bool) -> Result<(), CollectError> {
        if snapshot.schema != SNAPSHOT_SCHEMA {
            snapshot.schema = SNAPSHOT_SCHEMA.to_string();
        }
        if snapshot.origin != self.paths.origin {
            snapshot.origin = self.paths.origin.clone();
        }
        snapshot.collected_at_unix_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs_f64());
        let uptime = self.read_uptime();
        snapshot.monotonic_s = if self.paths.live {
            sys::monotonic_seconds()
        } else {
            uptime
        };
        if snapshot.host != self.host {
            snapshot.host.clone_from(&self.host);
        }
        snapshot.host.uptime_s = uptime;

        let mut buf = std::mem::take(&mut self.buf);
        let mut state = SampleState {
            sink_len: 0,
            sockstat_used: 0,
            softnet_read: false,
            conntrack: snapshot.conntrack.take().unwrap_or_default(),
            conntrack_seen: false,
        };
        state.conntrack.count = None;
        state.conntrack.max = None;
        for (index, source) in self.files.iter().enumerate() {
            let mut skipped: Vec<Skipped> = Vec::new();
            let mut slot = source.kind.fast_slot().and_then(|i| self.fast.get_mut(i));
            let result = read_source(source, &mut buf).and_then(|len| {
                let text = text_of(buf.get(..len).unwrap_or_default());
                parse_source(
                    source,
                    &text,
                    snapshot,
                    &mut state,
                    &mut skipped,
                    slot.as_deref_mut(),
                    fast,
                )
                .map_err(|e| format!("parse error at {e}"))
            });
            if result.is_err() {
                if let Some(slot) = slot {
                    slot.valid = false;
                }
                if source.kind == Kind::ConntrackStat {
                    state.conntrack.per_cpu.clear();
                }
            }
            set_status(
                &mut snapshot.sources,
                index,
                source.kind.source_name(),
                &source.path,
                result,
                skipped,
            );
        }
        self.buf = buf;
        let mut status_count = self.files.len();
        if let Some(note) = &self.paths.note {
            set_status(
                &mut snapshot.sources,
                status_count,
                &note.name,
                &note.path,
                match &note.status {
                    Availability::Available => Ok(()),
                    Availability::Missing { reason } => Err(reason.clone()),
                },
                Vec::new(),
            );
            status_count += 1;
        }
        drop_stale_statuses(&mut snapshot.sources, status_count);
        snapshot.sockstat.truncate(state.sockstat_used);
        if !state.softnet_read {
            snapshot.softnet.clear();
        }

        // Derived counters after the file counters: Softnet*, then Conntrack*.
        let mut sink = CounterSink::at(&mut snapshot.counters, state.sink_len);
        visit_softnet_counters(&snapshot.softnet, &mut |section, field, value| {
            sink.put(section, field, value)
        });
        if state.conntrack_seen {
            visit_conntrack_counters(&state.conntrack, &mut |section, field, value| {
                sink.put(section, field, value)
            });
            snapshot.conntrack = Some(state.conntrack);
        } else {
            snapshot.conntrack = None;
        }
        self.last_count = sink.finish();

        let counter_sources = self.files.len();
        let any_available = snapshot
            .sources
            .iter()
            .take(counter_sources)
            .any(SourceStatus::is_available);
        if !any_available {
            let reasons = snapshot
                .sources
                .iter()
                .take(counter_sources)
                .map(|s| format!("{}: {}", s.path, s.missing_reason().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(CollectError::NothingReadable {
                origin: self.paths.origin.describe(),
                reasons,
            });
        }
        Ok(())
    }

    fn read_uptime(&mut self) -> Option<f64> {
        let file = self.uptime.as_ref()?;
        let mut small = [0u8; 128];
        let n = file.read_at(&mut small, 0).ok()?;
        parse_uptime(&String::from_utf8_lossy(small.get(..n)?))
    }
}

/// What one sample has written so far.
struct SampleState {
    /// Counters written from files so far.
    sink_len: usize,
    /// sockstat lines written so far (sockstat and sockstat6 share the vector).
    sockstat_used: usize,
    softnet_read: bool,
    conntrack: Conntrack,
    conntrack_seen: bool,
}

/// Parses one source's text into the snapshot: through the values-only fast path when its
/// slot allows, else in full (and then records the file's shape in the slot).
fn parse_source(
    source: &SourceFile,
    text: &str,
    snapshot: &mut Snapshot,
    state: &mut SampleState,
    skipped: &mut Vec<Skipped>,
    slot: Option<&mut FastPath>,
    fast: bool,
) -> Result<(), ParseError> {
    let Some(slot) = slot else {
        return parse_into(source.kind, text, &source.path, snapshot, state, skipped);
    };
    if try_fast(source.kind, text, slot, snapshot, state.sink_len, fast) {
        state.sink_len += slot.total;
        return Ok(());
    }
    let start = state.sink_len;
    let result = parse_into(source.kind, text, &source.path, snapshot, state, skipped);
    slot.valid = result.is_ok() && skipped.is_empty();
    slot.start = start;
    slot.total = state.sink_len - start;
    slot.layout = (fast && slot.valid && source.kind != Kind::Snmp6).then(|| PairsLayout::of(text));
    result
}

/// The fast path for snmp/netstat (same header lines as last time, in `fast` mode only: the
/// positions are those of the collector's own snapshot) and snmp6 (names compared, so any
/// snapshot). True when the values were written.
fn try_fast(
    kind: Kind,
    text: &str,
    slot: &FastPath,
    snapshot: &mut Snapshot,
    sink_len: usize,
    fast: bool,
) -> bool {
    if !slot.valid || slot.start != sink_len {
        return false;
    }
    let Some(counters) = snapshot
        .counters
        .get_mut(slot.start..slot.start + slot.total)
    else {
        return false;
    };
    match (kind, &slot.layout) {
        (Kind::Snmp6, _) => refresh_snmp6_values(text, counters),
        (_, Some(layout)) if fast => refresh_pairs_values(text, layout, counters),
        _ => false,
    }
}

/// Opens one counter file, or says why it cannot be. In a captured tree only a regular file
/// is opened: a FIFO or a device is refused here, once, so that the sampling loop needs no
/// check of its own (and reads are capped at [`COUNTER_FILE_MAX`]).
fn open_source(paths: &ProcPaths, kind: Kind) -> SourceFile {
    let base: Result<&Path, String> = if kind.under_sys() {
        paths.sys_dir.as_deref().map_err(Clone::clone)
    } else {
        Ok(paths.net_dir.as_path())
    };
    let (path, file) = match base {
        Ok(base) => {
            let path: PathBuf = base.join(kind.relative_path());
            let file = open_target_file(&path, paths.live).map_err(|e| open_reason(kind, &e));
            (path.display().to_string(), file)
        }
        Err(reason) => (format!("/proc/sys/{}", kind.relative_path()), Err(reason)),
    };
    SourceFile { kind, path, file }
}

/// "absent", "permission denied" or the error text ("not a regular file (a FIFO): not read").
fn open_reason(kind: Kind, e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => format!("absent{}", kind.absent_hint()),
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Largest counter file read: real ones are tens of kilobytes (softnet_stat and
/// stat/nf_conntrack grow with the CPU count); a bigger one is not a counter file.
pub const COUNTER_FILE_MAX: usize = 16 << 20;

/// Reads a whole source from offset 0 into `buf` (grown as needed, up to
/// [`COUNTER_FILE_MAX`]); returns the length.
fn read_source(source: &SourceFile, buf: &mut Vec<u8>) -> Result<usize, String> {
    let file = source.file.as_ref().map_err(Clone::clone)?;
    let until_zero = source.kind.read_until_zero();
    let mut filled = 0usize;
    loop {
        if filled == buf.len() {
            if buf.len() >= COUNTER_FILE_MAX {
                return Err(format!(
                    "larger than {} MiB: not a counter file, not read",
                    COUNTER_FILE_MAX >> 20
                ));
            }
            let grown = buf.len().max(4096) * 2;
            buf.resize(grown, 0);
        }
        let spare = buf.get_mut(filled..).unwrap_or_default();
        let wanted = spare.len();
        match file.read_at(spare, filled as u64) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                if n < wanted && !until_zero {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(match e.kind() {
                    ErrorKind::PermissionDenied => "permission denied".to_string(),
                    _ => format!("read error: {e}"),
                });
            }
        }
    }
    Ok(filled)
}

/// The text of a file: UTF-8 as is, anything else with replacement characters.
/// (`from_utf8` first: its validation is several times faster than the lossy decoder's.)
pub(crate) fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Parses one source's text into the snapshot.
fn parse_into(
    kind: Kind,
    text: &str,
    path: &str,
    snapshot: &mut Snapshot,
    state: &mut SampleState,
    skipped: &mut Vec<Skipped>,
) -> Result<(), ParseError> {
    match kind {
        Kind::Snmp | Kind::Netstat | Kind::Snmp6 => {
            let mut sink = CounterSink::at(&mut snapshot.counters, state.sink_len);
            let mut emit = |section: &str, field: &str, value| sink.put(section, field, value);
            let result = if kind == Kind::Snmp6 {
                visit_snmp6(text, path, &mut emit, skipped)
            } else {
                visit_snmp_pairs(text, path, &mut emit, skipped)
            };
            state.sink_len = sink.written();
            result.map(|_| ())
        }
        Kind::Sockstat | Kind::Sockstat6 => parse_sockstat_into(
            text,
            path,
            &mut snapshot.sockstat,
            &mut state.sockstat_used,
            skipped,
        ),
        Kind::Softnet => {
            parse_softnet_into(text, path, &mut snapshot.softnet, skipped)?;
            state.softnet_read = true;
            Ok(())
        }
        Kind::ConntrackStat => {
            parse_nf_conntrack_stat_into(text, path, &mut state.conntrack.per_cpu, skipped)?;
            state.conntrack_seen = true;
            Ok(())
        }
        Kind::ConntrackCount => {
            state.conntrack.count = Some(parse_conntrack_value(text, path)?);
            state.conntrack_seen = true;
            Ok(())
        }
        Kind::ConntrackMax => {
            state.conntrack.max = Some(parse_conntrack_value(text, path)?);
            state.conntrack_seen = true;
            Ok(())
        }
    }
}

/// True for the source ids a collector writes (the counter files and `netns_entry`).
fn is_collector_source(name: &str) -> bool {
    name == NETNS_ENTRY_SOURCE || Kind::ALL.iter().any(|k| k.source_name() == name)
}

/// Writes a source status at `index`, reusing the entry when name and path are unchanged. A
/// status some other collector put there (sock_diag, sysctl) is kept: the new one goes before it.
fn set_status(
    sources: &mut Vec<SourceStatus>,
    index: usize,
    name: &str,
    path: &str,
    result: Result<(), String>,
    skipped: Vec<Skipped>,
) {
    let status = match result {
        Ok(()) => Availability::Available,
        Err(reason) => Availability::Missing { reason },
    };
    let fresh = |status, skipped| SourceStatus {
        name: name.to_string(),
        path: path.to_string(),
        status,
        skipped,
    };
    match sources.get_mut(index) {
        Some(existing) if existing.name == name && existing.path == path => {
            if existing.status != status {
                existing.status = status;
            }
            existing.skipped = skipped;
        }
        Some(existing) if is_collector_source(&existing.name) => *existing = fresh(status, skipped),
        Some(_) => sources.insert(index, fresh(status, skipped)),
        None => sources.push(fresh(status, skipped)),
    }
}

/// Keeps the first `ours` entries (this sample's) and every other collector's, dropping stale
/// entries of ours left from an earlier sample of a different shape.
fn drop_stale_statuses(sources: &mut Vec<SourceStatus>, ours: usize) {
    let mut position = 0usize;
    sources.retain(|s| {
        let keep = position < ours || !is_collector_source(&s.name);
        position += 1;
        keep
    });
}
