//! Zero-copy parsing of inet_diag dump replies: netlink messages (`nlmsghdr`) holding
//! `struct inet_diag_msg` and its attributes (`rtattr`), read by offset with bounds checks.
//!
//! Nothing here allocates per message or panics: a truncated or malformed datagram gives a
//! [`ReplyError`] naming the offset; attributes we do not know (the kernel adds new ones,
//! e.g. 6.x sends SHUTDOWN, CGROUP_ID and SOCKOPT unasked) are skipped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::TcpSocket;
use super::request::NLMSG_HDRLEN;
use super::state::TcpState;

/// `NLMSG_NOOP`.
pub const NLMSG_NOOP: u16 = 1;
/// `NLMSG_ERROR`.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`.
pub const NLMSG_DONE: u16 = 3;
/// `NLM_F_DUMP_INTR`: the table changed while the dump ran.
pub const NLM_F_DUMP_INTR: u16 = 0x10;
/// Size of `struct inet_diag_msg`.
pub const INET_DIAG_MSG_LEN: usize = 72;
/// Size of `struct rtattr`.
const RTA_HDRLEN: usize = 4;

/// What went wrong in a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("netlink reply truncated at byte {offset}: {needed} bytes needed, {available} left")]
    Truncated {
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("netlink message at byte {offset} has an impossible length {length}")]
    BadLength { offset: usize, length: usize },
    #[error("inet_diag message at byte {offset} is {length} bytes, shorter than 72")]
    ShortDiagMessage { offset: usize, length: usize },
    #[error("attribute at byte {offset} of an inet_diag message has a bad length {length}")]
    BadAttribute { offset: usize, length: usize },
    #[error("inet_diag message at byte {offset} has unknown address family {family}")]
    UnknownFamily { offset: usize, family: u8 },
    #[error("the kernel answered with error {errno} ({message})")]
    Kernel { errno: i32, message: String },
}

/// The end of a datagram: whether the dump is complete, and whether it was interrupted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatagramOutcome {
    /// NLMSG_DONE was seen.
    pub done: bool,
    /// A message carried NLM_F_DUMP_INTR: sockets came and went during the dump.
    pub interrupted: bool,
    /// Sockets delivered to the callback.
    pub sockets: usize,
}

fn read_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    let chunk = bytes.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_ne_bytes(chunk.try_into().ok()?))
}

fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let chunk = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_ne_bytes(chunk.try_into().ok()?))
}

/// Rounds up to the netlink alignment of 4 bytes, saturating.
fn align4(length: usize) -> usize {
    length.saturating_add(3) & !3
}

/// Parses one received datagram: every netlink message in it, calling `on_socket` for each
/// socket. Messages with another sequence number are ignored. Stops at NLMSG_DONE.
pub fn parse_datagram(
    datagram: &[u8],
    sequence: u32,
    mut on_socket: impl FnMut(TcpSocket),
) -> Result<DatagramOutcome, ReplyError> {
    let mut outcome = DatagramOutcome::default();
    let mut offset = 0usize;
    while offset < datagram.len() {
        let available = datagram.len() - offset;
        if available < NLMSG_HDRLEN {
            return Err(ReplyError::Truncated {
                offset,
                needed: NLMSG_HDRLEN,
                available,
            });
        }
        let header = datagram.get(offset..offset + NLMSG_HDRLEN).unwrap_or(&[]);
        let (Some(length), Some(kind), Some(flags), Some(seq)) = (
            read_u32(header, 0),
            read_u16(header, 4),
            read_u16(header, 6),
            read_u32(header, 8),
        ) else {
            return Err(ReplyError::Truncated {
                offset,
                needed: NLMSG_HDRLEN,
                available,
            });
        };
        let length = length as usize;
        if length < NLMSG_HDRLEN {
            return Err(ReplyError::BadLength { offset, length });
        }
        if length > available {
            return Err(ReplyError::Truncated {
                offset,
                needed: length,
                available,
            });
        }
        let payload = datagram
            .get(offset + NLMSG_HDRLEN..offset + length)
            .unwrap_or(&[]);
        if flags & NLM_F_DUMP_INTR != 0 {
            outcome.interrupted = true;
        }
        if seq == sequence {
            match kind {
                NLMSG_DONE => {
                    outcome.done = true;
                    return Ok(outcome);
                }
                NLMSG_ERROR => {
                    let errno = read_u32(payload, 0).map_or(0, |e| e as i32);
                    if errno != 0 {
                        let errno = errno.saturating_neg();
                        return Err(ReplyError::Kernel {
                            errno,
                            message: std::io::Error::from_raw_os_error(errno).to_string(),
                        });
                    }
                    // errno 0 is an acknowledgement; nothing to do.
                }
                NLMSG_NOOP => {}
                _ => {
                    on_socket(parse_diag_message(payload, offset + NLMSG_HDRLEN)?);
                    outcome.sockets += 1;
                }
            }
        }
        offset = offset.saturating_add(align4(length));
    }
    Ok(outcome)
}

