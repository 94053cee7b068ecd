//! The rules, one file per family, and the registry that lists them.
//!
//! A rule is a pure function from a [`Window`] to a [`RuleOutcome`]: the findings it draws
//! (none when all is well), or "not evaluated" with what it lacked. Rules never read files or
//! the clock. Every rule id has an entry in `kb/findings/check.toml`, which is what
//! `netdoctor explain <id>` prints (what the rule reads, its thresholds and why).
//!
//! Calibration principle: decide on measured rates with floors and on named causes (a setting,
//! a listener at its limit), never on raw lifetime totals. Lifetime totals only ever produce
//! `info` unless a current rate or a named cause backs them.

pub mod conntrack;
pub mod errors;
pub mod listen;
pub mod memory;
pub mod softnet;
pub mod support;
pub mod sysctl;
pub mod timewait;
pub mod udp;

use crate::analyze::finding::Finding;
use crate::analyze::window::Window;
use crate::snapshot::Snapshot;

/// What a rule concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleOutcome {
    /// The rule had what it needed; the findings may be empty (all is well).
    Evaluated(Vec<Finding>),
    /// The rule lacked its evidence; `missing` says what ("TcpExtListenOverflows and the
    /// socket table").
    NotEvaluated { missing: String },
}

impl RuleOutcome {
    pub fn quiet() -> Self {
        RuleOutcome::Evaluated(Vec::new())
    }

    pub fn one(finding: Finding) -> Self {
        RuleOutcome::Evaluated(vec![finding])
    }

    pub fn missing(what: impl Into<String>) -> Self {
        RuleOutcome::NotEvaluated {
            missing: what.into(),
        }
    }
}

/// One registered rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable finding id, also the knowledge-base key.
    pub id: &'static str,
    /// The family (file) it lives in.
    pub family: &'static str,
    /// What it reads, in words (counters by nstat name, `sysctl:KEY`, `sockstat`, `sockets`).
    pub needs: &'static [&'static str],
    pub evaluate: fn(&Window) -> RuleOutcome,
}

