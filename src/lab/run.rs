//! One lab run, start to finish: preflight (root, tools), namespaces and wiring, the driver,
//! `check` while the traffic flows, the counters before and after, the verdict, and cleanup on
//! every path (the namespace guards remove everything when they drop, and the wait loops stop
//! at once on Ctrl-C).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::check::{self, CheckSummary};
use super::counters::{self, CounterMove, CounterReading};
use super::drivers::{DriverStats, MAIN_ADDR_1, MAIN_ADDR_2, PEER_ADDR_1, PEER_ADDR_2};
use super::netns::{self, LabNamespace};
use super::scenarios::{Requirement, Scenario, Topology};
use super::{LAB_SCHEMA, LabError};
use crate::collect::sys::interrupt::interrupted;

/// The bound on a whole run.
pub const RUN_LIMIT: Duration = Duration::from_secs(20);
/// The files read inside the namespace before and after the traffic.
const COUNTER_FILES: &[&str] = &["/proc/net/snmp", "/proc/net/netstat"];

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The condition was built and `check` concluded exactly what the scenario expects.
    Proved,
    /// The condition was built but `check` concluded something else.
    Missed,
    /// The kernel condition did not appear (the counters that must move did not).
    NotReproduced,
    /// The condition was built but `check` gave no usable result.
    CheckUnavailable,
    /// The scenario cannot run on this machine; `skip_reason` says why.
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Proved => "proved",
            Outcome::Missed => "missed",
            Outcome::NotReproduced => "not_reproduced",
            Outcome::CheckUnavailable => "check_unavailable",
            Outcome::Skipped => "skipped",
        }
    }
}

/// What the scenario must end in, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Expected {
    pub finding: Option<String>,
    pub severity: Option<String>,
    pub status: String,
    pub evidence: Vec<String>,
    pub counters_rise: Vec<(String, i128)>,
}

/// Everything a run produced (`lab run --json`, schema `netdoctor.lab/v1`).
#[derive(Debug, Clone, Serialize)]
pub struct LabReport {
    pub schema: &'static str,
    pub scenario: String,
    pub title: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    pub namespaces: Vec<String>,
    pub kept: bool,
    pub steps: Vec<String>,
    pub driver: Option<DriverStats>,
    /// Watched counters first, then every other counter that changed.
    pub counters: Vec<CounterMove>,
    /// Whether the real kernel condition appeared, and the evidence for it.
    pub condition_reproduced: bool,
    pub condition_notes: Vec<String>,
    pub expected: Expected,
    /// How check's conclusion differs from the expectation (empty when proved).
    pub differences: Vec<String>,
    /// The whole `check --json` document.
    pub check: Option<Value>,
    pub check_exit_code: Option<i32>,
    pub check_error: Option<String>,
    pub lesson: String,
    pub duration_s: f64,
    /// Lab namespaces of earlier runs that have ended (crashed, or kept with --keep).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leftovers: Vec<String>,
}

impl LabReport {
    /// An empty report of a scenario (outcome `skipped` until a run fills it in).
    pub fn new(scenario: &Scenario) -> Self {
        LabReport {
            schema: LAB_SCHEMA,
            scenario: scenario.name.to_string(),
            title: scenario.title.to_string(),
            outcome: Outcome::Skipped,
            skip_reason: None,
            namespaces: Vec::new(),
            kept: false,
            steps: scenario.steps.iter().map(|s| s.to_string()).collect(),
            driver: None,
            counters: Vec::new(),
            condition_reproduced: false,
            condition_notes: Vec::new(),
            expected: Expected {
                finding: scenario.finding.map(|(id, _)| id.to_string()),
                severity: scenario.finding.map(|(_, s)| s.as_str().to_string()),
                status: scenario.status.as_str().to_string(),
                evidence: scenario.evidence.iter().map(check::describe_want).collect(),
                counters_rise: scenario
                    .counters_rise
                    .iter()
                    .map(|(n, d)| (n.to_string(), *d))
                    .collect(),
            },
            differences: Vec::new(),
            check: None,
            check_exit_code: None,
            check_error: None,
            lesson: scenario.lesson.to_string(),
            duration_s: 0.0,
            leftovers: Vec::new(),
        }
    }
}

