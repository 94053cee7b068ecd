//! Root-only: real loopback traffic in a fresh network namespace, then `netdoctor counters`
//! inside it (`--netns`, `--pid`, and the unprivileged `--pid` fallback) compared with
//! `nstat -az` and `netstat -s` run in the same quiet namespace.
//!
//! Skips with `SKIP <test>: <reason>` when not root or when `ip`, `nstat` or `netstat` is
//! missing. Namespaces are named `nd-procfs-<pid>-<n>` and removed by a Drop guard.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_netdoctor");

#[path = "support/netns.rs"]
mod netns;

use netns::{Netns, skip_unless_root_and};

fn sh(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// Runs `work` on a fresh thread that has entered the namespace (so its sockets live there).
fn in_netns<T: Send + 'static>(ns: &Netns, work: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{}", ns.name);
    std::thread::spawn(move || {
        let file = File::open(&path).expect("open netns");
        netdoctor::collect::sys::netns::enter_net_namespace(&file).expect("setns");
        work()
    })
    .join()
    .expect("traffic thread")
}

/// Bounded loopback traffic: `tcp` echoed TCP connections, a refused connect, `udp`
/// datagrams to a bound socket and one to a closed port.
fn traffic(tcp: usize, udp: usize) {
    let timeout = Some(Duration::from_secs(2));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    for _ in 0..tcp {
        let mut client = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
        client.set_read_timeout(timeout).unwrap();
        client.write_all(&[7u8; 1000]).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        server.set_read_timeout(timeout).unwrap();
        let mut buf = [0u8; 1000];
        server.read_exact(&mut buf).unwrap();
        server.write_all(&buf).unwrap();
        client.read_exact(&mut buf).unwrap();
    }
    drop(listener);
    // Refused: nothing listens on port 9 in a fresh namespace, and (below the ephemeral
    // range) the connect cannot pick it as its own source port and connect to itself.
    let closed: std::net::SocketAddr = ([127, 0, 0, 1], 9).into();
    assert!(TcpStream::connect_timeout(&closed, Duration::from_secs(2)).is_err());
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(timeout).unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..udp {
        tx.send_to(&[1u8; 100], rx.local_addr().unwrap()).unwrap();
    }
    let mut buf = [0u8; 200];
    for _ in 0..udp {
        rx.recv_from(&mut buf).unwrap();
    }
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    tx.send_to(b"x", closed_addr).unwrap();
}

