//! Configuration trees in temporary directories: masking, ordering across directories, globs,
//! the `-` prefix, duplicates, comments, CRLF, no final newline, binary garbage, unreadable
//! files, a 5 MB file, and which loader applies. Plus property tests for the parser.

use std::fs;
use std::io::Read as _;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Instant;

use netdoctor::collect::sysconf::{
    self, ConfigSet, FileState, LoaderChoice, LoaderKind, detect_loader, load_system,
    parse_sysctl_conf, parse_sysctl_conf_full, resolve_winners,
};
use netdoctor::collect::sysctl::{build_view, expand_pattern, read_live};
use proptest::prelude::*;

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path.trim_start_matches('/'));
    if let Some(parent) = full.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(full, text).unwrap();
}

fn link(root: &Path, path: &str, target: &str) {
    let full = root.join(path.trim_start_matches('/'));
    if let Some(parent) = full.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    symlink(target, full).unwrap();
}

/// A /proc/sys key with a value under the tree.
fn key(root: &Path, dotted: &str, value: &str) {
    let path = format!("proc/sys/{}", sysconf::dotted_to_path(dotted));
    write(root, &path, &format!("{value}\n"));
}

fn systemd() -> LoaderChoice {
    LoaderChoice {
        kind: LoaderKind::SystemdSysctl,
        reason: "test".into(),
    }
}

fn procps() -> LoaderChoice {
    LoaderChoice {
        kind: LoaderKind::Procps,
        reason: "test".into(),
    }
}

/// key → (value, file, line) of the winners.
fn winners(root: &Path, config: &ConfigSet) -> Vec<(String, String, String, usize)> {
    let mut expand = |p: &str| expand_pattern(root, p);
    let (resolved, _) = resolve_winners(config, &mut expand);
    let mut out: Vec<_> = resolved
        .into_iter()
        .map(|r| (r.key, r.winner.value, r.winner.file, r.winner.line))
        .collect();
    out.sort();
    out
}

fn state_of<'a>(config: &'a ConfigSet, path: &str) -> &'a FileState {
    &config
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not listed: {:?}", config.files))
        .state
}

#[test]
fn masking_by_name_empty_file_and_dev_null() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "/usr/lib/sysctl.d/10-a.conf",
        "net.core.somaxconn = 1\n",
    );
    write(root, "/etc/sysctl.d/10-a.conf", "net.core.somaxconn = 2\n");
    write(
        root,
        "/usr/lib/sysctl.d/20-b.conf",
        "net.ipv4.tcp_syncookies = 0\n",
    );
    link(root, "/etc/sysctl.d/20-b.conf", "/dev/null");
    write(
        root,
        "/usr/lib/sysctl.d/30-c.conf",
        "net.ipv4.tcp_timestamps = 0\n",
    );
    write(root, "/run/sysctl.d/30-c.conf", "");
    let config = load_system(root, systemd());
    assert_eq!(
        state_of(&config, "/usr/lib/sysctl.d/10-a.conf"),
        &FileState::MaskedBy("/etc/sysctl.d/10-a.conf".into())
    );
    assert_eq!(
        state_of(&config, "/etc/sysctl.d/20-b.conf"),
        &FileState::MaskLink
    );
    assert!(matches!(
        state_of(&config, "/usr/lib/sysctl.d/20-b.conf"),
        FileState::MaskedBy(_)
    ));
    assert!(matches!(
        state_of(&config, "/usr/lib/sysctl.d/30-c.conf"),
        FileState::MaskedBy(by) if by == "/run/sysctl.d/30-c.conf"
    ));
    let w = winners(root, &config);
    assert_eq!(
        w,
        vec![(
            "net.core.somaxconn".into(),
            "2".into(),
            "/etc/sysctl.d/10-a.conf".into(),
            1
        )]
    );
}

