//! Finding knowledge-base entries from what a user types: a counter name or a bare field, a
//! `netstat -s` line or a fragment of one, a sysctl in dotted or slash form, or a finding id.
//!
//! Everything here is pure: it searches the static tables and never touches the system.
//! Matching is forgiving where people are (case, spacing, numbers pasted with a phrase, the
//! wording of older net-tools) and strict where names are canonical: a counter name must be
//! spelled out in full, but `listendrops` finds `TcpExtListenDrops` through its field.

use super::types::{CounterEntry, FindingEntry, SysctlEntry};
use super::{counters, findings, sysctls};

/// One knowledge-base entry of any kind.
#[derive(Debug, Clone, Copy)]
pub enum Entry {
    Counter(&'static CounterEntry),
    Sysctl(&'static SysctlEntry),
    Finding(&'static FindingEntry),
}

impl Entry {
    /// The entry's canonical name: counter name, sysctl key or finding id.
    pub fn name(&self) -> &'static str {
        match self {
            Entry::Counter(c) => c.name,
            Entry::Sysctl(s) => s.key,
            Entry::Finding(f) => f.id,
        }
    }

    /// "counter", "sysctl" or "finding".
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::Counter(_) => "counter",
            Entry::Sysctl(_) => "sysctl",
            Entry::Finding(_) => "finding",
        }
    }
}

/// How a term was matched; the order of the variants is the order in which they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    /// A finding id (`listen-overflow`).
    FindingId,
    /// A sysctl key, dotted or slash form, possibly with `/proc/sys/` in front.
    SysctlKey,
    /// A canonical counter name, any case (`TcpExtListenDrops`, `tcpextlistendrops`).
    CounterName,
    /// A bare field name (`ListenDrops`, `InErrors`): all sections that have it.
    Field,
    /// The last component of a sysctl key (`somaxconn`, `rp_filter`).
    SysctlName,
    /// A whole `netstat -s` line, number and wording variant included.
    Phrase,
    /// Part of a `netstat -s` line ("invalid SYN cookies").
    PhraseFragment,
    /// Nothing matched; see the suggestions.
    Nothing,
}

impl MatchKind {
    /// Stable name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::FindingId => "finding_id",
            MatchKind::SysctlKey => "sysctl_key",
            MatchKind::CounterName => "counter_name",
            MatchKind::Field => "field",
            MatchKind::SysctlName => "sysctl_name",
            MatchKind::Phrase => "phrase",
            MatchKind::PhraseFragment => "phrase_fragment",
            MatchKind::Nothing => "none",
        }
    }
}

/// The result of looking a term up.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The term as given.
    pub term: String,
    pub kind: MatchKind,
    /// Matching entries, best first; empty when nothing matched.
    pub entries: Vec<Entry>,
    /// Names or netstat wordings close to the term (edit distance, containment, same words),
    /// when nothing matched.
    pub suggestions: Vec<String>,
}

/// Looks a term up in every table, trying the most specific kinds of match first.
pub fn lookup(term: &str) -> Lookup {
    let trimmed = term.trim();
    let found = |kind: MatchKind, entries: Vec<Entry>| Lookup {
        term: term.to_string(),
        kind,
        entries,
        suggestions: Vec::new(),
    };
    if trimmed.is_empty() {
        return found(MatchKind::Nothing, Vec::new());
    }
    if let Some(f) = findings()
        .iter()
        .find(|f| f.id.eq_ignore_ascii_case(trimmed))
    {
        return found(MatchKind::FindingId, vec![Entry::Finding(f)]);
    }
    if looks_like_sysctl_key(trimmed)
        && let Some(s) = super::sysctl(trimmed)
    {
        return found(MatchKind::SysctlKey, vec![Entry::Sysctl(s)]);
    }
    if let Some((kind, entries)) = lookup_identifier(trimmed) {
        return found(kind, entries);
    }
    let normalized = normalize_phrase(trimmed);
    if !normalized.is_empty() && !normalized.contains(' ') && normalized != trimmed {
        // A raw netstat line ("InCsumErrors: 14") or a name with punctuation around it.
        if let Some((kind, entries)) = lookup_identifier(&normalized) {
            return found(kind, entries);
        }
    }
    if let Some((section, field)) = normalized.split_once(' ')
        && !field.contains(' ')
        && let Some(c) = counter_ci(&format!("{section}{field}"))
    {
        // "TcpExt: ListenDrops", "Udp6 RcvbufErrors": a section and a field.
        return found(MatchKind::CounterName, vec![Entry::Counter(c)]);
    }
    let (exact, by_phrase) = counters_by_phrase(trimmed);
    if !by_phrase.is_empty() {
        let kind = if exact {
            MatchKind::Phrase
        } else {
            MatchKind::PhraseFragment
        };
        return found(kind, by_phrase.into_iter().map(Entry::Counter).collect());
    }
    Lookup {
        term: term.to_string(),
        kind: MatchKind::Nothing,
        entries: Vec::new(),
        suggestions: suggest(trimmed),
    }
}

