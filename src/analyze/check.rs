//! `check`: runs every rule over a window and gathers the verdict.
//!
//! [`run_check`] is pure: it takes a [`Window`] (one or two snapshots) and options, runs the
//! registry, merges the sysctl audit's findings (when that is wired), filters by minimum
//! severity, sorts (severity, then weight) and reports what could not be evaluated and which
//! sources were unavailable. Rendering and exit codes build on the [`CheckReport`].

use serde::Serialize;

use crate::analyze::finding::{Evidence, Finding, NotEvaluated, Severity};
use crate::analyze::rules::{self, RuleOutcome};
use crate::analyze::window::Window;
use crate::snapshot::{HostFacts, Origin};

/// Schema id of the JSON document (docs/check-json.md).
pub const CHECK_SCHEMA: &str = "netdoctor.check/v1";

/// What the caller wants judged.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Findings below this severity are left out (and do not count towards the status).
    pub min_severity: Severity,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            min_severity: Severity::Info,
        }
    }
}

/// The overall verdict: the worst finding shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warning,
    Critical,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
        }
    }

    /// The monitoring-plugin exit code: 0 ok, 1 warning, 2 critical.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
        }
    }
}

/// Host facts as the check document shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostSummary {
    pub hostname: Option<String>,
    pub kernel: Option<String>,
    pub uptime_s: Option<f64>,
    pub cpus: Option<u32>,
    pub mem_bytes: Option<u64>,
    /// The namespace looked at: its name (`--netns`), `pid:N` (`--pid`), or `net:[INODE]`.
    pub netns: Option<String>,
}

impl HostSummary {
    fn new(host: &HostFacts, origin: &Origin) -> Self {
        let netns = match origin {
            Origin::Netns { name } => Some(name.clone()),
            Origin::Pid { pid } => Some(format!("pid:{pid}")),
            _ => host.netns_inode.map(|i| format!("net:[{i}]")),
        };
        HostSummary {
            hostname: host.hostname.clone(),
            kernel: host.kernel.clone(),
            uptime_s: host.uptime_s,
            cpus: host.cpus,
            mem_bytes: host.mem_bytes,
            netns,
        }
    }
}

/// A source that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unavailable {
    pub source: String,
    pub reason: String,
}

/// Everything `check` concluded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub schema: &'static str,
    pub host: HostSummary,
    /// Where the data came from ("live host", "network namespace blue", "captured tree DIR").
    pub source: String,
    /// Seconds between the two samples; None when only lifetime totals were judged.
    pub window_s: Option<f64>,
    pub status: Status,
    /// Sorted: severity (critical first), then weight.
    pub findings: Vec<Finding>,
    pub not_evaluated: Vec<NotEvaluated>,
    pub unavailable: Vec<Unavailable>,
}

impl CheckReport {
    /// The process exit code (0 ok, 1 warning, 2 critical).
    pub fn exit_code(&self) -> i32 {
        self.status.exit_code()
    }
}

/// Runs every rule over the window and builds the report.
pub fn run_check(window: &Window, options: &CheckOptions) -> CheckReport {
    let mut findings = Vec::new();
    let mut not_evaluated = Vec::new();
    for rule in rules::RULES {
        match (rule.evaluate)(window) {
            RuleOutcome::Evaluated(found) => findings.extend(found),
            RuleOutcome::NotEvaluated { missing } => not_evaluated.push(NotEvaluated {
                rule: rule.id.to_string(),
                missing,
            }),
        }
    }
    let audit = rules::sysctl_findings(window.after);
    merge_findings(&mut findings, audit.findings);
    not_evaluated.extend(audit.not_evaluated);
    cross_reference(&mut findings);
    findings.retain(|f| f.severity >= options.min_severity);
    Finding::sort(&mut findings);
    let status = match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Critical) => Status::Critical,
        Some(Severity::Warning) => Status::Warning,
        _ => Status::Ok,
    };
    let unavailable = window
        .after
        .sources
        .iter()
        .filter_map(|s| {
            s.missing_reason().map(|reason| Unavailable {
                source: s.name.clone(),
                reason: reason.to_string(),
            })
        })
        .collect();
    CheckReport {
        schema: CHECK_SCHEMA,
        host: HostSummary::new(&window.after.host, &window.after.origin),
        source: describe_source(window),
        window_s: window.elapsed_s(),
        status,
        findings,
        not_evaluated,
        unavailable,
    }
}

/// Where the window's data came from: the later sample's origin, and for two samples of
/// different origins (two dated pastes) both, earlier first.
fn describe_source(window: &Window) -> String {
    let after = window.after.origin.describe();
    match window.before.map(|b| b.origin.describe()) {
        Some(before) if before != after => format!("{before}, then {after}"),
        _ => after,
    }
}

/// Adds findings from another producer (the sysctl audit). A finding whose id a counter rule
/// already produced is folded into it: the higher severity wins, evidence about things not
/// already shown and new references are appended; the counter rule's text (summary,
/// explanation, remedy, notes) was written for the combined story and stays as it is.
pub fn merge_findings(findings: &mut Vec<Finding>, extra: Vec<Finding>) {
    for other in extra {
        match findings.iter_mut().find(|f| f.id == other.id) {
            Some(existing) => {
                existing.severity = existing.severity.max(other.severity);
                for evidence in other.evidence {
                    if !existing.evidence.iter().any(|e| same_subject(e, &evidence)) {
                        existing.evidence.push(evidence);
                    }
                }
                for reference in other.references {
                    if !existing.references.contains(&reference) {
                        existing.references.push(reference);
                    }
                }
            }
            None => findings.push(other),
        }
    }
}

/// True when two pieces of evidence are about the same thing (one counter, one sysctl key,
/// one socket, one fact): the second is then redundant.
fn same_subject(a: &Evidence, b: &Evidence) -> bool {
    match (a, b) {
        (Evidence::Counter { name: x, .. }, Evidence::Counter { name: y, .. }) => x == y,
        (Evidence::Sysctl { key: x, .. }, Evidence::Sysctl { key: y, .. }) => x == y,
        (Evidence::Socket { local: x, .. }, Evidence::Socket { local: y, .. }) => x == y,
        (Evidence::Fact { label: x, .. }, Evidence::Fact { label: y, .. }) => x == y,
        _ => false,
    }
}

/// Findings that a named cause explains point to it: with a `tw-recycle` finding, the
/// unexplained ListenDrops and the invalid SYN cookies get a note naming it.
fn cross_reference(findings: &mut [Finding]) {
    let tw_recycle_found = findings
        .iter()
        .any(|f| f.id == "tw-recycle" && f.severity > Severity::Info);
    if !tw_recycle_found {
        return;
    }
    for f in findings.iter_mut() {
        if f.id == "listen-drops-unexplained" || f.id == "syncookies-failed" {
            f.caveats.insert(
                0,
                "Likely caused by tcp_tw_recycle: see the tw-recycle finding.".to_string(),
            );
        }
    }
}