#[test]
fn order_is_by_name_across_directories_last_wins() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "/usr/lib/sysctl.d/99-vendor.conf",
        "net.core.somaxconn = 512\n",
    );
    write(
        root,
        "/etc/sysctl.d/50-admin.conf",
        "net.core.somaxconn = 8192\n",
    );
    write(
        root,
        "/usr/local/lib/sysctl.d/60-local.conf",
        "net.core.somaxconn=1024\n",
    );
    let config = load_system(root, systemd());
    let applied: Vec<&str> = config
        .files
        .iter()
        .filter(|f| f.state == FileState::Applied)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        applied,
        vec![
            "/etc/sysctl.d/50-admin.conf",
            "/usr/local/lib/sysctl.d/60-local.conf",
            "/usr/lib/sysctl.d/99-vendor.conf"
        ]
    );
    let mut expand = |p: &str| expand_pattern(root, p);
    let (resolved, _) = resolve_winners(&config, &mut expand);
    let r = &resolved[0];
    assert_eq!(r.winner.value, "512");
    assert_eq!(r.winner.file, "/usr/lib/sysctl.d/99-vendor.conf");
    let lost: Vec<(&str, &str)> = r
        .overrides
        .iter()
        .map(|o| (o.file.as_str(), o.value.as_str()))
        .collect();
    assert_eq!(
        lost,
        vec![
            ("/etc/sysctl.d/50-admin.conf", "8192"),
            ("/usr/local/lib/sysctl.d/60-local.conf", "1024")
        ]
    );
}

#[test]
fn globs_explicit_keys_and_exclusions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for iface in ["all", "default", "eth0", "eth1", "lo"] {
        key(root, &format!("net.ipv4.conf.{iface}.rp_filter"), "0");
    }
    // The explicit lo line comes before the glob and still wins; eth1 is excluded.
    write(
        root,
        "/etc/sysctl.d/10-rp.conf",
        "net.ipv4.conf.lo.rp_filter = 0\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.eth1.rp_filter\nnet.ipv4.conf.nosuch*.rp_filter = 1\n",
    );
    let config = load_system(root, systemd());
    let w = winners(root, &config);
    let values: Vec<(&str, &str)> = w
        .iter()
        .map(|(k, v, _, _)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        values,
        vec![
            ("net.ipv4.conf.all.rp_filter", "2"),
            ("net.ipv4.conf.default.rp_filter", "2"),
            ("net.ipv4.conf.eth0.rp_filter", "2"),
            ("net.ipv4.conf.lo.rp_filter", "0"),
        ]
    );
    let mut expand = |p: &str| expand_pattern(root, p);
    let (resolved, unmatched) = resolve_winners(&config, &mut expand);
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0].line, 4);
    let eth0 = resolved
        .iter()
        .find(|r| r.key == "net.ipv4.conf.eth0.rp_filter")
        .unwrap();
    assert_eq!(eth0.glob.as_deref(), Some("net.ipv4.conf.*.rp_filter"));
    // The view reads live values for every expanded key.
    let view = build_view(root, &config);
    assert_eq!(view.live("net.ipv4.conf.eth1.rp_filter"), Some("0"));
    assert_eq!(view.unmatched_globs.len(), 1);
}

#[test]
fn dash_prefix_duplicates_comments_crlf_no_final_newline() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "/etc/sysctl.d/10-x.conf",
        "# comment\r\n; other comment\r\n  \r\n-net.ipv4.tcp_bogus = 1\r\nnet.core.somaxconn = 100\r\nnet.core.somaxconn = 200\r\nnet/ipv4/tcp_fin_timeout=30",
    );
    let config = load_system(root, systemd());
    let mut expand = |p: &str| expand_pattern(root, p);
    let (resolved, _) = resolve_winners(&config, &mut expand);
    let bogus = resolved
        .iter()
        .find(|r| r.key == "net.ipv4.tcp_bogus")
        .unwrap();
    assert!(bogus.winner.ignore_failure);
    let somaxconn = resolved
        .iter()
        .find(|r| r.key == "net.core.somaxconn")
        .unwrap();
    assert_eq!(
        (somaxconn.winner.value.as_str(), somaxconn.winner.line),
        ("200", 6)
    );
    assert_eq!(somaxconn.overrides.len(), 1);
    assert_eq!(somaxconn.overrides[0].line, 5);
    let fin = resolved
        .iter()
        .find(|r| r.key == "net.ipv4.tcp_fin_timeout")
        .unwrap();
    assert_eq!((fin.winner.value.as_str(), fin.winner.line), ("30", 7));
    let file = &config.files[0];
    assert!(file.parsed.skipped.is_empty(), "{:?}", file.parsed.skipped);
}

