//! Rendering of `netdoctor sysctl`: the effective table, the files, the findings (text and
//! JSON, schema `netdoctor.sysctl/v1`). Formats what collection and analysis produced.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::analyze::finding::{Evidence, Finding, NotEvaluated, Severity};
use crate::analyze::rules::sysctl::KeyRow;
use crate::render::Style;
use crate::snapshot::{Snapshot, SysctlView};

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

/// The JSON document.
pub fn json(report: &SysctlReport) -> Value {
    let view = report.view();
    let keys: Vec<Value> = report
        .rows
        .iter()
        .map(|row| {
            let k = row.key;
            json!({
                "key": k.key,
                "live": k.live,
                "live_missing": k.live_missing,
                "configured": k.configured.as_ref().map(|c| c.value.clone()),
                "file": k.configured.as_ref().map(|c| c.file.clone()),
                "line": k.configured.as_ref().map(|c| c.line),
                "ignore_failure": k.configured.as_ref().map(|c| c.ignore_failure),
                "glob": k.glob,
                "overrides": k.overrides.iter().map(|o| json!({
                    "file": o.file, "line": o.line, "value": o.value,
                })).collect::<Vec<_>>(),
                "default": row.default,
                "unit": row.unit,
                "mode": k.mode.map(|m| format!("{m:o}")),
            })
        })
        .collect();
    let mut unavailable: Vec<Value> = report
        .unavailable
        .iter()
        .map(|(name, reason)| json!({"name": name, "reason": reason}))
        .collect();
    unavailable.extend(
        report
            .not_evaluated
            .iter()
            .map(|n| json!({"name": format!("rule {}", n.rule), "reason": n.missing})),
    );
    json!({
        "schema": SYSCTL_SCHEMA,
        "origin": report.snapshot.origin.describe(),
        "kernel": report.snapshot.host.kernel,
        "loader": {
            "name": view.and_then(|v| v.loader.clone()),
            "reason": view.and_then(|v| v.loader_reason.clone()),
        },
        "files": view.map(|v| v.files.clone()).unwrap_or_default(),
        "unmatched_globs": view.map(|v| v.unmatched_globs.clone()).unwrap_or_default(),
        "keys": keys,
        "findings": report.findings,
        "unavailable": unavailable,
    })
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
                k.live
                    .clone()
                    .unwrap_or_else(|| format!("({})", k.live_missing.as_deref().unwrap_or("?"))),
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
                row.default.clone().unwrap_or_else(|| "?".to_string()),
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
            let drifted = matches!(
                (&data.key.configured, &data.key.live),
                (Some(c), Some(l)) if !crate::analyze::rules::sysctl::values_equal(&c.value, l)
            );
            if drifted {
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
