//! sysctl configuration files: finds and loads them exactly as systemd-sysctl or procps does.
//!
//! Two loaders exist on Linux systems and they differ in small ways that matter:
//!
//! * **systemd-sysctl** (at boot): `*.conf` files from /etc/sysctl.d, /run/sysctl.d,
//!   /usr/local/lib/sysctl.d, /usr/lib/sysctl.d (and /lib/sysctl.d when /lib is not a link to
//!   /usr/lib). A file name found in a higher-priority directory hides the same name below it; an
//!   empty file or a link to /dev/null therefore masks a vendor file. The surviving files are
//!   applied in lexicographic order of their *names*, whatever their directory. It does not read
//!   /etc/sysctl.conf unless a sysctl.d entry links to it (Debian ships
//!   /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf).
//! * **procps `sysctl --system`**: the same directories and rules, then /etc/sysctl.conf last.
//!
//! Both tools (verified with procps-ng 4.0.2 and systemd 252 in a network namespace): the last
//! assignment of a key wins; a key named explicitly anywhere is never written by a glob line,
//! whatever the order; `-key` (no `=`) keeps a key out of globs; `-key = value` marks failures as
//! ignorable (systemd honours it for missing keys, procps does not); `#` and `;` start comments;
//! a key whose first separator is `.` has its dots and slashes swapped to form the /proc/sys path.
//! They differ on one point: systemd-sysctl keeps one entry per glob pattern, so the same
//! pattern repeated with the same value keeps its first place, while procps applies it again.
//!
//! [`parse_sysctl_conf`] is pure (text in, assignments and skipped lines out) so the ingest layer
//! can reuse it for pasted files. [`load_system`] and [`load_files`] do the reading, always under
//! a root directory (`/` for the live host, `--root DIR` for a captured tree).

use std::fs;
use std::io::{self, Read as _};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::read::{CappedRead, io_reason, read_regular_capped};
/// The glob(7) matcher lives in `crate::parse`; re-exported for the ingest layer's calls.
pub use crate::parse::glob_match;

use crate::snapshot::Skipped;

/// Directories systemd-sysctl reads, highest priority first.
pub const SYSTEMD_DIRS: &[&str] = &[
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];

/// Directories procps `sysctl --system` reads (procps-ng ≥ 3.3.17), highest priority first.
/// /etc/sysctl.conf follows them.
pub const PROCPS_DIRS: &[&str] = &[
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];

/// The classic single configuration file.
pub const SYSCTL_CONF: &str = "/etc/sysctl.conf";

/// Where systemd-sysctl is installed.
const SYSTEMD_BINARIES: &[&str] = &[
    "/usr/lib/systemd/systemd-sysctl",
    "/lib/systemd/systemd-sysctl",
];

/// Where procps `sysctl` is installed.
const PROCPS_BINARIES: &[&str] = &[
    "/usr/sbin/sysctl",
    "/sbin/sysctl",
    "/usr/bin/sysctl",
    "/bin/sysctl",
];

/// How deep a chain of symbolic links may go before we give up (like the kernel's 40).
const MAX_LINK_HOPS: usize = 40;

/// Which program's rules decide what the files mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoaderKind {
    /// systemd-sysctl at boot.
    SystemdSysctl,
    /// procps `sysctl --system`.
    Procps,
    /// Files named on the command line (`--from`), applied in the given order.
    Files,
}

impl LoaderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LoaderKind::SystemdSysctl => "systemd-sysctl",
            LoaderKind::Procps => "procps sysctl --system",
            LoaderKind::Files => "files",
        }
    }
}

/// The loader that applies, and why we think so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoaderChoice {
    pub kind: LoaderKind,
    pub reason: String,
}

/// One `key = value` line (or one glob line) of a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfAssignment {
    /// Dotted key as the tools print it (`net.ipv4.tcp_mem`); a glob keeps its pattern
    /// characters (`net.ipv4.conf.*.rp_filter`).
    pub key: String,
    /// The value with surrounding whitespace removed.
    pub value: String,
    /// The file, as a path on the inspected system.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// The line began with `-`: failures to apply it are to be ignored.
    pub ignore_failure: bool,
}

impl ConfAssignment {
    /// True when the key is a glob pattern (`*`, `?` or `[`).
    pub fn is_glob(&self) -> bool {
        is_glob(&self.key)
    }
}

