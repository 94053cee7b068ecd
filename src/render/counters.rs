//! Output of `netdoctor counters`: a readable table for humans, and the
//! `netdoctor.counters/v1` JSON document.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Style, rate, thousands};
use crate::snapshot::{CounterValue, Origin, Skipped};

/// JSON schema id of the counters document.
pub const COUNTERS_SCHEMA: &str = "netdoctor.counters/v1";

/// One counter row as it will be shown.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterRow {
    pub name: String,
    pub section: String,
    pub value: CounterValue,
    /// Present with two samples (None when new or reset).
    pub delta: Option<CounterValue>,
    pub per_second: Option<f64>,
    /// The counter went down between the samples.
    pub reset: bool,
    /// The netstat -s wording, without the number, when the knowledge base has one.
    pub phrase: Option<String>,
}

/// A source that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub name: String,
    pub path: String,
    pub reason: String,
}

/// What was skipped while parsing a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedPart {
    pub source: String,
    pub skipped: Skipped,
}

/// Everything the counters output shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CountersView {
    pub origin: Origin,
    pub kernel: Option<String>,
    /// Measured seconds between the two samples, when `--interval` was given.
    pub interval_s: Option<f64>,
    /// `--interval` was given (even if the source had no clock to time the samples by).
    pub interval_requested: bool,
    pub rows: Vec<CounterRow>,
    /// How many counters there were before filtering.
    pub total: usize,
    /// Why rows may be few: "non-zero", "matching X" ...
    pub filter_note: Option<String>,
    pub unavailable: Vec<Unavailable>,
    pub skipped: Vec<SkippedPart>,
}

/// The human table.
pub fn human(view: &CountersView, style: Style) -> String {
    let mut out = String::new();
    let mut heading = view.origin.describe();
    if let Some(kernel) = &view.kernel {
        heading.push_str(&format!(", kernel {kernel}"));
    }
    match view.interval_s {
        Some(s) => heading.push_str(&format!(", two samples {s:.2} s apart")),
        None if view.interval_requested => heading
            .push_str(", two samples but no clock to time them (a captured tree): totals only"),
        None => heading.push_str(", totals since the counters started"),
    }
    out.push_str(&style.dim(&heading));
    out.push('\n');
    if view.rows.is_empty() {
        out.push_str(&format!(
            "no counters to show ({} read{})\n",
            view.total,
            view.filter_note
                .as_deref()
                .map(|n| format!("; shown: {n}"))
                .unwrap_or_default()
        ));
    } else {
        let values: Vec<String> = view.rows.iter().map(|r| thousands(r.value)).collect();
        let deltas: Vec<String> = view
            .rows
            .iter()
            .map(|r| match (r.reset, r.delta) {
                (true, _) => "reset".to_string(),
                (false, Some(d)) if d > 0 => format!("+{}", thousands(d)),
                (false, Some(d)) => thousands(d),
                (false, None) => "new".to_string(),
            })
            .collect();
        let rates: Vec<String> = view
            .rows
            .iter()
            .map(|r| r.per_second.map(rate).unwrap_or_default())
            .collect();
        let width =
            |items: &mut dyn Iterator<Item = usize>, min: usize| items.max().unwrap_or(0).max(min);
        let name_w = width(&mut view.rows.iter().map(|r| r.name.len()), 4);
        let value_w = width(&mut values.iter().map(String::len), 5);
        let delta_w = width(&mut deltas.iter().map(String::len), 5);
        let rate_w = width(&mut rates.iter().map(String::len), 4);
        let two = view.interval_s.is_some();
        let mut header = format!("{:<name_w$}  {:>value_w$}", "NAME", "VALUE");
        if two {
            header.push_str(&format!("  {:>delta_w$}  {:>rate_w$}", "DELTA", "RATE"));
        }
        header.push_str("  NETSTAT -S");
        out.push_str(&style.bold(&header));
        out.push('\n');
        for (i, row) in view.rows.iter().enumerate() {
            let line_start = out.len();
            let value = values.get(i).map(String::as_str).unwrap_or_default();
            let _ = write!(out, "{:<name_w$}  {value:>value_w$}", row.name);
            if two {
                let delta = deltas.get(i).map(String::as_str).unwrap_or_default();
                let rate = rates.get(i).map(String::as_str).unwrap_or_default();
                if row.reset {
                    let padded = format!("{delta:>delta_w$}");
                    let _ = write!(out, "  {}  {rate:>rate_w$}", style.yellow(&padded));
                } else {
                    let _ = write!(out, "  {delta:>delta_w$}  {rate:>rate_w$}");
                }
            }
            if let Some(phrase) = &row.phrase {
                out.push_str("  ");
                if style.color {
                    out.push_str(&style.dim(phrase));
                } else {
                    out.push_str(phrase);
                }
            }
            // No trailing blanks when a row has no wording or rate.
            let kept = out.get(line_start..).map_or(0, |l| l.trim_end().len());
            out.truncate(line_start + kept);
            out.push('\n');
        }
        if let Some(note) = &view.filter_note {
            out.push_str(&style.dim(&format!(
                "{} of {} counters shown ({note})",
                view.rows.len(),
                view.total
            )));
            out.push('\n');
        }
    }
    if view.rows.iter().any(|r| r.reset) {
        out.push_str("reset: the counter went down between the samples (namespace re-created, module reloaded or reboot); no rate\n");
    }
    for u in &view.unavailable {
        out.push_str(&style.dim(&format!(
            "not available: {} ({}): {}",
            u.name, u.path, u.reason
        )));
        out.push('\n');
    }
    // The first few skipped lines of each source, then a count: a broken 10 MB file must not
    // bury the table. (The text is already escaped by `Skipped::new`.)
    let mut per_source: Vec<(&str, usize)> = Vec::new();
    for s in &view.skipped {
        let source = s.source.as_str();
        let count = match per_source.iter_mut().find(|(name, _)| *name == source) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                per_source.push((source, 1));
                1
            }
        };
        if count <= SKIPPED_SHOWN_PER_SOURCE {
            out.push_str(&style.yellow(&format!(
                "skipped in {} line {}: {} (\"{}\")",
                s.source, s.skipped.line, s.skipped.reason, s.skipped.text
            )));
            out.push('\n');
        }
    }
    for (source, n) in per_source {
        if n > SKIPPED_SHOWN_PER_SOURCE {
            out.push_str(&style.yellow(&format!(
                "skipped in {source}: {} more line(s) not shown (--json lists them all)",
                thousands((n - SKIPPED_SHOWN_PER_SOURCE) as i128)
            )));
            out.push('\n');
        }
    }
    out
}