/// Options of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Leave the namespaces in place afterwards.
    pub keep: bool,
    /// The netdoctor binary to run as driver and as `check`.
    pub exe: PathBuf,
}

/// True when this process runs with effective uid 0 (from /proc/self/status).
pub fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// True when `program --version`-like probing succeeds.
fn tool_works(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Checks root and the `ip` tool: what every run needs.
pub fn preflight() -> Result<(), LabError> {
    if !running_as_root() {
        return Err(LabError::NotRoot);
    }
    if !tool_works("ip", "-V") {
        return Err(LabError::MissingTool {
            tool: "ip",
            package: "iproute2",
        });
    }
    Ok(())
}

/// Runs one scenario. Errors are for runs that could not be carried out; a scenario this
/// machine cannot build returns a report with outcome `skipped`.
pub fn run_scenario(scenario: &Scenario, options: &RunOptions) -> Result<LabReport, LabError> {
    let started = Instant::now();
    let deadline = started + RUN_LIMIT;
    preflight()?;
    let mut report = LabReport::new(scenario);
    report.leftovers = netns::lab_namespaces()
        .into_iter()
        .filter(|name| !netns::owner_alive(name))
        .collect();

    for requirement in scenario.requirements {
        match requirement {
            Requirement::Unreachable(why) => {
                report.skip_reason = Some(why.to_string());
                return Ok(report);
            }
            Requirement::Nft if !tool_works("nft", "--version") => {
                report.skip_reason =
                    Some("needs the nft tool (package nftables), which is not installed".into());
                return Ok(report);
            }
            _ => {}
        }
    }

    // Namespaces and wiring. The guards remove them on every early return.
    let mut main = LabNamespace::create(scenario.name)?;
    report.namespaces.push(main.name().to_string());
    let mut peer = None;
    if scenario.topology == Topology::TwoLinks {
        let p = LabNamespace::create(&format!("{}-peer", scenario.name))?;
        report.namespaces.push(p.name().to_string());
        wire_two_links(&main, &p)?;
        for (key, value) in scenario.peer_sysctls {
            p.sysctl(key, value)?;
        }
        peer = Some(p);
    }
    if let Some(script) = scenario.nft {
        main.nft(script)?;
    }
    for requirement in scenario.requirements {
        if let Requirement::WritableSysctl {
            key,
            value,
            why_not,
        } = requirement
            && let Err(e) = main.sysctl(key, value)
        {
            report.skip_reason = Some(format!("{why_not} ({e})"));
            report.duration_s = started.elapsed().as_secs_f64();
            return Ok(report);
        }
    }
    for (key, value) in scenario.sysctls {
        main.sysctl(key, value)?;
    }

    // The driver, in the peer namespace when there is one.
    let driver_ns = peer.as_ref().unwrap_or(&main);
    let mut driver = Driver::start(driver_ns, &options.exe, scenario.name)?;
    driver.wait_for(
        "ready",
        deadline.min(Instant::now() + Duration::from_secs(5)),
    )?;

    let before = read_counters(&main)?;
    let mut check_child = CheckChild::start(&options.exe, main.name(), scenario.window_s)?;
    pause(Duration::from_millis(300))?;
    driver.send("go")?;
    let done = driver.wait_for("done", deadline)?;
    let stats: Option<DriverStats> = serde_json::from_str(done.trim()).ok();
    let check_result = check_child.finish(deadline)?;
    let after = read_counters(&main)?;
    driver.stop();

    report.counters = counters::moves(&before, &after, scenario.watch);
    judge_condition(scenario, &before, &after, stats.as_ref(), &mut report);
    report.driver = stats;
    match check_result {
        CheckResult::Json { doc, exit_code } => {
            report.check_exit_code = Some(exit_code);
            match check::summarize(&doc) {
                Ok(summary) => judge_check(scenario, &summary, &mut report),
                Err(e) => {
                    report.check_error = Some(e);
                    report.outcome = Outcome::CheckUnavailable;
                }
            }
            report.check = Some(doc);
        }
        CheckResult::Failed { exit_code, message } => {
            report.check_exit_code = exit_code;
            report.check_error = Some(message);
            report.outcome = Outcome::CheckUnavailable;
        }
    }
    if !report.condition_reproduced && report.outcome != Outcome::Proved {
        report.outcome = Outcome::NotReproduced;
    }

    if options.keep {
        main.keep();
        if let Some(p) = peer.as_mut() {
            p.keep();
        }
        report.kept = true;
    } else {
        if let Some(mut p) = peer.take() {
            p.remove()?;
        }
        main.remove()?;
    }
    report.duration_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Checks that the counters that must move did, and the driver met the error it must meet.
fn judge_condition(
    scenario: &Scenario,
    before: &CounterReading,
    after: &CounterReading,
    stats: Option<&DriverStats>,
    report: &mut LabReport,
) {
    let mut reproduced = true;
    for (name, minimum) in scenario.counters_rise {
        let delta =
            after.get(*name).copied().unwrap_or(0) - before.get(*name).copied().unwrap_or(0);
        let ok = delta >= *minimum;
        reproduced &= ok;
        report.condition_notes.push(format!(
            "{name} rose by {delta} ({} {minimum})",
            if ok { "at least" } else { "expected at least" }
        ));
    }
    if let Some(error) = scenario.driver_error {
        let count = stats
            .and_then(|s| s.errors.get(error).copied())
            .unwrap_or(0);
        reproduced &= count > 0;
        report
            .condition_notes
            .push(format!("the traffic met {error} {count} times"));
    }
    report.condition_reproduced = reproduced;
}

fn judge_check(scenario: &Scenario, summary: &CheckSummary, report: &mut LabReport) {
    report.differences = check::differences(scenario, summary);
    report.outcome = if report.differences.is_empty() {
        Outcome::Proved
    } else {
        Outcome::Missed
    };
}

/// Two veth links between the namespaces: main .1.2/.2.2, peer .1.1/.2.1.
fn wire_two_links(main: &LabNamespace, peer: &LabNamespace) -> Result<(), LabError> {
    let links = [
        ("nd-m1", MAIN_ADDR_1, "nd-p1", PEER_ADDR_1),
        ("nd-m2", MAIN_ADDR_2, "nd-p2", PEER_ADDR_2),
    ];
    for (main_if, main_addr, peer_if, peer_addr) in links {
        netns::veth_pair(main, main_if, peer, peer_if)?;
        main.ip(&["addr", "add", &format!("{main_addr}/24"), "dev", main_if])?;
        peer.ip(&["addr", "add", &format!("{peer_addr}/24"), "dev", peer_if])?;
        main.ip(&["link", "set", main_if, "up"])?;
        peer.ip(&["link", "set", peer_if, "up"])?;
    }
    Ok(())
}

fn read_counters(ns: &LabNamespace) -> Result<CounterReading, LabError> {
    let text = ns.read_files(COUNTER_FILES)?;
    Ok(counters::parse_counter_pairs(&text).0)
}

/// Sleeps, waking early (with an error) on Ctrl-C.
fn pause(duration: Duration) -> Result<(), LabError> {
    let end = Instant::now() + duration;
    while Instant::now() < end {
        if interrupted() {
            return Err(LabError::Interrupted);
        }
        std::thread::sleep(Duration::from_millis(20).min(end - Instant::now()));
    }
    Ok(())
}

/// A child process killed and reaped when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// The traffic driver process and its line protocol.
struct Driver {
    child: ChildGuard,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Receiver<String>,
}

impl Driver {
    fn start(ns: &LabNamespace, exe: &Path, scenario: &str) -> Result<Self, LabError> {
        let exe = exe.to_string_lossy();
        let mut child = ns
            .command(&exe, &["lab", "drive", scenario])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| LabError::spawn("the traffic driver", e))?;
        let stdin = child.stdin.take();
        let (tx, lines) = channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stderr = read_all_in_background(child.stderr.take());
        Ok(Driver {
            child: ChildGuard(child),
            stdin,
            lines,
            stderr,
        })
    }

    fn send(&mut self, line: &str) -> Result<(), LabError> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| LabError::Driver("its input is closed".into()))?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| LabError::Driver(format!("could not send {line:?}: {e}")))
    }

    /// Waits for a line starting with `word`; returns the rest of it.
    fn wait_for(&mut self, word: &str, deadline: Instant) -> Result<String, LabError> {
        loop {
            if interrupted() {
                return Err(LabError::Interrupted);
            }
            match self.lines.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(word) {
                        return Ok(rest.to_string());
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = self.child.0.wait();
                    if interrupted() {
                        // Ctrl-C reached the driver too (same process group).
                        return Err(LabError::Interrupted);
                    }
                    let detail = self
                        .stderr
                        .recv_timeout(Duration::from_secs(1))
                        .unwrap_or_default();
                    return Err(LabError::Driver(format!(
                        "ended before saying {word:?}: {}",
                        detail.trim()
                    )));
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if Instant::now() >= deadline {
                        return Err(LabError::Timeout(format!(
                            "the driver did not say {word:?}"
                        )));
                    }
                }
            }
        }
    }

    /// Closes its input (it then releases everything and exits) and reaps it.
    fn stop(&mut self) {
        self.stdin = None;
        let end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Reads a pipe to its end on a thread; the whole text arrives on the channel.
fn read_all_in_background<R: Read + Send + 'static>(pipe: Option<R>) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        let _ = tx.send(text);
    });
    rx
}

