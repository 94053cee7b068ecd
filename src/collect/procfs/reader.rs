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

use super::conntrack::{conntrack_counters, parse_conntrack_value, parse_nf_conntrack_stat};
use super::snmp::visit_snmp_pairs;
use super::snmp6::visit_snmp6;
use super::sockstat::parse_sockstat;
use super::softnet::{parse_softnet, softnet_counters};
use super::{CounterSink, ParseError};
use crate::collect::host::{parse_uptime, read_host_facts};
use crate::collect::sys;
use crate::collect::target::ProcPaths;
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

    /// The source id recorded in the snapshot.
    fn source_name(self) -> &'static str {
        match self {
            Kind::Snmp => "snmp",
            Kind::Netstat => "netstat",
            Kind::Snmp6 => "snmp6",
            Kind::Sockstat => "sockstat",
            Kind::Sockstat6 => "sockstat6",
            Kind::Softnet => "softnet_stat",
            Kind::ConntrackStat => "nf_conntrack",
            Kind::ConntrackCount => "nf_conntrack_count",
            Kind::ConntrackMax => "nf_conntrack_max",
        }
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

/// Keeps the counter files of one target open and samples them.
#[derive(Debug)]
pub struct Collector {
    paths: ProcPaths,
    host: HostFacts,
    files: Vec<SourceFile>,
    uptime: Option<File>,
    buf: Vec<u8>,
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
        let uptime = File::open(paths.proc_dir.join("uptime")).ok();
        let host = read_host_facts(&paths);
        Collector {
            paths,
            host,
            files,
            uptime,
            buf: vec![0; INITIAL_BUFFER],
        }
    }

    /// The directories this collector reads.
    pub fn paths(&self) -> &ProcPaths {
        &self.paths
    }

    /// Takes one sample into a new snapshot.
    pub fn sample(&mut self) -> Result<Snapshot, CollectError> {
        let mut snapshot = Snapshot::default();
        self.sample_into(&mut snapshot)?;
        Ok(snapshot)
    }

    /// Takes one sample into `snapshot`, reusing its allocations (counter names that did not
    /// change are not rebuilt). Everything this collector owns in the snapshot is replaced;
    /// `sysctl` and `sockets` are left alone.
    pub fn sample_into(&mut self, snapshot: &mut Snapshot) -> Result<(), CollectError> {
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
        snapshot.sockstat.clear();
        snapshot.softnet.clear();

        let mut buf = std::mem::take(&mut self.buf);
        let mut sink_len = 0usize;
        let mut conntrack = Conntrack::default();
        let mut conntrack_seen = false;
        let mut status_index = 0usize;
        for source in &self.files {
            let outcome = read_source(source, &mut buf);
            let mut skipped: Vec<Skipped> = Vec::new();
            let result: Result<(), String> = outcome.and_then(|text| {
                let text = text_of(&buf[..text]);
                parse_into(
                    source.kind,
                    &text,
                    &source.path,
                    snapshot,
                    &mut sink_len,
                    &mut conntrack,
                    &mut conntrack_seen,
                    &mut skipped,
                )
                .map_err(|e| format!("parse error at {e}"))
            });
            set_status(
                &mut snapshot.sources,
                status_index,
                source.kind.source_name(),
                &source.path,
                result,
                skipped,
            );
            status_index += 1;
        }
        self.buf = buf;
        if let Some(note) = &self.paths.note {
            set_status(
                &mut snapshot.sources,
                status_index,
                &note.name,
                &note.path,
                match &note.status {
                    Availability::Available => Ok(()),
                    Availability::Missing { reason } => Err(reason.clone()),
                },
                Vec::new(),
            );
            status_index += 1;
        }
        snapshot.sources.truncate(status_index);

        // Derived counters after the file counters: Softnet*, then Conntrack*.
        snapshot.counters.truncate(sink_len);
        let mut derived = softnet_counters(&snapshot.softnet);
        if conntrack_seen {
            derived.extend(conntrack_counters(&conntrack));
            snapshot.conntrack = Some(conntrack);
        } else {
            snapshot.conntrack = None;
        }
        let mut sink = CounterSink::at(&mut snapshot.counters, sink_len);
        for counter in &derived {
            let field = counter
                .name
                .get(counter.section.len()..)
                .unwrap_or_default();
            sink.put(&counter.section, field, counter.value);
        }
        sink.finish();

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

/// Opens one counter file, or says why it cannot be.
fn open_source(paths: &ProcPaths, kind: Kind) -> SourceFile {
    let base: Result<&Path, String> = if kind.under_sys() {
        paths.sys_dir.as_deref().map_err(Clone::clone)
    } else {
        Ok(paths.net_dir.as_path())
    };
    let (path, file) = match base {
        Ok(base) => {
            let path: PathBuf = base.join(kind.relative_path());
            let file = File::open(&path).map_err(|e| open_reason(kind, &e));
            (path.display().to_string(), file)
        }
        Err(reason) => (format!("/proc/sys/{}", kind.relative_path()), Err(reason)),
    };
    SourceFile { kind, path, file }
}

/// "absent", "permission denied" or the error text.
fn open_reason(kind: Kind, e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => format!("absent{}", kind.absent_hint()),
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Reads a whole source from offset 0 into `buf` (grown as needed); returns the length.
fn read_source(source: &SourceFile, buf: &mut Vec<u8>) -> Result<usize, String> {
    let file = source.file.as_ref().map_err(Clone::clone)?;
    let until_zero = source.kind.read_until_zero();
    let mut filled = 0usize;
    loop {
        if filled == buf.len() {
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
pub(crate) fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Parses one source's text into the snapshot.
#[allow(clippy::too_many_arguments)]
fn parse_into(
    kind: Kind,
    text: &str,
    path: &str,
    snapshot: &mut Snapshot,
    sink_len: &mut usize,
    conntrack: &mut Conntrack,
    conntrack_seen: &mut bool,
    skipped: &mut Vec<Skipped>,
) -> Result<(), ParseError> {
    match kind {
        Kind::Snmp | Kind::Netstat | Kind::Snmp6 => {
            let mut sink = CounterSink::at(&mut snapshot.counters, *sink_len);
            let mut emit = |section: &str, field: &str, value| sink.put(section, field, value);
            let result = if kind == Kind::Snmp6 {
                visit_snmp6(text, path, &mut emit, skipped)
            } else {
                visit_snmp_pairs(text, path, &mut emit, skipped)
            };
            *sink_len = sink.written();
            result.map(|_| ())
        }
        Kind::Sockstat | Kind::Sockstat6 => {
            let parsed = parse_sockstat(text, path)?;
            snapshot.sockstat.extend(parsed.lines);
            skipped.extend(parsed.skipped);
            Ok(())
        }
        Kind::Softnet => {
            let parsed = parse_softnet(text, path)?;
            snapshot.softnet = parsed.cpus;
            skipped.extend(parsed.skipped);
            Ok(())
        }
        Kind::ConntrackStat => {
            let parsed = parse_nf_conntrack_stat(text, path)?;
            conntrack.per_cpu = parsed.per_cpu;
            *conntrack_seen = true;
            skipped.extend(parsed.skipped);
            Ok(())
        }
        Kind::ConntrackCount => {
            conntrack.count = Some(parse_conntrack_value(text, path)?);
            *conntrack_seen = true;
            Ok(())
        }
        Kind::ConntrackMax => {
            conntrack.max = Some(parse_conntrack_value(text, path)?);
            *conntrack_seen = true;
            Ok(())
        }
    }
}

/// Writes a source status at `index`, reusing the entry when name and path are unchanged.
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
    match sources.get_mut(index) {
        Some(existing) if existing.name == name && existing.path == path => {
            if existing.status != status {
                existing.status = status;
            }
            existing.skipped = skipped;
        }
        Some(existing) => {
            *existing = SourceStatus {
                name: name.to_string(),
                path: path.to_string(),
                status,
                skipped,
            };
        }
        None => sources.push(SourceStatus {
            name: name.to_string(),
            path: path.to_string(),
            status,
            skipped,
        }),
    }
}