/// A `-key` line: keeps the key out of glob assignments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobExclusion {
    pub key: String,
    pub file: String,
    pub line: usize,
}

/// Everything one file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedConf {
    pub assignments: Vec<ConfAssignment>,
    pub exclusions: Vec<GlobExclusion>,
    pub skipped: Vec<Skipped>,
}

/// Parses sysctl.conf / sysctl.d text. Never fails: lines it cannot use are returned as
/// [`Skipped`] with their line number and the reason. `file` names the file in the results.
pub fn parse_sysctl_conf(text: &str, file: &str) -> (Vec<ConfAssignment>, Vec<Skipped>) {
    let parsed = parse_sysctl_conf_full(text, file);
    (parsed.assignments, parsed.skipped)
}

/// Like [`parse_sysctl_conf`], and also returns the `-key` glob exclusions.
pub fn parse_sysctl_conf_full(text: &str, file: &str) -> ParsedConf {
    let mut out = ParsedConf::default();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line
            .chars()
            .any(|c| c == '\u{FFFD}' || (c.is_control() && c != '\t' && c != '\r'))
        {
            out.skipped
                .push(Skipped::new(line_no, "binary data, not text", raw));
            continue;
        }
        let (ignore_failure, rest) = match line.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let Some((raw_key, raw_value)) = rest.split_once('=') else {
            if ignore_failure {
                match normalize_key(rest.trim()) {
                    Some(key) => out.exclusions.push(GlobExclusion {
                        key: path_to_dotted(&key),
                        file: file.to_string(),
                        line: line_no,
                    }),
                    None => out.skipped.push(Skipped::new(line_no, "empty key", raw)),
                }
            } else {
                out.skipped.push(Skipped::new(
                    line_no,
                    "not an assignment (no '='): the loaders ignore it",
                    raw,
                ));
            }
            continue;
        };
        let raw_key = raw_key.trim();
        if raw_key.chars().any(char::is_whitespace) {
            out.skipped
                .push(Skipped::new(line_no, "the key contains whitespace", raw));
            continue;
        }
        let Some(key) = normalize_key(raw_key) else {
            out.skipped.push(Skipped::new(
                line_no,
                "empty key, or `.`/`..` in its path",
                raw,
            ));
            continue;
        };
        out.assignments.push(ConfAssignment {
            key: path_to_dotted(&key),
            value: raw_value.trim().to_string(),
            file: file.to_string(),
            line: line_no,
            ignore_failure,
        });
    }
    out
}

/// Turns a key as written in a file into its /proc/sys path form (`net/ipv4/tcp_mem`).
///
/// When the first separator is `.`, dots and slashes are swapped (`net.ipv4.conf.eth0/200.x`
/// names `net/ipv4/conf/eth0.200/x`); when it is `/`, the key already is a path. Leading
/// slashes and repeated slashes are dropped. None for an empty key, or one with a `.` or `..`
/// path component (it would name a file outside /proc/sys).
pub fn normalize_key(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let first_separator = raw.chars().find(|c| *c == '.' || *c == '/');
    let path: String = if first_separator == Some('.') {
        crate::parse::swap_separators(raw)
    } else {
        raw.to_string()
    };
    let cleaned: Vec<&str> = path.split('/').filter(|part| !part.is_empty()).collect();
    // `.` and `..` would lead out of /proc/sys: no sysctl is named that way.
    if cleaned.is_empty() || cleaned.iter().any(|part| *part == "." || *part == "..") {
        None
    } else {
        Some(cleaned.join("/"))
    }
}

/// The dotted form of a /proc/sys path (`net/ipv4/conf/eth0.200/x` → `net.ipv4.conf.eth0/200.x`).
pub fn path_to_dotted(path: &str) -> String {
    crate::parse::swap_separators(path)
}

/// The /proc/sys path of a dotted key (the inverse of [`path_to_dotted`]).
pub fn dotted_to_path(key: &str) -> String {
    crate::parse::swap_separators(key)
}

/// True when a key holds glob(7) pattern characters.
pub fn is_glob(key: &str) -> bool {
    key.contains(['*', '?', '['])
}

/// What happened to one file the loader considered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Read and applied.
    Applied,
    /// A same-named file in a higher-priority directory hides it.
    MaskedBy(String),
    /// A link to /dev/null: it applies nothing and hides same-named files below it.
    MaskLink,
    /// Could not be read; the reason.
    Unreadable(String),
    /// Present but not read by this loader; the reason.
    NotRead(String),
}

