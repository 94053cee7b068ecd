//! A process-wide "interrupted" flag set by SIGINT, SIGTERM and SIGHUP.
//!
//! Long-running commands that own resources (the lab's network namespaces) install the handler
//! once, poll [`interrupted`] in their wait loops, and clean up before they exit. The handler
//! only stores to an atomic, which is async-signal-safe.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn note_signal(_signal: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the handler for SIGINT, SIGTERM and SIGHUP. Calling it again is harmless.
pub fn install_interrupt_flag() -> std::io::Result<()> {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: `sigaction` is given a zero-initialised, then fully set, `struct sigaction`
        // that lives for the duration of the call; the handler is an `extern "C"` function
        // with the signature the kernel expects and does nothing but an atomic store, which is
        // async-signal-safe. A null old-action pointer is allowed by POSIX.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = note_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// True once one of the signals arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
