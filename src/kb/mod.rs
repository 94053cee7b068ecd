//! The knowledge base: what every counter, sysctl and finding means, as data.
//!
//! The entries are written in `kb/*.toml` and compiled into static tables by `build.rs`.
//! This module gives typed access (`counter`, `sysctl`, `finding`) and is the one source for
//! `explain`, the human output, and (later) Prometheus HELP text and generated docs.

pub mod lookup;
pub mod types;

pub use lookup::{
    Entry, Lookup, MatchKind, counter_ci, counters_by_field, counters_by_phrase, display_phrase,
    lookup, normalize_phrase, suggest, sysctls_by_name,
};
pub use types::{CounterEntry, FindingEntry, SysctlDefault, SysctlEntry, VersionRange};

mod generated {
    use super::types::*;
    include!(concat!(env!("OUT_DIR"), "/kb_generated.rs"));
}

/// Every counter entry.
pub fn counters() -> &'static [CounterEntry] {
    generated::COUNTERS
}

/// Every sysctl entry.
pub fn sysctls() -> &'static [SysctlEntry] {
    generated::SYSCTLS
}

/// Every finding entry.
pub fn findings() -> &'static [FindingEntry] {
    generated::FINDINGS
}

/// The entry of a counter by canonical name (`TcpExtListenDrops`), exact case. A binary
/// search over a name index generated at build time: cheap enough to call for every counter
/// of every sample.
pub fn counter(name: &str) -> Option<&'static CounterEntry> {
    let index = generated::COUNTER_INDEX;
    let at = index.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    index.get(at).and_then(|(_, i)| counters().get(*i))
}

/// The entry of a sysctl by key, dotted (`net.ipv4.tcp_tw_recycle`) or slash form
/// (`net/ipv4/tcp_tw_recycle`, `/proc/sys/net/ipv4/tcp_tw_recycle`), any case;
/// `net.ipv4.conf.eth0.rp_filter` matches the `net.ipv4.conf.*.rp_filter` entry.
pub fn sysctl(key: &str) -> Option<&'static SysctlEntry> {
    let key = lookup::dotted_key(key);
    sysctls()
        .iter()
        .find(|s| s.key == key)
        .or_else(|| sysctls().iter().find(|s| wildcard_key_matches(s.key, &key)))
}

/// The entry of a finding by id (`listen-overflow`).
pub fn finding(id: &str) -> Option<&'static FindingEntry> {
    findings().iter().find(|f| f.id == id)
}

/// True when a knowledge-base key with `*` components matches a concrete dotted key.
fn wildcard_key_matches(pattern: &str, key: &str) -> bool {
    let mut p = pattern.split('.');
    let mut k = key.split('.');
    loop {
        match (p.next(), k.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == "*" || a == b => continue,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_index_finds_every_counter() {
        assert_eq!(generated::COUNTER_INDEX.len(), counters().len());
        for c in counters() {
            assert_eq!(counter(c.name).map(|e| e.name), Some(c.name));
        }
        assert!(counter("NoSuchCounter").is_none());
        assert!(counter("").is_none());
    }

    #[test]
    fn wildcard_matches_one_component() {
        assert!(wildcard_key_matches(
            "net.ipv4.conf.*.rp_filter",
            "net.ipv4.conf.eth0.rp_filter"
        ));
        assert!(!wildcard_key_matches(
            "net.ipv4.conf.*.rp_filter",
            "net.ipv4.conf.rp_filter"
        ));
    }
}
