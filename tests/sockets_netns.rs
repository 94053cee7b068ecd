//! End-to-end tests of `netdoctor sockets` on the real kernel, in network namespaces this test
//! creates (root only): accept queues and backlogs exactly as `ss -ltn` shows them, IPv6,
//! somaxconn capping, ephemeral-port usage under a narrow ip_local_port_range, and per-state
//! counts that agree with `ss -tan`. Without root, ip, ss or python3 each test prints
//! `SKIP <test>: <reason>` and returns.
//!
//! Parallel safety: each test builds its own namespace (`nd-sockets-PID-N`, removed by a guard
//! even on panic), changes sysctls and nft rules only inside it, and its holder process is
//! killed by a guard. Bounds: every command runs under a deadline ([`COMMAND_TIMEOUT`]) and is
//! killed past it; the holder must report ready within [`READY_TIMEOUT`] and stops itself
//! after HOLD_SECONDS; all its loops are bounded by counts.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

static COUNTER: AtomicUsize = AtomicUsize::new(0);
const HOLDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/sockhold.py");
const NETDOCTOR: &str = env!("CARGO_BIN_EXE_netdoctor");
/// Longest any one command (ip, ss, nft, netdoctor) may run before it is killed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest the holder may take to open its sockets and print "ready".
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `command` to completion with `input` on its standard input, killing it (and failing
/// the test) if it outlives [`COMMAND_TIMEOUT`]. Output is drained by threads so a chatty
/// command cannot block on a full pipe.
fn output_within(command: &mut Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .expect("write to the command's input");
    }
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the command") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {COMMAND_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// True when `tool` is on the PATH.
fn has_tool(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Why this test cannot run here, if it cannot: it needs root (network namespaces), ip, ss,
/// python3 and the `extra` tools. Fails closed: if the uid cannot be read, the test skips.
fn missing_requirement(extra: &[&str]) -> Option<String> {
    let uid = match Command::new("id").arg("-u").output() {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        }
        Ok(_) | Err(_) => return Some("cannot tell whether we are root (`id -u` failed)".into()),
    };
    if uid != "0" {
        return Some("needs root (network namespaces)".to_string());
    }
    ["ip", "ss", "python3"]
        .iter()
        .chain(extra)
        .find(|tool| !has_tool(tool))
        .map(|tool| format!("needs {tool}"))
}

/// Returns from the test, printing `SKIP <test>: <reason>`, when it cannot run here.
macro_rules! require {
    ($test:expr $(, $tool:expr)*) => {
        if let Some(reason) = missing_requirement(&[$($tool),*]) {
            eprintln!("SKIP {}: {reason}", $test);
            return;
        }
    };
}

/// A network namespace removed on drop (also when the test panics).
struct Netns {
    name: String,
}

impl Netns {
    fn create() -> Netns {
        let name = format!(
            "nd-sockets-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        run("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        run("ip", &["-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }

    fn sysctl(&self, key: &str, value: &str) {
        run(
            "ip",
            &[
                "netns",
                "exec",
                &self.name,
                "sysctl",
                "-qw",
                &format!("{key}={value}"),
            ],
        );
    }

    /// Starts a holder process inside the namespace and waits (at most [`READY_TIMEOUT`]) for
    /// its "ready" line.
    fn hold(&self, ops: &[&str]) -> Holder {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name, "python3", HOLDER])
            .args(ops)
            .env("HOLD_SECONDS", "60")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start sockhold.py");
        let (sender, receiver) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            // Ends when the holder prints a line or exits (killed by the guard at the latest).
            thread::spawn(move || {
                let mut line = String::new();
                let _ = BufReader::new(out).read_line(&mut line);
                let _ = sender.send(line);
            });
        }
        let holder = Holder { child };
        let line = receiver.recv_timeout(READY_TIMEOUT).unwrap_or_default();
        assert!(line.starts_with("ready"), "holder did not start: {line:?}");
        holder
    }

    fn netdoctor_json(&self, args: &[&str]) -> Value {
        let output = output_within(
            Command::new(NETDOCTOR)
                .args(["sockets", "--netns", &self.name, "--json"])
                .args(args),
            b"",
        );
        assert!(
            output.status.success(),
            "netdoctor failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("netdoctor JSON")
    }

    /// `ss ARGS -H` inside the namespace, split into whitespace-separated fields.
    fn ss(&self, args: &[&str]) -> Vec<Vec<String>> {
        let output = output_within(
            Command::new("ip")
                .args(["netns", "exec", &self.name, "ss", "-H"])
                .args(args),
            b"",
        );
        assert!(output.status.success(), "ss {args:?} failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .filter(|f: &Vec<String>| !f.is_empty())
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Not `output_within`: a panic inside drop during unwinding would abort the run.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stdin(Stdio::null())
            .status();
    }
}

/// A holder process, killed on drop.
struct Holder {
    child: Child,
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(program: &str, args: &[&str]) {
    let output = output_within(Command::new(program).args(args), b"");
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn listener<'a>(doc: &'a Value, local: &str) -> &'a Value {
    doc["listeners"]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["local"] == local))
        .unwrap_or_else(|| panic!("no listener {local} in {doc:#}"))
}

/// ss -ltn: (Recv-Q, Send-Q) of the listener on `local`.
fn ss_listener(ns: &Netns, local: &str) -> (u64, u64) {
    let rows = ns.ss(&["-ltn"]);
    let row = rows
        .iter()
        .find(|r| r.get(3).map(String::as_str) == Some(local))
        .unwrap_or_else(|| panic!("ss -ltn has no {local}: {rows:?}"));
    (row[1].parse().unwrap(), row[2].parse().unwrap())
}

#[test]
fn full_accept_queue_shows_queue_5_backlog_4_like_ss() {
    require!("full_accept_queue_shows_queue_5_backlog_4_like_ss");
    let ns = Netns::create();
    let _holder = ns.hold(&["L", "127.0.0.1", "8080", "4", "C", "127.0.0.1", "8080", "5"]);
    let doc = ns.netdoctor_json(&["--listen"]);
    assert_eq!(doc["schema"], "netdoctor.sockets/v1");
    let l = listener(&doc, "127.0.0.1:8080");
    assert_eq!(l["queue"], 5);
    assert_eq!(l["backlog"], 4);
    assert_eq!(ss_listener(&ns, "127.0.0.1:8080"), (5, 4));
    assert_eq!(l["capped_by_somaxconn"], false);
    // 5 waiting of 4 allowed: analysis calls it full (render only colours that).
    assert_eq!(l["level"], "full");
    // The owner as data (the holder is python3, in this namespace) and in words.
    assert_eq!(l["owner"]["status"], "known", "{l}");
    assert_eq!(l["owner"]["command"], "python3", "{l}");
    assert!(l["owner"]["pid"].as_u64().is_some_and(|p| p > 0), "{l}");
    assert!(
        l["process"].as_str().unwrap().contains("python3 (pid "),
        "{l}"
    );
    // The full view also counts SYN-RECV for the listener (none here: the 5 are accepted
    // by the kernel and wait in the accept queue).
    let full = ns.netdoctor_json(&[]);
    assert_eq!(listener(&full, "127.0.0.1:8080")["syn_recv"], 0);
}

#[test]
fn ipv6_listener_full_queue_like_ss() {
    require!("ipv6_listener_full_queue_like_ss");
    let ns = Netns::create();
    let _holder = ns.hold(&["L", "::1", "8080", "4", "C", "::1", "8080", "5"]);
    let doc = ns.netdoctor_json(&["--listen"]);
    let l = listener(&doc, "[::1]:8080");
    assert_eq!(
        (l["queue"].as_u64(), l["backlog"].as_u64()),
        (Some(5), Some(4))
    );
    assert_eq!(ss_listener(&ns, "[::1]:8080"), (5, 4));
}

#[test]
fn backlog_65535_under_somaxconn_1024_is_capped() {
    require!("backlog_65535_under_somaxconn_1024_is_capped", "sysctl");
    let ns = Netns::create();
    ns.sysctl("net.core.somaxconn", "1024");
    let _holder = ns.hold(&[
        "L",
        "127.0.0.1",
        "8080",
        "65535",
        "L",
        "127.0.0.1",
        "8081",
        "100",
    ]);
    let doc = ns.netdoctor_json(&["--listen"]);
    assert_eq!(doc["somaxconn"], 1024);
    let capped = listener(&doc, "127.0.0.1:8080");
    assert_eq!(capped["backlog"], 1024);
    assert_eq!(capped["capped_by_somaxconn"], true);
    assert_eq!(
        listener(&doc, "127.0.0.1:8081")["capped_by_somaxconn"],
        false
    );
    assert_eq!(ss_listener(&ns, "127.0.0.1:8080"), (0, 1024));
}

#[test]
fn narrow_port_range_shows_usage_ratio() {
    require!("narrow_port_range_shows_usage_ratio", "sysctl");
    let ns = Netns::create();
    ns.sysctl("net.ipv4.ip_local_port_range", "40000 40049");
    ns.sysctl("net.ipv4.ip_local_reserved_ports", "40000-40009");
    let _holder = ns.hold(&[
        "L",
        "127.0.0.1",
        "8080",
        "128",
        "C",
        "127.0.0.1",
        "8080",
        "30",
    ]);
    let doc = ns.netdoctor_json(&[]);
    assert_eq!(doc["usable_ephemeral_ports"], 40);
    let row = &doc["port_usage"][0];
    assert_eq!(row["local_addr"], "127.0.0.1");
    assert_eq!(row["remote"], "127.0.0.1:8080");
    assert_eq!(row["in_use"], 30);
    assert_eq!(row["available"], 40);
    assert!(
        (row["ratio"].as_f64().unwrap() - 0.75).abs() < 1e-9,
        "{row}"
    );
    assert_eq!(row["level"], "elevated", "30 of 40 usable ports");
    // Accepted connections (local port 8080) are not counted as outgoing.
    assert_eq!(doc["port_usage"].as_array().unwrap().len(), 1);
}

/// ss state column → our state name.
fn our_state_name(ss_state: &str) -> &str {
    match ss_state {
        "ESTAB" => "ESTABLISHED",
        "SYN-SENT" => "SYN_SENT",
        "SYN-RECV" => "SYN_RECV",
        "FIN-WAIT-1" => "FIN_WAIT1",
        "FIN-WAIT-2" => "FIN_WAIT2",
        "TIME-WAIT" => "TIME_WAIT",
        "UNCONN" => "CLOSE",
        "CLOSE-WAIT" => "CLOSE_WAIT",
        "LAST-ACK" => "LAST_ACK",
        other => other,
    }
}

#[test]
fn state_counts_agree_with_ss() {
    require!("state_counts_agree_with_ss");
    let ns = Netns::create();
    let _holder = ns.hold(&[
        "L",
        "127.0.0.1",
        "8080",
        "128",
        "C",
        "127.0.0.1",
        "8080",
        "40",
        "L",
        "::1",
        "8081",
        "128",
        "C",
        "::1",
        "8081",
        "7",
        "T",
        "127.0.0.1",
        "9000",
        "25",
    ]);
    let doc = ns.netdoctor_json(&[]);
    let mut expected = std::collections::BTreeMap::<String, u64>::new();
    for row in ns.ss(&["-tan"]) {
        *expected
            .entry(our_state_name(&row[0]).to_string())
            .or_default() += 1;
    }
    let mut ours = std::collections::BTreeMap::<String, u64>::new();
    for pair in doc["states"].as_array().unwrap() {
        let count = pair[1].as_u64().unwrap();
        if count > 0 {
            ours.insert(pair[0].as_str().unwrap().to_string(), count);
        }
    }
    assert_eq!(ours, expected);
    assert_eq!(ours.get("TIME_WAIT"), Some(&25));
    assert_eq!(ours.get("ESTABLISHED"), Some(&94));

    // The /proc/net/tcp fallback (read inside the namespace with --root /) agrees too, and
    // says the backlog is unknown rather than printing 0.
    let output = output_within(
        Command::new("ip").args([
            "netns", "exec", &ns.name, NETDOCTOR, "sockets", "--root", "/", "--json",
        ]),
        b"",
    );
    assert!(output.status.success());
    let proc_doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(proc_doc["method"], "proc_net_tcp");
    assert_eq!(proc_doc["states"], doc["states"]);
    let l = listener(&proc_doc, "127.0.0.1:8080");
    assert_eq!(l["backlog"], Value::Null);
    assert_eq!(l["queue"], 40);
}

#[test]
fn syn_recv_counted_per_listener_like_ss() {
    require!("syn_recv_counted_per_listener_like_ss", "nft");
    let ns = Netns::create();
    // Drop the handshake's final ACK to port 8080 inside this namespace: clients believe they
    // are connected, the listener keeps request sockets in SYN-RECV.
    let rules = "table inet nd_synrecv {\n chain input {\n  type filter hook input priority 0;\n  tcp dport 8080 tcp flags & (syn | ack) == ack drop\n }\n}\n";
    let nft = output_within(
        Command::new("ip").args(["netns", "exec", &ns.name, "nft", "-f", "-"]),
        rules.as_bytes(),
    );
    assert!(
        nft.status.success(),
        "nft: {}",
        String::from_utf8_lossy(&nft.stderr)
    );
    let _holder = ns.hold(&[
        "L",
        "127.0.0.1",
        "8080",
        "128",
        "L",
        "127.0.0.1",
        "8081",
        "128",
        "C",
        "127.0.0.1",
        "8080",
        "3",
        "C",
        "127.0.0.1",
        "8081",
        "2",
    ]);
    let doc = ns.netdoctor_json(&[]);
    assert_eq!(listener(&doc, "127.0.0.1:8080")["syn_recv"], 3);
    assert_eq!(listener(&doc, "127.0.0.1:8080")["queue"], 0);
    assert_eq!(listener(&doc, "127.0.0.1:8081")["syn_recv"], 0);
    let ss_syn_recv = ns
        .ss(&["-tan", "state", "syn-recv", "sport", "=", ":8080"])
        .len();
    assert_eq!(ss_syn_recv, 3);
    // The listener-only view does not walk connections and says so instead of printing 0.
    let listen_only = ns.netdoctor_json(&["--listen"]);
    assert_eq!(
        listener(&listen_only, "127.0.0.1:8080")["syn_recv"],
        Value::Null
    );
}

#[test]
fn reuseport_group_is_shown_together() {
    require!("reuseport_group_is_shown_together");
    let ns = Netns::create();
    let _holder = ns.hold(&[
        "R",
        "127.0.0.1",
        "8080",
        "16",
        "R",
        "127.0.0.1",
        "8080",
        "16",
        "L",
        "127.0.0.1",
        "8081",
        "16",
    ]);
    let doc = ns.netdoctor_json(&["--listen"]);
    let listeners = doc["listeners"].as_array().unwrap();
    assert_eq!(listeners.len(), 3);
    // Members of the group are adjacent and carry the group size.
    assert_eq!(listeners[0]["local"], "127.0.0.1:8080");
    assert_eq!(listeners[1]["local"], "127.0.0.1:8080");
    assert_eq!(listeners[0]["reuseport_group_size"], 2);
    assert_eq!(listeners[1]["reuseport_group_size"], 2);
    assert_eq!(listeners[2]["reuseport_group_size"], 1);
    assert_ne!(listeners[0]["inode"], listeners[1]["inode"]);
}