#[test]
fn binary_garbage_is_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut bytes = b"net.core.somaxconn = 300\n".to_vec();
    bytes.extend_from_slice(&[0x00, 0xff, 0xfe, b'=', 0x01, b'\n']);
    bytes.extend_from_slice(b"\x7fELF\x02\x01\x01\n");
    bytes.extend_from_slice(b"net.ipv4.tcp_syncookies = 1\n");
    let full = root.join("etc/sysctl.d/10-bin.conf");
    fs::create_dir_all(full.parent().unwrap()).unwrap();
    fs::write(&full, bytes).unwrap();
    let config = load_system(root, systemd());
    let file = &config.files[0];
    assert_eq!(file.parsed.assignments.len(), 2);
    let lines: Vec<usize> = file.parsed.skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![2, 3]);
    assert!(file.parsed.skipped[0].reason.contains("binary"));
    let view = build_view(root, &config);
    assert_eq!(view.files[0].skipped.len(), 2);
}

#[test]
fn unreadable_files_are_recorded_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("etc/sysctl.d/10-dir.conf")).unwrap();
    link(
        root,
        "/etc/sysctl.d/20-dangling.conf",
        "/nonexistent/file.conf",
    );
    write(
        root,
        "/usr/lib/sysctl.d/20-dangling.conf",
        "net.core.somaxconn = 1\n",
    );
    write(root, "/etc/sysctl.d/30-ok.conf", "net.core.somaxconn = 7\n");
    let config = load_system(root, systemd());
    assert!(matches!(
        state_of(&config, "/etc/sysctl.d/10-dir.conf"),
        FileState::Unreadable(r) if r.contains("directory")
    ));
    assert!(matches!(
        state_of(&config, "/etc/sysctl.d/20-dangling.conf"),
        FileState::Unreadable(r) if r.contains("dangling link to /nonexistent/file.conf")
    ));
    // The dangling link still hides the vendor file of the same name.
    assert!(matches!(
        state_of(&config, "/usr/lib/sysctl.d/20-dangling.conf"),
        FileState::MaskedBy(_)
    ));
    let w = winners(root, &config);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].1, "7");
}

#[test]
fn a_five_megabyte_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut text = String::with_capacity(5 << 20);
    let mut n = 0u64;
    while text.len() < 5 << 20 {
        text.push_str(&format!(
            "# filler comment line number {n}\nnet.core.somaxconn = {n}\n"
        ));
        n += 1;
    }
    text.push_str("net.core.somaxconn = 4242\n");
    write(root, "/etc/sysctl.d/10-big.conf", &text);
    let start = Instant::now();
    let config = load_system(root, systemd());
    let w = winners(root, &config);
    let took = start.elapsed();
    assert_eq!(w[0].1, "4242");
    assert!(took.as_secs() < 10, "took {took:?}");
}

/// Runs `work` on another thread and fails (instead of hanging) when it takes over 20 s.
fn within_seconds<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(work());
    });
    receive
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the read blocked: a FIFO or device was read")
}

