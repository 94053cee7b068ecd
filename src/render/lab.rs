//! Rendering of `netdoctor lab`: the teaching page of a run, the scenario list, and what
//! `lab clean` removed. Formats what the lab decided; decides nothing.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Style, rate, thousands};
use crate::lab::run::{CleanReport, LabReport, Outcome};
use crate::lab::scenarios::{Requirement, Scenario};
use crate::lab::{LAB_LIST_SCHEMA, netns};

/// How many counters beyond the watched ones the page shows.
const OTHER_COUNTERS_SHOWN: usize = 8;

/// The teaching page of one run.
pub fn run_text(report: &LabReport, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} — {}",
        style.bold("netdoctor lab:"),
        style.bold(&report.scenario),
        report.title
    );
    if report.outcome == Outcome::Skipped {
        let _ = writeln!(
            out,
            "\n{} this scenario cannot run here: {}",
            style.yellow("SKIPPED"),
            report.skip_reason.as_deref().unwrap_or("no reason given")
        );
        let _ = writeln!(out, "\n{} {}", style.bold("Lesson:"), report.lesson);
        return out;
    }

    let _ = writeln!(
        out,
        "\n{} (in {})",
        style.bold("What was done"),
        report.namespaces.join(" and ")
    );
    for (i, step) in report.steps.iter().enumerate() {
        let _ = writeln!(out, "  {}. {step}", i + 1);
    }
    if let Some(driver) = &report.driver {
        let mut line = format!(
            "  traffic: {} attempted, {} succeeded",
            thousands(i128::from(driver.attempts)),
            thousands(i128::from(driver.succeeded))
        );
        if driver.bytes > 0 {
            let _ = write!(line, ", {} bytes", thousands(i128::from(driver.bytes)));
        }
        for (error, count) in &driver.errors {
            let _ = write!(line, "; {error} ×{}", thousands(i128::from(*count)));
        }
        let _ = writeln!(out, "{line}");
        for note in &driver.notes {
            let _ = writeln!(out, "  {}", style.dim(note));
        }
    }

    let _ = writeln!(out, "\n{}", style.bold("What the counters did"));
    let width = report
        .counters
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let shown = report.counters.iter().filter(|c| c.watched).chain(
        report
            .counters
            .iter()
            .filter(|c| !c.watched)
            .take(OTHER_COUNTERS_SHOWN),
    );
    for counter in shown {
        let change = if counter.delta == 0 {
            style.dim("did not move")
        } else {
            let sign = if counter.delta > 0 { "+" } else { "" };
            format!(
                "{sign}{}  ({} → {})",
                thousands(counter.delta),
                thousands(counter.before),
                thousands(counter.after)
            )
        };
        let _ = writeln!(out, "  {:width$}  {change}", counter.name);
    }
    for note in &report.condition_notes {
        let _ = writeln!(out, "  {}", style.dim(note));
    }

    let _ = writeln!(out, "\n{}", style.bold("What netdoctor check concluded"));
    match &report.check {
        Some(doc) => check_text(&mut out, doc, report.check_exit_code, style),
        None => {
            let _ = writeln!(
                out,
                "  check gave no result: {}",
                report.check_error.as_deref().unwrap_or("unknown reason")
            );
        }
    }

    let _ = writeln!(out);
    let expected = match (&report.expected.finding, &report.expected.severity) {
        (Some(id), Some(severity)) => format!("{id} ({severity})"),
        _ => format!("status {}", report.expected.status),
    };
    match report.outcome {
        Outcome::Proved => {
            let _ = writeln!(
                out,
                "{} check concluded {expected}, as this scenario must end",
                style.green("PROVED")
            );
        }
        Outcome::Missed => {
            let _ = writeln!(
                out,
                "{} this scenario must end in {expected}, but:",
                style.red("MISSED")
            );
            for d in &report.differences {
                let _ = writeln!(out, "  - {d}");
            }
        }
        Outcome::NotReproduced => {
            let _ = writeln!(
                out,
                "{} the kernel condition did not appear (see the counters above)",
                style.red("NOT REPRODUCED")
            );
        }
        Outcome::CheckUnavailable => {
            let _ = writeln!(
                out,
                "{} the condition was built, but check gave no usable result ({})",
                style.yellow("CHECK UNAVAILABLE"),
                report.check_error.as_deref().unwrap_or("unknown reason")
            );
        }
        Outcome::Skipped => {}
    }
    let _ = writeln!(out, "{} {}", style.bold("Lesson:"), report.lesson);
    if !report.leftovers.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            style.dim(&format!(
                "Left over from earlier runs: {} (`netdoctor lab clean` removes them).",
                report.leftovers.join(", ")
            ))
        );
    }
    if report.kept {
        let _ = writeln!(
            out,
            "\nKept {} (look inside with `ip netns exec NAME ss -tan`; remove with `netdoctor lab clean`)",
            report.namespaces.join(", ")
        );
    } else {
        let _ = writeln!(
            out,
            "{}",
            style.dim(&format!(
                "Removed {} after {:.1} s.",
                report.namespaces.join(", "),
                report.duration_s
            ))
        );
    }
    out
}

