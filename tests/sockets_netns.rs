//! End-to-end tests of `netdoctor sockets` on the real kernel, in network namespaces this test
//! creates (root only): accept queues and backlogs exactly as `ss -ltn` shows them, IPv6,
//! somaxconn capping, ephemeral-port usage under a narrow ip_local_port_range, and per-state
//! counts that agree with `ss -tan`. Without root, ip, ss or python3 each test prints
//! `SKIP <test>: <reason>` and returns.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

static COUNTER: AtomicUsize = AtomicUsize::new(0);
const HOLDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/sockhold.py");
const NETDOCTOR: &str = env!("CARGO_BIN_EXE_netdoctor");

/// Why this test cannot run here, if it cannot.
fn missing_requirement() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("needs root (network namespaces)".to_string());
    }
    for tool in ["ip", "ss", "python3"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            return Some(format!("needs {tool}"));
        }
    }
    None
}

macro_rules! require {
    ($test:expr) => {
        if let Some(reason) = missing_requirement() {
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

    /// Starts a holder process inside the namespace and waits for its "ready" line.
    fn hold(&self, ops: &[&str]) -> Holder {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name, "python3", HOLDER])
            .args(ops)
            .env("HOLD_SECONDS", "60")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start sockhold.py");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            // The holder is bounded by its own alarm, so this read ends.
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let holder = Holder { child };
        assert!(line.starts_with("ready"), "holder did not start: {line:?}");
        holder
    }

    fn netdoctor_json(&self, args: &[&str]) -> Value {
        let output = Command::new(NETDOCTOR)
            .args(["sockets", "--netns", &self.name, "--json"])
            .args(args)
            .output()
            .expect("run netdoctor");
        assert!(
            output.status.success(),
            "netdoctor failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("netdoctor JSON")
    }

    /// `ss ARGS -H` inside the namespace, split into whitespace-separated fields.
    fn ss(&self, args: &[&str]) -> Vec<Vec<String>> {
        let output = Command::new("ip")
            .args(["netns", "exec", &self.name, "ss", "-H"])
            .args(args)
            .output()
            .expect("run ss");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .filter(|f: &Vec<String>| !f.is_empty())
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
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
    let status = Command::new(program).args(args).status().expect(program);
    assert!(status.success(), "{program} {args:?} failed");
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
    assert!(l["process"].as_str().unwrap().contains("python3"), "{l}");
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
    require!("backlog_65535_under_somaxconn_1024_is_capped");
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
    require!("narrow_port_range_shows_usage_ratio");
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
    let output = Command::new("ip")
        .args([
            "netns", "exec", &ns.name, NETDOCTOR, "sockets", "--root", "/", "--json",
        ])
        .output()
        .unwrap();
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
    require!("syn_recv_counted_per_listener_like_ss");
    if Command::new("sh")
        .args(["-c", "command -v nft"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        eprintln!("SKIP syn_recv_counted_per_listener_like_ss: needs nft");
        return;
    }
    let ns = Netns::create();
    // Drop the handshake's final ACK to port 8080 inside this namespace: clients believe they
    // are connected, the listener keeps request sockets in SYN-RECV.
    let rules = "table inet nd_synrecv {\n chain input {\n  type filter hook input priority 0;\n  tcp dport 8080 tcp flags & (syn | ack) == ack drop\n }\n}\n";
    let mut nft = Command::new("ip")
        .args(["netns", "exec", &ns.name, "nft", "-f", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("nft");
    if let Some(mut stdin) = nft.stdin.take() {
        use std::io::Write;
        stdin.write_all(rules.as_bytes()).expect("nft rules");
    }
    assert!(nft.wait().expect("nft").success());
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
