//! Rendering of `netdoctor sysctl`: the effective table, the files, the findings (text and
//! JSON, schema `netdoctor.sysctl/v1`). Formats what collection and analysis produced.

use std::fmt::Write as _;

use serde::Serialize;

use crate::analyze::finding::{Evidence, Finding, NotEvaluated, Severity};
use crate::analyze::rules::sysctl::KeyRow;
use crate::render::Style;
use crate::snapshot::{Snapshot, SysctlAssignment, SysctlFile, SysctlView};

/// Schema id of the JSON document.
pub const SYSCTL_SCHEMA: &str = "netdoctor.sysctl/v1";

/// Everything the `sysctl` command shows.
#[derive(Debug, Clone)]
pub struct SysctlReport<'a> {
    pub snapshot: &'a Snapshot,
    /// The rows to show (already filtered by the command's patterns).
    pub rows: Vec<KeyRow<'a>>,
    pub findings: Vec<Finding>,
    pub not_evaluated: Vec<NotEvaluated>,
    /// (source, reason) for data that could not be read.
    pub unavailable: Vec<(String, String)>,
}

impl SysctlReport<'_> {
    fn view(&self) -> Option<&SysctlView> {
        self.snapshot.sysctl.as_ref()
    }
}

/// One key in the JSON document.
#[derive(Debug, Serialize)]
struct KeyJson<'a> {
    key: &'a str,
    live: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    live_missing: Option<&'a str>,
    configured: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<usize>,
    overrides: Vec<OverrideJson<'a>>,
    default: Option<&'a str>,
    unit: Option<&'a str>,
    /// What the key controls, in one line (from the knowledge base), when it has an entry.
    note: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignore_failure: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    glob: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    /// Configured and live differ (decided by the rules; false for `--from` files).
    drifted: bool,
}

#[derive(Debug, Serialize)]
struct OverrideJson<'a> {
    file: &'a str,
    line: usize,
    value: &'a str,
}

#[derive(Debug, Serialize)]
struct LoaderJson<'a> {
    name: Option<&'a str>,
    reason: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct UnavailableJson {
    name: String,
    reason: String,
}

/// The whole document, fields in the documented order.
#[derive(Debug, Serialize)]
struct SysctlJson<'a> {
    schema: &'static str,
    origin: String,
    kernel: Option<&'a str>,
    loader: LoaderJson<'a>,
    files: &'a [SysctlFile],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    unmatched_globs: &'a [SysctlAssignment],
    keys: Vec<KeyJson<'a>>,
    findings: &'a [Finding],
    unavailable: Vec<UnavailableJson>,
}

/// The JSON document (schema [`SYSCTL_SCHEMA`]), pretty-printed, fields in documented order.
pub fn json(report: &SysctlReport) -> Result<String, serde_json::Error> {
    let view = report.view();
    let keys = report
        .rows
        .iter()
        .map(|row| {
            let k = row.key;
            KeyJson {
                key: &k.key,
                live: k.live.as_deref(),
                live_missing: k.live_missing.as_deref(),
                configured: k.configured.as_ref().map(|c| c.value.as_str()),
                file: k.configured.as_ref().map(|c| c.file.as_str()),
                line: k.configured.as_ref().map(|c| c.line),
                overrides: k
                    .overrides
                    .iter()
                    .map(|o| OverrideJson {
                        file: &o.file,
                        line: o.line,
                        value: &o.value,
                    })
                    .collect(),
                default: row.default.as_deref(),
                unit: row.unit,
                note: crate::kb::sysctl(&k.key).map(|entry| entry.summary),
                ignore_failure: k
                    .configured
                    .as_ref()
                    .map(|c| c.ignore_failure)
                    .filter(|b| *b),
                glob: k.glob.as_deref(),
                mode: k.mode.map(|m| format!("{m:o}")),
                drifted: row.drifted,
            }
        })
        .collect();
    let mut unavailable: Vec<UnavailableJson> = report
        .unavailable
        .iter()
        .map(|(name, reason)| UnavailableJson {
            name: name.clone(),
            reason: reason.clone(),
        })
        .collect();
    unavailable.extend(report.not_evaluated.iter().map(|n| UnavailableJson {
        name: format!("rule {}", n.rule),
        reason: n.missing.clone(),
    }));
    let doc = SysctlJson {
        schema: SYSCTL_SCHEMA,
        origin: report.snapshot.origin.describe(),
        kernel: report.snapshot.host.kernel.as_deref(),
        loader: LoaderJson {
            name: view.and_then(|v| v.loader.as_deref()),
            reason: view.and_then(|v| v.loader_reason.as_deref()),
        },
        files: view.map(|v| v.files.as_slice()).unwrap_or_default(),
        unmatched_globs: view
            .map(|v| v.unmatched_globs.as_slice())
            .unwrap_or_default(),
        keys,
        findings: &report.findings,
        unavailable,
    };
    serde_json::to_string_pretty(&doc)
}

