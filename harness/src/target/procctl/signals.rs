//! Unix signal sending shared by the Linux and macOS process-control files.

/// Send `sig` to `pid` (negative: a process group). ESRCH (already gone) and
/// EPERM (not ours any more) are not errors for a kill path.
pub(crate) fn send(pid: i64, sig: libc::c_int) {
    if pid == 0 || pid == -1 || pid.unsigned_abs() > i32::MAX as u64 {
        return; // 0 / -1 would mean "our own group" / "every process"
    }
    // SAFETY: plain syscall on a pid we own or owned.
    unsafe { libc::kill(pid as libc::pid_t, sig) };
}
