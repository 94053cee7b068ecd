//! Where to read from: entering a network namespace, or finding the directories of a target.
//!
//! [`enter_target`] is called once by the CLI, on the main thread, before anything is opened:
//! /proc/net follows the main thread's namespace, /proc/sys/net the calling thread's, and
//! netlink sockets the namespace of the thread that creates them, so entering first makes all
//! of them agree. It returns the [`ProcPaths`] the readers use.

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::Target;
use super::sys::netns::enter_net_namespace;
use crate::snapshot::{Origin, SourceStatus};

/// The source id recorded when a target was reached another way than entering its namespace.
pub const NETNS_ENTRY_SOURCE: &str = "netns_entry";

/// The directories a target is read from.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcPaths {
    /// What the snapshot will say it describes.
    pub origin: Origin,
    /// The directory with snmp, netstat, snmp6, sockstat, softnet_stat, stat/nf_conntrack.
    pub net_dir: PathBuf,
    /// /proc/sys (or DIR/proc/sys), or why the target's sysctls cannot be read.
    pub sys_dir: Result<PathBuf, String>,
    /// /proc (or DIR/proc): uptime, meminfo.
    pub proc_dir: PathBuf,
    /// /sys (or DIR/sys): the list of online CPUs; None when a tree has no sysfs part.
    pub sysfs_dir: Option<PathBuf>,
    /// The link whose target names the network namespace (`net:[4026531840]`), when known.
    pub netns_link: Option<PathBuf>,
    /// True on a live kernel (the monotonic clock and the page size are this host's).
    pub live: bool,
    /// A status to record in the snapshot about how the target was reached, when it is not
    /// the plain way (e.g. a pid whose namespace could not be entered).
    pub note: Option<SourceStatus>,
}

impl ProcPaths {
    /// The live host, read through the calling thread's namespace.
    pub fn live(origin: Origin) -> Self {
        let thread_self = Path::new("/proc/thread-self");
        let (net_dir, netns_link) = if thread_self.join("net").exists() {
            (
                thread_self.join("net"),
                Some(thread_self.join("ns").join("net")),
            )
        } else {
            (
                PathBuf::from("/proc/net"),
                Some(PathBuf::from("/proc/self/ns/net")),
            )
        };
        ProcPaths {
            origin,
            net_dir,
            sys_dir: Ok(PathBuf::from("/proc/sys")),
            proc_dir: PathBuf::from("/proc"),
            sysfs_dir: Some(PathBuf::from("/sys")),
            netns_link,
            live: true,
            note: None,
        }
    }

    /// A captured tree: DIR/proc/net/..., DIR/proc/sys/..., DIR/sys/... When DIR has no
    /// `proc` folder but looks like a proc mount itself (DIR/net/snmp or DIR/sys/net exists:
    /// a container's /proc mounted elsewhere), DIR is taken as the proc folder.
    pub fn root(dir: &Path) -> Self {
        let is_proc_mount = !dir.join("proc").is_dir()
            && (dir.join("net").join("snmp").exists() || dir.join("sys").join("net").is_dir());
        let proc_dir = if is_proc_mount {
            dir.to_path_buf()
        } else {
            dir.join("proc")
        };
        ProcPaths {
            origin: Origin::Root {
                dir: dir.display().to_string(),
            },
            net_dir: proc_dir.join("net"),
            sys_dir: Ok(proc_dir.join("sys")),
            sysfs_dir: (!is_proc_mount).then(|| dir.join("sys")),
            proc_dir,
            netns_link: None,
            live: false,
            note: None,
        }
    }
}

/// Why a target could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("no network namespace named {name:?} under /run/netns (see `ip netns list`{known})")]
    UnknownNetns { name: String, known: String },
    #[error("{name:?} is not a network namespace name (a plain name under /run/netns)")]
    BadNetnsName { name: String },
    #[error("no process with pid {pid}")]
    NoSuchPid { pid: u32 },
    #[error(
        "permission denied entering {what}: entering a network namespace needs root \
         (CAP_SYS_ADMIN); {hint}"
    )]
    Permission { what: String, hint: String },
    #[error("cannot read {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("--root {dir}: not a directory")]
    NotADirectory { dir: String },
}

