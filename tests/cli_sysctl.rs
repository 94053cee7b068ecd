//! `netdoctor sysctl` end to end: the binary on --root trees and on the story's sysctl.conf.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_netdoctor");
const STORY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/story/sysctl.conf"
);

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{BIN}: {e}"))
}

fn json(args: &[&str]) -> Value {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(full.parent().unwrap()).unwrap();
    fs::write(full, text).unwrap();
}

fn finding_ids(doc: &Value) -> Vec<String> {
    let mut ids: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// A captured tree of a CentOS 7 host (kernel 3.10) with the story's configuration.
fn old_host(root: &Path) {
    write(
        root,
        "/proc/sys/kernel/osrelease",
        "3.10.0-1160.el7.x86_64\n",
    );
    write(root, "/proc/meminfo", "MemTotal:        8000000 kB\n");
    write(root, "/proc/sys/net/ipv4/tcp_tw_recycle", "1\n");
    write(root, "/proc/sys/net/ipv4/tcp_tw_reuse", "1\n");
    write(root, "/proc/sys/net/ipv4/tcp_timestamps", "1\n");
    write(root, "/proc/sys/net/ipv4/tcp_syncookies", "1\n");
    write(root, "/proc/sys/net/ipv4/tcp_max_syn_backlog", "16192\n");
    write(root, "/proc/sys/net/core/somaxconn", "4096\n");
    write(root, "/proc/sys/vm/overcommit_memory", "1\n");
    write(
        root,
        "/proc/sys/net/ipv4/tcp_mem",
        "184167\t245558\t368334\n",
    );
    write(root, "/sbin/sysctl", "");
    fs::create_dir_all(root.join("etc/sysctl.d")).unwrap();
    fs::copy(STORY, root.join("etc/sysctl.conf")).unwrap();
}

#[test]
fn story_file_yields_tw_recycle_and_unknown_key_only() {
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let version = netdoctor::snapshot::KernelVersion::parse(&release);
    if version.is_none_or(|v| v < netdoctor::snapshot::KernelVersion::new(4, 12)) {
        println!(
            "SKIP story_file_yields_tw_recycle_and_unknown_key_only: kernel {release} is not >= 4.12"
        );
        return;
    }
    let doc = json(&["sysctl", "--from", STORY, "--json"]);
    assert_eq!(doc["schema"], "netdoctor.sysctl/v1");
    assert_eq!(doc["loader"]["name"], "files");
    // Exactly these two, whatever this host's own tuning is: a pasted file is judged on its
    // own (only the kernel version and the existence of keys come from this host).
    assert_eq!(finding_ids(&doc), vec!["sysctl-unknown-key", "tw-recycle"]);
    let tw = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "tw-recycle")
        .unwrap();
    assert_eq!(tw["severity"], "warning");
    assert!(
        tw["caveats"].as_array().unwrap().iter().any(|c| c
            .as_str()
            .unwrap()
            .contains("judged from the file on its own")),
        "{tw}"
    );
    assert!(
        doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["drifted"] == false)
    );
    let unknown = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "sysctl-unknown-key")
        .unwrap();
    let summary = unknown["summary"].as_str().unwrap();
    assert!(summary.contains("4.12"), "{summary}");
    assert!(
        summary.contains(
            "sysctl: cannot stat /proc/sys/net/ipv4/tcp_tw_recycle: No such file or directory"
        ),
        "{summary}"
    );
    let evidence = &unknown["evidence"][0];
    assert_eq!(evidence["kind"], "sysctl");
    assert_eq!(evidence["line"], 9);
    assert!(
        evidence["file"]
            .as_str()
            .unwrap()
            .ends_with("story/sysctl.conf")
    );
    // The commented lines are not assignments; the active ones are all listed.
    let keys: Vec<&str> = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| !k["configured"].is_null())
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    for expected in [
        "vm.overcommit_memory",
        "net.ipv4.tcp_max_syn_backlog",
        "net.core.somaxconn",
        "net.ipv4.tcp_tw_recycle",
        "net.ipv4.tcp_tw_reuse",
    ] {
        assert!(keys.contains(&expected), "{expected} missing from {keys:?}");
    }
    assert!(!keys.contains(&"fs.file-max"));
}

#[test]
fn from_file_is_judged_like_the_same_file_in_a_tree() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("d.conf");
    fs::write(&conf, "net.core.somaxconn = 77\n").unwrap();
    let conf_arg = conf.display().to_string();
    let from = json(&["sysctl", "--from", &conf_arg, "--json"]);
    assert_eq!(finding_ids(&from), vec!["somaxconn-low"]);
    let finding = &from["findings"][0];
    assert!(finding["title"].as_str().unwrap().contains("= 77"));
    assert!(
        finding["caveats"][0]
            .as_str()
            .unwrap()
            .contains("judged from the file on its own")
    );
    // The same file as the configuration of a captured tree whose live value agrees.
    let tree = dir.path().join("tree");
    write(&tree, "/proc/sys/kernel/osrelease", "6.1.0\n");
    write(&tree, "/proc/sys/net/core/somaxconn", "77\n");
    write(&tree, "/etc/sysctl.d/d.conf", "net.core.somaxconn = 77\n");
    write(&tree, "/usr/lib/systemd/systemd-sysctl", "");
    let tree_arg = tree.display().to_string();
    let in_tree = json(&["sysctl", "--root", &tree_arg, "--json"]);
    assert_eq!(finding_ids(&in_tree), vec!["somaxconn-low"]);
}

