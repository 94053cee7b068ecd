//! `netdoctor counters` and `snapshot` end to end on captured trees (`--root`), without root:
//! values, filters, unavailable sources, and the exit code 3 errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_netdoctor");
const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/captures/6.18.44-loopback-tcp-udp-conntrack"
);
const EXTERNAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/external");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run netdoctor")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn counter<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    doc["counters"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)
}

/// Copies a directory tree (the capture) into a temp dir so a test can damage it.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn root_tree_counters_match_the_capture() {
    let doc = json_of(&run(&["counters", "--root", CAPTURE, "--all", "--json"]));
    assert_eq!(doc["schema"], "netdoctor.counters/v1");
    assert_eq!(doc["source"]["kind"], "root");
    assert_eq!(doc["kernel"], "6.18.44-fc-v657");
    assert_eq!(counter(&doc, "TcpActiveOpens").unwrap()["value"], 21);
    assert_eq!(counter(&doc, "TcpMaxConn").unwrap()["value"], -1);
    assert_eq!(counter(&doc, "Udp6NoPorts").unwrap()["value"], 5);
    assert_eq!(counter(&doc, "ConntrackEntries").unwrap()["value"], 23);
    assert_eq!(counter(&doc, "ConntrackCount").unwrap()["value"], 23);
    assert_eq!(counter(&doc, "TcpActiveOpens").unwrap()["section"], "Tcp");
    assert!(counter(&doc, "SoftnetProcessed").is_some());
    // Every line nstat printed from the same namespace at the same moment, equal.
    let nstat = std::fs::read_to_string(Path::new(CAPTURE).join("nstat-az.txt")).unwrap();
    for line in nstat.lines().filter(|l| !l.starts_with('#')) {
        let mut t = line.split_whitespace();
        let (Some(name), Some(v)) = (t.next(), t.next()) else {
            continue;
        };
        let v: i64 = v.parse().unwrap();
        assert_eq!(counter(&doc, name).unwrap()["value"], v, "{name}");
    }
    // Kernel order: snmp first, then netstat, snmp6, softnet, conntrack.
    let names: Vec<&str> = doc["counters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names.first(), Some(&"IpForwarding"));
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(pos("TcpExtSyncookiesSent") < pos("Ip6InReceives"));
    assert!(pos("Ip6InReceives") < pos("SoftnetProcessed"));
    assert!(pos("SoftnetProcessed") < pos("ConntrackEntries"));
}

