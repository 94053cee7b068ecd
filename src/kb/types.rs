//! The typed shape of the knowledge base: counters, sysctls and findings.
//!
//! The data lives in `kb/*.toml` at the crate root; `build.rs` validates it and turns it into
//! static arrays of these types at compile time, so a lookup costs nothing at run time and a
//! malformed entry fails the build, not the user.

/// Kernel versions a fact applies to ("3.10", "4.12"); None at either end means open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionRange {
    /// First kernel version with the counter or behaviour ("2.6.32"), when known.
    pub since: Option<&'static str>,
    /// First kernel version without it ("4.12" for tcp_tw_recycle), when it is gone.
    pub removed: Option<&'static str>,
}

/// One kernel counter.
#[derive(Debug, Clone, Copy)]
pub struct CounterEntry {
    /// Canonical id by the nstat convention: section + field (`TcpExtListenDrops`).
    pub name: &'static str,
    /// Section as the kernel prints it (`TcpExt`, `Ip6`, `Softnet`).
    pub section: &'static str,
    /// Field name within the section (`ListenDrops`).
    pub field: &'static str,
    /// The /proc file it is read from (`/proc/net/netstat`).
    pub file: &'static str,
    /// Every `netstat -s` wording across net-tools versions, with `{n}` where the number
    /// stands (`"{n} SYNs to LISTEN sockets dropped"`). Empty when netstat never prints it.
    pub phrases: &'static [&'static str],
    /// The section header netstat -s prints it under ("TcpExt:", "Tcp:", "Udp6:" ...).
    pub netstat_section: Option<&'static str>,
    /// One line: what it counts.
    pub summary: &'static str,
    /// What it means, in our words: where the kernel increments it and when.
    pub meaning: &'static str,
    /// What a rise means and what to look at next.
    pub when_rising: &'static str,
    /// Related sysctls (dotted names).
    pub sysctls: &'static [&'static str],
    /// Related counters (canonical names).
    pub related: &'static [&'static str],
    pub versions: VersionRange,
    /// "counter" (monotonic) or "gauge" (a level, such as TcpCurrEstab or ConntrackCount).
    pub kind: &'static str,
    /// True when a rise is a problem signal (drops, errors, overflows).
    pub is_error: bool,
}

/// One sysctl setting.
#[derive(Debug, Clone, Copy)]
pub struct SysctlEntry {
    /// Dotted key (`net.ipv4.tcp_tw_recycle`); `*` in a path component stands for any
    /// interface (`net.ipv4.conf.*.rp_filter`).
    pub key: &'static str,
    /// One line: what it controls.
    pub summary: &'static str,
    /// What it means, in our words.
    pub meaning: &'static str,
    /// Unit of the value: "pages", "bytes", "jiffies", "seconds", "count", "boolean", "enum",
    /// "ports", "vector of pages", ...
    pub unit: &'static str,
    /// Valid range in words ("0..2", "1..65535, two values, low <= high").
    pub range: &'static str,
    /// Defaults by kernel version, oldest first.
    pub defaults: &'static [SysctlDefault],
    /// What goes wrong with common bad values.
    pub risks: &'static str,
    /// Version history in words ("removed in 4.12 by ...").
    pub history: &'static str,
    pub versions: VersionRange,
    /// Per network namespace (true) or global to the host (false).
    pub per_netns: bool,
    /// Related counters (canonical names).
    pub counters: &'static [&'static str],
}

/// A default value that applies from a kernel version on.
#[derive(Debug, Clone, Copy)]
pub struct SysctlDefault {
    /// First kernel version with this default ("5.4"); None = since the key exists.
    pub since: Option<&'static str>,
    /// The value, or a formula in words when it depends on memory ("max(128, ehash/128)").
    pub value: &'static str,
    /// True when `value` is a literal value, false when it is a formula in words.
    pub literal: bool,
}

/// One finding a rule can produce: what `explain <finding-id>` prints.
#[derive(Debug, Clone, Copy)]
pub struct FindingEntry {
    /// Stable id (`listen-overflow`).
    pub id: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// What it means for the user.
    pub meaning: &'static str,
    /// What the rule reads (counters, sysctls, sockets).
    pub reads: &'static [&'static str],
    /// Its thresholds and floors, in words, and why they are set there.
    pub thresholds: &'static str,
    /// Why it happens.
    pub why: &'static str,
    /// What to do.
    pub remedy: &'static [&'static str],
    pub references: &'static [&'static str],
}
