//! Findings: the named conclusions analysis draws, with their evidence and remedies.
//!
//! One shape serves `check`, `sysctl` and `lab`: an id from the knowledge base, a severity, a
//! one-line title, a plain-words summary, the evidence it rests on, why it happens, what to do
//! and references. Rules build Findings; renderers print them and never decide anything.

use serde::{Deserialize, Serialize};

use crate::snapshot::CounterValue;

/// How bad a finding is. Ordered: `Info < Warning < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Parses "info", "warning"/"warn", "critical"/"crit".
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "critical" | "crit" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A named conclusion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id, also the knowledge-base key for `explain` (`listen-overflow`, `tw-recycle`).
    pub id: String,
    pub severity: Severity,
    /// One line: what is wrong.
    pub title: String,
    /// What is happening, in plain words, with the key numbers.
    pub summary: String,
    /// What the conclusion rests on.
    pub evidence: Vec<Evidence>,
    /// Why it happens (the mechanism).
    #[serde(default)]
    pub explanation: String,
    /// What to do: exact commands, the file to edit.
    pub remedy: Vec<String>,
    /// Where to read more.
    #[serde(default)]
    pub references: Vec<String>,
    /// Ordering weight within a severity (higher first): rules set it from the size of the
    /// problem so that the worst of several warnings comes first.
    #[serde(default)]
    pub weight: f64,
    /// Caveats the conclusion depends on ("kernel version unknown: ...").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A kernel counter: its total, and over the window its delta and per-second rate (None
    /// when not measured: never invent a rate).
    Counter {
        name: String,
        total: CounterValue,
        delta: Option<CounterValue>,
        per_second: Option<f64>,
        /// Lifetime average per second (total / uptime), when the uptime is known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since_boot_per_second: Option<f64>,
    },
    /// A sysctl setting, and the file and line that set it when known.
    Sysctl {
        key: String,
        value: Option<String>,
        file: Option<String>,
        line: Option<usize>,
    },
    /// A socket (typically a listener).
    Socket {
        local: String,
        queue: Option<u64>,
        backlog: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        capped_by_somaxconn: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        process: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// Any other fact (a gauge, the kernel version, a destination's port use).
    Fact { label: String, value: String },
}

impl Finding {
    /// Sort key: severity first (critical first), then weight (higher first), then id.
    pub fn sort(findings: &mut [Finding]) {
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| b.weight.total_cmp(&a.weight))
                .then_with(|| a.id.cmp(&b.id))
        });
    }
}

/// A rule that could not be evaluated, and what it lacked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEvaluated {
    pub rule: String,
    pub missing: String,
}
