//! Safe file reads for every collector: only regular files are opened, never blocking, and
//! reads are capped.
//!
//! A captured tree (`--root DIR`) is untrusted: `proc/net/snmp` may be a link to /dev/zero
//! (endless) or a FIFO (an open or a read that never returns). Files under /proc and
//! /proc/sys report themselves as regular files of size 0, so the checks pass there too; the
//! counter collector skips them on the live host only to keep its open cheap
//! ([`open_target_file`]). Checks are made once, when a file is opened, never per read.

use std::fs::{self, File};
use std::io::{self, Read as _};
use std::path::Path;

/// Opens a regular file for reading (links followed), or refuses with a worded error.
///
/// The type is checked before the open, so that a FIFO is never opened; the open uses
/// O_NONBLOCK so that a FIFO put in place between the check and the open cannot block; and
/// the opened file is checked again.
pub fn open_regular(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    check_regular(&fs::metadata(path)?)?;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    check_regular(&file.metadata()?)?;
    Ok(file)
}

/// Opens a file of a target: on the live host (`live`) a plain open, since /proc is the
/// kernel's own and the extra type checks would cost a path walk per file (a quarter of
/// opening a collector); in a captured tree (`--root`) through [`open_regular`].
pub fn open_target_file(path: &Path, live: bool) -> io::Result<File> {
    if live {
        File::open(path)
    } else {
        open_regular(path)
    }
}

/// The start of a file, read with a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CappedRead {
    /// At most the limit's worth of bytes.
    pub bytes: Vec<u8>,
    /// True when the file holds more than the limit.
    pub truncated: bool,
}

/// Reads at most `cap` bytes of a regular file (links followed).
///
/// Anything else is refused before it is read (see [`open_regular`]): a FIFO would block the
/// reader forever and a device such as /dev/zero never ends.
pub fn read_regular_capped(path: &Path, cap: u64) -> io::Result<CappedRead> {
    read_capped(open_regular(path)?, cap)
}

/// Reads at most `cap` bytes of a file of a target: a plain open on the live host (its /proc
/// is the kernel's own), the regular-file checks of [`open_regular`] in a captured tree.
pub fn read_target_capped(path: &Path, live: bool, cap: u64) -> io::Result<CappedRead> {
    read_capped(open_target_file(path, live)?, cap)
}

/// Reads at most `cap` bytes from an open file, saying whether there was more.
fn read_capped(file: File, cap: u64) -> io::Result<CappedRead> {
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    let limit = usize::try_from(cap).unwrap_or(usize::MAX);
    let truncated = bytes.len() > limit;
    bytes.truncate(limit);
    Ok(CappedRead { bytes, truncated })
}

/// An error unless the metadata is a regular file's; the error names what it is instead.
fn check_regular(meta: &fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    if kind.is_dir() {
        return Err(io::Error::from(io::ErrorKind::IsADirectory));
    }
    let what = if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file ({what}): not read"),
    ))
}

/// A short reason for an I/O error ("permission denied", "no such file or directory").
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => "is a directory".to_string(),
        // Our own messages are already worded.
        _ if e.raw_os_error().is_none() => e.to_string(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(cut) => text.get(..cut).unwrap_or(&text).to_lowercase(),
                None => text.to_lowercase(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    #[test]
    fn live_proc_files_are_regular_and_read_whole() {
        // /proc reports its files as regular, of size 0: the check must let them through.
        for path in ["/proc/uptime", "/proc/sys/kernel/osrelease"] {
            let file = open_regular(Path::new(path)).unwrap();
            let mut buf = [0u8; 256];
            assert!(file.read_at(&mut buf, 0).unwrap() > 0, "{path}");
            assert!(
                !read_regular_capped(Path::new(path), 4096)
                    .unwrap()
                    .bytes
                    .is_empty()
            );
        }
    }

    #[test]
    fn devices_directories_and_caps() {
        let err = open_regular(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            io_reason(&err),
            "not a regular file (a character device): not read"
        );
        let err = open_regular(Path::new("/proc")).unwrap_err();
        assert_eq!(io_reason(&err), "is a directory");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"0123456789").unwrap();
        let read = read_regular_capped(&path, 4).unwrap();
        assert_eq!(
            (read.bytes.as_slice(), read.truncated),
            (&b"0123"[..], true)
        );
        let read = read_regular_capped(&path, 10).unwrap();
        assert!(!read.truncated);
    }
}
