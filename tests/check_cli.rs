//! `netdoctor check --interval 0 --root <tree>` end to end: exit codes (0 ok, 1 warning,
//! 2 critical, 3 unknown) and the shape of the netdoctor.check/v1 JSON document.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const SNMP: &str = "\
Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates
Ip: 1 64 900000 0 0 0 0 0 900000 850000 0 0 0 0 0 0 0 0 0
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 100 5000 3 10 12 800000 820000 400 0 20 0
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 5000 3 0 5000 0 0 0 0 0
";

fn netstat(listen_overflows: u64, listen_drops: u64) -> String {
    format!(
        "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed PruneCalled RcvPruned OfoPruned PAWSActive PAWSEstab ListenOverflows ListenDrops TCPReqQFullDoCookies TCPReqQFullDrop TCPRcvCollapsed TCPTimeWaitOverflow\n\
         TcpExt: 0 0 0 0 0 0 0 0 {listen_overflows} {listen_drops} 0 0 0 0\n\
         IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets OutOctets InCsumErrors\n\
         IpExt: 0 0 0 0 0 0 1000 1000 0\n"
    )
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create dir");
    }
    std::fs::write(path, text).expect("write file");
}

/// A captured tree of a quiet host, up one day.
fn tree(listen_overflows: u64, listen_drops: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(&root.join("proc/net/snmp"), SNMP);
    write(
        &root.join("proc/net/netstat"),
        &netstat(listen_overflows, listen_drops),
    );
    write(
        &root.join("proc/net/sockstat"),
        "sockets: used 40\nTCP: inuse 5 orphan 0 tw 3 alloc 7 mem 2\nUDP: inuse 1 mem 0\n",
    );
    write(&root.join("proc/uptime"), "86400.00 170000.00\n");
    write(&root.join("proc/sys/kernel/osrelease"), "6.1.0-18-amd64\n");
    write(&root.join("proc/sys/kernel/hostname"), "captured\n");
    dir
}

/// Adds a conntrack table with the given fill.
fn add_conntrack(root: &Path, count: u64, max: u64) {
    write(
        &root.join("proc/sys/net/netfilter/nf_conntrack_count"),
        &format!("{count}\n"),
    );
    write(
        &root.join("proc/sys/net/netfilter/nf_conntrack_max"),
        &format!("{max}\n"),
    );
}

fn check(root: &Path, extra: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .arg("check")
        .arg("--interval")
        .arg("0")
        .arg("--root")
        .arg(root)
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .expect("run netdoctor");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json(root: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = check(root, &args);
    let value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {stdout}\nstderr: {stderr}"));
    (code, value)
}

#[test]
fn a_quiet_tree_is_ok_with_exit_0_and_the_documented_shape() {
    let dir = tree(0, 0);
    let (code, doc) = json(dir.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["schema"], "netdoctor.check/v1");
    assert_eq!(doc["status"], "ok");
    assert!(doc["window_s"].is_null(), "--interval 0: no window");
    for key in [
        "hostname",
        "kernel",
        "uptime_s",
        "cpus",
        "mem_bytes",
        "netns",
    ] {
        assert!(
            doc["host"].get(key).is_some(),
            "host.{key} missing: {doc:#}"
        );
    }
    assert_eq!(doc["host"]["kernel"], "6.1.0-18-amd64");
    assert_eq!(doc["host"]["hostname"], "captured");
    assert!(
        doc["source"]
            .as_str()
            .is_some_and(|s| s.contains("captured tree"))
    );
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0));
    let not_evaluated = doc["not_evaluated"].as_array().expect("not_evaluated");
    assert!(
        not_evaluated
            .iter()
            .all(|n| n["rule"].is_string() && n["missing"].is_string())
    );
    let unavailable = doc["unavailable"].as_array().expect("unavailable");
    assert!(
        unavailable
            .iter()
            .all(|u| u["source"].is_string() && u["reason"].is_string())
    );
    assert!(
        unavailable.iter().any(|u| u["source"] == "softnet_stat"),
        "the tree has no softnet_stat: {doc:#}"
    );
}

