//! The Snapshot: everything netdoctor collected at one moment, as owned, serialisable data.
//!
//! The Snapshot is the contract between collection (`collect`, `ingest`) and analysis
//! (`analyze`). Collection fills it; analysis only reads it. It is written out by
//! `netdoctor snapshot` and read back with `--from FILE`, so every field is optional where
//! collection can fail piecemeal, and every source says whether it was available and, if not,
//! why. The JSON schema id is [`SNAPSHOT_SCHEMA`]; add fields with `#[serde(default)]` so older
//! snapshots keep loading, and bump the version only for incompatible changes.

pub mod sockets;

use serde::{Deserialize, Serialize};

/// Schema id written into every snapshot document.
pub const SNAPSHOT_SCHEMA: &str = "netdoctor.snapshot/v1";

/// A counter value. Kernel counters are unsigned 64-bit, but a few snmp fields are signed
/// (`TcpMaxConn` is -1), so the value type holds both without loss.
pub type CounterValue = i128;

/// One moment of one network namespace (or of a captured tree, or of pasted text).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_SCHEMA`] for documents this version writes.
    pub schema: String,
    /// Where the data came from.
    pub origin: Origin,
    /// Wall-clock time of collection, seconds since the Unix epoch (None for undated pastes).
    #[serde(default)]
    pub collected_at_unix_s: Option<f64>,
    /// Monotonic time of collection in seconds (CLOCK_MONOTONIC on the live host), used for
    /// rates between two snapshots of the same origin. None when unknown.
    #[serde(default)]
    pub monotonic_s: Option<f64>,
    /// Facts about the host: kernel, uptime, CPUs, memory, hostname, namespace.
    #[serde(default)]
    pub host: HostFacts,
    /// One entry per source that was tried: available or missing, with the reason.
    #[serde(default)]
    pub sources: Vec<SourceStatus>,
    /// Every counter, in the order the kernel printed them, named by the nstat convention
    /// (`TcpExtListenDrops`, `Ip6InReceives`, `SoftnetDropped`, `ConntrackInsertFailed`).
    #[serde(default)]
    pub counters: Vec<Counter>,
    /// /proc/net/sockstat and sockstat6: socket gauges (not counters).
    #[serde(default)]
    pub sockstat: Vec<SockstatLine>,
    /// /proc/net/softnet_stat, one row per online CPU.
    #[serde(default)]
    pub softnet: Vec<SoftnetCpu>,
    /// Connection tracking: per-CPU statistics and the table fill.
    #[serde(default)]
    pub conntrack: Option<Conntrack>,
    /// sysctl settings: live values and the configuration files that set them.
    #[serde(default)]
    pub sysctl: Option<SysctlView>,
    /// Socket state: listeners and connection summaries (sock_diag or /proc/net/tcp).
    #[serde(default)]
    pub sockets: Option<sockets::SocketView>,
}

impl Snapshot {
    /// An empty snapshot of the given origin, with the current schema id.
    pub fn new(origin: Origin) -> Self {
        Snapshot {
            schema: SNAPSHOT_SCHEMA.to_string(),
            origin,
            ..Snapshot::default()
        }
    }

    /// The value of a counter by its canonical (nstat) name.
    pub fn counter(&self, name: &str) -> Option<CounterValue> {
        self.counters
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value)
    }

    /// The status of a source by name, if it was tried.
    pub fn source(&self, name: &str) -> Option<&SourceStatus> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// True when the named source was tried and is available.
    pub fn has_source(&self, name: &str) -> bool {
        self.source(name).is_some_and(|s| s.is_available())
    }

    /// Records a source status, replacing an earlier one of the same name.
    pub fn set_source(&mut self, status: SourceStatus) {
        if let Some(existing) = self.sources.iter_mut().find(|s| s.name == status.name) {
            *existing = status;
        } else {
            self.sources.push(status);
        }
    }

    /// A value from sockstat: `sockstat_value("TCP", "inuse")`.
    pub fn sockstat_value(&self, protocol: &str, field: &str) -> Option<i64> {
        self.sockstat
            .iter()
            .find(|l| l.protocol == protocol)
            .and_then(|l| l.fields.iter().find(|(k, _)| k == field))
            .map(|(_, v)| *v)
    }
}

/// Where a snapshot's data came from.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// The live host's own network namespace (or the one this process runs in).
    #[default]
    Live,
    /// A named network namespace under /run/netns.
    Netns { name: String },
    /// The network namespace of a process.
    Pid { pid: u32 },
    /// A captured directory tree (`--root DIR`), e.g. a sosreport.
    Root { dir: String },
    /// Text files given with `--from` (pasted `netstat -s`, `nstat`, `sysctl -a`, snapshots ...).
    Files { files: Vec<String> },
}

