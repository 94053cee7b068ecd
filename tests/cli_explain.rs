//! `netdoctor explain` end to end: the real binary, its exit codes, its text and its JSON.

use std::process::{Command, Output};

fn explain(args: &[&str]) -> Output {
    let result = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .arg("explain")
        .args(args)
        .env("NO_COLOR", "1")
        .output();
    match result {
        Ok(output) => output,
        Err(e) => panic!("cannot run netdoctor: {e}"),
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_counter_name_prints_the_whole_entry() {
    let out = explain(&["TcpRetransSegs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for part in [
        "TcpRetransSegs",
        "/proc/net/snmp",
        "N segments retransmitted",
        "N segments retransmited",
        "What it counts",
        "When it rises",
        "Related counters",
        "Kernel versions",
    ] {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
}

#[test]
fn a_pasted_netstat_line_finds_its_counter() {
    let out = explain(&["2890303", "segments", "send", "out"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("TcpOutSegs"), "{}", stdout(&out));
}

#[test]
fn a_sysctl_in_slash_form_prints_defaults_and_history() {
    let out = explain(&["net/core/somaxconn"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for part in [
        "net.core.somaxconn",
        "before 5.4",
        "since 5.4",
        "4096",
        "What goes wrong",
        "History",
    ] {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
    let out = explain(&["net.ipv4.tcp_tw_recycle"]);
    assert!(stdout(&out).contains("removed in 4.12"), "{}", stdout(&out));
}

#[test]
fn an_ambiguous_field_lists_the_candidates() {
    let out = explain(&["InErrors"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("entries match"), "{text}");
    assert!(
        text.contains("UdpInErrors") && text.contains("Icmp6InErrors"),
        "{text}"
    );
}

#[test]
fn nothing_matching_exits_3_with_suggestions() {
    let out = explain(&["TcpRetransSeg"]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("nothing in the knowledge base matches"),
        "{err}"
    );
    assert!(err.contains("TcpRetransSegs"), "{err}");
    let out = explain(&["qqqqqqqqqqqqqqqq"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("Try a counter name"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_output_follows_the_schema() {
    let out = explain(&["--json", "UdpRcvbufErrors"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("not JSON ({e}): {}", stdout(&out)),
    };
    assert_eq!(doc["schema"], "netdoctor.explain/v1");
    assert_eq!(doc["match"], "counter_name");
    let first = &doc["results"][0];
    assert_eq!(first["kind"], "counter");
    assert_eq!(first["name"], "UdpRcvbufErrors");
    assert_eq!(first["section"], "Udp");
    assert_eq!(first["is_error"], true);
    assert!(
        first["sysctls"]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s == "net.core.rmem_max"))
    );

    let out = explain(&["--json", "TcpRetransSeg"]);
    assert_eq!(out.status.code(), Some(3));
    let doc: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("not JSON ({e}): {}", stdout(&out)),
    };
    assert_eq!(doc["match"], "none");
    assert_eq!(doc["results"].as_array().map(Vec::len), Some(0));
    assert!(
        doc["suggestions"]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s == "TcpRetransSegs"))
    );
}

#[test]
fn listen_drops_by_field_and_phrase() {
    let out = explain(&["ListenDrops"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("TcpExtListenDrops"),
        "{}",
        stdout(&out)
    );
    let out = explain(&["SYNs to LISTEN sockets ignored"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with("TcpExtListenDrops"),
        "{}",
        stdout(&out)
    );
}