#[test]
fn lifetime_totals_alone_stay_info_with_exit_0_and_no_rate() {
    let dir = tree(35_544_811_584, 35_544_811_584);
    let (code, doc) = json(dir.path(), &[]);
    assert_eq!(code, 0, "lifetime totals never alarm on their own: {doc:#}");
    let findings = doc["findings"].as_array().expect("findings");
    let overflow = findings
        .iter()
        .find(|f| f["id"] == "listen-overflow")
        .expect("listen-overflow info");
    assert_eq!(overflow["severity"], "info");
    let evidence = overflow["evidence"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == "TcpExtListenOverflows"))
        .expect("counter evidence");
    assert_eq!(evidence["kind"], "counter");
    assert_eq!(evidence["total"], 35_544_811_584u64);
    assert!(evidence["delta"].is_null());
    assert!(evidence["per_second"].is_null());
    // The lifetime average is labelled as such, apart from per_second.
    let avg = evidence["since_boot_per_second"].as_f64().expect("average");
    assert!((avg - 35_544_811_584.0 / 86_400.0).abs() < 1.0);
    for key in [
        "id",
        "severity",
        "title",
        "summary",
        "evidence",
        "remedy",
        "references",
    ] {
        assert!(overflow.get(key).is_some(), "finding.{key} missing");
    }

    // Human text: thousands separators, the finding id, the "not evaluated" section.
    let (code, text, _) = check(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(text.contains("35,544,811,584"), "{text}");
    assert!(text.contains("listen-overflow"), "{text}");
    assert!(text.contains("Not evaluated:"), "{text}");
    assert!(text.contains("Unavailable sources:"), "{text}");
}

#[test]
fn a_nearly_full_conntrack_table_is_a_warning_with_exit_1() {
    let dir = tree(0, 0);
    add_conntrack(dir.path(), 220_000, 262_144);
    let (code, doc) = json(dir.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["status"], "warning");
    assert_eq!(doc["findings"][0]["id"], "conntrack-full");
}

#[test]
fn a_full_conntrack_table_is_critical_with_exit_2_and_min_severity_filters() {
    let dir = tree(0, 0);
    add_conntrack(dir.path(), 262_000, 262_144);
    let (code, doc) = json(dir.path(), &[]);
    assert_eq!(code, 2, "{doc:#}");
    assert_eq!(doc["status"], "critical");
    assert_eq!(doc["findings"][0]["severity"], "critical");

    let dir = tree(35_544_811_584, 35_544_811_584);
    let (code, doc) = json(dir.path(), &["--min-severity", "warning"]);
    assert_eq!(code, 0);
    assert_eq!(
        doc["findings"].as_array().map(Vec::len),
        Some(0),
        "info left out"
    );
}

#[test]
fn nothing_readable_and_bad_usage_exit_3() {
    let empty = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = check(empty.path(), &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(!stderr.is_empty());

    let dir = tree(0, 0);
    for bad in [
        vec!["--min-severity", "loud"],
        vec!["--interval", "-1"],
        vec!["--interval", "nan"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
            .arg("check")
            .arg("--root")
            .arg(dir.path())
            .args(&bad)
            .output()
            .expect("run netdoctor");
        assert_eq!(output.status.code(), Some(3), "{bad:?}");
    }
}

#[test]
fn a_captured_tree_is_judged_at_once_without_an_interval() {
    let dir = tree(0, 0);
    // No clock: `window_s` being null below says the static tree was sampled once.
    let output = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["check", "--json", "--root"])
        .arg(dir.path())
        .output()
        .expect("run netdoctor");
    assert_eq!(output.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(doc["window_s"].is_null());
}

#[test]
fn explain_prints_every_check_rule() {
    for rule in netdoctor::analyze::rules::RULES {
        let output = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
            .args(["explain", rule.id])
            .env("NO_COLOR", "1")
            .output()
            .expect("run netdoctor explain");
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "explain {}: {text}", rule.id);
        assert!(text.contains(rule.id), "explain {}: {text}", rule.id);
        assert!(text.contains("Thresholds"), "explain {}: {text}", rule.id);
    }
}

/// The story's sysctl.conf (shared fixture of the sysctl work).
const STORY_SYSCTL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/story/sysctl.conf"
);

