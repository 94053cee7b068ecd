//! Round trips on a real kernel (root): in a fresh network namespace, after real loopback
//! traffic, `netstat -s`, `netstat -s -6` and `nstat -az` output read back through ingest equals
//! the /proc/net reading of the same moment.
//!
//! "The same moment": /proc is read right before and right after the tool, in one shell
//! invocation inside the quiet namespace, and the pair is only used when both readings agree
//! (retried a few times otherwise, e.g. when a delayed-ACK timer fires in between).

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use netdoctor::ingest::{self, Format, PhraseIndex};

static NEXT: AtomicUsize = AtomicUsize::new(0);
const TRAFFIC_ENV: &str = "ND_INGEST_TRAFFIC";

/// A network namespace removed on drop, also when the test panics.
struct Netns {
    name: String,
}

impl Netns {
    fn create() -> Option<Netns> {
        let name = format!(
            "nd-ingest-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        let netns = Netns { name };
        let up = Command::new("ip")
            .args(["-n", &netns.name, "link", "set", "lo", "up"])
            .status()
            .is_ok_and(|s| s.success());
        up.then_some(netns)
    }

    fn shell(&self, script: &str) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name, "sh", "-c", script])
            .env("LC_ALL", "C")
            .output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Runs this test binary's traffic helper inside the namespace.
    fn traffic(&self) -> bool {
        let Ok(exe) = std::env::current_exe() else {
            return false;
        };
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(exe)
            .args([
                "traffic_helper",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(TRAFFIC_ENV, "1")
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Not a test of its own: the loopback traffic run inside a namespace by the round trips
/// (does nothing unless started by them).
#[test]
fn traffic_helper() {
    if std::env::var_os(TRAFFIC_ENV).is_none() {
        return;
    }
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream, UdpSocket};
    let timeout = Some(Duration::from_secs(2));
    for addr in ["127.0.0.1:0", "[::1]:0"] {
        let Ok(listener) = TcpListener::bind(addr) else {
            continue;
        };
        let Ok(local) = listener.local_addr() else {
            continue;
        };
        let server = std::thread::spawn(move || {
            for _ in 0..20 {
                let Ok((mut s, _)) = listener.accept() else {
                    break;
                };
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(&buf);
            }
        });
        for _ in 0..20 {
            if let Ok(mut c) = TcpStream::connect_timeout(&local, Duration::from_secs(2)) {
                let _ = c.set_read_timeout(timeout);
                let _ = c.write_all(&[7u8; 1000]);
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
            }
        }
        let _ = server.join();
        // UDP: delivered datagrams and one to a closed port (NoPorts, ICMP unreachable).
        let Ok(rx) = UdpSocket::bind(addr) else {
            continue;
        };
        let Ok(tx) = UdpSocket::bind(addr) else {
            continue;
        };
        let _ = rx.set_read_timeout(timeout);
        if let Ok(to) = rx.local_addr() {
            for _ in 0..10 {
                let _ = tx.send_to(b"netdoctor", to);
                let mut buf = [0u8; 64];
                let _ = rx.recv_from(&mut buf);
            }
            let closed = UdpSocket::bind(addr).and_then(|s| s.local_addr());
            if let Ok(closed) = closed {
                let _ = tx.send_to(b"nobody", closed);
            }
        }
    }
    std::thread::sleep(Duration::from_millis(300));
}

/// Reads text through ingest and returns the counters by name.
fn counters_of(
    label: &str,
    text: &str,
    index: &PhraseIndex,
) -> (BTreeMap<String, i128>, Format, usize) {
    match ingest::load_texts_with(&[(label, text, None)], index) {
        Ok((snapshot, report)) => (
            snapshot
                .counters
                .iter()
                .map(|c| (c.name.clone(), c.value))
                .collect(),
            report.files[0].format,
            report.skipped_lines(),
        ),
        Err(e) => panic!("{label}: {e}"),
    }
}

/// Captures `proc; tool; proc` until both /proc readings agree; returns (proc, tool output).
fn quiet_capture(
    netns: &Netns,
    proc_cmd: &str,
    tool_cmd: &str,
    index: &PhraseIndex,
) -> Option<(BTreeMap<String, i128>, String)> {
    for _ in 0..5 {
        let out = netns.shell(&format!(
            "{proc_cmd}; echo @@SPLIT@@; {tool_cmd}; echo @@SPLIT@@; {proc_cmd}"
        ));
        let parts: Vec<&str> = out.split("@@SPLIT@@\n").collect();
        let [before, tool, after] = parts.as_slice() else {
            continue;
        };
        let before_counters = proc_counters(before, index);
        if before_counters == proc_counters(after, index) {
            return Some((before_counters, tool.to_string()));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    None
}

/// /proc/net/snmp + netstat (pairs) and snmp6 (name value) concatenated by `cat`.
fn proc_counters(text: &str, index: &PhraseIndex) -> BTreeMap<String, i128> {
    let (pairs, six): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.contains(':'));
    let mut all = BTreeMap::new();
    if !pairs.is_empty() {
        all.extend(counters_of("proc pairs", &(pairs.join("\n") + "\n"), index).0);
    }
    if !six.is_empty() {
        all.extend(counters_of("proc snmp6", &(six.join("\n") + "\n"), index).0);
    }
    all
}

/// The product's own index (the knowledge base's) once it covers every section netstat
/// prints; until then the tests' union of the KB, the reference table and historic wordings.
fn full_index(test: &str) -> Option<&'static PhraseIndex> {
    let kb_sections = ["Ip", "Icmp", "Tcp", "Udp", "TcpExt", "Ip6", "Icmp6", "Udp6"];
    let kb_complete = kb_sections.iter().all(|section| {
        netdoctor::kb::counters()
            .iter()
            .any(|c| c.section == *section && !c.phrases.is_empty())
    });
    if kb_complete {
        return Some(PhraseIndex::from_kb());
    }
    let (rows, source) = common::rows();
    if source == "built-in table" {
        println!("SKIP {test}: no full phrase table (knowledge base empty, reference absent)");
        return None;
    }
    println!("{test}: the knowledge base lacks sections; using {source}");
    Some(Box::leak(Box::new(common::index_of(&rows))))
}

/// Fields netstat never prints when found (I_STATIC or empty text).
const NEVER_PRINTED: &[&str] = &[
    "IpDefaultTTL",
    "TcpRtoAlgorithm",
    "TcpRtoMin",
    "TcpRtoMax",
    "TcpMaxConn",
    "IpForwarding",
];

fn round_trip(test: &str, ipv6: bool) {
    if !common::root_with_tools(test, &["ip", "netstat"]) {
        return;
    }
    let Some(index) = full_index(test) else {
        return;
    };
    let Some(netns) = Netns::create() else {
        println!("SKIP {test}: cannot create a network namespace");
        return;
    };
    assert!(netns.traffic(), "traffic helper failed");
    let (proc_cmd, tool) = if ipv6 {
        (
            "cat /proc/net/snmp6; grep ^Tcp: /proc/net/snmp",
            "netstat -s -6",
        )
    } else {
        ("cat /proc/net/snmp /proc/net/netstat", "netstat -s")
    };
    let Some((proc, output)) = quiet_capture(&netns, proc_cmd, tool, index) else {
        panic!("{test}: the namespace never stayed quiet");
    };
    let paste = format!("root@box:~# {tool}\n{output}");
    let (read, format, skipped) = counters_of(tool, &paste, index);
    assert_eq!(format, Format::NetstatS);
    assert_eq!(skipped, 0, "{test}: lines not understood in\n{output}");
    assert!(
        proc.get("TcpActiveOpens").is_some_and(|v| *v >= 20),
        "no traffic seen"
    );
    for (name, value) in &read {
        assert_eq!(proc.get(name), Some(value), "{test}: {name}");
    }
    for (name, value) in &proc {
        if *value != 0 && !NEVER_PRINTED.contains(&name.as_str()) {
            assert_eq!(read.get(name), Some(value), "{test}: {name} not read back");
        }
    }
    println!("{test}: {} counters read back equal to /proc", read.len());
}

#[test]
fn netstat_s_round_trip() {
    round_trip("netstat_s_round_trip", false);
}

#[test]
fn netstat_s6_round_trip() {
    round_trip("netstat_s6_round_trip", true);
}

#[test]
fn nstat_az_round_trip() {
    let test = "nstat_az_round_trip";
    if !common::root_with_tools(test, &["ip", "nstat"]) {
        return;
    }
    let index = common::index();
    let Some(netns) = Netns::create() else {
        println!("SKIP {test}: cannot create a network namespace");
        return;
    };
    assert!(netns.traffic(), "traffic helper failed");
    let history = std::env::temp_dir().join(format!("nd-ingest-nstat-{}", std::process::id()));
    let tool = format!("NSTAT_HISTORY={} nstat -azs", history.display());
    let proc_cmd = "cat /proc/net/snmp /proc/net/netstat /proc/net/snmp6";
    let Some((proc, output)) = quiet_capture(&netns, proc_cmd, &tool, &index) else {
        panic!("{test}: the namespace never stayed quiet");
    };
    let _ = std::fs::remove_file(&history);
    let (read, format, skipped) = counters_of("nstat", &format!("$ nstat -az\n{output}"), &index);
    assert_eq!(format, Format::Nstat);
    assert_eq!(skipped, 0);
    assert!(read.len() > 100, "only {} counters", read.len());
    for (name, value) in &read {
        // nstat prints every value unsigned: TcpMaxConn's -1 comes out as 2^64-1.
        let expected = proc
            .get(name)
            .map(|v| if *v < 0 { v + (1i128 << 64) } else { *v });
        assert_eq!(expected, Some(*value), "{name}");
    }
    // nstat leaves out the fields that are settings or gauges, not counters.
    let missing: Vec<&String> = proc
        .keys()
        .filter(|name| !read.contains_key(*name))
        .filter(|name| !NEVER_PRINTED.contains(&name.as_str()) && name.as_str() != "TcpCurrEstab")
        .collect();
    assert!(missing.is_empty(), "not in nstat output: {missing:?}");
    println!("{test}: {} counters read back equal to /proc", read.len());
}