/// Enters the target's network namespace (for `Netns` and `Pid`) on the calling thread and
/// returns the directories to read. Call once, on the main thread, before opening anything.
pub fn enter_target(target: &Target) -> Result<ProcPaths, TargetError> {
    match target {
        Target::Live => Ok(ProcPaths::live(Origin::Live)),
        Target::Root(dir) => {
            if !dir.is_dir() {
                return Err(TargetError::NotADirectory {
                    dir: dir.display().to_string(),
                });
            }
            Ok(ProcPaths::root(dir))
        }
        Target::Netns(name) => enter_named(name),
        Target::Pid(pid) => enter_pid(*pid),
    }
}

fn enter_named(name: &str) -> Result<ProcPaths, TargetError> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(TargetError::BadNetnsName {
            name: name.to_string(),
        });
    }
    let path = Path::new("/run/netns").join(name);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(TargetError::UnknownNetns {
                name: name.to_string(),
                known: known_netns_names(),
            });
        }
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            return Err(TargetError::Permission {
                what: format!("network namespace {name}"),
                hint: "run as root or with `sudo ip netns exec NAME netdoctor ...`".to_string(),
            });
        }
        Err(source) => {
            return Err(TargetError::Io {
                path: path.display().to_string(),
                source,
            });
        }
    };
    match enter_net_namespace(&file) {
        Ok(()) => Ok(ProcPaths::live(Origin::Netns {
            name: name.to_string(),
        })),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => Err(TargetError::Permission {
            what: format!("network namespace {name}"),
            hint: "run as root or with `sudo ip netns exec NAME netdoctor ...`".to_string(),
        }),
        Err(source) => Err(TargetError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// ", known: a, b" or "" when none are listed.
fn known_netns_names() -> String {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return "; none exist".to_string();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if names.is_empty() {
        "; none exist".to_string()
    } else {
        format!("; known: {}", names.join(", "))
    }
}

fn enter_pid(pid: u32) -> Result<ProcPaths, TargetError> {
    let proc_pid = PathBuf::from(format!("/proc/{pid}"));
    if pid == 0 || !proc_pid.exists() {
        return Err(TargetError::NoSuchPid { pid });
    }
    let ns_link = proc_pid.join("ns").join("net");
    let origin = Origin::Pid { pid };
    let entered = match File::open(&ns_link) {
        Ok(file) => enter_net_namespace(&file).map_err(|e| e.to_string()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(TargetError::NoSuchPid { pid });
        }
        Err(e) => Err(format!("cannot open {}: {e}", ns_link.display())),
    };
    match entered {
        Ok(()) => Ok(ProcPaths::live(origin)),
        Err(reason) => pid_fallback(pid, proc_pid, ns_link, origin, reason),
    }
}

/// Without the privilege to enter: read /proc/PID/net/* directly (the counters of the
/// process's namespace) and say so; its sysctls stay out of reach.
fn pid_fallback(
    pid: u32,
    proc_pid: PathBuf,
    ns_link: PathBuf,
    origin: Origin,
    reason: String,
) -> Result<ProcPaths, TargetError> {
    let net_dir = proc_pid.join("net");
    if let Err(e) = File::open(net_dir.join("snmp")) {
        return Err(match e.kind() {
            ErrorKind::NotFound => TargetError::NoSuchPid { pid },
            ErrorKind::PermissionDenied => TargetError::Permission {
                what: format!("the network namespace of pid {pid} ({reason})"),
                hint: format!("and {} is not readable either", net_dir.display()),
            },
            _ => TargetError::Io {
                path: net_dir.join("snmp").display().to_string(),
                source: e,
            },
        });
    }
    let note = SourceStatus::missing(
        NETNS_ENTRY_SOURCE,
        &ns_link.display().to_string(),
        format!(
            "could not enter the namespace ({reason}); counters were read from {} instead, \
             sysctls and sockets of that namespace are not available",
            net_dir.display()
        ),
    );
    Ok(ProcPaths {
        origin,
        net_dir,
        sys_dir: Err(format!(
            "not in the namespace of pid {pid} (could not enter it: {reason})"
        )),
        proc_dir: PathBuf::from("/proc"),
        sysfs_dir: Some(PathBuf::from("/sys")),
        netns_link: Some(ns_link),
        live: true,
        note: Some(note),
    })
}
