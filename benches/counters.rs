//! Benchmarks of counter collection (placeholder until the collector lands).

fn main() {
    divan::main();
}
