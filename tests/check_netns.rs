//! Root-only: `netdoctor check --netns` against real kernel conditions in network namespaces
//! this test creates. A quiet namespace and a busy but healthy one (hundreds of short loopback
//! connections served well) are judged ok with exit 0; a listener that never accepts, with
//! its accept queue capped at 1 and a burst of connects, gives `listen-overflow`.
//!
//! Every namespace is named `nd-check-<pid>-<n>` and removed by a guard, also on panic. The only
//! sysctl changed (net.core.somaxconn) is changed inside a namespace created here. Traffic stays
//! on the namespace's loopback; every loop is bounded in count and time.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Why the test cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    // `id -u` rather than libc::geteuid, so the test needs no unsafe code.
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("needs root (network namespaces)".to_string());
    }
    let ip = Command::new("ip").arg("-V").output();
    if ip.map(|o| !o.status.success()).unwrap_or(true) {
        return Some("needs iproute2 (`ip`)".to_string());
    }
    None
}

macro_rules! skip_unless_root {
    ($name:expr) => {
        if let Some(reason) = skip_reason() {
            println!("SKIP {}: {reason}", $name);
            return;
        }
    };
}

/// A network namespace that is deleted when dropped.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        let name = format!(
            "nd-check-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        run(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        run(&["ip", "-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }

    fn file(&self) -> File {
        File::open(format!("/run/netns/{}", self.name)).expect("open the namespace file")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

fn run(args: &[&str]) {
    let output = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `netdoctor check --netns NAME --json` with the given interval.
fn check(ns: &Netns, interval: &str) -> (i32, Value, Output) {
    let output = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args([
            "check",
            "--netns",
            &ns.name,
            "--json",
            "--interval",
            interval,
        ])
        .output()
        .expect("run netdoctor");
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "invalid JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), doc, output)
}

/// Runs `work` on a thread that has entered the namespace (threads it spawns stay there).
fn in_netns<T: Send + 'static>(
    ns: &Netns,
    work: impl FnOnce() -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    let file = ns.file();
    thread::spawn(move || {
        netdoctor::collect::sys::netns::enter_net_namespace(&file).expect("enter the namespace");
        work()
    })
}

fn warnings_or_worse(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter(|f| f["severity"] != "info")
                .map(|f| format!("{} ({})", f["id"], f["severity"]))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_quiet_namespace_is_ok() {
    skip_unless_root!("a_quiet_namespace_is_ok");
    let ns = Netns::new();
    let (code, doc, _) = check(&ns, "1");
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["status"], "ok");
    assert_eq!(doc["host"]["netns"], ns.name.as_str());
    assert!(doc["window_s"].as_f64().is_some_and(|w| w > 0.5));
    assert!(warnings_or_worse(&doc).is_empty(), "{doc:#}");
}

/// Serves short request/response connections until told to stop.
fn serve(listener: TcpListener, stop: Arc<AtomicBool>, served: Arc<AtomicUsize>) {
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut request = [0u8; 16];
                if stream.read(&mut request).is_ok() {
                    let _ = stream.write_all(b"pong\n");
                    served.fetch_add(1, Ordering::SeqCst);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(1));
            }
            Err(_) => thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// One short client connection: connect, ask, read the answer, close.
fn one_exchange(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"ping\n").is_err() {
        return false;
    }
    let mut answer = [0u8; 8];
    let ok = stream.read(&mut answer).is_ok_and(|n| n > 0);
    let _ = stream.shutdown(Shutdown::Both);
    ok
}

