//! The Linux supervisor loop (see `supervise.rs` for the design). Single
//! threaded; every signal it cares about is blocked and taken synchronously
//! with sigwaitinfo(2), so there are no signal handlers and no races with
//! them.

use crate::process::{procctl, tree};
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How long a sweep may take before the supervisor gives up and exits
/// (something in uninterruptible sleep can delay a SIGKILL).
const SWEEP_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for a SIGCHLD between two sweep passes.
const SWEEP_PAUSE: Duration = Duration::from_millis(50);

pub fn run(parent: u32, program: OsString, args: Vec<OsString>) -> ExitCode {
    let set = signal_set(&[libc::SIGCHLD, libc::SIGTERM, libc::SIGHUP, libc::SIGINT]);
    // SAFETY: plain syscalls on a valid set; blocked signals stay pending
    // until sigwaitinfo takes them.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    let handshake = take_handshake_fd();
    let me = std::process::id();
    procctl::become_subreaper();
    // SAFETY: plain prctl/getppid.
    let orphaned = unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGTERM as libc::c_ulong,
            0,
            0,
            0,
        );
        libc::getppid() as u32 != parent
    };
    if orphaned {
        return ExitCode::from(1); // the harness died before we started anything
    }

    let mut cmd = std::process::Command::new(&program);
    cmd.args(&args);
    // SAFETY: only async-signal-safe calls (prctl, getppid, sigprocmask).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() as u32 != me {
                libc::_exit(1);
            }
            // The target must not inherit our blocked signals.
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            Ok(())
        });
    }
    let target = match cmd.spawn() {
        Ok(c) => c.id(),
        Err(e) => {
            report(
                handshake,
                &format!("err {}\n", e.raw_os_error().unwrap_or(0)),
            );
            return ExitCode::from(127);
        }
    };
    report(handshake, &format!("pid {target}\n"));

    let mut status: Option<libc::c_int> = None;
    while status.is_none() {
        match wait_signal(&set, None) {
            Some(libc::SIGCHLD) | None => {
                reap(target, &mut status);
            }
            // Asked to stop (the harness: SIGTERM; its death: SIGTERM via
            // the parent-death signal; a terminal: SIGHUP / SIGINT).
            Some(_) => break,
        }
    }
    // The target, unless reaped above (then its pid may be reused).
    let unreaped = status.is_none().then_some(target);
    tree::sweep(me, SWEEP_TIMEOUT, unreaped, |left| {
        wait_signal(&set, Some(left.min(SWEEP_PAUSE)));
        reap(target, &mut status)
    });
    // The sweep killed the target too; collect its status (bounded).
    let deadline = Instant::now() + SWEEP_TIMEOUT;
    while status.is_none() && Instant::now() < deadline {
        reap(target, &mut status);
        if status.is_none() {
            wait_signal(&set, Some(SWEEP_PAUSE));
        }
    }
    exit_like(status)
}

fn signal_set(sigs: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// The next blocked signal from `set`, or None after `timeout` / EINTR.
fn wait_signal(set: &libc::sigset_t, timeout: Option<Duration>) -> Option<libc::c_int> {
    // SAFETY: valid set; a null siginfo pointer is allowed.
    let r = unsafe {
        match timeout {
            None => libc::sigwaitinfo(set, std::ptr::null_mut()),
            Some(t) => {
                let ts = libc::timespec {
                    tv_sec: t.as_secs() as libc::time_t,
                    tv_nsec: t.subsec_nanos() as libc::c_long,
                };
                libc::sigtimedwait(set, std::ptr::null_mut(), &ts)
            }
        }
    };
    (r > 0).then_some(r)
}

/// Reap every exited child (orphans adopted as subreaper included); record
/// the target's wait status. True if no child is left at all (ECHILD).
fn reap(target: u32, status: &mut Option<libc::c_int>) -> bool {
    loop {
        let mut st: libc::c_int = 0;
        // SAFETY: plain waitpid on any child, non-blocking.
        let pid = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
        if pid == 0 {
            return false; // children left, none exited
        }
        if pid < 0 {
            return std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD);
        }
        if pid as u32 == target {
            *status = Some(st);
        }
    }
}

/// fd 3 if the harness passed one (close-on-exec from now on, so the target
/// does not inherit it).
fn take_handshake_fd() -> Option<File> {
    let fd = super::HANDSHAKE_FD;
    // SAFETY: F_GETFD/F_SETFD on an fd number; we take ownership only if open.
    unsafe {
        if libc::fcntl(fd, libc::F_GETFD) < 0 {
            return None;
        }
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        Some(File::from_raw_fd(fd))
    }
}

fn report(handshake: Option<File>, line: &str) {
    if let Some(mut f) = handshake {
        let _ = f.write_all(line.as_bytes());
    } // dropped: closed, the harness reads EOF after the line
}

/// End the way the target ended: its exit code, or its signal re-raised.
fn exit_like(status: Option<libc::c_int>) -> ExitCode {
    let Some(st) = status else {
        return ExitCode::from(125); // the target could not be reaped in time
    };
    if libc::WIFEXITED(st) {
        return ExitCode::from(libc::WEXITSTATUS(st) as u8);
    }
    if libc::WIFSIGNALED(st) {
        let sig = libc::WTERMSIG(st);
        // SAFETY: plain syscalls. No core file for the supervisor (the
        // target already dumped one if it was going to).
        unsafe {
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            libc::signal(sig, libc::SIG_DFL);
            let one = signal_set(&[sig]);
            libc::sigprocmask(libc::SIG_UNBLOCK, &one, std::ptr::null_mut());
            libc::kill(libc::getpid(), sig);
        }
        return ExitCode::from(128u8.wrapping_add(sig as u8));
    }
    ExitCode::from(125)
}
