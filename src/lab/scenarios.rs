//! The lab's scenarios, as data: what each builds, the traffic that drives it, the counters that
//! must move, and the finding `check` must end in. Adding a scenario is one entry here (and, for
//! new kinds of traffic, one [`Driver`] arm).

use crate::analyze::finding::Severity;

use super::drivers::Driver;

/// How the namespaces of a scenario are wired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// One namespace; traffic over its loopback.
    Single,
    /// Two namespaces joined by two veth pairs (198.18.1.0/24 and 198.18.2.0/24). The driver
    /// runs in the peer namespace, `check` in the main one.
    TwoLinks,
}

/// Something a scenario needs that a machine may lack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// The `nft` tool.
    Nft,
    /// A sysctl the scenario sets inside the namespace before anything else; when the kernel
    /// refuses it there, `why_not` says what that means.
    WritableSysctl {
        key: &'static str,
        value: &'static str,
        why_not: &'static str,
    },
    /// The condition cannot be built inside a namespace at all; the text says why.
    Unreachable(&'static str),
}

/// What a piece of the finding's evidence must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceWant {
    /// A counter evidence entry with this name.
    Counter(&'static str),
    /// A sysctl evidence entry with this key.
    Sysctl(&'static str),
    /// Some evidence entry mentions this text (a listener, a destination).
    Mentions(&'static str),
}

/// Overall status `check` must report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedStatus {
    Ok,
    Warning,
    Critical,
}

impl ExpectedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedStatus::Ok => "ok",
            ExpectedStatus::Warning => "warning",
            ExpectedStatus::Critical => "critical",
        }
    }
}

/// One lab scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Name on the command line; also the finding id it must end in (except `healthy`).
    pub name: &'static str,
    /// One line for `lab list`.
    pub title: &'static str,
    /// What the run does, step by step, in words.
    pub steps: &'static [&'static str],
    /// The one-line lesson.
    pub lesson: &'static str,
    pub topology: Topology,
    /// sysctls set in the main namespace (where `check` runs).
    pub sysctls: &'static [(&'static str, &'static str)],
    /// sysctls set in the peer namespace (two-link topology).
    pub peer_sysctls: &'static [(&'static str, &'static str)],
    /// An nft script loaded in the main namespace.
    pub nft: Option<&'static str>,
    pub driver: Driver,
    pub requirements: &'static [Requirement],
    /// The finding `check` must report, and its severity; None for a healthy scenario.
    pub finding: Option<(&'static str, Severity)>,
    /// The overall status `check` must end in.
    pub status: ExpectedStatus,
    /// What the finding's evidence must show.
    pub evidence: &'static [EvidenceWant],
    /// The real kernel condition: counters that must rise by at least this much.
    pub counters_rise: &'static [(&'static str, i128)],
    /// An error the driver must have met (no kernel counter records it), if any.
    pub driver_error: Option<&'static str>,
    /// Counters shown first on the teaching page.
    pub watch: &'static [&'static str],
    /// `check --interval` for this scenario, in seconds.
    pub window_s: u32,
}

const LISTEN_COUNTERS: &[&str] = &[
    "TcpExtListenOverflows",
    "TcpExtListenDrops",
    "TcpExtTCPReqQFullDrop",
    "TcpExtTCPReqQFullDoCookies",
    "TcpExtSyncookiesSent",
    "TcpExtSyncookiesRecv",
    "TcpExtTCPSynRetrans",
];