impl FileState {
    /// The state in words, as the Snapshot records it.
    pub fn describe(&self) -> String {
        match self {
            FileState::Applied => "applied".to_string(),
            FileState::MaskedBy(by) => format!("masked by {by}"),
            FileState::MaskLink => {
                "masks same-named files in lower-priority directories (link to /dev/null)"
                    .to_string()
            }
            FileState::Unreadable(reason) => format!("unreadable: {reason}"),
            FileState::NotRead(reason) => format!("not read: {reason}"),
        }
    }
}

/// One file the loader considered, with what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfFile {
    /// The path on the inspected system (`/etc/sysctl.d/99-sysctl.conf`).
    pub path: String,
    /// Where the path leads when it is a symbolic link (`/etc/sysctl.conf`).
    pub target: Option<String>,
    pub state: FileState,
    pub parsed: ParsedConf,
    /// True when the file exists but holds no assignment at all (an empty file masks too).
    pub empty: bool,
}

/// The configuration as one loader sees it: the files in application order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSet {
    pub loader: LoaderChoice,
    /// Every file considered; those with state Applied, in application order.
    pub files: Vec<ConfFile>,
}

impl ConfigSet {
    /// Assignments of the applied files, in application order.
    pub fn assignments(&self) -> impl Iterator<Item = &ConfAssignment> {
        self.files
            .iter()
            .filter(|f| f.state == FileState::Applied)
            .flat_map(|f| f.parsed.assignments.iter())
    }

    /// Glob exclusions of the applied files.
    pub fn exclusions(&self) -> impl Iterator<Item = &GlobExclusion> {
        self.files
            .iter()
            .filter(|f| f.state == FileState::Applied)
            .flat_map(|f| f.parsed.exclusions.iter())
    }
}

/// The file system path of a system path under `root`.
pub fn under_root(root: &Path, system_path: &str) -> PathBuf {
    root.join(system_path.trim_start_matches('/'))
}

/// Lexically resolves `.` and `..` in an absolute system path.
fn lexical_normalize(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(name) => parts.push(name.to_string_lossy().into_owned()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    format!("/{}", parts.join("/"))
}

/// Where a system path leads after following symbolic links of its last component, with
/// absolute link targets taken relative to `root` (as they would be inside the system).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Resolved {
    /// A file to read: the system path it resolved to (the same path when not a link).
    File(String),
    /// A link (possibly through others) to /dev/null.
    DevNull,
    /// A directory.
    Directory(String),
}

fn resolve_in_root(root: &Path, system_path: &str) -> Result<Resolved, String> {
    let mut current = system_path.to_string();
    for _ in 0..MAX_LINK_HOPS {
        if current == "/dev/null" {
            return Ok(Resolved::DevNull);
        }
        let fs_path = under_root(root, &current);
        let meta = match fs::symlink_metadata(&fs_path) {
            Ok(meta) => meta,
            Err(e) if current != system_path && e.kind() == io::ErrorKind::NotFound => {
                return Err(format!("dangling link to {current}"));
            }
            Err(e) => return Err(io_reason(&e)),
        };
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&fs_path).map_err(|e| io_reason(&e))?;
            let next = if target.is_absolute() {
                target
            } else {
                Path::new(&current)
                    .parent()
                    .unwrap_or(Path::new("/"))
                    .join(target)
            };
            current = lexical_normalize(&next);
            continue;
        }
        if meta.is_dir() {
            return Ok(Resolved::Directory(current));
        }
        return Ok(Resolved::File(current));
    }
    Err("too many levels of symbolic links".to_string())
}

/// Largest configuration file read; the rest of a bigger file is reported as skipped (real
/// files are a few kilobytes: anything this large is a mistake or not a configuration file).
pub const CONF_FILE_MAX: u64 = 16 << 20;

