//! What happens when netrepro itself is interrupted (issue 10.8): SIGINT
//! (Ctrl-C), SIGTERM and SIGHUP on Unix, Ctrl-C / Ctrl-Break / console close
//! on Windows. The report gate is closed first (no result is written after
//! this point: a server killed by the harness must not be reported as
//! crashed), then every target is killed with its whole tree and the
//! harness waits (bounded) until they are gone, then it exits with
//! 128 + the signal number (130 SIGINT, 143 SIGTERM, 129 SIGHUP; Windows:
//! 130). The report on disk is the last one written: valid, with
//! `complete: false`.
//!
//! A SIGKILLed harness runs no code at all; that case is the supervisor's
//! (`target/supervise.rs`).

#[cfg(unix)]
#[path = "interrupt/unix.rs"]
mod os;

#[cfg(windows)]
#[path = "interrupt/windows.rs"]
mod os;

#[cfg(not(any(unix, windows)))]
#[path = "interrupt/other.rs"]
mod os;

use std::sync::Mutex;

/// True once an interrupt began; guarded so that a report write and the
/// start of an interrupt never interleave.
static INTERRUPTED: Mutex<bool> = Mutex::new(false);

/// Run `write` unless the run was interrupted (then the last report written
/// stays as it is). Holds the gate while writing: an interrupt waits for a
/// write in progress, and no write starts after an interrupt.
pub fn unless_interrupted<R>(write: impl FnOnce() -> R) -> Option<R> {
    let g = INTERRUPTED.lock().unwrap_or_else(|e| e.into_inner());
    (!*g).then(write)
}

/// Start watching for interrupts on `rt` (call before any target is spawned).
pub fn watch(rt: &tokio::runtime::Runtime) {
    let _enter = rt.enter();
    match os::Signals::new() {
        Ok(mut s) => {
            rt.spawn(async move {
                let code = s.next().await;
                stop(code);
            });
        }
        Err(e) => crate::errln!("warning: cannot watch for interrupts: {e}"),
    }
}

/// End the run from any thread, as an interrupt does: close the report
/// gate (a write in progress finishes first; [`unless_interrupted`] starts
/// none after this), then kill every target with its whole tree and wait
/// (bounded) until they are gone. What is written after this is the
/// caller's (the watchdog's last report). Blocks for at most a few seconds.
pub fn end_run() {
    *INTERRUPTED.lock().unwrap_or_else(|e| e.into_inner()) = true;
    crate::process::group::kill_all();
}

fn stop(code: u8) -> ! {
    end_run();
    crate::errln!("\ninterrupted: servers killed; partial report kept");
    std::process::exit(code as i32)
}