/// check's findings, briefly: severity, id, title, summary and evidence lines.
fn check_text(out: &mut String, doc: &Value, exit_code: Option<i32>, style: Style) {
    let status = doc.get("status").and_then(Value::as_str).unwrap_or("?");
    let window = doc
        .get("window_s")
        .and_then(Value::as_f64)
        .map(|w| format!(" over {w:.1} s"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  status {status}{window} (exit code {})",
        exit_code.map_or_else(|| "?".to_string(), |c| c.to_string())
    );
    let findings = doc
        .get("findings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if findings.is_empty() {
        let _ = writeln!(out, "  no findings");
    }
    for finding in &findings {
        let text = |key: &str| finding.get(key).and_then(Value::as_str).unwrap_or("");
        let severity = text("severity");
        let label = match severity {
            "critical" => style.red("CRITICAL"),
            "warning" => style.yellow("WARNING"),
            other => style.cyan(&other.to_ascii_uppercase()),
        };
        let _ = writeln!(
            out,
            "  {label} {}: {}",
            style.bold(text("id")),
            text("title")
        );
        if !text("summary").is_empty() {
            let _ = writeln!(out, "    {}", text("summary"));
        }
        if let Some(evidence) = finding.get("evidence").and_then(Value::as_array) {
            for entry in evidence {
                let _ = writeln!(out, "    · {}", evidence_line(entry));
            }
        }
    }
}

/// One evidence entry as a line.
fn evidence_line(entry: &Value) -> String {
    let s = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or("");
    let n = |key: &str| entry.get(key).and_then(Value::as_i64);
    match s("kind") {
        "counter" => {
            let mut line = format!("counter {}", s("name"));
            if let Some(delta) = n("delta") {
                let _ = write!(line, ": +{}", thousands(i128::from(delta)));
            }
            if let Some(ps) = entry.get("per_second").and_then(Value::as_f64) {
                let _ = write!(line, " ({})", rate(ps));
            }
            if let Some(total) = n("total") {
                let _ = write!(line, ", total {}", thousands(i128::from(total)));
            }
            line
        }
        "sysctl" => {
            let value = entry
                .get("value")
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .unwrap_or_default();
            let mut line = format!("sysctl {} = {value}", s("key"));
            if !s("file").is_empty() {
                let _ = write!(line, " ({}", s("file"));
                if let Some(l) = n("line") {
                    let _ = write!(line, ":{l}");
                }
                line.push(')');
            }
            line
        }
        "socket" => {
            let mut line = format!("socket {}", s("local"));
            if let (Some(q), Some(b)) = (n("queue"), n("backlog")) {
                let _ = write!(line, " queue {q} of backlog {b}");
            }
            if !s("detail").is_empty() {
                let _ = write!(line, " — {}", s("detail"));
            }
            line
        }
        "fact" => format!("{}: {}", s("label"), s("value")),
        _ => entry.to_string(),
    }
}

/// `lab list` as text.
pub fn list_text(scenarios: &[Scenario], style: Style) -> String {
    let mut out = String::new();
    let width = scenarios.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in scenarios {
        let ends = match s.finding {
            Some((id, severity))
                if s.requirements
                    .iter()
                    .all(|r| !matches!(r, Requirement::Unreachable(_))) =>
            {
                format!("ends in {id} ({severity})")
            }
            Some(_) => "cannot be built in a namespace (run it to see why)".to_string(),
            None => format!("ends in status {}", s.status.as_str()),
        };
        let _ = writeln!(
            out,
            "{}  {}\n{:width$}  {}",
            style.bold(&format!("{:width$}", s.name)),
            s.title,
            "",
            style.dim(&ends)
        );
    }
    let _ = writeln!(
        out,
        "\nRun one with `sudo netdoctor lab run NAME` (add --keep to look around afterwards)."
    );
    out
}

/// `lab list --json`.
pub fn list_json(scenarios: &[Scenario]) -> Value {
    let list: Vec<Value> = scenarios
        .iter()
        .map(|s| {
            let unreachable = s.requirements.iter().find_map(|r| match r {
                Requirement::Unreachable(why) => Some(*why),
                _ => None,
            });
            serde_json::json!({
                "name": s.name,
                "title": s.title,
                "finding": s.finding.map(|(id, _)| id),
                "severity": s.finding.map(|(_, sev)| sev.as_str()),
                "status": s.status.as_str(),
                "lesson": s.lesson,
                "unreachable": unreachable,
            })
        })
        .collect();
    serde_json::json!({"schema": LAB_LIST_SCHEMA, "scenarios": list})
}

/// `lab clean` as text.
pub fn clean_text(report: &CleanReport, style: Style) -> String {
    let mut out = String::new();
    if report.removed.is_empty() && report.failed.is_empty() && report.skipped_live.is_empty() {
        let _ = writeln!(out, "No {}* namespaces to remove.", netns::PREFIX);
    }
    for name in &report.removed {
        let _ = writeln!(out, "removed {name} and its processes");
    }
    for name in &report.skipped_live {
        let _ = writeln!(
            out,
            "{}",
            style.dim(&format!(
                "left {name}: the run that made it is still going (use --all to remove it anyway)"
            ))
        );
    }
    for (name, error) in &report.failed {
        let _ = writeln!(out, "{} {name}: {error}", style.red("could not remove"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::counters::CounterMove;
    use crate::lab::run::LabReport;
    use crate::lab::scenarios::find;
    use serde_json::json;

    #[test]
    fn a_skipped_scenario_says_why() {
        let mut report = LabReport::new(find("softnet-drops").expect("scenario exists"));
        report.skip_reason = Some("host-wide".into());
        let text = run_text(&report, Style::plain());
        assert!(
            text.contains("SKIPPED this scenario cannot run here: host-wide"),
            "{text}"
        );
        assert!(text.contains("Lesson:"));
    }

    #[test]
    fn a_proved_run_shows_counters_finding_and_lesson() {
        let mut report = LabReport::new(find("listen-overflow").expect("scenario exists"));
        report.outcome = Outcome::Proved;
        report.namespaces = vec!["netdoctor-lab-1-listen-overflow".into()];
        report.counters = vec![
            CounterMove {
                name: "TcpExtListenOverflows".into(),
                before: 0,
                after: 1234,
                delta: 1234,
                watched: true,
            },
            CounterMove {
                name: "TcpExtSyncookiesSent".into(),
                before: 0,
                after: 0,
                delta: 0,
                watched: true,
            },
        ];
        report.check_exit_code = Some(2);
        report.check = Some(json!({
            "schema": "netdoctor.check/v1", "status": "critical", "window_s": 3.0,
            "findings": [{"id": "listen-overflow", "severity": "critical", "title": "full",
                "summary": "drops", "evidence": [
                    {"kind": "counter", "name": "TcpExtListenOverflows", "total": 1234,
                     "delta": 1234, "per_second": 411.3},
                    {"kind": "socket", "local": "127.0.0.1:8080", "queue": 5, "backlog": 4}]}]
        }));
        let text = run_text(&report, Style::plain());
        for part in [
            "TcpExtListenOverflows  +1,234  (0 → 1,234)",
            "TcpExtSyncookiesSent   did not move",
            "status critical over 3.0 s (exit code 2)",
            "CRITICAL listen-overflow: full",
            "counter TcpExtListenOverflows: +1,234 (411/s), total 1,234",
            "socket 127.0.0.1:8080 queue 5 of backlog 4",
            "PROVED check concluded listen-overflow (critical)",
            "Lesson: an application that accepts slower",
        ] {
            assert!(text.contains(part), "missing {part:?} in:\n{text}");
        }
    }

    #[test]
    fn list_names_the_expected_finding() {
        let text = list_text(crate::lab::scenarios::SCENARIOS, Style::plain());
        assert!(
            text.contains("ends in syn-queue-overflow (critical)"),
            "{text}"
        );
        assert!(text.contains("ends in status ok"));
    }
}
