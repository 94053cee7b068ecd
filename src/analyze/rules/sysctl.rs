//! sysctl rules: settings that are dangerous, dead, drifting or fighting each other.
//!
//! Pure: the input is a [`Snapshot`] (its `sysctl` view, host facts such as the kernel version,
//! memory and CPUs, counters when present, and `sockets` listeners when present); the output is
//! [`Finding`]s with stable ids (see kb/findings/sysctl.toml) and the list of rules that lacked
//! data. A value that merely differs from the default produces nothing: every finding names the
//! harm, and a recommended value comes with the evidence that calls for it, scaled to this
//! machine where it depends on memory or CPUs.
//!
//! The knowledge base (`kb::sysctl`) supplies defaults and units when it has the key; until the
//! full sysctl table lands, [`FALLBACK_FACTS`] keeps the few facts these rules cannot do without
//! (to be unified with kb/sysctls.toml).

use crate::analyze::finding::{Evidence, Finding, NotEvaluated, Severity};
use crate::snapshot::{KernelVersion, Origin, Snapshot, SysctlAssignment, SysctlKey, SysctlView};

/// Linux release that removed net.ipv4.tcp_tw_recycle (commit 4396e46187ca "tcp: remove
/// tcp_tw_recycle").
pub const TW_RECYCLE_REMOVED: KernelVersion = KernelVersion::new(4, 12);
/// Linux release whose SOMAXCONN became 4096 (was 128).
pub const SOMAXCONN_4096_SINCE: KernelVersion = KernelVersion::new(5, 4);
/// Largest backlog worth recommending: older kernels kept the accept backlog in 16 bits.
const SOMAXCONN_RECOMMEND_MAX: i64 = 65535;
/// This many configured keys all differing from live means the files were never applied.
const NEVER_APPLIED_MIN: usize = 3;
/// The loader name the collector records for `--from` files.
pub const LOADER_FILES: &str = "files";
/// The caveat of every finding about files given with `--from`.
pub const JUDGED_ON_ITS_OWN: &str = "judged from the file on its own (--from): this host's \
                                     live values and sockets were not used";
/// Page size assumed when the snapshot does not say (x86-64 and most arm64 kernels).
const ASSUMED_PAGE_SIZE: u64 = 4096;
/// A local port range narrower than this many ports is called narrow.
const PORT_RANGE_NARROW: u32 = 5000;

/// One key's facts kept here until the knowledge base has them.
#[derive(Debug, Clone, Copy)]
pub struct FallbackFact {
    /// Dotted key; `*` stands for one interface component.
    pub key: &'static str,
    pub unit: &'static str,
    /// (first kernel with the default, default) oldest first; (0,0) = since the key exists.
    pub defaults: &'static [((u32, u32), &'static str)],
    /// Inclusive range the kernel's handler accepts, when it checks one.
    pub accepts: Option<(i64, i64)>,
    /// First kernel without the key, when removed.
    pub removed: Option<(u32, u32)>,
    /// Why it was removed, in our words.
    pub removed_why: &'static str,
}

const fn fact(
    key: &'static str,
    unit: &'static str,
    defaults: &'static [((u32, u32), &'static str)],
    accepts: Option<(i64, i64)>,
) -> FallbackFact {
    FallbackFact {
        key,
        unit,
        defaults,
        accepts,
        removed: None,
        removed_why: "",
    }
}

/// Facts the rules need, from ../shared/reference/kernel-facts.md §3.
pub const FALLBACK_FACTS: &[FallbackFact] = &[
    FallbackFact {
        key: "net.ipv4.tcp_tw_recycle",
        unit: "boolean",
        defaults: &[((0, 0), "0")],
        accepts: None,
        removed: Some((4, 12)),
        removed_why: "it dropped SYNs from clients behind NAT (a per-peer timestamp check that \
                      assumed one clock per IP address), and per-connection timestamp offsets \
                      (4.10) had made it useless anyway; commit 4396e46187ca removed it",
    },
    FallbackFact {
        key: "net.ipv4.tcp_abc",
        unit: "enum",
        defaults: &[((0, 0), "0")],
        accepts: None,
        removed: Some((3, 9)),
        removed_why: "Appropriate Byte Counting was removed from TCP congestion control",
    },
    fact(
        "net.core.somaxconn",
        "count",
        &[((0, 0), "128"), ((5, 4), "4096")],
        Some((0, i32::MAX as i64)),
    ),
    fact(
        "net.ipv4.tcp_tw_reuse",
        "enum",
        &[((0, 0), "0"), ((4, 18), "2")],
        Some((0, 2)),
    ),
    fact(
        "net.ipv4.tcp_timestamps",
        "enum",
        &[((0, 0), "1")],
        Some((0, 255)),
    ),
    fact(
        "net.ipv4.tcp_syncookies",
        "enum",
        &[((0, 0), "1")],
        Some((0, 255)),
    ),
    fact(
        "net.ipv4.tcp_abort_on_overflow",
        "boolean",
        &[((0, 0), "0")],
        Some((0, 255)),
    ),
    fact(
        "net.ipv4.tcp_syn_retries",
        "count",
        &[((0, 0), "6")],
        Some((1, 127)),
    ),
    fact(
        "net.ipv4.tcp_synack_retries",
        "count",
        &[((0, 0), "5")],
        Some((0, 255)),
    ),
    fact(
        "net.ipv4.tcp_fin_timeout",
        "seconds",
        &[((0, 0), "60")],
        None,
    ),
    fact(
        "net.ipv4.tcp_max_syn_backlog",
        "count",
        &[
            ((0, 0), "max(128, ehash buckets/256)"),
            ((5, 4), "max(128, ehash buckets/128)"),
        ],
        None,
    ),
    fact(
        "net.ipv4.tcp_mem",
        "pages",
        &[((0, 0), "about 4.7% / 6.25% / 9.4% of memory, in pages")],
        None,
    ),
    fact(
        "net.ipv4.udp_mem",
        "pages",
        &[((0, 0), "about 4.7% / 6.25% / 9.4% of memory, in pages")],
        None,
    ),
    fact(
        "net.ipv4.tcp_rmem",
        "bytes",
        &[
            ((0, 0), "4096 131072 6291456"),
            ((6, 16), "4096 131072 33554432"),
        ],
        None,
    ),
    fact(
        "net.ipv4.tcp_wmem",
        "bytes",
        &[((0, 0), "4096 16384 4194304")],
        None,
    ),
    fact(
        "net.ipv4.ip_local_port_range",
        "ports",
        &[((0, 0), "32768 60999")],
        None,
    ),
    fact("net.ipv4.conf.*.rp_filter", "enum", &[((0, 0), "0")], None),
    fact(
        "net.core.netdev_max_backlog",
        "count",
        &[((0, 0), "1000")],
        None,
    ),
    fact("net.core.netdev_budget", "count", &[((0, 0), "300")], None),
    fact(
        "net.core.rmem_max",
        "bytes",
        &[((0, 0), "212992"), ((6, 18), "4194304")],
        None,
    ),
    fact(
        "net.core.wmem_max",
        "bytes",
        &[((0, 0), "212992"), ((6, 18), "4194304")],
        None,
    ),
    fact(
        "vm.overcommit_memory",
        "enum",
        &[((0, 0), "0")],
        Some((0, 2)),
    ),
];

/// The fallback fact of a key (`*` matches one interface component).
pub fn fallback_fact(key: &str) -> Option<&'static FallbackFact> {
    FALLBACK_FACTS
        .iter()
        .find(|f| f.key == key)
        .or_else(|| FALLBACK_FACTS.iter().find(|f| component_match(f.key, key)))
}

fn component_match(pattern: &str, key: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    p.len() == k.len() && p.iter().zip(&k).all(|(a, b)| *a == "*" || a == b)
}

/// The default of a key on this kernel, from the knowledge base or the fallback facts. None
/// when unknown (or when it depends on a kernel version we do not know).
pub fn default_for(key: &str, kernel: Option<KernelVersion>) -> Option<String> {
    if let Some(entry) = crate::kb::sysctl(key)
        && !entry.defaults.is_empty()
    {
        let removed = entry.versions.removed.and_then(KernelVersion::parse);
        if removed.zip(kernel).is_some_and(|(r, k)| k >= r) {
            return None;
        }
        let list: Vec<(Option<KernelVersion>, String)> = entry
            .defaults
            .iter()
            .map(|d| (d.since.and_then(KernelVersion::parse), d.value.to_string()))
            .collect();
        return pick_default(&list, kernel);
    }
    let fact = fallback_fact(key)?;
    if let (Some((major, minor)), Some(k)) = (fact.removed, kernel)
        && k >= KernelVersion::new(major, minor)
    {
        return None;
    }
    let list: Vec<(Option<KernelVersion>, String)> = fact
        .defaults
        .iter()
        .map(|((major, minor), value)| {
            let since = (*major > 0).then(|| KernelVersion::new(*major, *minor));
            (since, (*value).to_string())
        })
        .collect();
    pick_default(&list, kernel)
}

fn pick_default(
    list: &[(Option<KernelVersion>, String)],
    kernel: Option<KernelVersion>,
) -> Option<String> {
    match kernel {
        Some(k) => list
            .iter()
            .rev()
            .find(|(since, _)| since.is_none_or(|s| s <= k))
            .map(|(_, v)| v.clone()),
        None if list.len() == 1 => list.first().map(|(_, v)| v.clone()),
        None => None,
    }
}

/// The unit of a key's value, from the knowledge base or the fallback facts.
pub fn unit_of(key: &str) -> Option<&'static str> {
    crate::kb::sysctl(key)
        .map(|e| e.unit)
        .or_else(|| fallback_fact(key).map(|f| f.unit))
}

/// One row of the effective table `netdoctor sysctl` prints, with what analysis decided about
/// it (the renderer only formats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow<'a> {
    pub key: &'a SysctlKey,
    pub default: Option<String>,
    pub unit: Option<&'static str>,
    /// The configured value differs from the live one (numbers compared as numbers). Never
    /// true for files given with `--from`: this host's live values are not theirs.
    pub drifted: bool,
}

/// The effective table: every key of the view with its default for this kernel, its unit and
/// whether it drifted from its configuration.
pub fn table(snapshot: &Snapshot) -> Vec<KeyRow<'_>> {
    let kernel = snapshot.host.kernel_version();
    snapshot
        .sysctl
        .iter()
        .flat_map(|view| {
            let from_files = view.loader.as_deref() == Some(LOADER_FILES);
            view.keys.iter().map(move |key| (key, from_files))
        })
        .map(|(key, from_files)| KeyRow {
            key,
            default: default_for(&key.key, kernel),
            unit: unit_of(&key.key),
            drifted: !from_files
                && matches!(
                    (&key.configured, &key.live),
                    (Some(c), Some(l)) if !values_equal(&c.value, l)
                ),
        })
        .collect()
}

/// What the sysctl rules concluded, and which rules lacked data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub not_evaluated: Vec<NotEvaluated>,
}

/// Every sysctl finding for a snapshot, sorted (critical first).
pub fn evaluate(snapshot: &Snapshot) -> Vec<Finding> {
    evaluate_all(snapshot).findings
}

