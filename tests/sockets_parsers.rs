//! Parser tests for socket collection: the external /proc/net/tcp and tcp6 fixtures (procfs,
//! pcp), `--root` on a captured tree, and property tests showing that truncated or malformed
//! netlink replies and /proc/net/tcp lines never panic, and that the port-setting parsers
//! (ip_local_port_range, ip_local_reserved_ports) are total: a value or an error, never a panic.

use std::path::Path;
use std::process::Command;

use netdoctor::collect::sockdiag::procnet::{parse_line, parse_proc_net_tcp};
use netdoctor::collect::sockdiag::reply::parse_datagram;
use netdoctor::collect::sockdiag::{TcpState, ViewOptions, collect_from_proc};
use netdoctor::parse::{PortSettingError, parse_port_range, parse_reserved_ports};
use proptest::prelude::*;

const EXTERNAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/external");

fn external(relative: &str) -> Option<std::path::PathBuf> {
    let path = Path::new(EXTERNAL).join(relative);
    path.exists().then_some(path)
}

/// Why the external /proc/net/tcp fixtures cannot be checked here, if they cannot: they were
/// printed by little-endian kernels, and addresses are decoded in this host's byte order.
fn fixture_skip_reason(relative: &str) -> Option<String> {
    if cfg!(target_endian = "big") {
        return Some("the fixtures were printed by little-endian kernels".to_string());
    }
    external(relative)
        .is_none()
        .then(|| format!("{EXTERNAL}/{relative} absent"))
}

#[test]
fn procfs_fixture_tcp_and_tcp6() {
    if let Some(reason) = fixture_skip_reason("procfs/testdata/fixtures.ttar.d/fixtures/proc/net") {
        eprintln!("SKIP procfs_fixture_tcp_and_tcp6: {reason}");
        return;
    }
    let dir = Path::new(EXTERNAL).join("procfs/testdata/fixtures.ttar.d/fixtures/proc/net");
    let tcp = parse_proc_net_tcp(&std::fs::read_to_string(dir.join("tcp")).unwrap());
    assert!(tcp.skipped.is_empty(), "{:?}", tcp.skipped);
    assert_eq!(tcp.sockets.len(), 3);
    let first = tcp.sockets[0];
    assert_eq!(first.local.to_string(), "10.0.0.5:22");
    assert_eq!(first.state, TcpState::LISTEN);
    assert_eq!((first.wqueue, first.rqueue), (0, 1));
    assert_eq!(first.inode, 2740);

    let tcp6 = parse_proc_net_tcp(&std::fs::read_to_string(dir.join("tcp6")).unwrap());
    assert!(tcp6.skipped.is_empty(), "{:?}", tcp6.skipped);
    assert_eq!(tcp6.sockets.len(), 2);
    assert_eq!(tcp6.sockets[0].local.to_string(), "[::]:5355");
    assert_eq!(tcp6.sockets[0].state, TcpState::CLOSE);
    assert_eq!(tcp6.sockets[0].uid, 981);
    assert_eq!(tcp6.sockets[1].local.port(), 0xC781);
    assert!(tcp6.sockets[1].local.ip().to_string().starts_with("fe80::"));
}

#[test]
fn pcp_fixture_tcp_and_tcp6() {
    if let Some(reason) = fixture_skip_reason("pcp/qa/linux/procnet-4.15.14-root-001.tgz.d/proc") {
        eprintln!("SKIP pcp_fixture_tcp_and_tcp6: {reason}");
        return;
    }
    let dir = Path::new(EXTERNAL).join("pcp/qa/linux/procnet-4.15.14-root-001.tgz.d/proc");
    for name in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(dir.join("net").join(name)).unwrap();
        let parsed = parse_proc_net_tcp(&text);
        assert!(parsed.skipped.is_empty(), "{name}: {:?}", parsed.skipped);
        assert_eq!(parsed.sockets.len(), text.lines().count() - 1, "{name}");
    }
    let view = collect_from_proc(&dir.join("net"), &ViewOptions::default()).unwrap();
    assert_eq!(view.method, "proc_net_tcp");
    let dns = view
        .listeners
        .iter()
        .find(|l| l.local == "192.168.124.1:53")
        .expect("dnsmasq listener");
    assert_eq!(dns.backlog, None, "the backlog is unknown in /proc/net/tcp");
    assert!(view.listeners.iter().any(|l| l.local == "[::]:80"));
    assert!(view.notes.iter().any(|n| n.contains("backlog unknown")));
}

