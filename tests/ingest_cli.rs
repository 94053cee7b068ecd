//! `netdoctor counters --from`: end to end through the binary.

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_netdoctor");

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    let ok = std::fs::File::create(&path).and_then(|mut f| f.write_all(text.as_bytes()));
    assert!(ok.is_ok(), "cannot write {}", path.display());
    path.display().to_string()
}

#[test]
fn dated_pastes_give_rates_and_undated_ones_totals() {
    let Ok(dir) = tempfile::tempdir() else {
        panic!("tempdir")
    };
    let a = write(dir.path(), "a.txt", "#kernel\nTcpExtListenDrops 100 0.0\n");
    let b = write(
        dir.path(),
        "b.txt",
        "$ nstat -az\n#kernel\nTcpExtListenDrops 160 0.0\n",
    );
    let out = Command::new(BIN)
        .args(["counters", "--json", "--from"])
        .arg(format!("{b}@2024-05-01T10:01:00"))
        .arg("--from")
        .arg(format!("{a}@2024-05-01T10:00:00"))
        .output();
    let Ok(out) = out else {
        panic!("cannot run netdoctor")
    };
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(json["interval_s"], 60.0);
    assert_eq!(json["counters"][0]["per_second"], 1.0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rates are measured"), "{stderr}");

    let out = Command::new(BIN)
        .args(["counters", "--json", "--from", &b])
        .output();
    let Ok(out) = out else {
        panic!("cannot run netdoctor")
    };
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(json["counters"][0]["value"], 160);
    assert!(
        json["counters"][0]["per_second"].is_null(),
        "a total shown as a rate"
    );
    assert!(json["interval_s"].is_null());
}

#[test]
fn stdin_and_errors() {
    let child = Command::new(BIN)
        .args(["counters", "--json", "--from", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        panic!("cannot run netdoctor")
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"TcpExt:\n    TCPTimeouts: 2\n");
    }
    let Ok(out) = child.wait_with_output() else {
        panic!("wait")
    };
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(json["counters"][0]["name"], "TcpExtTCPTimeouts");

    let Ok(dir) = tempfile::tempdir() else {
        panic!("tempdir")
    };
    let prose = write(dir.path(), "prose.txt", "the server is slow, please help\n");
    let out = Command::new(BIN)
        .args(["counters", "--from", &prose])
        .output();
    let Ok(out) = out else {
        panic!("cannot run netdoctor")
    };
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("prose.txt") && stderr.contains("not a format"),
        "{stderr}"
    );

    let out = Command::new(BIN)
        .args(["counters", "--from", &prose, "--interval", "1"])
        .output();
    assert_eq!(out.ok().and_then(|o| o.status.code()), Some(3));
}
