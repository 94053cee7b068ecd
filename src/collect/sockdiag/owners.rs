//! Socket owners: which process holds a socket inode, found by reading the `socket:[INODE]`
//! links under /proc/PID/fd (what `ss -p` and `lsof` do).
//!
//! Only the inodes asked for are looked up, and the walk stops as soon as all are found, so
//! asking for a handful of listeners does not read every descriptor on a busy host. Without
//! root, other users' /proc/PID/fd cannot be read: the answer then says so.

use std::collections::HashMap;
use std::path::Path;

use crate::snapshot::sockets::{ProcessOwner, UnknownOwner};

/// The process holding a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    /// /proc/PID/comm, trimmed ("nginx"); None when the process vanished meanwhile.
    pub command: Option<String>,
}

/// The result of one owner look-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owners {
    /// Inode → first process found holding it.
    pub found: HashMap<u64, Owner>,
    /// Processes whose descriptor table we were not allowed to read.
    pub denied: u32,
    /// Processes whose descriptor table was read.
    pub scanned: u32,
}

impl Owners {
    /// Who holds `inode`, or why that is not known. Data only: `analyze::sockets` words it.
    pub fn owner_of(&self, inode: u64) -> ProcessOwner {
        if inode == 0 {
            return ProcessOwner::Unknown {
                reason: UnknownOwner::NoInode,
            };
        }
        if let Some(owner) = self.found.get(&inode) {
            return ProcessOwner::Known {
                pid: owner.pid,
                command: owner.command.clone(),
            };
        }
        let reason = if self.denied > 0 {
            UnknownOwner::NotPermitted {
                unreadable_processes: self.denied,
            }
        } else {
            UnknownOwner::NotFound
        };
        ProcessOwner::Unknown { reason }
    }
}

/// Finds the processes holding the given socket inodes by scanning `proc_dir` (normally
/// "/proc"). Processes in the same network namespace as this one are scanned first (they
/// almost always hold its sockets), the others only for inodes still missing, so a busy host
/// with many processes is not read in full. Unreadable processes are counted, not fatal; a
/// process that exits during the scan is skipped.
pub fn find_owners(proc_dir: &Path, inodes: &[u64]) -> Owners {
    let mut owners = Owners::default();
    let mut wanted: Vec<u64> = inodes.iter().copied().filter(|i| *i != 0).collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return owners;
    }
    let Ok(entries) = std::fs::read_dir(proc_dir) else {
        return owners;
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .collect();
    pids.sort_unstable();
    let own_netns = std::fs::read_link(proc_dir.join("self/ns/net")).ok();
    let (same_netns, others): (Vec<u32>, Vec<u32>) = pids.into_iter().partition(|pid| {
        own_netns.is_some()
            && std::fs::read_link(proc_dir.join(pid.to_string()).join("ns/net")).ok() == own_netns
    });
    for pid in same_netns.into_iter().chain(others) {
        if owners.found.len() == wanted.len() {
            break;
        }
        scan_process(proc_dir, pid, &wanted, &mut owners);
    }
    owners
}

/// Reads one process's descriptor table, recording the wanted inodes it holds.
fn scan_process(proc_dir: &Path, pid: u32, wanted: &[u64], owners: &mut Owners) {
    let process_dir = proc_dir.join(pid.to_string());
    let fd_dir = process_dir.join("fd");
    let fds = match std::fs::read_dir(&fd_dir) {
        Ok(fds) => fds,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            owners.denied += 1;
            return;
        }
        Err(_) => return,
    };
    owners.scanned += 1;
    let mut link_path = fd_dir.clone();
    for fd in fds.filter_map(|e| e.ok()) {
        if owners.found.len() == wanted.len() {
            return;
        }
        link_path.clone_from(&fd_dir);
        link_path.push(fd.file_name());
        let Ok(target) = std::fs::read_link(&link_path) else {
            continue;
        };
        let Some(inode) = socket_inode(target.as_os_str().to_str().unwrap_or("")) else {
            continue;
        };
        if wanted.binary_search(&inode).is_ok() && !owners.found.contains_key(&inode) {
            let command = std::fs::read_to_string(process_dir.join("comm"))
                .ok()
                .map(|c| c.trim().to_string());
            owners.found.insert(inode, Owner { pid, command });
        }
    }
}

/// `socket:[12345]` → 12345.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_links() {
        assert_eq!(socket_inode("socket:[4242]"), Some(4242));
        assert_eq!(socket_inode("pipe:[4242]"), None);
        assert_eq!(socket_inode("socket:[x]"), None);
    }

    #[test]
    fn finds_our_own_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let me = std::process::id();
        // Find our socket's inode through our own fd table.
        let mut inode = None;
        for fd in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
            if let Ok(t) = std::fs::read_link(fd.path())
                && let Some(i) = socket_inode(t.to_str().unwrap_or(""))
            {
                inode = Some(i);
            }
        }
        let inode = inode.unwrap();
        let owners = find_owners(Path::new("/proc"), &[inode]);
        let owner = owners.found.get(&inode).unwrap();
        assert_eq!(owner.pid, me);
        assert!(matches!(owners.owner_of(inode), ProcessOwner::Known { pid, .. } if pid == me));
        drop(listener);
    }

    #[test]
    fn unknown_owners_say_why_as_data() {
        let none = Owners::default();
        assert_eq!(
            none.owner_of(0),
            ProcessOwner::Unknown {
                reason: UnknownOwner::NoInode
            }
        );
        assert_eq!(
            none.owner_of(7),
            ProcessOwner::Unknown {
                reason: UnknownOwner::NotFound
            }
        );
        let denied = Owners {
            denied: 3,
            ..Owners::default()
        };
        assert_eq!(
            denied.owner_of(7),
            ProcessOwner::Unknown {
                reason: UnknownOwner::NotPermitted {
                    unreadable_processes: 3
                }
            }
        );
    }
}