#[test]
fn root_option_reads_a_captured_tree() {
    if let Some(reason) = fixture_skip_reason("pcp/qa/linux/procnet-4.15.14-root-001.tgz.d") {
        eprintln!("SKIP root_option_reads_a_captured_tree: {reason}");
        return;
    }
    let root = Path::new(EXTERNAL).join("pcp/qa/linux/procnet-4.15.14-root-001.tgz.d");
    let output = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["sockets", "--json", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["schema"], "netdoctor.sockets/v1");
    assert_eq!(doc["method"], "proc_net_tcp");
    let listeners = doc["listeners"].as_array().unwrap();
    assert!(!listeners.is_empty());
    assert!(listeners.iter().all(|l| l["backlog"].is_null()));
    assert!(listeners.iter().all(|l| l["capped_by_somaxconn"].is_null()));
    // A captured tree has no process table: the owner says so as data, and in words.
    assert!(
        listeners.iter().all(|l| l["owner"]["status"] == "unknown"
            && l["owner"]["reason"]["kind"] == "captured_tree"),
        "{listeners:?}"
    );
    assert!(
        listeners.iter().all(|l| l["process"]
            .as_str()
            .is_some_and(|p| p.starts_with("unknown: "))),
        "{listeners:?}"
    );
    // Human output says "?" for the unknown backlog rather than 0.
    let human = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["sockets", "--listen", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("backlog unknown"), "{text}");
}

/// 127.0.0.LAST as this host's kernel prints it in /proc/net/tcp (`%08X` of the in-memory
/// word, so the digits follow the host's byte order).
fn loopback_word(last: u8) -> String {
    format!("{:08X}", u32::from_ne_bytes([127, 0, 0, last]))
}

#[test]
fn collect_for_snapshot_then_annotate() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("proc/net");
    let sys = dir.path().join("proc/sys/net");
    std::fs::create_dir_all(&net).unwrap();
    std::fs::create_dir_all(sys.join("core")).unwrap();
    std::fs::create_dir_all(sys.join("ipv4")).unwrap();
    std::fs::write(sys.join("core/somaxconn"), "128\n").unwrap();
    std::fs::write(sys.join("ipv4/ip_local_port_range"), "40000\t40009\n").unwrap();
    std::fs::write(sys.join("ipv4/ip_local_reserved_ports"), "\n").unwrap();
    let mut tcp = String::from(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
    );
    let (one, two) = (loopback_word(1), loopback_word(2));
    tcp.push_str(&format!(
        "   0: {one}:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000 0 0 100 1\n"
    ));
    // Nine outgoing connections 127.0.0.2:4000x -> 127.0.0.1:8080 of ten usable ports.
    for n in 0..9u16 {
        tcp.push_str(&format!(
            "   {}: {two}:{:04X} {one}:1F90 01 00000000:00000000 00:00000000 00000000 0 0 {} 1\n",
            n + 1,
            40000 + n,
            200 + u32::from(n)
        ));
    }
    std::fs::write(net.join("tcp"), tcp).unwrap();

    let paths = netdoctor::collect::ProcPaths::root(dir.path());
    let options = netdoctor::collect::sockdiag::CollectOptions::default();
    let (view, status) = netdoctor::collect::sockdiag::collect_for_snapshot(&paths, &options);
    assert!(status.is_available(), "{status:?}");
    let mut view = view.expect("a view");
    netdoctor::analyze::sockets::annotate(&mut view);
    assert_eq!(view.method, "proc_net_tcp");
    assert_eq!(view.usable_ephemeral_ports, Some(10));
    let usage = &view.port_usage[0];
    assert_eq!((usage.in_use, usage.available), (9, Some(10)));
    assert_eq!(
        usage.level,
        Some(netdoctor::snapshot::sockets::Level::Full),
        "9 of 10 ports"
    );
    let listener = &view.listeners[0];
    assert_eq!(listener.local, "127.0.0.1:8080");
    // /proc/net/tcp hides the backlog: no fill, so no level rather than a guess.
    assert_eq!((listener.backlog, listener.level), (None, None));
    assert!(
        listener
            .process
            .as_deref()
            .is_some_and(|p| p.starts_with("unknown: ")),
        "{listener:?}"
    );
}

