//! Deltas and per-second rates of counters between two snapshots of the same origin.
//!
//! A counter that went down was reset (a namespace re-created, a module reloaded, a
//! reboot): its delta is not a rate and is flagged. Softnet columns are 32-bit per CPU and
//! wrap, so their deltas are taken per CPU with wrapping arithmetic when both samples list
//! the same CPUs. Gauges (levels such as `TcpCurrEstab`) get a delta but no rate.

use crate::snapshot::{Counter, CounterValue, Snapshot, SoftnetCpu};

/// How one counter moved between two samples.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterChange<'a> {
    pub counter: &'a Counter,
    /// After minus before; None when the counter is new in the later sample or was reset.
    pub delta: Option<CounterValue>,
    /// Delta per second of measured elapsed time; None for gauges, resets and unknown time.
    pub per_second: Option<f64>,
    /// True when the counter went down (a reset, not a negative rate).
    pub reset: bool,
    /// True when the value is a level, not a running count.
    pub gauge: bool,
}

/// Counters that are levels or settings, not running counts (besides what the knowledge
/// base marks as gauges).
const GAUGES: &[&str] = &[
    "IpForwarding",
    "IpDefaultTTL",
    "TcpRtoAlgorithm",
    "TcpRtoMin",
    "TcpRtoMax",
    "TcpMaxConn",
    "TcpCurrEstab",
    "MPTcpExtMPCurrEstab",
    "ConntrackEntries",
    "ConntrackCount",
    "ConntrackMax",
];

/// True when a counter is a level (gauge) rather than a running count.
pub fn is_gauge(name: &str) -> bool {
    GAUGES.contains(&name) || crate::kb::counter(name).is_some_and(|e| e.kind == "gauge")
}

/// Seconds between two samples by their monotonic clocks, when both have one and it moved.
pub fn elapsed_seconds(before: &Snapshot, after: &Snapshot) -> Option<f64> {
    let elapsed = after.monotonic_s? - before.monotonic_s?;
    (elapsed.is_finite() && elapsed > 0.0).then_some(elapsed)
}

/// The change of every counter of `after` relative to `before`, in `after`'s order.
pub fn counter_changes<'a>(before: &Snapshot, after: &'a Snapshot) -> Vec<CounterChange<'a>> {
    let elapsed = elapsed_seconds(before, after);
    let mut earlier: std::collections::HashMap<&str, CounterValue> =
        std::collections::HashMap::with_capacity(before.counters.len());
    for c in &before.counters {
        earlier.insert(c.name.as_str(), c.value);
    }
    after
        .counters
        .iter()
        .map(|counter| {
            let gauge = is_gauge(&counter.name);
            let plain = earlier
                .get(counter.name.as_str())
                .map(|b| counter.value - b);
            let delta =
                softnet_wrapping_delta(&counter.name, &before.softnet, &after.softnet).or(plain);
            let reset = !gauge && delta.is_some_and(|d| d < 0);
            let delta = if reset { None } else { delta };
            let per_second = match (gauge, delta, elapsed) {
                (false, Some(d), Some(s)) => Some(d as f64 / s),
                _ => None,
            };
            CounterChange {
                counter,
                delta,
                per_second,
                reset,
                gauge,
            }
        })
        .collect()
}

/// The per-CPU softnet column a derived `Softnet*` counter sums (None for other names, and
/// for a column an older kernel does not print).
pub fn softnet_column(name: &str) -> Option<fn(&SoftnetCpu) -> Option<u32>> {
    Some(match name {
        "SoftnetProcessed" => |c| Some(c.processed),
        "SoftnetDropped" => |c| Some(c.dropped),
        "SoftnetTimeSqueeze" => |c| Some(c.time_squeeze),
        "SoftnetCpuCollision" => |c| Some(c.cpu_collision),
        "SoftnetReceivedRps" => |c| c.received_rps,
        "SoftnetFlowLimitCount" => |c| c.flow_limit_count,
        _ => return None,
    })
}

/// For `Softnet*` counters: the sum of per-CPU deltas with u32 wrap-around, when both
/// samples list the same CPUs in the same order. None otherwise.
fn softnet_wrapping_delta(
    name: &str,
    before: &[SoftnetCpu],
    after: &[SoftnetCpu],
) -> Option<CounterValue> {
    let column = softnet_column(name)?;
    if before.len() != after.len() || before.is_empty() {
        return None;
    }
    let mut total: CounterValue = 0;
    for (b, a) in before.iter().zip(after) {
        if b.cpu != a.cpu {
            return None;
        }
        if let (Some(vb), Some(va)) = (column(b), column(a)) {
            total += CounterValue::from(va.wrapping_sub(vb));
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(t: f64, counters: &[(&str, i128)]) -> Snapshot {
        Snapshot {
            monotonic_s: Some(t),
            counters: counters
                .iter()
                .map(|(n, v)| Counter {
                    name: n.to_string(),
                    section: "X".to_string(),
                    value: *v,
                })
                .collect(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn rates_resets_and_gauges() {
        let a = snap(
            10.0,
            &[("TcpInSegs", 100), ("TcpOutRsts", 50), ("TcpCurrEstab", 9)],
        );
        let b = snap(
            12.0,
            &[
                ("TcpInSegs", 300),
                ("TcpOutRsts", 10),
                ("TcpCurrEstab", 4),
                ("New", 1),
            ],
        );
        let c = counter_changes(&a, &b);
        assert_eq!(c[0].delta, Some(200));
        assert_eq!(c[0].per_second, Some(100.0));
        assert!(c[1].reset);
        assert_eq!(c[1].delta, None);
        assert!(c[2].gauge);
        assert_eq!(c[2].delta, Some(-5));
        assert_eq!(c[2].per_second, None);
        assert_eq!(c[3].delta, None);
    }

    #[test]
    fn softnet_wraps_per_cpu() {
        let cpu = |processed| SoftnetCpu {
            processed,
            ..SoftnetCpu::default()
        };
        let mut a = snap(1.0, &[("SoftnetProcessed", 0xffff_fff0)]);
        a.softnet = vec![cpu(0xffff_fff0)];
        let mut b = snap(2.0, &[("SoftnetProcessed", 0x10)]);
        b.softnet = vec![cpu(0x10)];
        let c = counter_changes(&a, &b);
        assert_eq!(c[0].delta, Some(0x20));
        assert!(!c[0].reset);
    }
}