/// Decides which loader applies to the system under `root`, and says why.
pub fn detect_loader(root: &Path) -> LoaderChoice {
    let systemd = SYSTEMD_BINARIES
        .iter()
        .find(|p| under_root(root, p).is_file());
    let procps = PROCPS_BINARIES
        .iter()
        .find(|p| under_root(root, p).is_file());
    let conf_exists = under_root(root, SYSCTL_CONF).exists();
    let link = debian_link(root);
    match (systemd, procps) {
        (Some(bin), _) => {
            let mut reason =
                format!("systemd-sysctl found at {bin}: it applies the sysctl.d files at boot");
            if let Some(link) = link {
                reason.push_str(&format!(
                    "; /etc/sysctl.conf is included through {link} -> /etc/sysctl.conf"
                ));
            } else if conf_exists {
                reason.push_str(
                    "; /etc/sysctl.conf is not linked from any sysctl.d directory, so \
                     systemd-sysctl does not read it (only `sysctl -p` or `sysctl --system` would)",
                );
            }
            LoaderChoice {
                kind: LoaderKind::SystemdSysctl,
                reason,
            }
        }
        (None, Some(bin)) => LoaderChoice {
            kind: LoaderKind::Procps,
            reason: format!(
                "no systemd-sysctl; procps sysctl found at {bin}: `sysctl --system` applies \
                 the sysctl.d files, then /etc/sysctl.conf last"
            ),
        },
        (None, None) => LoaderChoice {
            kind: LoaderKind::Procps,
            reason: "neither systemd-sysctl nor procps sysctl found; assuming the order of \
                     procps `sysctl --system` (sysctl.d files, then /etc/sysctl.conf last)"
                .to_string(),
        },
    }
}

/// The sysctl.d entry that links to /etc/sysctl.conf, when there is one (Debian's
/// /etc/sysctl.d/99-sysctl.conf).
fn debian_link(root: &Path) -> Option<String> {
    for dir in SYSTEMD_DIRS {
        let Some(names) = conf_names(&under_root(root, dir)) else {
            continue;
        };
        for name in names {
            let path = format!("{dir}/{name}");
            let is_link = fs::symlink_metadata(under_root(root, &path))
                .is_ok_and(|m| m.file_type().is_symlink());
            if is_link
                && resolve_in_root(root, &path) == Ok(Resolved::File(SYSCTL_CONF.to_string()))
            {
                return Some(path);
            }
        }
    }
    None
}

/// The `*.conf` names in a directory, sorted as the loaders sort them; None when it cannot
/// be listed (absent, not a directory, no permission).
fn conf_names(dir: &Path) -> Option<Vec<String>> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    names.sort();
    Some(names)
}

/// Loads the configuration of the system under `root` as `loader` would apply it.
pub fn load_system(root: &Path, loader: LoaderChoice) -> ConfigSet {
    let dirs: Vec<&str> = match loader.kind {
        LoaderKind::SystemdSysctl => SYSTEMD_DIRS.to_vec(),
        LoaderKind::Procps | LoaderKind::Files => PROCPS_DIRS.to_vec(),
    };
    // The same directory reached twice (/lib -> usr/lib) counts once.
    let mut seen_dirs: Vec<PathBuf> = Vec::new();
    // (name, system path) of every candidate, in directory priority order.
    let mut candidates: Vec<(String, String)> = Vec::new();
    let mut files: Vec<ConfFile> = Vec::new();
    for dir in dirs {
        let fs_dir = under_root(root, dir);
        let canonical = fs::canonicalize(&fs_dir).unwrap_or_else(|_| fs_dir.clone());
        if seen_dirs.contains(&canonical) {
            continue;
        }
        seen_dirs.push(canonical);
        let Some(names) = conf_names(&fs_dir) else {
            continue;
        };
        for name in names {
            candidates.push((name.clone(), format!("{dir}/{name}")));
        }
    }
    // Masking by name: the first (highest-priority) entry of each name survives. Directories
    // named *.conf are not files to the loaders and hide nothing.
    let mut survivors: Vec<(String, String)> = Vec::new();
    for (name, path) in candidates {
        if matches!(resolve_in_root(root, &path), Ok(Resolved::Directory(_))) {
            files.push(ConfFile {
                path,
                target: None,
                state: FileState::Unreadable("is a directory (the loaders skip it)".to_string()),
                parsed: ParsedConf::default(),
                empty: false,
            });
            continue;
        }
        if let Some((_, winner)) = survivors.iter().find(|(n, _)| *n == name) {
            files.push(ConfFile {
                path,
                target: None,
                state: FileState::MaskedBy(winner.clone()),
                parsed: ParsedConf::default(),
                empty: false,
            });
        } else {
            survivors.push((name, path));
        }
    }
    survivors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut applied: Vec<ConfFile> = survivors
        .into_iter()
        .map(|(_, path)| read_conf_file(root, &path))
        .collect();
    let sysctl_conf_present = fs::symlink_metadata(under_root(root, SYSCTL_CONF)).is_ok();
    match loader.kind {
        LoaderKind::Procps | LoaderKind::Files => {
            if sysctl_conf_present {
                applied.push(read_conf_file(root, SYSCTL_CONF));
            }
        }
        LoaderKind::SystemdSysctl => {
            let linked = applied
                .iter()
                .any(|f| f.target.as_deref() == Some(SYSCTL_CONF));
            if sysctl_conf_present && !linked {
                let mut file = read_conf_file(root, SYSCTL_CONF);
                if file.state == FileState::Applied {
                    file.state = FileState::NotRead(
                        "systemd-sysctl does not read /etc/sysctl.conf and no sysctl.d entry \
                         links to it"
                            .to_string(),
                    );
                }
                files.push(file);
            }
        }
    }
    // Applied files first (in application order), then the ones that were not applied.
    applied.extend(files);
    ConfigSet {
        loader,
        files: applied,
    }
}