/// What `check` gave back.
enum CheckResult {
    Json {
        doc: Value,
        exit_code: i32,
    },
    Failed {
        exit_code: Option<i32>,
        message: String,
    },
}

/// `netdoctor check --netns NS --json --interval N`, running beside the traffic.
struct CheckChild {
    child: ChildGuard,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl CheckChild {
    fn start(exe: &Path, netns: &str, interval_s: u32) -> Result<Self, LabError> {
        let mut child = Command::new(exe)
            .args(["check", "--netns", netns, "--json", "--interval"])
            .arg(interval_s.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| LabError::spawn("netdoctor check", e))?;
        let stdout = read_all_in_background(child.stdout.take());
        let stderr = read_all_in_background(child.stderr.take());
        Ok(CheckChild {
            child: ChildGuard(child),
            stdout,
            stderr,
        })
    }

    fn finish(&mut self, deadline: Instant) -> Result<CheckResult, LabError> {
        let status = loop {
            if interrupted() {
                return Err(LabError::Interrupted);
            }
            match self.child.0.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    return Err(LabError::Timeout("netdoctor check did not finish".into()));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(LabError::spawn("netdoctor check", e)),
            }
        };
        if interrupted() {
            return Err(LabError::Interrupted);
        }
        let stdout = self
            .stdout
            .recv_timeout(Duration::from_secs(2))
            .unwrap_or_default();
        let stderr = self
            .stderr
            .recv_timeout(Duration::from_secs(2))
            .unwrap_or_default();
        let exit_code = status.code();
        match serde_json::from_str::<Value>(&stdout) {
            Ok(doc) if matches!(exit_code, Some(0..=2)) => Ok(CheckResult::Json {
                doc,
                exit_code: exit_code.unwrap_or(3),
            }),
            _ => Ok(CheckResult::Failed {
                exit_code,
                message: first_line_or(&stderr, "netdoctor check printed no JSON"),
            }),
        }
    }
}

fn first_line_or(text: &str, fallback: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .map_or_else(|| fallback.to_string(), |l| l.trim().to_string())
}

/// What `lab clean` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CleanReport {
    pub removed: Vec<String>,
    /// Namespaces left alone because the run that made them is still going.
    pub skipped_live: Vec<String>,
    pub failed: Vec<(String, String)>,
}

/// Removes lab namespaces (and their processes) whose run has ended; with `all`, also those of
/// runs still going.
pub fn clean(all: bool) -> Result<CleanReport, LabError> {
    preflight()?;
    let mut report = CleanReport::default();
    for name in netns::lab_namespaces() {
        if !all && netns::owner_alive(&name) {
            report.skipped_live.push(name);
            continue;
        }
        match netns::remove_namespace(&name) {
            Ok(()) => report.removed.push(name),
            Err(e) => report.failed.push((name, crate::collect::error_chain(&e))),
        }
    }
    Ok(report)
}
