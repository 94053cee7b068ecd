//! Build script: turns the knowledge base (kb/*.toml) into static Rust data.
//!
//! Placeholder until the knowledge-base generator lands: emits empty tables.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=kb");
    let out =
        PathBuf::from(env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("kb_generated.rs");
    let code = "pub static COUNTERS: &[CounterEntry] = &[];\n\
                pub static SYSCTLS: &[SysctlEntry] = &[];\n\
                pub static FINDINGS: &[FindingEntry] = &[];\n";
    if let Err(e) = fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
