//! /proc/net/softnet_stat: one row of `%08x` columns per online CPU.
//!
//! Columns by position (0-based), per the kernel's `softnet_seq_show()`:
//! 0 processed, 1 dropped (backlog full: net.core.netdev_max_backlog), 2 time_squeeze,
//! 3-7 always 0, 8 cpu_collision (always 0 today), 9 received_rps (2.6.35+),
//! 10 flow_limit_count (≈3.11+), 11 backlog length and 12 CPU id (5.10+),
//! 13 input_pkt_queue length and 14 process_queue length (≈6.4+). Rows have 9 to 15 (or, on
//! a future kernel, more) columns; extra columns are kept in `columns`. Each value is a u32 that
//! wraps. The row index is the CPU id only when no CPU is offline, so the id comes from column
//! 12 when the row has it (`cpu_from_column`).
//!
//! Derived counters (section `Softnet`, summed over CPUs): `SoftnetProcessed`,
//! `SoftnetDropped`, `SoftnetTimeSqueeze`, `SoftnetCpuCollision`, `SoftnetReceivedRps` and
//! `SoftnetFlowLimitCount` (the last two only when some row has the column).

use super::{ParseError, nothing_parsed, skipped};
use crate::snapshot::{Counter, Skipped, SoftnetCpu};

/// The fewest columns any kernel prints.
pub const SOFTNET_MIN_COLUMNS: usize = 9;

/// Parsed softnet rows with what was skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedSoftnet {
    pub cpus: Vec<SoftnetCpu>,
    pub skipped: Vec<Skipped>,
}

/// Parses softnet_stat text. A row that is not 9+ hex u32 columns is skipped (it still takes
/// its row index); errors only when no row could be read.
pub fn parse_softnet(text: &str, file: &str) -> Result<ParsedSoftnet, ParseError> {
    let mut parsed = ParsedSoftnet::default();
    let mut row_index: u32 = 0;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let row = row_index;
        row_index = row_index.saturating_add(1);
        let mut columns = Vec::with_capacity(16);
        let mut bad = None;
        for token in trimmed.split_ascii_whitespace() {
            match u32::from_str_radix(token, 16) {
                Ok(v) if !token.starts_with('+') => columns.push(v),
                _ => {
                    bad = Some(token);
                    break;
                }
            }
        }
        if let Some(token) = bad {
            parsed.skipped.push(skipped(
                line_no,
                format!("`{token}` is not a 32-bit hex value"),
                trimmed,
            ));
            continue;
        }
        if columns.len() < SOFTNET_MIN_COLUMNS {
            parsed.skipped.push(skipped(
                line_no,
                format!(
                    "expected at least {SOFTNET_MIN_COLUMNS} hex columns, found {}",
                    columns.len()
                ),
                trimmed,
            ));
            continue;
        }
        parsed.cpus.push(softnet_row(row, columns));
    }
    if parsed.cpus.is_empty() {
        return Err(nothing_parsed(file, &parsed.skipped));
    }
    Ok(parsed)
}

/// Names the columns of one row (at least [`SOFTNET_MIN_COLUMNS`] long).
fn softnet_row(row: u32, columns: Vec<u32>) -> SoftnetCpu {
    let col = |i: usize| columns.get(i).copied();
    let cpu_column = col(12);
    SoftnetCpu {
        cpu: cpu_column.unwrap_or(row),
        cpu_from_column: cpu_column.is_some(),
        processed: col(0).unwrap_or(0),
        dropped: col(1).unwrap_or(0),
        time_squeeze: col(2).unwrap_or(0),
        cpu_collision: col(8).unwrap_or(0),
        received_rps: col(9),
        flow_limit_count: col(10),
        backlog_len: col(11),
        input_qlen: col(13),
        process_qlen: col(14),
        columns,
    }
}

/// The derived `Softnet*` counters: each column summed over CPUs (as u64, no wrap).
pub fn softnet_counters(cpus: &[SoftnetCpu]) -> Vec<Counter> {
    let sum = |f: &dyn Fn(&SoftnetCpu) -> Option<u32>| -> Option<i128> {
        let mut any = false;
        let mut total: i128 = 0;
        for cpu in cpus {
            if let Some(v) = f(cpu) {
                any = true;
                total += i128::from(v);
            }
        }
        any.then_some(total)
    };
    let fields: [(&str, Option<i128>); 6] = [
        ("Processed", sum(&|c| Some(c.processed))),
        ("Dropped", sum(&|c| Some(c.dropped))),
        ("TimeSqueeze", sum(&|c| Some(c.time_squeeze))),
        ("CpuCollision", sum(&|c| Some(c.cpu_collision))),
        ("ReceivedRps", sum(&|c| c.received_rps)),
        ("FlowLimitCount", sum(&|c| c.flow_limit_count)),
    ];
    fields
        .into_iter()
        .filter_map(|(field, value)| {
            value.map(|value| Counter {
                name: format!("Softnet{field}"),
                section: "Softnet".to_string(),
                value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_id_from_column_when_present() {
        let text = "00000009 00000001 00000002 0 0 0 0 0 0 0 0 0 00000003 0 0\n\
                    000004a4 0 0 0 0 0 0 0 0 0 0\n";
        let p = parse_softnet(text, "softnet_stat").unwrap();
        assert_eq!(p.cpus[0].cpu, 3);
        assert!(p.cpus[0].cpu_from_column);
        assert_eq!(p.cpus[0].dropped, 1);
        assert_eq!(p.cpus[0].process_qlen, Some(0));
        assert_eq!(p.cpus[1].cpu, 1);
        assert!(!p.cpus[1].cpu_from_column);
        assert_eq!(p.cpus[1].processed, 0x4a4);
        let derived = softnet_counters(&p.cpus);
        assert_eq!(derived[0].name, "SoftnetProcessed");
        assert_eq!(derived[0].value, 9 + 0x4a4);
    }

    #[test]
    fn short_rows_are_an_error_with_line() {
        let err =
            parse_softnet("00015c73 00020e76 F0000769 00000000\n", "softnet_stat").unwrap_err();
        assert_eq!(
            err.to_string(),
            "softnet_stat:1: expected at least 9 hex columns, found 4 (\"00015c73 00020e76 F0000769 00000000\")"
        );
    }
}
