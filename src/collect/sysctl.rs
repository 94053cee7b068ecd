//! Live sysctl values from /proc/sys, for the keys the knowledge base and the files name.
//!
//! Only the keys that matter are read — every key in the knowledge base (with `*` interface
//! components expanded to all, default and each interface), the keys the sysctl rules need,
//! and every key a configuration file sets — never all of /proc/sys (`sysctl -a` costs tens of
//! milliseconds). Reads are done under a root directory: `/` for the live host, `--root DIR`
//! for a captured tree. [`build_view`] joins the live values with the configuration that
//! [`crate::collect::sysconf`] loaded into the Snapshot's [`SysctlView`].

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::collect::ProcPaths;
use crate::collect::host::read_host_facts;
use crate::collect::read;
use crate::collect::sockdiag::{self, CollectOptions, TcpState, ViewOptions};
use crate::collect::sysconf::{
    self, ConfigSet, FileState, LoaderKind, dotted_to_path, path_to_dotted,
};
use crate::parse::glob_match;
use crate::snapshot::{
    Origin, Snapshot, SourceStatus, SysctlAssignment, SysctlFile, SysctlKey, SysctlView,
};

/// Keys the sysctl rules read even when neither the knowledge base nor a file names them.
pub const RULE_KEYS: &[&str] = &[
    "net.ipv4.tcp_tw_recycle",
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_syncookies",
    "net.core.somaxconn",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_mem",
    "net.ipv4.udp_mem",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_abort_on_overflow",
    "net.ipv4.tcp_max_tw_buckets",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.conf.*.rp_filter",
];

/// `live_missing` of a key absent from a captured tree (`--root`): the capture may have left
/// it out, or that kernel lacks it.
pub const NOT_IN_TREE: &str = "not in this tree (not captured, or no such key on that kernel)";

/// Longest live value read (real ones are at most a few kilobytes).
pub const LIVE_VALUE_MAX: u64 = 1 << 20;

/// Why a live value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    #[error("no such key on this kernel")]
    NoSuchKey,
    #[error("permission denied")]
    PermissionDenied,
    #[error("not a key (a directory of keys)")]
    Directory,
    #[error("{0}")]
    Other(String),
}

/// Reads one key (dotted or slashed) from `root`/proc/sys, whitespace normalised to single
/// spaces (`tcp_mem` prints tabs).
pub fn read_live(root: &Path, key: &str) -> Result<String, LiveError> {
    let path = sysconf::normalize_key(key).ok_or(LiveError::NoSuchKey)?;
    let fs_path = root.join("proc/sys").join(&path);
    // The live host's /proc/sys is the kernel's own: no file-type checks (they cost a path
    // walk per key, and `check` reads dozens of keys); a captured tree gets them.
    let live = root == Path::new("/");
    match read::read_target_capped(&fs_path, live, LIVE_VALUE_MAX) {
        Ok(read) if read.truncated => Err(LiveError::Other(format!(
            "value longer than {} MiB: not read",
            LIVE_VALUE_MAX >> 20
        ))),
        Ok(read) => Ok(normalize_value(&String::from_utf8_lossy(&read.bytes))),
        Err(e) => Err(match e.kind() {
            io::ErrorKind::NotFound => LiveError::NoSuchKey,
            io::ErrorKind::PermissionDenied => LiveError::PermissionDenied,
            io::ErrorKind::IsADirectory => LiveError::Directory,
            _ => LiveError::Other(read::io_reason(&e)),
        }),
    }
}

/// Joins whitespace-separated fields with one space.
pub fn normalize_value(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The dotted keys under `root`/proc/sys that a pattern names: glob(7) characters and the
/// knowledge base's `*` match within one path component. A pattern without them is returned
/// as is when it exists. Only the directories the pattern passes through are listed.
pub fn expand_pattern(root: &Path, pattern: &str) -> Vec<String> {
    let Some(path) = sysconf::normalize_key(pattern) else {
        return Vec::new();
    };
    let base = root.join("proc/sys");
    let components: Vec<&str> = path.split('/').collect();
    let mut current: Vec<String> = vec![String::new()];
    let last = components.len().saturating_sub(1);
    for (index, component) in components.iter().enumerate() {
        let mut next = Vec::new();
        for prefix in &current {
            let join = |name: &str| {
                if prefix.is_empty() {
                    name.to_string()
                } else {
                    format!("{prefix}/{name}")
                }
            };
            if sysconf::is_glob(component) {
                let Ok(entries) = fs::read_dir(base.join(prefix)) else {
                    continue;
                };
                let mut names: Vec<String> = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| glob_match(component, name))
                    .collect();
                names.sort();
                next.extend(names.iter().map(|n| join(n)));
            } else {
                next.push(join(component));
            }
        }
        current = next
            .into_iter()
            .filter(|p| {
                let meta = fs::metadata(base.join(p));
                if index == last {
                    meta.is_ok_and(|m| !m.is_dir())
                } else {
                    meta.is_ok_and(|m| m.is_dir())
                }
            })
            .collect();
        if current.is_empty() {
            break;
        }
    }
    current.iter().map(|p| path_to_dotted(p)).collect()
}

