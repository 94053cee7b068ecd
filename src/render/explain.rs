//! Rendering of `netdoctor explain`: a knowledge-base lookup as human text or as JSON
//! (schema `netdoctor.explain/v1`, documented in docs/explain.md).
//!
//! One match is printed in full; several are listed one per line with their summary, so the
//! user can pick one; no match prints the suggestions.

use serde_json::{Value, json};

use super::Style;
use crate::kb::{CounterEntry, Entry, FindingEntry, Lookup, MatchKind, SysctlEntry, VersionRange};

/// JSON schema id of `netdoctor explain --json`.
pub const SCHEMA: &str = "netdoctor.explain/v1";

/// Text width for wrapped paragraphs.
const WIDTH: usize = 96;

/// The human text for a lookup (without the "nothing matched" error, which goes to stderr).
pub fn text(lookup: &Lookup, style: Style) -> String {
    match lookup.entries.as_slice() {
        [] => String::new(),
        [one] => entry_text(one, style),
        many => {
            let mut out = format!(
                "{} entries match \"{}\" ({}):\n\n",
                many.len(),
                lookup.term.trim(),
                how(lookup.kind)
            );
            let width = many.iter().map(|e| e.name().len()).max().unwrap_or(0);
            for entry in many {
                let summary = match entry {
                    Entry::Counter(c) => c.summary,
                    Entry::Sysctl(s) => s.summary,
                    Entry::Finding(f) => f.title,
                };
                out.push_str(&format!(
                    "  {}{}  {}\n",
                    style.bold(entry.name()),
                    " ".repeat(width - entry.name().len()),
                    summary
                ));
            }
            out.push_str(&format!(
                "\n{}\n",
                style.dim(
                    "Run `netdoctor explain NAME` with one of these names for the full entry."
                )
            ));
            out
        }
    }
}

/// The message for a term nothing matched, with suggestions when there are any.
pub fn not_found(lookup: &Lookup) -> String {
    let mut out = format!(
        "netdoctor explain: nothing in the knowledge base matches \"{}\".\n",
        lookup.term.trim()
    );
    if lookup.suggestions.is_empty() {
        out.push_str(
            "Try a counter name (TcpExtListenDrops), a field (ListenDrops), a netstat -s phrase \
             (\"SYNs to LISTEN sockets dropped\"), a sysctl (net.core.somaxconn) or a finding id.\n",
        );
    } else {
        out.push_str("Did you mean:\n");
        for s in &lookup.suggestions {
            out.push_str(&format!("  {s}\n"));
        }
    }
    out
}

/// The JSON document for a lookup.
pub fn json(lookup: &Lookup) -> Value {
    json!({
        "schema": SCHEMA,
        "term": lookup.term,
        "match": lookup.kind.as_str(),
        "results": lookup.entries.iter().map(entry_json).collect::<Vec<_>>(),
        "suggestions": lookup.suggestions,
    })
}

fn how(kind: MatchKind) -> &'static str {
    match kind {
        MatchKind::FindingId => "finding id",
        MatchKind::SysctlKey => "sysctl key",
        MatchKind::CounterName => "counter name",
        MatchKind::Field => "field name in several sections",
        MatchKind::SysctlName => "sysctl name",
        MatchKind::Phrase => "netstat -s wording shared by several counters",
        MatchKind::PhraseFragment => "part of a netstat -s wording",
        MatchKind::Nothing => "no match",
    }
}

fn entry_text(entry: &Entry, style: Style) -> String {
    match entry {
        Entry::Counter(c) => counter_text(c, style),
        Entry::Sysctl(s) => sysctl_text(s, style),
        Entry::Finding(f) => finding_text(f, style),
    }
}

