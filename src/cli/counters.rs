//! `netdoctor counters`: every kernel network counter, readable, optionally as rates.

use std::io::Write;
use std::time::Duration;

use anyhow::bail;
use clap::Args;

use super::{EXIT_OK, OutputArgs, SourceArgs};
use crate::analyze::counter_delta::counter_changes;
use crate::collect::enter_target;
use crate::collect::procfs::Collector;
use crate::render::counters::{
    CounterRow, CountersView, SkippedPart, Unavailable, human, json, phrase_without_number,
};
use crate::snapshot::Snapshot;

#[derive(Debug, Args)]
pub struct CountersArgs {
    /// Show only counters whose name matches: a case-insensitive substring
    /// (`listendrop`), or a glob with `*` and `?` (`TcpExt*`)
    #[arg(value_name = "PATTERN")]
    pub patterns: Vec<String>,
    /// Show counters that are zero too (by default only non-zero ones)
    #[arg(long)]
    pub all: bool,
    /// Take two samples SECS apart and show the change and the per-second rate
    #[arg(long, value_name = "SECS")]
    pub interval: Option<f64>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The longest `--interval` accepted.
const MAX_INTERVAL_S: f64 = 3600.0;

pub fn run(args: CountersArgs) -> anyhow::Result<i32> {
    if !args.source.from.is_empty() {
        if args.interval.is_some() {
            bail!(
                "--interval samples the live host; with --from, rates come from two dated \
                 pastes (FILE@2024-05-01T10:00:00 or --use-mtime)"
            );
        }
        let (series, _report) = super::from::load_series(&args.source)?;
        let view = match series.as_slice() {
            [.., before, after] => build_view(&args, Some(before), after),
            [only] => build_view(&args, None, only),
            [] => bail!("no snapshot could be built from the --from files"),
        };
        return print_view(&args, &view);
    }
    let interval = match args.interval {
        Some(s) if !(s.is_finite() && s > 0.0 && s <= MAX_INTERVAL_S) => {
            bail!("--interval must be a number of seconds above 0 and at most {MAX_INTERVAL_S}")
        }
        other => other,
    };
    let paths = enter_target(&args.source.target())?;
    let mut collector = Collector::open(paths);
    let first = collector.sample()?;
    let view = match interval {
        None => build_view(&args, None, &first),
        Some(seconds) => {
            std::thread::sleep(Duration::from_secs_f64(seconds));
            let second = collector.sample()?;
            build_view(&args, Some(&first), &second)
        }
    };
    print_view(&args, &view)
}

/// Writes the view as JSON or human text.
fn print_view(args: &CountersArgs, view: &CountersView) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    if args.output.json {
        out.write_all(json(view).as_bytes())?;
    } else {
        out.write_all(human(view, args.output.style()).as_bytes())?;
    }
    out.flush()?;
    Ok(EXIT_OK)
}

/// Filters and names the counters of one sample (or the later of two).
fn build_view(args: &CountersArgs, before: Option<&Snapshot>, after: &Snapshot) -> CountersView {
    let patterns: Vec<String> = args
        .patterns
        .iter()
        .map(|p| p.to_ascii_lowercase())
        .collect();
    let changes = before.map(|b| counter_changes(b, after));
    // One index instead of a linear knowledge-base search per row.
    let kb: std::collections::HashMap<&str, &crate::kb::CounterEntry> =
        crate::kb::counters().iter().map(|e| (e.name, e)).collect();
    let mut rows = Vec::new();
    for (i, counter) in after.counters.iter().enumerate() {
        if !patterns.is_empty() && !patterns.iter().any(|p| name_matches(p, &counter.name)) {
            continue;
        }
        if !args.all && counter.value == 0 {
            continue;
        }
        let change = changes.as_ref().and_then(|c| c.get(i));
        rows.push(CounterRow {
            name: counter.name.clone(),
            section: counter.section.clone(),
            value: counter.value,
            delta: change.and_then(|c| c.delta),
            per_second: change.and_then(|c| c.per_second),
            reset: change.is_some_and(|c| c.reset),
            phrase: kb
                .get(counter.name.as_str())
                .and_then(|e| e.phrases.first())
                .map(|p| phrase_without_number(p)),
        });
    }
    let mut notes = Vec::new();
    if !args.all {
        notes.push("non-zero only; --all shows every counter".to_string());
    }
    if !args.patterns.is_empty() {
        notes.push(format!("matching {}", args.patterns.join(" or ")));
    }
    CountersView {
        origin: after.origin.clone(),
        kernel: after.host.kernel.clone(),
        interval_s: before.and_then(|b| crate::analyze::counter_delta::elapsed_seconds(b, after)),
        rows,
        total: after.counters.len(),
        filter_note: (!notes.is_empty()).then(|| notes.join(", ")),
        unavailable: after
            .sources
            .iter()
            .filter_map(|s| {
                s.missing_reason().map(|reason| Unavailable {
                    name: s.name.clone(),
                    path: s.path.clone(),
                    reason: reason.to_string(),
                })
            })
            .collect(),
        skipped: after
            .sources
            .iter()
            .flat_map(|s| {
                s.skipped.iter().map(|k| SkippedPart {
                    source: s.path.clone(),
                    skipped: k.clone(),
                })
            })
            .collect(),
    }
}

/// Case-insensitive match of a lower-cased pattern: a glob when it has `*` or `?`, else a
/// substring.
pub fn name_matches(pattern_lower: &str, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if pattern_lower.contains(['*', '?']) {
        glob_matches(pattern_lower.as_bytes(), name.as_bytes())
    } else {
        name.contains(pattern_lower)
    }
}

/// `*` matches any run of characters, `?` one character; anchored at both ends.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(name_matches("listendrop", "TcpExtListenDrops"));
        assert!(name_matches("tcpext*", "TcpExtListenDrops"));
        assert!(!name_matches("tcpext*", "MPTcpExtFoo"));
        assert!(name_matches("*drops", "TcpExtListenDrops"));
        assert!(name_matches("tcp?xt*drops", "TcpExtListenDrops"));
        assert!(!name_matches("udp*", "TcpExtListenDrops"));
        assert!(name_matches("*", "X"));
    }
}
