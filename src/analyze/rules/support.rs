//! Shared pieces for the rules: rate floors, lifetime floors, sums of counters, and the
//! sentences that put a total, a delta and a rate into words without ever inventing a rate.

use crate::analyze::finding::{Evidence, Finding, Severity};
use crate::analyze::window::{Change, CounterReading, Window};
use crate::render::{approx, duration, rate, thousands};
use crate::snapshot::{CounterValue, KernelVersion};

/// When a measured rise is a problem: at least `min_delta` events in the window AND at least
/// `warning_per_s` per second; `critical_per_s` (if any) makes it critical.
#[derive(Debug, Clone, Copy)]
pub struct RateFloor {
    pub min_delta: CounterValue,
    pub warning_per_s: f64,
    pub critical_per_s: Option<f64>,
}

impl RateFloor {
    /// The severity a measured reading earns: None when it stays under the floors or was not
    /// measured. A rise over an unknown time (two undated samples) earns at most Info.
    pub fn judge(&self, reading: &CounterReading) -> Option<Severity> {
        let delta = reading.delta()?;
        if delta < self.min_delta || delta <= 0 {
            return None;
        }
        let Some(per_second) = reading.per_second() else {
            return Some(Severity::Info);
        };
        if per_second < self.warning_per_s {
            return None;
        }
        match self.critical_per_s {
            Some(critical) if per_second >= critical => Some(Severity::Critical),
            _ => Some(Severity::Warning),
        }
    }
}

/// When a lifetime total is worth an info line: at least `min_total`, and (when the lifetime
/// is known) an average of at least `min_avg_per_s`.
#[derive(Debug, Clone, Copy)]
pub struct LifetimeFloor {
    pub min_total: CounterValue,
    pub min_avg_per_s: f64,
}

impl LifetimeFloor {
    pub fn notable(&self, reading: &CounterReading) -> bool {
        let Some(total) = reading.total else {
            return false;
        };
        if total < self.min_total || total <= 0 {
            return false;
        }
        reading
            .since_boot_per_second()
            .is_none_or(|avg| avg >= self.min_avg_per_s)
    }
}

/// A synthetic reading that sums several counters (`UdpRcvbufErrors` + `Udp6RcvbufErrors`).
/// Absent parts count as nothing; the sum is measured only when every present part is.
pub fn sum_readings(name: &str, parts: &[&CounterReading]) -> CounterReading {
    let present: Vec<&&CounterReading> = parts.iter().filter(|r| r.present()).collect();
    let elapsed_s = parts.iter().find_map(|r| r.elapsed_s);
    let lifetime_s = parts.iter().find_map(|r| r.lifetime_s);
    if present.is_empty() {
        return CounterReading {
            name: name.to_string(),
            total: None,
            change: Change::Absent,
            elapsed_s,
            lifetime_s,
        };
    }
    let total: CounterValue = present.iter().map(|r| r.total_or_zero()).sum();
    let change = if present.iter().any(|r| r.was_reset()) {
        Change::Reset {
            before: 0,
            after: total,
        }
    } else if present.iter().all(|r| r.measured()) {
        Change::Delta(present.iter().map(|r| r.delta_or_zero()).sum())
    } else {
        Change::NotMeasured
    };
    CounterReading {
        name: name.to_string(),
        total: Some(total),
        change,
        elapsed_s,
        lifetime_s,
    }
}

/// A reading built from a computed delta and total (a remainder, a difference), carrying the
/// window's times so that its rate and average follow the same rules as a real counter.
pub fn derived_reading(
    name: &str,
    total: Option<CounterValue>,
    delta: Option<CounterValue>,
    like: &CounterReading,
) -> CounterReading {
    let change = match (total, delta) {
        (None, _) => Change::Absent,
        (Some(_), Some(d)) => Change::Delta(d.max(0)),
        (Some(_), None) if like.was_reset() => Change::Reset {
            before: 0,
            after: total.unwrap_or(0),
        },
        (Some(_), None) => Change::NotMeasured,
    };
    CounterReading {
        name: name.to_string(),
        total: total.map(|t| t.max(0)),
        change,
        elapsed_s: like.elapsed_s,
        lifetime_s: like.lifetime_s,
    }
}

/// True when the samples are pasted files (dated pastes), not a live measurement: their
/// window ended whenever the second paste was taken, not now.
fn from_pastes(window: &Window) -> bool {
    matches!(window.after.origin, crate::snapshot::Origin::Files { .. })
}

/// "in the last 5 s", "between the two pastes (60 s apart)", or "between the two samples"
/// (time unknown).
pub fn window_words(window: &Window) -> String {
    match (window.elapsed_s(), from_pastes(window)) {
        (Some(s), true) => format!("between the two pastes ({} apart)", duration(s)),
        (Some(s), false) => format!("in the last {}", duration(s)),
        (None, _) => "between the two samples".to_string(),
    }
}

/// "right now" for a live window; "over that time" for dated pastes.
fn now_words(window: &Window) -> &'static str {
    if from_pastes(window) {
        "over that time"
    } else {
        "right now"
    }
}

