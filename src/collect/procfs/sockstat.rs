//! /proc/net/sockstat and sockstat6: socket gauges, `PROTO: key value key value ...`.
//!
//! ```text
//! sockets: used 17
//! TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 0
//! ```
//!
//! These are levels, not counters, so they are kept apart from `Snapshot::counters`.

use super::{ParseError, is_name, nothing_parsed, skipped};
use crate::snapshot::{Skipped, SockstatLine};

/// Parsed sockstat lines with what was skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedSockstat {
    pub lines: Vec<SockstatLine>,
    pub skipped: Vec<Skipped>,
}

/// Parses sockstat or sockstat6 text. Errors only when nothing could be understood.
pub fn parse_sockstat(text: &str, file: &str) -> Result<ParsedSockstat, ParseError> {
    let mut parsed = ParsedSockstat::default();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let Some((protocol, rest)) = trimmed.split_once(':') else {
            parsed.skipped.push(skipped(
                line_no,
                "not a `PROTO: key value ...` line",
                trimmed,
            ));
            continue;
        };
        if !is_name(protocol) {
            parsed
                .skipped
                .push(skipped(line_no, "not a protocol name before ':'", trimmed));
            continue;
        }
        let mut fields = Vec::new();
        let mut tokens = rest.split_ascii_whitespace();
        while let Some(key) = tokens.next() {
            let Some(value) = tokens.next() else {
                parsed.skipped.push(skipped(
                    line_no,
                    format!("{protocol}: `{key}` has no value"),
                    trimmed,
                ));
                break;
            };
            match (is_name(key), value.parse::<i64>()) {
                (true, Ok(v)) => fields.push((key.to_string(), v)),
                _ => parsed.skipped.push(skipped(
                    line_no,
                    format!("{protocol}: `{key} {value}` is not a name and a number"),
                    trimmed,
                )),
            }
        }
        if !fields.is_empty() {
            parsed.lines.push(SockstatLine {
                protocol: protocol.to_string(),
                fields,
            });
        }
    }
    if parsed.lines.is_empty() {
        return Err(nothing_parsed(file, &parsed.skipped));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_fields() {
        let p = parse_sockstat(
            "sockets: used 17\nTCP: inuse 1 orphan 0 tw 0 alloc 1 mem 0\nFRAG: inuse 0 memory 0\n",
            "sockstat",
        )
        .unwrap();
        assert_eq!(p.lines.len(), 3);
        assert_eq!(p.lines[1].protocol, "TCP");
        assert_eq!(p.lines[1].fields[4], ("mem".to_string(), 0));
    }

    #[test]
    fn odd_tokens_are_skipped() {
        let p = parse_sockstat("TCP: inuse 1 orphan\n", "sockstat").unwrap();
        assert_eq!(p.lines[0].fields.len(), 1);
        assert_eq!(p.skipped[0].line, 1);
        assert!(parse_sockstat("garbage", "sockstat").is_err());
    }
}
