//! TCP states as the kernel numbers them (include/net/tcp_states.h), with our names and the
//! names `ss` prints.

/// A TCP state number as the kernel reports it in inet_diag and /proc/net/tcp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpState(pub u8);

impl TcpState {
    pub const ESTABLISHED: TcpState = TcpState(1);
    pub const SYN_SENT: TcpState = TcpState(2);
    pub const SYN_RECV: TcpState = TcpState(3);
    pub const FIN_WAIT1: TcpState = TcpState(4);
    pub const FIN_WAIT2: TcpState = TcpState(5);
    pub const TIME_WAIT: TcpState = TcpState(6);
    pub const CLOSE: TcpState = TcpState(7);
    pub const CLOSE_WAIT: TcpState = TcpState(8);
    pub const LAST_ACK: TcpState = TcpState(9);
    pub const LISTEN: TcpState = TcpState(10);
    pub const CLOSING: TcpState = TcpState(11);
    pub const NEW_SYN_RECV: TcpState = TcpState(12);
    pub const BOUND_INACTIVE: TcpState = TcpState(13);

    /// The highest state number we name; numbers above it are shown as "STATE_N".
    pub const MAX_KNOWN: u8 = 13;

    /// The states a full dump asks for: 1..=11, what `ss -a` asks for. NEW_SYN_RECV (12)
    /// comes with SYN_RECV by itself; BOUND_INACTIVE (13, kernel 6.9+) is left out on
    /// purpose: asking for it makes the kernel walk the whole bind hash as well, which
    /// doubled the dump's cost with 50,000 sockets, and such sockets carry no connection.
    pub const ALL_MASK: u32 = 0x0ffe;

    /// The bit for this state in an inet_diag state mask.
    pub fn bit(self) -> u32 {
        1u32.checked_shl(u32::from(self.0)).unwrap_or(0)
    }

    /// Our name for the state: the kernel's, without the `TCP_` prefix.
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "ESTABLISHED",
            2 => "SYN_SENT",
            3 => "SYN_RECV",
            4 => "FIN_WAIT1",
            5 => "FIN_WAIT2",
            6 => "TIME_WAIT",
            7 => "CLOSE",
            8 => "CLOSE_WAIT",
            9 => "LAST_ACK",
            10 => "LISTEN",
            11 => "CLOSING",
            12 => "NEW_SYN_RECV",
            13 => "BOUND_INACTIVE",
            _ => "UNKNOWN",
        }
    }

    /// The name `ss` prints in its State column.
    pub fn ss_name(self) -> &'static str {
        match self.0 {
            1 => "ESTAB",
            2 => "SYN-SENT",
            3 | 12 => "SYN-RECV",
            4 => "FIN-WAIT-1",
            5 => "FIN-WAIT-2",
            6 => "TIME-WAIT",
            7 => "UNCONN",
            8 => "CLOSE-WAIT",
            9 => "LAST-ACK",
            10 => "LISTEN",
            11 => "CLOSING",
            _ => "UNKNOWN",
        }
    }

    /// Parses a state name as a user types it: "established", "estab", "time-wait",
    /// "TIME_WAIT", "syn-recv", "listen", "fin-wait-1", "close-wait", ...
    pub fn parse(text: &str) -> Option<TcpState> {
        let normal: String = text
            .trim()
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        let state = match normal.as_str() {
            "established" | "estab" => TcpState::ESTABLISHED,
            "synsent" => TcpState::SYN_SENT,
            "synrecv" | "synreceived" => TcpState::SYN_RECV,
            "finwait1" => TcpState::FIN_WAIT1,
            "finwait2" => TcpState::FIN_WAIT2,
            "timewait" => TcpState::TIME_WAIT,
            "close" | "closed" | "unconn" => TcpState::CLOSE,
            "closewait" => TcpState::CLOSE_WAIT,
            "lastack" => TcpState::LAST_ACK,
            "listen" | "listening" => TcpState::LISTEN,
            "closing" => TcpState::CLOSING,
            _ => return None,
        };
        Some(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_user_spellings() {
        assert_eq!(TcpState::parse("time-wait"), Some(TcpState::TIME_WAIT));
        assert_eq!(TcpState::parse("TIME_WAIT"), Some(TcpState::TIME_WAIT));
        assert_eq!(TcpState::parse("estab"), Some(TcpState::ESTABLISHED));
        assert_eq!(TcpState::parse("fin-wait-1"), Some(TcpState::FIN_WAIT1));
        assert_eq!(TcpState::parse("bogus"), None);
    }

    #[test]
    fn bits() {
        assert_eq!(TcpState::LISTEN.bit(), 1 << 10);
        assert_eq!(TcpState(200).bit(), 0);
    }
}
