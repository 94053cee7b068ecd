//! `--from` on every command that takes it: one path (ingest's content detection) for
//! `check`, `counters`, `sysctl`, `sockets` and `snapshot`, through the binary.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_netdoctor");
const PASTES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pastes");

fn paste(name: &str) -> String {
    format!("{PASTES}/{name}")
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{BIN}: {e}"))
}

fn json_ok(args: &[&str]) -> (Value, String) {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    let doc = serde_json::from_slice(&out.stdout).expect("valid JSON on standard output");
    (doc, stderr)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a temporary file");
    path.display().to_string()
}

fn finding_ids(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn key<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["key"] == name)
        .unwrap_or_else(|| panic!("{name} not in the table"))
}

#[test]
fn sysctl_a_paste_gives_live_values_and_no_configuration() {
    let file = paste("sysctl-a-net.txt");
    let (doc, stderr) = json_ok(&["sysctl", "--from", &file, "--json"]);
    assert!(stderr.contains("sysctl output (live values)"), "{stderr}");
    assert_ne!(doc["loader"]["name"], "files");
    let keys = doc["keys"].as_array().expect("keys");
    assert!(keys.len() > 500, "{} keys", keys.len());
    assert!(keys.iter().all(|k| k["configured"].is_null()));
    assert!(doc["files"].as_array().is_none_or(|f| f.is_empty()));
    assert_eq!(key(&doc, "net.core.somaxconn")["live"], "4096");
    assert_eq!(key(&doc, "net.ipv4.tcp_tw_reuse")["live"], "2");
    // Live values without configuration: nothing to drift from, nothing judged "on its own".
    assert!(!finding_ids(&doc).contains(&"sysctl-drift".to_string()));
    for finding in doc["findings"].as_array().expect("findings") {
        assert!(
            !finding
                .to_string()
                .contains("judged from the file on its own")
        );
    }
}

#[test]
fn sysctl_a_and_a_disagreeing_conf_give_drift() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = write(
        dir.path(),
        "99-tuning.conf",
        "# web tier\nnet.core.somaxconn = 1024\nnet.ipv4.tcp_tw_reuse = 2\n",
    );
    let live = paste("sysctl-a-net.txt");
    let (doc, stderr) = json_ok(&["sysctl", "--from", &live, "--from", &conf, "--json"]);
    assert!(stderr.contains("sysctl configuration file"), "{stderr}");
    let somaxconn = key(&doc, "net.core.somaxconn");
    assert_eq!(somaxconn["live"], "4096");
    assert_eq!(somaxconn["configured"], "1024");
    assert_eq!(somaxconn["line"], 2);
    assert_eq!(somaxconn["drifted"], true);
    assert_eq!(key(&doc, "net.ipv4.tcp_tw_reuse")["drifted"], false);
    let drift: Vec<&Value> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["id"] == "sysctl-drift")
        .collect();
    assert_eq!(drift.len(), 1, "{:#}", doc["findings"]);
    let title = drift[0]["title"].as_str().unwrap_or_default();
    assert!(title.contains("net.core.somaxconn"), "{title}");
    assert!(
        drift[0]["evidence"]
            .as_array()
            .expect("evidence")
            .iter()
            .any(|e| e["line"] == 2 && e["file"].as_str().is_some_and(|f| f.ends_with(".conf")))
    );
}

#[test]
fn sysctl_from_a_paste_without_sysctl_data_is_an_error() {
    let out = run(&["sysctl", "--from", &paste("ss-ltn-full.txt")]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no sysctl values or configuration"),
        "{stderr}"
    );
}

#[test]
fn sockets_from_a_pasted_ss_ltn_shows_the_full_listener() {
    let file = paste("ss-ltn-full.txt");
    let (doc, stderr) = json_ok(&["sockets", "--from", &file, "--json"]);
    assert!(stderr.contains("ss socket list"), "{stderr}");
    assert_eq!(doc["schema"], "netdoctor.sockets/v1");
    let listeners = doc["listeners"].as_array().expect("listeners");
    assert_eq!(listeners.len(), 2);
    let full = listeners
        .iter()
        .find(|l| l["local"] == "127.0.0.1:8080")
        .expect("the 8080 listener");
    assert_eq!(full["queue"], 5);
    assert_eq!(full["backlog"], 4);
    assert_eq!(full["level"], "full");
    let idle = listeners
        .iter()
        .find(|l| l["local"] == "0.0.0.0:22")
        .expect("the 22 listener");
    assert_eq!(idle["backlog"], 128);
    assert_ne!(idle["level"], "full");

    let out = run(&["sockets", "--from", &file]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("127.0.0.1:8080"), "{text}");
    assert!(text.contains("125%"), "{text}");
}