/// The rules that could not be evaluated for a snapshot, and what they lacked.
pub fn not_evaluated(snapshot: &Snapshot) -> Vec<NotEvaluated> {
    evaluate_all(snapshot).not_evaluated
}

/// Findings and the rules that lacked data.
pub fn evaluate_all(snapshot: &Snapshot) -> Evaluation {
    let mut out = Evaluation::default();
    let Some(view) = snapshot.sysctl.as_ref() else {
        out.not_evaluated.push(NotEvaluated {
            rule: "sysctl-*".to_string(),
            missing: "sysctl data (none was collected)".to_string(),
        });
        return out;
    };
    let ctx = Ctx {
        snapshot,
        view,
        kernel: snapshot.host.kernel_version(),
        live_readable: view.keys.iter().any(|k| k.live.is_some()),
    };
    if !ctx.live_readable {
        out.not_evaluated.push(NotEvaluated {
            rule: "sysctl-drift, sysctl-unknown-key".to_string(),
            missing: "live values from /proc/sys (none could be read)".to_string(),
        });
    }
    drift(&ctx, &mut out);
    unknown_keys(&ctx, &mut out);
    overridden(&ctx, &mut out);
    file_problems(&ctx, &mut out);
    tw_recycle(&ctx, &mut out);
    syncookies(&ctx, &mut out);
    timestamps(&ctx, &mut out);
    somaxconn(&ctx, &mut out);
    mem_units(&ctx, &mut out);
    rp_filter(&ctx, &mut out);
    abort_on_overflow(&ctx, &mut out);
    port_range(&ctx, &mut out);
    tw_buckets(&ctx, &mut out);
    Finding::sort(&mut out.findings);
    out
}

struct Ctx<'a> {
    snapshot: &'a Snapshot,
    view: &'a SysctlView,
    kernel: Option<KernelVersion>,
    live_readable: bool,
}

impl Ctx<'_> {
    fn key(&self, key: &str) -> Option<&SysctlKey> {
        self.view.key(key)
    }

    /// The value to judge, and whether it is the live one: live when read, otherwise the
    /// configured one (with a caveat). Files given with `--from` may describe another machine,
    /// so then only their configured value counts, never this host's live one.
    fn effective(&self, key: &str) -> Option<(String, bool)> {
        let entry = self.key(key)?;
        if self.config_is_from_files() {
            return entry.configured.as_ref().map(|c| (c.value.clone(), false));
        }
        if let Some(live) = &entry.live {
            return Some((live.clone(), true));
        }
        entry.configured.as_ref().map(|c| (c.value.clone(), false))
    }

    /// This host's live value of a key, unless the configuration is judged on its own.
    fn live_of<'e>(&self, entry: &'e SysctlKey) -> Option<&'e str> {
        if self.config_is_from_files() {
            None
        } else {
            entry.live.as_deref()
        }
    }

    /// The listeners of this host, unless the configuration is judged on its own.
    fn sockets(&self) -> Option<&crate::snapshot::sockets::SocketView> {
        if self.config_is_from_files() {
            None
        } else {
            self.snapshot.sockets.as_ref()
        }
    }

    /// Caveats of a finding judged from `effective`: the file on its own (`--from`), or a
    /// configured value because the live one was not read.
    fn judged_caveats(&self, live: bool) -> Vec<String> {
        if self.config_is_from_files() {
            vec![JUDGED_ON_ITS_OWN.to_string()]
        } else if live {
            Vec::new()
        } else {
            vec!["live value not read; judged from the configuration".to_string()]
        }
    }

    fn effective_int(&self, key: &str) -> Option<(i64, bool)> {
        let (value, live) = self.effective(key)?;
        value.trim().parse::<i64>().ok().map(|v| (v, live))
    }

    fn kernel_text(&self) -> String {
        self.snapshot
            .host
            .kernel
            .clone()
            .unwrap_or_else(|| "unknown".to_string())
    }

    fn kernel_fact(&self) -> Evidence {
        Evidence::Fact {
            label: "kernel".to_string(),
            value: self.kernel_text(),
        }
    }

    fn config_is_from_files(&self) -> bool {
        self.view.loader.as_deref() == Some(LOADER_FILES)
    }

    /// The command that re-applies the configuration with this loader, quoted as code, with
    /// a note after it: "`sysctl --system` (re-applies ...)".
    fn reapply_command(&self) -> String {
        match self.view.loader.as_deref() {
            Some("systemd-sysctl") => {
                "`systemctl restart systemd-sysctl` (re-applies every sysctl.d file)".to_string()
            }
            Some(LOADER_FILES) => "`sysctl -p FILE` (for the file you edited)".to_string(),
            _ => "`sysctl --system` (re-applies sysctl.d files and /etc/sysctl.conf)".to_string(),
        }
    }

    /// A counter of this host as evidence (never for files judged on their own).
    fn counter_evidence(&self, name: &str) -> Option<Evidence> {
        if self.config_is_from_files() {
            return None;
        }
        self.snapshot.counter(name).map(|total| Evidence::Counter {
            name: name.to_string(),
            total,
            delta: None,
            per_second: None,
            since_boot_per_second: self
                .snapshot
                .host
                .uptime_s
                .filter(|u| *u > 0.0)
                .map(|u| total as f64 / u),
        })
    }
}

/// Evidence for a key: the value in force and the file and line that set it.
fn key_evidence(entry: &SysctlKey, value: Option<&str>) -> Evidence {
    Evidence::Sysctl {
        key: entry.key.clone(),
        value: value.map(str::to_string),
        file: entry.configured.as_ref().map(|c| c.file.clone()),
        line: entry.configured.as_ref().map(|c| c.line),
    }
}

fn assignment_evidence(key: &str, a: &SysctlAssignment) -> Evidence {
    Evidence::Sysctl {
        key: key.to_string(),
        value: Some(a.value.clone()),
        file: Some(a.file.clone()),
        line: Some(a.line),
    }
}

fn where_set(a: &SysctlAssignment) -> String {
    format!("{}:{}", a.file, a.line)
}

/// Compares a configured value with the live one the way the kernel would print it: fields
/// separated by any whitespace, numbers compared as numbers ("01" = "1").
pub fn values_equal(configured: &str, live: &str) -> bool {
    let a: Vec<&str> = configured.split_whitespace().collect();
    let b: Vec<&str> = live.split_whitespace().collect();
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            x == y || matches!((parse_int(x), parse_int(y)), (Some(p), Some(q)) if p == q)
        })
}

/// An integer as the kernel's integer handlers read it: decimal, `0x` hex, leading `0` octal,
/// one optional sign in front. A second sign (`--5`, `0x-8`) or any other character makes it
/// not a number; so does a value outside i128 (the negation is checked).
fn parse_int(text: &str) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (radix, digits) = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, hex)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, digits)
    } else {
        (10, digits)
    };
    // from_str_radix accepts a sign of its own: only digits may follow ours.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let value = i128::from_str_radix(digits, radix).ok()?;
    if negative {
        value.checked_neg()
    } else {
        Some(value)
    }
}

/// Why an `ip_local_port_range` value is not a usable range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRangeError {
    /// Not two port numbers (0..=65535) separated by whitespace.
    Malformed,
    /// Two ports, but the low end is above the high end: the kernel rejects the write.
    Inverted { low: u16, high: u16 },
}

/// Parses `net.ipv4.ip_local_port_range` ("32768\t60999") into (low, high) ports.
///
/// Pure and public so that every area can share it (the sockets collector has a parser of
/// its own for the same text; the two are to be unified).
pub fn parse_port_range(text: &str) -> Result<(u16, u16), PortRangeError> {
    let mut fields = text.split_whitespace();
    let mut port = || -> Result<u16, PortRangeError> {
        fields
            .next()
            .and_then(|t| t.parse::<u16>().ok())
            .ok_or(PortRangeError::Malformed)
    };
    let low = port()?;
    let high = port()?;
    if fields.next().is_some() {
        return Err(PortRangeError::Malformed);
    }
    if low > high {
        return Err(PortRangeError::Inverted { low, high });
    }
    Ok((low, high))
}

/// How many ports an inclusive range holds (1..=65536).
pub fn port_count(low: u16, high: u16) -> u32 {
    u32::from(high.saturating_sub(low)) + 1
}

/// True for keys that exist only when a module is loaded.
fn module_key(key: &str) -> Option<&'static str> {
    if key.starts_with("net.netfilter.") || key.starts_with("net.nf_conntrack") {
        Some("nf_conntrack")
    } else if key.starts_with("net.bridge.") {
        Some("br_netfilter")
    } else if key.starts_with("net.ipv4.vs.") {
        Some("ip_vs")
    } else if key.starts_with("net.sctp.") {
        Some("sctp")
    } else {
        None
    }
}

/// The interface a per-interface key names (`net.ipv4.conf.eth0.rp_filter` → eth0).
fn interface_of(key: &str) -> Option<&str> {
    let rest = key
        .strip_prefix("net.ipv4.conf.")
        .or_else(|| key.strip_prefix("net.ipv6.conf."))
        .or_else(|| key.strip_prefix("net.ipv4.neigh."))
        .or_else(|| key.strip_prefix("net.ipv6.neigh."))?;
    let iface = rest.split('.').next()?;
    (iface != "all" && iface != "default").then_some(iface)
}

