//! softnet rules: per-CPU input backlog drops (`softnet-drops`, real packet loss) and
//! time_squeeze (`softnet-squeeze`, reported apart: not a loss).

use super::RuleOutcome;
use super::support::{
    FindingText, IP_SYSCTL_DOC, LifetimeFloor, RateFloor, describe, lifetime_caveat,
    rate_or_lifetime, strings, weight,
};
use crate::analyze::finding::{Evidence, Severity};
use crate::analyze::window::Window;
use crate::render::thousands;

const SYSCTL_NET_CORE_DOC: &str =
    "https://www.kernel.org/doc/html/latest/admin-guide/sysctl/net.html";

fn softnet_missing(window: &Window) -> RuleOutcome {
    let reason = window
        .after
        .source("softnet_stat")
        .and_then(|s| s.missing_reason())
        .unwrap_or("not in the data");
    RuleOutcome::missing(format!("/proc/net/softnet_stat ({reason})"))
}

fn cpu_label(cpu: u32, from_column: bool) -> String {
    if from_column {
        format!("CPU {cpu}")
    } else {
        format!("row {cpu}")
    }
}

/// `softnet-drops`: packets dropped because a CPU's input backlog (netdev_max_backlog) was
/// full. Named per CPU.
pub fn softnet_drops(window: &Window) -> RuleOutcome {
    if window.after.softnet.is_empty() {
        return softnet_missing(window);
    }
    let dropped = window.counter("SoftnetDropped");
    let dropped = if dropped.present() {
        dropped
    } else {
        // The procfs reader may not provide the sum: rebuild it from the rows.
        let total: i128 = window
            .after
            .softnet
            .iter()
            .map(|r| i128::from(r.dropped))
            .sum();
        let delta = window.has_two_samples().then(|| {
            window
                .softnet_per_cpu()
                .iter()
                .map(|c| i128::from(c.dropped))
                .sum::<i128>()
        });
        super::support::derived_reading("SoftnetDropped", Some(total), delta, &dropped)
    };
    let Some(severity) = rate_or_lifetime(
        &dropped,
        RateFloor {
            min_delta: 5,
            warning_per_s: 1.0,
            critical_per_s: Some(100.0),
        },
        LifetimeFloor {
            min_total: 1000,
            min_avg_per_s: 0.01,
        },
    ) else {
        return RuleOutcome::quiet();
    };
    let per_cpu = window.softnet_per_cpu();
    let elapsed = window.elapsed_s();
    let mut evidence: Vec<Evidence> = dropped.evidence().into_iter().collect();
    let cpu_words: Vec<String> = if per_cpu.is_empty() {
        window
            .after
            .softnet
            .iter()
            .filter(|r| r.dropped > 0)
            .map(|r| {
                format!(
                    "{} {} in total",
                    cpu_label(r.cpu, r.cpu_from_column),
                    thousands(i128::from(r.dropped))
                )
            })
            .collect()
    } else {
        per_cpu
            .iter()
            .filter(|c| c.dropped > 0)
            .map(|c| {
                let rate = elapsed
                    .map(|s| format!(" ({})", crate::render::rate(c.dropped as f64 / s)))
                    .unwrap_or_default();
                format!(
                    "{} {} now{rate}",
                    cpu_label(c.cpu, c.cpu_from_column),
                    thousands(i128::from(c.dropped))
                )
            })
            .collect()
    };
    if !cpu_words.is_empty() {
        evidence.push(Evidence::Fact {
            label: "drops per CPU".to_string(),
            value: cpu_words.join(", "),
        });
    }
    let backlog = window.sysctl("net.core.netdev_max_backlog");
    evidence.extend(backlog.iter().map(|b| b.evidence()));
    let mut summary = format!(
        "{}.",
        describe(window, &dropped, "packets dropped at CPU input backlogs")
    );
    if !cpu_words.is_empty() {
        summary.push_str(&format!(" By CPU: {}.", cpu_words.join(", ")));
    }
    let mut finding = FindingText {
        id: "softnet-drops",
        title: "Packets are dropped at a CPU's input backlog (netdev_max_backlog)".to_string(),
        summary,
        explanation: "Received packets wait in a per-CPU backlog queue (RPS, loopback, veth, \
            tunnels) until the CPU processes them in softirq. When the queue holds \
            net.core.netdev_max_backlog packets, further ones are dropped before any protocol \
            sees them: no TCP or UDP counter shows this loss. One CPU dropping while others idle \
            means an uneven spread of interrupts or RPS."
            .to_string(),
        remedy: strings(&[
            "Raise the backlog: `sysctl -w net.core.netdev_max_backlog=10000`, persisted in /etc/sysctl.d/90-netdoctor.conf.",
            "Spread the load over CPUs: check `/proc/interrupts` for the NIC queues, enable RSS/RPS (`/sys/class/net/IFACE/queues/rx-*/rps_cpus`).",
            "Give the softirq more time per run if time_squeeze also rises: net.core.netdev_budget and netdev_budget_usecs.",
        ]),
        references: strings(&[SYSCTL_NET_CORE_DOC, IP_SYSCTL_DOC]),
    }
    .into_finding(severity, evidence, weight(&dropped));
    if !window.has_two_samples() {
        finding.caveats.push(
            "softnet_stat columns are 32-bit and wrap: lifetime totals may be understated."
                .to_string(),
        );
    }
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}

