//! Build script: turns the knowledge base (kb/*.toml) into static Rust data.
//!
//! Reads `kb/counters/*.toml`, `kb/sysctls.toml`, `kb/findings/*.toml` and the ICMP type-name
//! table `kb/icmp_types.toml`, checks every entry (required fields, unique names, keys and ids,
//! `name == section + field`, one placeholder per netstat phrase, known kinds and sections) and
//! writes `$OUT_DIR/kb_generated.rs` with `COUNTERS`, `SYSCTLS` and `FINDINGS` as literal data.
//!
//! Every problem is reported with the file and the entry it was found in, all at once, and the
//! build fails. Warnings (a related counter or sysctl the knowledge base does not know) are shown
//! as cargo warnings and do not fail the build, because the files are written by several people
//! at the same time and a reference may land before its target.
//!
//! The ICMP per-type counters (`IcmpMsgInType3`, `Icmp6OutType135`, any type 0..=255) are
//! generated here from the type-name table, so every name the kernel can print has an entry;
//! an explicit `[[counter]]` with the same name replaces the generated one.

use std::collections::{BTreeMap, BTreeSet};
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Sections a counter may belong to: the kernel's own (/proc/net/snmp, netstat, snmp6, sctp)
/// and the two derived ones (softnet_stat, nf_conntrack).
const KNOWN_SECTIONS: &[&str] = &[
    "Ip",
    "Icmp",
    "IcmpMsg",
    "Tcp",
    "Udp",
    "UdpLite",
    "TcpExt",
    "IpExt",
    "MPTcpExt",
    "Ip6",
    "Icmp6",
    "Udp6",
    "UdpLite6",
    "Sctp",
    "Softnet",
    "Conntrack",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CounterToml {
    name: String,
    section: String,
    field: String,
    file: String,
    #[serde(default)]
    netstat_section: Option<String>,
    #[serde(default)]
    phrases: Vec<String>,
    summary: String,
    meaning: String,
    when_rising: String,
    #[serde(default)]
    sysctls: Vec<String>,
    #[serde(default)]
    related: Vec<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    removed: Option<String>,
    kind: String,
    #[serde(default)]
    is_error: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SysctlToml {
    key: String,
    summary: String,
    meaning: String,
    unit: String,
    range: String,
    defaults: Vec<DefaultToml>,
    risks: String,
    history: String,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    removed: Option<String>,
    per_netns: bool,
    #[serde(default)]
    counters: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultToml {
    #[serde(default)]
    since: Option<String>,
    value: String,
    #[serde(default = "yes")]
    literal: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingToml {
    id: String,
    title: String,
    meaning: String,
    reads: Vec<String>,
    thresholds: String,
    why: String,
    remedy: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IcmpTypeFile {
    #[serde(default)]
    icmp: Vec<IcmpTypeToml>,
    #[serde(default)]
    icmp6: Vec<IcmpTypeToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IcmpTypeToml {
    #[serde(rename = "type")]
    number: u8,
    name: String,
    /// Field stem of the named counter in the Icmp / Icmp6 section for this type
    /// ("DestUnreachs" → IcmpInDestUnreachs), when there is one.
    #[serde(default)]
    named: Option<String>,
    /// True for error messages (destination unreachable, time exceeded ...).
    #[serde(default)]
    error: bool,
    /// What a rise of this type usually means, in our words.
    #[serde(default)]
    note: Option<String>,
}

/// Collected problems; the build fails when `errors` is not empty.
#[derive(Default)]
struct Report {
    errors: Vec<String>,
    warnings: Vec<String>,
}

impl Report {
    fn error(&mut self, file: &Path, entry: &str, message: impl AsRef<str>) {
        self.errors
            .push(format!("{}: {entry}: {}", file.display(), message.as_ref()));
    }
    fn warn(&mut self, file: &Path, entry: &str, message: impl AsRef<str>) {
        self.warnings
            .push(format!("{}: {entry}: {}", file.display(), message.as_ref()));
    }
}

/// A counter after validation, ready to be written out, with the file it came from.
struct Counter {
    origin: PathBuf,
    data: CounterToml,
}

fn main() {
    println!("cargo:rerun-if-changed=kb");
    println!("cargo:rerun-if-changed=build.rs");
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let kb = root.join("kb");
    let mut report = Report::default();

    let mut counters = load_counters(&kb, &mut report);
    let sysctls = load_sysctls(&kb, &mut report);
    let findings = load_findings(&kb, &mut report);
    add_icmp_type_counters(&kb, &mut counters, &mut report);
    cross_check(&counters, &sysctls, &mut report);

    const SHOWN_WARNINGS: usize = 12;
    if !report.errors.is_empty() {
        report.warnings.clear(); // references into a broken file would only be noise
    }
    for warning in report.warnings.iter().take(SHOWN_WARNINGS) {
        println!("cargo:warning=knowledge base: {warning}");
    }
    if report.warnings.len() > SHOWN_WARNINGS {
        println!(
            "cargo:warning=knowledge base: ... and {} more unresolved references",
            report.warnings.len() - SHOWN_WARNINGS
        );
    }
    if !report.errors.is_empty() {
        eprintln!(
            "error: the knowledge base has {} problem(s):",
            report.errors.len()
        );
        for error in &report.errors {
            eprintln!("  {error}");
        }
        std::process::exit(1);
    }

    let code = generate(&counters, &sysctls, &findings);
    let out =
        PathBuf::from(env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("kb_generated.rs");
    if let Err(e) = fs::write(&out, code) {
        eprintln!("error: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}

/// The `*.toml` files of a folder, sorted by name; an absent folder is empty.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// Reads the `[[table]]` array of a file entry by entry, so that a bad entry is reported by
/// its own name (`id_key`, or its position) and does not hide the others.
fn read_entries<T: for<'de> Deserialize<'de>>(
    path: &Path,
    table: &str,
    id_key: &str,
    report: &mut Report,
) -> Vec<T> {
    let Some(doc) = read_toml::<toml::Table>(path, report) else {
        return Vec::new();
    };
    for key in doc.keys() {
        if key != table {
            report.error(
                path,
                "(file)",
                format!("unexpected top-level key `{key}` (only [[{table}]] tables belong here)"),
            );
        }
    }
    let Some(value) = doc.get(table) else {
        return Vec::new();
    };
    let Some(items) = value.as_array() else {
        report.error(
            path,
            "(file)",
            format!("`{table}` must be an array of [[{table}]] tables"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let entry = match item.get(id_key).and_then(|v| v.as_str()) {
            Some(id) => format!("{table} {id}"),
            None => format!("[[{table}]] #{}", index + 1),
        };
        match item.clone().try_into::<T>() {
            Ok(parsed) => out.push(parsed),
            Err(e) => report.error(path, &entry, e.to_string().trim().replace('\n', " ")),
        }
    }
    out
}

fn read_toml<T: for<'de> Deserialize<'de>>(path: &Path, report: &mut Report) -> Option<T> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.error(path, "(file)", format!("cannot read: {e}"));
            return None;
        }
    };
    match toml::from_str::<T>(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            let message = e.to_string().replace('\n', "\n    ");
            report.error(path, "(file)", format!("not valid: {message}"));
            None
        }
    }
}

fn load_counters(kb: &Path, report: &mut Report) -> Vec<Counter> {
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut out = Vec::new();
    for path in toml_files(&kb.join("counters")) {
        let entries: Vec<CounterToml> = read_entries(&path, "counter", "name", report);
        for (index, mut c) in entries.into_iter().enumerate() {
            let entry = if c.name.trim().is_empty() {
                format!("[[counter]] #{}", index + 1)
            } else {
                format!("counter {}", c.name)
            };
            check_counter(&path, &entry, &c, report);
            if let Some(first) = seen.get(&c.name) {
                report.error(
                    &path,
                    &entry,
                    format!("duplicate name (first in {})", first.display()),
                );
            } else {
                seen.insert(c.name.clone(), path.clone());
            }
            c.summary = reflow(&c.summary);
            c.meaning = reflow(&c.meaning);
            c.when_rising = reflow(&c.when_rising);
            out.push(Counter {
                origin: path.clone(),
                data: c,
            });
        }
    }
    out
}

fn check_counter(path: &Path, entry: &str, c: &CounterToml, report: &mut Report) {
    for (field, value) in [
        ("name", &c.name),
        ("section", &c.section),
        ("field", &c.field),
        ("file", &c.file),
        ("summary", &c.summary),
        ("meaning", &c.meaning),
        ("when_rising", &c.when_rising),
    ] {
        if value.trim().is_empty() {
            report.error(path, entry, format!("`{field}` is empty"));
        }
    }
    if format!("{}{}", c.section, c.field) != c.name {
        report.error(
            path,
            entry,
            format!(
                "name must be section + field (\"{}\" + \"{}\")",
                c.section, c.field
            ),
        );
    }
    if !KNOWN_SECTIONS.contains(&c.section.as_str()) {
        report.error(
            path,
            entry,
            format!(
                "unknown section \"{}\" (known: {})",
                c.section,
                KNOWN_SECTIONS.join(", ")
            ),
        );
    }
    if !c
        .name
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
    {
        report.error(path, entry, "name may hold only letters, digits and `_`");
    }
    if c.kind != "counter" && c.kind != "gauge" {
        report.error(
            path,
            entry,
            format!("kind must be \"counter\" or \"gauge\", not \"{}\"", c.kind),
        );
    }
    if !c.file.starts_with('/') {
        report.error(path, entry, "file must be an absolute /proc path");
    }
    let mut phrase_seen = BTreeSet::new();
    for phrase in &c.phrases {
        if let Err(why) = check_phrase(phrase) {
            report.error(path, entry, format!("phrase {phrase:?}: {why}"));
        }
        if !phrase_seen.insert(phrase.as_str()) {
            report.error(path, entry, format!("phrase {phrase:?} listed twice"));
        }
    }
    if let Some(section) = &c.netstat_section
        && !section.ends_with(':')
    {
        report.error(
            path,
            entry,
            "netstat_section is a header as netstat prints it, ending in `:`",
        );
    }
    for version in [&c.since, &c.removed].into_iter().flatten() {
        if !is_version(version) {
            report.error(
                path,
                entry,
                format!("version {version:?} is not like \"4.12\""),
            );
        }
    }
}

/// A phrase holds exactly one placeholder: `{n}` for the number, or `{s}` for the word that the
/// three static lines print ("Forwarding is {s}"). No other braces.
fn check_phrase(phrase: &str) -> Result<(), String> {
    if phrase.trim().is_empty() {
        return Err("empty".into());
    }
    if phrase.trim() != phrase {
        return Err("leading or trailing whitespace".into());
    }
    let numbers = phrase.matches("{n}").count();
    let words = phrase.matches("{s}").count();
    if numbers + words != 1 {
        return Err(format!(
            "needs exactly one placeholder `{{n}}` (or `{{s}}`), found {}",
            numbers + words
        ));
    }
    let rest = phrase.replace("{n}", "").replace("{s}", "");
    if rest.contains('{') || rest.contains('}') {
        return Err("stray brace: only `{n}` and `{s}` are placeholders".into());
    }
    if rest.contains('%') {
        return Err("printf conversions (%llu) are written `{n}`".into());
    }
    Ok(())
}

fn is_version(v: &str) -> bool {
    !v.is_empty()
        && v.split('.').count() <= 4
        && v.split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
}

fn load_sysctls(kb: &Path, report: &mut Report) -> Vec<(PathBuf, SysctlToml)> {
    let path = kb.join("sysctls.toml");
    if !path.exists() {
        return Vec::new();
    }
    let entries: Vec<SysctlToml> = read_entries(&path, "sysctl", "key", report);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (index, mut s) in entries.into_iter().enumerate() {
        let entry = if s.key.trim().is_empty() {
            format!("[[sysctl]] #{}", index + 1)
        } else {
            format!("sysctl {}", s.key)
        };
        for (field, value) in [
            ("key", &s.key),
            ("summary", &s.summary),
            ("meaning", &s.meaning),
            ("unit", &s.unit),
            ("range", &s.range),
            ("risks", &s.risks),
            ("history", &s.history),
        ] {
            if value.trim().is_empty() {
                report.error(&path, &entry, format!("`{field}` is empty"));
            }
        }
        if !s.key.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '*' | '-')
        }) || s.key.starts_with('.')
            || s.key.ends_with('.')
            || s.key.contains("..")
        {
            report.error(
                &path,
                &entry,
                "key must be dotted lowercase (`net.core.somaxconn`, `*` for an interface)",
            );
        }
        if s.defaults.is_empty() {
            report.error(&path, &entry, "`defaults` needs at least one value");
        }
        for d in &s.defaults {
            if d.value.trim().is_empty() {
                report.error(&path, &entry, "a default has an empty value");
            }
        }
        for version in [&s.since, &s.removed]
            .into_iter()
            .flatten()
            .chain(s.defaults.iter().filter_map(|d| d.since.as_ref()))
        {
            if !is_version(version) {
                report.error(
                    &path,
                    &entry,
                    format!("version {version:?} is not like \"4.12\""),
                );
            }
        }
        if !seen.insert(s.key.clone()) {
            report.error(&path, &entry, "duplicate key");
        }
        s.summary = reflow(&s.summary);
        s.meaning = reflow(&s.meaning);
        s.risks = reflow(&s.risks);
        s.history = reflow(&s.history);
        out.push((path.clone(), s));
    }
    out
}

fn load_findings(kb: &Path, report: &mut Report) -> Vec<FindingToml> {
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut out = Vec::new();
    for path in toml_files(&kb.join("findings")) {
        let entries: Vec<FindingToml> = read_entries(&path, "finding", "id", report);
        for (index, mut f) in entries.into_iter().enumerate() {
            let entry = if f.id.trim().is_empty() {
                format!("[[finding]] #{}", index + 1)
            } else {
                format!("finding {}", f.id)
            };
            for (field, value) in [
                ("id", &f.id),
                ("title", &f.title),
                ("meaning", &f.meaning),
                ("thresholds", &f.thresholds),
                ("why", &f.why),
            ] {
                if value.trim().is_empty() {
                    report.error(&path, &entry, format!("`{field}` is empty"));
                }
            }
            if !f
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                report.error(
                    &path,
                    &entry,
                    "id must be lowercase words joined by `-` (`listen-overflow`)",
                );
            }
            if f.reads.is_empty() {
                report.error(&path, &entry, "`reads` must name what the rule reads");
            }
            if f.remedy.is_empty() {
                report.error(&path, &entry, "`remedy` needs at least one step");
            }
            if let Some(first) = seen.get(&f.id) {
                report.error(
                    &path,
                    &entry,
                    format!("duplicate id (first in {})", first.display()),
                );
            } else {
                seen.insert(f.id.clone(), path.clone());
            }
            f.title = reflow(&f.title);
            f.meaning = reflow(&f.meaning);
            f.thresholds = reflow(&f.thresholds);
            f.why = reflow(&f.why);
            f.remedy = f.remedy.iter().map(|r| reflow(r)).collect();
            out.push(f);
        }
    }
    out
}

/// Adds an entry for every ICMP type (0..=255) in both directions, for IPv4 (`IcmpMsg`) and
/// IPv6 (`Icmp6`), unless a counter file already has one with that name.
fn add_icmp_type_counters(kb: &Path, counters: &mut Vec<Counter>, report: &mut Report) {
    let path = kb.join("icmp_types.toml");
    let Some(table) = read_toml::<IcmpTypeFile>(&path, report) else {
        return;
    };
    for (list, family) in [(&table.icmp, "icmp"), (&table.icmp6, "icmp6")] {
        let mut seen = BTreeSet::new();
        for t in list {
            if !seen.insert(t.number) {
                report.error(
                    &path,
                    &format!("{family} type {}", t.number),
                    "listed twice",
                );
            }
            if t.name.trim().is_empty() {
                report.error(&path, &format!("{family} type {}", t.number), "empty name");
            }
        }
    }
    let explicit: BTreeSet<String> = counters.iter().map(|c| c.data.name.clone()).collect();
    for v6 in [false, true] {
        let list = if v6 { &table.icmp6 } else { &table.icmp };
        for number in 0..=255u8 {
            let known = list.iter().find(|t| t.number == number);
            for inbound in [true, false] {
                let c = icmp_type_counter(v6, inbound, number, known);
                if !explicit.contains(&c.name) {
                    counters.push(Counter {
                        origin: path.clone(),
                        data: c,
                    });
                }
            }
        }
    }
}

/// One generated ICMP per-type counter entry.
fn icmp_type_counter(
    v6: bool,
    inbound: bool,
    number: u8,
    known: Option<&IcmpTypeToml>,
) -> CounterToml {
    let (section, file, family, netstat_section) = if v6 {
        (
            "Icmp6",
            "/proc/net/snmp6",
            "ICMPv6",
            Some("Icmp6:".to_string()),
        )
    } else {
        (
            "IcmpMsg",
            "/proc/net/snmp",
            "ICMP",
            Some("IcmpMsg:".to_string()),
        )
    };
    let direction = if inbound { "In" } else { "Out" };
    let field = format!("{direction}Type{number}");
    let type_name = known.map_or_else(
        || "unassigned or experimental type".to_string(),
        |t| t.name.clone(),
    );
    let summary = if inbound {
        format!("{family} type {number} ({type_name}) messages received")
    } else {
        format!("{family} type {number} ({type_name}) messages sent")
    };
    let how = if v6 {
        "The kernel keeps one in and one out counter for each of the 256 ICMPv6 types and lists, \
         in /proc/net/snmp6, the per-type lines whose value is not zero."
    } else {
        "The kernel keeps one in and one out counter for each of the 256 ICMP types and prints an \
         IcmpMsg column only for types whose count is not zero (16 columns per header line), so \
         the column appears the first time such a message passes."
    };
    let what = if inbound {
        format!(
            "Counts {family} messages of type {number} ({type_name}) that arrived at this host's \
             {family} layer, whatever their code."
        )
    } else {
        format!(
            "Counts {family} messages of type {number} ({type_name}) that this host sent, \
             whatever their code."
        )
    };
    let netstat = if v6 {
        "netstat -s -6 prints it raw as `"
    } else {
        "netstat -s prints it raw, under `IcmpMsg:`, as `"
    };
    let meaning = format!(
        "{what} {how} {netstat}{}{field}: N` when it is not zero.",
        if v6 { "Icmp6" } else { "" }
    );
    let when_rising = match known.and_then(|t| t.note.clone()) {
        Some(note) => note,
        None => format!(
            "Usually not a problem in itself. To see who exchanges these messages, capture them: \
             `tcpdump -n '{}'`.",
            if v6 {
                format!("icmp6 and ip6[40] == {number}")
            } else {
                format!("icmp[0] == {number}")
            }
        ),
    };
    let related = known
        .and_then(|t| t.named.clone())
        .map(|stem| {
            let prefix = if v6 { "Icmp6" } else { "Icmp" };
            vec![format!("{prefix}{direction}{stem}")]
        })
        .unwrap_or_default();
    CounterToml {
        name: format!("{section}{field}"),
        section: section.to_string(),
        field,
        file: file.to_string(),
        netstat_section,
        phrases: Vec::new(),
        summary,
        meaning,
        when_rising,
        sysctls: Vec::new(),
        related,
        since: None,
        removed: None,
        kind: "counter".to_string(),
        is_error: known.is_some_and(|t| t.error),
    }
}

/// Warns about references to counters or sysctls the knowledge base does not hold.
fn cross_check(counters: &[Counter], sysctls: &[(PathBuf, SysctlToml)], report: &mut Report) {
    let names: BTreeSet<&str> = counters.iter().map(|c| c.data.name.as_str()).collect();
    let keys: Vec<&str> = sysctls.iter().map(|(_, s)| s.key.as_str()).collect();
    let known_key = |key: &str| keys.iter().any(|k| *k == key || wildcard_matches(k, key));
    for c in counters {
        let entry = format!("counter {}", c.data.name);
        for r in &c.data.related {
            if !names.contains(r.as_str()) {
                report.warn(
                    &c.origin,
                    &entry,
                    format!("related counter {r} is not in the KB"),
                );
            }
        }
        for s in &c.data.sysctls {
            if !known_key(s) {
                report.warn(&c.origin, &entry, format!("sysctl {s} is not in the KB"));
            }
        }
    }
    for (path, s) in sysctls {
        let entry = format!("sysctl {}", s.key);
        for c in &s.counters {
            if !names.contains(c.as_str()) {
                report.warn(path, &entry, format!("counter {c} is not in the KB"));
            }
        }
    }
}

fn wildcard_matches(pattern: &str, key: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    p.len() == k.len() && p.iter().zip(&k).all(|(a, b)| *a == "*" || a == b)
}

/// Joins the hard-wrapped lines of a TOML text into paragraphs: single line breaks become
/// spaces, blank lines separate paragraphs (kept as "\n\n"), and lines that start a list item
/// (`- `, `* `, `1. `) keep their own line.
fn reflow(text: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.trim().lines() {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        let starts_item = line.starts_with("- ")
            || line.starts_with("* ")
            || line
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if !current.is_empty() {
            current.push(if starts_item { '\n' } else { ' ' });
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs.join("\n\n")
}

fn opt(value: &Option<String>) -> String {
    match value {
        Some(v) => format!("Some({v:?})"),
        None => "None".to_string(),
    }
}

fn list(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("&[{}]", items.join(", "))
}

fn generate(
    counters: &[Counter],
    sysctls: &[(PathBuf, SysctlToml)],
    findings: &[FindingToml],
) -> String {
    let mut code = String::new();
    code.push_str("// Generated by build.rs from kb/*.toml. Do not edit.\n\n");
    let _ = writeln!(code, "pub static COUNTERS: &[CounterEntry] = &[");
    for Counter { data: c, .. } in counters {
        let _ = writeln!(
            code,
            "    CounterEntry {{ name: {:?}, section: {:?}, field: {:?}, file: {:?}, phrases: {}, \
             netstat_section: {}, summary: {:?}, meaning: {:?}, when_rising: {:?}, sysctls: {}, \
             related: {}, versions: VersionRange {{ since: {}, removed: {} }}, kind: {:?}, \
             is_error: {} }},",
            c.name,
            c.section,
            c.field,
            c.file,
            list(&c.phrases),
            opt(&c.netstat_section),
            c.summary,
            c.meaning,
            c.when_rising,
            list(&c.sysctls),
            list(&c.related),
            opt(&c.since),
            opt(&c.removed),
            c.kind,
            c.is_error
        );
    }
    code.push_str("];\n\n");
    // Positions in COUNTERS sorted by name, for binary search.
    let mut order: Vec<(&str, usize)> = counters
        .iter()
        .enumerate()
        .map(|(i, c)| (c.data.name.as_str(), i))
        .collect();
    order.sort();
    let _ = writeln!(code, "pub static COUNTER_INDEX: &[(&str, usize)] = &[");
    for (name, i) in order {
        let _ = writeln!(code, "    ({name:?}, {i}),");
    }
    code.push_str("];\n\n");
    let _ = writeln!(code, "pub static SYSCTLS: &[SysctlEntry] = &[");
    for (_, s) in sysctls {
        let defaults: Vec<String> = s
            .defaults
            .iter()
            .map(|d| {
                format!(
                    "SysctlDefault {{ since: {}, value: {:?}, literal: {} }}",
                    opt(&d.since),
                    d.value,
                    d.literal
                )
            })
            .collect();
        let _ = writeln!(
            code,
            "    SysctlEntry {{ key: {:?}, summary: {:?}, meaning: {:?}, unit: {:?}, range: {:?}, \
             defaults: &[{}], risks: {:?}, history: {:?}, versions: VersionRange {{ since: {}, \
             removed: {} }}, per_netns: {}, counters: {} }},",
            s.key,
            s.summary,
            s.meaning,
            s.unit,
            s.range,
            defaults.join(", "),
            s.risks,
            s.history,
            opt(&s.since),
            opt(&s.removed),
            s.per_netns,
            list(&s.counters)
        );
    }
    code.push_str("];\n\n");
    let _ = writeln!(code, "pub static FINDINGS: &[FindingEntry] = &[");
    for f in findings {
        let _ = writeln!(
            code,
            "    FindingEntry {{ id: {:?}, title: {:?}, meaning: {:?}, reads: {}, thresholds: {:?}, \
             why: {:?}, remedy: {}, references: {} }},",
            f.id,
            f.title,
            f.meaning,
            list(&f.reads),
            f.thresholds,
            f.why,
            list(&f.remedy),
            list(&f.references)
        );
    }
    code.push_str("];\n");
    code
}
