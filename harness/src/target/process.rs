//! Starting the child, waiting for readiness, killing its whole process
//! group (Unix) / Job object (Windows), and the global registry used by
//! [`super::kill_all`].

use super::TargetCommand;
use crate::observe::ExitInfo;
use std::collections::HashMap;
use std::process::{ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};

#[cfg(windows)]
use super::job::Job;

/// Build the tokio command: stdin null, stdout/stderr piped, killed on drop,
/// own process group, parent-death signal and fd limit (see `pre_exec`).
///
/// Linux caveat: `PR_SET_PDEATHSIG` fires when the *thread* that spawned the
/// child exits, so spawn from a runtime worker (or the main thread), never
/// from a `spawn_blocking` thread, which is retired when idle.
pub(super) fn build_command(cmd: &TargetCommand) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(&cmd.program);
    c.args(&cmd.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    unix_setup(&mut c, cmd.max_fds);
    // Windows: `max_fds` is ignored (there is no per-process handle limit to
    // set); the Job object is created after spawn, see `job.rs`.
    c
}

#[cfg(unix)]
fn unix_setup(c: &mut tokio::process::Command, max_fds: Option<u64>) {
    c.process_group(0);
    #[cfg(target_os = "linux")]
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe calls (prctl, getppid, setrlimit); it allocates
    // nothing and touches no locks.
    unsafe {
        c.pre_exec(move || {
            #[cfg(target_os = "linux")]
            {
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
                // The harness may have died between fork and prctl.
                if libc::getppid() as u32 != parent {
                    libc::_exit(1);
                }
            }
            if let Some(n) = max_fds {
                let lim = libc::rlimit {
                    rlim_cur: n as libc::rlim_t,
                    rlim_max: n as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

pub(super) fn exit_info(status: ExitStatus) -> ExitInfo {
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal = None;
    ExitInfo {
        code: status.code(),
        signal,
    }
}

/// Human description for error messages: `exit code 3`, `signal 11 (SIGSEGV)`.
pub fn describe_exit(e: &ExitInfo) -> String {
    match (e.code, e.signal) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(s)) => match signal_name(s) {
            Some(n) => format!("killed by signal {s} ({n})"),
            None => format!("killed by signal {s}"),
        },
        (None, None) => "exited (no status)".to_string(),
    }
}

fn signal_name(s: i32) -> Option<&'static str> {
    // Numbers common to Linux and macOS.
    Some(match s {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return None,
    })
}

// ---- kill handles and the global registry -------------------------------

/// What `kill_all` needs to kill one target: the process group id (Unix) or
/// the Job handle value (Windows; the `Group` owning it deregisters before
/// closing it).
#[derive(Debug, Clone, Copy)]
enum KillRef {
    #[cfg(unix)]
    Pgid(u32),
    #[cfg(windows)]
    Job(usize),
    #[cfg(not(any(unix, windows)))]
    #[allow(dead_code)]
    None,
}

static REGISTRY: Mutex<Option<HashMap<u32, KillRef>>> = Mutex::new(None);

fn registry() -> MutexGuard<'static, Option<HashMap<u32, KillRef>>> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

fn kill_ref(k: KillRef) {
    match k {
        #[cfg(unix)]
        KillRef::Pgid(pgid) => {
            // SAFETY: plain syscall; ESRCH (group already gone) is fine.
            unsafe { libc::killpg(pgid as libc::pid_t, libc::SIGKILL) };
        }
        #[cfg(windows)]
        KillRef::Job(h) => super::job::terminate_raw(h),
        #[cfg(not(any(unix, windows)))]
        KillRef::None => {}
    }
}

/// Kill every registered group; used from the Ctrl-C handler.
pub(super) fn kill_all() {
    let reg = registry();
    if let Some(map) = reg.as_ref() {
        for k in map.values() {
            kill_ref(*k);
        }
    }
}

/// Live pids in the registry (for tests and diagnostics).
pub(super) fn registered_pids() -> Vec<u32> {
    registry()
        .as_ref()
        .map(|m| m.keys().copied().collect())
        .unwrap_or_default()
}

/// Owner of a target's process group / Job. Registered while alive; on drop
/// the whole group is SIGKILLed (unless `kill` already did) and deregistered.
///
/// The group is killed even if the leader already exited on its own: its
/// orphaned children keep the group (and so its id) alive and must not
/// outlive the run. A group id cannot be reused while any member lives.
pub(super) struct Group {
    pid: u32,
    killed: bool,
    #[cfg(windows)]
    job: Option<Job>,
}

impl Group {
    #[cfg(not(windows))]
    pub(super) fn new(pid: u32) -> Group {
        #[cfg(unix)]
        let k = KillRef::Pgid(pid);
        #[cfg(not(unix))]
        let k = KillRef::None;
        registry().get_or_insert_with(HashMap::new).insert(pid, k);
        Group { pid, killed: false }
    }

    /// Windows: wrap the child in a kill-on-close Job. If the Job cannot be
    /// created or assigned, only the child itself is killed (`kill_on_drop`).
    #[cfg(windows)]
    pub(super) fn new(pid: u32, child: &tokio::process::Child) -> Group {
        let job = child.raw_handle().and_then(|h| Job::for_process(h).ok());
        if let Some(j) = &job {
            registry()
                .get_or_insert_with(HashMap::new)
                .insert(pid, KillRef::Job(j.raw()));
        }
        Group {
            pid,
            killed: false,
            job,
        }
    }

    /// SIGKILL the whole group / terminate the Job now (idempotent).
    pub(super) fn kill(&mut self) {
        if self.killed {
            return;
        }
        #[cfg(unix)]
        kill_ref(KillRef::Pgid(self.pid));
        #[cfg(windows)]
        if let Some(j) = &self.job {
            kill_ref(KillRef::Job(j.raw()));
        }
        self.killed = true;
        self.deregister();
    }

    fn deregister(&self) {
        if let Some(m) = registry().as_mut() {
            m.remove(&self.pid);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
        // Windows: the Job handle closes after deregistration (field drop).
    }
}