/// The keys to read live: the knowledge base's and the rules' (patterns expanded).
pub fn interesting_keys(root: &Path) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let kb_keys = crate::kb::sysctls().iter().map(|s| s.key);
    for key in kb_keys.chain(RULE_KEYS.iter().copied()) {
        if key.contains('*') || sysconf::is_glob(key) {
            keys.extend(expand_pattern(root, key));
        } else {
            keys.insert(key.to_string());
        }
    }
    keys
}

/// The whole sysctl view of the system under `root` in one call: detects the loader, loads its
/// files and reads the live values (what `snapshot` and `check` need).
pub fn collect_view(root: &Path) -> SysctlView {
    let loader = sysconf::detect_loader(root);
    let config = sysconf::load_system(root, loader);
    build_view(root, &config)
}

/// The directory holding `proc/sys` for a target: DIR for `--root DIR`, `/` otherwise; None
/// when the target's sysctls cannot be read (a namespace that could not be entered).
pub fn root_of(paths: &ProcPaths) -> Option<PathBuf> {
    let sys_dir = paths.sys_dir.as_ref().ok()?;
    Some(
        sys_dir
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/")),
    )
}

/// The sysctl view of a target opened with `enter_target`, and the source status to record
/// beside it (what `snapshot` and `check` put in `Snapshot.sysctl`): None, with the reason,
/// when its sysctls cannot be read.
pub fn collect_view_for(paths: &ProcPaths) -> (Option<SysctlView>, SourceStatus) {
    let Some(root) = root_of(paths) else {
        let reason = match &paths.sys_dir {
            Err(reason) => reason.clone(),
            Ok(dir) => format!("cannot tell the root of {}", dir.display()),
        };
        return (None, SourceStatus::missing("sysctl", "/proc/sys", reason));
    };
    let view = collect_view(&root);
    (Some(view), proc_sys_status(&root))
}

/// "sysctl" available at ROOT/proc/sys, or missing when there is no such directory.
pub fn proc_sys_status(root: &Path) -> SourceStatus {
    let proc_sys = root.join("proc/sys");
    let shown = proc_sys.display().to_string();
    if proc_sys.is_dir() {
        SourceStatus::available("sysctl", &shown)
    } else {
        SourceStatus::missing("sysctl", &shown, "no such directory: live values unknown")
    }
}

/// Everything `netdoctor sysctl` reads for a target, as a Snapshot: host facts, the sysctl
/// view of the system under `root` (`/` or `--root DIR`) with `config` as its configuration,
/// and the listeners (LISTEN only, no process lookup) that tell somaxconn-low which backlogs
/// the limit cut. Files given with `--from` may describe another machine: then no listener of
/// this host is collected. Derived socket fields are left to `analyze::sockets::annotate`.
pub fn collect_for_target(
    paths: &ProcPaths,
    root: &Path,
    config: &ConfigSet,
    origin: Origin,
) -> Snapshot {
    let mut snapshot = Snapshot::new(origin);
    snapshot.host = read_host_facts(paths);
    snapshot.set_source(proc_sys_status(root));
    if snapshot.host.kernel.is_none() {
        snapshot.set_source(SourceStatus::missing(
            "host",
            &root.join("proc/sys/kernel/osrelease").display().to_string(),
            "kernel version unknown",
        ));
    }
    if let Some(note) = &paths.note {
        snapshot.set_source(note.clone());
    }
    if config.loader.kind != LoaderKind::Files {
        let options = CollectOptions {
            view: ViewOptions {
                states: TcpState::LISTEN.bit(),
                ..ViewOptions::default()
            },
            owners: false,
        };
        let (sockets, status) = sockdiag::collect_for_snapshot(paths, &options);
        snapshot.set_source(status);
        snapshot.sockets = sockets;
    }
    snapshot.sysctl = Some(build_view(root, config));
    snapshot.set_source(SourceStatus::available(
        "sysctl_files",
        &format!("{} ({})", config.loader.kind.as_str(), root.display()),
    ));
    snapshot
}

/// A view of configuration alone, without reading anything (for pasted sysctl.conf files in
/// the ingest layer): every explicit key with its winner and overrides, no live values. Glob
/// lines cannot be expanded without a /proc/sys and are listed in `unmatched_globs`.
pub fn configured_view(config: &ConfigSet) -> SysctlView {
    let mut expand = |_: &str| Vec::new();
    let (resolved, globs) = sysconf::resolve_winners(config, &mut expand);
    SysctlView {
        loader: Some(config.loader.kind.as_str().to_string()),
        loader_reason: Some(config.loader.reason.clone()),
        files: config.files.iter().map(file_entry).collect(),
        keys: resolved
            .iter()
            .map(|item| SysctlKey {
                key: item.key.clone(),
                live_missing: Some("not read (configuration only)".to_string()),
                configured: Some(to_snapshot(&item.winner)),
                overrides: item.overrides.iter().map(to_snapshot).collect(),
                ..SysctlKey::default()
            })
            .collect(),
        unmatched_globs: globs.iter().map(to_snapshot_glob).collect(),
        init_process: None,
    }
}

