//! Parser tests for socket collection: the external /proc/net/tcp and tcp6 fixtures (procfs,
//! pcp), `--root` on a captured tree, and property tests showing that truncated or malformed
//! netlink replies and /proc/net/tcp lines never panic.

use std::path::Path;
use std::process::Command;

use netdoctor::collect::sockdiag::procnet::{parse_line, parse_proc_net_tcp};
use netdoctor::collect::sockdiag::reply::parse_datagram;
use netdoctor::collect::sockdiag::{TcpState, ViewOptions, collect_from_proc};
use proptest::prelude::*;

const EXTERNAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/external");

fn external(relative: &str) -> Option<std::path::PathBuf> {
    let path = Path::new(EXTERNAL).join(relative);
    path.exists().then_some(path)
}

#[test]
fn procfs_fixture_tcp_and_tcp6() {
    let Some(dir) = external("procfs/testdata/fixtures.ttar.d/fixtures/proc/net") else {
        eprintln!("SKIP procfs_fixture_tcp_and_tcp6: {EXTERNAL} absent");
        return;
    };
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
    let Some(dir) = external("pcp/qa/linux/procnet-4.15.14-root-001.tgz.d/proc") else {
        eprintln!("SKIP pcp_fixture_tcp_and_tcp6: {EXTERNAL} absent");
        return;
    };
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
    let Some(root) = external("pcp/qa/linux/procnet-4.15.14-root-001.tgz.d") else {
        eprintln!("SKIP root_option_reads_a_captured_tree: {EXTERNAL} absent");
        return;
    };
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
    // Human output says "?" for the unknown backlog rather than 0.
    let human = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["sockets", "--listen", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("backlog unknown"), "{text}");
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
        let options = ViewOptions { states, port: None, top, backlog_known: true };
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
