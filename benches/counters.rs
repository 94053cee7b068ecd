//! Benchmarks of counter collection: one in-process sample (read + parse into a Snapshot)
//! against a raw read() of the same files, measured in the same run.
//!
//! `cargo bench --bench counters`. The figures and the whole-process comparison with
//! `nstat -az` (hyperfine) are in BENCHMARKS.md.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use divan::Bencher;
use netdoctor::collect::ProcPaths;
use netdoctor::collect::procfs::Collector;
use netdoctor::snapshot::{Origin, Snapshot};

fn main() {
    divan::main();
}

fn collector() -> Collector {
    Collector::open(ProcPaths::live(Origin::Live))
}

/// The files a sample reads, opened once, with their read rule.
fn raw_files() -> Vec<(File, bool)> {
    collector()
        .open_files()
        .into_iter()
        .filter_map(|(path, until_zero): (PathBuf, bool)| {
            File::open(path).ok().map(|f| (f, until_zero))
        })
        .collect()
}

/// pread from offset 0 until a short read (or 0 for per-CPU seq files), like the collector.
fn raw_read(files: &[(File, bool)], buf: &mut [u8]) -> usize {
    let mut total = 0;
    for (file, until_zero) in files {
        let mut filled = 0usize;
        while let Some(spare) = buf.get_mut(filled..) {
            let wanted = spare.len();
            match file.read_at(spare, filled as u64) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    filled += n;
                    if n < wanted && !until_zero {
                        break;
                    }
                }
            }
        }
        total += filled;
    }
    total
}

/// Baseline: read() every file a sample reads (fds kept open), parse nothing.
#[divan::bench]
fn raw_read_same_files(bencher: Bencher) {
    let files = raw_files();
    let mut buf = vec![0u8; 64 * 1024];
    bencher.bench_local(|| raw_read(&files, divan::black_box(&mut buf)));
}

/// Baseline variant: every file read until a read returns 0 (one extra read each).
#[divan::bench]
fn raw_read_until_eof(bencher: Bencher) {
    let files: Vec<(File, bool)> = raw_files().into_iter().map(|(f, _)| (f, true)).collect();
    let mut buf = vec![0u8; 64 * 1024];
    bencher.bench_local(|| raw_read(&files, divan::black_box(&mut buf)));
}

/// One sample into the collector's own snapshot (a sampling loop: `check`, `--interval`,
/// later `top`): while the files keep their shape only values are parsed.
#[divan::bench]
fn sample_ref_repeated(bencher: Bencher) {
    let mut c = collector();
    bencher.bench_local(|| c.sample_ref().map(|s| s.counters.len()).unwrap_or(0));
}

/// One full parse into a reused Snapshot (names compared, not rebuilt).
#[divan::bench]
fn sample_into_reused_snapshot(bencher: Bencher) {
    let mut c = collector();
    let mut snapshot = Snapshot::default();
    bencher.bench_local(|| {
        let _ = c.sample_into(divan::black_box(&mut snapshot));
    });
}

/// One sample into a fresh Snapshot (what a one-shot command does).
#[divan::bench]
fn sample_new_snapshot(bencher: Bencher) {
    let mut c = collector();
    bencher.bench_local(|| divan::black_box(c.sample()));
}

/// Parsing alone, per file, from text already in memory (this host's live files).
mod parse_only {
    use netdoctor::collect::procfs::{
        parse_nf_conntrack_stat, parse_snmp_pairs, parse_snmp6, parse_sockstat, parse_softnet,
    };

    fn live(name: &str) -> String {
        std::fs::read_to_string(format!("/proc/net/{name}")).unwrap_or_default()
    }

    #[divan::bench]
    fn snmp_and_netstat(bencher: divan::Bencher) {
        let snmp = live("snmp");
        let netstat = live("netstat");
        bencher.bench_local(|| {
            (
                parse_snmp_pairs(divan::black_box(&snmp), "snmp").map(|p| p.counters.len()),
                parse_snmp_pairs(divan::black_box(&netstat), "netstat").map(|p| p.counters.len()),
            )
        });
    }

    #[divan::bench]
    fn snmp6(bencher: divan::Bencher) {
        let text = live("snmp6");
        bencher.bench_local(|| {
            parse_snmp6(divan::black_box(&text), "snmp6").map(|p| p.counters.len())
        });
    }

    #[divan::bench]
    fn sockstat_softnet_conntrack(bencher: divan::Bencher) {
        let sockstat = live("sockstat");
        let softnet = live("softnet_stat");
        let conntrack = live("stat/nf_conntrack");
        bencher.bench_local(|| {
            (
                parse_sockstat(divan::black_box(&sockstat), "sockstat").map(|p| p.lines.len()),
                parse_softnet(divan::black_box(&softnet), "softnet").map(|p| p.cpus.len()),
                parse_nf_conntrack_stat(divan::black_box(&conntrack), "nf")
                    .map(|p| p.per_cpu.len()),
            )
        });
    }
}

/// Opening a collector: the counter files plus the host facts (kernel, hostname, CPUs,
/// memory, uptime, namespace), what a one-shot command pays once before its sample.
#[divan::bench]
fn collector_open() -> usize {
    collector().open_files().len()
}

/// The host facts alone.
#[divan::bench]
fn host_facts() -> Option<String> {
    netdoctor::collect::host::read_host_facts(&ProcPaths::live(Origin::Live)).kernel
}