/// Every rule `check` runs, in a stable order.
pub static RULES: &[Rule] = &[
    Rule {
        id: "tw-recycle",
        family: "timewait",
        needs: &[
            "sysctl:net.ipv4.tcp_tw_recycle",
            "sysctl:net.ipv4.tcp_timestamps",
            "TcpExtPAWSPassive",
            "TcpExtListenDrops",
            "TcpExtSyncookiesFailed",
            "host.kernel",
        ],
        evaluate: timewait::tw_recycle,
    },
    Rule {
        id: "listen-overflow",
        family: "listen",
        needs: &[
            "TcpExtListenOverflows",
            "sockets.listeners",
            "sysctl:net.core.somaxconn",
            "host.kernel",
        ],
        evaluate: listen::listen_overflow,
    },
    Rule {
        id: "syn-queue-overflow",
        family: "listen",
        needs: &[
            "TcpExtTCPReqQFullDrop",
            "TcpExtTCPReqQFullDoCookies",
            "sysctl:net.ipv4.tcp_syncookies",
            "sysctl:net.ipv4.tcp_max_syn_backlog",
        ],
        evaluate: listen::syn_queue_overflow,
    },
    Rule {
        id: "syn-flood",
        family: "listen",
        needs: &[
            "TcpExtSyncookiesSent",
            "TcpExtSyncookiesRecv",
            "sysctl:net.ipv4.tcp_syncookies",
        ],
        evaluate: listen::syn_flood,
    },
    Rule {
        id: "syncookies-failed",
        family: "listen",
        needs: &["TcpExtSyncookiesFailed", "TcpExtSyncookiesSent"],
        evaluate: listen::syncookies_failed,
    },
    Rule {
        id: "listen-drops-unexplained",
        family: "listen",
        needs: &[
            "TcpExtListenDrops",
            "TcpExtListenOverflows",
            "TcpExtTCPReqQFullDrop",
            "TcpExtPAWSPassive",
            "TcpExtTCPMigrateReqFailure",
            "host.kernel",
        ],
        evaluate: listen::listen_drops_unexplained,
    },
    Rule {
        id: "paws-rejects",
        family: "timewait",
        needs: &["TcpExtPAWSEstab", "TcpExtPAWSActive", "TcpInSegs"],
        evaluate: timewait::paws_rejects,
    },
    Rule {
        id: "timewait-overflow",
        family: "timewait",
        needs: &[
            "TcpExtTCPTimeWaitOverflow",
            "sockstat TCP tw",
            "sysctl:net.ipv4.tcp_max_tw_buckets",
        ],
        evaluate: timewait::timewait_overflow,
    },
    Rule {
        id: "port-exhaustion",
        family: "timewait",
        needs: &["sockets.port_usage", "sysctl:net.ipv4.ip_local_port_range"],
        evaluate: timewait::port_exhaustion,
    },
    Rule {
        id: "rcvbuf-pressure",
        family: "memory",
        needs: &[
            "TcpExtRcvPruned",
            "TcpExtTCPRcvQDrop",
            "TcpExtOfoPruned",
            "TcpExtPruneCalled",
            "TcpExtTCPRcvCollapsed",
            "sysctl:net.ipv4.tcp_rmem",
        ],
        evaluate: memory::rcvbuf_pressure,
    },
    Rule {
        id: "tcp-memory-pressure",
        family: "memory",
        needs: &[
            "TcpExtTCPMemoryPressures",
            "TcpExtTCPAbortOnMemory",
            "sockstat TCP mem",
            "sysctl:net.ipv4.tcp_mem",
        ],
        evaluate: memory::tcp_memory_pressure,
    },
    Rule {
        id: "orphan-limit",
        family: "memory",
        needs: &[
            "sockstat TCP orphan",
            "sysctl:net.ipv4.tcp_max_orphans",
            "TcpExtTCPAbortOnMemory",
        ],
        evaluate: memory::orphan_limit,
    },
    Rule {
        id: "conntrack-full",
        family: "conntrack",
        needs: &[
            "ConntrackCount",
            "ConntrackMax",
            "ConntrackDrop",
            "ConntrackEarlyDrop",
        ],
        evaluate: conntrack::conntrack_full,
    },
    Rule {
        id: "conntrack-insert-failed",
        family: "conntrack",
        needs: &["ConntrackInsertFailed", "ConntrackClashres"],
        evaluate: conntrack::conntrack_insert_failed,
    },
    Rule {
        id: "softnet-drops",
        family: "softnet",
        needs: &[
            "softnet_stat (per CPU)",
            "sysctl:net.core.netdev_max_backlog",
        ],
        evaluate: softnet::softnet_drops,
    },
    Rule {
        id: "softnet-squeeze",
        family: "softnet",
        needs: &[
            "softnet_stat (per CPU)",
            "sysctl:net.core.netdev_budget",
            "sysctl:net.core.netdev_budget_usecs",
        ],
        evaluate: softnet::softnet_squeeze,
    },
    Rule {
        id: "udp-rcvbuf-errors",
        family: "udp",
        needs: &[
            "UdpRcvbufErrors",
            "Udp6RcvbufErrors",
            "UdpMemErrors",
            "sysctl:net.core.rmem_max",
        ],
        evaluate: udp::udp_rcvbuf_errors,
    },
    Rule {
        id: "udp-sndbuf-errors",
        family: "udp",
        needs: &[
            "UdpSndbufErrors",
            "Udp6SndbufErrors",
            "sysctl:net.core.wmem_max",
        ],
        evaluate: udp::udp_sndbuf_errors,
    },
    Rule {
        id: "tcp-retransmits",
        family: "errors",
        needs: &["TcpRetransSegs", "TcpOutSegs", "TcpExtTCPSynRetrans"],
        evaluate: errors::tcp_retransmits,
    },
    Rule {
        id: "rp-filter-drops",
        family: "errors",
        needs: &[
            "TcpExtIPReversePathFilter",
            "sysctl:net.ipv4.conf.*.rp_filter",
        ],
        evaluate: errors::rp_filter_drops,
    },
    Rule {
        id: "checksum-errors",
        family: "errors",
        needs: &[
            "TcpInCsumErrors",
            "UdpInCsumErrors",
            "Udp6InCsumErrors",
            "IpExtInCsumErrors",
            "IcmpInCsumErrors",
            "Icmp6InCsumErrors",
        ],
        evaluate: errors::checksum_errors,
    },
];

/// The registered rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The sysctl audit (`sysctl::evaluate_all`, from the sysctl work): its findings and the
/// parts it could not evaluate. `run_check` folds a sysctl finding whose id a counter rule
/// also produced (`tw-recycle`) into the counter rule's finding, so one story stays one
/// finding.
pub fn sysctl_findings(snapshot: &Snapshot) -> sysctl::Evaluation {
    sysctl::evaluate_all(snapshot)
}