/// Loads files named on the command line as the only configuration, in the given order.
/// Standard input (`-`) is read by the caller and passed through [`conf_file_from_text`].
pub fn load_files(paths: &[PathBuf]) -> ConfigSet {
    let files = paths
        .iter()
        .map(|path| {
            let shown = path.display().to_string();
            match read_regular_capped(path, CONF_FILE_MAX) {
                Ok(read) => conf_file_from_read(&shown, None, &read),
                Err(e) => ConfFile {
                    path: shown,
                    target: None,
                    state: FileState::Unreadable(io_reason(&e)),
                    parsed: ParsedConf::default(),
                    empty: false,
                },
            }
        })
        .collect();
    ConfigSet {
        loader: LoaderChoice {
            kind: LoaderKind::Files,
            reason: "configuration taken from the files given with --from, in that order"
                .to_string(),
        },
        files,
    }
}

/// Why the files given with `--from` could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FromError {
    #[error("--from {0}: no such file")]
    NoSuchFile(String),
    #[error("--from {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("reading standard input")]
    Stdin(#[source] io::Error),
}

/// Loads the files given with `--from` as the only configuration, in the given order: `-`
/// reads `stdin` (at most [`CONF_FILE_MAX`] bytes), `FILE@TIME` names FILE when no file has
/// the whole name. An unreadable file is an error (the user named it).
pub fn load_from_args(from: &[String], mut stdin: impl io::Read) -> Result<ConfigSet, FromError> {
    let mut files = Vec::new();
    for arg in from {
        if arg == "-" {
            let mut bytes = Vec::new();
            (&mut stdin)
                .take(CONF_FILE_MAX.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(FromError::Stdin)?;
            let limit = usize::try_from(CONF_FILE_MAX).unwrap_or(usize::MAX);
            let truncated = bytes.len() > limit;
            bytes.truncate(limit);
            files.push(conf_file_from_read(
                "(stdin)",
                None,
                &CappedRead { bytes, truncated },
            ));
            continue;
        }
        let path = if Path::new(arg).exists() {
            PathBuf::from(arg)
        } else {
            match arg.rsplit_once('@') {
                Some((file, _time)) if Path::new(file).exists() => PathBuf::from(file),
                _ => return Err(FromError::NoSuchFile(arg.clone())),
            }
        };
        for file in load_files(std::slice::from_ref(&path)).files {
            if let FileState::Unreadable(reason) = &file.state {
                return Err(FromError::Unreadable {
                    path: path.display().to_string(),
                    reason: reason.clone(),
                });
            }
            files.push(file);
        }
    }
    Ok(ConfigSet {
        loader: LoaderChoice {
            kind: LoaderKind::Files,
            reason: "configuration taken from the files given with --from, in that order, \
                     and judged on its own: this host's live values and sockets are not used \
                     (the host's kernel tells which keys exist)"
                .to_string(),
        },
        files,
    })
}

/// A configuration file from text already read (standard input, a paste).
pub fn conf_file_from_text(name: &str, text: &str) -> ConfFile {
    conf_file_from_bytes(name, None, text.as_bytes())
}

/// A configuration file from its (possibly capped) start: a truncated file is parsed up to its
/// last complete line, and the rest is reported as one skipped entry.
pub fn conf_file_from_read(path: &str, target: Option<String>, read: &CappedRead) -> ConfFile {
    if !read.truncated {
        return conf_file_from_bytes(path, target, &read.bytes);
    }
    let kept = match read.bytes.iter().rposition(|b| *b == b'\n') {
        Some(last_newline) => read.bytes.get(..=last_newline).unwrap_or_default(),
        None => &[],
    };
    let next_line = kept.iter().filter(|b| **b == b'\n').count() + 1;
    let mut file = conf_file_from_bytes(path, target, kept);
    file.parsed.skipped.push(Skipped {
        line: next_line,
        reason: format!(
            "file larger than {} MiB: this line and the rest were not read",
            CONF_FILE_MAX >> 20
        ),
        text: String::new(),
    });
    file
}

fn conf_file_from_bytes(path: &str, target: Option<String>, bytes: &[u8]) -> ConfFile {
    let text = String::from_utf8_lossy(bytes);
    // Assignments name the file a user edits: the link target when there is one.
    let shown = target.as_deref().unwrap_or(path);
    let parsed = parse_sysctl_conf_full(&text, shown);
    let empty = parsed.assignments.is_empty() && parsed.exclusions.is_empty();
    ConfFile {
        path: path.to_string(),
        target,
        state: FileState::Applied,
        parsed,
        empty,
    }
}

fn read_conf_file(root: &Path, path: &str) -> ConfFile {
    let unreadable = |target: Option<String>, reason: String| ConfFile {
        path: path.to_string(),
        target,
        state: FileState::Unreadable(reason),
        parsed: ParsedConf::default(),
        empty: false,
    };
    match resolve_in_root(root, path) {
        Ok(Resolved::DevNull) => ConfFile {
            path: path.to_string(),
            target: Some("/dev/null".to_string()),
            state: FileState::MaskLink,
            parsed: ParsedConf::default(),
            empty: true,
        },
        Ok(Resolved::Directory(dir)) => {
            unreadable((dir != path).then_some(dir), "is a directory".to_string())
        }
        Ok(Resolved::File(real)) => {
            let target = (real != path).then_some(real.clone());
            match read_regular_capped(&under_root(root, &real), CONF_FILE_MAX) {
                Ok(read) => conf_file_from_read(path, target, &read),
                Err(e) => unreadable(target, io_reason(&e)),
            }
        }
        Err(reason) => unreadable(None, reason),
    }
}

/// The outcome for one concrete key: the assignment that wins and those it overrode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedKey {
    /// Dotted key (never a pattern).
    pub key: String,
    pub winner: ConfAssignment,
    /// Earlier assignments, in application order.
    pub overrides: Vec<ConfAssignment>,
    /// The glob pattern the winner came from, when it was a glob line.
    pub glob: Option<String>,
}