fn mkfifo(path: &Path) -> bool {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn fifos_and_devices_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    if !mkfifo(&root.join("etc/sysctl.d/10-fifo.conf"))
        || !mkfifo(&root.join("proc/sys/net/core/somaxconn"))
    {
        println!("SKIP fifos_and_devices_are_not_read: mkfifo not available");
        return;
    }
    write(
        &root,
        "/etc/sysctl.d/20-ok.conf",
        "net.core.somaxconn = 7\n",
    );
    write(&root, "/proc/sys/net/ipv4/tcp_syncookies", "1\n");
    let tree = root.clone();
    let (config, view) = within_seconds(move || {
        let config = load_system(&tree, systemd());
        let view = build_view(&tree, &config);
        (config, view)
    });
    assert!(matches!(
        state_of(&config, "/etc/sysctl.d/10-fifo.conf"),
        FileState::Unreadable(r) if r.contains("not a regular file (a FIFO)")
    ));
    assert_eq!(winners(&root, &config).len(), 1);
    let somaxconn = view.key("net.core.somaxconn").unwrap();
    assert!(somaxconn.live.is_none());
    assert!(
        somaxconn
            .live_missing
            .as_deref()
            .is_some_and(|r| r.contains("FIFO")),
        "{somaxconn:?}"
    );
    assert_eq!(
        view.key("net.ipv4.tcp_syncookies").unwrap().live.as_deref(),
        Some("1")
    );
    // --from names host paths directly: a device is refused, not read forever.
    let from_zero = within_seconds(|| sysconf::load_files(&["/dev/zero".into()]));
    assert!(matches!(
        &from_zero.files[0].state,
        FileState::Unreadable(r) if r.contains("character device")
    ));
    let err =
        netdoctor::collect::read::read_regular_capped(Path::new("/dev/zero"), 16).unwrap_err();
    assert!(err.to_string().contains("character device"), "{err}");
}

#[test]
fn view_for_a_target_and_its_status() {
    use netdoctor::collect::ProcPaths;
    use netdoctor::collect::sysctl::collect_view_for;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "/etc/sysctl.d/10-a.conf",
        "net.core.somaxconn = 1024\n",
    );
    key(root, "net.core.somaxconn", "1024");
    let (view, status) = collect_view_for(&ProcPaths::root(root));
    let view = view.unwrap();
    assert_eq!(
        view.key("net.core.somaxconn")
            .and_then(|k| k.configured.as_ref())
            .map(|c| c.value.as_str()),
        Some("1024")
    );
    assert!(status.missing_reason().is_none(), "{status:?}");
    let empty = tempfile::tempdir().unwrap();
    let (view, status) = collect_view_for(&ProcPaths::root(empty.path()));
    assert!(view.is_some());
    assert!(
        status
            .missing_reason()
            .is_some_and(|r| r.contains("live values unknown"))
    );
}

#[test]
fn reads_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A configuration file above 16 MiB: the start is used, the rest reported as skipped.
    let line = "net.core.somaxconn = 1234\n";
    let text = line.repeat(((sysconf::CONF_FILE_MAX as usize) / line.len()) + 1000);
    write(root, "/etc/sysctl.d/10-huge.conf", &text);
    let config = load_system(root, systemd());
    let file = config
        .files
        .iter()
        .find(|f| f.path == "/etc/sysctl.d/10-huge.conf")
        .unwrap();
    assert_eq!(file.state, FileState::Applied);
    let cut = file.parsed.skipped.last().unwrap();
    assert!(cut.reason.contains("larger than 16 MiB"), "{cut:?}");
    let kept = (sysconf::CONF_FILE_MAX as usize) / line.len();
    assert_eq!(cut.line, kept + 1);
    assert_eq!(file.parsed.assignments.len(), kept);
    assert_eq!(winners(root, &config)[0].1, "1234");
    // A /proc/sys value above 1 MiB is refused.
    write(
        root,
        "/proc/sys/net/core/somaxconn",
        &"1".repeat((netdoctor::collect::sysctl::LIVE_VALUE_MAX as usize) + 1),
    );
    let err = read_live(root, "net.core.somaxconn").unwrap_err();
    assert!(err.to_string().contains("longer than 1 MiB"), "{err}");
    write(root, "/proc/sys/net/core/somaxconn", "4096\n");
    assert_eq!(read_live(root, "net.core.somaxconn").unwrap(), "4096");
    // Standard input is capped the same way.
    let huge_stdin = std::io::repeat(b'#').take(sysconf::CONF_FILE_MAX + 10);
    let config = sysconf::load_from_args(&["-".to_string()], huge_stdin).unwrap();
    assert!(
        config.files[0]
            .parsed
            .skipped
            .iter()
            .any(|s| s.reason.contains("larger than 16 MiB"))
    );
}

