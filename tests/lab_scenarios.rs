//! End-to-end tests of `netdoctor lab` and, through it, of `netdoctor check` on the real
//! kernel: every scenario builds its condition in fresh network namespaces, and the test
//! asserts that the kernel condition appeared (its counters moved) and that `check` ended in
//! the scenario's finding, severity and evidence. Root only; each test prints
//! `SKIP <test>: <reason>` and returns otherwise, and a scenario this machine cannot build is
//! reported as skipped, with the reason, not as passed silently.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netdoctor::lab::check::evidence_matches;
use netdoctor::lab::scenarios;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_netdoctor");

/// Whether `check` must have produced a result: it must, now that `netdoctor check` exists (set
/// it to false only to develop a scenario while check is broken).
const CHECK_REQUIRED: bool = true;

/// Prints a line that cargo's output capture does not swallow, so skips are visible in every
/// test run, not only with --nocapture.
fn visible(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// None when the lab can run here, else why not.
fn lab_unavailable() -> Option<String> {
    if !netdoctor::lab::run::running_as_root() {
        return Some("needs root (creates network namespaces)".into());
    }
    let ip = Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !ip.is_ok_and(|s| s.success()) {
        return Some("needs the ip tool (iproute2)".into());
    }
    None
}

/// Runs one scenario and checks everything it must show.
fn scenario(name: &str) {
    let test = format!("lab_{}", name.replace('-', "_"));
    if let Some(reason) = lab_unavailable() {
        visible(&format!("SKIP {test}: {reason}"));
        return;
    }
    let expected = scenarios::find(name).expect("the scenario is in the catalogue");
    let output = Command::new(BIN)
        .args(["lab", "run", name, "--json"])
        .stdin(Stdio::null())
        .output()
        .expect("netdoctor runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{test}: lab run printed no JSON ({e}); exit {:?}, stderr: {stderr}",
            output.status.code()
        )
    });
    assert_eq!(report["schema"], "netdoctor.lab/v1");
    let outcome = report["outcome"].as_str().unwrap_or("");
    if outcome == "skipped" {
        visible(&format!(
            "SKIP {test}: cannot run on this machine: {}",
            report["skip_reason"].as_str().unwrap_or("no reason given")
        ));
        return;
    }
    assert!(
        report["duration_s"].as_f64().unwrap_or(99.0) <= 20.0,
        "{test}: a run is bounded by 20 s"
    );

    // The real kernel condition.
    let notes = report["condition_notes"].to_string();
    assert_eq!(
        report["condition_reproduced"], true,
        "{test}: the kernel condition did not appear: {notes}\ncounters: {}",
        report["counters"]
    );
    println!("{test}: condition reproduced: {notes}");

    // check's conclusion, asserted here independently of the lab's own verdict.
    let check = &report["check"];
    if check.is_null() {
        let why = report["check_error"].as_str().unwrap_or("no reason given");
        if CHECK_REQUIRED {
            panic!("{test}: check gave no result: {why}\nstderr: {stderr}");
        }
        visible(&format!(
            "{test}: finding assertions not run: check gave no result ({why})"
        ));
        return;
    }
    assert_eq!(check["schema"], "netdoctor.check/v1");
    assert_eq!(
        check["status"].as_str(),
        Some(expected.status.as_str()),
        "{test}: check status; findings: {}",
        check["findings"]
    );
    let findings = check["findings"].as_array().cloned().unwrap_or_default();
    if let Some((id, severity)) = expected.finding {
        let finding = findings
            .iter()
            .find(|f| f["id"] == id)
            .unwrap_or_else(|| panic!("{test}: no {id} finding in {}", check["findings"]));
        assert_eq!(
            finding["severity"].as_str(),
            Some(severity.as_str()),
            "{test}: severity of {id}"
        );
        let evidence = finding["evidence"].as_array().cloned().unwrap_or_default();
        for want in expected.evidence {
            assert!(
                evidence.iter().any(|e| evidence_matches(e, want)),
                "{test}: {id} evidence lacks {want:?}: {}",
                finding["evidence"]
            );
        }
    } else {
        let loud: Vec<&Value> = findings
            .iter()
            .filter(|f| f["severity"] != "info")
            .collect();
        assert!(
            loud.is_empty(),
            "{test}: expected no warnings, got {loud:?}"
        );
    }
    assert_eq!(
        outcome, "proved",
        "{test}: lab verdict {}",
        report["differences"]
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{test}: exit code of a proved run"
    );
}