/// Human text: the effective table, the files, the findings.
pub fn text(report: &SysctlReport, style: Style) -> String {
    let mut out = String::new();
    let headers = [
        "KEY",
        "LIVE",
        "CONFIGURED",
        "FILE:LINE",
        "OVR",
        "DEFAULT",
        "UNIT",
    ];
    let rows: Vec<[String; 7]> = report
        .rows
        .iter()
        .map(|row| {
            let k = row.key;
            [
                k.key.clone(),
                match k.live.as_deref() {
                    Some("") => "(empty)".to_string(),
                    Some(live) => live.to_string(),
                    None => format!("({})", k.live_missing.as_deref().unwrap_or("?")),
                },
                k.configured
                    .as_ref()
                    .map(|c| c.value.clone())
                    .unwrap_or_else(|| "-".to_string()),
                k.configured
                    .as_ref()
                    .map(|c| format!("{}:{}", c.file, c.line))
                    .unwrap_or_else(|| "-".to_string()),
                if k.overrides.is_empty() {
                    "-".to_string()
                } else {
                    k.overrides.len().to_string()
                },
                row.default
                    .as_deref()
                    .map(|d| shorten(d, DEFAULT_COLUMN_MAX))
                    .unwrap_or_else(|| "?".to_string()),
                row.unit.unwrap_or("").to_string(),
            ]
        })
        .collect();
    let mut widths = headers.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    if rows.is_empty() {
        out.push_str("No sysctl key matched.\n");
    } else {
        let header_line = pad_row(&headers.map(str::to_string), &widths);
        let _ = writeln!(out, "{}", style.bold(header_line.trim_end()));
        for (row, data) in rows.iter().zip(&report.rows) {
            let line = pad_row(row, &widths);
            let line = line.trim_end();
            if data.drifted {
                let _ = writeln!(out, "{}", style.yellow(line));
            } else {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    if let Some(view) = report.view() {
        let _ = writeln!(
            out,
            "\n{} {}",
            style.bold("Loader:"),
            view.loader.as_deref().unwrap_or("unknown")
        );
        if let Some(reason) = &view.loader_reason {
            let _ = writeln!(out, "  {}", style.dim(reason));
        }
        if !view.files.is_empty() {
            let _ = writeln!(out, "{}", style.bold("Files (in application order):"));
            for f in &view.files {
                let target = f
                    .target
                    .as_ref()
                    .map(|t| format!(" -> {t}"))
                    .unwrap_or_default();
                let skipped = if f.skipped.is_empty() {
                    String::new()
                } else {
                    format!(", {} line(s) skipped", f.skipped.len())
                };
                let _ = writeln!(out, "  {}{target}: {}{skipped}", f.path, f.state);
                // The lines themselves, as `file:line: reason` (the file a user edits).
                let shown = f.target.as_deref().unwrap_or(&f.path);
                for s in f.skipped.iter().take(SKIPPED_LINES_SHOWN) {
                    let _ = writeln!(
                        out,
                        "    {}",
                        style.dim(&format!("{shown}:{}: {} ({:?})", s.line, s.reason, s.text))
                    );
                }
                if f.skipped.len() > SKIPPED_LINES_SHOWN {
                    let _ = writeln!(
                        out,
                        "    {}",
                        style.dim(&format!(
                            "... and {} more (all of them in --json)",
                            f.skipped.len() - SKIPPED_LINES_SHOWN
                        ))
                    );
                }
            }
        }
        for g in &view.unmatched_globs {
            let _ = writeln!(
                out,
                "  {}",
                style.dim(&format!(
                    "{}:{}: `{}` matched no key",
                    g.file, g.line, g.value
                ))
            );
        }
    }
    out.push('\n');
    out.push_str(&findings_text(&report.findings, style));
    for (name, reason) in &report.unavailable {
        let _ = writeln!(
            out,
            "{}",
            style.dim(&format!("unavailable: {name}: {reason}"))
        );
    }
    for n in &report.not_evaluated {
        let _ = writeln!(
            out,
            "{}",
            style.dim(&format!("not evaluated: {}: {}", n.rule, n.missing))
        );
    }
    out
}

/// How many skipped lines of one file the text output lists.
const SKIPPED_LINES_SHOWN: usize = 5;

/// Widest DEFAULT cell in the text table (formulas in words are long; JSON has them whole).
const DEFAULT_COLUMN_MAX: usize = 34;

/// Cuts text to at most `max` characters, marking the cut with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn pad_row(cells: &[String; 7], widths: &[usize; 7]) -> String {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths.iter()).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        let pad = width.saturating_sub(cell.chars().count());
        line.extend(std::iter::repeat_n(' ', pad));
    }
    line
}

/// Findings as text: severity, id, title, summary, evidence, remedy.
pub fn findings_text(findings: &[Finding], style: Style) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        let _ = writeln!(out, "{}", style.green("No sysctl findings."));
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!("Findings ({}):", findings.len()))
    );
    for f in findings {
        let label = match f.severity {
            Severity::Critical => style.red("CRITICAL"),
            Severity::Warning => style.yellow("WARNING"),
            Severity::Info => style.cyan("INFO"),
        };
        let _ = writeln!(out, "\n{label} {} [{}]", style.bold(&f.title), f.id);
        let _ = writeln!(out, "  {}", f.summary);
        for e in &f.evidence {
            let _ = writeln!(out, "  {} {}", style.dim("evidence:"), evidence_text(e));
        }
        for c in &f.caveats {
            let _ = writeln!(out, "  {} {c}", style.dim("caveat:"));
        }
        for r in &f.remedy {
            let _ = writeln!(out, "  {} {r}", style.green("fix:"));
        }
    }
    out
}

fn evidence_text(e: &Evidence) -> String {
    match e {
        Evidence::Sysctl {
            key,
            value,
            file,
            line,
        } => {
            let at = match (file, line) {
                (Some(f), Some(l)) => format!(" ({f}:{l})"),
                (Some(f), None) => format!(" ({f})"),
                _ => String::new(),
            };
            format!("{key} = {}{at}", value.as_deref().unwrap_or("?"))
        }
        Evidence::Counter {
            name,
            total,
            per_second,
            ..
        } => match per_second {
            Some(rate) => format!(
                "{name} {} ({})",
                crate::render::thousands(*total),
                crate::render::rate(*rate)
            ),
            None => format!("{name} {} since boot", crate::render::thousands(*total)),
        },
        Evidence::Socket {
            local,
            queue,
            backlog,
            ..
        } => format!(
            "listener {local} queue {} of {}",
            queue.map(|q| q.to_string()).unwrap_or_else(|| "?".into()),
            backlog.map(|b| b.to_string()).unwrap_or_else(|| "?".into())
        ),
        Evidence::Fact { label, value } => format!("{label}: {value}"),
    }
}