#[test]
fn a_busy_healthy_namespace_is_ok() {
    skip_unless_root!("a_busy_healthy_namespace_is_ok");
    let ns = Netns::new();
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let (addr_tx, addr_rx) = mpsc::channel();
    let traffic = {
        let stop = stop.clone();
        let served = served.clone();
        in_netns(&ns, move || {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let server = {
                let stop = stop.clone();
                thread::spawn(move || serve(listener, stop, served))
            };
            let _ = addr_tx.send(addr);
            // Four clients, at most 250 exchanges each and at most 15 s in all.
            let deadline = Instant::now() + Duration::from_secs(15);
            let clients: Vec<_> = (0..4)
                .map(|_| {
                    let stop = stop.clone();
                    thread::spawn(move || {
                        let mut ok = 0usize;
                        for _ in 0..250 {
                            if stop.load(Ordering::SeqCst) || Instant::now() > deadline {
                                break;
                            }
                            if one_exchange(addr) {
                                ok += 1;
                            }
                            thread::sleep(Duration::from_millis(5));
                        }
                        ok
                    })
                })
                .collect();
            let ok: usize = clients.into_iter().map(|c| c.join().unwrap_or(0)).sum();
            stop.store(true, Ordering::SeqCst);
            let _ = server.join();
            ok
        })
    };
    let _addr = addr_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("server started");
    thread::sleep(Duration::from_millis(300));
    let (code, doc, _) = check(&ns, "2");
    stop.store(true, Ordering::SeqCst);
    let exchanges = traffic.join().expect("traffic thread");
    assert!(
        exchanges >= 100,
        "the namespace should have served hundreds of connections, got {exchanges}"
    );
    assert_eq!(code, 0, "healthy traffic must be judged ok: {doc:#}");
    assert_eq!(doc["status"], "ok");
    assert!(warnings_or_worse(&doc).is_empty(), "{doc:#}");
}

#[test]
fn an_accept_queue_overflow_gives_listen_overflow() {
    skip_unless_root!("an_accept_queue_overflow_gives_listen_overflow");
    let ns = Netns::new();
    // Cap every accept queue in this namespace at 1.
    run(&[
        "ip",
        "netns",
        "exec",
        &ns.name,
        "sysctl",
        "-q",
        "-w",
        "net.core.somaxconn=1",
    ]);
    let stop = Arc::new(AtomicBool::new(false));
    let (addr_tx, addr_rx) = mpsc::channel();
    let burst = {
        let stop = stop.clone();
        in_netns(&ns, move || {
            // A listener that never accepts.
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let _ = addr_tx.send(addr);
            // A bounded burst: 20 connects, each giving up after 4 s.
            let clients: Vec<_> = (0..20)
                .map(|_| {
                    thread::spawn(move || {
                        TcpStream::connect_timeout(&addr, Duration::from_secs(4)).is_ok()
                    })
                })
                .collect();
            let deadline = Instant::now() + Duration::from_secs(10);
            while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(20));
            }
            drop(listener);
            clients.into_iter().filter(|c| !c.is_finished()).count()
        })
    };
    let addr: SocketAddr = addr_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("listener started");
    thread::sleep(Duration::from_millis(300));
    // The window covers the clients' first SYN retransmission (about 1 s after the burst).
    let (code, doc, _) = check(&ns, "2");
    stop.store(true, Ordering::SeqCst);
    let _ = burst.join();

    let finding = doc["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == "listen-overflow"))
        .unwrap_or_else(|| panic!("no listen-overflow finding: {doc:#}"));
    assert_ne!(finding["severity"], "info", "{finding:#}");
    assert!(code == 1 || code == 2, "exit {code}: {doc:#}");
    let counter = finding["evidence"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == "TcpExtListenOverflows"))
        .expect("the counter as evidence");
    assert!(
        counter["delta"].as_i64().is_some_and(|d| d >= 5),
        "{counter}"
    );
    assert!(counter["per_second"].as_f64().is_some_and(|r| r >= 1.0));
    // The socket table names the listener, full at its limit of 1, capped by somaxconn.
    let socket = finding["evidence"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["kind"] == "socket" && e["local"] == addr.to_string().as_str())
        })
        .unwrap_or_else(|| panic!("the listener {addr} is not named: {finding:#}"));
    assert_eq!(socket["backlog"], 1, "{socket}");
    assert_eq!(socket["capped_by_somaxconn"], true, "{socket}");
    let summary = finding["summary"].as_str().unwrap_or_default();
    assert!(summary.contains(&addr.to_string()), "{summary}");
}