impl Origin {
    /// A short human description: "live host", "netns blue", "pid 1234", "root /tmp/sos", ...
    pub fn describe(&self) -> String {
        match self {
            Origin::Live => "live host".to_string(),
            Origin::Netns { name } => format!("network namespace {name}"),
            Origin::Pid { pid } => format!("network namespace of pid {pid}"),
            Origin::Root { dir } => format!("captured tree {dir}"),
            Origin::Files { files } => format!("files {}", files.join(", ")),
        }
    }
}

/// Facts about the host the snapshot describes. Every field may be unknown.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HostFacts {
    pub hostname: Option<String>,
    /// Kernel release as `uname -r` prints it (from /proc/sys/kernel/osrelease under --root).
    pub kernel: Option<String>,
    /// Seconds since boot.
    pub uptime_s: Option<f64>,
    /// Online CPUs.
    pub cpus: Option<u32>,
    /// Total memory in bytes (MemTotal).
    pub mem_bytes: Option<u64>,
    /// Network namespace inode (`net:[4026531840]` → 4026531840).
    pub netns_inode: Option<u64>,
    /// The page size in bytes (tcp_mem and sockstat mem are in pages).
    #[serde(default)]
    pub page_size: Option<u64>,
}

impl HostFacts {
    /// The kernel release parsed as (major, minor), when known and well-formed.
    pub fn kernel_version(&self) -> Option<KernelVersion> {
        self.kernel.as_deref().and_then(KernelVersion::parse)
    }
}

/// A kernel version as major.minor (patch levels do not matter to our rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
}

impl KernelVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        KernelVersion { major, minor }
    }

    /// Parses "6.1.0-18-amd64", "3.10.0-1160.el7.x86_64", "4.12", "5.4.0". None when the
    /// text does not start with two dot-separated numbers.
    pub fn parse(release: &str) -> Option<Self> {
        let mut parts = release.trim().split(['.', '-', '_', '+']);
        let major = parts.next()?.parse().ok()?;
        let minor_text: String = parts
            .next()?
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let minor = minor_text.parse().ok()?;
        Some(KernelVersion { major, minor })
    }
}

impl std::fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Whether a source could be read, and if not, why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SourceStatus {
    /// Short stable id: "snmp", "netstat", "snmp6", "sockstat", "sockstat6", "softnet_stat",
    /// "nf_conntrack", "nf_conntrack_count", "sysctl", "sysctl_files", "sock_diag", "proc_net_tcp",
    /// "host", or "paste:FILE".
    pub name: String,
    /// The path (or file) it was read from.
    pub path: String,
    pub status: Availability,
    /// Lines or fields that were not understood and were skipped (empty when all was read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

impl SourceStatus {
    pub fn available(name: &str, path: &str) -> Self {
        SourceStatus {
            name: name.to_string(),
            path: path.to_string(),
            status: Availability::Available,
            skipped: Vec::new(),
        }
    }

    pub fn missing(name: &str, path: &str, reason: impl Into<String>) -> Self {
        SourceStatus {
            name: name.to_string(),
            path: path.to_string(),
            status: Availability::Missing {
                reason: reason.into(),
            },
            skipped: Vec::new(),
        }
    }

    pub fn is_available(&self) -> bool {
        matches!(self.status, Availability::Available)
    }

    /// The reason a source is missing, if it is.
    pub fn missing_reason(&self) -> Option<&str> {
        match &self.status {
            Availability::Available => None,
            Availability::Missing { reason } => Some(reason),
        }
    }
}

/// `available`, or `missing` with a reason ("absent", "permission denied", "parse error at
/// /proc/net/snmp:4: ...").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Availability {
    Available,
    Missing { reason: String },
}

/// A piece of input that was not understood and was skipped, with where it was.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based line number in the source.
    pub line: usize,
    /// Why it was skipped.
    pub reason: String,
    /// The start of the offending text (at most 120 characters).
    pub text: String,
}

impl Skipped {
    /// The longest offending text kept, in bytes.
    pub const TEXT_MAX: usize = 120;

    /// A skipped piece of input. The text loses its line end, control characters other than
    /// tab are shown escaped (`\u{1b}`), and it is cut to at most [`Skipped::TEXT_MAX`] bytes
    /// on a character boundary.
    pub fn new(line: usize, reason: impl Into<String>, text: &str) -> Self {
        let mut shown = String::new();
        for c in text.trim_end_matches(['\r', '\n']).chars() {
            let before = shown.len();
            if c.is_control() && c != '\t' {
                shown.extend(c.escape_default());
            } else {
                shown.push(c);
            }
            if shown.len() > Self::TEXT_MAX {
                shown.truncate(before);
                break;
            }
        }
        Skipped {
            line,
            reason: reason.into(),
            text: shown,
        }
    }
}

/// One counter, named by the nstat convention.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counter {
    /// Canonical id: section + field (`TcpExtListenDrops`).
    pub name: String,
    /// The section it was printed under (`TcpExt`, `Ip6`, `Softnet`, `Conntrack`).
    pub section: String,
    pub value: CounterValue,
}

