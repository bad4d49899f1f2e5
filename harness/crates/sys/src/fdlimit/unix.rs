//! RLIMIT_NOFILE through getrlimit(2) / setrlimit(2).

use super::NoFile;

#[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every Unix
pub(super) fn get() -> Option<NoFile> {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) } != 0 {
        return None;
    }
    Some(NoFile {
        soft: l.rlim_cur as u64,
        hard: l.rlim_max as u64,
    })
}

pub(super) fn set(l: NoFile) -> std::io::Result<()> {
    let r = libc::rlimit {
        rlim_cur: l.soft as libc::rlim_t,
        rlim_max: l.hard as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct we pass.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// How far the soft limit may be raised. Linux: the hard limit.
#[cfg(not(target_os = "macos"))]
pub(super) fn cap(hard: u64) -> u64 {
    hard
}

/// macOS refuses a soft RLIMIT_NOFILE above `kern.maxfilesperproc` (and
/// RLIM_INFINITY) with EINVAL: setrlimit(2), COMPATIBILITY: "use
/// rlim_cur = min(OPEN_MAX, rlim_max)"; Go caps at kern.maxfilesperproc
/// (`syscall/rlimit_darwin.go`, adjustFileLimit). Same here, OPEN_MAX
/// (10240, <sys/syslimits.h>) if the sysctl cannot be read.
#[cfg(target_os = "macos")]
pub(super) fn cap(hard: u64) -> u64 {
    const OPEN_MAX: u64 = 10240;
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>();
    // SAFETY: sysctlbyname writes at most `len` bytes into `v`.
    let ok = unsafe {
        libc::sysctlbyname(
            c"kern.maxfilesperproc".as_ptr(),
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    } == 0;
    let per_proc = if ok && v > 0 { v as u64 } else { OPEN_MAX };
    hard.min(per_proc)
}