#[test]
fn procps_reads_sysctl_conf_last_and_debian_link_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "/etc/sysctl.conf", "net.core.somaxconn = 1111\n");
    link(root, "/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf");
    write(
        root,
        "/etc/sysctl.d/zz-late.conf",
        "net.core.somaxconn = 2222\n",
    );
    // systemd: 99-sysctl.conf (-> /etc/sysctl.conf) then zz-late.conf: zz wins.
    let config = load_system(root, systemd());
    let w = winners(root, &config);
    assert_eq!(w[0].1, "2222");
    assert_eq!(
        config.files[0].target.as_deref(),
        Some("/etc/sysctl.conf"),
        "{:?}",
        config.files
    );
    // procps: /etc/sysctl.conf once more at the end: it wins.
    let config = load_system(root, procps());
    let mut expand = |p: &str| expand_pattern(root, p);
    let (resolved, _) = resolve_winners(&config, &mut expand);
    assert_eq!(resolved[0].winner.value, "1111");
    assert_eq!(resolved[0].winner.file, "/etc/sysctl.conf");
    // The same line reached twice is not its own override.
    assert_eq!(resolved[0].overrides.len(), 1);
    assert_eq!(resolved[0].overrides[0].value, "2222");
}

#[test]
fn systemd_without_link_does_not_read_sysctl_conf() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "/etc/sysctl.conf", "net.core.somaxconn = 1111\n");
    write(root, "/usr/lib/systemd/systemd-sysctl", "");
    let choice = detect_loader(root);
    assert_eq!(choice.kind, LoaderKind::SystemdSysctl);
    assert!(choice.reason.contains("not linked"), "{}", choice.reason);
    let config = load_system(root, choice);
    assert!(matches!(
        state_of(&config, "/etc/sysctl.conf"),
        FileState::NotRead(_)
    ));
    assert!(winners(root, &config).is_empty());
}

#[test]
fn loader_detection() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    assert_eq!(detect_loader(root).kind, LoaderKind::Procps);
    write(root, "/sbin/sysctl", "");
    let choice = detect_loader(root);
    assert_eq!(choice.kind, LoaderKind::Procps);
    assert!(choice.reason.contains("/sbin/sysctl"));
    write(root, "/lib/systemd/systemd-sysctl", "");
    link(root, "/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf");
    write(root, "/etc/sysctl.conf", "");
    let choice = detect_loader(root);
    assert_eq!(choice.kind, LoaderKind::SystemdSysctl);
    assert!(
        choice.reason.contains("99-sysctl.conf"),
        "{}",
        choice.reason
    );
}

#[test]
fn lib_linked_to_usr_lib_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "/usr/lib/sysctl.d/50-x.conf",
        "net.core.somaxconn = 5\n",
    );
    link(root, "/lib", "usr/lib");
    let config = load_system(root, procps());
    assert_eq!(config.files.len(), 1, "{:?}", config.files);
}

#[test]
fn live_values_and_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "/proc/sys/net/ipv4/tcp_mem", "1\t2\t3\n");
    fs::create_dir_all(root.join("proc/sys/net/ipv4/conf")).unwrap();
    assert_eq!(read_live(root, "net.ipv4.tcp_mem").unwrap(), "1 2 3");
    assert_eq!(read_live(root, "net/ipv4/tcp_mem").unwrap(), "1 2 3");
    assert_eq!(
        read_live(root, "net.ipv4.tcp_tw_recycle")
            .unwrap_err()
            .to_string(),
        "no such key on this kernel"
    );
    assert!(read_live(root, "net.ipv4.conf").is_err());
}

