//! Shared by the root-only tests (`#[path = "support/netns.rs"] mod netns;`): a network
//! namespace that is removed when dropped, also when the test panics, and the check that
//! skips a test that cannot run here.
//!
//! Names are `nd-<area>-<pid>-<n>`: unique across test binaries running at once (the pid) and
//! across tests of one binary (the counter), so tests stay parallel-safe.

#![allow(dead_code)]

use std::fs::File;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A network namespace created by this test, deleted on drop with the helper processes it was
/// given ([`Netns::adopt`]).
pub struct Netns {
    pub name: String,
    children: Vec<Child>,
}

impl Netns {
    /// Creates `nd-<area>-<pid>-<n>` with its loopback up; panics (failing the test) when
    /// `ip` cannot.
    pub fn create(area: &str) -> Netns {
        let name = format!(
            "nd-{area}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        run_ok("ip", &["netns", "add", &name]);
        // The guard exists from here on: a failure below still removes the namespace.
        let ns = Netns {
            name,
            children: Vec::new(),
        };
        run_ok("ip", &["-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }

    /// Runs `program args` inside the namespace (`ip netns exec`) and returns its output.
    pub fn exec(&self, program: &str, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name, program])
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("ip netns exec {} {program}: {e}", self.name))
    }

    /// The namespace file under /run/netns (for setns).
    pub fn file(&self) -> File {
        File::open(format!("/run/netns/{}", self.name)).expect("open the namespace file")
    }

    /// Hands a helper process to the guard: it is killed before the namespace is deleted.
    pub fn adopt(&mut self, child: Child) {
        self.children.push(child);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        // No panic here: a panic during unwinding would abort the whole test run.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stdin(Stdio::null())
            .output();
    }
}

fn run_ok(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// True when `tool` is on the PATH.
pub fn has_tool(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v '{tool}' >/dev/null")])
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Why a root-only test needing `tools` cannot run here, if it cannot. Fails closed: when
/// the user id cannot be read, the test skips. (`id -u` rather than `geteuid`: no unsafe code
/// in tests.)
pub fn root_and_tools_missing(tools: &[&str]) -> Option<String> {
    let uid = match Command::new("id").arg("-u").stdin(Stdio::null()).output() {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        }
        _ => return Some("cannot tell whether we are root (`id -u` failed)".to_string()),
    };
    if uid != "0" {
        return Some("needs root (network namespaces)".to_string());
    }
    tools
        .iter()
        .find(|tool| !has_tool(tool))
        .map(|tool| format!("needs {tool}, which is not installed"))
}

/// Prints `SKIP <test>: <reason>` and returns true when `test` cannot run here (not root,
/// or one of `tools` missing); the caller then returns.
pub fn skip_unless_root_and(test: &str, tools: &[&str]) -> bool {
    match root_and_tools_missing(tools) {
        Some(reason) => {
            println!("SKIP {test}: {reason}");
            true
        }
        None => false,
    }
}
