//! Agreement with the real loaders (root only): a configuration tree is applied inside a fresh
//! network namespace by procps `sysctl --system` and by systemd-sysctl, each seeing the tree's
//! directories bind-mounted over the system ones in a private mount namespace; then
//! `netdoctor sysctl --root TREE --json`, run in the same network namespace (TREE/proc links to
//! /proc, whose sys/net part belongs to the reader's namespace), must name as winner exactly
//! the value the real tool left in /proc/sys, for every net.* key.
//!
//! Only per-namespace net.* keys are used, so nothing outside the test's namespaces changes.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A network namespace that is deleted when dropped (also on panic).
struct Netns(String);

impl Netns {
    fn create() -> Result<Self, String> {
        let name = format!(
            "nd-sysctl-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let status = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .map_err(|e| format!("ip netns add: {e}"))?;
        if !status.success() {
            return Err(format!("ip netns add {name} failed"));
        }
        Ok(Netns(name))
    }

    fn exec(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["netns", "exec", self.0.as_str()];
        all.extend_from_slice(args);
        Command::new("ip")
            .args(&all)
            .output()
            .unwrap_or_else(|e| panic!("ip {all:?}: {e}"))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn skip_reason() -> Option<String> {
    // SAFETY-free check of the effective user: `id -u`.
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("needs root".into());
    }
    for tool in ["ip", "unshare", "mount", "sh"] {
        if which(tool).is_none() {
            return Some(format!("{tool} not found"));
        }
    }
    if !Path::new("/etc/sysctl.d").is_dir() || !Path::new("/usr/lib/sysctl.d").is_dir() {
        return Some("/etc/sysctl.d or /usr/lib/sysctl.d missing (mount points)".into());
    }
    if !Path::new("/usr/local/lib").is_dir() {
        return Some("/usr/local/lib missing (mount point)".into());
    }
    if !Path::new("/etc/sysctl.conf").is_file() {
        return Some("/etc/sysctl.conf missing (mount point)".into());
    }
    None
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(full.parent().unwrap()).unwrap();
    fs::write(full, text).unwrap();
}

fn link(root: &Path, path: &str, target: &str) {
    let full = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(full.parent().unwrap()).unwrap();
    symlink(target, full).unwrap();
}

/// The configuration tree: masking by name (/dev/null link, empty file, plain file in a
/// higher directory), ordering by name across all four directories, globs with an explicit
/// key and exclusions (conf.default is excluded too: the kernel copies a write to
/// conf/default into every interface that never set the key itself), slash separators, duplicates, Debian's link to /etc/sysctl.conf.
fn build_tree(root: &Path) {
    write(
        root,
        "/usr/lib/sysctl.d/10-vendor.conf",
        "net.ipv4.tcp_fin_timeout = 41\nnet.ipv4.tcp_keepalive_time = 3001\n",
    );
    write(
        root,
        "/etc/sysctl.d/10-vendor.conf",
        "net.ipv4.tcp_fin_timeout = 42\n",
    );
    write(
        root,
        "/etc/sysctl.d/15-explicit.conf",
        "net.ipv4.conf.lo.rp_filter = 1\n-net.ipv4.conf.v1.rp_filter\n-net.ipv4.conf.default.rp_filter\nnet.ipv4.tcp_synack_retries = 4\n",
    );
    write(
        root,
        "/usr/lib/sysctl.d/20-glob.conf",
        "net.ipv4.conf.*.rp_filter = 2\r\nnet.ipv4.tcp_synack_retries = 3\r\n",
    );
    write(
        root,
        "/usr/lib/sysctl.d/30-masked.conf",
        "net.ipv4.tcp_syn_retries = 3\n",
    );
    link(root, "/etc/sysctl.d/30-masked.conf", "/dev/null");
    // The same glob again with the same value: systemd-sysctl keeps its first position (so
    // 25's v* line wins for v0), procps applies it again (so it wins).
    write(
        root,
        "/usr/lib/sysctl.d/25-glob2.conf",
        "net.ipv4.conf.v*.rp_filter = 1\n",
    );
    write(
        root,
        "/etc/sysctl.d/27-glob3.conf",
        "net.ipv4.conf.*.rp_filter = 2\n",
    );
    write(
        root,
        "/usr/local/lib/sysctl.d/40-local.conf",
        "net.core.somaxconn = 2000\nnet/ipv4/tcp_keepalive_intvl = 31",
    );
    write(
        root,
        "/run/sysctl.d/50-run.conf",
        "# run\nnet.core.somaxconn = 3000\n; x\nnet.ipv4.tcp_keepalive_probes = 7\n",
    );
    write(
        root,
        "/usr/lib/sysctl.d/50-run.conf",
        "net.ipv4.tcp_keepalive_probes = 5\n",
    );
    write(
        root,
        "/usr/lib/sysctl.d/60-empty.conf",
        "net.ipv4.tcp_max_syn_backlog = 999\n",
    );
    write(root, "/etc/sysctl.d/60-empty.conf", "");
    write(
        root,
        "/etc/sysctl.conf",
        "net.core.somaxconn = 5000\nnet.ipv4.tcp_timestamps = 0\n",
    );
    link(root, "/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf");
    write(
        root,
        "/etc/sysctl.d/zz-last.conf",
        "net.core.somaxconn = 6000\n",
    );
    // Live values come from the reader's /proc (inside the namespace).
    link(root, "/proc", "/proc");
}

/// Applies the tree with the real tool inside the namespace, the tree's directories mounted
/// over the system ones in a private mount namespace.
fn apply(ns: &Netns, tree: &Path, tool: &str) -> std::process::Output {
    for dir in [
        "etc/sysctl.d",
        "run/sysctl.d",
        "usr/lib/sysctl.d",
        "usr/local/lib/sysctl.d",
    ] {
        fs::create_dir_all(tree.join(dir)).unwrap();
    }
    // Markers prove the bind mounts took effect before the tool runs: without them the tool
    // would read the host's own files (and write global keys on the host).
    for dir in ["etc/sysctl.d", "usr/lib/sysctl.d"] {
        fs::write(tree.join(dir).join(".netdoctor-test-tree"), "").unwrap();
    }
    let t = tree.display();
    // Where /lib is its own directory (not a link to usr/lib), the loaders read /lib/sysctl.d
    // too: it is covered by the tree as well, or the host's files there would be applied.
    let lib_mount = if lib_sysctl_d_is_separate() {
        fs::create_dir_all(tree.join("lib/sysctl.d")).unwrap();
        fs::write(tree.join("lib/sysctl.d/.netdoctor-test-tree"), "").unwrap();
        format!(
            "mount --bind '{t}/lib/sysctl.d' /lib/sysctl.d
[ -e /lib/sysctl.d/.netdoctor-test-tree ] || exit 97
"
        )
    } else {
        String::new()
    };
    let script = format!(
        "set -e
{lib_mount}mount --bind '{t}/etc/sysctl.d' /etc/sysctl.d
mount --bind '{t}/etc/sysctl.conf' /etc/sysctl.conf
mount --bind '{t}/usr/lib/sysctl.d' /usr/lib/sysctl.d
mount -t tmpfs nd-run /run
mkdir -p /run/sysctl.d
mount --bind '{t}/run/sysctl.d' /run/sysctl.d
mount -t tmpfs nd-local /usr/local/lib
mkdir -p /usr/local/lib/sysctl.d
mount --bind '{t}/usr/local/lib/sysctl.d' /usr/local/lib/sysctl.d
[ -e /etc/sysctl.d/.netdoctor-test-tree ] || exit 97
[ -e /usr/lib/sysctl.d/.netdoctor-test-tree ] || exit 97
set +e
{tool}
exit 0
"
    );
    ns.exec(&[
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
    ])
}

/// True when /lib/sysctl.d exists and is not /usr/lib/sysctl.d reached through a link.
fn lib_sysctl_d_is_separate() -> bool {
    match (
        fs::canonicalize("/lib/sysctl.d"),
        fs::canonicalize("/usr/lib/sysctl.d"),
    ) {
        (Ok(lib), Ok(usr_lib)) => lib != usr_lib,
        (Ok(_), Err(_)) => true,
        _ => false,
    }
}

fn netdoctor_json(ns: &Netns, tree: &Path) -> Value {
    let tree_arg = tree.display().to_string();
    let out = ns.exec(&[
        env!("CARGO_BIN_EXE_netdoctor"),
        "sysctl",
        "--root",
        &tree_arg,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "netdoctor failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("netdoctor JSON")
}

fn same_value(a: &str, b: &str) -> bool {
    netdoctor::analyze::rules::sysctl::values_equal(a, b)
}

/// Runs one tool and compares; returns the configured winners we computed.
fn agree(tool_binary: &str, marker: &str, test: &str) -> Option<Vec<(String, String)>> {
    if let Some(reason) = skip_reason() {
        println!("SKIP {test}: {reason}");
        return None;
    }
    if !Path::new(tool_binary.split_whitespace().next().unwrap_or("")).exists()
        && which(tool_binary.split_whitespace().next().unwrap_or("")).is_none()
    {
        println!("SKIP {test}: {tool_binary} not found");
        return None;
    }
    let tree = tempfile::tempdir().unwrap();
    build_tree(tree.path());
    // Make loader detection pick the tool under test.
    write(tree.path(), marker, "");
    let ns = Netns::create().unwrap();
    let veth = ns.exec(&[
        "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1",
    ]);
    assert!(
        veth.status.success(),
        "veth: {}",
        String::from_utf8_lossy(&veth.stderr)
    );
    let applied = apply(&ns, tree.path(), tool_binary);
    let tool_stderr = String::from_utf8_lossy(&applied.stderr).to_string();
    // The script exits 0 after running the tool, 97 when a bind mount did not take effect,
    // and another code when a mount failed: then the tool read the host's files, and any
    // comparison below would only show confusing mismatches.
    assert!(
        applied.status.success(),
        "setting up the tree for {tool_binary} failed ({:?}): {tool_stderr}",
        applied.status.code()
    );
    let doc = netdoctor_json(&ns, tree.path());
    let mut winners = Vec::new();
    let mut mismatches = Vec::new();
    for key in doc["keys"].as_array().unwrap() {
        let name = key["key"].as_str().unwrap_or_default();
        let Some(configured) = key["configured"].as_str() else {
            continue;
        };
        if !name.starts_with("net.") {
            continue;
        }
        let live = key["live"].as_str().unwrap_or("(none)");
        winners.push((name.to_string(), configured.to_string()));
        if !same_value(configured, live) {
            mismatches.push(format!(
                "{name}: we say {configured} from {}:{}, {tool_binary} left {live}",
                key["file"], key["line"]
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "disagreement with {tool_binary}:\n{}\ntool stderr:\n{tool_stderr}",
        mismatches.join("\n")
    );
    // Keys in masked files must not be configured, nor applied by the tool.
    for key in doc["keys"].as_array().unwrap() {
        let name = key["key"].as_str().unwrap_or_default();
        let live = key["live"].as_str().unwrap_or_default();
        match name {
            "net.ipv4.tcp_syn_retries" => assert_ne!(live, "3", "masked by /dev/null link"),
            "net.ipv4.tcp_max_syn_backlog" => assert_ne!(live, "999", "masked by empty file"),
            "net.ipv4.conf.v1.rp_filter" => {
                assert!(key["configured"].is_null());
                assert_eq!(live, "0", "excluded from the glob");
            }
            _ => {}
        }
    }
    Some(winners)
}

fn winner<'a>(winners: &'a [(String, String)], key: &str) -> Option<&'a str> {
    winners
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn agrees_with_procps_sysctl_system() {
    // --pattern keeps the tool to net.* keys, whatever happens.
    let Some(w) = agree(
        "sysctl -q --system --pattern '^net[.]'",
        "/sbin/sysctl",
        "agrees_with_procps_sysctl_system",
    ) else {
        return;
    };
    // procps reads /etc/sysctl.conf once more at the end.
    assert_eq!(winner(&w, "net.core.somaxconn"), Some("5000"));
    assert_eq!(winner(&w, "net.ipv4.tcp_fin_timeout"), Some("42"));
    assert_eq!(winner(&w, "net.ipv4.tcp_synack_retries"), Some("3"));
    assert_eq!(winner(&w, "net.ipv4.conf.lo.rp_filter"), Some("1"));
    assert_eq!(winner(&w, "net.ipv4.conf.v0.rp_filter"), Some("2"));
    assert_eq!(winner(&w, "net.ipv4.tcp_keepalive_probes"), Some("7"));
    assert_eq!(winner(&w, "net.ipv4.tcp_keepalive_intvl"), Some("31"));
}

#[test]
fn agrees_with_systemd_sysctl() {
    let binary = [
        "/usr/lib/systemd/systemd-sysctl",
        "/lib/systemd/systemd-sysctl",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists());
    let Some(binary) = binary else {
        println!("SKIP agrees_with_systemd_sysctl: systemd-sysctl not installed");
        return;
    };
    // --prefix keeps the tool to net.* keys, whatever happens.
    let tool = format!("{binary} --prefix=/net");
    let Some(w) = agree(
        &tool,
        "/usr/lib/systemd/systemd-sysctl",
        "agrees_with_systemd_sysctl",
    ) else {
        return;
    };
    // systemd-sysctl applies zz-last.conf after 99-sysctl.conf and never reads sysctl.conf
    // on its own.
    assert_eq!(winner(&w, "net.core.somaxconn"), Some("6000"));
    assert_eq!(winner(&w, "net.ipv4.tcp_timestamps"), Some("0"));
    assert_eq!(winner(&w, "net.ipv4.conf.all.rp_filter"), Some("2"));
    assert_eq!(winner(&w, "net.ipv4.conf.v0.rp_filter"), Some("1"));
}

#[test]
fn drift_causes_on_a_real_kernel() {
    const TEST: &str = "drift_causes_on_a_real_kernel";
    if let Some(reason) = skip_reason() {
        println!("SKIP {TEST}: {reason}");
        return;
    }
    if which("sysctl").is_none() {
        println!("SKIP {TEST}: procps sysctl not found");
        return;
    }
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    // tcp_tw_reuse accepts 0..2 only: the write fails with EINVAL.
    write(
        root,
        "/etc/sysctl.d/10-tuning.conf",
        "net.ipv4.tcp_tw_reuse = 5\nnet.ipv4.tcp_fin_timeout = 33\nnet.ipv4.tcp_keepalive_time = 999\n",
    );
    write(root, "/etc/sysctl.conf", "");
    write(root, "/sbin/sysctl", "");
    link(root, "/proc", "/proc");
    let ns = Netns::create().unwrap();
    let applied = apply(&ns, root, "sysctl -q --system --pattern '^net[.]'");
    let stderr = String::from_utf8_lossy(&applied.stderr);
    assert!(
        applied.status.success(),
        "setting up the tree failed ({:?}): {stderr}",
        applied.status.code()
    );
    assert!(
        stderr.contains("tcp_tw_reuse"),
        "procps should report the failed write: {stderr}"
    );
    let changed = ns.exec(&["sysctl", "-q", "-w", "net.ipv4.tcp_fin_timeout=44"]);
    assert!(changed.status.success());
    let doc = netdoctor_json(&ns, root);
    let drift: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "sysctl-drift")
        .collect();
    let about = |key: &str| {
        drift
            .iter()
            .find(|f| f["title"].as_str().unwrap_or_default().starts_with(key))
            .map(|f| f["summary"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("no drift finding for {key}: {:#}", doc["findings"]))
    };
    assert!(about("net.ipv4.tcp_tw_reuse").contains("EINVAL"));
    assert!(about("net.ipv4.tcp_fin_timeout").contains("changed at runtime"));
    assert_eq!(drift.len(), 2, "{:#}", doc["findings"]);
}

#[test]
fn netns_option_reads_that_namespace() {
    const TEST: &str = "netns_option_reads_that_namespace";
    if let Some(reason) = skip_reason() {
        println!("SKIP {TEST}: {reason}");
        return;
    }
    let ns = Netns::create().unwrap();
    let set = ns.exec(&["sh", "-c", "echo 777 > /proc/sys/net/core/somaxconn"]);
    assert!(set.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["sysctl", "--netns", &ns.0, "--json", "net.core.somaxconn"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["keys"][0]["live"], "777", "{doc:#}");
    // 777 is below the default of this kernel's era: somaxconn-low, judged in that namespace.
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "somaxconn-low")
    );
}

/// A child process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn capped_listener_raises_somaxconn_low() {
    const TEST: &str = "capped_listener_raises_somaxconn_low";
    if let Some(reason) = skip_reason() {
        println!("SKIP {TEST}: {reason}");
        return;
    }
    if which("python3").is_none() {
        println!("SKIP {TEST}: python3 not found (it holds the listener)");
        return;
    }
    let ns = Netns::create().unwrap();
    let up = ns.exec(&["ip", "link", "set", "lo", "up"]);
    assert!(up.status.success());
    // A listener asking for a backlog of 10000; somaxconn (4096 in a new namespace on >= 5.4,
    // 128 before) cuts it. It lives at most 30 s.
    let script = "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',7411))\ns.listen(10000)\nprint('ready',flush=True)\ntime.sleep(30)\n";
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.0, "python3", "-c", script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Child(child);
    let mut ready = String::new();
    if let Some(out) = child.0.stdout.as_mut() {
        use std::io::Read;
        let mut byte = [0u8; 1];
        while ready.len() < 6 && out.read(&mut byte).unwrap_or(0) == 1 {
            ready.push(byte[0] as char);
        }
    }
    assert!(
        ready.starts_with("ready"),
        "listener did not start: {ready:?}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["sysctl", "--netns", &ns.0, "--json", "net.core.somaxconn"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "somaxconn-low")
        .unwrap_or_else(|| panic!("no somaxconn-low: {doc:#}"));
    let evidence = finding["evidence"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e["kind"] == "socket" && e["local"].as_str().unwrap_or("").contains("7411")),
        "{finding:#}"
    );
    drop(child);
}