fn ours(args: &[&str]) -> HashMap<String, i64> {
    let out = sh(BIN, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["counters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["value"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn nstat(ns: &Netns) -> HashMap<String, i64> {
    let history = tempfile::NamedTempFile::new().unwrap();
    let mut all = vec!["netns", "exec", &ns.name, "env"];
    let var = format!("NSTAT_HISTORY={}", history.path().display());
    all.extend([var.as_str(), "nstat", "-az", "-s", "--json"]);
    let out = sh("ip", &all);
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["kernel"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(-2)))
        .collect()
}

/// netstat -s lines we can name without the knowledge base: `Name: N` lines inside a section
/// and the classic Ip/Tcp/Udp phrases (both spellings net-tools used).
fn netstat_s(ns: &Netns) -> HashMap<String, i64> {
    let phrases: &[(&str, &str, &str)] = &[
        ("Ip", "total packets received", "InReceives"),
        ("Ip", "incoming packets delivered", "InDelivers"),
        ("Ip", "requests sent out", "OutRequests"),
        ("Tcp", "active connection openings", "ActiveOpens"),
        ("Tcp", "active connections openings", "ActiveOpens"),
        ("Tcp", "passive connection openings", "PassiveOpens"),
        ("Tcp", "failed connection attempts", "AttemptFails"),
        ("Tcp", "connection resets received", "EstabResets"),
        ("Tcp", "segments received", "InSegs"),
        ("Tcp", "segments sent out", "OutSegs"),
        ("Tcp", "segments send out", "OutSegs"),
        ("Tcp", "resets sent", "OutRsts"),
        ("Udp", "packets received", "InDatagrams"),
        ("Udp", "packets to unknown port received", "NoPorts"),
        ("Udp", "packets to unknown port received.", "NoPorts"),
        ("Udp", "packets sent", "OutDatagrams"),
    ];
    let out = ns.exec("netstat", &["-s"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut found = HashMap::new();
    let mut section = String::new();
    for line in text.lines() {
        if !line.starts_with(' ') {
            section = line.trim_end_matches(':').to_string();
            continue;
        }
        let trimmed = line.trim();
        if let Some((name, value)) = trimmed.split_once(": ")
            && name.bytes().all(|b| b.is_ascii_alphanumeric())
            && let Ok(v) = value.parse::<i64>()
        {
            found.insert(format!("{section}{name}"), v);
            continue;
        }
        if let Some((number, phrase)) = trimmed.split_once(' ')
            && let Ok(v) = number.parse::<i64>()
            && let Some((_, _, field)) = phrases
                .iter()
                .find(|(s, p, _)| *s == section && *p == phrase)
        {
            found.insert(format!("{section}{field}"), v);
        }
    }
    found
}

#[test]
fn counters_in_a_netns_equal_nstat_and_netstat() {
    if skip_unless_root_and(
        "counters_in_a_netns_equal_nstat_and_netstat",
        &["ip", "nstat", "netstat"],
    ) {
        return;
    }
    let ns = Netns::create("procfs");
    in_netns(&ns, || traffic(10, 20));
    std::thread::sleep(Duration::from_millis(300));

    // The namespace is quiet now; retry a couple of times in case a late timer moved a value.
    let mut last_mismatch = String::new();
    for _ in 0..3 {
        let mine = ours(&["counters", "--netns", &ns.name, "--all", "--json"]);
        let theirs = nstat(&ns);
        let mismatches: Vec<String> = theirs
            .iter()
            .filter(|(k, v)| mine.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: nstat {v}, ours {:?}", mine.get(k)))
            .collect();
        if mismatches.is_empty() {
            assert!(theirs.len() > 300, "nstat printed only {}", theirs.len());
            assert_eq!(mine["TcpActiveOpens"], 11); // 10 + the refused one
            assert_eq!(mine["TcpPassiveOpens"], 10);
            assert_eq!(mine["TcpAttemptFails"], 1);
            assert_eq!(mine["UdpInDatagrams"], 20);
            assert_eq!(mine["UdpNoPorts"], 1);
            assert_eq!(mine["TcpMaxConn"], -1);
            let netstat = netstat_s(&ns);
            assert!(netstat.len() >= 15, "netstat -s gave {netstat:?}");
            for (name, value) in &netstat {
                assert_eq!(mine.get(name), Some(value), "netstat -s {name}");
            }
            return;
        }
        last_mismatch = mismatches.join("; ");
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("ours and nstat -az differ: {last_mismatch}");
}

#[test]
fn interval_rates_count_real_datagrams() {
    if skip_unless_root_and(
        "interval_rates_count_real_datagrams",
        &["ip", "nstat", "netstat"],
    ) {
        return;
    }
    let ns = Netns::create("procfs");
    let mut child = Command::new(BIN)
        .args([
            "counters",
            "--netns",
            &ns.name,
            "--interval",
            "3",
            "--json",
            "--all",
            "UdpInDatagrams",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Traffic only once the child says its first sample is taken (bounded wait).
    let (sender, receiver) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("first sample taken") {
                let _ = sender.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    if receiver.recv_timeout(Duration::from_secs(30)).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "no first-sample line within 30 s: {}",
            reader.join().unwrap_or_default()
        );
    }
    in_netns(&ns, || traffic(0, 200));
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let elapsed = doc["interval_s"].as_f64().unwrap();
    assert!((2.9..10.0).contains(&elapsed), "{elapsed}");
    let c = &doc["counters"][0];
    assert_eq!(c["name"], "UdpInDatagrams");
    assert_eq!(c["delta"], 200);
    let rate = c["per_second"].as_f64().unwrap();
    assert!((rate - 200.0 / elapsed).abs() < 1e-6, "{rate}");
}

/// Waits until `pid` is inside the namespace (`ip netns exec` enters, then execs).
fn wait_in_netns(ns: &Netns, pid: u32) {
    let want = std::fs::metadata(format!("/run/netns/{}", ns.name))
        .unwrap()
        .ino();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if std::fs::metadata(format!("/proc/{pid}/ns/net")).is_ok_and(|m| m.ino() == want) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("pid {pid} never entered {}", ns.name);
}

#[test]
fn pid_target_and_unprivileged_fallback() {
    if skip_unless_root_and(
        "pid_target_and_unprivileged_fallback",
        &["ip", "nstat", "netstat"],
    ) {
        return;
    }
    let mut ns = Netns::create("procfs");
    in_netns(&ns, || traffic(3, 5));
    let sleeper = Command::new("ip")
        .args(["netns", "exec", &ns.name, "sleep", "60"])
        .spawn()
        .unwrap();
    let pid = sleeper.id();
    ns.adopt(sleeper);
    wait_in_netns(&ns, pid);
    let inode = std::fs::metadata(format!("/run/netns/{}", ns.name))
        .unwrap()
        .ino();
    let pid_text = pid.to_string();

    let out = sh(BIN, &["snapshot", "--pid", &pid_text]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(snap["origin"]["kind"], "pid");
    assert_eq!(snap["host"]["netns_inode"], inode);
    let by_pid = ours(&["counters", "--pid", &pid_text, "--all", "--json", "Tcp*"]);
    let by_name = ours(&["counters", "--netns", &ns.name, "--all", "--json", "Tcp*"]);
    assert_eq!(by_pid["TcpActiveOpens"], 4);
    assert_eq!(by_pid, by_name);

    // Without privilege: /proc/PID/net is read instead, and the snapshot says so.
    let setpriv = Command::new("sh")
        .args(["-c", "command -v setpriv"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !setpriv {
        println!("SKIP pid_target_and_unprivileged_fallback (fallback part): setpriv missing");
        return;
    }
    let out = sh(
        "setpriv",
        &[
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            BIN,
            "snapshot",
            "--pid",
            &pid_text,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap: netdoctor::snapshot::Snapshot = serde_json::from_slice(&out.stdout).unwrap();
    let note = snap.source("netns_entry").expect("netns_entry source");
    let reason = note.missing_reason().unwrap();
    assert!(reason.contains(&format!("/proc/{pid}/net")), "{reason}");
    assert_eq!(snap.counter("TcpActiveOpens"), Some(4));
    assert!(!snap.has_source("nf_conntrack_count"));
}

#[test]
fn conntrack_counters_follow_the_namespace() {
    if skip_unless_root_and(
        "conntrack_counters_follow_the_namespace",
        &["ip", "nstat", "netstat", "nft"],
    ) {
        return;
    }
    let ns = Netns::create("procfs");
    // One stateful rule makes conntrack track this namespace's flows (only here).
    for cmd in [
        "add table inet nd",
        "add chain inet nd input { type filter hook input priority 0; }",
        "add rule inet nd input ct state established,related accept",
    ] {
        let args: Vec<&str> = cmd.split(' ').collect();
        let out = ns.exec("nft", &args);
        if !out.status.success() {
            println!(
                "SKIP conntrack_counters_follow_the_namespace: nft failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
    }
    in_netns(&ns, || traffic(5, 5));
    let count_file = "/proc/sys/net/netfilter/nf_conntrack_count";
    // Entries can expire between two reads (a refused connect's lasts 10 s): retry briefly.
    let mut attempt = 0;
    let (theirs, mine) = loop {
        let theirs: i64 = String::from_utf8_lossy(&ns.exec("cat", &[count_file]).stdout)
            .trim()
            .parse()
            .unwrap();
        let mine = ours(&[
            "counters",
            "--netns",
            &ns.name,
            "--all",
            "--json",
            "conntrack*",
        ]);
        attempt += 1;
        if mine["ConntrackCount"] == theirs || attempt == 3 {
            break (theirs, mine);
        }
    };
    assert!(theirs >= 5, "only {theirs} tracked connections");
    assert_eq!(mine["ConntrackCount"], theirs);
    assert_eq!(mine["ConntrackEntries"], mine["ConntrackCount"]);
    assert!(mine["ConntrackMax"] > 0);
    assert!(mine.contains_key("ConntrackInsertFailed"));
    assert!(mine.contains_key("ConntrackClashres") || mine.contains_key("ConntrackSearched"));
}

#[test]
fn snapshot_of_a_netns_holds_its_sockets_and_sysctls() {
    if skip_unless_root_and(
        "snapshot_of_a_netns_holds_its_sockets_and_sysctls",
        &["ip", "nstat", "netstat"],
    ) {
        return;
    }
    let ns = Netns::create("procfs");
    // A listener held open inside the namespace while the snapshot is taken.
    let listener = in_netns(&ns, || TcpListener::bind("127.0.0.1:0").unwrap());
    let port = listener.local_addr().unwrap().port();
    let out = sh(BIN, &["snapshot", "--netns", &ns.name]);
    drop(listener);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap: netdoctor::snapshot::Snapshot = serde_json::from_slice(&out.stdout).unwrap();
    let inode = std::fs::metadata(format!("/run/netns/{}", ns.name))
        .unwrap()
        .ino();
    assert_eq!(snap.host.netns_inode, Some(inode));
    assert!(
        matches!(&snap.origin, netdoctor::snapshot::Origin::Netns { name } if *name == ns.name)
    );
    assert!(snap.has_source("snmp") && snap.has_source("sysctl"));
    let sockets = snap.sockets.as_ref().expect("socket view");
    let wanted = format!("127.0.0.1:{port}");
    assert!(
        sockets.listeners.iter().any(|l| l.local == wanted),
        "{wanted} not among {:?}",
        sockets
            .listeners
            .iter()
            .map(|l| &l.local)
            .collect::<Vec<_>>()
    );
    // The namespace's own sysctls: a fresh namespace has loopback only, and its somaxconn
    // is readable through the entered /proc/sys.
    let sysctl = snap.sysctl.as_ref().expect("sysctl view");
    assert!(sysctl.live("net.core.somaxconn").is_some());
}
