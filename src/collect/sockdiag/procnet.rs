//! The fallback: parsing /proc/net/tcp and /proc/net/tcp6 (pure functions over text).
//!
//! Lines look like
//! `0: 0100007F:1F90 00000000:0000 0A 00000000:00000005 00:00000000 00000000 1000 0 4242 ...`
//! (`sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ...`). Addresses are
//! the kernel's `__be32` words (network byte order in memory) printed as *host* integers with
//! `%08X`, so the text depends on the byte order of the machine that printed it: 127.0.0.1 is
//! `0100007F` on x86 and arm64, `7F000001` on s390x. We turn the number back into the bytes it
//! was printed from with `to_ne_bytes`, which is right for the running kernel (and for a tree
//! captured on a machine of the same byte order, i.e. any little-endian one on x86/arm64).
//!
//! What this file cannot tell: a listener's backlog limit. For LISTEN sockets `rx_queue` is the
//! accept queue, but `tx_queue` is not the limit (it is 0), so [`TcpSocket::wqueue`] is
//! meaningless for listeners read from here and the view reports the backlog as unknown.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::TcpSocket;
use super::state::TcpState;
use crate::snapshot::Skipped;

/// The sockets read from one /proc/net/tcp{,6} text, and the lines that were skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcNetTcp {
    pub sockets: Vec<TcpSocket>,
    pub skipped: Vec<Skipped>,
}

/// Parses the whole text of /proc/net/tcp or /proc/net/tcp6 (the address width tells which).
/// Never fails: lines that cannot be read are listed in `skipped` with their number.
pub fn parse_proc_net_tcp(text: &str) -> ProcNetTcp {
    let mut out = ProcNetTcp::default();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("sl ") || trimmed == "sl" {
            continue;
        }
        match parse_line(trimmed) {
            Ok(socket) => out.sockets.push(socket),
            Err(reason) => out.skipped.push(Skipped {
                line: index + 1,
                reason: reason.to_string(),
                text: trimmed.chars().take(120).collect(),
            }),
        }
    }
    out
}

/// Parses one data line (without leading blanks).
pub fn parse_line(line: &str) -> Result<TcpSocket, &'static str> {
    let mut fields = line.split_ascii_whitespace();
    let slot = fields.next().ok_or("empty line")?;
    if !slot.ends_with(':') {
        return Err("first field is not a slot number followed by ':'");
    }
    let local = parse_endpoint(fields.next().ok_or("no local address")?)?;
    let remote = parse_endpoint(fields.next().ok_or("no remote address")?)?;
    let state = u8::from_str_radix(fields.next().ok_or("no state")?, 16)
        .map_err(|_| "state is not a hex byte")?;
    let (tx, rx) = fields
        .next()
        .ok_or("no queues")?
        .split_once(':')
        .ok_or("queues are not tx:rx")?;
    let wqueue = u32::from_str_radix(tx, 16).map_err(|_| "tx_queue is not hex")?;
    let rqueue = u32::from_str_radix(rx, 16).map_err(|_| "rx_queue is not hex")?;
    let _timer = fields.next().ok_or("no timer")?;
    let _retransmits = fields.next().ok_or("no retransmit count")?;
    let uid = fields
        .next()
        .ok_or("no uid")?
        .parse::<u32>()
        .map_err(|_| "uid is not a number")?;
    let _timeout = fields.next().ok_or("no timeout")?;
    let inode = fields
        .next()
        .ok_or("no inode")?
        .parse::<u64>()
        .map_err(|_| "inode is not a number")?;
    Ok(TcpSocket {
        state: TcpState(state),
        local,
        remote,
        rqueue,
        wqueue,
        uid,
        inode,
    })
}

/// Parses `0100007F:1F90` (IPv4) or 32 hex digits and a port (IPv6).
fn parse_endpoint(text: &str) -> Result<SocketAddr, &'static str> {
    let (address, port) = text.split_once(':').ok_or("address has no ':port'")?;
    let port = u16::from_str_radix(port, 16).map_err(|_| "port is not 4 hex digits")?;
    if !address.is_ascii() {
        return Err("address is not hex");
    }
    let ip = match address.len() {
        8 => {
            let word = u32::from_str_radix(address, 16).map_err(|_| "IPv4 address is not hex")?;
            IpAddr::V4(Ipv4Addr::from(word.to_ne_bytes()))
        }
        32 => {
            let mut bytes = [0u8; 16];
            for (group, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                let digits = address
                    .get(group * 8..group * 8 + 8)
                    .ok_or("IPv6 address is not hex")?;
                let word =
                    u32::from_str_radix(digits, 16).map_err(|_| "IPv6 address is not hex")?;
                chunk.copy_from_slice(&word.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return Err("address is neither 8 nor 32 hex digits"),
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The literal lines below were printed by a little-endian kernel.
    #[cfg(target_endian = "little")]
    #[test]
    fn ipv4_listener_line() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000005 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0\n";
        let parsed = parse_proc_net_tcp(text);
        assert!(parsed.skipped.is_empty());
        let s = parsed.sockets[0];
        assert_eq!(s.local.to_string(), "127.0.0.1:8080");
        assert_eq!(s.state, TcpState::LISTEN);
        assert_eq!((s.rqueue, s.uid, s.inode), (5, 1000, 4242));
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn ipv6_loopback() {
        let line = "0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7 1";
        let s = parse_line(line).unwrap();
        assert_eq!(s.local.to_string(), "[::1]:8080");
    }

    /// The kernel prints each 32-bit word of the address with `%08X` of the value as it sits
    /// in memory, read as a host integer: the digits depend on the host's byte order. Printing
    /// the address the way the kernel does on *this* host (`from_ne_bytes` of the network-order
    /// bytes) must read back as the same address; with `to_le_bytes` this fails on big-endian
    /// hosts (s390x), where 127.0.0.1 is printed `7F000001`.
    #[test]
    fn addresses_are_host_order_words_as_the_kernel_prints_them() {
        let v4 = Ipv4Addr::new(10, 1, 2, 3);
        let printed = format!("{:08X}:0050", u32::from_ne_bytes(v4.octets()));
        assert_eq!(
            parse_endpoint(&printed),
            Ok(SocketAddr::new(IpAddr::V4(v4), 80))
        );
        let v6: Ipv6Addr = "2001:db8::1:2".parse().unwrap();
        let mut printed = String::new();
        for chunk in v6.octets().chunks_exact(4) {
            let word = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            printed.push_str(&format!("{word:08X}"));
        }
        printed.push_str(":01BB");
        assert_eq!(
            parse_endpoint(&printed),
            Ok(SocketAddr::new(IpAddr::V6(v6), 443))
        );
        // On the little-endian hosts our fixtures come from, the digits are byte-swapped.
        if cfg!(target_endian = "little") {
            assert_eq!(
                parse_endpoint("0100007F:1F90").map(|a| a.to_string()),
                Ok("127.0.0.1:8080".to_string())
            );
        }
    }

    #[test]
    fn bad_lines_are_skipped_with_their_number() {
        let parsed = parse_proc_net_tcp("sl local\n 0: zz:1 00000000:0000 0A 0:0 0:0 0 0 0 1\n");
        assert_eq!(parsed.sockets.len(), 0);
        assert_eq!(parsed.skipped[0].line, 2);
    }
}
