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

use super::{CounterSink, ParseError, nothing_parsed, tokens};
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
    parse_softnet_into(text, file, &mut parsed.cpus, &mut parsed.skipped)?;
    Ok(parsed)
}

/// [`parse_softnet`] into a reused vector: rows already there keep their allocations.
pub fn parse_softnet_into(
    text: &str,
    file: &str,
    cpus: &mut Vec<SoftnetCpu>,
    skipped_out: &mut Vec<Skipped>,
) -> Result<(), ParseError> {
    let skipped_before = skipped_out.len();
    let mut used = 0usize;
    let mut row_index: u32 = 0;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let row = row_index;
        row_index = row_index.saturating_add(1);
        if used == cpus.len() {
            cpus.push(SoftnetCpu::default());
        }
        let Some(cpu) = cpus.get_mut(used) else { break };
        cpu.columns.clear();
        let mut bad = None;
        for token in tokens(trimmed) {
            match u32::from_str_radix(token, 16) {
                Ok(v) if !token.starts_with('+') => cpu.columns.push(v),
                _ => {
                    bad = Some(token);
                    break;
                }
            }
        }
        if let Some(token) = bad {
            skipped_out.push(Skipped::new(
                line_no,
                format!("`{token}` is not a 32-bit hex value"),
                trimmed,
            ));
            continue;
        }
        if cpu.columns.len() < SOFTNET_MIN_COLUMNS {
            skipped_out.push(Skipped::new(
                line_no,
                format!(
                    "expected at least {SOFTNET_MIN_COLUMNS} hex columns, found {}",
                    cpu.columns.len()
                ),
                trimmed,
            ));
            continue;
        }
        name_columns(cpu, row);
        used += 1;
    }
    cpus.truncate(used);
    if used == 0 {
        return Err(nothing_parsed(
            file,
            skipped_out.get(skipped_before..).unwrap_or_default(),
        ));
    }
    Ok(())
}

/// Fills the named fields of a row from its columns (at least [`SOFTNET_MIN_COLUMNS`]).
fn name_columns(cpu: &mut SoftnetCpu, row: u32) {
    let col = |i: usize| cpu.columns.get(i).copied();
    let cpu_column = col(12);
    cpu.cpu = cpu_column.unwrap_or(row);
    cpu.cpu_from_column = cpu_column.is_some();
    cpu.processed = col(0).unwrap_or(0);
    cpu.dropped = col(1).unwrap_or(0);
    cpu.time_squeeze = col(2).unwrap_or(0);
    cpu.cpu_collision = col(8).unwrap_or(0);
    cpu.received_rps = col(9);
    cpu.flow_limit_count = col(10);
    cpu.backlog_len = col(11);
    cpu.input_qlen = col(13);
    cpu.process_qlen = col(14);
}

/// Reads one column of a row (None when the row is too short to have it).
type ColumnOf = fn(&SoftnetCpu) -> Option<u32>;

/// Calls `emit("Softnet", field, value)` for each derived counter: each column summed over
/// CPUs (as a wide integer, no wrap). `ReceivedRps` and `FlowLimitCount` only when some row
/// has the column.
pub fn visit_softnet_counters(cpus: &[SoftnetCpu], emit: &mut dyn FnMut(&str, &str, i128)) {
    let columns: [(&str, ColumnOf); 6] = [
        ("Processed", |c| Some(c.processed)),
        ("Dropped", |c| Some(c.dropped)),
        ("TimeSqueeze", |c| Some(c.time_squeeze)),
        ("CpuCollision", |c| Some(c.cpu_collision)),
        ("ReceivedRps", |c| c.received_rps),
        ("FlowLimitCount", |c| c.flow_limit_count),
    ];
    if cpus.is_empty() {
        return;
    }
    for (field, column) in columns {
        let mut any = false;
        let mut total: i128 = 0;
        for cpu in cpus {
            if let Some(v) = column(cpu) {
                any = true;
                total += i128::from(v);
            }
        }
        if any {
            emit("Softnet", field, total);
        }
    }
}

/// The derived `Softnet*` counters as a vector (see [`visit_softnet_counters`]).
pub fn softnet_counters(cpus: &[SoftnetCpu]) -> Vec<Counter> {
    let mut out = Vec::new();
    let mut sink = CounterSink::new(&mut out);
    visit_softnet_counters(cpus, &mut |section, field, value| {
        sink.put(section, field, value)
    });
    sink.finish();
    out
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
