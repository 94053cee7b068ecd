//! The other /proc/net files people paste: sockstat (and sockstat6), softnet_stat and
//! stat/nf_conntrack. Detection scores here; parsing is the live collector's
//! (`collect::procfs`), so a pasted file reads exactly as the live one would.

/// Section names of /proc/net/sockstat and sockstat6 lines.
const SOCKSTAT_SECTIONS: &[&str] = &[
    "sockets", "TCP", "UDP", "UDPLITE", "RAW", "FRAG", "TCP6", "UDP6", "UDPLITE6", "RAW6", "FRAG6",
];

/// `TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1`: a known section, then name/number pairs.
pub fn is_sockstat_line(line: &str) -> bool {
    let Some((section, rest)) = line.split_once(':') else {
        return false;
    };
    if !SOCKSTAT_SECTIONS.contains(&section.trim()) {
        return false;
    }
    let mut words = rest.split_whitespace();
    let mut pairs = 0;
    while let Some(name) = words.next() {
        let Some(value) = words.next() else {
            return false;
        };
        if !name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_')
            || value.parse::<i64>().is_err()
        {
            return false;
        }
        pairs += 1;
    }
    pairs > 0
}

/// A row of 8-digit hexadecimal columns (softnet_stat, stat/nf_conntrack).
pub fn is_hex_row(line: &str) -> bool {
    let mut columns = 0;
    for word in line.split_whitespace() {
        if word.len() != 8 || !word.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
        columns += 1;
    }
    columns >= 9
}

/// The stat/nf_conntrack header: `entries searched found new ...` (older) or
/// `entries clashres found new ...` (newer).
pub fn is_conntrack_header(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words.next() == Some("entries")
        && words.clone().count() >= 8
        && words.all(|w| w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
}

/// Detection scores: (sockstat, softnet_stat, nf_conntrack).
pub fn scores(sample: &[&str]) -> (usize, usize, usize) {
    let header = sample.iter().any(|l| is_conntrack_header(l));
    let hex_rows = sample.iter().filter(|l| is_hex_row(l)).count();
    let sockstat = sample.iter().filter(|l| is_sockstat_line(l)).count() * 2;
    if header {
        (sockstat, 0, 5 + hex_rows * 2)
    } else {
        (sockstat, hex_rows * 2, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_files() {
        assert!(is_sockstat_line(
            "TCP: inuse 0 orphan 0 tw 20 alloc 13 mem 56"
        ));
        assert!(is_sockstat_line("sockets: used 0"));
        assert!(!is_sockstat_line("Tcp: 1 200 120000 -1"));
        assert!(!is_sockstat_line("TCP: inuse"));
        let row =
            "00000e78 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000";
        assert!(is_hex_row(row));
        assert!(!is_hex_row("00000e78 00000000"));
        assert!(is_conntrack_header(
            "entries  clashres found new invalid ignore delete chainlength insert insert_failed"
        ));
    }
}