/// Name-like lookups: full counter name, bare field, sysctl last component.
fn lookup_identifier(term: &str) -> Option<(MatchKind, Vec<Entry>)> {
    if let Some(c) = counter_ci(term) {
        return Some((MatchKind::CounterName, vec![Entry::Counter(c)]));
    }
    let by_field = counters_by_field(term);
    if !by_field.is_empty() {
        return Some((
            MatchKind::Field,
            by_field.into_iter().map(Entry::Counter).collect(),
        ));
    }
    let by_name = sysctls_by_name(term);
    if !by_name.is_empty() {
        return Some((
            MatchKind::SysctlName,
            by_name.into_iter().map(Entry::Sysctl).collect(),
        ));
    }
    None
}

/// A counter by canonical name, ignoring case (`tcpextlistendrops`).
pub fn counter_ci(name: &str) -> Option<&'static CounterEntry> {
    let name = name.trim();
    super::counter(name).or_else(|| {
        counters()
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    })
}

/// Every counter whose field is `field`, ignoring case: `ListenDrops` gives
/// `TcpExtListenDrops`; `InErrors` gives the Icmp, Udp, UdpLite, Icmp6, Udp6 ... ones.
pub fn counters_by_field(field: &str) -> Vec<&'static CounterEntry> {
    let field = field.trim();
    if field.is_empty() {
        return Vec::new();
    }
    counters()
        .iter()
        .filter(|c| c.field.eq_ignore_ascii_case(field))
        .collect()
}

/// Every sysctl whose last key component is `name` (`somaxconn`, `rp_filter`), ignoring case.
pub fn sysctls_by_name(name: &str) -> Vec<&'static SysctlEntry> {
    let name = name.trim();
    if name.is_empty() || name.contains('.') || name.contains('/') {
        return Vec::new();
    }
    sysctls()
        .iter()
        .filter(|s| {
            s.key
                .rsplit('.')
                .next()
                .is_some_and(|last| last.eq_ignore_ascii_case(name))
        })
        .collect()
}

/// Counters whose `netstat -s` wording matches `text`. The boolean is true when `text` is a
/// whole phrase (after normalising case, spacing, punctuation and numbers), false when it is a
/// run of whole words inside one or more phrases. Exact matches win over fragments.
pub fn counters_by_phrase(text: &str) -> (bool, Vec<&'static CounterEntry>) {
    let wanted = normalize_phrase(text);
    if wanted.is_empty() {
        return (false, Vec::new());
    }
    let exact: Vec<&'static CounterEntry> = counters()
        .iter()
        .filter(|c| c.phrases.iter().any(|p| phrase_equals(p, &wanted)))
        .collect();
    if !exact.is_empty() {
        return (true, exact);
    }
    let needle = format!(" {wanted} ");
    let partial = counters()
        .iter()
        .filter(|c| {
            c.phrases
                .iter()
                .any(|p| format!(" {} ", normalize_phrase(p)).contains(&needle))
        })
        .collect();
    (false, partial)
}