#[test]
fn filters_and_human_table() {
    let out = run(&[
        "counters",
        "--root",
        CAPTURE,
        "tcp*opens",
        "--color",
        "never",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("TcpActiveOpens"), "{text}");
    assert!(text.contains("TcpPassiveOpens"), "{text}");
    assert!(!text.contains("UdpNoPorts"), "{text}");
    // Non-zero only by default; substring match is case-insensitive.
    let doc = json_of(&run(&["counters", "--root", CAPTURE, "--json", "NOPORTS"]));
    let names: Vec<&str> = doc["counters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["UdpNoPorts", "Udp6NoPorts"]);
    let doc = json_of(&run(&[
        "counters", "--root", CAPTURE, "--json", "--all", "NOPORTS",
    ]));
    assert!(doc["counters"].as_array().unwrap().len() > 2);
}

#[test]
fn missing_and_broken_files_are_reported_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(Path::new(CAPTURE), tmp.path());
    std::fs::remove_file(tmp.path().join("proc/net/stat/nf_conntrack")).unwrap();
    std::fs::write(
        tmp.path().join("proc/net/softnet_stat"),
        "00015c73 00020e76\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("proc/net/snmp6"),
        "Ip6InReceives 7\nthis is not a counter line\n",
    )
    .unwrap();
    let root = tmp.path().to_str().unwrap();
    let doc = json_of(&run(&["counters", "--root", root, "--json"]));
    let unavailable = doc["unavailable"].as_array().unwrap();
    let reason = |name: &str| {
        unavailable
            .iter()
            .find(|u| u["name"] == name)
            .map(|u| u["reason"].as_str().unwrap().to_string())
    };
    assert!(reason("nf_conntrack").unwrap().starts_with("absent"));
    let softnet = reason("softnet_stat").unwrap();
    assert!(
        softnet.contains("softnet_stat:1: expected at least 9 hex columns"),
        "{softnet}"
    );
    assert_eq!(doc["skipped"][0]["line"], 2);
    assert!(
        doc["skipped"][0]["source"]
            .as_str()
            .unwrap()
            .ends_with("snmp6")
    );
    assert_eq!(counter(&doc, "Ip6InReceives").unwrap()["value"], 7);
    assert!(counter(&doc, "ConntrackCount").is_some());

    // The snapshot records the same.
    let out = run(&["snapshot", "--root", root]);
    let snap = json_of(&out);
    assert_eq!(snap["schema"], "netdoctor.snapshot/v1");
    let sources = snap["sources"].as_array().unwrap();
    let conntrack = sources
        .iter()
        .find(|s| s["name"] == "nf_conntrack")
        .unwrap();
    assert_eq!(conntrack["status"]["state"], "missing");
    let snmp6 = sources.iter().find(|s| s["name"] == "snmp6").unwrap();
    assert_eq!(snmp6["skipped"][0]["line"], 2);
}

#[test]
fn root_may_be_a_proc_mount_itself() {
    // `--root /mnt/container-proc`: DIR/net/snmp instead of DIR/proc/net/snmp.
    let proc_dir = Path::new(CAPTURE).join("proc");
    let doc = json_of(&run(&[
        "counters",
        "--root",
        proc_dir.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(counter(&doc, "TcpActiveOpens").unwrap()["value"], 21);
    assert_eq!(doc["kernel"], "6.18.44-fc-v657");
    assert_eq!(doc["unavailable"].as_array().unwrap().len(), 0);
}

#[test]
fn nothing_readable_is_exit_3_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&["counters", "--root", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no kernel counter could be read"), "{err}");
    assert!(err.contains("snmp: absent"), "{err}");
    let out = run(&["counters", "--root", "/nonexistent/nd"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a directory"));
}

#[test]
fn unknown_netns_and_pid_are_clear_errors() {
    let out = run(&["counters", "--netns", "nd-no-such-namespace-x"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no network namespace named \"nd-no-such-namespace-x\""),
        "{err}"
    );
    let out = run(&["counters", "--pid", "4000000000"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no process with pid 4000000000"));
    let out = run(&["counters", "--interval", "0"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn snapshot_to_file_and_external_trees() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("snap.json");
    let out = run(&["snapshot", "--root", CAPTURE, "-o", file.to_str().unwrap()]);
    assert!(out.status.success());
    let snap: netdoctor::snapshot::Snapshot =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(snap.counter("TcpPassiveOpens"), Some(20));
    assert_eq!(snap.host.kernel.as_deref(), Some("6.18.44-fc-v657"));
    assert_eq!(snap.softnet.len(), 2);
    assert_eq!(snap.conntrack.as_ref().and_then(|c| c.count), Some(23));

    let node = PathBuf::from(EXTERNAL).join("node_exporter/collector/fixtures");
    if !node.is_dir() {
        println!("SKIP snapshot_to_file_and_external_trees (external part): {EXTERNAL} is absent");
        return;
    }
    let doc = json_of(&run(&[
        "counters",
        "--root",
        node.to_str().unwrap(),
        "--json",
        "--all",
    ]));
    assert_eq!(counter(&doc, "TcpExtTCPRcvQDrop").unwrap()["value"], 131);
    assert_eq!(counter(&doc, "SoftnetDropped").unwrap()["value"], 0x29);
    assert_eq!(counter(&doc, "ConntrackCount").unwrap()["value"], 123);
    assert_eq!(counter(&doc, "ConntrackMax").unwrap()["value"], 65536);
    assert!(counter(&doc, "ConntrackSearched").is_some());
}

#[test]
fn a_snapshot_reads_back_with_from() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("snap.json");
    let file = file.to_str().unwrap();
    let out = run(&["snapshot", "--root", CAPTURE, "-o", file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    // Everything collected: counters, and the socket and sysctl sources said either way.
    for name in ["snmp", "sysctl"] {
        assert!(
            snap["sources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["name"] == name),
            "{name}"
        );
    }
    assert!(
        snap["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "sock_diag" || s["name"] == "proc_net_tcp")
    );
    let direct = json_of(&run(&["counters", "--root", CAPTURE, "--all", "--json"]));
    let back = json_of(&run(&["counters", "--from", file, "--all", "--json"]));
    let values = |doc: &Value| -> Vec<(String, i64)> {
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
    };
    assert_eq!(values(&back), values(&direct));

    let out = run(&["snapshot", "--root", CAPTURE, "--counters-only"]);
    let only = json_of(&out);
    assert!(only["sysctl"].is_null() && only["sockets"].is_null());
}

/// Runs netdoctor with a watchdog: a run that has not ended after 60 s is killed and the test
/// fails (a FIFO read would otherwise hang the test run forever).
fn run_with_watchdog(args: &[&str]) -> Output {
    use std::time::{Duration, Instant};
    let mut child = Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run netdoctor");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait for netdoctor").is_some() {
            return child.wait_with_output().expect("netdoctor output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("netdoctor {args:?} still running after 60 s (blocked on a FIFO or device?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn make_fifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn replace_with_symlink(target: &str, link: &Path) {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn fifos_devices_and_huge_files_in_a_tree_are_refused_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(Path::new(CAPTURE), tmp.path());
    let proc_dir = tmp.path().join("proc");
    // Endless, blocking and oversized counter files.
    replace_with_symlink("/dev/zero", &proc_dir.join("net/snmp"));
    make_fifo(&proc_dir.join("net/snmp6"));
    let huge = std::fs::File::create(proc_dir.join("net/netstat")).unwrap();
    huge.set_len(17 << 20).unwrap(); // sparse: no disk used
    drop(huge);
    // Host facts and the uptime re-read with every sample.
    make_fifo(&proc_dir.join("meminfo"));
    make_fifo(&proc_dir.join("uptime"));
    replace_with_symlink("/dev/zero", &proc_dir.join("sys/kernel/osrelease"));

    let root = tmp.path().to_str().unwrap();
    let out = run_with_watchdog(&["counters", "--root", root, "--json"]);
    let doc = json_of(&out);
    let reason = |name: &str| {
        doc["unavailable"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == name)
            .map(|u| u["reason"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{name} not listed as unavailable: {doc}"))
    };
    let snmp = reason("snmp");
    assert!(
        snmp.contains("not a regular file (a character device)"),
        "{snmp}"
    );
    let snmp6 = reason("snmp6");
    assert!(snmp6.contains("not a regular file (a FIFO)"), "{snmp6}");
    let netstat = reason("netstat");
    assert!(netstat.contains("larger than 16 MiB"), "{netstat}");
    // The other files are still read.
    assert!(counter(&doc, "ConntrackCount").is_some(), "{doc}");
    assert!(doc["kernel"].is_null(), "{doc}");

    // The snapshot records the refusals as missing sources, and ends too.
    let snap = json_of(&run_with_watchdog(&["snapshot", "--root", root]));
    let sources = snap["sources"].as_array().unwrap();
    let snmp = sources.iter().find(|s| s["name"] == "snmp").unwrap();
    assert_eq!(snmp["status"]["state"], "missing");

    // Socket tables are read the same way.
    make_fifo(&proc_dir.join("net/tcp"));
    replace_with_symlink("/dev/zero", &proc_dir.join("net/tcp6"));
    let out = run_with_watchdog(&["sockets", "--root", root]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("not a regular file"), "{all}");
}
