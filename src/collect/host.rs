//! Host facts: kernel release, uptime, online CPUs, memory, hostname, namespace, page size.
//!
//! Read once when a collector opens (uptime is re-read with every sample). Every fact is
//! optional: a captured tree may lack the files, a container may hide them.

use std::path::Path;

use super::target::ProcPaths;
use super::{read, sys};
use crate::snapshot::HostFacts;

/// Reads the facts that do not change between samples (uptime is left to the sampler).
pub fn read_host_facts(paths: &ProcPaths) -> HostFacts {
    let read = |p: &Path| read_small(p, paths.live);
    let sys_dir = match &paths.sys_dir {
        Ok(dir) => dir.clone(),
        // Kernel release and hostname are not per network namespace: the host's are right.
        Err(_) => paths.proc_dir.join("sys"),
    };
    let kernel = read(&sys_dir.join("kernel").join("osrelease"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let hostname = read(&sys_dir.join("kernel").join("hostname"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let cpus = paths
        .sysfs_dir
        .as_ref()
        .and_then(|sys| read(&sys.join("devices/system/cpu/online")))
        .as_deref()
        .and_then(parse_cpu_list);
    let mem_bytes = read(&paths.proc_dir.join("meminfo"))
        .as_deref()
        .and_then(parse_mem_total);
    let uptime_s = read(&paths.proc_dir.join("uptime"))
        .as_deref()
        .and_then(parse_uptime);
    let netns_inode = paths
        .netns_link
        .as_deref()
        .and_then(|link| std::fs::read_link(link).ok())
        .and_then(|target| parse_netns_link(&target.to_string_lossy()));
    HostFacts {
        hostname,
        kernel,
        uptime_s,
        cpus,
        mem_bytes,
        netns_inode,
        page_size: if paths.live { sys::page_size() } else { None },
    }
}

/// Largest host-fact file read (meminfo, the biggest, is a few kilobytes).
pub const HOST_FILE_MAX: usize = 1 << 20;

/// Reads a small regular file with one read() into a 16 KiB buffer (proc files regenerate
/// their whole text on every read, so growing a buffer read by read costs several
/// generations), then keeps reading only if that one read filled the buffer. None when the
/// file is absent, larger than [`HOST_FILE_MAX`], or (not `live`: a captured tree) not a
/// regular file, such as a FIFO or a device.
pub fn read_small(path: &Path, live: bool) -> Option<String> {
    use std::io::Read;
    let mut file = read::open_target_file(path, live).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut filled = 0usize;
    loop {
        let spare = buf.get_mut(filled..)?;
        let wanted = spare.len();
        let n = file.read(spare).ok()?;
        filled += n;
        if n == 0 || n < wanted {
            break;
        }
        if buf.len() >= HOST_FILE_MAX {
            return None;
        }
        buf.resize(buf.len() * 2, 0);
    }
    buf.truncate(filled);
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// The first field of /proc/uptime: seconds since boot.
pub fn parse_uptime(text: &str) -> Option<f64> {
    text.split_ascii_whitespace()
        .next()?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// Counts the CPUs in a list such as `0-3,5,7-8` (/sys/devices/system/cpu/online).
pub fn parse_cpu_list(text: &str) -> Option<u32> {
    let mut count: u32 = 0;
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (low, high) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?),
            None => {
                let v = part.parse::<u32>().ok()?;
                (v, v)
            }
        };
        count = count.checked_add(high.checked_sub(low)?.checked_add(1)?)?;
    }
    (count > 0).then_some(count)
}

/// MemTotal from /proc/meminfo, in bytes.
pub fn parse_mem_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut tokens = line.split_ascii_whitespace().skip(1);
    let kib: u64 = tokens.next()?.parse().ok()?;
    kib.checked_mul(1024)
}

/// `net:[4026531840]` → 4026531840.
pub fn parse_netns_link(text: &str) -> Option<u64> {
    text.strip_prefix("net:[")?.strip_suffix(']')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_parsers() {
        assert_eq!(parse_uptime("12.5 20.1\n"), Some(12.5));
        assert_eq!(parse_cpu_list("0-3,5,7-8\n"), Some(7));
        assert_eq!(parse_cpu_list("0\n"), Some(1));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(
            parse_mem_total("MemTotal:        2017720 kB\nMemFree: 1 kB\n"),
            Some(2_017_720 * 1024)
        );
        assert_eq!(parse_netns_link("net:[4026531840]"), Some(4_026_531_840));
        assert_eq!(parse_netns_link("mnt:[1]"), None);
    }
}
