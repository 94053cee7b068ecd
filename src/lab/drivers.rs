//! Traffic drivers: the small programs that create each lab condition. They run inside the lab
//! namespace, in a child process started as `ip netns exec NS netdoctor lab drive SCENARIO`,
//! so every socket they open lives in that namespace.
//!
//! A driver talks to the run that started it over stdin/stdout, one line each:
//! it sets up (listeners, receivers), prints `ready`, waits for `go`, sends its bounded
//! traffic, prints `done {json stats}`, and then holds everything it opened (full queues,
//! half-open connections) until its stdin closes or the time bound passes, so that `check`
//! still sees the condition at its second sample.

use std::collections::BTreeMap;
use std::io::{BufRead, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use socket2::{Domain, SockRef, Socket, Type};

use super::LabError;
use crate::collect::sys::raw::{RawSynSender, SynSegment};

/// The port every lab service listens on (each namespace is fresh, so no clash).
pub const SERVICE_PORT: u16 = 8080;
/// How long a driver sends traffic after `go`.
pub const TRAFFIC_TIME: Duration = Duration::from_millis(1500);
/// How much a stalled-reader connection queues before its receiver shrinks SO_RCVBUF.
const SHRINK_AFTER_BYTES: u64 = 64 * 1024;
/// The hard bound on a driver process's life.
pub const DRIVER_LIFETIME: Duration = Duration::from_secs(20);

/// Addresses of the two-namespace topology (a range reserved for network benchmarks; these
/// addresses exist only on the lab's veth interfaces).
pub const PEER_ADDR_1: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);
pub const MAIN_ADDR_1: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
pub const PEER_ADDR_2: Ipv4Addr = Ipv4Addr::new(198, 18, 2, 1);
pub const MAIN_ADDR_2: Ipv4Addr = Ipv4Addr::new(198, 18, 2, 2);

/// The traffic a driver produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// A listener with a small backlog that accepts once a second; many clients connect.
    SlowAccepter { backlog: i32, clients: u32 },
    /// A listener that accepts at once; clients connect while their final ACKs are dropped.
    HalfOpenClients { backlog: i32, clients: u32 },
    /// SYNs from spoofed 127.1.x.y sources, sent from a raw socket.
    RawSynFlood { backlog: i32, syns: u32 },
    /// Connections whose receiver shrinks its SO_RCVBUF once data is queued and never reads.
    StalledReaders { connections: u32 },
    /// A UDP receiver with a tiny SO_RCVBUF that never reads, and a sender.
    UdpFlood { datagrams: u32, size: usize },
    /// Many connections to one destination, all held open.
    HeldConnections { connections: u32 },
    /// Short connections that the client closes first (client-side TIME_WAIT).
    ShortConnections { connections: u32 },
    /// UDP from the peer namespace, sourced from the address of the other link.
    AsymmetricUdp { datagrams: u32 },
    /// A request/response service answering every client promptly.
    BusyService { clients: u32 },
    /// Nothing to drive (a scenario that cannot run here).
    None,
}

/// What a driver did, reported back as JSON on its `done` line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DriverStats {
    /// Connections, SYNs or datagrams attempted.
    pub attempts: u64,
    /// Of those, how many succeeded (connected, sent, answered).
    pub succeeded: u64,
    /// Errors by name (`EADDRNOTAVAIL`, `ECONNREFUSED`).
    pub errors: BTreeMap<String, u64>,
    /// Payload bytes sent.
    pub bytes: u64,
    /// What the driver noticed, in words.
    pub notes: Vec<String>,
}

impl DriverStats {
    fn error(&mut self, e: &std::io::Error) {
        *self.errors.entry(error_name(e)).or_default() += 1;
    }
}

/// The name of an OS error (`EADDRNOTAVAIL`), or its text.
fn error_name(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EADDRNOTAVAIL) => "EADDRNOTAVAIL".into(),
        Some(libc::ECONNREFUSED) => "ECONNREFUSED".into(),
        Some(libc::ETIMEDOUT) => "ETIMEDOUT".into(),
        Some(libc::ENOBUFS) => "ENOBUFS".into(),
        Some(libc::EAGAIN) => "EAGAIN".into(),
        Some(libc::EPERM) => "EPERM".into(),
        Some(libc::ECONNRESET) => "ECONNRESET".into(),
        _ => e.to_string(),
    }
}

