//! Small pure parsers and matchers that several layers share (collect, analyze, cli), kept
//! here so that none of them has to depend on another's I/O code for a few lines of text
//! handling: glob(7) matching, sysctl key forms, and the port-setting syntaxes of
//! /proc/sys/net/ipv4.

/// glob(7) matching of one path component: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`, `\x`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        let current = t.get(ti).copied();
        let step = match (p.get(pi), current) {
            (Some('*'), _) => {
                backtrack = Some((pi, ti));
                pi += 1;
                continue;
            }
            (Some('?'), Some(_)) => Some(pi + 1),
            (Some('['), Some(c)) => match match_class(&p, pi, c) {
                Some((true, next)) => Some(next),
                Some((false, _)) => None,
                None if c == '[' => Some(pi + 1),
                None => None,
            },
            (Some('\\'), Some(c)) => match p.get(pi + 1) {
                Some(escaped) if *escaped == c => Some(pi + 2),
                None if c == '\\' => Some(pi + 1),
                _ => None,
            },
            (Some(pc), Some(c)) if *pc == c => Some(pi + 1),
            _ => None,
        };
        match step {
            Some(next) => {
                pi = next;
                ti += 1;
            }
            None => match backtrack {
                Some((star_p, star_t)) => {
                    pi = star_p + 1;
                    ti = star_t + 1;
                    backtrack = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&'*') {
        pi += 1;
    }
    pi == p.len()
}

/// Matches `c` against the bracket expression starting at `p[start] == '['`. Returns
/// (matched, index after `]`), or None when the bracket is not closed (then `[` is literal).
fn match_class(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|e| *e != ']') {
            let end = *p.get(i + 2)?;
            if ch <= c && c <= end {
                matched = true;
            }
            i += 3;
        } else {
            if ch == c {
                matched = true;
            }
            i += 1;
        }
    }
}

/// Why a port setting (ip_local_port_range, ip_local_reserved_ports) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortSettingError {
    #[error("empty")]
    Empty,
    #[error("expected two ports, LOW HIGH; found {0} fields")]
    FieldCount(usize),
    #[error("{0:?} is not a port number (0-65535)")]
    NotAPort(String),
    #[error("the low port {low} is above the high port {high}")]
    LowAboveHigh { low: u16, high: u16 },
    #[error("an empty item between commas")]
    EmptyItem,
}

/// Swaps the two sysctl separators: a /proc/sys path becomes a dotted key and back
/// (`net/ipv4/conf/eth0.200/x` ↔ `net.ipv4.conf.eth0/200.x`), as sysctl(8) does.
pub fn swap_separators(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '.' => '/',
            '/' => '.',
            other => other,
        })
        .collect()
}

/// A sysctl key in dotted form, given either form: when its first separator is `/` it is a
/// path and the separators are swapped (`net/ipv4/tcp_syncookies` → `net.ipv4.tcp_syncookies`);
/// otherwise it is dotted already (`net.ipv4.conf.eth0/1.rp_filter` stays).
pub fn dotted_key(key: &str) -> String {
    if key.chars().find(|c| *c == '.' || *c == '/') == Some('/') {
        swap_separators(key)
    } else {
        key.to_string()
    }
}

/// One port: ASCII digits only (no sign, no blanks), at most 65535.
fn parse_port(text: &str) -> Result<u16, PortSettingError> {
    let not_a_port = || PortSettingError::NotAPort(text.chars().take(24).collect());
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_port());
    }
    text.parse().map_err(|_| not_a_port())
}

fn ordered(low: u16, high: u16) -> Result<(u16, u16), PortSettingError> {
    if low > high {
        return Err(PortSettingError::LowAboveHigh { low, high });
    }
    Ok((low, high))
}

/// Parses net.ipv4.ip_local_port_range: "32768\t60999" → (32768, 60999). Two ports separated
/// by blanks, low ≤ high (equal is one port, as the kernel allows). Pure; never panics.
pub fn parse_port_range(text: &str) -> Result<(u16, u16), PortSettingError> {
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    match fields.as_slice() {
        [] => Err(PortSettingError::Empty),
        [low, high] => ordered(parse_port(low)?, parse_port(high)?),
        other => Err(PortSettingError::FieldCount(other.len())),
    }
}

/// Parses net.ipv4.ip_local_reserved_ports as the kernel prints it: "8080,9000-9100" →
/// [(8080, 8080), (9000, 9100)]; blank (nothing reserved) → []. Items are a port or LOW-HIGH
/// with low ≤ high. Pure; never panics.
pub fn parse_reserved_ports(text: &str) -> Result<Vec<(u16, u16)>, PortSettingError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return Err(PortSettingError::EmptyItem);
            }
            match item.split_once('-') {
                Some((low, high)) => ordered(parse_port(low.trim())?, parse_port(high.trim())?),
                None => parse_port(item).map(|port| (port, port)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matching() {
        assert!(glob_match("*", "eth0"));
        assert!(glob_match("eth*", "eth0"));
        assert!(!glob_match("eth*", "lo"));
        assert!(glob_match("e?h[0-9]", "eth1"));
        assert!(!glob_match("e?h[!0-9]", "eth1"));
        assert!(glob_match("[", "["));
        assert!(glob_match("a*b*c", "aXbYbc"));
        assert!(!glob_match("a*b*c", "aXbYb"));
    }

    #[test]
    fn settings_parsers() {
        assert_eq!(parse_port_range("32768\t60999\n"), Ok((32768, 60999)));
        assert_eq!(parse_port_range("1024 1024"), Ok((1024, 1024)));
        assert_eq!(
            parse_port_range("60999 32768"),
            Err(PortSettingError::LowAboveHigh {
                low: 60999,
                high: 32768
            })
        );
        assert_eq!(parse_port_range(""), Err(PortSettingError::Empty));
        assert_eq!(
            parse_port_range("1 2 3"),
            Err(PortSettingError::FieldCount(3))
        );
        assert!(matches!(
            parse_port_range("1 65536"),
            Err(PortSettingError::NotAPort(_))
        ));
        assert!(matches!(
            parse_port_range("+1 2"),
            Err(PortSettingError::NotAPort(_))
        ));
        assert_eq!(parse_reserved_ports("\n"), Ok(vec![]));
        assert_eq!(
            parse_reserved_ports("8080,9000-9100\n"),
            Ok(vec![(8080, 8080), (9000, 9100)])
        );
        assert!(parse_reserved_ports("x").is_err());
        assert!(parse_reserved_ports("9100-9000").is_err());
        assert_eq!(
            parse_reserved_ports("80,,90"),
            Err(PortSettingError::EmptyItem)
        );
        assert!(parse_reserved_ports("70000").is_err());
    }
}