#[test]
fn separators_with_dots_in_interface_names() {
    let (assignments, skipped) =
        parse_sysctl_conf("net.ipv4.conf.eth0/200.forwarding = 1\n", "/x.conf");
    assert!(skipped.is_empty());
    assert_eq!(assignments[0].key, "net.ipv4.conf.eth0/200.forwarding");
    assert_eq!(
        sysconf::dotted_to_path(&assignments[0].key),
        "net/ipv4/conf/eth0.200/forwarding"
    );
    let (slashed, _) = parse_sysctl_conf("net/ipv4/conf/eth0.200/forwarding = 1\n", "/x.conf");
    assert_eq!(slashed[0].key, assignments[0].key);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        let parsed = parse_sysctl_conf_full(&text, "/fuzz.conf");
        let lines = text.lines().count();
        for a in &parsed.assignments {
            prop_assert!(a.line >= 1 && a.line <= lines);
        }
        for s in &parsed.skipped {
            prop_assert!(s.line >= 1 && s.line <= lines);
            prop_assert!(s.text.chars().count() <= 120 * 4);
        }
    }

    #[test]
    fn parser_never_panics_on_text(text in "\\PC{0,400}") {
        let _ = parse_sysctl_conf_full(&text, "/fuzz.conf");
    }

    #[test]
    fn assignments_round_trip(
        entries in proptest::collection::vec(
            ("[a-z][a-z0-9_]{0,8}(\\.[a-z0-9_]{1,8}){1,4}", "[0-9]{1,20}( [0-9]{1,20}){0,2}", any::<bool>(), any::<bool>()),
            1..40,
        )
    ) {
        let mut text = String::new();
        for (key, value, dash, crlf) in &entries {
            text.push_str(&format!("{}{key} = {value}{}", if *dash { "-" } else { "" }, if *crlf { "\r\n" } else { "\n" }));
            text.push_str("# between\n");
        }
        let (assignments, skipped) = parse_sysctl_conf(&text, "/p.conf");
        prop_assert!(skipped.is_empty());
        prop_assert_eq!(assignments.len(), entries.len());
        for (i, (a, (key, value, dash, _))) in assignments.iter().zip(&entries).enumerate() {
            prop_assert_eq!(&a.key, key);
            prop_assert_eq!(&a.value, value);
            prop_assert_eq!(a.ignore_failure, *dash);
            prop_assert_eq!(a.line, 2 * i + 1);
        }
    }

    #[test]
    fn glob_match_never_panics(pattern in "[a-z*?\\[\\]!\\\\-]{0,12}", text in "[a-z\\[\\]-]{0,12}") {
        let _ = netdoctor::parse::glob_match(&pattern, &text);
        prop_assert!(netdoctor::parse::glob_match("*", &text));
        prop_assert!(netdoctor::parse::glob_match(&text.replace(['[', ']', '\\', '*', '?'], "?"), &text));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Explicit assignments spread over files: the winner is the last one in application
    /// order (files by name), and every earlier one with another file/line is an override.
    #[test]
    fn last_assignment_wins_across_files(
        lines in proptest::collection::vec((0usize..4, 0usize..3, 0u32..1000), 1..30)
    ) {
        const KEYS: [&str; 3] = ["net.core.somaxconn", "vm.swappiness", "net/ipv4/tcp_fin_timeout"];
        let mut texts = vec![String::new(); 4];
        for (file, key, value) in &lines {
            texts[*file].push_str(&format!("{} = {value}\n", KEYS[*key]));
        }
        let files = texts
            .iter()
            .enumerate()
            .map(|(i, t)| sysconf::conf_file_from_text(&format!("/etc/sysctl.d/{i}.conf"), t))
            .collect();
        let config = ConfigSet { loader: systemd(), files };
        let mut expand = |_: &str| Vec::new();
        let (resolved, _) = resolve_winners(&config, &mut expand);
        // Model: application order = file index, then line order.
        let mut ordered: Vec<(usize, usize, u32)> = Vec::new();
        for file in 0..4 {
            for (f, key, value) in &lines {
                if *f == file {
                    ordered.push((file, *key, *value));
                }
            }
        }
        for (k, name) in KEYS.iter().enumerate() {
            let dotted = sysconf::path_to_dotted(&sysconf::normalize_key(name).unwrap());
            let expected: Vec<&(usize, usize, u32)> = ordered.iter().filter(|(_, key, _)| *key == k).collect();
            let got = resolved.iter().find(|r| r.key == dotted);
            match (expected.last(), got) {
                (None, None) => {}
                (Some((file, _, value)), Some(r)) => {
                    prop_assert_eq!(&r.winner.value, &value.to_string());
                    prop_assert_eq!(&r.winner.file, &format!("/etc/sysctl.d/{file}.conf"));
                    prop_assert_eq!(r.overrides.len(), expected.len() - 1);
                }
                (e, g) => prop_assert!(false, "expected {:?}, got {:?}", e, g),
            }
        }
    }
}

