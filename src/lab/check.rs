//! Reading what `netdoctor check --json` concluded (`netdoctor.check/v1`) and comparing it with
//! what a scenario must end in.
//!
//! The document is kept as JSON (it goes into `lab run --json` whole) and read through a few
//! tolerant accessors, so a field `check` adds later never breaks the lab.

use serde_json::Value;

use super::scenarios::{EvidenceWant, Scenario};

/// Schema id `check --json` writes.
pub const CHECK_SCHEMA: &str = "netdoctor.check/v1";

/// A finding as the lab needs it: id, severity and the evidence entries.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenFinding {
    pub id: String,
    pub severity: String,
    pub title: String,
    pub summary: String,
    pub evidence: Vec<Value>,
}

/// The parts of a check document the lab reads.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSummary {
    pub status: String,
    pub findings: Vec<SeenFinding>,
}

/// Reads the status and findings; Err says what the document lacked.
pub fn summarize(doc: &Value) -> Result<CheckSummary, String> {
    let schema = doc.get("schema").and_then(Value::as_str).unwrap_or("");
    if schema != CHECK_SCHEMA {
        return Err(format!(
            "check printed schema {schema:?}, not {CHECK_SCHEMA}"
        ));
    }
    let status = doc
        .get("status")
        .and_then(Value::as_str)
        .ok_or("check JSON has no status")?
        .to_string();
    let text = |f: &Value, key: &str| f.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let findings = doc
        .get("findings")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|f| SeenFinding {
                    id: text(f, "id"),
                    severity: text(f, "severity"),
                    title: text(f, "title"),
                    summary: text(f, "summary"),
                    evidence: f
                        .get("evidence")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(CheckSummary { status, findings })
}

/// True when one evidence entry satisfies `want`.
pub fn evidence_matches(entry: &Value, want: &EvidenceWant) -> bool {
    let field = |key: &str| entry.get(key).and_then(Value::as_str);
    match want {
        EvidenceWant::Counter(name) => {
            field("kind") == Some("counter") && field("name") == Some(name)
        }
        EvidenceWant::Sysctl(key) => field("kind") == Some("sysctl") && field("key") == Some(key),
        EvidenceWant::Mentions(text) => entry.to_string().contains(text),
    }
}

/// How an evidence requirement reads to a person.
pub fn describe_want(want: &EvidenceWant) -> String {
    match want {
        EvidenceWant::Counter(name) => format!("counter {name}"),
        EvidenceWant::Sysctl(key) => format!("sysctl {key}"),
        EvidenceWant::Mentions(text) => format!("evidence naming {text}"),
    }
}

/// Compares check's conclusion with the scenario's expectation; returns the differences (empty
/// when check concluded exactly what the scenario must end in).
pub fn differences(scenario: &Scenario, seen: &CheckSummary) -> Vec<String> {
    let mut problems = Vec::new();
    if seen.status != scenario.status.as_str() {
        problems.push(format!(
            "status is {}, expected {}",
            seen.status,
            scenario.status.as_str()
        ));
    }
    if let Some((id, severity)) = scenario.finding {
        match seen.findings.iter().find(|f| f.id == id) {
            None => {
                let ids: Vec<&str> = seen.findings.iter().map(|f| f.id.as_str()).collect();
                problems.push(format!(
                    "no {id} finding (check found: {})",
                    if ids.is_empty() {
                        "nothing".to_string()
                    } else {
                        ids.join(", ")
                    }
                ));
            }
            Some(finding) => {
                if finding.severity != severity.as_str() {
                    problems.push(format!(
                        "{id} has severity {}, expected {}",
                        finding.severity,
                        severity.as_str()
                    ));
                }
                for want in scenario.evidence {
                    if !finding.evidence.iter().any(|e| evidence_matches(e, want)) {
                        problems.push(format!("{id} evidence lacks {}", describe_want(want)));
                    }
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::scenarios::find;
    use serde_json::json;

    fn doc(status: &str, findings: Value) -> Value {
        json!({"schema": CHECK_SCHEMA, "status": status, "findings": findings})
    }

    #[test]
    fn a_matching_finding_has_no_differences() {
        let scenario = find("listen-overflow").expect("scenario exists");
        let seen = summarize(&doc(
            "critical",
            json!([{"id": "listen-overflow", "severity": "critical", "evidence": [
                {"kind": "counter", "name": "TcpExtListenOverflows", "total": 5, "delta": 5, "per_second": 1.0},
                {"kind": "socket", "local": "127.0.0.1:8080", "queue": 5, "backlog": 4}
            ]}]),
        ))
        .expect("valid document");
        assert!(differences(scenario, &seen).is_empty());
    }

    #[test]
    fn missing_finding_and_evidence_are_named() {
        let scenario = find("listen-overflow").expect("scenario exists");
        let seen = summarize(&doc("ok", json!([]))).expect("valid document");
        let problems = differences(scenario, &seen);
        assert_eq!(problems.len(), 2, "{problems:?}");
        let seen = summarize(&doc(
            "critical",
            json!([{"id": "listen-overflow", "severity": "warning", "evidence": []}]),
        ))
        .expect("valid document");
        let problems = differences(scenario, &seen);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn wrong_schema_is_an_error() {
        assert!(summarize(&json!({"schema": "x"})).is_err());
        assert!(summarize(&json!([])).is_err());
    }
}
