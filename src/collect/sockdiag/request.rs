//! Building an inet_diag dump request: an `nlmsghdr` followed by `struct inet_diag_req_v2`
//! (include/uapi/linux/inet_diag.h), 72 bytes in all, in host byte order.

/// Netlink message type of a sock_diag request (`SOCK_DIAG_BY_FAMILY`).
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
pub const NLM_F_DUMP: u16 = 0x300;
/// Size of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;
/// Size of `struct inet_diag_req_v2`.
pub const INET_DIAG_REQ_V2_LEN: usize = 56;
/// Size of a whole request message.
pub const REQUEST_LEN: usize = NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN;

/// Address family of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    /// The `AF_*` number.
    pub fn number(self) -> u8 {
        match self {
            Family::Inet => libc::AF_INET as u8,
            Family::Inet6 => libc::AF_INET6 as u8,
        }
    }
}

/// Builds the request asking the kernel to dump every TCP socket of `family` whose state bit
/// is set in `states` (bit N = TCP state N). No extensions are asked for: the base
/// `inet_diag_msg` holds everything the socket view needs (queues, uid, inode).
///
/// When `states` has only the LISTEN bit, the kernel walks the listening hash only; any other
/// bit makes it walk every connection, which is what makes `ss -ltn` slow on busy hosts.
pub fn dump_request(family: Family, states: u32, sequence: u32) -> [u8; REQUEST_LEN] {
    let mut message = [0u8; REQUEST_LEN];
    // struct nlmsghdr
    message[0..4].copy_from_slice(&(REQUEST_LEN as u32).to_ne_bytes());
    message[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    message[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    message[8..12].copy_from_slice(&sequence.to_ne_bytes());
    // nlmsg_pid 0: the kernel fills in our port id.
    // struct inet_diag_req_v2
    message[16] = family.number();
    message[17] = libc::IPPROTO_TCP as u8;
    // idiag_ext 0 (no extensions), pad 0
    message[20..24].copy_from_slice(&states.to_ne_bytes());
    // inet_diag_sockid all zero: no address or port filter; cookie INET_DIAG_NOCOOKIE is only
    // needed for exact look-ups, not dumps.
    message
}

/// Netlink message type of the legacy TCP request (`TCPDIAG_GETSOCK`).
pub const TCPDIAG_GETSOCK: u16 = 18;
/// Size of the legacy `struct inet_diag_req`.
pub const INET_DIAG_REQ_LEN: usize = 60;
/// Size of a whole legacy request message.
pub const COMPAT_REQUEST_LEN: usize = NLMSG_HDRLEN + INET_DIAG_REQ_LEN;

/// Builds the legacy `TCPDIAG_GETSOCK` dump request (`struct inet_diag_req`). The kernel
/// answers it with IPv4 and IPv6 sockets in one walk of the connection hash (it dumps with
/// family AF_UNSPEC "for compatibility"), where `SOCK_DIAG_BY_FAMILY` needs one walk per
/// family: the whole hash is walked twice. Replies are the same `inet_diag_msg`.
pub fn compat_dump_request(states: u32, sequence: u32) -> [u8; COMPAT_REQUEST_LEN] {
    let mut message = [0u8; COMPAT_REQUEST_LEN];
    message[0..4].copy_from_slice(&(COMPAT_REQUEST_LEN as u32).to_ne_bytes());
    message[4..6].copy_from_slice(&TCPDIAG_GETSOCK.to_ne_bytes());
    message[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    message[8..12].copy_from_slice(&sequence.to_ne_bytes());
    // struct inet_diag_req: family, src_len, dst_len, ext, then the 48-byte sockid.
    message[16] = libc::AF_INET as u8;
    message[68..72].copy_from_slice(&states.to_ne_bytes());
    // idiag_dbs 0
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_only_request_layout() {
        let m = dump_request(Family::Inet6, 1 << 10, 7);
        assert_eq!(u32::from_ne_bytes([m[0], m[1], m[2], m[3]]), 72);
        assert_eq!(u16::from_ne_bytes([m[4], m[5]]), 20);
        assert_eq!(u16::from_ne_bytes([m[6], m[7]]), 0x301);
        assert_eq!(u32::from_ne_bytes([m[8], m[9], m[10], m[11]]), 7);
        assert_eq!(m[16], libc::AF_INET6 as u8);
        assert_eq!(m[17], 6);
        assert_eq!(u32::from_ne_bytes([m[20], m[21], m[22], m[23]]), 1 << 10);
        assert!(m[24..].iter().all(|b| *b == 0));
    }

    #[test]
    fn compat_request_layout() {
        let m = compat_dump_request(0xffe, 3);
        assert_eq!(u32::from_ne_bytes([m[0], m[1], m[2], m[3]]), 76);
        assert_eq!(u16::from_ne_bytes([m[4], m[5]]), 18);
        assert_eq!(u32::from_ne_bytes([m[68], m[69], m[70], m[71]]), 0xffe);
    }
}