fn drift(ctx: &Ctx, out: &mut Evaluation) {
    if ctx.config_is_from_files() {
        out.not_evaluated.push(NotEvaluated {
            rule: "sysctl-drift".to_string(),
            missing: "live values of the system the files describe (they came from --from, \
                      and this host's values say nothing about them)"
                .to_string(),
        });
        return;
    }
    let in_other_netns = matches!(
        ctx.snapshot.origin,
        Origin::Netns { .. } | Origin::Pid { .. }
    );
    let mut comparable = 0usize;
    let mut drifting: Vec<(&SysctlKey, &SysctlAssignment, &String)> = Vec::new();
    for entry in &ctx.view.keys {
        let (Some(configured), Some(live)) = (&entry.configured, &entry.live) else {
            continue;
        };
        // The boot loader writes the initial namespace only: a per-namespace key elsewhere
        // starts from the kernel default, which is not drift.
        if in_other_netns && entry.key.starts_with("net.") {
            continue;
        }
        comparable += 1;
        if !values_equal(&configured.value, live) {
            drifting.push((entry, configured, live));
        }
    }
    let init_not_systemd = ctx
        .view
        .init_process
        .as_deref()
        .is_some_and(|name| name != "systemd" && name != "init");
    if drifting.len() >= NEVER_APPLIED_MIN
        && (drifting.len() == comparable || (init_not_systemd && drifting.len() * 2 > comparable))
    {
        never_applied(ctx, &drifting, comparable, out);
        return;
    }
    // Keys written by one glob line (one per interface) make one finding.
    let mut by_glob: Vec<(&SysctlAssignment, Vec<(&SysctlKey, &String)>)> = Vec::new();
    drifting.retain(|(entry, configured, live)| {
        if entry.glob.is_none() {
            return true;
        }
        match by_glob
            .iter_mut()
            .find(|(c, _)| c.file == configured.file && c.line == configured.line)
        {
            Some((_, keys)) => keys.push((entry, live)),
            None => by_glob.push((configured, vec![(entry, live)])),
        }
        false
    });
    for (configured, keys) in by_glob {
        if keys.len() == 1 {
            if let Some((entry, live)) = keys.first() {
                drifting.push((entry, configured, live));
            }
            continue;
        }
        glob_drift(ctx, configured, &keys, out);
    }
    for (entry, configured, live) in drifting {
        let (cause, likely_failed) = drift_cause(entry, configured, live);
        let mut evidence = vec![
            Evidence::Sysctl {
                key: entry.key.clone(),
                value: Some(live.clone()),
                file: None,
                line: None,
            },
            assignment_evidence(&entry.key, configured),
        ];
        if let Some(mode) = entry.mode {
            evidence.push(Evidence::Fact {
                label: format!("/proc/sys mode of {}", entry.key),
                value: format!("{mode:o}"),
            });
        }
        let mut remedy = vec![
            format!(
                "If the file is right: `sysctl -w {}=\"{}\"` now, then find what changed it \
                 (or why it failed: {} prints the error).",
                entry.key,
                configured.value,
                ctx.reapply_command()
            ),
            format!(
                "If the live value is right: edit {} line {} to `{} = {}` so the next boot \
                 agrees.",
                configured.file, configured.line, entry.key, live
            ),
        ];
        if likely_failed {
            remedy.reverse();
        }
        out.findings.push(Finding {
            id: "sysctl-drift".to_string(),
            severity: Severity::Warning,
            title: format!(
                "{} is {} live but {} in {}",
                entry.key,
                live,
                configured.value,
                where_set(configured)
            ),
            summary: format!(
                "{} sets {} = {}, but the kernel has {}. {}",
                where_set(configured),
                entry.key,
                configured.value,
                live,
                cause
            ),
            evidence,
            explanation: "The files are applied once, at boot (and for interfaces when they \
                          appear). A live value that differs was either changed afterwards \
                          (sysctl -w, a service, a container runtime, tuned) or never applied \
                          because the write failed. The next reboot applies the file again, so \
                          the behaviour changes then."
                .to_string(),
            remedy,
            references: vec!["sysctl.d(5)".to_string()],
            weight: 1.0,
            caveats: Vec::new(),
        });
    }
}

/// Several keys written by one glob line differ from it (typically per-interface keys).
fn glob_drift(
    ctx: &Ctx,
    configured: &SysctlAssignment,
    keys: &[(&SysctlKey, &String)],
    out: &mut Evaluation,
) {
    let pattern = keys
        .first()
        .and_then(|(k, _)| k.glob.clone())
        .unwrap_or_default();
    let list = keys
        .iter()
        .map(|(k, live)| format!("{} = {live}", k.key))
        .collect::<Vec<_>>()
        .join(", ");
    let mut evidence = vec![assignment_evidence(&pattern, configured)];
    evidence.extend(keys.iter().take(10).map(|(k, live)| Evidence::Sysctl {
        key: k.key.clone(),
        value: Some((*live).clone()),
        file: None,
        line: None,
    }));
    out.findings.push(Finding {
        id: "sysctl-drift".to_string(),
        severity: Severity::Warning,
        title: format!(
            "{} keys set by `{pattern}` at {} differ from it",
            keys.len(),
            where_set(configured)
        ),
        summary: format!(
            "{} sets `{pattern} = {}`, but {list}. Per-interface keys of interfaces created \
             after boot only get the value when something re-applies the files (systemd's \
             udev rule does on most distributions; containers and hand-made namespaces do \
             not); otherwise they were changed at runtime.",
            where_set(configured),
            configured.value
        ),
        evidence,
        explanation: "A glob line is expanded against the keys that exist when the loader \
                      runs; keys that appear later are not covered."
            .to_string(),
        remedy: vec![
            format!("Re-apply now: {}.", ctx.reapply_command()),
            format!(
                "If the live values are intended, narrow the glob at {}.",
                where_set(configured)
            ),
        ],
        references: vec!["sysctl.d(5)".to_string()],
        weight: 1.0,
        caveats: Vec::new(),
    });
}