#[test]
fn text_lists_skipped_lines_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    let mut text = String::from("net.core.somaxconn = 4096\n");
    for n in 0..7 {
        text.push_str(&format!("this is not an assignment {n}\n"));
    }
    fs::write(&conf, text).unwrap();
    let conf_arg = conf.display().to_string();
    let out = run(&["sysctl", "--from", &conf_arg]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("7 line(s) skipped"), "{stdout}");
    assert!(stdout.contains(&format!("{conf_arg}:2: ")), "{stdout}");
    assert!(stdout.contains(&format!("{conf_arg}:6: ")), "{stdout}");
    assert!(!stdout.contains(&format!("{conf_arg}:7: ")), "{stdout}");
    assert!(stdout.contains("... and 2 more"), "{stdout}");
}

#[test]
fn old_kernel_tree_is_critical_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    old_host(dir.path());
    let root = dir.path().display().to_string();
    let doc = json(&["sysctl", "--root", &root, "--json"]);
    assert_eq!(doc["kernel"], "3.10.0-1160.el7.x86_64");
    assert_eq!(finding_ids(&doc), vec!["tw-recycle"]);
    let tw = &doc["findings"][0];
    assert_eq!(tw["severity"], "critical");
    assert_eq!(tw["evidence"][0]["file"], "/etc/sysctl.conf");
    assert_eq!(tw["evidence"][0]["line"], 9);
    assert!(tw["remedy"].as_array().unwrap().iter().any(|r| {
        r.as_str()
            .unwrap()
            .contains("Delete line 9 of /etc/sysctl.conf")
    }));
    // somaxconn 4096 is above the 3.10 default of 128: nothing to say.
    let somaxconn = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "net.core.somaxconn")
        .unwrap();
    assert_eq!(somaxconn["default"], "128");
    assert_eq!(somaxconn["configured"], "4096");
    assert_eq!(somaxconn["file"], "/etc/sysctl.conf");
    assert_eq!(somaxconn["line"], 8);
    assert_eq!(somaxconn["unit"], "count");
    assert!(somaxconn["overrides"].as_array().unwrap().is_empty());
}

#[test]
fn patterns_filter_the_table() {
    let dir = tempfile::tempdir().unwrap();
    old_host(dir.path());
    let root = dir.path().display().to_string();
    let doc = json(&[
        "sysctl",
        "--root",
        &root,
        "--json",
        "net.ipv4.tcp_tw*",
        "vm",
    ]);
    let keys: Vec<&str> = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        vec![
            "net.ipv4.tcp_tw_recycle",
            "net.ipv4.tcp_tw_reuse",
            "vm.overcommit_memory"
        ]
    );
    let doc = json(&["sysctl", "--root", &root, "--json", "net.core.somaxconn"]);
    assert!(doc["findings"].as_array().unwrap().is_empty());
}

#[test]
fn overrides_masking_and_tcp_mem_in_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "/proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
    write(root, "/proc/meminfo", "MemTotal:        8388608 kB\n");
    write(root, "/proc/sys/net/core/somaxconn", "1024\n");
    write(
        root,
        "/proc/sys/net/ipv4/tcp_mem",
        "4096\t87380\t16777216\n",
    );
    write(root, "/usr/lib/systemd/systemd-sysctl", "");
    write(
        root,
        "/usr/lib/sysctl.d/50-vendor.conf",
        "net.core.somaxconn = 512\n",
    );
    write(
        root,
        "/etc/sysctl.d/30-tuning.conf",
        "net.core.somaxconn = 1024\nnet.ipv4.tcp_mem = 4096 87380 16777216\n",
    );
    symlink("/dev/null", root.join("etc/sysctl.d/50-vendor.conf")).unwrap();
    let shown = root.display().to_string();
    let doc = json(&["sysctl", "--root", &shown, "--json"]);
    assert_eq!(doc["loader"]["name"], "systemd-sysctl");
    assert_eq!(
        finding_ids(&doc),
        vec!["somaxconn-low", "tcp-mem-units"],
        "{:#}",
        doc["findings"]
    );
    let files = doc["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|f| f["path"] == "/usr/lib/sysctl.d/50-vendor.conf"
                && f["state"] == "masked by /etc/sysctl.d/50-vendor.conf")
    );
    let mem = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "tcp-mem-units")
        .unwrap();
    // 8 GiB in 4 KiB pages (assumed: no page size under --root) = 2097152; limit = 131072.
    let remedy = mem["remedy"][0].as_str().unwrap();
    assert!(remedy.contains("98304 131072 196608"), "{remedy}");
    assert!(!mem["caveats"].as_array().unwrap().is_empty());
}

