//! /proc/net/sockstat and sockstat6: socket gauges, `PROTO: key value key value ...`.
//!
//! ```text
//! sockets: used 17
//! TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 0
//! ```
//!
//! These are levels, not counters, so they are kept apart from `Snapshot::counters`.

use super::{ParseError, is_name, nothing_parsed, set_string, tokens};
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
    let mut used = 0usize;
    parse_sockstat_into(
        text,
        file,
        &mut parsed.lines,
        &mut used,
        &mut parsed.skipped,
    )?;
    parsed.lines.truncate(used);
    Ok(parsed)
}

/// [`parse_sockstat`] into a reused vector, writing from index `*used` on and advancing it
/// (sockstat and sockstat6 share one vector). The caller truncates to `*used` at the end.
pub fn parse_sockstat_into(
    text: &str,
    file: &str,
    lines: &mut Vec<SockstatLine>,
    used: &mut usize,
    skipped_out: &mut Vec<Skipped>,
) -> Result<(), ParseError> {
    let skipped_before = skipped_out.len();
    let used_before = *used;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let Some((protocol, rest)) = trimmed.split_once(':') else {
            skipped_out.push(Skipped::new(
                line_no,
                "not a `PROTO: key value ...` line",
                trimmed,
            ));
            continue;
        };
        if !is_name(protocol) {
            skipped_out.push(Skipped::new(
                line_no,
                "not a protocol name before ':'",
                trimmed,
            ));
            continue;
        }
        if *used == lines.len() {
            lines.push(SockstatLine {
                protocol: String::new(),
                fields: Vec::new(),
            });
        }
        let Some(out) = lines.get_mut(*used) else {
            break;
        };
        set_string(&mut out.protocol, protocol);
        let mut kept = 0usize;
        let mut words = tokens(rest);
        while let Some(key) = words.next() {
            let Some(value) = words.next() else {
                skipped_out.push(Skipped::new(
                    line_no,
                    format!("{protocol}: `{key}` has no value"),
                    trimmed,
                ));
                break;
            };
            match (is_name(key), value.parse::<i64>()) {
                (true, Ok(v)) => {
                    match out.fields.get_mut(kept) {
                        Some((k, old)) => {
                            set_string(k, key);
                            *old = v;
                        }
                        None => out.fields.push((key.to_string(), v)),
                    }
                    kept += 1;
                }
                _ => skipped_out.push(Skipped::new(
                    line_no,
                    format!("{protocol}: `{key} {value}` is not a name and a number"),
                    trimmed,
                )),
            }
        }
        out.fields.truncate(kept);
        if kept > 0 {
            *used += 1;
        }
    }
    if *used == used_before {
        return Err(nothing_parsed(
            file,
            skipped_out.get(skipped_before..).unwrap_or_default(),
        ));
    }
    Ok(())
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
