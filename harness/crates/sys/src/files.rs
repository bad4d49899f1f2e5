//! File-system calls that differ per OS, for reading scenario files and
//! writing reports.

use std::fs::{File, OpenOptions};

/// Options to open a file for reading without blocking on a FIFO or a
/// device that has no writer (Unix `O_NONBLOCK`; nothing to add elsewhere).
pub fn read_options() -> OpenOptions {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    opts
}

/// Make a freshly created file readable by others (Unix 0644; temp files are
/// created 0600). A no-op elsewhere.
pub fn make_world_readable(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Make a write past RLIMIT_FSIZE fail with EFBIG instead of killing the
/// process with SIGXFSZ (which would leave no report, the servers running
/// and no word of why). A no-op handler rather than SIG_IGN: a handler is
/// reset to the default at exec, so servers started later are unaffected.
/// Nothing to do on Windows, which has no such signal.
pub fn catch_file_size_signal() {
    #[cfg(unix)]
    {
        extern "C" fn ignore(_: libc::c_int) {}
        // SAFETY: installs an async-signal-safe handler that does nothing;
        // the sigaction struct is zeroed and then fully set up.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = ignore as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = libc::SA_RESTART;
            libc::sigaction(libc::SIGXFSZ, &sa, std::ptr::null_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn made_world_readable() {
        use std::os::unix::fs::PermissionsExt;
        let f = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(
            f.as_file().metadata().unwrap().permissions().mode() & 0o777,
            0o600
        );
        super::make_world_readable(f.as_file()).unwrap();
        let mode = f.as_file().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }
}