/// Computes, per key, the assignment the loader leaves in force.
///
/// `expand` lists the existing dotted keys a glob pattern matches (an I/O step the caller does
/// against /proc/sys). Explicitly named keys are never taken by globs, and `-key` lines keep a
/// key out of globs, as both loaders do. Globs that match nothing produce nothing; they are
/// returned in the second list.
pub fn resolve_winners(
    config: &ConfigSet,
    expand: &mut dyn FnMut(&str) -> Vec<String>,
) -> (Vec<ResolvedKey>, Vec<ConfAssignment>) {
    let mut order: Vec<String> = Vec::new();
    let mut explicit: std::collections::HashMap<String, Vec<ConfAssignment>> =
        std::collections::HashMap::new();
    let excluded: std::collections::HashSet<String> =
        config.exclusions().map(|e| e.key.clone()).collect();
    let mut globs: Vec<&ConfAssignment> = Vec::new();
    for assignment in config.assignments() {
        if assignment.is_glob() {
            globs.push(assignment);
            continue;
        }
        let entry = explicit.entry(assignment.key.clone()).or_default();
        if entry.is_empty() {
            order.push(assignment.key.clone());
        }
        entry.push(assignment.clone());
    }
    let mut from_globs: std::collections::HashMap<String, Vec<ConfAssignment>> =
        std::collections::HashMap::new();
    let mut unmatched = Vec::new();
    let mut expansions: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for glob in globs.iter().copied() {
        let matches = expansions
            .entry(glob.key.clone())
            .or_insert_with(|| expand(&glob.key))
            .clone();
        if matches.is_empty() {
            unmatched.push(glob.clone());
        }
        for key in matches {
            if explicit.contains_key(&key) || excluded.contains(&key) {
                continue;
            }
            let entry = from_globs.entry(key.clone()).or_default();
            if entry.is_empty() {
                order.push(key.clone());
            }
            entry.push(glob.clone());
        }
    }
    // The glob line that decides each key. procps applies lines in order, so the last
    // matching line wins. systemd-sysctl keeps one entry per pattern: a repeated pattern with
    // the same value keeps its first position, with another value it moves to the end.
    // Each glob line gets a rank: its place in the application order.
    let mut rank: std::collections::HashMap<(&str, usize), usize> =
        std::collections::HashMap::new();
    let mut pattern_place: std::collections::HashMap<&str, (&str, usize)> =
        std::collections::HashMap::new();
    for (sequence, glob) in globs.iter().enumerate() {
        let place = match pattern_place.get(glob.key.as_str()) {
            Some((value, place))
                if config.loader.kind == LoaderKind::SystemdSysctl && *value == glob.value =>
            {
                *place
            }
            _ => {
                pattern_place.insert(&glob.key, (&glob.value, sequence));
                sequence
            }
        };
        let slot = rank.entry((glob.file.as_str(), glob.line)).or_insert(place);
        *slot = (*slot).max(place);
    }
    let mut resolved = Vec::with_capacity(order.len());
    for key in order {
        let (mut list, from_glob) = match explicit.remove(&key) {
            Some(list) => (list, false),
            None => (from_globs.remove(&key).unwrap_or_default(), true),
        };
        // Explicit keys: the last assignment. Glob keys: the line ranked last.
        let winner_index = if from_glob {
            list.iter()
                .enumerate()
                .max_by_key(|(i, a)| (rank.get(&(a.file.as_str(), a.line)).copied(), *i))
                .map(|(i, _)| i)
        } else {
            list.len().checked_sub(1)
        };
        let Some(winner_index) = winner_index else {
            continue;
        };
        let winner = list.remove(winner_index);
        // The same file line reached twice (Debian's link and procps' own read of
        // /etc/sysctl.conf) is one assignment, not an override.
        list.retain(|a| !(a.file == winner.file && a.line == winner.line));
        resolved.push(ResolvedKey {
            glob: from_glob.then(|| winner.key.clone()),
            key,
            winner,
            overrides: list,
        });
    }
    (resolved, unmatched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_separators_when_first_is_a_dot() {
        assert_eq!(
            normalize_key("net.ipv4.conf.enp3s0/200.forwarding").as_deref(),
            Some("net/ipv4/conf/enp3s0.200/forwarding")
        );
        assert_eq!(
            normalize_key("net/ipv4/conf/enp3s0.200/forwarding").as_deref(),
            Some("net/ipv4/conf/enp3s0.200/forwarding")
        );
        assert_eq!(normalize_key("  "), None);
        assert_eq!(normalize_key("/../../etc/shadow"), None);
        assert_eq!(normalize_key("net/./x"), None);
        assert_eq!(
            path_to_dotted("net/ipv4/conf/enp3s0.200/forwarding"),
            "net.ipv4.conf.enp3s0/200.forwarding"
        );
    }

    #[test]
    fn parses_comments_prefixes_and_crlf() {
        let text = "# c\n; c2\n\r\nnet.core.somaxconn = 4096\r\n-net.ipv4.tcp_bogus=1\n-net.ipv4.conf.lo.rp_filter\nbogus line\nnet/ipv4/tcp_mem = 1 2 3";
        let parsed = parse_sysctl_conf_full(text, "/etc/x.conf");
        assert_eq!(parsed.assignments.len(), 3);
        assert_eq!(parsed.assignments[0].key, "net.core.somaxconn");
        assert_eq!(parsed.assignments[0].value, "4096");
        assert_eq!(parsed.assignments[0].line, 4);
        assert!(parsed.assignments[1].ignore_failure);
        assert_eq!(parsed.assignments[2].key, "net.ipv4.tcp_mem");
        assert_eq!(parsed.assignments[2].value, "1 2 3");
        assert_eq!(parsed.exclusions.len(), 1);
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].line, 7);
    }
}