/// A phrase template as a label, without its placeholder: "{n} SYN cookies sent" →
/// "SYN cookies sent", "Forwarding is {s}" → "Forwarding is".
pub fn display_phrase(phrase: &str) -> String {
    phrase
        .replace("{n}", " ")
        .replace("{s}", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when the normalised line `wanted` is the phrase template `phrase`: a `{s}` in the
/// template stands for exactly one word ("Forwarding is {s}" matches "forwarding is enabled").
fn phrase_equals(phrase: &str, wanted: &str) -> bool {
    match phrase.split_once("{s}") {
        None => normalize_phrase(phrase) == wanted,
        Some((before, after)) => {
            let before = normalize_phrase(before);
            let after = normalize_phrase(after);
            let words: Vec<&str> = wanted.split(' ').collect();
            let head: Vec<&str> = before.split(' ').filter(|w| !w.is_empty()).collect();
            let tail: Vec<&str> = after.split(' ').filter(|w| !w.is_empty()).collect();
            words.len() == head.len() + 1 + tail.len()
                && words.get(..head.len()) == Some(&head[..])
                && words.get(head.len() + 1..) == Some(&tail[..])
        }
    }
}

/// Reduces a netstat line or a phrase template to comparable words: lower case, the `{n}` and
/// `{s}` placeholders and every number removed, punctuation turned into spaces (so
/// "out-of-window" equals "out of window" and a trailing full stop does not matter), runs of
/// whitespace collapsed.
pub fn normalize_phrase(text: &str) -> String {
    let without_placeholders = text.replace("{n}", " ").replace("{s}", " ");
    let mapped: String = without_placeholders
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    let words: Vec<&str> = mapped
        .split_whitespace()
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    words.join(" ")
}

/// True when a term has the shape of a sysctl key: dotted or slash-separated components,
/// starting with a top-level sysctl directory.
fn looks_like_sysctl_key(term: &str) -> bool {
    let key = strip_proc_sys(term);
    (key.contains('.') || key.contains('/'))
        && !key.contains(char::is_whitespace)
        && [
            "net", "vm", "kernel", "fs", "dev", "user", "abi", "crypto", "debug",
        ]
        .iter()
        .any(|top| {
            key.get(..top.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(top))
                && matches!(key.as_bytes().get(top.len()), Some(b'.' | b'/'))
        })
}

/// Drops a leading `/proc/sys/` (or `proc/sys/`) from a key written as a path.
pub(crate) fn strip_proc_sys(term: &str) -> &str {
    let term = term.trim();
    term.strip_prefix("/proc/sys/")
        .or_else(|| term.strip_prefix("proc/sys/"))
        .unwrap_or(term)
}

/// Turns a key in slash form into dotted form the way sysctl(8) and systemd-sysctl do: when
/// the first separator is `/`, slashes become dots and dots (inside interface names such as
/// `eth0.100`) become slashes.
pub(crate) fn dotted_key(term: &str) -> String {
    crate::parse::dotted_key(strip_proc_sys(term).trim_matches('/')).to_ascii_lowercase()
}

/// Names close to `term`: counter names, fields, sysctl keys and their last components,
/// finding ids and (for terms with spaces) netstat wordings, shown without their placeholder.
/// Close means a small edit distance (typos), containing the term (a partial name) or holding
/// the same words. At most eight, closest first.
pub fn suggest(term: &str) -> Vec<String> {
    let wanted = term.trim().to_ascii_lowercase();
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut candidates: Vec<&'static str> = Vec::new();
    for c in counters() {
        candidates.push(c.name);
        candidates.push(c.field);
    }
    for s in sysctls() {
        candidates.push(s.key);
        if let Some(last) = s.key.rsplit('.').next() {
            candidates.push(last);
        }
    }
    for f in findings() {
        candidates.push(f.id);
    }
    let phrase_term = wanted.contains(' ');
    let wanted_phrase = normalize_phrase(&wanted);
    let limit = (wanted.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &'static str)> = Vec::new();
    for candidate in candidates {
        let lower = candidate.to_ascii_lowercase();
        let distance = edit_distance(&wanted, &lower);
        if distance <= limit {
            scored.push((distance, candidate));
        } else if wanted.len() >= 4 && lower.contains(&wanted) {
            scored.push((limit + 1 + lower.len() - wanted.len(), candidate));
        }
    }
    if phrase_term {
        let limit = (wanted_phrase.chars().count() / 4).max(2);
        let wanted_words: Vec<&str> = wanted_phrase.split(' ').collect();
        for c in counters() {
            for phrase in c.phrases {
                let normalized = normalize_phrase(phrase);
                let distance = edit_distance(&wanted_phrase, &normalized);
                if distance <= limit {
                    scored.push((distance, phrase));
                } else if wanted_words
                    .iter()
                    .all(|w| normalized.split(' ').any(|p| p == *w))
                {
                    // The same words in another order ("SYN cookies invalid").
                    scored.push((limit + 1, phrase));
                }
            }
        }
    }
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let mut out: Vec<String> = Vec::new();
    for (_, name) in scored {
        let shown = display_phrase(name);
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&shown)) {
            out.push(shown);
        }
        if out.len() == 8 {
            break;
        }
    }
    out
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(lookup: &Lookup) -> Vec<&'static str> {
        lookup.entries.iter().map(Entry::name).collect()
    }

    /// True when the TcpExt entries (written in kb/counters/tcpext.toml) are compiled in.
    fn have_tcpext() -> bool {
        if crate::kb::counter("TcpExtListenDrops").is_some() {
            return true;
        }
        println!("SKIP: kb/counters/tcpext.toml is not in this build");
        false
    }

    #[test]
    fn full_names_match_in_any_case() {
        let l = lookup("TcpRetransSegs");
        assert_eq!(l.kind, MatchKind::CounterName);
        assert_eq!(names(&l), ["TcpRetransSegs"]);
        assert_eq!(names(&lookup("tcpretranssegs")), ["TcpRetransSegs"]);
        assert_eq!(names(&lookup("  Ip6InReceives ")), ["Ip6InReceives"]);
    }

    #[test]
    fn bare_fields_find_their_section() {
        let l = lookup("RetransSegs");
        assert_eq!(l.kind, MatchKind::Field);
        assert_eq!(names(&l), ["TcpRetransSegs"]);
        assert_eq!(names(&lookup("rcvbuferrors")).len(), 4);
        if have_tcpext() {
            assert_eq!(names(&lookup("ListenDrops")), ["TcpExtListenDrops"]);
        }
    }

    #[test]
    fn ambiguous_fields_list_every_candidate() {
        let l = lookup("InErrors");
        assert_eq!(l.kind, MatchKind::Field);
        let found = names(&l);
        for expected in [
            "IcmpInErrors",
            "UdpInErrors",
            "UdpLiteInErrors",
            "Icmp6InErrors",
            "Udp6InErrors",
            "UdpLite6InErrors",
        ] {
            assert!(found.contains(&expected), "{expected} not in {found:?}");
        }
    }

    #[test]
    fn icmp_message_types_resolve_for_any_number() {
        for (term, summary_part) in [
            ("IcmpMsgInType3", "destination unreachable"),
            ("IcmpMsgOutType8", "echo request"),
            ("IcmpMsgOutType69", "unassigned"),
            ("icmpmsgintype255", "unassigned"),
            ("Icmp6InType135", "neighbor solicitation"),
        ] {
            let l = lookup(term);
            assert_eq!(l.kind, MatchKind::CounterName, "{term}");
            let Some(Entry::Counter(c)) = l.entries.first() else {
                panic!("{term}: no counter");
            };
            assert!(c.summary.contains(summary_part), "{term}: {}", c.summary);
        }
        // The bare field is ambiguous between IPv4 and IPv6.
        let both = names(&lookup("InType3"));
        assert!(both.contains(&"IcmpMsgInType3") && both.contains(&"Icmp6InType3"));
    }

    #[test]
    fn every_wording_variant_with_a_number_finds_its_counter() {
        for c in crate::kb::counters() {
            for phrase in c.phrases {
                let line = phrase
                    .replace("{n}", "35544811584")
                    .replace("{s}", "enabled");
                let l = lookup(&format!("    {line}"));
                assert_eq!(l.kind, MatchKind::Phrase, "{line:?}");
                assert!(names(&l).contains(&c.name), "{line:?} → {:?}", names(&l));
            }
        }
    }

    #[test]
    fn old_and_new_wordings_are_equivalent() {
        for (old, new, counter) in [
            (
                "9 segments retransmited",
                "9 segments retransmitted",
                "TcpRetransSegs",
            ),
            (
                "2890303 segments send out",
                "2890303 segments sent out",
                "TcpOutSegs",
            ),
            (
                "3 packet reassembles failed",
                "3 packet reassemblies failed",
                "IpReasmFails",
            ),
            (
                "1 active connections openings",
                "1 active connection openings",
                "TcpActiveOpens",
            ),
            (
                "0 bad segments received.",
                "0 bad segments received",
                "TcpInErrs",
            ),
            (
                "4 fragments received ok",
                "4 outgoing packets fragmented ok",
                "IpFragOKs",
            ),
            (
                "source quenchs: 1",
                "source quenches: 1",
                "IcmpInSrcQuenchs",
            ),
        ] {
            assert!(names(&lookup(old)).contains(&counter), "{old}");
            assert!(names(&lookup(new)).contains(&counter), "{new}");
        }
        if have_tcpext() {
            for line in [
                "35544811584 SYNs to LISTEN sockets dropped",
                "35544811584 SYNs to LISTEN sockets ignored",
                "SYNs to LISTEN sockets dropped",
            ] {
                assert_eq!(names(&lookup(line)), ["TcpExtListenDrops"], "{line}");
            }
        }
    }

    #[test]
    fn numbers_case_and_spacing_do_not_matter() {
        assert_eq!(
            names(&lookup("  12,345   SEGMENTS   retransmitted ")),
            ["TcpRetransSegs"]
        );
        assert_eq!(
            normalize_phrase("Quick ack mode was activated 12 times"),
            "quick ack mode was activated times"
        );
        assert_eq!(
            normalize_phrase("{n} ICMP packets dropped because they were out-of-window"),
            "icmp packets dropped because they were out of window"
        );
    }

    #[test]
    fn fragments_match_whole_words_inside_phrases() {
        let l = lookup("receive buffer errors");
        assert_eq!(l.kind, MatchKind::Phrase);
        let l = lookup("buffer errors");
        assert_eq!(l.kind, MatchKind::PhraseFragment);
        let found = names(&l);
        assert!(found.contains(&"UdpRcvbufErrors") && found.contains(&"UdpSndbufErrors"));
        // "retransmit" is not a whole word of "retransmitted": no fragment match.
        assert!(counters_by_phrase("segments retrans").1.is_empty());
        if have_tcpext() {
            assert_eq!(
                names(&lookup("invalid SYN cookies")),
                ["TcpExtSyncookiesFailed"]
            );
        }
    }

    #[test]
    fn raw_netstat_lines_resolve_by_field() {
        let l = lookup("    InCsumErrors: 14");
        let found = names(&l);
        assert!(found.contains(&"TcpInCsumErrors") && found.contains(&"UdpInCsumErrors"));
        assert_eq!(
            names(&lookup("Icmp6OutRouterAdvertisements: 3")),
            ["Icmp6OutRouterAdvertisements"]
        );
    }

    #[test]
    fn section_and_field_written_apart_resolve() {
        assert_eq!(names(&lookup("Udp: RcvbufErrors")), ["UdpRcvbufErrors"]);
        assert_eq!(names(&lookup("Ip6 InReceives")), ["Ip6InReceives"]);
        assert_eq!(
            names(&lookup("TcpRetransSegs   4521   0.0")),
            ["TcpRetransSegs"]
        );
    }

    #[test]
    fn sysctls_resolve_in_dotted_and_slash_form() {
        for term in [
            "net.ipv4.tcp_tw_recycle",
            "net/ipv4/tcp_tw_recycle",
            "/proc/sys/net/ipv4/tcp_tw_recycle",
            "NET.IPV4.TCP_TW_RECYCLE",
        ] {
            let l = lookup(term);
            assert_eq!(l.kind, MatchKind::SysctlKey, "{term}");
            assert_eq!(names(&l), ["net.ipv4.tcp_tw_recycle"], "{term}");
        }
        for term in [
            "net.ipv4.conf.eth0.rp_filter",
            "net/ipv4/conf/eth0.100/rp_filter",
        ] {
            assert_eq!(
                names(&lookup(term)),
                ["net.ipv4.conf.*.rp_filter"],
                "{term}"
            );
        }
        assert_eq!(names(&lookup("somaxconn")), ["net.core.somaxconn"]);
        assert_eq!(lookup("somaxconn").kind, MatchKind::SysctlName);
    }

    #[test]
    fn dotted_key_swaps_like_sysctl() {
        assert_eq!(
            dotted_key("net/ipv4/conf/eth0.100/rp_filter"),
            "net.ipv4.conf.eth0/100.rp_filter"
        );
        assert_eq!(dotted_key("net.core.somaxconn"), "net.core.somaxconn");
        assert_eq!(
            dotted_key("/proc/sys/vm/overcommit_memory"),
            "vm.overcommit_memory"
        );
    }

    #[test]
    fn findings_resolve_by_id() {
        let Some(first) = crate::kb::findings().first() else {
            println!("SKIP findings_resolve_by_id: no findings in this build");
            return;
        };
        let l = lookup(&first.id.to_ascii_uppercase());
        assert_eq!(l.kind, MatchKind::FindingId);
        assert_eq!(names(&l), [first.id]);
    }

    #[test]
    fn near_misses_get_suggestions() {
        let l = lookup("TcpRetransSeg");
        assert_eq!(l.kind, MatchKind::Nothing);
        assert!(l.entries.is_empty());
        assert!(
            l.suggestions.iter().any(|s| s == "TcpRetransSegs"),
            "{:?}",
            l.suggestions
        );
        let l = lookup("net.core.somaxcon");
        assert!(
            l.suggestions.iter().any(|s| s == "net.core.somaxconn"),
            "{:?}",
            l.suggestions
        );
        let l = lookup("segmens retransmited");
        assert!(
            l.suggestions.iter().any(|s| s == "segments retransmited"),
            "{:?}",
            l.suggestions
        );
        assert!(lookup("zzzzzzzzzzzzqqq").suggestions.is_empty());
        assert_eq!(lookup("").kind, MatchKind::Nothing);
    }

    #[test]
    fn words_in_another_order_are_suggested() {
        let l = lookup("errors buffer receive");
        assert_eq!(l.kind, MatchKind::Nothing);
        assert!(
            l.suggestions.iter().any(|s| s == "receive buffer errors"),
            "{:?}",
            l.suggestions
        );
    }

    #[test]
    fn phrases_display_without_placeholders() {
        assert_eq!(
            display_phrase("{n} segments retransmitted"),
            "segments retransmitted"
        );
        assert_eq!(display_phrase("Forwarding is {s}"), "Forwarding is");
        assert_eq!(
            display_phrase("Quick ack mode was activated {n} times"),
            "Quick ack mode was activated times"
        );
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn lookup_never_panics(term in "\\PC{0,80}") {
            let l = lookup(&term);
            prop_assert!(l.entries.is_empty() || l.suggestions.is_empty());
        }

        #[test]
        fn key_helpers_never_panic(term in "[a-z0-9./_*-]{0,60}") {
            let _ = dotted_key(&term);
            let _ = looks_like_sysctl_key(&term);
            let _ = crate::kb::sysctl(&term);
        }

        #[test]
        fn normalised_phrases_are_stable(text in "\\PC{0,80}") {
            let once = normalize_phrase(&text);
            prop_assert_eq!(normalize_phrase(&once), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' '));
        }
    }
}