/// Every scenario, in teaching order.
pub static SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "listen-overflow",
        title: "a slow accepter overflows its accept queue",
        steps: &[
            "listened on 127.0.0.1:8080 with backlog 4 and accepted one connection per second",
            "opened 120 connections over 1.5 s and kept them open",
        ],
        lesson: "an application that accepts slower than clients connect overflows its accept \
                 queue; the kernel then drops the SYNs silently and clients see slow or failed \
                 connects",
        topology: Topology::Single,
        sysctls: &[],
        peer_sysctls: &[],
        nft: None,
        driver: Driver::SlowAccepter {
            backlog: 4,
            clients: 120,
        },
        requirements: &[],
        finding: Some(("listen-overflow", Severity::Critical)),
        status: ExpectedStatus::Critical,
        evidence: &[
            EvidenceWant::Counter("TcpExtListenOverflows"),
            EvidenceWant::Mentions("127.0.0.1:8080"),
        ],
        counters_rise: &[("TcpExtListenOverflows", 10), ("TcpExtListenDrops", 10)],
        driver_error: None,
        watch: LISTEN_COUNTERS,
        window_s: 3,
    },
    Scenario {
        name: "syn-queue-overflow",
        title: "half-open connections fill the SYN queue with syncookies off",
        steps: &[
            "set net.ipv4.tcp_syncookies=0 in the namespace",
            "listened on 127.0.0.1:8080 with backlog 8, accepting at once",
            "dropped the clients' final handshake ACKs with an nft rule, so every connection \
             stays half-open (SYN-RECV) on the server",
            "opened 120 connections over 1.5 s",
        ],
        lesson: "with syncookies off, a listener can hold only as many half-open connections as \
                 its backlog; every SYN beyond that is dropped, and lost or slow handshakes \
                 (or a flood) lock real clients out",
        topology: Topology::Single,
        sysctls: &[("net.ipv4.tcp_syncookies", "0")],
        peer_sysctls: &[],
        nft: Some(
            "table inet netdoctor_lab {\n  chain output {\n    type filter hook output priority 0;\n    \
             tcp dport 8080 tcp flags & (syn | ack) == ack drop\n  }\n}\n",
        ),
        driver: Driver::HalfOpenClients {
            backlog: 8,
            clients: 120,
        },
        requirements: &[Requirement::Nft],
        finding: Some(("syn-queue-overflow", Severity::Critical)),
        status: ExpectedStatus::Critical,
        evidence: &[
            EvidenceWant::Counter("TcpExtTCPReqQFullDrop"),
            EvidenceWant::Sysctl("net.ipv4.tcp_syncookies"),
        ],
        counters_rise: &[("TcpExtTCPReqQFullDrop", 10), ("TcpExtListenDrops", 10)],
        driver_error: None,
        watch: LISTEN_COUNTERS,
        window_s: 3,
    },
    Scenario {
        name: "syn-flood",
        title: "a SYN flood from spoofed sources, answered with syncookies",
        steps: &[
            "listened on 127.0.0.1:8080 with backlog 16 (syncookies at the default, 1)",
            "dropped SYN-ACKs to 127.1.0.0/16 with an nft rule: the spoofed sources never answer",
            "sent 3,000 SYNs from 127.1.x.y through a raw socket over 1.5 s",
        ],
        lesson: "a SYN flood fills the SYN queue with half-open connections that never complete; \
                 syncookies keep real clients served, and SyncookiesSent rising is the sign",
        topology: Topology::Single,
        sysctls: &[("net.ipv4.tcp_syncookies", "1")],
        peer_sysctls: &[],
        nft: Some(
            "table inet netdoctor_lab {\n  chain output {\n    type filter hook output priority 0;\n    \
             ip daddr 127.1.0.0/16 tcp sport 8080 drop\n  }\n}\n",
        ),
        driver: Driver::RawSynFlood {
            backlog: 16,
            syns: 3000,
        },
        requirements: &[Requirement::Nft],
        finding: Some(("syn-flood", Severity::Critical)),
        status: ExpectedStatus::Critical,
        evidence: &[EvidenceWant::Counter("TcpExtSyncookiesSent")],
        counters_rise: &[
            ("TcpExtSyncookiesSent", 1000),
            ("TcpExtTCPReqQFullDoCookies", 1000),
        ],
        driver_error: None,
        watch: LISTEN_COUNTERS,
        window_s: 3,
    },
    Scenario {
        name: "rcvbuf-pressure",
        title: "receivers that do not read, with a tiny receive buffer",
        steps: &[
            "opened 64 connections over 127.0.0.1:8080",
            "kept sending 1,000-byte writes (TCP_NODELAY) for 1.5 s; the receivers never read",
            "once 64 KiB were queued under the window already advertised, shrank each \
             receiver's SO_RCVBUF to 4096 bytes",
        ],
        lesson: "a receiver whose buffer is too small for what is already in flight makes the \
                 kernel collapse and prune its queue, burning CPU and dropping data that must be \
                 sent again",
        topology: Topology::Single,
        sysctls: &[],
        peer_sysctls: &[],
        nft: None,
        driver: Driver::StalledReaders { connections: 64 },
        requirements: &[],
        finding: Some(("rcvbuf-pressure", Severity::Warning)),
        status: ExpectedStatus::Warning,
        evidence: &[EvidenceWant::Counter("TcpExtRcvPruned")],
        counters_rise: &[("TcpExtPruneCalled", 32), ("TcpExtRcvPruned", 32)],
        driver_error: None,
        watch: &[
            "TcpExtPruneCalled",
            "TcpExtRcvPruned",
            "TcpExtTCPRcvCollapsed",
            "TcpExtOfoPruned",
            "TcpExtTCPRcvQDrop",
            "TcpExtTCPZeroWindowDrop",
        ],
        window_s: 3,
    },
    Scenario {
        name: "udp-rcvbuf-errors",
        title: "a UDP receiver that does not keep up",
        steps: &[
            "bound a UDP socket on 127.0.0.1:8080 with SO_RCVBUF 4096 that never reads",
            "sent 3,000 datagrams of 512 bytes to it over 1.5 s",
        ],
        lesson: "when a UDP application reads slower than datagrams arrive, its receive buffer \
                 fills and the kernel drops every further datagram, counting RcvbufErrors; \
                 nobody is told",
        topology: Topology::Single,
        sysctls: &[],
        peer_sysctls: &[],
        nft: None,
        driver: Driver::UdpFlood {
            datagrams: 3000,
            size: 512,
        },
        requirements: &[],
        finding: Some(("udp-rcvbuf-errors", Severity::Critical)),
        status: ExpectedStatus::Critical,
        evidence: &[EvidenceWant::Counter("UdpRcvbufErrors")],
        counters_rise: &[("UdpRcvbufErrors", 1000), ("UdpInErrors", 1000)],
        driver_error: None,
        watch: &[
            "UdpInDatagrams",
            "UdpRcvbufErrors",
            "UdpInErrors",
            "UdpMemErrors",
        ],
        window_s: 3,
    },
    Scenario {
        name: "port-exhaustion",
        title: "a client runs out of local ports to one destination",
        steps: &[
            "set net.ipv4.ip_local_port_range to 40000-40015 (16 ports)",
            "listened on 127.0.0.1:8080 and held every accepted connection",
            "opened 64 connections to 127.0.0.1:8080 over 1.5 s and held them",
        ],
        lesson: "each connection to one destination needs its own local port; when the port \
                 range is used up, connect() fails with EADDRNOTAVAIL (\"Cannot assign requested \
                 address\") and no kernel counter records it",
        topology: Topology::Single,
        sysctls: &[("net.ipv4.ip_local_port_range", "40000 40015")],
        peer_sysctls: &[],
        nft: None,
        driver: Driver::HeldConnections { connections: 64 },
        requirements: &[],
        finding: Some(("port-exhaustion", Severity::Critical)),
        status: ExpectedStatus::Critical,
        evidence: &[EvidenceWant::Mentions("127.0.0.1:8080")],
        counters_rise: &[("TcpActiveOpens", 16)],
        driver_error: Some("EADDRNOTAVAIL"),
        watch: &["TcpActiveOpens", "TcpCurrEstab", "TcpAttemptFails"],
        window_s: 3,
    },
    Scenario {
        name: "timewait-overflow",
        title: "more TIME_WAIT sockets than tcp_max_tw_buckets allows",
        steps: &[
            "set net.ipv4.tcp_max_tw_buckets to 8",
            "made 200 short connections to 127.0.0.1:8080 over 1.5 s, the client closing first",
        ],
        lesson: "every actively closed connection waits 60 s in TIME_WAIT; when more than \
                 tcp_max_tw_buckets are waiting, the kernel skips TIME_WAIT and old duplicate \
                 segments can corrupt new connections",
        topology: Topology::Single,
        sysctls: &[("net.ipv4.tcp_max_tw_buckets", "8")],
        peer_sysctls: &[],
        nft: None,
        driver: Driver::ShortConnections { connections: 200 },
        requirements: &[],
        finding: Some(("timewait-overflow", Severity::Warning)),
        status: ExpectedStatus::Warning,
        evidence: &[EvidenceWant::Counter("TcpExtTCPTimeWaitOverflow")],
        counters_rise: &[("TcpExtTCPTimeWaitOverflow", 50)],
        driver_error: None,
        watch: &["TcpExtTCPTimeWaitOverflow", "TcpExtTW", "TcpActiveOpens"],
        window_s: 3,
    },
    Scenario {
        name: "conntrack-full",
        title: "the connection-tracking table is full",
        steps: &[
            "loaded an nft rule that uses connection tracking (ct state)",
            "set net.netfilter.nf_conntrack_max to 64 in the namespace",
            "opened 256 connections to 127.0.0.1:8080 over 1.5 s and held them",
        ],
        lesson: "when the conntrack table is full, the kernel drops the first packet of every \
                 new flow: new connections time out while old ones keep working",
        topology: Topology::Single,
        sysctls: &[],
        peer_sysctls: &[],
        nft: Some(
            "table inet netdoctor_lab {\n  chain input {\n    type filter hook input priority 0;\n    \
             ct state new counter accept\n  }\n}\n",
        ),
        driver: Driver::HeldConnections { connections: 256 },
        requirements: &[
            Requirement::Nft,
            Requirement::WritableSysctl {
                key: "net.netfilter.nf_conntrack_max",
                value: "64",
                why_not: "net.netfilter.nf_conntrack_max is read-only inside a network \
                          namespace on this kernel (the table limit is host-wide), so a lab \
                          namespace cannot shrink it, and filling the host's table would break \
                          the host",
            },
        ],
        finding: Some(("conntrack-full", Severity::Critical)),
        status: ExpectedStatus::Critical,
        evidence: &[EvidenceWant::Counter("ConntrackDrop")],
        counters_rise: &[],
        driver_error: None,
        watch: &["TcpActiveOpens", "TcpExtTCPSynRetrans"],
        window_s: 3,
    },
    Scenario {
        name: "rp-filter-drops",
        title: "strict reverse-path filtering drops asymmetric traffic",
        steps: &[
            "joined two namespaces with two veth links, 198.18.1.0/24 and 198.18.2.0/24",
            "set net.ipv4.conf.all.rp_filter=1 (strict) on the receiving side",
            "sent 500 UDP datagrams from 198.18.1.1 (first link's address) to 198.18.2.2 over \
             the second link",
        ],
        lesson: "with strict rp_filter the kernel drops packets that arrive on an interface it \
                 would not use to answer them, as asymmetric routing does; IPReversePathFilter \
                 is the only trace",
        topology: Topology::TwoLinks,
        sysctls: &[
            ("net.ipv4.conf.all.rp_filter", "1"),
            ("net.ipv4.conf.default.rp_filter", "1"),
        ],
        peer_sysctls: &[("net.ipv4.conf.all.arp_announce", "2")],
        nft: None,
        driver: Driver::AsymmetricUdp { datagrams: 500 },
        requirements: &[],
        finding: Some(("rp-filter-drops", Severity::Warning)),
        status: ExpectedStatus::Warning,
        evidence: &[
            EvidenceWant::Counter("TcpExtIPReversePathFilter"),
            EvidenceWant::Sysctl("net.ipv4.conf.all.rp_filter"),
        ],
        counters_rise: &[("TcpExtIPReversePathFilter", 400)],
        driver_error: None,
        watch: &[
            "TcpExtIPReversePathFilter",
            "IpInReceives",
            "UdpInDatagrams",
        ],
        window_s: 3,
    },
    Scenario {
        name: "softnet-drops",
        title: "the per-CPU input backlog overflows",
        steps: &[],
        lesson: "when packets arrive faster than a CPU's softirq can take them, the per-CPU \
                 backlog (net.core.netdev_max_backlog) overflows and softnet_stat counts drops",
        topology: Topology::Single,
        sysctls: &[],
        peer_sysctls: &[],
        nft: None,
        driver: Driver::None,
        requirements: &[Requirement::Unreachable(
            "the per-CPU backlog and its limit net.core.netdev_max_backlog belong to the whole \
             host, not to a network namespace (the sysctl does not exist inside one), and \
             /proc/net/softnet_stat counts for every namespace at once; overflowing it would \
             drop the host's own packets",
        )],
        finding: Some(("softnet-drops", Severity::Warning)),
        status: ExpectedStatus::Warning,
        evidence: &[EvidenceWant::Counter("SoftnetDropped")],
        counters_rise: &[],
        driver_error: None,
        watch: &[],
        window_s: 3,
    },
    Scenario {
        name: "healthy",
        title: "a busy service served well",
        steps: &[
            "listened on 127.0.0.1:8080 with backlog 512, accepting and answering at once",
            "made 300 request/response connections from 4 clients over 1.5 s",
        ],
        lesson: "a busy host is not a sick host: hundreds of connections a second, served \
                 promptly, move many counters and none of the ones that mean loss",
        topology: Topology::Single,
        sysctls: &[],
        peer_sysctls: &[],
        nft: None,
        driver: Driver::BusyService { clients: 300 },
        requirements: &[],
        finding: None,
        status: ExpectedStatus::Ok,
        evidence: &[],
        counters_rise: &[("TcpPassiveOpens", 250)],
        driver_error: None,
        watch: &[
            "TcpPassiveOpens",
            "TcpActiveOpens",
            "TcpExtListenDrops",
            "TcpRetransSegs",
        ],
        window_s: 3,
    },
];

/// The scenario with this name.
pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_findings_match_names() {
        let mut names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SCENARIOS.len());
        for s in SCENARIOS {
            if let Some((id, _)) = s.finding {
                assert_eq!(id, s.name);
            }
            assert!(s.window_s >= 2 && s.window_s <= 10, "{} window", s.name);
        }
    }
}
