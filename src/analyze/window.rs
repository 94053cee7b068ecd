//! A Window: two snapshots of the same origin (or one), with deltas and rates that handle
//! counter resets and wraps.
//!
//! Rules read counters through a Window so that "since boot" (lifetime totals against uptime)
//! and "over the window" (a measured delta and rate) stay separate: a rate exists only when
//! two samples were taken and the time between them is known.
//!
//! - The elapsed time comes from the snapshots' monotonic clocks, else from their wall-clock
//!   collection times; when neither pair is usable there is no rate, only deltas.
//! - A counter that went down was reset (module reload, namespace re-created, reboot): it has no
//!   delta and says so, instead of a negative or absurd rate.
//! - softnet_stat columns are 32-bit and wrap: their deltas are taken per CPU with wrapping
//!   arithmetic, and the `Softnet*` sums are rebuilt from those per-CPU deltas.
//! - The lifetime average (total / uptime) is kept apart from the measured rate, and is only
//!   offered where the counters really started at boot (not for a namespace, whose counters
//!   start when it was created).

use crate::analyze::finding::Evidence;
use crate::snapshot::{CounterValue, Origin, Snapshot, SoftnetCpu};

/// One or two snapshots of the same origin.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    /// The earlier sample, when two were taken.
    pub before: Option<&'a Snapshot>,
    /// The latest sample: totals, settings and sockets are read from it.
    pub after: &'a Snapshot,
}

/// How a counter changed over the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// Only one sample: nothing was measured.
    NotMeasured,
    /// The counter is absent from the later sample.
    Absent,
    /// The counter exists in the later sample but not in the earlier one.
    NewInLaterSample,
    /// The value went down (a reset): the true change is unknown.
    Reset {
        before: CounterValue,
        after: CounterValue,
    },
    /// The measured increase (zero or more).
    Delta(CounterValue),
}

/// One counter as seen through a window: its latest total and how it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterReading {
    /// Canonical (nstat) name.
    pub name: String,
    /// The value in the later sample, None when the counter is not in the data.
    pub total: Option<CounterValue>,
    pub change: Change,
    /// Seconds between the two samples, when measured and positive.
    pub elapsed_s: Option<f64>,
    /// Seconds over which `total` accumulated, when known (uptime for the host's own
    /// namespace; unknown for other namespaces and undated pastes).
    pub lifetime_s: Option<f64>,
}

impl CounterReading {
    /// True when the counter is in the later sample.
    pub fn present(&self) -> bool {
        self.total.is_some()
    }

    /// The measured increase, when measured and not reset.
    pub fn delta(&self) -> Option<CounterValue> {
        match self.change {
            Change::Delta(d) => Some(d),
            _ => None,
        }
    }

    /// True when the window measured this counter (two samples, no reset).
    pub fn measured(&self) -> bool {
        self.delta().is_some()
    }

    /// True when the counter went down between the samples.
    pub fn was_reset(&self) -> bool {
        matches!(self.change, Change::Reset { .. })
    }

    /// The measured rate per second: only with a delta and a known, positive elapsed time.
    pub fn per_second(&self) -> Option<f64> {
        let delta = self.delta()?;
        let elapsed = self.elapsed_s?;
        (elapsed > 0.0).then(|| delta as f64 / elapsed)
    }

    /// The lifetime average per second (total / lifetime), when the lifetime is known.
    pub fn since_boot_per_second(&self) -> Option<f64> {
        let total = self.total?;
        let lifetime = self.lifetime_s?;
        (lifetime > 0.0 && total >= 0).then(|| total as f64 / lifetime)
    }

    /// The delta, or 0 when not measured (for sums where an absent part counts as nothing).
    pub fn delta_or_zero(&self) -> CounterValue {
        self.delta().unwrap_or(0)
    }

    /// The total, or 0 when the counter is not in the data.
    pub fn total_or_zero(&self) -> CounterValue {
        self.total.unwrap_or(0)
    }

    /// This reading as evidence (None when the counter is not in the data).
    pub fn evidence(&self) -> Option<Evidence> {
        let total = self.total?;
        Some(Evidence::Counter {
            name: self.name.clone(),
            total,
            delta: self.delta(),
            per_second: self.per_second(),
            since_boot_per_second: self.since_boot_per_second(),
        })
    }
}

