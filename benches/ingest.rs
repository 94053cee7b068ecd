//! Ingest throughput: a fleet dump of 10,000 pasted `netstat -s` files read in one process,
//! one 10 MB paste, and the one-time cost of compiling the phrase index.
//!
//! Run: `cargo bench --bench ingest`. The phrase index is the knowledge base's when it lists
//! phrases, else the shared reference table's (the same rows the tests use).

#[path = "../tests/common/mod.rs"]
mod common;

use divan::Bencher;
use divan::counter::BytesCount;
use netdoctor::ingest;

fn main() {
    cpu_time_figure();
    divan::main();
}

/// This process's user + system CPU seconds, from /proc/self/stat (USER_HZ is 100 on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The fleet figure in CPU time, which a loaded machine does not distort the way it distorts
/// wall-clock time: three passes over the 10,000 files, bytes per CPU second.
fn cpu_time_figure() {
    let index = common::index();
    let template = template();
    let texts: Vec<String> = (0..FLEET as u64)
        .map(|h| host_paste(&template, h))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let start = cpu_seconds();
    let mut counters = 0;
    for _ in 0..3 {
        for text in &texts {
            if let Ok((snapshot, _)) = ingest::load_texts_with(&[("host", text, None)], &index) {
                counters += snapshot.counters.len();
            }
        }
    }
    let cpu = cpu_seconds() - start;
    if cpu > 0.0 {
        println!(
            "fleet of {FLEET} netstat -s files, CPU time: {:.1} MB in {cpu:.2} s of CPU per 3 passes \
             = {:.0} MB/s per CPU second ({counters} counters)",
            bytes as f64 / 1e6,
            3.0 * bytes as f64 / 1e6 / cpu
        );
    }
}

const FLEET: usize = 10_000;

/// The story paste with every number shifted by `host`, so each file is different.
fn host_paste(template: &str, host: u64) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut number = String::new();
    for c in template.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        if !number.is_empty() {
            let value: u64 = number.parse().unwrap_or(0);
            out.push_str(&(value.wrapping_add(host)).to_string());
            number.clear();
        }
        out.push(c);
    }
    out.pop();
    out
}

fn template() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/story/netstat-s.txt"
    ))
    .unwrap_or_default()
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn fleet_of_10000_netstat_s_files(bencher: Bencher) {
    let index = common::index();
    let template = template();
    let texts: Vec<String> = (0..FLEET as u64)
        .map(|h| host_paste(&template, h))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    bencher.counter(BytesCount::new(bytes)).bench_local(|| {
        let mut counters = 0;
        for text in &texts {
            if let Ok((snapshot, _)) = ingest::load_texts_with(&[("host", text, None)], &index) {
                counters += snapshot.counters.len();
            }
        }
        divan::black_box(counters)
    });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn one_10_mb_paste(bencher: Bencher) {
    let index = common::index();
    let template = template();
    let mut text = String::new();
    let mut host = 0;
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&host_paste(&template, host));
        host += 1;
    }
    bencher
        .counter(BytesCount::new(text.len()))
        .bench_local(|| ingest::load_texts_with(&[("big", &text, None)], &index).is_ok());
}

#[divan::bench(sample_count = 10)]
fn compile_phrase_index(bencher: Bencher) {
    let (rows, _) = common::rows();
    bencher.bench_local(|| common::index_of(&rows).phrase_count());
}

/// The parts of one fleet pass: format detection alone.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn fleet_detection_only(bencher: Bencher) {
    let index = common::index();
    let template = template();
    let texts: Vec<String> = (0..FLEET as u64)
        .map(|h| host_paste(&template, h))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    bencher.counter(BytesCount::new(bytes)).bench_local(|| {
        texts
            .iter()
            .filter(|t| ingest::detect_with(t, &index).is_some())
            .count()
    });
}

/// The parts of one fleet pass: the netstat -s reader alone.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn fleet_netstat_reader_only(bencher: Bencher) {
    let index = common::index();
    let template = template();
    let texts: Vec<String> = (0..FLEET as u64)
        .map(|h| host_paste(&template, h))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    bencher.counter(BytesCount::new(bytes)).bench_local(|| {
        texts
            .iter()
            .map(|t| ingest::netstat_s::parse(t, &index).counters.len())
            .sum::<usize>()
    });
}