/// How many skipped lines of one source the human output lists before it only counts them.
const SKIPPED_SHOWN_PER_SOURCE: usize = 5;

/// The `netdoctor.counters/v1` document as pretty JSON text (keys in a fixed order).
pub fn json(view: &CountersView) -> String {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        schema: &'static str,
        source: &'a Origin,
        kernel: &'a Option<String>,
        interval_s: Option<f64>,
        counters: Vec<Row<'a>>,
        unavailable: Vec<Missing<'a>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        skipped: Vec<SkippedJson<'a>>,
    }
    #[derive(serde::Serialize)]
    struct Row<'a> {
        name: &'a str,
        section: &'a str,
        value: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        delta: Option<Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        per_second: Option<Option<f64>>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        reset: bool,
    }
    #[derive(serde::Serialize)]
    struct Missing<'a> {
        name: &'a str,
        path: &'a str,
        reason: &'a str,
    }
    #[derive(serde::Serialize)]
    struct SkippedJson<'a> {
        source: &'a str,
        line: usize,
        reason: &'a str,
        text: &'a str,
    }
    let two = view.interval_s.is_some();
    let doc = Doc {
        schema: COUNTERS_SCHEMA,
        source: &view.origin,
        kernel: &view.kernel,
        interval_s: view.interval_s,
        counters: view
            .rows
            .iter()
            .map(|r| Row {
                name: &r.name,
                section: &r.section,
                value: counter_json(r.value),
                delta: two.then(|| r.delta.map_or(Value::Null, counter_json)),
                per_second: two.then_some(r.per_second),
                reset: r.reset,
            })
            .collect(),
        unavailable: view
            .unavailable
            .iter()
            .map(|u| Missing {
                name: &u.name,
                path: &u.path,
                reason: &u.reason,
            })
            .collect(),
        skipped: view
            .skipped
            .iter()
            .map(|s| SkippedJson {
                source: &s.source,
                line: s.skipped.line,
                reason: &s.skipped.reason,
                text: &s.skipped.text,
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| format!("{{\"schema\":\"{COUNTERS_SCHEMA}\",\"error\":\"{e}\"}}"));
    text.push('\n');
    text
}

/// The netstat -s wording to print beside a counter: a phrase that starts with the number
/// loses it (the value is in its own column: "SYNs to LISTEN sockets dropped"), one with the
/// number inside gets the value written in ("Default TTL is 64"), and one that names a state
/// in words (`{s}`: "Forwarding is {s}") is not shown, since the word is not in the counter.
pub fn netstat_wording(phrase: &str, value: CounterValue) -> Option<String> {
    if phrase.contains("{s}") {
        return None;
    }
    if phrase.starts_with("{n}") {
        return Some(phrase_without_number(phrase)).filter(|p| !p.is_empty());
    }
    let text = phrase_without_number(&phrase.replace("{n}", &thousands(value)));
    (!text.is_empty()).then_some(text)
}

/// A counter value as a JSON number; a value beyond 64 bits (never printed by a kernel, but
/// possible in a damaged capture) becomes a string rather than losing precision.
pub fn counter_json(value: CounterValue) -> Value {
    if let Ok(v) = u64::try_from(value) {
        Value::from(v)
    } else if let Ok(v) = i64::try_from(value) {
        Value::from(v)
    } else {
        Value::String(value.to_string())
    }
}

/// A netstat -s phrase without its placeholders (`{n}` where the number stands, `{s}` where
/// a word does): `"{n} SYNs to LISTEN sockets dropped"` → `"SYNs to LISTEN sockets dropped"`.
pub fn phrase_without_number(phrase: &str) -> String {
    // The common shape, "{n} words", costs one copy.
    if let Some(rest) = phrase.strip_prefix("{n} ")
        && !rest.contains(['{', '\t', '\n'])
        && !rest.contains("  ")
    {
        return rest.trim().to_string();
    }
    let mut out = String::with_capacity(phrase.len());
    let mut rest = phrase;
    while let Some(open) = rest.find('{') {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        // `after` starts with `{`; a placeholder is `{` lowercase letters `}`.
        let inner = after.get(1..).unwrap_or_default();
        let placeholder_end = inner
            .find('}')
            .filter(|&close| inner.bytes().take(close).all(|b| b.is_ascii_lowercase()));
        match placeholder_end {
            Some(close) => {
                out.push(' ');
                rest = inner.get(close + 1..).unwrap_or_default();
            }
            None => {
                out.push('{');
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(interval: Option<f64>) -> CountersView {
        CountersView {
            origin: Origin::Live,
            kernel: Some("6.18.0".into()),
            interval_s: interval,
            interval_requested: interval.is_some(),
            rows: vec![CounterRow {
                name: "TcpExtListenDrops".into(),
                section: "TcpExt".into(),
                value: 35_544_811_584,
                delta: Some(12),
                per_second: Some(12.0),
                reset: false,
                phrase: Some("SYNs to LISTEN sockets dropped".into()),
            }],
            total: 400,
            filter_note: Some("non-zero".into()),
            unavailable: vec![],
            skipped: vec![],
        }
    }

    #[test]
    fn skipped_lines_are_listed_a_few_per_source_then_counted() {
        let mut v = view(None);
        v.skipped = (1..=12)
            .map(|line| SkippedPart {
                source: "softnet_stat".into(),
                skipped: Skipped::new(line, "not hex", "\u{0}zz"),
            })
            .collect();
        let text = human(&v, Style::plain());
        assert_eq!(
            text.matches("skipped in softnet_stat line").count(),
            5,
            "{text}"
        );
        assert!(
            text.contains("skipped in softnet_stat: 7 more line(s) not shown"),
            "{text}"
        );
        assert!(!text.contains("\\\\u"), "escaped once, not twice: {text}");
    }

    #[test]
    fn human_table() {
        let text = human(&view(Some(1.0)), Style::plain());
        assert!(
            text.contains(
                "TcpExtListenDrops  35,544,811,584    +12  12.0/s  SYNs to LISTEN sockets dropped"
            ),
            "{text}"
        );
        let text = human(&view(None), Style::plain());
        assert!(!text.contains("DELTA"));
    }

    #[test]
    fn json_document() {
        let doc: Value = serde_json::from_str(&json(&view(Some(1.0)))).unwrap();
        assert_eq!(doc["schema"], COUNTERS_SCHEMA);
        assert_eq!(doc["counters"][0]["value"], 35_544_811_584u64);
        assert_eq!(doc["counters"][0]["delta"], 12);
        assert_eq!(doc["source"]["kind"], "live");
        let doc: Value = serde_json::from_str(&json(&view(None))).unwrap();
        assert!(doc["counters"][0].get("delta").is_none());
    }

    #[test]
    fn wordings_beside_values() {
        assert_eq!(
            netstat_wording("{n} SYNs to LISTEN sockets dropped", 5).as_deref(),
            Some("SYNs to LISTEN sockets dropped")
        );
        assert_eq!(
            netstat_wording("Default TTL is {n}", 64).as_deref(),
            Some("Default TTL is 64")
        );
        assert_eq!(netstat_wording("Forwarding is {s}", 2), None);
    }

    #[test]
    fn phrases_lose_their_number() {
        assert_eq!(
            phrase_without_number("{n} SYNs to LISTEN sockets dropped"),
            "SYNs to LISTEN sockets dropped"
        );
        assert_eq!(
            phrase_without_number("delayed acks further delayed because of locked socket: {n}"),
            "delayed acks further delayed because of locked socket:"
        );
    }
}
