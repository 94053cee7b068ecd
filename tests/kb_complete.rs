//! The knowledge base must know every counter the kernel shows: on this machine
//! (/proc/net/snmp, /proc/net/netstat, /proc/net/snmp6, /proc/net/stat/nf_conntrack) and in
//! every counter file of the external fixture corpus (../shared/fixtures/external).
//!
//! Files are read with a small parser of their own here, independent of netdoctor's collector,
//! so a collector bug cannot hide a gap. A section is asserted only when the knowledge-base
//! file that should describe it exists (kb/counters/tcpext.toml for TcpExt ...): until then
//! the names it lacks are printed, not failed on.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use netdoctor::collect::ProcPaths;
use netdoctor::collect::procfs::Collector;
use netdoctor::kb;
use netdoctor::snapshot::Origin;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// (section, field) pairs found in one file.
type Names = Vec<(String, String)>;

/// A parser of one file layout.
type Parser = fn(&str) -> Names;

/// The knowledge-base file that describes a section, or None for a section nobody owns.
fn kb_file_for(section: &str) -> Option<&'static str> {
    match section {
        "Ip" | "Icmp" | "IcmpMsg" | "Tcp" | "Udp" | "UdpLite" => Some("snmp.toml"),
        "Ip6" | "Icmp6" | "Udp6" | "UdpLite6" => Some("snmp6.toml"),
        "TcpExt" => Some("tcpext.toml"),
        "IpExt" => Some("ipext.toml"),
        "MPTcpExt" => Some("mptcpext.toml"),
        "Softnet" => Some("softnet.toml"),
        "Conntrack" => Some("conntrack.toml"),
        _ => None,
    }
}

/// (section, field) pairs of a /proc/net/snmp or /proc/net/netstat style text: pairs of lines
/// `Section: Name1 Name2 ...` / `Section: v1 v2 ...`. Only header lines are used.
fn paired_names(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut header_next = true;
    let mut last_section = String::new();
    for line in text.lines() {
        let Some((section, rest)) = line.split_once(':') else {
            continue;
        };
        let section = section.trim();
        if section.is_empty() || !section.chars().all(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        // Header and value lines alternate; a value line starts with a number or a minus.
        let first = rest.split_whitespace().next().unwrap_or("");
        let is_values = first
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-');
        if is_values {
            header_next = true;
            continue;
        }
        if !header_next && section == last_section {
            continue;
        }
        for field in rest.split_whitespace() {
            out.push((section.to_string(), field.to_string()));
        }
        last_section = section.to_string();
        header_next = false;
    }
    out
}

/// (section, field) pairs of a /proc/net/snmp6 text: `Ip6InReceives   1234` lines. The
/// section is the name up to and including the first `6` (Ip6, Icmp6, Udp6, UdpLite6).
fn snmp6_names(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(value)) = (parts.next(), parts.next()) else {
            continue;
        };
        if !name.chars().all(|c| c.is_ascii_alphanumeric()) || value.parse::<u64>().is_err() {
            continue; // ttar metadata such as "Mode: 644"
        }
        if let Some(pos) = name.find('6') {
            out.push((name[..=pos].to_string(), name[pos + 1..].to_string()));
        }
    }
    out
}

/// Conntrack ids from the header line of /proc/net/stat/nf_conntrack.
fn conntrack_names(text: &str) -> Vec<(String, String)> {
    let Some(header) = text.lines().next() else {
        return Vec::new();
    };
    header
        .split_whitespace()
        .map(|column| {
            let camel: String = column
                .split('_')
                .map(|part| {
                    let mut chars = part.chars();
                    match chars.next() {
                        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                        None => String::new(),
                    }
                })
                .collect();
            ("Conntrack".to_string(), camel)
        })
        .collect()
}