/// When every configured key differs from its live value, the files were most likely never
/// applied at all: one finding says so instead of one per key.
fn never_applied(
    ctx: &Ctx,
    drifting: &[(&SysctlKey, &SysctlAssignment, &String)],
    comparable: usize,
    out: &mut Evaluation,
) {
    let init = ctx.view.init_process.as_deref();
    let cause = match init {
        Some("systemd") => "process 1 is systemd, so systemd-sysctl should have run: check \
                 `systemctl status systemd-sysctl` and `journalctl -b -u \
                 systemd-sysctl` for its errors"
            .to_string(),
        Some(name) => format!(
            "process 1 is `{name}`, not systemd: nothing applied these files at boot (a \
                 container, or a system whose init does not run systemd-sysctl or `sysctl \
                 --system`)"
        ),
        None => "the loader probably did not run at boot (a container, or an init without \
                 systemd-sysctl), or everything was changed afterwards"
            .to_string(),
    };
    let mut evidence: Vec<Evidence> = drifting
        .iter()
        .take(10)
        .map(|(entry, configured, live)| Evidence::Sysctl {
            key: entry.key.clone(),
            value: Some(format!("{live} live, {} configured", configured.value)),
            file: Some(configured.file.clone()),
            line: Some(configured.line),
        })
        .collect();
    if let Some(name) = init {
        evidence.push(Evidence::Fact {
            label: "process 1".to_string(),
            value: name.to_string(),
        });
    }
    out.findings.push(Finding {
        id: "sysctl-drift".to_string(),
        severity: Severity::Warning,
        title: format!(
            "{} configured sysctl values are not live: the files were not applied",
            drifting.len()
        ),
        summary: format!(
            "{} of the {comparable} keys the configuration sets have a different live value{}; \
             {cause}. Keys: {}.",
            drifting.len(),
            if drifting.len() < comparable {
                " (the others hold the kernel default anyway)"
            } else {
                ""
            },
            drifting
                .iter()
                .map(|(e, c, l)| format!("{} ({l} live, {} in {})", e.key, c.value, where_set(c)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        evidence,
        explanation: "Each key differing on its own would point at runtime changes; all of \
                      them differing together points at the files never being applied."
            .to_string(),
        remedy: vec![
            format!("Apply them now: {}.", ctx.reapply_command()),
            "Make the init system apply them at boot (systemd-sysctl.service, or `sysctl \
             --system` in the container's entry point), or set them from the host / the \
             container runtime (`docker run --sysctl`, a pod's securityContext.sysctls)."
                .to_string(),
        ],
        references: vec![
            "sysctl.d(5)".to_string(),
            "systemd-sysctl.service(8)".to_string(),
        ],
        weight: 1.5,
        caveats: Vec::new(),
    });
}

/// The likelier cause of a drift, in words, and whether it is a failed write.
fn drift_cause(entry: &SysctlKey, configured: &SysctlAssignment, live: &str) -> (String, bool) {
    let numbers: Option<Vec<i64>> = configured
        .value
        .split_whitespace()
        .map(|t| parse_int(t).and_then(|v| i64::try_from(v).ok()))
        .collect();
    let live_is_numeric = live.split_whitespace().all(|t| parse_int(t).is_some());
    if entry.mode.is_some_and(|m| m & 0o222 == 0) {
        return (
            format!(
                "The key is read-only here (mode {:o}; in a container or non-initial network \
                 namespace some keys can only be set from the host), so the file could not \
                 apply it: likelier a failed write than a runtime change.",
                entry.mode.unwrap_or(0)
            ),
            true,
        );
    }
    if live_is_numeric && numbers.is_none() {
        return (
            format!(
                "The configured value `{}` is not a number while the key holds numbers: the \
                 write fails with EINVAL, so the file never applied.",
                configured.value
            ),
            true,
        );
    }
    if let (Some(numbers), Some(fact)) = (&numbers, fallback_fact(&entry.key))
        && let Some((low, high)) = fact.accepts
        && numbers.iter().any(|n| *n < low || *n > high)
    {
        return (
            format!(
                "The kernel accepts only {low}..{high} for this key, so writing {} fails with \
                 EINVAL: the file never applied.",
                configured.value
            ),
            true,
        );
    }
    if entry.key == "net.ipv4.ip_local_port_range"
        && matches!(
            parse_port_range(&configured.value),
            Err(PortRangeError::Inverted { .. })
        )
    {
        return (
            "The configured range has its low end above its high end; the kernel rejects it \
             (EINVAL), so the file never applied."
                .to_string(),
            true,
        );
    }
    if entry.overrides.iter().any(|o| values_equal(&o.value, live)) {
        return (
            "An earlier assignment in another file holds the live value: likelier the later \
             file failed to apply, or it was added after the last boot and never loaded."
                .to_string(),
            true,
        );
    }
    if let Some(module) = module_key(&entry.key) {
        return (
            format!(
                "The key belongs to the {module} module: if the module loaded after \
                 systemd-sysctl ran at boot, the file was never applied (the key did not exist \
                 yet). Load the module early (modules-load.d) or re-apply after loading it."
            ),
            true,
        );
    }
    if let Some(iface) = interface_of(&entry.key) {
        return (
            format!(
                "The key belongs to interface {iface}: if it appeared after boot and no udev \
                 rule re-applied the files, the value was never written; otherwise it was \
                 changed at runtime."
            ),
            false,
        );
    }
    (
        "The value is valid and the key writable, so it was most likely changed at runtime \
         (sysctl -w, a service, a container runtime, tuned) after the files were applied."
            .to_string(),
        false,
    )
}

/// Whether a key is absent from /proc/sys: Some(true) when the live system says so,
/// Some(false) when a captured tree merely lacks the file, None when it is present or could
/// not be read for another reason.
fn key_absence(entry: &SysctlKey) -> Option<bool> {
    match entry.live_missing.as_deref() {
        Some("no such key on this kernel") => Some(true),
        Some(reason) if reason.starts_with("not in this tree") => Some(false),
        _ => None,
    }
}

/// What `sysctl -p` and systemd-sysctl print for a key this kernel does not have.
fn missing_key_messages(key: &str, value: &str) -> (String, String) {
    let path: String = key
        .chars()
        .map(|c| match c {
            '.' => '/',
            '/' => '.',
            other => other,
        })
        .collect();
    (
        format!("sysctl: cannot stat /proc/sys/{path}: No such file or directory"),
        format!("Couldn't write '{value}' to '{path}', ignoring: No such file or directory"),
    )
}

fn unknown_keys(ctx: &Ctx, out: &mut Evaluation) {
    if !ctx.live_readable {
        return;
    }
    for entry in &ctx.view.keys {
        let Some(configured) = &entry.configured else {
            continue;
        };
        if entry.glob.is_some() {
            continue;
        }
        let certain = match key_absence(entry) {
            Some(certain) => certain,
            None => continue,
        };
        let (procps_line, systemd_line) = missing_key_messages(&entry.key, &configured.value);
        let removed = fallback_fact(&entry.key)
            .and_then(|f| {
                f.removed
                    .map(|(a, b)| (KernelVersion::new(a, b), f.removed_why))
            })
            .or_else(|| {
                crate::kb::sysctl(&entry.key).and_then(|e| {
                    e.versions
                        .removed
                        .and_then(KernelVersion::parse)
                        .map(|v| (v, e.history))
                })
            });
        if let Some(iface) = interface_of(&entry.key)
            && removed.is_none()
        {
            out.findings.push(Finding {
                id: "sysctl-unknown-key".to_string(),
                severity: Severity::Info,
                title: format!(
                    "{} sets {}, but interface {iface} does not exist now",
                    where_set(configured),
                    entry.key
                ),
                summary: format!(
                    "There is no interface {iface} at the moment, so the key does not exist. \
                     systemd re-applies per-interface lines when an interface appears (through \
                     its udev rule); `sysctl --system` at boot prints `{procps_line}` if the \
                     interface is not there yet. Check the name if {iface} should exist."
                ),
                evidence: vec![assignment_evidence(&entry.key, configured)],
                explanation: "Per-interface keys exist only while the interface does.".to_string(),
                remedy: vec![format!(
                    "If {iface} is gone for good, delete line {} of {}.",
                    configured.line, configured.file
                )],
                references: vec!["sysctl.d(5)".to_string()],
                weight: 0.2,
                caveats: Vec::new(),
            });
            continue;
        }
        let removed_here =
            removed.is_some_and(|(version, _)| ctx.kernel.is_some_and(|k| k >= version));
        if !certain && !removed_here {
            // A captured tree without the file: maybe just not captured.
            out.findings.push(Finding {
                id: "sysctl-unknown-key".to_string(),
                severity: Severity::Info,
                title: format!(
                    "{} sets {}, which the captured tree does not hold",
                    where_set(configured),
                    entry.key
                ),
                summary: format!(
                    "The tree has no proc/sys file for {}: either the capture left it out, or \
                     kernel {} does not have the key (then every boot prints `{procps_line}`).",
                    entry.key,
                    ctx.kernel_text()
                ),
                evidence: vec![
                    assignment_evidence(&entry.key, configured),
                    ctx.kernel_fact(),
                ],
                explanation: "A captured tree is often partial; only the live system can tell \
                              whether the key exists."
                    .to_string(),
                remedy: vec![format!(
                    "On the system itself: `sysctl {}`; if it reports `cannot stat`, delete line \
                     {} of {}.",
                    entry.key, configured.line, configured.file
                )],
                references: vec!["sysctl(8)".to_string()],
                weight: 0.2,
                caveats: vec!["captured tree: absence of a file is not proof".to_string()],
            });
            continue;
        }
        let (why, severity) = match (removed, module_key(&entry.key)) {
            (Some((version, why)), _) => (
                format!("It was removed in Linux {version}: {why}."),
                Severity::Warning,
            ),
            (None, Some(module)) => (
                format!(
                    "It belongs to the {module} module, which is not loaded now; at boot the \
                     key does not exist until the module loads."
                ),
                Severity::Warning,
            ),
            (None, None) => (
                "This kernel has no such key: a typo, a key of another kernel version, or of a \
                 module that is not loaded."
                    .to_string(),
                Severity::Warning,
            ),
        };
        let boot_note = if configured.ignore_failure {
            format!(
                "The line has the `-` prefix: systemd-sysctl stays quiet about it, but `sysctl \
                 -p`/`sysctl --system` still print `{procps_line}` and exit 1."
            )
        } else {
            format!(
                "Every boot and every `sysctl -p`/`sysctl --system` prints `{procps_line}` and \
                 exits 1; systemd-sysctl logs `{systemd_line}`."
            )
        };
        out.findings.push(Finding {
            id: "sysctl-unknown-key".to_string(),
            severity,
            title: format!(
                "{} sets {}, which kernel {} does not have",
                where_set(configured),
                entry.key,
                ctx.kernel_text()
            ),
            summary: format!("{why} {boot_note}"),
            evidence: vec![
                assignment_evidence(&entry.key, configured),
                ctx.kernel_fact(),
            ],
            explanation: "A key that does not exist cannot be written, so the line does \
                          nothing on this kernel except produce an error at every boot; it \
                          also hides real errors in the same output, and it may still act on \
                          an older kernel that reads the same file."
                .to_string(),
            remedy: vec![
                format!(
                    "Delete line {} of {} (`{} = {}`).",
                    configured.line, configured.file, entry.key, configured.value
                ),
                "If the file must serve older kernels too, prefix the line with `-` \
                 (systemd-sysctl then ignores the failure; procps still needs `sysctl -e`)."
                    .to_string(),
            ],
            references: vec!["sysctl.d(5)".to_string(), "sysctl(8)".to_string()],
            weight: 1.0,
            caveats: Vec::new(),
        });
    }
}

fn overridden(ctx: &Ctx, out: &mut Evaluation) {
    for entry in &ctx.view.keys {
        let Some(winner) = &entry.configured else {
            continue;
        };
        let losers: Vec<&SysctlAssignment> = entry
            .overrides
            .iter()
            .filter(|o| !values_equal(&o.value, &winner.value))
            .collect();
        if losers.is_empty() {
            continue;
        }
        let mut evidence: Vec<Evidence> = losers
            .iter()
            .map(|o| assignment_evidence(&entry.key, o))
            .collect();
        evidence.push(assignment_evidence(&entry.key, winner));
        let lost = losers
            .iter()
            .map(|o| format!("{} = {} at {}", entry.key, o.value, where_set(o)))
            .collect::<Vec<_>>()
            .join("; ");
        out.findings.push(Finding {
            id: "sysctl-overridden".to_string(),
            severity: Severity::Info,
            title: format!(
                "{} is set {} times with different values; {} wins",
                entry.key,
                entry.overrides.len() + 1,
                where_set(winner)
            ),
            summary: format!(
                "{} = {} at {} wins because it is applied last ({}). Overridden: {lost}.",
                entry.key,
                winner.value,
                where_set(winner),
                match ctx.view.loader.as_deref() {
                    Some("systemd-sysctl") =>
                        "files are applied in lexicographic order of their names, whatever \
                         their directory, and the last assignment wins",
                    Some(LOADER_FILES) => "the files are applied in the order given",
                    _ =>
                        "sysctl.d files are applied in order of their names and \
                         /etc/sysctl.conf last; the last assignment wins",
                }
            ),
            evidence,
            explanation: "Several files setting one key is how tuning gets lost: someone edits \
                          the file they know, and a file applied later silently undoes it."
                .to_string(),
            remedy: vec![format!(
                "Keep one assignment: delete the overridden lines ({}) or the winner at {}, \
                 whichever value is wrong.",
                losers
                    .iter()
                    .map(|o| where_set(o))
                    .collect::<Vec<_>>()
                    .join(", "),
                where_set(winner)
            )],
            references: vec!["sysctl.d(5)".to_string()],
            weight: 0.5,
            caveats: Vec::new(),
        });
    }
}

fn file_problems(ctx: &Ctx, out: &mut Evaluation) {
    for file in &ctx.view.files {
        let unreadable = file.state.starts_with("unreadable");
        if !unreadable && file.skipped.is_empty() {
            continue;
        }
        let summary = if unreadable {
            format!(
                "{} is {}; the loader cannot apply anything from it.",
                file.path, file.state
            )
        } else {
            let lines = file
                .skipped
                .iter()
                .take(5)
                .map(|s| format!("line {} ({})", s.line, s.reason))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "{} has {} line(s) the loaders cannot use: {lines}{}. systemd-sysctl logs \
                 `Line is not an assignment, ignoring` for such lines and the service ends \
                 with a failure status; procps prints `invalid syntax, continuing...`.",
                file.path,
                file.skipped.len(),
                if file.skipped.len() > 5 { ", ..." } else { "" }
            )
        };
        out.findings.push(Finding {
            id: "sysctl-file-errors".to_string(),
            severity: Severity::Info,
            title: format!("{}: lines or content the loaders cannot use", file.path),
            summary,
            evidence: file
                .skipped
                .iter()
                .take(5)
                .map(|s| Evidence::Fact {
                    label: format!(
                        "{}:{}",
                        file.target.as_deref().unwrap_or(&file.path),
                        s.line
                    ),
                    value: s.text.clone(),
                })
                .collect(),
            explanation: "Lines without `key = value`, binary data and unreadable files are \
                          skipped; whatever they were meant to set is not set."
                .to_string(),
            remedy: vec![format!(
                "Fix or delete the listed lines in {}.",
                file.target.as_deref().unwrap_or(&file.path)
            )],
            references: vec!["sysctl.d(5)".to_string()],
            weight: 0.1,
            caveats: Vec::new(),
        });
    }
}

fn tw_recycle(ctx: &Ctx, out: &mut Evaluation) {
    const KEY: &str = "net.ipv4.tcp_tw_recycle";
    let Some(entry) = ctx.key(KEY) else {
        return;
    };
    let live = ctx.live_of(entry).and_then(|v| v.parse::<i64>().ok());
    let configured = entry
        .configured
        .as_ref()
        .filter(|c| c.value.trim().parse::<i64>().is_ok_and(|v| v != 0));
    let key_missing = ctx.live_readable && key_absence(entry) == Some(true);
    let timestamps = ctx.effective_int("net.ipv4.tcp_timestamps").map(|(v, _)| v);
    let mut evidence = vec![key_evidence(
        entry,
        ctx.live_of(entry)
            .or(entry.configured.as_ref().map(|c| c.value.as_str())),
    )];
    evidence.push(ctx.kernel_fact());
    for counter in [
        "TcpExtPAWSPassive",
        "TcpExtListenDrops",
        "TcpExtListenOverflows",
    ] {
        if let Some(ev) = ctx.counter_evidence(counter) {
            evidence.push(ev);
        }
    }
    let mechanism = "With tcp_tw_recycle on, the kernel remembers the last TCP timestamp seen \
                     from each remote IP address and drops a new SYN from that address whose \
                     timestamp is older. Hosts behind one NAT share an address but not a clock, \
                     so all but one of them lose SYNs silently: their connects time out \
                     (counted in TcpExtPAWSPassive and TcpExtListenDrops).";
    let delete_line = configured.map(|c| {
        format!(
            "Delete line {} of {} (`{KEY} = {}`).",
            c.line, c.file, c.value
        )
    });
    if let Some(value) = live.filter(|v| *v != 0) {
        let severity = if timestamps == Some(0) {
            Severity::Warning
        } else {
            Severity::Critical
        };
        let mut remedy = vec![format!("`sysctl -w {KEY}=0` now (takes effect at once).")];
        remedy.extend(delete_line);
        remedy.push(
            "Keep net.ipv4.tcp_timestamps = 1; for TIME_WAIT pressure on outgoing connections \
             use net.ipv4.tcp_tw_reuse or a wider net.ipv4.ip_local_port_range instead."
                .to_string(),
        );
        out.findings.push(Finding {
            id: "tw-recycle".to_string(),
            severity,
            title: format!("{KEY} is on ({value}): clients behind NAT lose SYNs"),
            summary: format!(
                "Kernel {} has tcp_tw_recycle = {value} live{}. {}",
                ctx.kernel_text(),
                if timestamps == Some(0) {
                    "; tcp_timestamps is 0, which keeps the timestamp check from firing for \
                     now, but turning timestamps back on arms it"
                } else {
                    ""
                },
                mechanism
            ),
            evidence,
            explanation: mechanism.to_string(),
            remedy,
            references: tw_references(),
            weight: 10.0,
            caveats: Vec::new(),
        });
        return;
    }
    let Some(configured) = configured else {
        return;
    };
    let known_new = ctx.kernel.is_some_and(|k| k >= TW_RECYCLE_REMOVED);
    let known_old = ctx.kernel.is_some_and(|k| k < TW_RECYCLE_REMOVED);
    let (summary, caveats) = if key_missing || known_new {
        (
            format!(
                "{} sets {KEY} = {}, but kernel {} no longer has the key (removed in Linux \
                 {TW_RECYCLE_REMOVED}): the line is dead and only prints an error at boot. It \
                 was dangerous where it worked. {mechanism} On a kernel older than \
                 {TW_RECYCLE_REMOVED} booted with this file it would be live again.",
                where_set(configured),
                configured.value,
                ctx.kernel_text()
            ),
            Vec::new(),
        )
    } else if known_old {
        (
            format!(
                "{} sets {KEY} = {} on kernel {}, which still has the key; the live value is \
                 {} now, but the next boot or `sysctl --system` turns it on. {mechanism}",
                where_set(configured),
                configured.value,
                ctx.kernel_text(),
                ctx.live_of(entry).unwrap_or("unknown")
            ),
            Vec::new(),
        )
    } else {
        (
            format!(
                "{} sets {KEY} = {}. The kernel version is unknown: on Linux older than \
                 {TW_RECYCLE_REMOVED} this is live and breaks clients behind NAT ({mechanism}); \
                 on {TW_RECYCLE_REMOVED} and later the key does not exist and the line only \
                 prints an error at boot.",
                where_set(configured),
                configured.value
            ),
            vec!["kernel version unknown: both cases are described".to_string()],
        )
    };
    let mut remedy: Vec<String> = delete_line.into_iter().collect();
    remedy.push(format!(
        "Check other files for the same line: `grep -rn tcp_tw_recycle /etc/sysctl.conf \
         /etc/sysctl.d /run/sysctl.d /usr/lib/sysctl.d`; then {}.",
        ctx.reapply_command()
    ));
    out.findings.push(Finding {
        id: "tw-recycle".to_string(),
        severity: if known_old {
            Severity::Critical
        } else {
            Severity::Warning
        },
        title: if known_old {
            format!("{KEY} = {} will turn on at the next boot", configured.value)
        } else {
            format!(
                "{KEY} = {} in {}: a dead line that was once dangerous",
                configured.value,
                where_set(configured)
            )
        },
        summary,
        evidence,
        explanation: mechanism.to_string(),
        remedy,
        references: tw_references(),
        weight: 5.0,
        caveats: caveats
            .into_iter()
            .chain(
                ctx.config_is_from_files()
                    .then(|| JUDGED_ON_ITS_OWN.to_string()),
            )
            .collect(),
    });
}

fn tw_references() -> Vec<String> {
    vec![
        "Linux commit 4396e46187ca \"tcp: remove tcp_tw_recycle\" (4.12)".to_string(),
        "https://vincent.bernat.ch/en/blog/2014-tcp-time-wait-state-linux".to_string(),
    ]
}

fn syncookies(ctx: &Ctx, out: &mut Evaluation) {
    const KEY: &str = "net.ipv4.tcp_syncookies";
    let Some(entry) = ctx.key(KEY) else {
        return;
    };
    let Some((0, live)) = ctx.effective_int(KEY) else {
        return;
    };
    let mut evidence = vec![key_evidence(entry, Some("0"))];
    if let Some(e) = ctx.key("net.ipv4.tcp_max_syn_backlog") {
        let backlog = ctx
            .effective("net.ipv4.tcp_max_syn_backlog")
            .map(|(v, _)| v);
        evidence.push(key_evidence(e, backlog.as_deref()));
    }
    for counter in ["TcpExtListenDrops", "TcpExtTCPReqQFullDrop"] {
        evidence.extend(ctx.counter_evidence(counter));
    }
    let mut remedy = vec![format!("`sysctl -w {KEY}=1` now.")];
    remedy.push(match &entry.configured {
        Some(c) => format!("Change line {} of {} to `{KEY} = 1`.", c.line, c.file),
        None => format!("Add `{KEY} = 1` to /etc/sysctl.d/90-netdoctor.conf."),
    });
    out.findings.push(Finding {
        id: "syncookies-disabled".to_string(),
        severity: Severity::Warning,
        title: "SYN cookies are off: a full SYN queue drops new connections".to_string(),
        summary: format!(
            "{KEY} is 0{}. When a listener's SYN queue fills (a burst or a SYN flood), new SYNs \
             are dropped instead of answered with a cookie, and legitimate clients time out.",
            if live { "" } else { " in the configuration" }
        ),
        evidence,
        explanation: "With cookies on (1, the default) the kernel answers SYNs without keeping \
                      state once the queue is full, so the handshake still completes; with 0 \
                      the only defence is tcp_max_syn_backlog, and it runs out."
            .to_string(),
        remedy,
        references: vec!["Documentation/networking/ip-sysctl.rst: tcp_syncookies".to_string()],
        weight: 3.0,
        caveats: ctx.judged_caveats(live),
    });
}

fn timestamps(ctx: &Ctx, out: &mut Evaluation) {
    const KEY: &str = "net.ipv4.tcp_timestamps";
    let Some(entry) = ctx.key(KEY) else {
        return;
    };
    let Some((0, live)) = ctx.effective_int(KEY) else {
        return;
    };
    let reuse = ctx
        .effective_int("net.ipv4.tcp_tw_reuse")
        .map(|(v, _)| v)
        .filter(|v| *v != 0);
    let mut evidence = vec![key_evidence(entry, Some("0"))];
    if let Some(e) = ctx.key("net.ipv4.tcp_tw_reuse").filter(|_| reuse.is_some()) {
        let shown = reuse.map(|v| v.to_string());
        evidence.push(key_evidence(e, shown.as_deref()));
    }
    let mut remedy = vec![format!("`sysctl -w {KEY}=1` now.")];
    remedy.push(match &entry.configured {
        Some(c) => format!("Change line {} of {} to `{KEY} = 1`.", c.line, c.file),
        None => format!("Add `{KEY} = 1` to /etc/sysctl.d/90-netdoctor.conf."),
    });
    out.findings.push(Finding {
        id: "timestamps-disabled".to_string(),
        severity: Severity::Warning,
        title: "TCP timestamps are off".to_string(),
        summary: format!(
            "{KEY} is 0{}. Without timestamps there is no protection against wrapped sequence \
             numbers on fast links (PAWS), RTT measurement is coarser, SYN cookies cannot \
             carry window scaling or SACK{}.",
            if live { "" } else { " in the configuration" },
            if reuse.is_some() {
                ", and tcp_tw_reuse (set here) does nothing, because it relies on timestamps"
            } else {
                ""
            }
        ),
        evidence,
        explanation: "Disabling timestamps to save 12 bytes per segment is old advice; the \
                      features that depend on them are worth far more."
            .to_string(),
        remedy,
        references: vec!["Documentation/networking/ip-sysctl.rst: tcp_timestamps".to_string()],
        weight: 2.0,
        caveats: ctx.judged_caveats(live),
    });
}

fn somaxconn(ctx: &Ctx, out: &mut Evaluation) {
    const KEY: &str = "net.core.somaxconn";
    let Some(entry) = ctx.key(KEY) else {
        return;
    };
    let Some((value, live)) = ctx.effective_int(KEY) else {
        return;
    };
    let era_default: i64 = match ctx.kernel {
        Some(k) if k >= SOMAXCONN_4096_SINCE => 4096,
        _ => 128,
    };
    let capped: Vec<&crate::snapshot::sockets::Listener> = ctx
        .sockets()
        .map(|s| {
            s.listeners
                .iter()
                .filter(|l| l.capped_by_somaxconn == Some(true))
                .collect()
        })
        .unwrap_or_default();
    if ctx.config_is_from_files() {
        out.not_evaluated.push(NotEvaluated {
            rule: "somaxconn-low (listeners)".to_string(),
            missing: "the listeners of the machine the --from files describe (this host's \
                      listeners say nothing about it)"
                .to_string(),
        });
    } else if ctx.snapshot.sockets.is_none() {
        out.not_evaluated.push(NotEvaluated {
            rule: "somaxconn-low (listeners)".to_string(),
            missing: "socket state (not collected), which tells which listeners are capped"
                .to_string(),
        });
    }
    if value >= era_default && capped.is_empty() {
        return;
    }
    let recommended = if capped.is_empty() {
        era_default
    } else {
        (value.saturating_mul(2))
            .max(era_default)
            .min(SOMAXCONN_RECOMMEND_MAX)
    };
    if recommended <= value {
        return;
    }
    let full: Vec<&&crate::snapshot::sockets::Listener> = capped
        .iter()
        .filter(|l| l.backlog.is_some_and(|b| l.queue >= b))
        .collect();
    let mut evidence = vec![key_evidence(entry, Some(&value.to_string()))];
    evidence.push(ctx.kernel_fact());
    for l in capped.iter().take(10) {
        evidence.push(Evidence::Socket {
            local: l.local.clone(),
            queue: Some(l.queue),
            backlog: l.backlog,
            capped_by_somaxconn: Some(true),
            process: l.process.clone(),
            detail: None,
        });
    }
    evidence.extend(ctx.counter_evidence("TcpExtListenOverflows"));
    let below_default = value < era_default;
    let summary = if capped.is_empty() {
        format!(
            "{KEY} = {value} is below {era_default}, the kernel's own default{} ; every \
             listen() backlog above {value} is silently cut to {value}.",
            match ctx.kernel {
                Some(k) => format!(" on {k}"),
                None => " (kernel unknown: the older default is used)".to_string(),
            }
        )
    } else {
        format!(
            "{} listener(s) asked for a longer accept queue than {KEY} = {value} allows and \
             were cut to {value}{}{}.",
            capped.len(),
            if full.is_empty() {
                String::new()
            } else {
                format!("; {} of them are full right now", full.len())
            },
            if below_default {
                format!(" (also below the kernel default {era_default})")
            } else {
                String::new()
            }
        )
    };
    let mut remedy = vec![format!(
        "`sysctl -w {KEY}={recommended}`, then restart the listening services (the limit is \
         applied at listen() time)."
    )];
    remedy.push(match &entry.configured {
        Some(c) => format!(
            "Change line {} of {} to `{KEY} = {recommended}`.",
            c.line, c.file
        ),
        None => format!("Add `{KEY} = {recommended}` to /etc/sysctl.d/90-netdoctor.conf."),
    });
    out.findings.push(Finding {
        id: "somaxconn-low".to_string(),
        severity: Severity::Warning,
        title: format!("{KEY} = {value} caps accept queues"),
        summary,
        evidence,
        explanation: "listen(fd, backlog) gets min(backlog, somaxconn). A short accept queue \
                      overflows under bursts: the final ACK of the handshake is dropped \
                      (ListenOverflows) and clients see delays of a second or more."
            .to_string(),
        remedy,
        references: vec!["listen(2)".to_string()],
        weight: if full.is_empty() { 2.0 } else { 4.0 },
        caveats: ctx.judged_caveats(live),
    });
}

fn mem_units(ctx: &Ctx, out: &mut Evaluation) {
    let Some(mem_bytes) = ctx.snapshot.host.mem_bytes else {
        out.not_evaluated.push(NotEvaluated {
            rule: "tcp-mem-units".to_string(),
            missing: "the total memory of the machine (unknown)".to_string(),
        });
        return;
    };
    let (page, page_caveat) = match ctx.snapshot.host.page_size {
        Some(p) if p > 0 => (p, None),
        _ => (
            ASSUMED_PAGE_SIZE,
            Some(format!(
                "page size unknown: assumed {ASSUMED_PAGE_SIZE} bytes"
            )),
        ),
    };
    let total_pages = mem_bytes / page;
    if total_pages == 0 {
        return;
    }
    let byte_triples: Vec<(&str, Vec<u64>)> = ["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]
        .iter()
        .filter_map(|k| {
            let (v, _) = ctx.effective(k)?;
            Some((*k, parse_u64s(&v)?))
        })
        .collect();
    for key in ["net.ipv4.tcp_mem", "net.ipv4.udp_mem"] {
        let Some(entry) = ctx.key(key) else {
            continue;
        };
        let Some((text, live)) = ctx.effective(key) else {
            continue;
        };
        let Some(values) = parse_u64s(&text).filter(|v| v.len() == 3) else {
            continue;
        };
        let over_memory = values.iter().any(|v| *v > total_pages);
        let copied_from = byte_triples
            .iter()
            .find(|(_, t)| *t == values)
            .map(|(k, _)| *k);
        if !over_memory && copied_from.is_none() {
            continue;
        }
        let limit = (total_pages / 16).max(128);
        let low = limit / 4 * 3;
        let recommended = format!("{low} {limit} {}", low * 2);
        let reason = match copied_from {
            Some(k) => format!(
                "they are the same three numbers as {k}, which is in bytes: copied from the \
                 wrong line"
            ),
            None => format!(
                "the largest, {} pages, is {} — more than the whole memory of this machine \
                 ({} pages of {} bytes), so the numbers were almost certainly written as bytes",
                values.iter().max().copied().unwrap_or(0),
                human_bytes(
                    values
                        .iter()
                        .max()
                        .copied()
                        .unwrap_or(0)
                        .saturating_mul(page)
                ),
                total_pages,
                page
            ),
        };
        let mut evidence = vec![key_evidence(entry, Some(&text))];
        evidence.push(Evidence::Fact {
            label: "memory".to_string(),
            value: format!(
                "{} ({total_pages} pages of {page} bytes)",
                human_bytes(mem_bytes)
            ),
        });
        evidence.extend(ctx.counter_evidence("TcpExtTCPMemoryPressures"));
        evidence.extend(ctx.counter_evidence("TcpExtTCPAbortOnMemory"));
        let mut remedy = vec![format!(
            "Remove the line to get the kernel's own sizing, or set `{key} = {recommended}` \
             (the kernel's formula for {}: 4.7% / 6.25% / 9.4% of memory, in pages).",
            human_bytes(mem_bytes)
        )];
        if let Some(c) = &entry.configured {
            remedy.push(format!("The line is {} line {}.", c.file, c.line));
        }
        remedy.push(format!(
            "`sysctl -w {key}=\"{recommended}\"` applies it now."
        ));
        out.findings.push(Finding {
            id: "tcp-mem-units".to_string(),
            severity: Severity::Warning,
            title: format!("{key} looks like bytes, but the unit is pages"),
            summary: format!(
                "{key} = {text}{}: {reason}. As pages, the memory-pressure limits never \
                 engage (or engage at the wrong point), so socket buffers can take memory the \
                 rest of the system needs.",
                if live { "" } else { " (configured)" }
            ),
            evidence,
            explanation: "tcp_mem and udp_mem are three thresholds in pages (low, pressure, \
                          high) for all sockets together; tcp_rmem/tcp_wmem are per-socket \
                          sizes in bytes. Copying byte values into tcp_mem multiplies them by \
                          the page size."
                .to_string(),
            remedy,
            references: vec!["Documentation/networking/ip-sysctl.rst: tcp_mem".to_string()],
            weight: 2.0,
            caveats: page_caveat
                .clone()
                .into_iter()
                .chain(ctx.judged_caveats(live))
                .collect(),
        });
    }
}

fn parse_u64s(text: &str) -> Option<Vec<u64>> {
    text.split_whitespace()
        .map(|t| t.parse::<u64>().ok())
        .collect()
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: &[&str] = &["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("bytes");
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {name}")
    }
}

fn rp_filter(ctx: &Ctx, out: &mut Evaluation) {
    let all_key = "net.ipv4.conf.all.rp_filter";
    let Some((all, all_live)) = ctx.effective_int(all_key) else {
        return;
    };
    let drops = ctx
        .snapshot
        .counter("TcpExtIPReversePathFilter")
        .filter(|v| *v > 0 && !ctx.config_is_from_files());
    let mut conflicts = Vec::new();
    let mut strict = Vec::new();
    for entry in &ctx.view.keys {
        let Some(rest) = entry.key.strip_prefix("net.ipv4.conf.") else {
            continue;
        };
        let Some(iface) = rest.strip_suffix(".rp_filter") else {
            continue;
        };
        if iface == "all" || iface == "default" {
            continue;
        }
        let Some((own, _)) = ctx.effective_int(&entry.key) else {
            continue;
        };
        let effective = own.max(all);
        if effective == 1 && iface != "lo" {
            strict.push(iface.to_string());
        }
        // The interface's own setting is configured but overruled by `all`.
        if effective != own && entry.configured.is_some() {
            conflicts.push((entry, iface.to_string(), own, effective));
        }
    }
    // Drops alone are the `rp-filter-drops` story of `check`; this rule explains settings
    // that do not mean what they say.
    if conflicts.is_empty() {
        return;
    }
    let all_entry = ctx.key(all_key);
    let mut evidence: Vec<Evidence> = all_entry
        .map(|e| key_evidence(e, Some(&all.to_string())))
        .into_iter()
        .collect();
    for (entry, _, own, _) in &conflicts {
        evidence.push(key_evidence(entry, Some(&own.to_string())));
    }
    evidence.extend(ctx.counter_evidence("TcpExtIPReversePathFilter"));
    let mut parts = Vec::new();
    for (_, iface, own, effective) in &conflicts {
        parts.push(format!(
            "{iface} is set to {own}, but the kernel uses max(all={all}, {iface}={own}) = \
             {effective}"
        ));
    }
    if let Some(d) = drops
        && !strict.is_empty()
    {
        parts.push(format!(
            "strict reverse-path filtering is in force on {} and has dropped {} packets \
             (TcpExtIPReversePathFilter)",
            strict.join(", "),
            d
        ));
    }
    let fix_all = all_entry
        .and_then(|e| e.configured.as_ref())
        .map(|c| format!("{} line {}", c.file, c.line))
        .unwrap_or_else(|| "/etc/sysctl.d/90-netdoctor.conf".to_string());
    out.findings.push(Finding {
        id: "rp-filter-strict".to_string(),
        severity: if drops.is_some() && !strict.is_empty() {
            Severity::Warning
        } else {
            Severity::Info
        },
        title: "Reverse-path filtering is stricter than an interface's own setting says"
            .to_string(),
        summary: format!("{}.", parts.join("; ")),
        evidence,
        explanation: "For rp_filter the kernel takes the larger of conf/all and \
                      conf/<interface> (0 off, 1 strict, 2 loose). Setting an interface to 0 \
                      does not turn filtering off while all=1, and with all=2 no interface can \
                      be strict. Strict mode drops packets that arrive on an interface other \
                      than the one the route back would use: asymmetric routing, multi-homing, \
                      policy routing."
            .to_string(),
        remedy: vec![
            format!(
                "To let interfaces decide: set net.ipv4.conf.all.rp_filter = 0 (or 2 for loose \
                 everywhere) in {fix_all}, and the per-interface values you want."
            ),
            "`sysctl -w net.ipv4.conf.all.rp_filter=2` applies loose mode now.".to_string(),
        ],
        references: vec!["Documentation/networking/ip-sysctl.rst: rp_filter".to_string()],
        weight: 1.0,
        caveats: ctx.judged_caveats(all_live),
    });
}

fn abort_on_overflow(ctx: &Ctx, out: &mut Evaluation) {
    const KEY: &str = "net.ipv4.tcp_abort_on_overflow";
    let Some(entry) = ctx.key(KEY) else {
        return;
    };
    let Some((value, live)) = ctx.effective_int(KEY).filter(|(v, _)| *v != 0) else {
        return;
    };
    let mut evidence = vec![key_evidence(entry, Some(&value.to_string()))];
    evidence.extend(ctx.counter_evidence("TcpExtListenOverflows"));
    out.findings.push(Finding {
        id: "abort-on-overflow".to_string(),
        severity: Severity::Warning,
        title: "A full accept queue resets clients instead of letting them retry".to_string(),
        summary: format!(
            "{KEY} = {value}: when a listener's accept queue is full, the kernel answers the \
             client's final handshake ACK with a reset, so a short burst becomes \"connection \
             reset by peer\" errors instead of a retransmission that would have succeeded."
        ),
        evidence,
        explanation: "With 0 (the default) the kernel ignores that ACK and the SYN-ACK is \
                      sent again, giving the application time to accept. The kernel \
                      documentation advises enabling this only when the listener is known to \
                      be unable to catch up."
            .to_string(),
        remedy: vec![
            format!("`sysctl -w {KEY}=0` now."),
            match &entry.configured {
                Some(c) => format!("Delete line {} of {}.", c.line, c.file),
                None => "Find what sets it at runtime.".to_string(),
            },
            "Size the accept queue instead (net.core.somaxconn and the application's backlog)."
                .to_string(),
        ],
        references: vec![
            "Documentation/networking/ip-sysctl.rst: tcp_abort_on_overflow".to_string(),
        ],
        weight: 2.0,
        caveats: ctx.judged_caveats(live),
    });
}

fn port_range(ctx: &Ctx, out: &mut Evaluation) {
    const KEY: &str = "net.ipv4.ip_local_port_range";
    let Some(entry) = ctx.key(KEY) else {
        return;
    };
    let Some((text, live)) = ctx.effective(KEY) else {
        return;
    };
    let change_line = match &entry.configured {
        Some(c) => format!("Change line {} of {}.", c.line, c.file),
        None => "Find what sets it at runtime.".to_string(),
    };
    let (low, high) = match parse_port_range(&text) {
        Ok(range) => range,
        Err(PortRangeError::Malformed) => return,
        Err(PortRangeError::Inverted { low, high }) => {
            // Only a configured value can be inverted: the kernel refuses such a write.
            out.findings.push(Finding {
                id: "port-range-invalid".to_string(),
                severity: Severity::Warning,
                title: format!("{KEY} = {low} {high} is not a valid range"),
                summary: format!(
                    "{KEY} = {low} {high} has its low end above its high end. The kernel \
                     rejects the write with EINVAL, so the line sets nothing and the previous \
                     range (the kernel default 32768 60999 at boot) stays in force."
                ),
                evidence: vec![key_evidence(entry, Some(&text))],
                explanation: "The kernel accepts a local port range only when the first port \
                              is not above the second."
                    .to_string(),
                remedy: vec![
                    format!(
                        "Swap the two numbers (`{KEY} = {high} {low}`) if that range is meant."
                    ),
                    change_line,
                ],
                references: vec![
                    "Documentation/networking/ip-sysctl.rst: ip_local_port_range".to_string(),
                ],
                weight: 1.0,
                caveats: ctx.judged_caveats(live),
            });
            return;
        }
    };
    let ports = port_count(low, high);
    if ports >= PORT_RANGE_NARROW {
        return;
    }
    let mut evidence = vec![key_evidence(entry, Some(&text))];
    if !ctx.config_is_from_files() {
        evidence.extend(ctx.counter_evidence("TcpExtTCPTimeWaitOverflow"));
    }
    out.findings.push(Finding {
        id: "port-range-narrow".to_string(),
        severity: Severity::Warning,
        title: format!("Only {ports} local ports for outgoing connections"),
        summary: format!(
            "{KEY} = {low} {high} leaves {ports} ephemeral ports per destination address and \
             port. Each closed connection holds its port in TIME_WAIT for 60 s, so more than \
             about {} new connections per second to one destination fail with \
             \"Cannot assign requested address\".",
            ports / 60
        ),
        evidence,
        explanation: "connect() picks a free source port from this range for each (source \
                      address, destination address, destination port); a narrow range runs out \
                      under many short-lived outgoing connections."
            .to_string(),
        remedy: vec![
            format!("`sysctl -w {KEY}=\"32768 60999\"` (the kernel default) or wider."),
            change_line,
        ],
        references: vec!["Documentation/networking/ip-sysctl.rst: ip_local_port_range".to_string()],
        weight: 2.0,
        caveats: ctx.judged_caveats(live),
    });
}

fn tw_buckets(ctx: &Ctx, out: &mut Evaluation) {
    const KEY: &str = "net.ipv4.tcp_max_tw_buckets";
    const COUNTER: &str = "TcpExtTCPTimeWaitOverflow";
    let Some(entry) = ctx.key(KEY) else {
        return;
    };
    if ctx.config_is_from_files() {
        // The overflow counter is this host's: it says nothing about the file's machine.
        return;
    }
    let Some(overflows) = ctx.snapshot.counter(COUNTER) else {
        out.not_evaluated.push(NotEvaluated {
            rule: "tw-buckets-low".to_string(),
            missing: format!("counter {COUNTER} (not collected)"),
        });
        return;
    };
    // Only a limit someone set is worth a finding: the kernel's own sizing is ehash/2.
    let Some(configured) = entry.configured.as_ref().filter(|_| overflows > 0) else {
        return;
    };
    let mut evidence = vec![key_evidence(entry, entry.live.as_deref())];
    evidence.extend(ctx.counter_evidence(COUNTER));
    out.findings.push(Finding {
        id: "tw-buckets-low".to_string(),
        severity: Severity::Warning,
        title: format!(
            "{KEY} = {} is too low: TIME_WAIT sockets are dropped",
            configured.value
        ),
        summary: format!(
            "{} limits TIME_WAIT sockets to {}, and the kernel has skipped TIME_WAIT {overflows} \
             times ({COUNTER}). Without TIME_WAIT, delayed segments of an old connection can \
             corrupt a new one on the same ports, and the peer's retransmitted FIN gets a \
             reset.",
            where_set(configured),
            configured.value
        ),
        evidence,
        explanation: "The limit exists as a defence against memory exhaustion; the kernel \
                      sizes it from the connection hash table and the documentation warns \
                      against lowering it."
            .to_string(),
        remedy: vec![
            format!(
                "Delete line {} of {} to get the kernel's sizing back (ehash buckets / 2).",
                configured.line, configured.file
            ),
            "For port pressure on outgoing connections use net.ipv4.tcp_tw_reuse or a wider \
             net.ipv4.ip_local_port_range instead."
                .to_string(),
        ],
        references: vec!["Documentation/networking/ip-sysctl.rst: tcp_max_tw_buckets".to_string()],
        weight: 1.5,
        caveats: Vec::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{HostFacts, Origin};

    fn key(k: &str, live: Option<&str>, configured: Option<(&str, &str, usize)>) -> SysctlKey {
        SysctlKey {
            key: k.to_string(),
            live: live.map(str::to_string),
            live_missing: live
                .is_none()
                .then(|| "no such key on this kernel".to_string()),
            configured: configured.map(|(value, file, line)| SysctlAssignment {
                value: value.to_string(),
                file: file.to_string(),
                line,
                ignore_failure: false,
            }),
            ..SysctlKey::default()
        }
    }

    fn snapshot(kernel: Option<&str>, keys: Vec<SysctlKey>) -> Snapshot {
        let mut s = Snapshot::new(Origin::Live);
        s.host = HostFacts {
            kernel: kernel.map(str::to_string),
            mem_bytes: Some(8 << 30),
            page_size: Some(4096),
            ..HostFacts::default()
        };
        s.sysctl = Some(SysctlView {
            loader: Some("systemd-sysctl".to_string()),
            keys,
            ..SysctlView::default()
        });
        s
    }

    fn ids(findings: &[Finding]) -> Vec<(&str, Severity)> {
        findings
            .iter()
            .map(|f| (f.id.as_str(), f.severity))
            .collect()
    }

    #[test]
    fn tw_recycle_live_on_old_kernel_is_critical() {
        let s = snapshot(
            Some("3.10.0-1160.el7.x86_64"),
            vec![
                key(
                    "net.ipv4.tcp_tw_recycle",
                    Some("1"),
                    Some(("1", "/etc/sysctl.conf", 7)),
                ),
                key("net.ipv4.tcp_timestamps", Some("1"), None),
            ],
        );
        let f = evaluate(&s);
        assert_eq!(ids(&f), vec![("tw-recycle", Severity::Critical)]);
    }

    #[test]
    fn tw_recycle_dead_line_on_new_kernel() {
        let s = snapshot(
            Some("6.18.44"),
            vec![
                key(
                    "net.ipv4.tcp_tw_recycle",
                    None,
                    Some(("1", "/etc/sysctl.conf", 7)),
                ),
                key("net.ipv4.tcp_timestamps", Some("1"), None),
            ],
        );
        let f = evaluate(&s);
        assert_eq!(
            ids(&f),
            vec![
                ("tw-recycle", Severity::Warning),
                ("sysctl-unknown-key", Severity::Warning)
            ]
        );
        let unknown = f.iter().find(|f| f.id == "sysctl-unknown-key");
        assert!(unknown.is_some_and(|u| u.summary.contains(
            "sysctl: cannot stat /proc/sys/net/ipv4/tcp_tw_recycle: No such file or directory"
        ) && u.summary.contains("4.12")));
    }

    #[test]
    fn tw_recycle_unknown_kernel_says_both() {
        let mut s = snapshot(
            None,
            vec![key(
                "net.ipv4.tcp_tw_recycle",
                None,
                Some(("1", "/etc/sysctl.conf", 7)),
            )],
        );
        if let Some(v) = s.sysctl.as_mut() {
            v.keys[0].live_missing = Some("permission denied".to_string());
        }
        let f = evaluate(&s);
        let tw = f.iter().find(|f| f.id == "tw-recycle");
        assert!(tw.is_some_and(|t| t.summary.contains("older than 4.12")
            && t.summary.contains("does not exist")
            && !t.caveats.is_empty()));
    }

    #[test]
    fn drift_out_of_range_is_a_failed_write() {
        let s = snapshot(
            Some("6.1.0"),
            vec![key(
                "net.ipv4.tcp_tw_reuse",
                Some("2"),
                Some(("5", "/etc/sysctl.d/a.conf", 1)),
            )],
        );
        let f = evaluate(&s);
        assert_eq!(ids(&f), vec![("sysctl-drift", Severity::Warning)]);
        assert!(f[0].summary.contains("EINVAL"));
    }

    #[test]
    fn drift_equal_numbers_are_not_drift() {
        assert!(values_equal("4096  87380\t6291456", "4096 87380 6291456"));
        assert!(values_equal("01", "1"));
        assert!(!values_equal("1 2", "1 2 3"));
    }

    #[test]
    fn somaxconn_default_is_quiet_low_warns() {
        let quiet = snapshot(
            Some("6.1"),
            vec![key("net.core.somaxconn", Some("4096"), None)],
        );
        assert!(evaluate(&quiet).is_empty());
        let old = snapshot(
            Some("4.19"),
            vec![key("net.core.somaxconn", Some("128"), None)],
        );
        assert!(evaluate(&old).is_empty());
        let low = snapshot(
            Some("6.1"),
            vec![key("net.core.somaxconn", Some("1024"), None)],
        );
        assert_eq!(
            ids(&evaluate(&low)),
            vec![("somaxconn-low", Severity::Warning)]
        );
    }

    #[test]
    fn somaxconn_capped_listeners_ask_for_more() {
        use crate::snapshot::sockets::{Listener, SocketView};
        let mut s = snapshot(
            Some("6.1"),
            vec![key(
                "net.core.somaxconn",
                Some("4096"),
                Some(("4096", "/etc/sysctl.conf", 8)),
            )],
        );
        s.sockets = Some(SocketView {
            method: "sock_diag".to_string(),
            listeners: vec![Listener {
                local: "0.0.0.0:443".to_string(),
                queue: 4096,
                backlog: Some(4096),
                capped_by_somaxconn: Some(true),
                ..Listener::default()
            }],
            ..SocketView::default()
        });
        let f = evaluate(&s);
        assert_eq!(ids(&f), vec![("somaxconn-low", Severity::Warning)]);
        assert!(f[0].remedy[0].contains("net.core.somaxconn=8192"));
        assert!(f[0].remedy[1].contains("/etc/sysctl.conf"));
        assert!(f[0].summary.contains("full right now"));
    }

    #[test]
    fn tcp_mem_in_bytes_is_found_and_scaled() {
        let s = snapshot(
            Some("6.1"),
            vec![key(
                "net.ipv4.tcp_mem",
                Some("16777216 16777216 16777216"),
                Some(("16777216 16777216 16777216", "/etc/sysctl.conf", 3)),
            )],
        );
        let f = evaluate(&s);
        assert_eq!(ids(&f), vec![("tcp-mem-units", Severity::Warning)]);
        // 8 GiB / 4 KiB = 2097152 pages; limit = 131072.
        assert!(f[0].remedy[0].contains("98304 131072 196608"));
    }

    #[test]
    fn rp_filter_interface_overruled_by_all() {
        let s = snapshot(
            Some("6.1"),
            vec![
                key(
                    "net.ipv4.conf.all.rp_filter",
                    Some("1"),
                    Some(("1", "/etc/sysctl.conf", 2)),
                ),
                key(
                    "net.ipv4.conf.eth0.rp_filter",
                    Some("0"),
                    Some(("0", "/etc/sysctl.conf", 3)),
                ),
            ],
        );
        let f = evaluate(&s);
        assert_eq!(ids(&f), vec![("rp-filter-strict", Severity::Info)]);
        assert!(f[0].summary.contains("max(all=1, eth0=0) = 1"));
    }

    #[test]
    fn overridden_names_the_winner() {
        let mut k = key(
            "net.core.somaxconn",
            Some("4096"),
            Some(("4096", "/etc/sysctl.d/99-b.conf", 1)),
        );
        k.overrides.push(SysctlAssignment {
            value: "1024".to_string(),
            file: "/etc/sysctl.d/10-a.conf".to_string(),
            line: 4,
            ignore_failure: false,
        });
        let s = snapshot(Some("6.1"), vec![k]);
        let f = evaluate(&s);
        assert_eq!(ids(&f), vec![("sysctl-overridden", Severity::Info)]);
    }

    #[test]
    fn glob_drift_is_one_finding() {
        let mut keys = Vec::new();
        for iface in ["veth1", "veth2", "veth3"] {
            let mut k = key(
                &format!("net.ipv4.conf.{iface}.rp_filter"),
                Some("0"),
                Some(("2", "/etc/sysctl.d/10-rp.conf", 1)),
            );
            k.glob = Some("net.ipv4.conf.*.rp_filter".to_string());
            keys.push(k);
        }
        keys.push(key(
            "net.core.somaxconn",
            Some("4096"),
            Some(("4096", "/etc/sysctl.conf", 1)),
        ));
        keys.push(key(
            "vm.swappiness",
            Some("10"),
            Some(("10", "/etc/sysctl.conf", 2)),
        ));
        keys.push(key(
            "fs.file-max",
            Some("100"),
            Some(("100", "/etc/sysctl.conf", 3)),
        ));
        let f = evaluate(&snapshot(Some("6.1"), keys));
        assert_eq!(ids(&f), vec![("sysctl-drift", Severity::Warning)]);
        assert!(
            f[0].title
                .starts_with("3 keys set by `net.ipv4.conf.*.rp_filter`")
        );
    }

    #[test]
    fn never_applied_is_one_finding() {
        let keys = vec![
            key(
                "vm.swappiness",
                Some("60"),
                Some(("10", "/etc/sysctl.conf", 1)),
            ),
            key(
                "fs.file-max",
                Some("100"),
                Some(("200", "/etc/sysctl.conf", 2)),
            ),
            key(
                "kernel.pid_max",
                Some("32768"),
                Some(("4194304", "/etc/sysctl.conf", 3)),
            ),
        ];
        let mut s = snapshot(Some("6.1"), keys);
        if let Some(v) = s.sysctl.as_mut() {
            v.init_process = Some("tini".to_string());
        }
        let f = evaluate(&s);
        assert_eq!(ids(&f), vec![("sysctl-drift", Severity::Warning)]);
        assert!(f[0].summary.contains("`tini`"));
    }

    #[test]
    fn numbers_compare_like_the_kernel_reads_them() {
        assert!(values_equal("0x10", "16"));
        assert!(values_equal("010", "8"));
        assert!(values_equal("-1", "-1"));
        assert!(!values_equal("0x", "0"));
    }

    #[test]
    fn removed_key_has_no_default_on_new_kernels() {
        assert_eq!(
            default_for("net.ipv4.tcp_tw_recycle", Some(KernelVersion::new(6, 1))),
            None
        );
        assert_eq!(
            default_for("net.ipv4.tcp_tw_recycle", Some(KernelVersion::new(3, 10))).as_deref(),
            Some("0")
        );
        assert_eq!(
            default_for("net.core.somaxconn", Some(KernelVersion::new(5, 4))).as_deref(),
            Some("4096")
        );
        assert_eq!(default_for("net.core.somaxconn", None), None);
    }

    #[test]
    fn tw_buckets_needs_a_configured_limit_and_overflows() {
        let mut s = snapshot(
            Some("6.1"),
            vec![key(
                "net.ipv4.tcp_max_tw_buckets",
                Some("5000"),
                Some(("5000", "/etc/sysctl.conf", 4)),
            )],
        );
        assert!(evaluate(&s).is_empty());
        s.counters.push(crate::snapshot::Counter {
            name: "TcpExtTCPTimeWaitOverflow".to_string(),
            section: "TcpExt".to_string(),
            value: 1234,
        });
        assert_eq!(
            ids(&evaluate(&s)),
            vec![("tw-buckets-low", Severity::Warning)]
        );
    }

    #[test]
    fn missing_interface_is_info_not_a_removed_key() {
        let s = snapshot(
            Some("6.1"),
            vec![
                key("net.core.somaxconn", Some("4096"), None),
                key(
                    "net.ipv4.conf.eth9.rp_filter",
                    None,
                    Some(("1", "/etc/sysctl.conf", 5)),
                ),
            ],
        );
        let f = evaluate(&s);
        assert_eq!(ids(&f), vec![("sysctl-unknown-key", Severity::Info)]);
        assert!(f[0].title.contains("interface eth9 does not exist"));
    }

    fn files_snapshot(keys: Vec<SysctlKey>) -> Snapshot {
        let mut s = snapshot(Some("6.1"), keys);
        if let Some(v) = s.sysctl.as_mut() {
            v.loader = Some(LOADER_FILES.to_string());
        }
        s
    }

    #[test]
    fn signs_inside_the_digits_are_not_numbers() {
        // Each of these panicked with "attempt to negate with overflow".
        for text in [
            "--170141183460469231731687303715884105728",
            "-0x-80000000000000000000000000000000",
            "0x-80000000000000000000000000000000",
            "-+5",
            "+-5",
            "0x+5",
            "-",
            "0x",
        ] {
            assert_eq!(parse_int(text), None, "{text}");
            assert!(!values_equal(text, "0"), "{text}");
        }
        assert_eq!(parse_int("-0x10"), Some(-16));
        assert_eq!(parse_int("+010"), Some(8));
        assert_eq!(
            parse_int("-170141183460469231731687303715884105727"),
            Some(-i128::MAX)
        );
        let s = snapshot(
            Some("6.1"),
            vec![key(
                "net.core.somaxconn",
                Some("4096"),
                Some((
                    "--170141183460469231731687303715884105728",
                    "/etc/sysctl.conf",
                    1,
                )),
            )],
        );
        let f = evaluate(&s);
        assert_eq!(ids(&f), vec![("sysctl-drift", Severity::Warning)]);
        assert!(f[0].summary.contains("not a number"), "{}", f[0].summary);
    }

    #[test]
    fn port_ranges_parse_as_ports() {
        assert_eq!(parse_port_range("32768\t60999\n"), Ok((32768, 60999)));
        assert_eq!(parse_port_range("0 65535"), Ok((0, 65535)));
        assert_eq!(
            parse_port_range("5000 100"),
            Err(PortRangeError::Inverted {
                low: 5000,
                high: 100
            })
        );
        for bad in [
            "-9223372036854775808 9223372036854775807",
            "1 65536",
            "1",
            "1 2 3",
            "",
            "-1 5",
            "a b",
        ] {
            assert_eq!(
                parse_port_range(bad),
                Err(PortRangeError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(port_count(0, 65535), 65536);
        assert_eq!(port_count(7, 7), 1);
    }

    #[test]
    fn port_range_extremes_do_not_panic_and_inverted_is_invalid() {
        const KEY: &str = "net.ipv4.ip_local_port_range";
        let huge = files_snapshot(vec![key(
            KEY,
            None,
            Some(("-9223372036854775808 9223372036854775807", "/d.conf", 1)),
        )]);
        assert!(evaluate(&huge).is_empty());
        let inverted = files_snapshot(vec![key(KEY, None, Some(("5000 100", "/d.conf", 2)))]);
        let f = evaluate(&inverted);
        assert_eq!(ids(&f), vec![("port-range-invalid", Severity::Warning)]);
        assert!(!f[0].title.contains('-'), "{}", f[0].title);
        assert!(f[0].summary.contains("EINVAL"));
        let narrow = files_snapshot(vec![key(KEY, None, Some(("60000 60999", "/d.conf", 3)))]);
        let f = evaluate(&narrow);
        assert_eq!(ids(&f), vec![("port-range-narrow", Severity::Warning)]);
        assert!(f[0].title.contains("Only 1000 local ports"));
    }

    #[test]
    fn from_files_judge_the_configured_value_not_this_host() {
        use crate::snapshot::sockets::{Listener, SocketView};
        // This host says 4096 and has a capped listener; the pasted file says 77.
        let mut s = files_snapshot(vec![key(
            "net.core.somaxconn",
            Some("4096"),
            Some(("77", "/tmp/d.conf", 1)),
        )]);
        s.sockets = Some(SocketView {
            listeners: vec![Listener {
                local: "0.0.0.0:443".to_string(),
                capped_by_somaxconn: Some(true),
                ..Listener::default()
            }],
            ..SocketView::default()
        });
        let f = evaluate(&s);
        assert_eq!(ids(&f), vec![("somaxconn-low", Severity::Warning)]);
        assert!(f[0].title.contains("= 77"), "{}", f[0].title);
        assert!(f[0].caveats.iter().any(|c| c == JUDGED_ON_ITS_OWN));
        assert!(
            !f[0]
                .evidence
                .iter()
                .any(|e| matches!(e, Evidence::Socket { .. }))
        );
        // A key the file does not set is not judged from this host's live value.
        let quiet = files_snapshot(vec![key("net.ipv4.tcp_syncookies", Some("0"), None)]);
        assert!(evaluate(&quiet).is_empty());
        // The same file on the system itself: live wins (and is fine).
        let mut system = files_snapshot(vec![key(
            "net.core.somaxconn",
            Some("4096"),
            Some(("77", "/etc/sysctl.conf", 1)),
        )]);
        if let Some(v) = system.sysctl.as_mut() {
            v.loader = Some("systemd-sysctl".to_string());
        }
        assert!(!evaluate(&system).iter().any(|f| f.id == "somaxconn-low"));
    }

    #[test]
    fn table_decides_drift_and_never_for_pasted_files() {
        let keys = vec![
            key(
                "net.core.somaxconn",
                Some("4096"),
                Some(("77", "/d.conf", 1)),
            ),
            key("vm.swappiness", Some("10"), Some(("0xa", "/d.conf", 2))),
            key("fs.file-max", Some("5"), None),
        ];
        let system = snapshot(Some("6.1"), keys.clone());
        let drifted: Vec<(&str, bool)> = table(&system)
            .iter()
            .map(|r| (r.key.key.as_str(), r.drifted))
            .collect();
        assert_eq!(
            drifted,
            vec![
                ("net.core.somaxconn", true),
                ("vm.swappiness", false),
                ("fs.file-max", false)
            ]
        );
        assert!(table(&files_snapshot(keys)).iter().all(|r| !r.drifted));
    }

    #[test]
    fn empty_snapshot_reports_not_evaluated() {
        let s = Snapshot::new(Origin::Live);
        let e = evaluate_all(&s);
        assert!(e.findings.is_empty());
        assert!(!e.not_evaluated.is_empty());
    }
}