/// Parses the payload of one SOCK_DIAG_BY_FAMILY reply: `struct inet_diag_msg` then
/// attributes. `offset` is where the payload starts in the datagram (for error messages).
pub fn parse_diag_message(payload: &[u8], offset: usize) -> Result<TcpSocket, ReplyError> {
    let fixed: &[u8; INET_DIAG_MSG_LEN] = payload
        .get(..INET_DIAG_MSG_LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or(ReplyError::ShortDiagMessage {
            offset,
            length: payload.len(),
        })?;
    let family = fixed[0];
    let state = TcpState(fixed[1]);
    // inet_diag_sockid starts at 4: sport, dport (big-endian), src[4], dst[4], if, cookie[2].
    let local_port = u16::from_be_bytes([fixed[4], fixed[5]]);
    let remote_port = u16::from_be_bytes([fixed[6], fixed[7]]);
    let src: [u8; 16] = fixed_16(fixed, 8);
    let dst: [u8; 16] = fixed_16(fixed, 24);
    let (local_ip, remote_ip) = if family == libc::AF_INET as u8 {
        (
            IpAddr::V4(Ipv4Addr::new(src[0], src[1], src[2], src[3])),
            IpAddr::V4(Ipv4Addr::new(dst[0], dst[1], dst[2], dst[3])),
        )
    } else if family == libc::AF_INET6 as u8 {
        (
            IpAddr::V6(Ipv6Addr::from(src)),
            IpAddr::V6(Ipv6Addr::from(dst)),
        )
    } else {
        return Err(ReplyError::UnknownFamily { offset, family });
    };
    // After the sockid (4 + 48 = 52): expires, rqueue, wqueue, uid, inode.
    let word =
        |at: usize| u32::from_ne_bytes([fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]]);
    let socket = TcpSocket {
        state,
        local: SocketAddr::new(local_ip, local_port),
        remote: SocketAddr::new(remote_ip, remote_port),
        rqueue: word(56),
        wqueue: word(60),
        uid: word(64),
        inode: u64::from(word(68)),
    };
    check_attributes(
        payload.get(INET_DIAG_MSG_LEN..).unwrap_or(&[]),
        offset + INET_DIAG_MSG_LEN,
    )?;
    Ok(socket)
}

/// Copies 16 bytes starting at `at` out of the fixed header (both constant in-bounds).
fn fixed_16(fixed: &[u8; INET_DIAG_MSG_LEN], at: usize) -> [u8; 16] {
    let mut out = [0u8; 16];
    if let Some(chunk) = fixed.get(at..at + 16) {
        out.copy_from_slice(chunk);
    }
    out
}