/// Which parser a file needs, judged by its name.
fn parser_for(path: &Path) -> Option<Parser> {
    let name = path.file_name()?.to_str()?;
    if name == "snmp6" || name.starts_with("procnet-snmp6") || name.starts_with("proc_net_snmp6") {
        Some(snmp6_names)
    } else if name == "snmp"
        || name == "netstat"
        || name.starts_with("procnet-snmp")
        || name.starts_with("proc_net_snmp")
        || name.starts_with("proc_net_netstat")
    {
        Some(paired_names)
    } else if name == "nf_conntrack" && path.parent()?.ends_with("stat") {
        Some(conntrack_names)
    } else {
        None
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Missing names per section, and where each was seen first.
#[derive(Default)]
struct Gaps {
    missing: BTreeMap<String, BTreeMap<String, String>>,
    checked: usize,
}

impl Gaps {
    fn check(&mut self, origin: &str, names: Vec<(String, String)>) {
        for (section, field) in names {
            self.checked += 1;
            let name = format!("{section}{field}");
            if kb::counter(&name).is_none() {
                self.missing
                    .entry(section)
                    .or_default()
                    .entry(name)
                    .or_insert_with(|| origin.to_string());
            }
        }
    }

    /// Fails for sections whose kb file exists (or that no file covers); prints the rest.
    fn assert_complete(&self, what: &str) {
        let mut failures = Vec::new();
        for (section, names) in &self.missing {
            let owner = kb_file_for(section);
            let enforced = match owner {
                Some(file) => Path::new(MANIFEST).join("kb/counters").join(file).exists(),
                None => true,
            };
            for (name, origin) in names {
                let line = format!("{name} (section {section}, seen in {origin})");
                if enforced {
                    failures.push(line);
                } else {
                    println!(
                        "NOTE {what}: {line} is not in the KB yet; kb/counters/{} does not exist",
                        owner.unwrap_or("?")
                    );
                }
            }
        }
        println!("{what}: {} names checked", self.checked);
        assert!(
            failures.is_empty(),
            "{what}: the knowledge base lacks {} counter(s):\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
}

#[test]
fn live_kernel_counters_are_all_in_the_kb() {
    let mut gaps = Gaps::default();
    let mut read_any = false;
    for (path, parse) in [
        ("/proc/net/snmp", paired_names as Parser),
        ("/proc/net/netstat", paired_names),
        ("/proc/net/snmp6", snmp6_names),
        ("/proc/net/stat/nf_conntrack", conntrack_names),
    ] {
        match fs::read_to_string(path) {
            Ok(text) => {
                read_any = true;
                gaps.check(path, parse(&text));
            }
            Err(e) => println!("SKIP {path}: {e}"),
        }
    }
    if !read_any {
        println!("SKIP live_kernel_counters_are_all_in_the_kb: no /proc/net file readable");
        return;
    }
    gaps.assert_complete("live kernel");
}

#[test]
fn fixture_counters_are_all_in_the_kb() {
    let root = Path::new(MANIFEST).join("../shared/fixtures/external");
    if !root.is_dir() {
        println!(
            "SKIP fixture_counters_are_all_in_the_kb: {} is absent",
            root.display()
        );
        return;
    }
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut gaps = Gaps::default();
    let mut used = 0;
    for path in files {
        let Some(parse) = parser_for(&path) else {
            continue;
        };
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        used += 1;
        let origin = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        gaps.check(&origin, parse(&text));
    }
    println!("fixtures: {used} counter files read");
    assert!(
        used >= 10,
        "expected the fixture corpus to hold counter files, found {used}"
    );
    gaps.assert_complete("fixtures");
}

#[test]
fn every_name_netdoctors_collector_emits_is_in_the_kb() {
    // The live host through netdoctor's own collector (this covers the derived softnet and
    // conntrack ids as they are really produced), then every capture of ours.
    let mut targets = vec![("live host".to_string(), ProcPaths::live(Origin::Live))];
    let captures = Path::new(MANIFEST).join("tests/fixtures/captures");
    if let Ok(entries) = fs::read_dir(&captures) {
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        dirs.sort();
        for dir in dirs.into_iter().filter(|d| d.join("proc").is_dir()) {
            let label = format!("capture {}", dir.file_name().unwrap_or_default().display());
            targets.push((label, ProcPaths::root(&dir)));
        }
    }
    let mut gaps = Gaps::default();
    for (label, paths) in targets {
        match Collector::open(paths).sample() {
            Ok(snapshot) => {
                let names = snapshot
                    .counters
                    .iter()
                    .map(|c| match c.name.strip_prefix(c.section.as_str()) {
                        Some(field) => (c.section.clone(), field.to_string()),
                        // A name that does not start with its section is checked as it is.
                        None => (String::new(), c.name.clone()),
                    })
                    .collect();
                gaps.check(&label, names);
            }
            Err(e) => panic!("the collector could not read {label}: {e}"),
        }
    }
    gaps.assert_complete("collector");
}

#[test]
fn derived_softnet_and_conntrack_ids_are_in_the_kb() {
    let ids = [
        "SoftnetProcessed",
        "SoftnetDropped",
        "SoftnetTimeSqueeze",
        "SoftnetCpuCollision",
        "SoftnetReceivedRps",
        "SoftnetFlowLimitCount",
        "ConntrackFound",
        "ConntrackInvalid",
        "ConntrackIgnore",
        "ConntrackInsert",
        "ConntrackInsertFailed",
        "ConntrackDrop",
        "ConntrackEarlyDrop",
        "ConntrackIcmpError",
        "ConntrackExpectNew",
        "ConntrackExpectCreate",
        "ConntrackExpectDelete",
        "ConntrackSearchRestart",
        "ConntrackSearched",
        "ConntrackNew",
        "ConntrackDelete",
        "ConntrackDeleteList",
        "ConntrackClashres",
        "ConntrackChainlength",
        "ConntrackEntries",
        "ConntrackCount",
        "ConntrackMax",
    ];
    let missing: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| kb::counter(id).is_none())
        .collect();
    assert!(missing.is_empty(), "missing derived ids: {missing:?}");
    for gauge in ["ConntrackEntries", "ConntrackCount", "ConntrackMax"] {
        assert_eq!(kb::counter(gauge).map(|c| c.kind), Some("gauge"), "{gauge}");
    }
}

#[test]
fn every_icmp_type_has_an_entry_in_both_directions() {
    for n in 0..=255u16 {
        for name in [
            format!("IcmpMsgInType{n}"),
            format!("IcmpMsgOutType{n}"),
            format!("Icmp6InType{n}"),
            format!("Icmp6OutType{n}"),
        ] {
            assert!(kb::counter(&name).is_some(), "{name} missing");
        }
    }
    let dest = kb::counter("IcmpMsgInType3").map(|c| c.summary);
    assert!(
        dest.is_some_and(|s| s.contains("destination unreachable")),
        "{dest:?}"
    );
    let ns = kb::counter("Icmp6OutType135").map(|c| c.summary);
    assert!(
        ns.is_some_and(|s| s.contains("neighbor solicitation")),
        "{ns:?}"
    );
}

#[test]
fn local_parsers_read_both_layouts() {
    let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\nIcmpMsg: InType3 OutType3\nIcmpMsg: 5 6\n\
                IcmpMsg: InType8\nIcmpMsg: 1\nTcp: MaxConn\nTcp: -1\n";
    let names = paired_names(snmp);
    assert!(names.contains(&("IcmpMsg".into(), "InType8".into())));
    assert!(names.contains(&("Tcp".into(), "MaxConn".into())));
    assert_eq!(names.len(), 6);
    let snmp6 = "Ip6InReceives  \t5\nUdpLite6InErrors 0\nMode: 644\n";
    assert_eq!(
        snmp6_names(snmp6),
        vec![
            ("Ip6".to_string(), "InReceives".to_string()),
            ("UdpLite6".to_string(), "InErrors".to_string())
        ]
    );
    let ct = "entries  clashres found insert_failed search_restart\n00000001 0 0 0 0\n";
    assert!(conntrack_names(ct).contains(&("Conntrack".into(), "InsertFailed".into())));
}
