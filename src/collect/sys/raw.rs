//! A raw IPv4 socket that sends hand-built TCP SYN segments: the lab's in-binary SYN-flood
//! source (no external tool). Building the packet is a pure function, tested without root;
//! sending needs CAP_NET_RAW and is only ever pointed at addresses inside a lab namespace.
//!
//! The socket is opened through `socket2`, which wraps the system calls safely, so this module
//! holds no `unsafe` block of its own.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// Length of the packets [`syn_packet`] builds: 20 bytes IPv4 header, 20 bytes TCP header and
/// a 4-byte MSS option.
pub const SYN_PACKET_LEN: usize = 44;

/// The MSS the forged SYNs announce.
const ANNOUNCED_MSS: u16 = 1460;

/// One forged SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynSegment {
    pub source: SocketAddrV4,
    pub destination: SocketAddrV4,
    pub sequence: u32,
}

/// A raw socket with the IP header supplied by the caller (IPPROTO_RAW implies IP_HDRINCL).
pub struct RawSynSender {
    socket: Socket,
}

impl RawSynSender {
    /// Opens the raw socket (needs CAP_NET_RAW in the current network namespace).
    pub fn open() -> io::Result<Self> {
        let socket = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(libc::IPPROTO_RAW)),
        )?;
        Ok(RawSynSender { socket })
    }

    /// Sends one SYN. Returns the number of bytes the kernel took.
    pub fn send(&self, segment: &SynSegment) -> io::Result<usize> {
        let packet = syn_packet(segment);
        let target = SockAddr::from(SocketAddrV4::new(*segment.destination.ip(), 0));
        self.socket.send_to(&packet, &target)
    }
}

/// Builds an IPv4 packet carrying a TCP SYN with an MSS option, both checksums filled in.
pub fn syn_packet(segment: &SynSegment) -> [u8; SYN_PACKET_LEN] {
    let mut packet = [0u8; SYN_PACKET_LEN];
    let (ip, tcp) = packet.split_at_mut(20);
    // IPv4 header: version 4, IHL 5 words, total length, DF, TTL 64, protocol TCP.
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(SYN_PACKET_LEN as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&(segment.sequence as u16).to_be_bytes());
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = libc::IPPROTO_TCP as u8;
    ip[12..16].copy_from_slice(&segment.source.ip().octets());
    ip[16..20].copy_from_slice(&segment.destination.ip().octets());
    let ip_sum = internet_checksum(ip, 0);
    ip[10..12].copy_from_slice(&ip_sum.to_be_bytes());

    // TCP header: ports, sequence, data offset 6 words (with the option), SYN, window.
    tcp[0..2].copy_from_slice(&segment.source.port().to_be_bytes());
    tcp[2..4].copy_from_slice(&segment.destination.port().to_be_bytes());
    tcp[4..8].copy_from_slice(&segment.sequence.to_be_bytes());
    tcp[12] = 6 << 4;
    tcp[13] = 0x02;
    tcp[14..16].copy_from_slice(&64240u16.to_be_bytes());
    tcp[20] = 2;
    tcp[21] = 4;
    tcp[22..24].copy_from_slice(&ANNOUNCED_MSS.to_be_bytes());
    let pseudo = pseudo_header_sum(
        *segment.source.ip(),
        *segment.destination.ip(),
        tcp.len() as u16,
    );
    let tcp_sum = internet_checksum(tcp, pseudo);
    tcp[16..18].copy_from_slice(&tcp_sum.to_be_bytes());
    packet
}

/// The one's-complement sum of the TCP pseudo header (addresses, protocol, length).
fn pseudo_header_sum(source: Ipv4Addr, destination: Ipv4Addr, tcp_length: u16) -> u32 {
    let mut sum = 0u32;
    for pair in source
        .octets()
        .chunks(2)
        .chain(destination.octets().chunks(2))
    {
        sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    sum + libc::IPPROTO_TCP as u32 + u32::from(tcp_length)
}

/// RFC 1071 checksum of `bytes`, starting from a partial sum.
fn internet_checksum(bytes: &[u8], initial: u32) -> u16 {
    let mut sum = initial;
    let mut chunks = bytes.chunks_exact(2);
    for pair in &mut chunks {
        sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SynSegment {
        SynSegment {
            source: SocketAddrV4::new(Ipv4Addr::new(127, 1, 2, 3), 40000),
            destination: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080),
            sequence: 0x0102_0304,
        }
    }

    #[test]
    fn checksums_verify_to_zero() {
        let packet = syn_packet(&sample());
        // A correct header checksums to zero when the stored checksum is included.
        assert_eq!(internet_checksum(&packet[..20], 0), 0);
        let pseudo = pseudo_header_sum(Ipv4Addr::new(127, 1, 2, 3), Ipv4Addr::LOCALHOST, 24);
        assert_eq!(internet_checksum(&packet[20..], pseudo), 0);
    }

    #[test]
    fn fields_are_where_the_wire_format_says() {
        let packet = syn_packet(&sample());
        assert_eq!(packet[0], 0x45);
        assert_eq!(u16::from_be_bytes([packet[2], packet[3]]), 44);
        assert_eq!(packet[9], 6);
        assert_eq!(&packet[12..16], &[127, 1, 2, 3]);
        assert_eq!(u16::from_be_bytes([packet[20], packet[21]]), 40000);
        assert_eq!(u16::from_be_bytes([packet[22], packet[23]]), 8080);
        assert_eq!(packet[33], 0x02, "only SYN set");
        assert_eq!(packet[32] >> 4, 6, "data offset covers the MSS option");
    }

    #[test]
    fn odd_length_checksum_pads_with_zero() {
        assert_eq!(internet_checksum(&[0x01], 0), !0x0100);
    }
}