/// Walks the attributes after the fixed header; each must fit. We ask for none, so all are
/// skipped, but a malformed one means the message cannot be trusted.
fn check_attributes(attributes: &[u8], offset: usize) -> Result<(), ReplyError> {
    let mut at = 0usize;
    while at < attributes.len() {
        let left = attributes.len() - at;
        let length = if left >= RTA_HDRLEN {
            read_u16(attributes, at).map_or(0, usize::from)
        } else {
            left
        };
        if length < RTA_HDRLEN || length > left {
            return Err(ReplyError::BadAttribute {
                offset: offset + at,
                length,
            });
        }
        at = at.saturating_add(align4(length)).min(attributes.len());
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds one reply message for tests: nlmsghdr + inet_diag_msg + optional attributes.
    /// (One argument per field keeps the call sites readable as a table.)
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn diag_message(
        sequence: u32,
        family: u8,
        state: u8,
        local: ([u8; 16], u16),
        remote: ([u8; 16], u16),
        queues: (u32, u32),
        inode: u32,
        attributes: &[u8],
    ) -> Vec<u8> {
        let length = NLMSG_HDRLEN + INET_DIAG_MSG_LEN + attributes.len();
        let mut m = Vec::with_capacity(length);
        m.extend_from_slice(&(length as u32).to_ne_bytes());
        m.extend_from_slice(&20u16.to_ne_bytes());
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&sequence.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&[family, state, 0, 0]);
        m.extend_from_slice(&local.1.to_be_bytes());
        m.extend_from_slice(&remote.1.to_be_bytes());
        m.extend_from_slice(&local.0);
        m.extend_from_slice(&remote.0);
        m.extend_from_slice(&[0u8; 12]); // if, cookie
        m.extend_from_slice(&0u32.to_ne_bytes()); // expires
        m.extend_from_slice(&queues.0.to_ne_bytes());
        m.extend_from_slice(&queues.1.to_ne_bytes());
        m.extend_from_slice(&1000u32.to_ne_bytes()); // uid
        m.extend_from_slice(&inode.to_ne_bytes());
        m.extend_from_slice(attributes);
        m
    }

    pub(crate) fn done_message(sequence: u32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&20u32.to_ne_bytes());
        m.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&sequence.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&0i32.to_ne_bytes());
        m
    }

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..4].copy_from_slice(&a);
        out
    }

    #[test]
    fn parses_a_listener_an_unknown_attribute_and_done() {
        // An unknown attribute (type 99, 5 bytes of data padded to 8).
        let attribute = [9u8, 0, 99, 0, 1, 2, 3, 4, 5, 0, 0, 0];
        let mut datagram = diag_message(
            5,
            libc::AF_INET as u8,
            10,
            (v4([127, 0, 0, 1]), 8080),
            (v4([0, 0, 0, 0]), 0),
            (5, 4),
            4242,
            &attribute,
        );
        datagram.extend(done_message(5));
        let mut seen = Vec::new();
        let outcome = parse_datagram(&datagram, 5, |s| seen.push(s)).unwrap();
        assert!(outcome.done);
        assert_eq!(seen.len(), 1);
        let s = seen[0];
        assert_eq!(s.state, TcpState::LISTEN);
        assert_eq!(s.local.to_string(), "127.0.0.1:8080");
        assert_eq!((s.rqueue, s.wqueue, s.inode), (5, 4, 4242));
    }

    #[test]
    fn ipv6_addresses() {
        let mut local = [0u8; 16];
        local[15] = 1;
        let datagram = diag_message(
            1,
            libc::AF_INET6 as u8,
            10,
            (local, 8080),
            ([0; 16], 0),
            (0, 128),
            1,
            &[],
        );
        let mut seen = Vec::new();
        parse_datagram(&datagram, 1, |s| seen.push(s)).unwrap();
        assert_eq!(seen[0].local.to_string(), "[::1]:8080");
    }

    #[test]
    fn truncation_and_bad_attributes_are_errors() {
        let datagram = diag_message(
            1,
            libc::AF_INET as u8,
            1,
            (v4([10, 0, 0, 1]), 1),
            (v4([10, 0, 0, 2]), 2),
            (0, 0),
            1,
            &[],
        );
        for cut in 0..datagram.len() {
            assert!(parse_datagram(&datagram[..cut], 1, |_| {}).is_err() || cut == 0);
        }
        let bad = diag_message(
            1,
            libc::AF_INET as u8,
            1,
            (v4([10, 0, 0, 1]), 1),
            (v4([10, 0, 0, 2]), 2),
            (0, 0),
            1,
            &[200, 0, 1, 0],
        );
        assert!(matches!(
            parse_datagram(&bad, 1, |_| {}),
            Err(ReplyError::BadAttribute { .. })
        ));
    }

    #[test]
    fn kernel_error_is_reported() {
        let mut m = Vec::new();
        m.extend_from_slice(&36u32.to_ne_bytes());
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&3u32.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&(-2i32).to_ne_bytes());
        m.extend_from_slice(&[0u8; 16]);
        assert!(matches!(
            parse_datagram(&m, 3, |_| {}),
            Err(ReplyError::Kernel { errno: 2, .. })
        ));
    }
}
