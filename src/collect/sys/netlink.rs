//! A raw NETLINK_SOCK_DIAG socket: open, send one request, receive reply datagrams.
//!
//! This is the only code that talks to the kernel's sock_diag interface; building requests
//! and parsing replies is done by safe code in `collect::sockdiag`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// How long one `recv` may wait for the kernel before giving up.
const RECEIVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// An open `AF_NETLINK`/`NETLINK_SOCK_DIAG` socket, bound to the kernel.
/// The descriptor is closed when the value is dropped.
#[derive(Debug)]
pub struct SockDiagSocket {
    fd: OwnedFd,
}

impl SockDiagSocket {
    /// Opens and binds a sock_diag socket in the network namespace the calling thread is in.
    pub fn open() -> io::Result<Self> {
        // SAFETY: socket(2) takes only integer arguments and returns a new descriptor or -1;
        // no memory is shared with the kernel.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_SOCK_DIAG,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a descriptor socket(2) just returned to us and nobody else owns it;
        // OwnedFd takes over closing it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        // SAFETY: sockaddr_nl is plain old data; all-zero is a valid value (port id 0 lets the
        // kernel assign one, no multicast groups).
        let mut address: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        address.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: `address` is a live, initialised sockaddr_nl and the length passed is exactly
        // its size, so the kernel reads only memory we own.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&address as *const libc::sockaddr_nl).cast::<libc::sockaddr>(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let socket = SockDiagSocket { fd };
        socket.set_receive_timeout(RECEIVE_TIMEOUT)?;
        Ok(socket)
    }

    /// Bounds every `recv`: a kernel that never answers gives an error, not a hang.
    fn set_receive_timeout(&self, timeout: std::time::Duration) -> io::Result<()> {
        let value = libc::timeval {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_usec: libc::suseconds_t::from(timeout.subsec_micros() as i32),
        };
        // SAFETY: `value` is a live timeval and the length passed is exactly its size; the
        // kernel copies it and keeps no pointer.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&value as *const libc::timeval).cast::<libc::c_void>(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Sends one complete request message to the kernel (port id 0).
    pub fn send(&self, message: &[u8]) -> io::Result<()> {
        // SAFETY: as above, an all-zero sockaddr_nl is valid; nl_pid 0 addresses the kernel.
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        loop {
            // SAFETY: `message` is a valid slice for its whole length, `kernel` is a live
            // sockaddr_nl and its exact size is passed; sendto does not keep the pointers.
            let sent = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    message.as_ptr().cast::<libc::c_void>(),
                    message.len(),
                    0,
                    (&kernel as *const libc::sockaddr_nl).cast::<libc::sockaddr>(),
                    std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            };
            if sent < 0 {
                let error = io::Error::last_os_error();
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(error);
            }
            if sent as usize != message.len() {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("netlink: sent {sent} of {} bytes", message.len()),
                ));
            }
            return Ok(());
        }
    }

    /// Receives one datagram (possibly holding several netlink messages) into `buffer` and
    /// returns the number of bytes written. A datagram larger than the buffer is an error
    /// (the kernel would have cut it), never silently truncated.
    pub fn recv(&self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: `buffer` is a valid, writable slice of `buffer.len()` bytes that lives
            // for the whole call; the kernel writes at most that many bytes into it.
            let received = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buffer.as_mut_ptr().cast::<libc::c_void>(),
                    buffer.len(),
                    libc::MSG_TRUNC,
                )
            };
            if received < 0 {
                let error = io::Error::last_os_error();
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(error);
            }
            let received = received as usize;
            if received > buffer.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "netlink: a {received}-byte reply did not fit the {}-byte buffer",
                        buffer.len()
                    ),
                ));
            }
            return Ok(received);
        }
    }
}
