//! Output of `netdoctor check`: human text (findings by severity, then what could not be
//! evaluated and which sources were unavailable) and the `netdoctor.check/v1` JSON document
//! (docs/check-json.md). Formats the report; decides nothing.

use super::{Style, duration, rate, thousands};
use crate::analyze::check::{CheckReport, Status};
use crate::analyze::finding::{Evidence, Finding, Severity};

/// Text width for wrapped paragraphs.
const WIDTH: usize = 100;

/// The JSON document (pretty-printed, no trailing newline).
pub fn json(report: &CheckReport) -> serde_json::Result<String> {
    serde_json::to_string_pretty(report)
}

fn severity_label(style: Style, severity: Severity) -> String {
    match severity {
        Severity::Critical => style.red("CRITICAL"),
        Severity::Warning => style.yellow("WARNING "),
        Severity::Info => style.cyan("INFO    "),
    }
}

fn status_label(style: Style, status: Status) -> String {
    match status {
        Status::Critical => style.red("CRITICAL"),
        Status::Warning => style.yellow("WARNING"),
        Status::Ok => style.green("OK"),
    }
}

/// Wraps `text` to `WIDTH`, every line starting with `indent` (the first with `first`).
fn wrap(text: &str, first: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(first);
    let mut line_has_words = false;
    for word in text.split_whitespace() {
        if line_has_words && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(indent);
            line_has_words = false;
        }
        if line_has_words {
            line.push(' ');
        }
        line.push_str(word);
        line_has_words = true;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// One evidence line, without indentation.
pub fn evidence_line(evidence: &Evidence, window_s: Option<f64>) -> String {
    match evidence {
        Evidence::Counter {
            name,
            total,
            delta,
            per_second,
            since_boot_per_second,
        } => {
            let mut parts = vec![format!("{name}: {} total", thousands(*total))];
            match (delta, per_second) {
                (Some(d), Some(ps)) => {
                    let over = window_s
                        .map(|s| format!(" in {}", duration(s)))
                        .unwrap_or_default();
                    parts.push(format!("+{}{over} ({})", thousands(*d), rate(*ps)));
                }
                (Some(d), None) => parts.push(format!("+{} between the samples", thousands(*d))),
                (None, _) => parts.push("no current rate measured".to_string()),
            }
            if let Some(avg) = since_boot_per_second {
                parts.push(format!("avg {} since boot", rate(*avg)));
            }
            parts.join(", ")
        }
        Evidence::Sysctl {
            key,
            value,
            file,
            line,
        } => {
            let value = value.as_deref().unwrap_or("(not readable)");
            match (file, line) {
                (Some(f), Some(l)) => format!("{key} = {value}  (set in {f}:{l})"),
                (Some(f), None) => format!("{key} = {value}  (set in {f})"),
                _ => format!("{key} = {value}"),
            }
        }
        Evidence::Socket {
            local,
            queue,
            backlog,
            capped_by_somaxconn,
            process,
            detail,
        } => {
            let mut text = format!("listener {local}");
            if let Some(q) = queue {
                let limit = backlog
                    .map(|b| thousands(i128::from(b)))
                    .unwrap_or_else(|| "?".to_string());
                text.push_str(&format!(
                    ": accept queue {} of {limit}",
                    thousands(i128::from(*q))
                ));
            }
            if *capped_by_somaxconn == Some(true) {
                text.push_str(", limit capped by net.core.somaxconn");
            }
            if let Some(p) = process {
                text.push_str(&format!(", {p}"));
            }
            if let Some(d) = detail {
                text.push_str(&format!(" ({d})"));
            }
            text
        }
        Evidence::Fact { label, value } => format!("{label}: {value}"),
    }
}

fn finding_text(out: &mut String, finding: &Finding, window_s: Option<f64>, style: Style) {
    out.push_str(&format!(
        "{}  {}  {}\n",
        severity_label(style, finding.severity),
        style.bold(&finding.id),
        finding.title
    ));
    out.push_str(&wrap(&finding.summary, "    ", "    "));
    if !finding.evidence.is_empty() {
        out.push_str(&format!("  {}\n", style.dim("Evidence:")));
        for e in &finding.evidence {
            out.push_str(&wrap(&evidence_line(e, window_s), "    - ", "      "));
        }
    }
    if !finding.explanation.is_empty() {
        out.push_str(&format!("  {}\n", style.dim("Why:")));
        out.push_str(&wrap(&finding.explanation, "    ", "    "));
    }
    if !finding.remedy.is_empty() {
        out.push_str(&format!("  {}\n", style.dim("What to do:")));
        for r in &finding.remedy {
            out.push_str(&wrap(r, "    - ", "      "));
        }
    }
    if !finding.caveats.is_empty() {
        out.push_str(&format!("  {}\n", style.dim("Note:")));
        for c in &finding.caveats {
            out.push_str(&wrap(c, "    - ", "      "));
        }
    }
    if !finding.references.is_empty() {
        out.push_str(&format!("  {}\n", style.dim("References:")));
        for r in &finding.references {
            out.push_str(&format!("    {r}\n"));
        }
    }
    out.push_str(&format!(
        "  {}\n\n",
        style.dim(&format!("More: netdoctor explain {}", finding.id))
    ));
}

/// The human report.
pub fn human(report: &CheckReport, style: Style) -> String {
    let mut out = String::new();
    let mut facts = Vec::new();
    if let Some(h) = &report.host.hostname {
        facts.push(format!("host {h}"));
    }
    if let Some(k) = &report.host.kernel {
        facts.push(format!("kernel {k}"));
    }
    if let Some(u) = report.host.uptime_s {
        facts.push(format!("up {}", duration(u)));
    }
    let window = match report.window_s {
        Some(s) => format!("rates over {}", duration(s)),
        None => "lifetime totals only (no rates)".to_string(),
    };
    out.push_str(&format!(
        "netdoctor check: {}{}; {window}\n",
        report.source,
        if facts.is_empty() {
            String::new()
        } else {
            format!(" ({})", facts.join(", "))
        }
    ));
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    out.push_str(&format!(
        "Status: {} — {} critical, {} warning, {} info\n\n",
        status_label(style, report.status),
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info)
    ));
    if report.findings.is_empty() {
        out.push_str("No problems found by the rules that could be evaluated.\n\n");
    }
    for finding in &report.findings {
        finding_text(&mut out, finding, report.window_s, style);
    }
    if !report.not_evaluated.is_empty() {
        out.push_str(&format!("{}\n", style.bold("Not evaluated:")));
        for n in &report.not_evaluated {
            out.push_str(&wrap(
                &format!("{}: missing {}", n.rule, n.missing),
                "  - ",
                "    ",
            ));
        }
        out.push('\n');
    }
    if !report.unavailable.is_empty() {
        out.push_str(&format!("{}\n", style.bold("Unavailable sources:")));
        for u in &report.unavailable {
            out.push_str(&wrap(
                &format!("{}: {}", u.source, u.reason),
                "  - ",
                "    ",
            ));
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_indent_and_width() {
        let text = "word ".repeat(60);
        let wrapped = wrap(&text, "  - ", "    ");
        assert!(wrapped.lines().all(|l| l.chars().count() <= WIDTH));
        assert!(wrapped.starts_with("  - word"));
        assert!(wrapped.lines().skip(1).all(|l| l.starts_with("    word")));
    }

    #[test]
    fn counter_evidence_without_rate_says_so() {
        let e = Evidence::Counter {
            name: "TcpExtListenDrops".to_string(),
            total: 35_544_811_584,
            delta: None,
            per_second: None,
            since_boot_per_second: None,
        };
        let line = evidence_line(&e, None);
        assert_eq!(
            line,
            "TcpExtListenDrops: 35,544,811,584 total, no current rate measured"
        );
        assert!(!line.contains("/s"));
    }
}