fn file_entry(f: &sysconf::ConfFile) -> SysctlFile {
    SysctlFile {
        path: f.path.clone(),
        state: match (&f.state, f.empty) {
            (FileState::Applied, true) => "applied (no assignments)".to_string(),
            (state, _) => state.describe(),
        },
        target: f.target.clone(),
        skipped: f.parsed.skipped.clone(),
    }
}

/// The keys the sysctl rules read ([`RULE_KEYS`]) and `extra` ones, patterns expanded.
pub fn rule_keys<'a>(root: &Path, extra: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for key in RULE_KEYS.iter().copied().chain(extra) {
        if key.contains('*') || sysconf::is_glob(key) {
            keys.extend(expand_pattern(root, key));
        } else {
            keys.insert(key.to_string());
        }
    }
    keys
}

/// Builds the Snapshot's sysctl view: live values of the interesting keys and of every
/// configured key, with the winning assignment and the ones it overrode.
pub fn build_view(live_root: &Path, config: &ConfigSet) -> SysctlView {
    build_view_with_keys(live_root, config, interesting_keys(live_root))
}

/// Like [`build_view`], but reads live only `keys` besides the configured ones: `check` asks
/// for the keys its rules and the sysctl rules need ([`rule_keys`]) instead of every key the
/// knowledge base knows, which halves its run time.
pub fn build_view_with_keys(
    live_root: &Path,
    config: &ConfigSet,
    keys_to_read: BTreeSet<String>,
) -> SysctlView {
    let mut expand = |pattern: &str| expand_pattern(live_root, pattern);
    let (resolved, unmatched) = sysconf::resolve_winners(config, &mut expand);
    let mut keys: Vec<SysctlKey> = Vec::new();
    let mut seen = BTreeSet::new();
    for item in &resolved {
        seen.insert(item.key.clone());
        keys.push(SysctlKey {
            key: item.key.clone(),
            configured: Some(to_snapshot(&item.winner)),
            overrides: item.overrides.iter().map(to_snapshot).collect(),
            glob: item.glob.clone(),
            ..SysctlKey::default()
        });
    }
    for key in keys_to_read {
        if seen.insert(key.clone()) {
            keys.push(SysctlKey {
                key,
                ..SysctlKey::default()
            });
        }
    }
    let proc_sys_present = live_root.join("proc/sys").is_dir();
    let is_host_root = live_root == Path::new("/");
    for entry in &mut keys {
        if !proc_sys_present {
            entry.live_missing = Some("no proc/sys to read".to_string());
            continue;
        }
        match read_live(live_root, &entry.key) {
            Ok(value) => entry.live = Some(value),
            // A captured tree may simply not hold the file: say so instead of judging the
            // kernel.
            Err(LiveError::NoSuchKey) if !is_host_root => {
                entry.live_missing = Some(NOT_IN_TREE.to_string());
            }
            Err(e) => entry.live_missing = Some(e.to_string()),
        }
        let path = live_root.join("proc/sys").join(dotted_to_path(&entry.key));
        entry.mode = fs::metadata(&path)
            .ok()
            .map(|m| m.permissions().mode() & 0o777);
    }
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    let files = config.files.iter().map(file_entry).collect();
    SysctlView {
        loader: Some(config.loader.kind.as_str().to_string()),
        loader_reason: Some(config.loader.reason.clone()),
        files,
        keys,
        unmatched_globs: unmatched.iter().map(to_snapshot_glob).collect(),
        init_process: read::read_regular_capped(&live_root.join("proc/1/comm"), 4096)
            .ok()
            .map(|read| String::from_utf8_lossy(&read.bytes).trim().to_string())
            .filter(|s| !s.is_empty()),
    }
}

fn to_snapshot(a: &sysconf::ConfAssignment) -> SysctlAssignment {
    SysctlAssignment {
        value: a.value.clone(),
        file: a.file.clone(),
        line: a.line,
        ignore_failure: a.ignore_failure,
    }
}

fn to_snapshot_glob(a: &sysconf::ConfAssignment) -> SysctlAssignment {
    SysctlAssignment {
        value: format!("{} = {}", a.key, a.value),
        ..to_snapshot(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_loader_name_is_the_one_the_rules_know() {
        assert_eq!(
            LoaderKind::Files.as_str(),
            crate::analyze::rules::sysctl::LOADER_FILES
        );
    }
}