/// The driver's side of the stdin/stdout conversation with the run.
pub struct Control {
    lines: Receiver<String>,
    deadline: Instant,
}

impl Control {
    /// Starts reading stdin on a thread.
    pub fn from_stdin() -> Self {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            for line in stdin.lock().lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Control {
            lines: rx,
            deadline: Instant::now() + DRIVER_LIFETIME,
        }
    }

    /// Says `ready` and waits for `go`.
    fn ready(&self) -> Result<(), LabError> {
        say("ready");
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.trim() == "go" => return Ok(()),
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(LabError::Timeout("driver waited for go".into()));
                }
                Err(RecvTimeoutError::Disconnected) => return Err(LabError::Interrupted),
            }
        }
    }

    /// Reports the stats and holds the caller's sockets open until stdin closes or the
    /// lifetime ends.
    fn finish(&self, stats: &DriverStats) {
        let json = serde_json::to_string(stats).unwrap_or_else(|_| "{}".into());
        say(&format!("done {json}"));
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(_) => continue,
                Err(_) => return,
            }
        }
    }

    fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Runs a driver to the end (inside the namespace).
pub fn run(driver: Driver, ctl: &Control) -> Result<(), LabError> {
    let io = |what: &'static str| move |e: std::io::Error| LabError::Driver(format!("{what}: {e}"));
    let local = SocketAddrV4::new(Ipv4Addr::LOCALHOST, SERVICE_PORT);
    match driver {
        Driver::SlowAccepter { backlog, clients } => {
            let listener = listener(local, backlog).map_err(io("listener"))?;
            accept_in_background(listener, Duration::from_secs(1), ctl.time_left());
            ctl.ready()?;
            let (stats, _held) = nonblocking_clients(local, clients);
            ctl.finish(&stats);
        }
        Driver::HalfOpenClients { backlog, clients } => {
            let listener = listener(local, backlog).map_err(io("listener"))?;
            accept_in_background(listener, Duration::from_millis(10), ctl.time_left());
            ctl.ready()?;
            let (stats, _held) = nonblocking_clients(local, clients);
            ctl.finish(&stats);
        }
        Driver::RawSynFlood { backlog, syns } => {
            let listener = listener(local, backlog).map_err(io("listener"))?;
            accept_in_background(listener, Duration::from_millis(10), ctl.time_left());
            let sender = RawSynSender::open().map_err(io("raw socket"))?;
            ctl.ready()?;
            let mut stats = DriverStats::default();
            paced(syns, |i| {
                let source = SocketAddrV4::new(
                    Ipv4Addr::new(127, 1, (i >> 8) as u8, (i & 0xff) as u8),
                    1024 + (i % 60000) as u16,
                );
                let segment = SynSegment {
                    source,
                    destination: local,
                    sequence: i.wrapping_mul(2_654_435_761),
                };
                stats.attempts += 1;
                match sender.send(&segment) {
                    Ok(_) => stats.succeeded += 1,
                    Err(e) => stats.error(&e),
                }
            });
            ctl.finish(&stats);
        }
        Driver::StalledReaders { connections } => {
            let listener = listener(local, 64).map_err(io("listener"))?;
            let mut pairs = Vec::new();
            for _ in 0..connections {
                let client = TcpStream::connect(local).map_err(io("connect"))?;
                let (server, _) = listener.accept().map_err(io("accept"))?;
                client.set_nodelay(true).map_err(io("nodelay"))?;
                client.set_nonblocking(true).map_err(io("nonblocking"))?;
                pairs.push((client, server, false, 0u64));
            }
            ctl.ready()?;
            let mut stats = DriverStats::default();
            let chunk = [0x5au8; 1000];
            let start = Instant::now();
            while start.elapsed() < TRAFFIC_TIME {
                for (client, server, shrunk, written) in &mut pairs {
                    stats.attempts += 1;
                    let full = match client.write(&chunk) {
                        Ok(n) => {
                            stats.succeeded += 1;
                            stats.bytes += n as u64;
                            *written += n as u64;
                            *written >= SHRINK_AFTER_BYTES
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => true,
                        Err(e) => {
                            stats.error(&e);
                            false
                        }
                    };
                    // Shrink once plenty is queued under the large window already advertised:
                    // from then on every arriving segment finds the buffer over its limit.
                    if full && !*shrunk {
                        SockRef::from(&*server)
                            .set_recv_buffer_size(4096)
                            .map_err(io("SO_RCVBUF"))?;
                        *shrunk = true;
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            stats.notes.push(format!(
                "{} receivers shrank SO_RCVBUF to 4096 bytes with data queued and never read",
                pairs.iter().filter(|p| p.2).count()
            ));
            ctl.finish(&stats);
        }
        Driver::UdpFlood { datagrams, size } => {
            let receiver = UdpSocket::bind(local).map_err(io("udp bind"))?;
            SockRef::from(&receiver)
                .set_recv_buffer_size(4096)
                .map_err(io("SO_RCVBUF"))?;
            let sender = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io("udp bind"))?;
            ctl.ready()?;
            let payload = vec![0x5au8; size.min(65000)];
            let mut stats = DriverStats::default();
            paced(datagrams, |_| {
                stats.attempts += 1;
                match sender.send_to(&payload, local) {
                    Ok(n) => {
                        stats.succeeded += 1;
                        stats.bytes += n as u64;
                    }
                    Err(e) => stats.error(&e),
                }
            });
            ctl.finish(&stats);
            drop(receiver);
        }
        Driver::HeldConnections { connections } => {
            let listener = listener(local, 1024).map_err(io("listener"))?;
            accept_in_background(listener, Duration::from_millis(5), ctl.time_left());
            ctl.ready()?;
            let (stats, _held) = nonblocking_clients(local, connections);
            ctl.finish(&stats);
        }
        Driver::ShortConnections { connections } => {
            let listener = listener(local, 512).map_err(io("listener"))?;
            let lifetime = ctl.time_left();
            std::thread::spawn(move || serve(listener, lifetime, false));
            ctl.ready()?;
            let mut stats = DriverStats::default();
            paced(connections, |_| {
                stats.attempts += 1;
                match TcpStream::connect_timeout(&SocketAddr::V4(local), Duration::from_secs(1)) {
                    Ok(stream) => {
                        stats.succeeded += 1;
                        drop(stream);
                    }
                    Err(e) => stats.error(&e),
                }
            });
            stats
                .notes
                .push("the client closed every connection first".into());
            ctl.finish(&stats);
        }
        Driver::AsymmetricUdp { datagrams } => {
            let sender = UdpSocket::bind((PEER_ADDR_1, 0)).map_err(io("udp bind"))?;
            let target = SocketAddrV4::new(MAIN_ADDR_2, SERVICE_PORT);
            ctl.ready()?;
            let payload = [0x5au8; 100];
            let mut stats = DriverStats::default();
            paced(datagrams, |_| {
                stats.attempts += 1;
                match sender.send_to(&payload, target) {
                    Ok(n) => {
                        stats.succeeded += 1;
                        stats.bytes += n as u64;
                    }
                    Err(e) => stats.error(&e),
                }
            });
            stats.notes.push(format!(
                "sent from {PEER_ADDR_1} (the first link) to {target} over the second link"
            ));
            ctl.finish(&stats);
        }
        Driver::BusyService { clients } => {
            let listener = listener(local, 512).map_err(io("listener"))?;
            let lifetime = ctl.time_left();
            std::thread::spawn(move || serve(listener, lifetime, true));
            ctl.ready()?;
            let threads = 4u32;
            let per_thread = clients.div_ceil(threads);
            let handles: Vec<_> = (0..threads)
                .map(|_| std::thread::spawn(move || request_loop(local, per_thread)))
                .collect();
            let mut stats = DriverStats::default();
            for handle in handles {
                if let Ok(part) = handle.join() {
                    stats.attempts += part.attempts;
                    stats.succeeded += part.succeeded;
                    stats.bytes += part.bytes;
                    for (k, v) in part.errors {
                        *stats.errors.entry(k).or_default() += v;
                    }
                }
            }
            ctl.finish(&stats);
        }
        Driver::None => {
            ctl.ready()?;
            ctl.finish(&DriverStats::default());
        }
    }
    Ok(())
}

/// A listening TCP socket with an explicit backlog.
fn listener(address: SocketAddrV4, backlog: i32) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::V4(address).into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// Accepts one connection every `pause` on a thread, keeping them open, for `lifetime`.
fn accept_in_background(listener: TcpListener, pause: Duration, lifetime: Duration) {
    std::thread::spawn(move || {
        let end = Instant::now() + lifetime;
        let mut held = Vec::new();
        if listener.set_nonblocking(true).is_err() {
            return;
        }
        while Instant::now() < end {
            std::thread::sleep(pause);
            if let Ok((stream, _)) = listener.accept() {
                held.push(stream);
            }
        }
    });
}

/// Accepts and serves connections one by one: with `answer`, reads a request line and writes a
/// reply; without, reads until the client closes. Ends after `lifetime`.
fn serve(listener: TcpListener, lifetime: Duration, answer: bool) {
    let end = Instant::now() + lifetime;
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    while Instant::now() < end {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 256];
                if answer {
                    let mut got = 0usize;
                    while got < buf.len() {
                        match stream.read(&mut buf[got..]) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                got += n;
                                if buf[..got].contains(&b'\n') {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = stream.write_all(b"ok\n");
                } else {
                    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// One client thread of the busy service: connect, ask, read the answer, close.
fn request_loop(target: SocketAddrV4, requests: u32) -> DriverStats {
    let mut stats = DriverStats::default();
    paced(requests, |_| {
        stats.attempts += 1;
        let result = (|| -> std::io::Result<bool> {
            let mut stream =
                TcpStream::connect_timeout(&SocketAddr::V4(target), Duration::from_secs(1))?;
            stream.set_read_timeout(Some(Duration::from_secs(1)))?;
            stream.write_all(b"hello\n")?;
            let mut reply = Vec::new();
            stream.read_to_end(&mut reply)?;
            Ok(reply == b"ok\n")
        })();
        match result {
            Ok(true) => {
                stats.succeeded += 1;
                stats.bytes += 6;
            }
            Ok(false) => *stats.errors.entry("short reply".into()).or_default() += 1,
            Err(e) => stats.error(&e),
        }
    });
    stats
}

/// Opens `count` non-blocking connections paced over the traffic time and returns them (to be
/// held open) with the stats; errors at connect time (EADDRNOTAVAIL) are counted by name.
fn nonblocking_clients(target: SocketAddrV4, count: u32) -> (DriverStats, Vec<Socket>) {
    let mut stats = DriverStats::default();
    let mut held = Vec::new();
    let address = SocketAddr::V4(target).into();
    paced(count, |_| {
        stats.attempts += 1;
        let socket = match Socket::new(Domain::IPV4, Type::STREAM, None) {
            Ok(s) => s,
            Err(e) => return stats.error(&e),
        };
        if let Err(e) = socket.set_nonblocking(true) {
            return stats.error(&e);
        }
        match socket.connect(&address) {
            Ok(()) => {
                stats.succeeded += 1;
                held.push(socket);
            }
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                stats.succeeded += 1;
                held.push(socket);
            }
            Err(e) => stats.error(&e),
        }
    });
    stats
        .notes
        .push(format!("{} connections started and held open", held.len()));
    (stats, held)
}

/// Calls `step(i)` for i in 0..count, spread evenly over [`TRAFFIC_TIME`] (in small bursts,
/// so that large counts do not need fine sleeps).
fn paced(count: u32, mut step: impl FnMut(u32)) {
    let start = Instant::now();
    let bursts = count.clamp(1, 100);
    for i in 0..count {
        let burst = u64::from(i) * u64::from(bursts) / u64::from(count.max(1));
        let due = TRAFFIC_TIME.mul_f64(burst as f64 / f64::from(bursts));
        let elapsed = start.elapsed();
        if due > elapsed {
            std::thread::sleep(due - elapsed);
        }
        step(i);
    }
}
