//! Connection-tracking rules: the table filling up (`conntrack-full`) and insert races
//! (`conntrack-insert-failed`).

use super::RuleOutcome;
use super::support::{
    FindingText, LifetimeFloor, RateFloor, counter_evidence, describe, lifetime_caveat,
    rate_or_lifetime, strings, sum_readings, weight,
};
use crate::analyze::finding::{Evidence, Severity};
use crate::analyze::window::Window;
use crate::render::thousands;

const CONNTRACK_DOC: &str =
    "https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html";

/// Why conntrack data is missing, in words.
fn conntrack_missing(window: &Window) -> String {
    ["nf_conntrack", "nf_conntrack_count"]
        .iter()
        .find_map(|name| window.after.source(name).and_then(|s| s.missing_reason()))
        .map(|reason| format!("connection tracking statistics ({reason})"))
        .unwrap_or_else(|| {
            "connection tracking statistics (not in the data: nf_conntrack not loaded or not \
             used in this namespace)"
                .to_string()
        })
}

/// The table fill (count, max), from the conntrack view or the gauge counters.
fn fill(window: &Window) -> Option<(u64, u64)> {
    let view = window.after.conntrack.as_ref();
    let count = view.and_then(|c| c.count).or_else(|| {
        window
            .after
            .counter("ConntrackCount")
            .and_then(|v| u64::try_from(v).ok())
    })?;
    let max = view.and_then(|c| c.max).or_else(|| {
        window
            .after
            .counter("ConntrackMax")
            .and_then(|v| u64::try_from(v).ok())
    })?;
    Some((count, max))
}

/// `conntrack-full`: the connection-tracking table is (nearly) full; new flows are dropped
/// ("nf_conntrack: table full, dropping packet").
pub fn conntrack_full(window: &Window) -> RuleOutcome {
    let drop = window.counter("ConntrackDrop");
    let early = window.counter("ConntrackEarlyDrop");
    let fill = fill(window);
    if fill.is_none() && !drop.present() && !early.present() {
        return RuleOutcome::missing(conntrack_missing(window));
    }
    let dropped = sum_readings("ConntrackDrop+ConntrackEarlyDrop", &[&drop, &early]);
    let mut severity = rate_or_lifetime(
        &dropped,
        RateFloor {
            min_delta: 1,
            warning_per_s: 0.0,
            critical_per_s: Some(1.0),
        },
        LifetimeFloor {
            min_total: 100,
            min_avg_per_s: 0.0,
        },
    );
    let mut fill_words = String::new();
    if let Some((count, max)) = fill
        && max > 0
    {
        let share = count as f64 / max as f64;
        let by_fill = if share >= 0.95 {
            Some(Severity::Critical)
        } else if share >= 0.80 {
            Some(Severity::Warning)
        } else {
            None
        };
        severity = severity.max(by_fill);
        fill_words = format!(
            " The table holds {} of {} entries ({:.0}%).",
            thousands(i128::from(count)),
            thousands(i128::from(max)),
            share * 100.0
        );
    }
    let Some(severity) = severity else {
        return RuleOutcome::quiet();
    };
    let mut evidence = Vec::new();
    if let Some((count, max)) = fill {
        evidence.push(Evidence::Fact {
            label: "conntrack entries (nf_conntrack_count / nf_conntrack_max)".to_string(),
            value: format!(
                "{} / {}",
                thousands(i128::from(count)),
                thousands(i128::from(max))
            ),
        });
    }
    evidence.extend(counter_evidence(&[&drop, &early]));
    evidence.extend(
        window
            .sysctl("net.netfilter.nf_conntrack_max")
            .map(|s| s.evidence()),
    );
    let mut finding = FindingText {
        id: "conntrack-full",
        title: "The connection-tracking table is full or nearly: new flows are dropped"
            .to_string(),
        summary: format!(
            "{}.{fill_words}",
            describe(window, &dropped, "packets dropped or entries evicted by conntrack")
        ),
        explanation: "Every flow through netfilter's connection tracking (NAT, stateful \
            firewalls, Docker/Kubernetes) takes an entry. When nf_conntrack_count reaches \
            nf_conntrack_max, the kernel evicts unassured entries (early_drop) and then drops the \
            first packet of new flows (drop; \"nf_conntrack: table full, dropping packet\"): \
            connections time out in waves and retries succeed."
            .to_string(),
        remedy: strings(&[
            "Confirm: `journalctl -k | grep 'table full'` and `conntrack -S` (drop, early_drop).",
            "Raise the limit and hash size together: `sysctl -w net.netfilter.nf_conntrack_max=524288` and `echo 131072 > /sys/module/nf_conntrack/parameters/hashsize`, persisted in /etc/sysctl.d/90-netdoctor.conf and /etc/modprobe.d/nf_conntrack.conf.",
            "Shorten idle timeouts: `sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=86400` (the default is 5 days).",
            "Exempt high-volume stateless traffic: nft `notrack` in a raw-priority chain.",
        ]),
        references: strings(&[CONNTRACK_DOC]),
    }
    .into_finding(severity, evidence, weight(&dropped));
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}

/// `conntrack-insert-failed`: two packets of one new flow raced to insert the same entry and
/// one lost (classic with parallel DNS A/AAAA queries through NAT: 5 s lookups).
pub fn conntrack_insert_failed(window: &Window) -> RuleOutcome {
    let failed = window.counter("ConntrackInsertFailed");
    if !failed.present() {
        return RuleOutcome::missing(conntrack_missing(window));
    }
    let clashres = window.counter("ConntrackClashres");
    let Some(severity) = rate_or_lifetime(
        &failed,
        RateFloor {
            min_delta: 5,
            warning_per_s: 1.0,
            critical_per_s: None,
        },
        LifetimeFloor {
            min_total: 1000,
            min_avg_per_s: 0.01,
        },
    ) else {
        return RuleOutcome::quiet();
    };
    let mut finding = FindingText {
        id: "conntrack-insert-failed",
        title: "Conntrack insert races drop the first packet of new flows".to_string(),
        summary: format!(
            "{}.",
            describe(window, &failed, "conntrack entries that failed to insert")
        ),
        explanation: "When two packets of a new flow are processed on different CPUs at once \
            (typically a DNS client sending A and AAAA queries from one socket through NAT), both \
            create a conntrack entry and the second insert fails; that packet is dropped. The \
            client waits for its timeout — the famous 5 s DNS delays in Kubernetes. Newer \
            kernels resolve most clashes (ConntrackClashres) instead of dropping."
            .to_string(),
        remedy: strings(&[
            "Watch it per CPU: `conntrack -S` (insert_failed).",
            "For DNS: use a node-local DNS cache, or `options single-request-reopen` (glibc) in /etc/resolv.conf.",
            "For SNAT/MASQUERADE: add `--random-fully` (iptables) / `fully-random` (nft) to the rule.",
            "Upgrade the kernel: clash resolution improved in 5.0 and later.",
        ]),
        references: strings(&[
            CONNTRACK_DOC,
            "https://github.com/kubernetes/kubernetes/issues/56903",
        ]),
    }
    .into_finding(severity, counter_evidence(&[&failed, &clashres]), weight(&failed));
    finding.caveats.extend(lifetime_caveat(window));
    RuleOutcome::one(finding)
}