/// The change of one CPU's softnet row between the two samples (32-bit wrapping deltas).
#[derive(Debug, Clone, PartialEq)]
pub struct SoftnetCpuDelta {
    pub cpu: u32,
    /// False when `cpu` is a row index rather than the kernel's CPU id.
    pub cpu_from_column: bool,
    pub processed: u64,
    pub dropped: u64,
    pub time_squeeze: u64,
    /// Totals in the later sample (32-bit: they may have wrapped since boot).
    pub dropped_total: u32,
    pub time_squeeze_total: u32,
}

impl<'a> Window<'a> {
    /// A window of one snapshot: lifetime totals only, no rates.
    pub fn single(snapshot: &'a Snapshot) -> Self {
        Window {
            before: None,
            after: snapshot,
        }
    }

    /// A window of two snapshots, earlier first.
    pub fn pair(before: &'a Snapshot, after: &'a Snapshot) -> Self {
        Window {
            before: Some(before),
            after,
        }
    }

    /// True when two samples were taken.
    pub fn has_two_samples(&self) -> bool {
        self.before.is_some()
    }

    /// Seconds between the samples: from the monotonic clocks when both have one, else from
    /// the wall-clock collection times. None with one sample or when the time is unknown or
    /// not positive.
    pub fn elapsed_s(&self) -> Option<f64> {
        let before = self.before?;
        let from_pair = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if (b - a).is_finite() && b > a => Some(b - a),
            _ => None,
        };
        from_pair(before.monotonic_s, self.after.monotonic_s)
            .or_else(|| from_pair(before.collected_at_unix_s, self.after.collected_at_unix_s))
    }

    /// True when the host rebooted between the samples (uptime went down): every delta is
    /// then treated as a reset.
    pub fn rebooted_between(&self) -> bool {
        match (
            self.before.and_then(|b| b.host.uptime_s),
            self.after.host.uptime_s,
        ) {
            (Some(before), Some(after)) => after + 1.0 < before,
            _ => false,
        }
    }

    /// Seconds over which the later sample's totals accumulated, when that is known: the
    /// uptime for the host's own namespace. None for other namespaces (their counters start
    /// when the namespace was created, which /proc does not say) and undated data.
    pub fn lifetime_s(&self) -> Option<f64> {
        match self.after.origin {
            Origin::Netns { .. } | Origin::Pid { .. } => None,
            _ => self.after.host.uptime_s.filter(|u| *u > 0.0),
        }
    }

    /// Words for the period the totals cover: "since boot", or "since the namespace was
    /// created" for a namespace.
    pub fn lifetime_words(&self) -> &'static str {
        match self.after.origin {
            Origin::Netns { .. } | Origin::Pid { .. } => "since the namespace was created",
            _ => "since boot",
        }
    }

    /// A counter read through the window.
    pub fn counter(&self, name: &str) -> CounterReading {
        let total = self.after.counter(name);
        let elapsed_s = self.elapsed_s();
        let lifetime_s = self.lifetime_s();
        let change = match (self.before, total) {
            (_, None) => Change::Absent,
            (None, Some(_)) => Change::NotMeasured,
            (Some(before), Some(after)) => {
                if name.starts_with("Softnet") && !before.softnet.is_empty() {
                    self.softnet_sum_change(name, before, after)
                } else {
                    match before.counter(name) {
                        None => Change::NewInLaterSample,
                        Some(b) if after < b || self.rebooted_between() => {
                            Change::Reset { before: b, after }
                        }
                        Some(b) => Change::Delta(after - b),
                    }
                }
            }
        };
        CounterReading {
            name: name.to_string(),
            total,
            change,
            elapsed_s,
            lifetime_s,
        }
    }

    /// The change of a `Softnet*` sum rebuilt from per-CPU 32-bit wrapping deltas.
    fn softnet_sum_change(
        &self,
        name: &str,
        before: &Snapshot,
        after_total: CounterValue,
    ) -> Change {
        let column: fn(&SoftnetCpu) -> Option<u32> = match name {
            "SoftnetProcessed" => |c| Some(c.processed),
            "SoftnetDropped" => |c| Some(c.dropped),
            "SoftnetTimeSqueeze" => |c| Some(c.time_squeeze),
            "SoftnetCpuCollision" => |c| Some(c.cpu_collision),
            "SoftnetReceivedRps" => |c| c.received_rps,
            "SoftnetFlowLimitCount" => |c| c.flow_limit_count,
            _ => {
                return match before.counter(name) {
                    None => Change::NewInLaterSample,
                    Some(b) if after_total < b => Change::Reset {
                        before: b,
                        after: after_total,
                    },
                    Some(b) => Change::Delta(after_total - b),
                };
            }
        };
        if self.rebooted_between() {
            let b = before.counter(name).unwrap_or(0);
            return Change::Reset {
                before: b,
                after: after_total,
            };
        }
        let mut sum: CounterValue = 0;
        for row in &self.after.softnet {
            let Some(old) = before.softnet.iter().find(|r| r.cpu == row.cpu) else {
                // A CPU came online between the samples: its whole count is new.
                sum += CounterValue::from(column(row).unwrap_or(0));
                continue;
            };
            if let (Some(new), Some(old)) = (column(row), column(old)) {
                sum += CounterValue::from(new.wrapping_sub(old));
            }
        }
        Change::Delta(sum)
    }

    /// Per-CPU softnet deltas (wrapping), for CPUs present in both samples. Empty with one
    /// sample.
    pub fn softnet_per_cpu(&self) -> Vec<SoftnetCpuDelta> {
        let Some(before) = self.before else {
            return Vec::new();
        };
        if self.rebooted_between() {
            return Vec::new();
        }
        self.after
            .softnet
            .iter()
            .filter_map(|row| {
                let old = before.softnet.iter().find(|r| r.cpu == row.cpu)?;
                Some(SoftnetCpuDelta {
                    cpu: row.cpu,
                    cpu_from_column: row.cpu_from_column,
                    processed: u64::from(row.processed.wrapping_sub(old.processed)),
                    dropped: u64::from(row.dropped.wrapping_sub(old.dropped)),
                    time_squeeze: u64::from(row.time_squeeze.wrapping_sub(old.time_squeeze)),
                    dropped_total: row.dropped,
                    time_squeeze_total: row.time_squeeze,
                })
            })
            .collect()
    }

    /// A live sysctl value, else the configured one, from the later sample: (value, where
    /// it came from). None when the snapshot has no sysctl view or the key is in neither.
    pub fn sysctl(&self, key: &str) -> Option<SysctlReading> {
        let view = self.after.sysctl.as_ref()?;
        let entry = view.key(key)?;
        if let Some(live) = &entry.live {
            // The file and line are shown only when that assignment is what is in effect.
            let same = |a: &str, b: &str| a.split_whitespace().eq(b.split_whitespace());
            let setter = entry.configured.as_ref().filter(|c| same(&c.value, live));
            return Some(SysctlReading {
                key: key.to_string(),
                value: live.clone(),
                live: true,
                file: setter.map(|c| c.file.clone()),
                line: setter.map(|c| c.line),
                configured: entry.configured.as_ref().map(|c| c.value.clone()),
                live_missing: None,
            });
        }
        let configured = entry.configured.as_ref()?;
        Some(SysctlReading {
            key: key.to_string(),
            value: configured.value.clone(),
            live: false,
            file: Some(configured.file.clone()),
            line: Some(configured.line),
            configured: Some(configured.value.clone()),
            live_missing: entry.live_missing.clone(),
        })
    }
}

/// A sysctl as a rule sees it: the value in effect (live) or, when the live value cannot be
/// read (a paste, a removed key), the configured one.
#[derive(Debug, Clone, PartialEq)]
pub struct SysctlReading {
    pub key: String,
    /// The live value when `live`, else the configured value.
    pub value: String,
    /// True when `value` was read from /proc/sys.
    pub live: bool,
    /// The configured value, when a file sets the key.
    pub configured: Option<String>,
    pub file: Option<String>,
    pub line: Option<usize>,
    /// Why the live value is missing, when it is.
    pub live_missing: Option<String>,
}

impl SysctlReading {
    /// The value's whitespace-separated numbers (`tcp_mem` has three). Non-numbers are None.
    pub fn numbers(&self) -> Vec<Option<i64>> {
        self.value
            .split_whitespace()
            .map(|w| w.parse().ok())
            .collect()
    }

    /// The value as one integer, when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self.numbers().as_slice() {
            [Some(v)] => Some(*v),
            _ => None,
        }
    }

    /// This reading as evidence.
    pub fn evidence(&self) -> Evidence {
        Evidence::Sysctl {
            key: self.key.clone(),
            value: Some(self.value.clone()),
            file: self.file.clone(),
            line: self.line,
        }
    }
}