#[test]
fn repeated_glob_with_same_value_keeps_its_place_under_systemd_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    key(root, "net.ipv4.conf.v0.rp_filter", "0");
    write(
        root,
        "/etc/sysctl.d/10-g.conf",
        "net.ipv4.conf.*.rp_filter = 1\nnet.ipv4.conf.v*.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 1\n",
    );
    let systemd_winner = winners(root, &load_system(root, systemd()));
    assert_eq!(systemd_winner[0].1, "2");
    assert_eq!(systemd_winner[0].3, 2);
    let procps_winner = winners(root, &load_system(root, procps()));
    assert_eq!(procps_winner[0].1, "1");
    assert_eq!(procps_winner[0].3, 3);
}

#[test]
fn many_glob_lines_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for iface in ["all", "default", "eth0", "lo"] {
        key(root, &format!("net.ipv4.conf.{iface}.rp_filter"), "0");
    }
    let mut text = String::new();
    for n in 0..30_000u32 {
        text.push_str(&format!("net.ipv4.conf.*.rp_filter = {}\n", n % 3));
    }
    write(root, "/etc/sysctl.d/10-globs.conf", &text);
    let start = Instant::now();
    for loader in [systemd(), procps()] {
        let w = winners(root, &load_system(root, loader));
        assert_eq!(w.len(), 4);
        // 29999 % 3 == 2; under systemd the pattern moved to the end with that value.
        assert!(w.iter().all(|(_, v, _, line)| v == "2" && *line == 30_000));
    }
    // No timing threshold (a unit test is no benchmark); the time is printed for a reader.
    println!("30,000 glob lines, two loaders: {:?}", start.elapsed());
}

#[test]
fn configuration_only_view_of_the_story_paste() {
    let text = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/story/sysctl.conf"
    ))
    .unwrap();
    let config = ConfigSet {
        loader: LoaderChoice {
            kind: LoaderKind::Files,
            reason: "paste".into(),
        },
        files: vec![sysconf::conf_file_from_text("sysctl.conf", &text)],
    };
    let view = netdoctor::collect::sysctl::configured_view(&config);
    assert_eq!(view.keys.len(), 5);
    let mut snapshot = netdoctor::snapshot::Snapshot::new(netdoctor::snapshot::Origin::Files {
        files: vec!["sysctl.conf".into()],
    });
    snapshot.sysctl = Some(view);
    let findings = netdoctor::analyze::rules::sysctl::evaluate(&snapshot);
    let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, vec!["tw-recycle"]);
    assert!(findings[0].summary.contains("kernel version is unknown"));
}