/// Puts a reading into words, keeping "now" and "since boot" apart:
/// - "4,000/s right now (20,000 SYNs dropped in the last 5 s); since boot 35.5 billion (avg 140/s)"
/// - "since boot 35.5 billion SYNs dropped (avg 140/s); in the last 5 s: none"
/// - "since boot 35.5 billion SYNs dropped (avg 140/s)" (one sample: no current rate to state)
pub fn describe(window: &Window, reading: &CounterReading, noun: &str) -> String {
    let Some(total) = reading.total else {
        return format!("{noun}: not in the data");
    };
    let lifetime = lifetime_phrase(window, reading, total, noun);
    match reading.change {
        Change::Delta(delta) if delta > 0 => {
            let now = match reading.per_second() {
                Some(ps) => format!(
                    "{} {} ({} {noun} {})",
                    rate(ps),
                    now_words(window),
                    thousands(delta),
                    window_words(window)
                ),
                None => format!("{} {noun} {}", thousands(delta), window_words(window)),
            };
            format!("{now}; {}", lifetime_short(window, reading, total))
        }
        Change::Delta(_) => format!("{lifetime}; {}: none", window_words(window)),
        Change::Reset { .. } => format!(
            "{lifetime}; the counter went down between the samples (reset), so no current rate"
        ),
        Change::NewInLaterSample => {
            format!("{lifetime}; absent from the first sample, so no current rate")
        }
        Change::NotMeasured | Change::Absent => {
            if window.has_two_samples() {
                format!("{lifetime}; no current rate")
            } else {
                // One sample: the report's header and the finding's note say there is no rate.
                lifetime
            }
        }
    }
}

/// "since boot 35.5 billion SYNs dropped (avg 140/s)" or "35.5 billion SYNs dropped in total
/// (over an unknown time)".
fn lifetime_phrase(
    window: &Window,
    reading: &CounterReading,
    total: CounterValue,
    noun: &str,
) -> String {
    let amount = approx(total);
    match (reading.lifetime_s, reading.since_boot_per_second()) {
        (Some(_), Some(avg)) => format!(
            "{} {amount} {noun} (avg {})",
            window.lifetime_words(),
            rate(avg)
        ),
        _ if window.lifetime_words() != "since boot" => {
            format!("{amount} {noun} {}", window.lifetime_words())
        }
        // The time they accumulated over is unknown (a paste): the report says so once.
        _ => format!("{amount} {noun} in total"),
    }
}

/// The lifetime part after a measured rate: "since boot 35.5 billion (avg 140/s)".
fn lifetime_short(window: &Window, reading: &CounterReading, total: CounterValue) -> String {
    match reading.since_boot_per_second() {
        Some(avg) => format!(
            "{} {} (avg {})",
            window.lifetime_words(),
            approx(total),
            rate(avg)
        ),
        None => format!("{} in total", approx(total)),
    }
}

/// The kernel version of the later sample.
pub fn kernel(window: &Window) -> Option<KernelVersion> {
    window.after.host.kernel_version()
}

/// The kernel release as evidence, when known.
pub fn kernel_evidence(window: &Window) -> Option<Evidence> {
    window.after.host.kernel.as_ref().map(|k| Evidence::Fact {
        label: "kernel".to_string(),
        value: k.clone(),
    })
}

/// The evidence of every reading that is in the data.
pub fn counter_evidence(readings: &[&CounterReading]) -> Vec<Evidence> {
    readings.iter().filter_map(|r| r.evidence()).collect()
}

/// The evidence of readings that are in the data and not zero (secondary counters whose zero
/// would only be noise).
pub fn nonzero_evidence(readings: &[&CounterReading]) -> Vec<Evidence> {
    readings
        .iter()
        .filter(|r| r.total_or_zero() != 0)
        .filter_map(|r| r.evidence())
        .collect()
}

/// A weight for ordering findings of one severity: the measured rate when there is one,
/// otherwise a small number growing with the total.
pub fn weight(reading: &CounterReading) -> f64 {
    match reading.per_second() {
        Some(ps) if ps > 0.0 => 1000.0 + ps,
        _ => reading
            .total
            .filter(|t| *t > 0)
            .map(|t| (t as f64).log10())
            .unwrap_or(0.0),
    }
}

/// The severity a counter earns now (rate floor) or, failing that, Info for a notable
/// lifetime total. None when neither.
pub fn rate_or_lifetime(
    reading: &CounterReading,
    floor: RateFloor,
    lifetime: LifetimeFloor,
) -> Option<Severity> {
    floor
        .judge(reading)
        .or_else(|| lifetime.notable(reading).then_some(Severity::Info))
}

/// The common shape of a counter-driven finding; rules fill in the rest.
pub struct FindingText {
    pub id: &'static str,
    pub title: String,
    pub summary: String,
    pub explanation: String,
    pub remedy: Vec<String>,
    pub references: Vec<String>,
}

impl FindingText {
    pub fn into_finding(self, severity: Severity, evidence: Vec<Evidence>, weight: f64) -> Finding {
        Finding {
            id: self.id.to_string(),
            severity,
            title: self.title,
            summary: self.summary,
            evidence,
            explanation: self.explanation,
            remedy: self.remedy,
            references: self.references,
            weight,
            caveats: Vec::new(),
        }
    }
}

/// A caveat for lifetime-only judgements.
pub fn lifetime_caveat(window: &Window) -> Option<String> {
    if window.has_two_samples() {
        None
    } else {
        Some(
            "Judged on lifetime totals only (one sample): they say this happened, not that it is \
             happening now. Run `netdoctor check` with an interval to measure the current rate."
                .to_string(),
        )
    }
}

/// Strings from string slices (remedies and references written as literals).
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The kernel documentation of the SNMP counters, cited by many rules.
pub const SNMP_DOC: &str = "https://www.kernel.org/doc/html/latest/networking/snmp_counter.html";
/// The kernel documentation of the ip-sysctl settings.
pub const IP_SYSCTL_DOC: &str = "https://www.kernel.org/doc/html/latest/networking/ip-sysctl.html";