fn counter_text(c: &CounterEntry, style: Style) -> String {
    let mut out = String::new();
    let kind = if c.kind == "gauge" {
        "gauge (a level, not a running count)"
    } else {
        "counter"
    };
    out.push_str(&format!("{}  {}\n", style.bold(c.name), style.dim(kind)));
    out.push_str(&wrap(c.summary, 2));
    out.push('\n');
    out.push_str(&format!(
        "  {} {}   {} {}   {} {}\n",
        style.dim("file"),
        c.file,
        style.dim("section"),
        c.section,
        style.dim("field"),
        c.field
    ));
    heading(&mut out, style, "netstat -s");
    if c.phrases.is_empty() {
        let raw = match c.netstat_section {
            Some(section) => format!(
                "  no wording: netstat prints it raw as \"{}: N\" under \"{section}\" when it is not zero\n",
                netstat_raw_name(c)
            ),
            None => "  not printed by netstat -s\n".to_string(),
        };
        out.push_str(&raw);
    } else {
        if let Some(section) = c.netstat_section {
            out.push_str(&format!(
                "  under \"{section}\", in any of these wordings:\n"
            ));
        }
        for phrase in c.phrases {
            out.push_str(&format!("    {}\n", show_phrase(phrase)));
        }
    }
    paragraph(&mut out, style, "What it counts", c.meaning);
    paragraph(&mut out, style, "When it rises", c.when_rising);
    inline_list(&mut out, style, "Related sysctls", c.sysctls);
    inline_list(&mut out, style, "Related counters", c.related);
    heading(&mut out, style, "Kernel versions");
    out.push_str(&format!("  {}\n", versions(&c.versions)));
    out
}

/// The name netstat uses in its raw fallback line: the field for /proc/net/snmp and netstat
/// sections, the full name for snmp6 lines.
fn netstat_raw_name(c: &CounterEntry) -> &'static str {
    if c.file.ends_with("snmp6") {
        c.name
    } else {
        c.field
    }
}

fn sysctl_text(s: &SysctlEntry, style: Style) -> String {
    let mut out = String::new();
    let scope = if s.per_netns {
        "sysctl, per network namespace"
    } else {
        "sysctl, global to the host"
    };
    out.push_str(&format!("{}  {}\n", style.bold(s.key), style.dim(scope)));
    out.push_str(&wrap(s.summary, 2));
    out.push('\n');
    out.push_str(&format!(
        "  {} /proc/sys/{}\n",
        style.dim("file"),
        s.key.replace('.', "/")
    ));
    out.push_str(&format!("  {} {}\n", style.dim("unit"), s.unit));
    out.push_str(&wrap(&format!("range: {}", s.range), 2).replacen(
        "range:",
        &style.dim("range"),
        1,
    ));
    paragraph(&mut out, style, "What it does", s.meaning);
    heading(&mut out, style, "Default by kernel version");
    for (i, d) in s.defaults.iter().enumerate() {
        let when = match (d.since, s.defaults.get(i + 1).and_then(|next| next.since)) {
            (None, Some(next)) => format!("before {next}"),
            (None, None) => "all versions".to_string(),
            (Some(since), _) => format!("since {since}"),
        };
        let value = if d.literal {
            d.value.to_string()
        } else {
            format!("{} (computed)", d.value)
        };
        let label = format!("  {when:<14} ");
        out.push_str(&label);
        out.push_str(wrap(&value, label.len()).trim_start_matches(' '));
    }
    paragraph(&mut out, style, "What goes wrong", s.risks);
    paragraph(&mut out, style, "History", s.history);
    inline_list(&mut out, style, "Related counters", s.counters);
    heading(&mut out, style, "Kernel versions");
    out.push_str(&format!("  {}\n", versions(&s.versions)));
    out
}

fn finding_text(f: &FindingEntry, style: Style) -> String {
    let mut out = String::new();
    out.push_str(&format!("{}  {}\n", style.bold(f.id), style.dim("finding")));
    out.push_str(&wrap(f.title, 2));
    paragraph(&mut out, style, "What it means", f.meaning);
    list(&mut out, style, "What it reads", f.reads);
    paragraph(&mut out, style, "Thresholds", f.thresholds);
    paragraph(&mut out, style, "Why it happens", f.why);
    heading(&mut out, style, "What to do");
    for (i, step) in f.remedy.iter().enumerate() {
        let number = format!("  {}. ", i + 1);
        let text = wrap(step, number.len());
        out.push_str(&number);
        out.push_str(text.trim_start_matches(' '));
    }
    list(&mut out, style, "References", f.references);
    out
}