/// One line of /proc/net/sockstat or sockstat6: `TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SockstatLine {
    /// "sockets", "TCP", "UDP", "UDPLITE", "RAW", "FRAG", "TCP6", "UDP6", ...
    pub protocol: String,
    /// Key/value pairs in file order ("inuse" → 5).
    pub fields: Vec<(String, i64)>,
}

/// One row of /proc/net/softnet_stat (one online CPU).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SoftnetCpu {
    /// The CPU id: from the row's cpu column when the kernel prints one (13+ columns),
    /// otherwise the row index (which is wrong when CPUs are offline: see `cpu_from_column`).
    pub cpu: u32,
    /// True when `cpu` came from the kernel's own column, false when it is the row index.
    pub cpu_from_column: bool,
    /// Packets processed by this CPU's backlog (u32, wraps).
    pub processed: u32,
    /// Packets dropped because the input backlog was full (net.core.netdev_max_backlog).
    pub dropped: u32,
    /// Times net_rx_action ran out of budget or time with work left (not a loss).
    pub time_squeeze: u32,
    pub cpu_collision: u32,
    pub received_rps: Option<u32>,
    pub flow_limit_count: Option<u32>,
    pub backlog_len: Option<u32>,
    pub input_qlen: Option<u32>,
    pub process_qlen: Option<u32>,
    /// Every column as printed, for layouts we do not name.
    pub columns: Vec<u32>,
}

/// Connection tracking: /proc/net/stat/nf_conntrack and the table fill.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Conntrack {
    /// nf_conntrack_count (entries in the table now).
    pub count: Option<u64>,
    /// nf_conntrack_max (the table limit).
    pub max: Option<u64>,
    /// Per-CPU statistics, header-driven (field names as the kernel's header prints them).
    pub per_cpu: Vec<ConntrackCpu>,
}

/// One CPU's row of /proc/net/stat/nf_conntrack.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConntrackCpu {
    /// Row index (the kernel prints rows for possible CPUs in order).
    pub cpu: u32,
    /// (header name, value) in file order.
    pub fields: Vec<(String, u64)>,
}

impl ConntrackCpu {
    pub fn get(&self, name: &str) -> Option<u64> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }
}

/// sysctl settings: live values and where configuration files set them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SysctlView {
    /// Which loader's rules were applied to the configuration files.
    pub loader: Option<String>,
    /// Why that loader was chosen ("systemd-sysctl found at ...").
    #[serde(default)]
    pub loader_reason: Option<String>,
    /// The files that were read, in the order they are applied.
    #[serde(default)]
    pub files: Vec<SysctlFile>,
    /// One entry per key that is live or configured.
    pub keys: Vec<SysctlKey>,
    /// Glob lines that matched no key on this system (value holds `pattern = value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmatched_globs: Vec<SysctlAssignment>,
    /// The name of process 1 (`systemd`, `init`, a container's entry point): whether a boot
    /// loader of the files ran at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_process: Option<String>,
}

impl SysctlView {
    /// The entry for a key (dotted form, `net.ipv4.tcp_tw_recycle`).
    pub fn key(&self, key: &str) -> Option<&SysctlKey> {
        self.keys.iter().find(|k| k.key == key)
    }

    /// The live value of a key, when read.
    pub fn live(&self, key: &str) -> Option<&str> {
        self.key(key).and_then(|k| k.live.as_deref())
    }
}

/// A configuration file considered by the loader.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SysctlFile {
    pub path: String,
    /// "applied", "masked by PATH", "unreadable: REASON", ...
    pub state: String,
    /// Where the path leads when it is a symbolic link (`/etc/sysctl.conf`, `/dev/null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Lines the loader cannot use (no `=`, binary data), with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

/// One sysctl key: its live value and what configuration set it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SysctlKey {
    /// Dotted key: `net.ipv4.tcp_tw_recycle`.
    pub key: String,
    /// The value under /proc/sys now (whitespace normalised), None when not readable or absent.
    pub live: Option<String>,
    /// Why `live` is None ("no such key on this kernel", "permission denied").
    #[serde(default)]
    pub live_missing: Option<String>,
    /// The winning configured assignment, if any file sets the key.
    pub configured: Option<SysctlAssignment>,
    /// Earlier assignments the winner overrode, in application order.
    #[serde(default)]
    pub overrides: Vec<SysctlAssignment>,
    /// The glob pattern the winning assignment came from (`net.ipv4.conf.*.rp_filter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glob: Option<String>,
    /// Permission bits of the /proc/sys file (0o444 = read-only here, e.g. in a container).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

/// One `key = value` line in a configuration file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SysctlAssignment {
    pub value: String,
    pub file: String,
    pub line: usize,
    /// The line had a `-` prefix: failures to apply it are ignored.
    #[serde(default)]
    pub ignore_failure: bool,
}
