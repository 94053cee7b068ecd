//! Benchmark of `netdoctor sockets` against `ss` with 50,000 TCP sockets in a network
//! namespace (root only; prints SKIP otherwise).
//!
//! Builds the namespace, starts bounded holder processes (tests/support/sockhold.py): one with
//! five listeners (backlog 65535, never accepting), two opening 10,000 connections each to
//! them (40,000 established sockets: both ends of every connection), and one leaving 10,000
//! client-side TIME_WAIT sockets. Then runs hyperfine inside the namespace:
//! `netdoctor sockets --json` vs `ss -tan`, and `netdoctor sockets --listen --json` vs
//! `ss -ltn`, and prints the medians and ratios (targets: ≤ 0.6 and ≤ 0.5). Holders are
//! killed and the namespace removed at the end, also on failure.
//!
//! Run: `cargo bench --bench sockets` (uses the release binary cargo builds for benches).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const HOLDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/sockhold.py");
const NETDOCTOR: &str = env!("CARGO_BIN_EXE_netdoctor");
const RUNS: &str = "10";
const ROUNDS: usize = 3;

struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

struct Holder(Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tool_missing(tool: &str) -> bool {
    !Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn sh(program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn start_holder(ns: &str, ops: &[&str]) -> Result<Holder, String> {
    let child = Command::new("ip")
        .args(["netns", "exec", ns, "python3", HOLDER])
        .args(ops)
        .env("HOLD_SECONDS", "150")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("start holder: {e}"))?;
    Ok(Holder(child))
}

fn wait_ready(holder: &mut Holder) -> Result<String, String> {
    let mut line = String::new();
    if let Some(out) = holder.0.stdout.take() {
        BufReader::new(out)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
    }
    if line.starts_with("ready") {
        Ok(line.trim().to_string())
    } else {
        Err(format!("holder not ready: {line:?}"))
    }
}

/// Median wall time in seconds of each command in a hyperfine JSON export.
fn medians(json: &str) -> Result<Vec<(String, f64, f64, f64)>, String> {
    let doc: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let results = doc["results"].as_array().ok_or("no results")?;
    Ok(results
        .iter()
        .map(|r| {
            (
                r["command"].as_str().unwrap_or("?").to_string(),
                r["median"].as_f64().unwrap_or(f64::NAN),
                r["user"].as_f64().unwrap_or(f64::NAN),
                r["system"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect())
}

fn median_of(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn run() -> Result<(), String> {
    let ns = Netns(format!("nd-sockets-bench-{}", std::process::id()));
    sh("ip", &["netns", "add", &ns.0])?;
    sh("ip", &["-n", &ns.0, "link", "set", "lo", "up"])?;
    for setting in [
        "net.core.somaxconn=65535",
        "net.ipv4.ip_local_port_range=10000 65000",
    ] {
        sh("ip", &["netns", "exec", &ns.0, "sysctl", "-qw", setting])?;
    }
    let mut holders = Vec::new();
    let mut listeners = start_holder(
        &ns.0,
        &[
            "L",
            "127.0.0.1",
            "5001",
            "65535",
            "L",
            "127.0.0.1",
            "5002",
            "65535",
            "L",
            "127.0.0.1",
            "5003",
            "65535",
            "L",
            "::1",
            "5004",
            "65535",
            "L",
            "::1",
            "5005",
            "65535",
        ],
    )?;
    eprintln!("listeners: {}", wait_ready(&mut listeners)?);
    holders.push(listeners);
    let mut clients = vec![
        start_holder(&ns.0, &["C", "127.0.0.1", "5001", "10000"])?,
        start_holder(&ns.0, &["C", "127.0.0.1", "5002", "10000"])?,
    ];
    for c in &mut clients {
        eprintln!("clients: {}", wait_ready(c)?);
    }
    holders.extend(clients);
    let mut time_wait = start_holder(&ns.0, &["T", "127.0.0.1", "6000", "10000"])?;
    eprintln!("time-wait: {}", wait_ready(&mut time_wait)?);
    holders.push(time_wait);

    let summary = sh("ip", &["netns", "exec", &ns.0, "ss", "-s"])?;
    let tcp_line = summary
        .lines()
        .find(|l| l.starts_with("TCP:"))
        .unwrap_or("TCP: ?");
    eprintln!("ss -s: {tcp_line}");

    let all_json = format!("{NETDOCTOR} sockets --json");
    let listen_json = format!("{NETDOCTOR} sockets --listen --json");
    // Several short rounds, each timing all four commands: on a shared machine the load
    // changes over a minute, and a ratio taken within one round compares like with like.
    let mut wall_all = Vec::new();
    let mut wall_listen = Vec::new();
    let mut cpu_all = Vec::new();
    let mut cpu_listen = Vec::new();
    let mut last_rows = Vec::new();
    for round in 0..ROUNDS {
        let export = std::env::temp_dir().join(format!(
            "nd-sockets-bench-{}-{round}.json",
            std::process::id()
        ));
        let export_path = export.display().to_string();
        sh(
            "ip",
            &[
                "netns",
                "exec",
                &ns.0,
                "hyperfine",
                "-N",
                "--style",
                "none",
                "--warmup",
                "2",
                "--runs",
                RUNS,
                "--export-json",
                &export_path,
                "ss -tan",
                &all_json,
                "ss -ltn",
                &listen_json,
            ],
        )?;
        let json = std::fs::read_to_string(&export).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&export);
        let rows = medians(&json)?;
        let wall = |i: usize| rows.get(i).map_or(f64::NAN, |r| r.1);
        let cpu = |i: usize| rows.get(i).map_or(f64::NAN, |r| r.2 + r.3);
        wall_all.push(wall(1) / wall(0));
        wall_listen.push(wall(3) / wall(2));
        cpu_all.push(cpu(1) / cpu(0));
        cpu_listen.push(cpu(3) / cpu(2));
        eprintln!(
            "round {round}: wall ratios {:.2} (all) {:.2} (listen)",
            wall(1) / wall(0),
            wall(3) / wall(2)
        );
        last_rows = rows;
    }
    let summary_after = sh("ip", &["netns", "exec", &ns.0, "ss", "-s"])?;
    let tcp_after = summary_after
        .lines()
        .find(|l| l.starts_with("TCP:"))
        .unwrap_or("TCP: ?")
        .to_string();
    println!("sockets in the namespace: before {tcp_line}; after {tcp_after}");
    println!("last round (hyperfine medians of {RUNS} runs; user/sys are means):");
    println!("| command | median wall | user | sys |");
    println!("|---|---|---|---|");
    for (command, median, user, system) in &last_rows {
        let short = command.replace(NETDOCTOR, "netdoctor");
        println!(
            "| `{short}` | {:.1} ms | {:.1} ms | {:.1} ms |",
            median * 1e3,
            user * 1e3,
            system * 1e3
        );
    }
    let all_ratio = median_of(&mut wall_all);
    let listen_ratio = median_of(&mut wall_listen);
    println!(
        "median over {ROUNDS} rounds: `netdoctor sockets --json` / `ss -tan` wall = {all_ratio:.2} \
         (target <= 0.60: {}), CPU (user+sys) = {:.2}",
        if all_ratio <= 0.6 { "PASS" } else { "FAIL" },
        median_of(&mut cpu_all)
    );
    println!(
        "median over {ROUNDS} rounds: `netdoctor sockets --listen --json` / `ss -ltn` wall = \
         {listen_ratio:.2} (target <= 0.50: {}), CPU (user+sys) = {:.2}",
        if listen_ratio <= 0.5 { "PASS" } else { "FAIL" },
        median_of(&mut cpu_listen)
    );
    drop(holders);
    Ok(())
}

fn main() {
    let root = sh("id", &["-u"]).map(|u| u.trim() == "0").unwrap_or(false);
    if !root {
        eprintln!("SKIP sockets bench: needs root (network namespaces)");
        return;
    }
    for tool in ["ip", "ss", "hyperfine", "python3"] {
        if tool_missing(tool) {
            eprintln!("SKIP sockets bench: needs {tool}");
            return;
        }
    }
    if let Err(e) = run() {
        eprintln!("sockets bench failed: {e}");
        std::process::exit(1);
    }
}