fn entry_json(entry: &Entry) -> Value {
    match entry {
        Entry::Counter(c) => json!({
            "kind": "counter",
            "name": c.name,
            "section": c.section,
            "field": c.field,
            "file": c.file,
            "netstat_section": c.netstat_section,
            "phrases": c.phrases,
            "summary": c.summary,
            "meaning": c.meaning,
            "when_rising": c.when_rising,
            "sysctls": c.sysctls,
            "related": c.related,
            "since": c.versions.since,
            "removed": c.versions.removed,
            "value_kind": c.kind,
            "is_error": c.is_error,
        }),
        Entry::Sysctl(s) => json!({
            "kind": "sysctl",
            "key": s.key,
            "summary": s.summary,
            "meaning": s.meaning,
            "unit": s.unit,
            "range": s.range,
            "defaults": s.defaults.iter().map(|d| json!({
                "since": d.since,
                "value": d.value,
                "literal": d.literal,
            })).collect::<Vec<_>>(),
            "risks": s.risks,
            "history": s.history,
            "since": s.versions.since,
            "removed": s.versions.removed,
            "per_netns": s.per_netns,
            "counters": s.counters,
        }),
        Entry::Finding(f) => json!({
            "kind": "finding",
            "id": f.id,
            "title": f.title,
            "meaning": f.meaning,
            "reads": f.reads,
            "thresholds": f.thresholds,
            "why": f.why,
            "remedy": f.remedy,
            "references": f.references,
        }),
    }
}

fn versions(v: &VersionRange) -> String {
    match (v.since, v.removed) {
        (Some(since), Some(removed)) => format!("since {since}, removed in {removed}"),
        (Some(since), None) => format!("since {since}, still present"),
        (None, Some(removed)) => format!("removed in {removed} (first version not recorded)"),
        (None, None) => "present in current kernels (first version not recorded)".to_string(),
    }
}

/// A phrase as netstat prints it, with N where the number stands.
fn show_phrase(phrase: &str) -> String {
    phrase.replace("{n}", "N").replace("{s}", "<word>")
}

fn heading(out: &mut String, style: Style, title: &str) {
    out.push('\n');
    out.push_str(&style.cyan(title));
    out.push('\n');
}

fn paragraph(out: &mut String, style: Style, title: &str, body: &str) {
    heading(out, style, title);
    for (i, para) in body.split("\n\n").enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&wrap(para, 2));
    }
}

fn list(out: &mut String, style: Style, title: &str, items: &[&str]) {
    if items.is_empty() {
        return;
    }
    heading(out, style, title);
    for item in items {
        out.push_str(&wrap(item, 2));
    }
}

/// A titled list of names on as few lines as the width allows.
fn inline_list(out: &mut String, style: Style, title: &str, items: &[&str]) {
    if items.is_empty() {
        return;
    }
    heading(out, style, title);
    out.push_str(&wrap(&items.join(", "), 2));
}

/// Wraps text at `WIDTH` columns with `indent` spaces in front of every line; explicit line
/// breaks in the text are kept.
fn wrap(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    for source_line in text.lines() {
        let mut line = String::new();
        for word in source_line.split_whitespace() {
            if !line.is_empty() && indent + line.len() + 1 + word.len() > WIDTH {
                out.push_str(&pad);
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&pad);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_respects_width_and_indent() {
        let text = "word ".repeat(60);
        let wrapped = wrap(&text, 2);
        assert!(
            wrapped
                .lines()
                .all(|l| l.len() <= WIDTH && l.starts_with("  "))
        );
        assert_eq!(wrapped.split_whitespace().count(), 60);
    }

    #[test]
    fn phrases_show_the_number_as_n() {
        assert_eq!(
            show_phrase("{n} SYNs to LISTEN sockets dropped"),
            "N SYNs to LISTEN sockets dropped"
        );
        assert_eq!(show_phrase("Forwarding is {s}"), "Forwarding is <word>");
    }

    #[test]
    fn json_has_the_schema_and_the_match_kind() {
        let lookup = crate::kb::lookup("TcpRetransSegs");
        let doc = json(&lookup);
        assert_eq!(doc["schema"], SCHEMA);
        assert_eq!(doc["match"], "counter_name");
        assert_eq!(doc["results"][0]["name"], "TcpRetransSegs");
    }
}