/// A well-formed reply message (nlmsghdr + inet_diag_msg + one attribute) and NLMSG_DONE.
fn valid_reply() -> Vec<u8> {
    let mut m = Vec::new();
    let length = 16 + 72 + 8;
    m.extend_from_slice(&(length as u32).to_ne_bytes());
    m.extend_from_slice(&20u16.to_ne_bytes());
    m.extend_from_slice(&2u16.to_ne_bytes());
    m.extend_from_slice(&1u32.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&[libc::AF_INET as u8, 10, 0, 0]);
    m.extend_from_slice(&8080u16.to_be_bytes());
    m.extend_from_slice(&0u16.to_be_bytes());
    m.extend_from_slice(&[127, 0, 0, 1]);
    m.extend_from_slice(&[0u8; 12 + 16 + 12]);
    for v in [0u32, 5, 4, 0, 77] {
        m.extend_from_slice(&v.to_ne_bytes());
    }
    m.extend_from_slice(&[8, 0, 8, 0, 1, 0, 0, 0]);
    m.extend_from_slice(&20u32.to_ne_bytes());
    m.extend_from_slice(&3u16.to_ne_bytes());
    m.extend_from_slice(&2u16.to_ne_bytes());
    m.extend_from_slice(&1u32.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m
}

#[test]
fn valid_reply_parses() {
    let mut seen = Vec::new();
    let outcome = parse_datagram(&valid_reply(), 1, |s| seen.push(s)).unwrap();
    assert!(outcome.done);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].local.to_string(), "127.0.0.1:8080");
    assert_eq!((seen[0].rqueue, seen[0].wqueue, seen[0].inode), (5, 4, 77));
}

const VALID_LINE: &str = "   2: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   384        0 22376 1 00000000b8013f49 100 0 0 10 128";

proptest! {
    #[test]
    fn arbitrary_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), seq in 0u32..3) {
        let _ = parse_datagram(&bytes, seq, |_| {});
    }

    #[test]
    fn truncated_replies_are_errors_not_panics(cut in 1usize..116) {
        let reply = valid_reply();
        let cut = cut.min(reply.len() - 1);
        let result = parse_datagram(&reply[..cut], 1, |_| {});
        // Anything shorter than the first whole message must be reported as an error.
        if cut < 96 {
            prop_assert!(result.is_err());
        }
    }

    #[test]
    fn corrupted_replies_never_panic(position in 0usize..116, value in any::<u8>()) {
        let mut reply = valid_reply();
        if let Some(byte) = reply.get_mut(position) {
            *byte = value;
        }
        let _ = parse_datagram(&reply, 1, |_| {});
    }

    #[test]
    fn arbitrary_proc_lines_never_panic(line in "\\PC{0,200}") {
        let _ = parse_line(&line);
        let _ = parse_proc_net_tcp(&line);
    }

    #[test]
    fn mutated_proc_lines_never_panic(cut in 0usize..140, insert in "[0-9A-Fa-f:xé ]{0,12}", huge in any::<u64>()) {
        let mut line: String = VALID_LINE.chars().take(cut).collect();
        line.push_str(&insert);
        line.push_str(&huge.to_string());
        let _ = parse_proc_net_tcp(&line);
        let replaced = VALID_LINE.replace("22376", &format!("{huge}{huge}"));
        let parsed = parse_proc_net_tcp(&replaced);
        prop_assert_eq!(parsed.sockets.len() + parsed.skipped.len(), 1);
    }
}

fn arbitrary_socket() -> impl Strategy<Value = netdoctor::collect::sockdiag::TcpSocket> {
    (
        any::<u8>(),
        any::<bool>(),
        any::<u128>(),
        any::<u16>(),
        any::<u128>(),
        any::<u16>(),
        any::<(u32, u32, u32, u64)>(),
    )
        .prop_map(
            |(state, v6, local, lport, remote, rport, (r, w, uid, inode))| {
                let ip = |bits: u128| -> std::net::IpAddr {
                    if v6 {
                        std::net::Ipv6Addr::from(bits).into()
                    } else {
                        // Few distinct v4 addresses so that groups and listeners collide.
                        std::net::Ipv4Addr::from((bits as u32) & 0x0000_0003).into()
                    }
                };
                netdoctor::collect::sockdiag::TcpSocket {
                    state: TcpState(state % 16),
                    local: std::net::SocketAddr::new(ip(local), lport % 4),
                    remote: std::net::SocketAddr::new(ip(remote), rport % 4),
                    rqueue: r,
                    wqueue: w,
                    uid,
                    inode,
                }
            },
        )
}