#[test]
fn sockets_from_takes_somaxconn_from_a_pasted_sysctl_a() {
    let (doc, _) = json_ok(&[
        "sockets",
        "--from",
        &paste("ss-ltn-full.txt"),
        "--from",
        &paste("sysctl-a-net.txt"),
        "--json",
        "--listen",
    ]);
    assert_eq!(doc["somaxconn"], 4096);
    assert!(
        doc["listeners"]
            .as_array()
            .expect("listeners")
            .iter()
            .all(|l| l["capped_by_somaxconn"] == false)
    );
}

#[test]
fn sockets_from_refuses_per_socket_filters_and_pastes_without_sockets() {
    let out = run(&[
        "sockets",
        "--from",
        &paste("ss-ltn-full.txt"),
        "--port",
        "22",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port and --state"));
    let out = run(&["sockets", "--from", &paste("sysctl-a-net.txt")]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no socket table"), "{stderr}");
}

#[test]
fn snapshot_from_goes_through_ingest() {
    let (doc, stderr) = json_ok(&["snapshot", "--from", &paste("ss-ltn-full.txt")]);
    assert!(stderr.contains("ss socket list"), "{stderr}");
    assert_eq!(doc["schema"], "netdoctor.snapshot/v1");
    assert_eq!(doc["origin"]["kind"], "files");
    assert_eq!(
        doc["sockets"]["listeners"]
            .as_array()
            .expect("listeners")
            .len(),
        2
    );
}

/// A file of prose only: no format matches, so the command stops with exit 3 and says why.
fn no_format_is_exit_3(command: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let prose = write(
        dir.path(),
        "ticket.txt",
        "Hello,\nsince Monday the web servers are slow, please help.\nThanks, Kim\n",
    );
    let out = run(&[command, "--from", &prose]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{command}: {stderr}");
    assert!(out.stdout.is_empty(), "{command} printed a result");
    assert!(
        stderr.contains("not a format netdoctor reads") && stderr.contains("ticket.txt"),
        "{command}: {stderr}"
    );
    assert!(
        stderr.contains("first line: `Hello,`"),
        "{command}: {stderr}"
    );
}

#[test]
fn check_from_a_file_of_no_format_is_exit_3() {
    no_format_is_exit_3("check");
}

#[test]
fn counters_from_a_file_of_no_format_is_exit_3() {
    no_format_is_exit_3("counters");
}

#[test]
fn sysctl_from_a_file_of_no_format_is_exit_3() {
    no_format_is_exit_3("sysctl");
}

#[test]
fn sockets_from_a_file_of_no_format_is_exit_3() {
    no_format_is_exit_3("sockets");
}

#[test]
fn snapshot_from_a_file_of_no_format_is_exit_3() {
    no_format_is_exit_3("snapshot");
}

#[test]
fn pasted_glob_lines_expand_over_the_pasted_live_keys() {
    let live = std::fs::read_to_string(paste("sysctl-a-net.txt")).expect("fixture");
    let conf = "# rp_filter everywhere but lo\n\
                net.ipv4.conf.*.rp_filter = 2\n\
                -net.ipv4.conf.lo.rp_filter\n\
                net.ipv4.conf.eth0.rp_filter = 1\n\
                net.ipv6.conf.*.no_such_key = 1\n";
    let index = netdoctor::ingest::PhraseIndex::from_kb();
    let (snapshot, _) = netdoctor::ingest::load_texts_with(
        &[("sysctl-a.txt", &live, None), ("90-rp.conf", conf, None)],
        index,
    )
    .expect("both pastes are read");
    let view = snapshot.sysctl.expect("a sysctl view");
    let all = view.key("net.ipv4.conf.all.rp_filter").expect("all");
    assert_eq!(all.live.as_deref(), Some("0"));
    let configured = all.configured.as_ref().expect("set by the glob");
    assert_eq!((configured.value.as_str(), configured.line), ("2", 2));
    assert_eq!(all.glob.as_deref(), Some("net.ipv4.conf.*.rp_filter"));
    // The explicit line wins over the glob; `-key` keeps lo out of it.
    let eth0 = view.key("net.ipv4.conf.eth0.rp_filter").expect("eth0");
    assert_eq!(eth0.configured.as_ref().map(|c| c.line), Some(4));
    assert!(eth0.glob.is_none());
    let lo = view.key("net.ipv4.conf.lo.rp_filter").expect("lo");
    assert!(lo.configured.is_none());
    assert!(view.key("net.ipv4.conf.*.rp_filter").is_none());
    assert_eq!(view.unmatched_globs.len(), 1);
    assert_eq!(view.unmatched_globs[0].line, 5);
}