/// `softnet-squeeze`: the receive softirq ran out of budget or time with packets left
/// (time_squeeze). Not a loss: informational, and only from a measured rate.
pub fn softnet_squeeze(window: &Window) -> RuleOutcome {
    if window.after.softnet.is_empty() {
        return softnet_missing(window);
    }
    let squeeze = window.counter("SoftnetTimeSqueeze");
    if !squeeze.present() && window.has_two_samples() {
        return RuleOutcome::missing("SoftnetTimeSqueeze (not in the data)");
    }
    // Lifetime squeeze totals are never judged: they are neither loss nor current.
    let Some(_) = RateFloor {
        min_delta: 50,
        warning_per_s: 10.0,
        critical_per_s: None,
    }
    .judge(&squeeze) else {
        return RuleOutcome::quiet();
    };
    let mut evidence: Vec<Evidence> = squeeze.evidence().into_iter().collect();
    let per_cpu: Vec<String> = window
        .softnet_per_cpu()
        .iter()
        .filter(|c| c.time_squeeze > 0)
        .map(|c| {
            format!(
                "{} {}",
                cpu_label(c.cpu, c.cpu_from_column),
                thousands(i128::from(c.time_squeeze))
            )
        })
        .collect();
    if !per_cpu.is_empty() {
        evidence.push(Evidence::Fact {
            label: "time_squeeze per CPU in the window".to_string(),
            value: per_cpu.join(", "),
        });
    }
    for key in ["net.core.netdev_budget", "net.core.netdev_budget_usecs"] {
        evidence.extend(window.sysctl(key).map(|s| s.evidence()));
    }
    let finding = FindingText {
        id: "softnet-squeeze",
        title: "The receive softirq runs out of budget (time_squeeze): not a loss".to_string(),
        summary: format!(
            "{}. This is not packet loss: the rest waits for the next softirq run.",
            describe(window, &squeeze, "softirq runs cut short")
        ),
        explanation: "net_rx_action processes received packets until it has handled \
            netdev_budget packets or spent netdev_budget_usecs; if work is left it counts a \
            time_squeeze and continues later. A high rate means the CPU is busy with receive \
            work and latency grows; packets are lost only if the NIC ring or the backlog then \
            overflows (see softnet-drops)."
            .to_string(),
        remedy: strings(&[
            "If latency matters or drops follow: `sysctl -w net.core.netdev_budget=600 net.core.netdev_budget_usecs=8000`.",
            "Spread receive work over more CPUs (RSS, RPS, IRQ affinity).",
        ]),
        references: strings(&[SYSCTL_NET_CORE_DOC]),
    }
    .into_finding(Severity::Info, evidence, weight(&squeeze));
    RuleOutcome::one(finding)
}
