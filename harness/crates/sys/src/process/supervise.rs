//! `netrepro __supervise <parent-pid> <program> [args...]`: the process that
//! stands between netrepro and each target so that no descendant of the
//! target outlives the run, however the run ends (issue 10.8).
//!
//! Why a separate process: the process that must clean up is the one that
//! may be SIGKILLed, and a SIGKILLed process runs no code. So netrepro (the
//! harness) starts `netrepro __supervise ...` (the supervisor), which
//!
//! - is a *child subreaper* (Linux `PR_SET_CHILD_SUBREAPER`, prctl(2)): every
//!   descendant of the target whose parent exits, a double-forked `setsid`
//!   daemon included, is reparented to the supervisor instead of init, so
//!   the whole tree stays findable by walking parent pids;
//! - has a *parent-death signal* (`PR_SET_PDEATHSIG` = SIGTERM): when the
//!   harness dies, SIGKILL included, the kernel signals the supervisor;
//! - starts the target as its only child (parent-death signal SIGKILL), in
//!   the supervisor's own process group;
//! - sweeps the tree (freeze, walk, kill, repeat until empty, bounded: see
//!   `tree.rs`) when the target exits, when the harness asks (SIGTERM), when
//!   the harness dies (SIGTERM via the parent-death signal) or on SIGHUP /
//!   SIGINT; and only then exits, with the target's own exit status (same
//!   code, or the same signal re-raised), so to the harness the supervisor
//!   looks exactly like the target.
//!
//! Handshake: the harness passes a pipe as fd 3; the supervisor writes
//! `pid <target pid>\n` (the pid the harness samples) or `err <errno>\n` (the
//! target could not be started: the harness reports the OS error as a spawn
//! error) and closes it. The supervisor writes nothing else anywhere: the
//! target's stdout and stderr are the supervisor's, inherited untouched.
//!
//! Only Linux has both a subreaper and a parent-death signal; elsewhere the
//! harness spawns targets directly (macOS: process group + tree walk at kill
//! time; Windows: kill-on-close Job object, `job.rs`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;

/// The hidden subcommand (not a clap subcommand: the target's arguments
/// must reach it untouched).
pub const SUBCOMMAND: &str = "__supervise";

/// The fd on which the supervisor reports the target's pid.
#[allow(dead_code)] // Linux only
pub const HANDSHAKE_FD: i32 = 3;

#[cfg(target_os = "linux")]
#[path = "supervise/linux.rs"]
mod os;

#[cfg(not(target_os = "linux"))]
#[path = "supervise/other.rs"]
mod os;

static SUPERVISOR: OnceLock<PathBuf> = OnceLock::new();

/// Start every later target under `exe __supervise` (a netrepro binary),
/// where the OS supports it. Without this call targets are started directly
/// (their process group and tree are still killed, but a SIGKILLed harness
/// leaves them, and so may a double fork). Returns whether supervision is on.
pub fn supervise_with(exe: PathBuf) -> bool {
    if !super::procctl::SUPERVISOR_AVAILABLE {
        return false;
    }
    let _ = SUPERVISOR.set(exe);
    true
}

/// The supervisor binary, if targets are to be supervised.
pub fn supervisor() -> Option<&'static PathBuf> {
    SUPERVISOR.get()
}

/// A parsed handshake line.
#[cfg_attr(not(unix), allow(dead_code))] // read on Unix only
#[derive(Debug, PartialEq, Eq)]
pub enum Handshake {
    Pid(u32),
    SpawnError(i32),
}

/// `pid N` / `err ERRNO`; anything else is `None`.
#[cfg_attr(not(unix), allow(dead_code))]
pub fn parse_handshake(line: &str) -> Option<Handshake> {
    let (k, v) = line.trim().split_once(' ')?;
    match k {
        "pid" => v.parse().ok().map(Handshake::Pid),
        "err" => v.parse().ok().map(Handshake::SpawnError),
        _ => None,
    }
}

/// The read end of the handshake pipe (nothing on Windows: no supervisor).
#[cfg(unix)]
pub type HandshakeFd = std::os::fd::OwnedFd;
#[cfg(not(unix))]
pub type HandshakeFd = std::convert::Infallible;

/// Read the supervisor's handshake from `fd` (the pipe's read end) until
/// `deadline`: the target's pid, or the OS error that kept it from starting.
#[cfg(unix)]
pub async fn read_target_pid(
    fd: HandshakeFd,
    deadline: tokio::time::Instant,
) -> std::io::Result<u32> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let rx = tokio::net::unix::pipe::Receiver::from_owned_fd(fd)?;
    let mut line = String::new();
    let mut r = tokio::io::BufReader::new(rx).take(64);
    let read = tokio::time::timeout_at(deadline, r.read_line(&mut line)).await;
    match (read, parse_handshake(&line)) {
        (_, Some(Handshake::Pid(p))) => Ok(p),
        (_, Some(Handshake::SpawnError(e))) => Err(std::io::Error::from_raw_os_error(e)),
        (Err(_), None) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the supervisor did not report the target's pid in time",
        )),
        (Ok(_), None) => Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("the supervisor ended without reporting the target's pid ({line:?})"),
        )),
    }
}

/// Windows has no supervisor (never called: `build_command` gives no fd).
#[cfg(not(unix))]
pub async fn read_target_pid(
    fd: HandshakeFd,
    _deadline: tokio::time::Instant,
) -> std::io::Result<u32> {
    match fd {}
}

/// Entry point of `netrepro __supervise` (`args` after the subcommand).
pub fn main(args: Vec<OsString>) -> ExitCode {
    let mut it = args.into_iter();
    let parent = it
        .next()
        .and_then(|p| p.to_str().and_then(|s| s.parse::<u32>().ok()));
    let (Some(parent), Some(program)) = (parent, it.next()) else {
        crate::errln!("usage: netrepro {SUBCOMMAND} <parent-pid> <program> [args...] (internal)");
        return ExitCode::from(2);
    };
    os::run(parent, program, it.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_lines() {
        assert_eq!(parse_handshake("pid 42\n"), Some(Handshake::Pid(42)));
        assert_eq!(parse_handshake("err 2"), Some(Handshake::SpawnError(2)));
        assert_eq!(parse_handshake("pid x"), None);
        assert_eq!(parse_handshake(""), None);
        assert_eq!(parse_handshake("hello 1"), None);
    }
}
