//! `--from FILE`: command-line glue between the shared source arguments and `ingest`.
//!
//! Every collecting command reads pasted text through here: the `--from` values become
//! [`FromSpec`]s, ingest builds the snapshot(s), and what ingest understood, skipped and
//! assumed is printed on standard error, so it is never silently dropped and never mixed into
//! a command's JSON on standard output.

use std::io::Write;

use super::SourceArgs;
use crate::ingest::{self, FromSpec, IngestReport};
use crate::snapshot::Snapshot;

/// The `--from` values as specs.
pub fn specs(source: &SourceArgs) -> anyhow::Result<Vec<FromSpec>> {
    source
        .from
        .iter()
        .map(|arg| FromSpec::parse(arg, source.use_mtime).map_err(anyhow::Error::from))
        .collect()
}

/// Loads every `--from` file into one snapshot and reports on standard error.
pub fn load(source: &SourceArgs) -> anyhow::Result<(Snapshot, IngestReport)> {
    let (snapshot, report) = ingest::load(&specs(source)?)?;
    print_report(&report);
    Ok((snapshot, report))
}

/// Loads every `--from` file into one snapshot, also returning the pasted sysctl
/// configuration files as the configuration loader sees them, and reports on standard error.
pub fn load_with_config(
    source: &SourceArgs,
) -> anyhow::Result<(Snapshot, IngestReport, crate::collect::sysconf::ConfigSet)> {
    let (snapshot, report, config) = ingest::load_with_config(&specs(source)?)?;
    print_report(&report);
    Ok((snapshot, report, config))
}

/// Loads dated pastes as a time-ordered series (one snapshot when undated) and reports on
/// standard error.
pub fn load_series(source: &SourceArgs) -> anyhow::Result<(Vec<Snapshot>, IngestReport)> {
    let (series, report) = ingest::load_series(&specs(source)?)?;
    print_report(&report);
    Ok((series, report))
}

/// The report as text: one line per file, the first skipped lines, and the notes.
pub fn report_text(report: &IngestReport) -> String {
    let mut out = String::new();
    for file in &report.files {
        let mut read = Vec::new();
        if file.counters_read > 0 {
            read.push(format!("{} counters", file.counters_read));
        }
        if file.sysctl_keys_read > 0 {
            read.push(format!("{} sysctl keys", file.sysctl_keys_read));
        }
        if file.sockets_read > 0 {
            read.push(format!("{} sockets", file.sockets_read));
        }
        if read.is_empty() {
            read.push("nothing usable".to_string());
        }
        let when = file
            .taken_at_unix_s
            .map(|t| format!(" taken {}", ingest::spec::format_time(t)))
            .unwrap_or_default();
        out.push_str(&format!(
            "read {}{when}: {} ({}), {} line(s) skipped\n",
            file.file,
            file.format.describe(),
            read.join(", "),
            file.skipped_lines
        ));
        for skipped in &file.first_skipped {
            out.push_str(&format!(
                "  line {}: {}: {}\n",
                skipped.line, skipped.reason, skipped.text
            ));
        }
        if file.skipped_lines > file.first_skipped.len() {
            out.push_str(&format!(
                "  ... and {} more\n",
                file.skipped_lines - file.first_skipped.len()
            ));
        }
        for note in &file.notes {
            out.push_str(&format!("  note: {note}\n"));
        }
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

fn print_report(report: &IngestReport) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(report_text(report).as_bytes());
}
