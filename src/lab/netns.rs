//! Lab network namespaces: creation, commands run inside them, and removal.
//!
//! Everything goes through child processes (`ip`, `sysctl`, `nft`, `cat` under
//! `ip netns exec`), so the lab needs no namespace switching of its own. Names start with
//! [`PREFIX`] followed by the pid of the run that made them, which is how `lab clean` tells the
//! leftovers of a crashed run from the namespaces of a run still in progress.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use super::LabError;

/// Every lab namespace name starts with this.
pub const PREFIX: &str = "netdoctor-lab-";

/// Where `ip netns` keeps its named namespaces.
const NETNS_DIR: &str = "/run/netns";

/// A namespace this run created. Removed (processes killed, namespace deleted) when dropped,
/// unless [`LabNamespace::keep`] was called.
#[derive(Debug)]
pub struct LabNamespace {
    name: String,
    keep: bool,
    removed: bool,
}

impl LabNamespace {
    /// Creates `netdoctor-lab-<pid>-<label>` and brings its loopback up.
    pub fn create(label: &str) -> Result<Self, LabError> {
        let name = format!("{PREFIX}{}-{label}", std::process::id());
        run_checked("ip", &["netns", "add", &name])?;
        let ns = LabNamespace {
            name,
            keep: false,
            removed: false,
        };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Leave the namespace in place when dropped (`lab run --keep`).
    pub fn keep(&mut self) {
        self.keep = true;
    }

    /// Runs `ip -n NAME ARGS...`.
    pub fn ip(&self, args: &[&str]) -> Result<(), LabError> {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        run_checked("ip", &full)
    }

    /// Builds a command that runs `program args...` inside the namespace.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]).args(args);
        cmd
    }

    /// Sets a sysctl inside the namespace (`sysctl -w key=value`) and reads it back: procps
    /// `sysctl` exits 0 even when the kernel refused the write, so only the read-back tells.
    pub fn sysctl(&self, key: &str, value: &str) -> Result<(), LabError> {
        let assignment = format!("{key}={value}");
        let what = format!("sysctl -w {assignment} in {}", self.name);
        let output = self
            .command("sysctl", &["-w", &assignment])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| LabError::spawn("sysctl", e))?;
        let refusal = String::from_utf8_lossy(&output.stderr).trim().to_string();
        checked(&what, output)?;
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let now = self.read_files(&[&path])?;
        let wanted: Vec<&str> = value.split_whitespace().collect();
        let got: Vec<&str> = now.split_whitespace().collect();
        if wanted == got {
            Ok(())
        } else {
            Err(LabError::Command {
                what,
                detail: if refusal.is_empty() {
                    format!("it still reads {}", now.trim())
                } else {
                    refusal
                },
            })
        }
    }

    /// Loads an nft script inside the namespace (`nft -f -`).
    pub fn nft(&self, script: &str) -> Result<(), LabError> {
        let mut child = self
            .command("nft", &["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| LabError::spawn("nft", e))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .map_err(|e| LabError::spawn("nft", e))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| LabError::spawn("nft", e))?;
        checked(&format!("nft -f - in {}", self.name), output)
    }

    /// Reads files inside the namespace (`cat PATH...`), e.g. /proc/net/netstat.
    pub fn read_files(&self, paths: &[&str]) -> Result<String, LabError> {
        let output = self
            .command("cat", paths)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| LabError::spawn("cat", e))?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        checked(&format!("cat {} in {}", paths.join(" "), self.name), output)?;
        Ok(text)
    }

    /// Kills the processes inside and deletes the namespace; errors are reported, not fatal.
    pub fn remove(&mut self) -> Result<(), LabError> {
        if self.removed {
            return Ok(());
        }
        self.removed = true;
        remove_namespace(&self.name)
    }
}

impl Drop for LabNamespace {
    fn drop(&mut self) {
        if !self.keep
            && let Err(e) = self.remove()
        {
            eprintln!("netdoctor lab: {e}");
        }
    }
}

/// Creates a veth pair with one end in each namespace.
pub fn veth_pair(
    left: &LabNamespace,
    left_name: &str,
    right: &LabNamespace,
    right_name: &str,
) -> Result<(), LabError> {
    run_checked(
        "ip",
        &[
            "link",
            "add",
            left_name,
            "netns",
            left.name(),
            "type",
            "veth",
            "peer",
            "name",
            right_name,
            "netns",
            right.name(),
        ],
    )
}

/// Kills every process in the namespace (`ip netns pids`), then deletes it.
pub fn remove_namespace(name: &str) -> Result<(), LabError> {
    kill_processes(name);
    run_checked("ip", &["netns", "del", name])
}

/// Sends SIGKILL to every process inside the namespace; best effort.
fn kill_processes(name: &str) {
    let Ok(output) = Command::new("ip")
        .args(["netns", "pids", name])
        .stdin(Stdio::null())
        .output()
    else {
        return;
    };
    let pids: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter(|p| p.parse::<u32>().is_ok())
        .map(str::to_string)
        .collect();
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg("-KILL")
        .args(&pids)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Names of all lab namespaces present under /run/netns.
pub fn lab_namespaces() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(PREFIX))
        .collect();
    names.sort();
    names
}

/// The pid of the run that created a lab namespace, from its name.
pub fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

/// True when the process that created the namespace is still a running netdoctor.
pub fn owner_alive(name: &str) -> bool {
    let Some(pid) = owner_pid(name) else {
        return false;
    };
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .is_ok_and(|comm| comm.trim().starts_with("netdoctor"))
}

/// Runs a command and turns a failure into a [`LabError`] with its stderr.
pub(crate) fn run_checked(program: &str, args: &[&str]) -> Result<(), LabError> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::spawn(program, e))?;
    checked(&format!("{program} {}", args.join(" ")), output)
}

fn checked(what: &str, output: Output) -> Result<(), LabError> {
    if output.status.success() {
        Ok(())
    } else {
        Err(LabError::Command {
            what: what.to_string(),
            detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pid_from_name() {
        assert_eq!(owner_pid("netdoctor-lab-1234-syn-flood"), Some(1234));
        assert_eq!(owner_pid("netdoctor-lab-x-syn-flood"), None);
        assert_eq!(owner_pid("other"), None);
    }
}