fn check_from(files: &[String], json: bool) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netdoctor"));
    command.arg("check").env("NO_COLOR", "1");
    if json {
        command.arg("--json");
    }
    for file in files {
        command.arg("--from").arg(file);
    }
    let output = command.output().expect("run netdoctor");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// True when the text holds a rate such as "12/s", "3.5/s" or "0/s".
fn shows_a_rate(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices("/s").any(|(i, _)| {
        let digit_before = i > 0 && bytes[i - 1].is_ascii_digit();
        let word_after = bytes.get(i + 2).is_some_and(|b| b.is_ascii_alphanumeric());
        digit_before && !word_after
    })
}

#[test]
fn the_story_from_pastes_gives_tw_recycle_first_critical_and_no_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paste = dir.path().join("ticket.txt");
    write(
        &paste,
        "    35544811584 SYNs to LISTEN sockets dropped\n\
         \x20   7008728 invalid SYN cookies received\n\
         \x20   10703 packets collapsed in receive queue due to low socket buffer\n",
    );
    let files = [paste.display().to_string(), STORY_SYSCTL.to_string()];
    let (code, stdout, stderr) = check_from(&files, true);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    let first = &doc["findings"][0];
    assert_eq!(first["id"], "tw-recycle", "{doc:#}");
    assert_eq!(first["severity"], "critical");
    let why = first["explanation"].as_str().unwrap_or_default();
    assert!(why.contains("35.5 billion dropped SYNs"), "{why}");
    assert!(why.contains("7.0 million invalid SYN cookies"), "{why}");
    let drops = first["evidence"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == "TcpExtListenDrops"))
        .expect("ListenDrops in the evidence");
    assert_eq!(drops["total"], 35_544_811_584u64);
    for finding in doc["findings"].as_array().expect("findings") {
        for e in finding["evidence"].as_array().expect("evidence") {
            assert!(e["per_second"].is_null(), "{e}");
            assert!(e["delta"].is_null(), "{e}");
            assert!(e.get("since_boot_per_second").is_none(), "{e}");
        }
    }
    let (code, text, _) = check_from(&files, false);
    assert_eq!(code, 2);
    assert!(text.contains("35,544,811,584"), "{text}");
    assert!(!shows_a_rate(&text), "no rate anywhere:\n{text}");
}

#[test]
fn two_dated_pastes_give_real_rates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("first.txt");
    let second = dir.path().join("second.txt");
    write(
        &first,
        "TcpExt:\n    1000 times the listen queue of a socket overflowed\n    1000 SYNs to LISTEN sockets dropped\n",
    );
    write(
        &second,
        "TcpExt:\n    6000 times the listen queue of a socket overflowed\n    6000 SYNs to LISTEN sockets dropped\n",
    );
    let files = [
        format!("{}@2024-05-01T10:00:00", first.display()),
        format!("{}@2024-05-01T10:00:05", second.display()),
    ];
    let (code, stdout, stderr) = check_from(&files, true);
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {stdout}\n{stderr}"));
    assert_eq!(code, 2, "1000/s overflows are critical: {doc:#}");
    assert_eq!(doc["window_s"], 5.0);
    let finding = doc["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == "listen-overflow"))
        .expect("listen-overflow");
    let counter = finding["evidence"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == "TcpExtListenOverflows"))
        .expect("counter evidence");
    assert_eq!(counter["delta"], 5000);
    assert_eq!(counter["per_second"], 1000.0);
    // Pastes are not a live measurement: no "right now", and both files are named.
    let summary = finding["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("between the two pastes"), "{summary}");
    assert!(!summary.contains("right now"), "{summary}");
    let source = doc["source"].as_str().unwrap_or_default();
    assert!(
        source.contains("first.txt") && source.contains("second.txt"),
        "{source}"
    );
}