#[test]
fn text_output_has_table_loader_and_findings() {
    let dir = tempfile::tempdir().unwrap();
    old_host(dir.path());
    let root = dir.path().display().to_string();
    let out = run(&["sysctl", "--root", &root]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("KEY"), "{text}");
    assert!(text.contains("FILE:LINE"));
    assert!(text.contains("/etc/sysctl.conf:9"));
    assert!(text.contains("Loader: procps sysctl --system"));
    assert!(text.contains("CRITICAL"));
    assert!(text.contains("[tw-recycle]"));
}

#[test]
fn missing_proc_sys_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "/etc/sysctl.conf",
        "net.ipv4.tcp_tw_recycle = 1\n",
    );
    let root = dir.path().display().to_string();
    let doc = json(&["sysctl", "--root", &root, "--json"]);
    let unavailable = doc["unavailable"].as_array().unwrap();
    assert!(
        unavailable
            .iter()
            .any(|u| u["name"].as_str().unwrap().starts_with("sysctl")),
        "{unavailable:?}"
    );
    // Kernel unknown: tw-recycle describes both cases.
    let tw = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "tw-recycle")
        .unwrap();
    assert!(
        tw["summary"]
            .as_str()
            .unwrap()
            .contains("kernel version is unknown")
    );
}

#[test]
fn errors_exit_3() {
    let out = run(&["sysctl", "--root", "/nonexistent/netdoctor-tree"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a directory"));
    let out = run(&["sysctl", "--from", "/nonexistent/sysctl.conf"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn captured_tree_absence_is_not_proof_except_for_removed_keys() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "/proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
    write(root, "/proc/sys/net/core/somaxconn", "4096\n");
    write(
        root,
        "/etc/sysctl.conf",
        "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_fin_timeout = 30\n",
    );
    let shown = root.display().to_string();
    let doc = json(&["sysctl", "--root", &shown, "--json"]);
    let findings = doc["findings"].as_array().unwrap();
    let severity_of = |id: &str, key: &str| {
        findings
            .iter()
            .find(|f| f["id"] == id && f["title"].as_str().unwrap().contains(key))
            .map(|f| f["severity"].as_str().unwrap().to_string())
    };
    assert_eq!(
        severity_of("sysctl-unknown-key", "tcp_tw_recycle").as_deref(),
        Some("warning")
    );
    assert_eq!(
        severity_of("sysctl-unknown-key", "tcp_fin_timeout").as_deref(),
        Some("info")
    );
    assert_eq!(
        severity_of("tw-recycle", "tcp_tw_recycle").as_deref(),
        Some("warning")
    );
    let fin = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "net.ipv4.tcp_fin_timeout")
        .unwrap();
    assert!(
        fin["live_missing"]
            .as_str()
            .unwrap()
            .starts_with("not in this tree")
    );
}

#[test]
fn external_node_exporter_tree() {
    let tree = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/external/node_exporter/collector/fixtures"
    );
    if !Path::new(tree).join("proc/sys").is_dir() {
        println!("SKIP external_node_exporter_tree: {tree} absent");
        return;
    }
    let expected =
        fs::read_to_string(Path::new(tree).join("proc/sys/net/netfilter/nf_conntrack_max"))
            .unwrap_or_default();
    // Our configuration beside the captured /proc: the file agrees with the capture.
    let dir = tempfile::tempdir().unwrap();
    symlink(Path::new(tree).join("proc"), dir.path().join("proc")).unwrap();
    write(
        dir.path(),
        "/etc/sysctl.conf",
        &format!("net.netfilter.nf_conntrack_max = {}\n", expected.trim()),
    );
    let root = dir.path().display().to_string();
    let doc = json(&["sysctl", "--root", &root, "--json", "net.netfilter"]);
    let max = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "net.netfilter.nf_conntrack_max")
        .cloned()
        .unwrap_or_else(|| panic!("nf_conntrack_max missing: {doc:#}"));
    assert_eq!(max["live"].as_str(), Some(expected.trim()));
    assert_eq!(max["configured"].as_str(), Some(expected.trim()));
    assert!(doc["findings"].as_array().unwrap().is_empty(), "{doc:#}");
}

#[test]
fn a_bare_name_selects_the_key_and_no_match_is_an_error() {
    let bin = env!("CARGO_BIN_EXE_netdoctor");
    let out = std::process::Command::new(bin)
        .args(["sysctl", "somaxconn", "--json"])
        .output()
        .expect("run netdoctor");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let keys = doc["keys"].as_array().expect("keys");
    assert!(
        keys.iter().all(|k| k["key"] == "net.core.somaxconn"),
        "{keys:?}"
    );
    assert_eq!(keys.len(), 1);
    assert!(keys[0]["note"].is_string(), "the KB's one-line note");

    let out = std::process::Command::new(bin)
        .args(["sysctl", "no_such_sysctl_key"])
        .output()
        .expect("run netdoctor");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no key matches no_such_sysctl_key"));
}