#[test]
fn lab_listen_overflow() {
    scenario("listen-overflow");
}

#[test]
fn lab_syn_queue_overflow() {
    scenario("syn-queue-overflow");
}

#[test]
fn lab_syn_flood() {
    scenario("syn-flood");
}

#[test]
fn lab_rcvbuf_pressure() {
    scenario("rcvbuf-pressure");
}

#[test]
fn lab_udp_rcvbuf_errors() {
    scenario("udp-rcvbuf-errors");
}

#[test]
fn lab_port_exhaustion() {
    scenario("port-exhaustion");
}

#[test]
fn lab_timewait_overflow() {
    scenario("timewait-overflow");
}

#[test]
fn lab_conntrack_full() {
    scenario("conntrack-full");
}

#[test]
fn lab_rp_filter_drops() {
    scenario("rp-filter-drops");
}

#[test]
fn lab_softnet_drops() {
    scenario("softnet-drops");
}

#[test]
fn lab_healthy() {
    scenario("healthy");
}

#[test]
fn every_scenario_has_a_test() {
    let source = include_str!("lab_scenarios.rs");
    for s in scenarios::SCENARIOS {
        let call = format!("scenario(\"{}\")", s.name);
        assert!(source.contains(&call), "no test runs scenario {}", s.name);
    }
}

#[test]
fn lab_list_json_names_every_scenario() {
    let output = Command::new(BIN)
        .args(["lab", "list", "--json"])
        .output()
        .expect("netdoctor runs");
    assert!(output.status.success());
    let doc: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(doc["schema"], "netdoctor.lab-list/v1");
    let names: Vec<&str> = doc["scenarios"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names.len(), scenarios::SCENARIOS.len());
    assert!(names.contains(&"healthy"));
}

#[test]
fn unknown_scenario_is_an_error() {
    let output = Command::new(BIN)
        .args(["lab", "run", "no-such-thing"])
        .output()
        .expect("netdoctor runs");
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("lab list"));
}

fn namespace_exists(name: &str) -> bool {
    Path::new("/run/netns").join(name).exists()
}

/// Lab namespaces whose name says they belong to `pid`.
fn namespaces_of(pid: u32) -> Vec<String> {
    let prefix = format!("netdoctor-lab-{pid}-");
    std::fs::read_dir("/run/netns")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn ctrl_c_removes_the_namespaces() {
    if let Some(reason) = lab_unavailable() {
        visible(&format!("SKIP ctrl_c_removes_the_namespaces: {reason}"));
        return;
    }
    let mut child = Command::new(BIN)
        .args(["lab", "run", "healthy", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netdoctor runs");
    let pid = child.id();
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < Duration::from_secs(10) && seen.is_empty() {
        seen = namespaces_of(pid);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!seen.is_empty(), "the run created no namespace");
    std::thread::sleep(Duration::from_millis(300));
    let sent = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = child.wait().expect("the run ends");
    assert_eq!(status.code(), Some(3), "an interrupted run exits 3");
    for name in &seen {
        assert!(!namespace_exists(name), "{name} left behind after Ctrl-C");
    }
}

#[test]
fn clean_removes_leftovers_of_a_dead_run() {
    if let Some(reason) = lab_unavailable() {
        visible(&format!(
            "SKIP clean_removes_leftovers_of_a_dead_run: {reason}"
        ));
        return;
    }
    // A pid above the largest possible pid_max: its run is certainly gone.
    let name = format!("netdoctor-lab-4194305-cleantest-{}", std::process::id());
    let added = Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .expect("ip runs");
    assert!(added.success());
    let mut sleeper = Command::new("ip")
        .args(["netns", "exec", &name, "sleep", "30"])
        .spawn()
        .expect("sleep starts in the namespace");
    std::thread::sleep(Duration::from_millis(100));
    let output = Command::new(BIN)
        .args(["lab", "clean"])
        .output()
        .expect("netdoctor runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let gone = !namespace_exists(&name);
    if !gone {
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
    }
    let _ = sleeper.kill();
    let status = sleeper.wait().expect("sleep reaped");
    assert!(output.status.success(), "lab clean failed: {text}");
    assert!(gone, "lab clean left {name}: {text}");
    assert!(
        text.contains(&name),
        "lab clean names what it removed: {text}"
    );
    assert!(!status.success(), "the process inside was killed");
}