proptest! {
    #[test]
    fn any_socket_list_builds_a_view_without_panicking(
        sockets in proptest::collection::vec(arbitrary_socket(), 0..60),
        states in any::<u32>(),
        top in 0usize..5,
        range in any::<(u16, u16)>(),
        reserved in proptest::collection::vec(any::<(u16, u16)>(), 0..4),
        somaxconn in any::<Option<u64>>(),
    ) {
        let options = ViewOptions { states, port: None, top, backlog_known: true, ephemeral_range: None };
        let mut view = netdoctor::collect::sockdiag::view::build_view(&sockets, "sock_diag", &options);
        view.somaxconn = somaxconn;
        view.ip_local_port_range = Some(range);
        view.ip_local_reserved_ports = Some(reserved);
        netdoctor::analyze::sockets::annotate(&mut view);
        prop_assert!(view.destinations.len() <= top);
        prop_assert!(view.port_usage.len() <= top);
        let counted: u64 = view.states.iter().map(|(_, c)| *c).sum();
        prop_assert_eq!(counted, view.total);
    }
}

/// Renders ranges the way the kernel prints ip_local_reserved_ports.
fn reserved_text(ranges: &[(u16, u16)]) -> String {
    ranges
        .iter()
        .map(|&(low, high)| {
            if low == high {
                low.to_string()
            } else {
                format!("{low}-{high}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn ordered_range() -> impl Strategy<Value = (u16, u16)> {
    (any::<u16>(), any::<u16>()).prop_map(|(a, b)| (a.min(b), a.max(b)))
}

proptest! {
    #[test]
    fn port_range_never_panics(text in "\\PC{0,40}") {
        let _ = parse_port_range(&text);
        let _ = parse_reserved_ports(&text);
    }

    #[test]
    fn port_range_round_trips(range in ordered_range(), blank in "[ \t]{1,3}", end in "\n?") {
        let text = format!("{}{blank}{}{end}", range.0, range.1);
        assert_eq!(parse_port_range(&text), Ok(range));
    }

    #[test]
    fn port_range_low_above_high_is_an_error(a in any::<u16>(), b in any::<u16>()) {
        prop_assume!(a != b);
        let (low, high) = (a.max(b), a.min(b));
        assert_eq!(
            parse_port_range(&format!("{low}\t{high}")),
            Err(PortSettingError::LowAboveHigh { low, high })
        );
    }

    #[test]
    fn ports_above_u16_are_errors(port in 65536u64.., other in any::<u16>()) {
        assert!(matches!(
            parse_port_range(&format!("{other} {port}")),
            Err(PortSettingError::NotAPort(_))
        ));
        assert!(parse_reserved_ports(&format!("{other},{port}")).is_err());
        assert!(parse_reserved_ports(&format!("{other}-{port}")).is_err());
    }

    #[test]
    fn garbage_in_a_port_is_an_error(
        range in ordered_range(),
        junk in "[a-zA-Z+.;:_/#!é]{1,4}",
        at_end in any::<bool>(),
    ) {
        let text = if at_end {
            format!("{} {}{junk}", range.0, range.1)
        } else {
            format!("{junk}{} {}", range.0, range.1)
        };
        assert!(parse_port_range(&text).is_err(), "{:?}", text);
        let reserved = format!("{},{}{junk}", range.0, range.1);
        assert!(parse_reserved_ports(&reserved).is_err(), "{:?}", reserved);
    }

    #[test]
    fn reserved_ports_round_trip(ranges in proptest::collection::vec(ordered_range(), 0..8)) {
        let text = format!("{}\n", reserved_text(&ranges));
        assert_eq!(parse_reserved_ports(&text), Ok(ranges));
    }

    #[test]
    fn reserved_ports_low_above_high_is_an_error(a in any::<u16>(), b in any::<u16>()) {
        prop_assume!(a != b);
        let text = format!("80,{}-{}", a.max(b), a.min(b));
        assert!(matches!(
            parse_reserved_ports(&text),
            Err(PortSettingError::LowAboveHigh { .. })
        ));
    }

    #[test]
    fn truncated_port_settings_never_panic(
        ranges in proptest::collection::vec(ordered_range(), 1..6),
        cut in 0usize..60,
    ) {
        let text = reserved_text(&ranges);
        let cut: String = text.chars().take(cut).collect();
        let _ = parse_reserved_ports(&cut);
        let _ = parse_port_range(&cut);
    }
}
