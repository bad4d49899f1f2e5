//! Starting the child, waiting for readiness, killing its whole process
//! group (Unix) / Job object (Windows), and the global registry used by
//! [`super::kill_all`].

use crate::process::sample::ExitInfo;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::{procctl, tree};

#[cfg(windows)]
use super::job::Job;

/// How to start a server process.
#[derive(Debug, Clone)]
pub struct TargetCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// RLIMIT_NOFILE applied in the child before exec (Unix; ignored on
    /// Windows, which has no per-process handle limit to set).
    pub max_fds: Option<u64>,
}

/// A command ready to spawn, and (supervised targets) the read end of the
/// supervisor's handshake pipe.
pub struct Prepared {
    pub command: tokio::process::Command,
    pub handshake: Option<super::supervise::HandshakeFd>,
}

/// Build the tokio command: stdin null, stdout/stderr piped, own process
/// group, parent-death signal and fd limit (see `pre_exec`). With a
/// supervisor (`supervise.rs`, Linux) the command is
/// `netrepro __supervise <our pid> <program> <args>`, which starts the
/// target itself; otherwise the target directly, killed on drop.
///
/// Linux caveat: `PR_SET_PDEATHSIG` fires when the *thread* that spawned the
/// child exits, so spawn from a runtime worker (or the main thread), never
/// from a `spawn_blocking` thread, which is retired when idle.
pub fn build_command(cmd: &TargetCommand) -> std::io::Result<Prepared> {
    let supervisor = super::supervise::supervisor();
    let mut c = match supervisor {
        Some(exe) => {
            let mut c = tokio::process::Command::new(exe);
            c.arg(super::supervise::SUBCOMMAND)
                .arg(std::process::id().to_string())
                .arg(&cmd.program)
                .args(&cmd.args)
                // The supervisor sweeps the tree when told (SIGTERM);
                // SIGKILLing it on drop would leave the tree behind.
                .kill_on_drop(false);
            c
        }
        None => {
            let mut c = tokio::process::Command::new(&cmd.program);
            c.args(&cmd.args).kill_on_drop(true);
            c
        }
    };
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    let handshake = unix_setup(&mut c, cmd.max_fds, supervisor.is_some())?;
    // Windows: `max_fds` is ignored (there is no per-process handle limit to
    // set); the Job object is created after spawn, see `job.rs`.
    #[cfg(not(unix))]
    let handshake = None;
    Ok(Prepared {
        command: c,
        handshake,
    })
}

#[cfg(unix)]
fn unix_setup(
    c: &mut tokio::process::Command,
    max_fds: Option<u64>,
    supervised: bool,
) -> std::io::Result<Option<std::os::fd::OwnedFd>> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    c.process_group(0);
    #[cfg(target_os = "linux")]
    let parent = std::process::id();
    // A supervisor sweeps on SIGTERM; a bare target is simply killed.
    #[cfg(target_os = "linux")]
    let death_signal = if supervised {
        libc::SIGTERM
    } else {
        libc::SIGKILL
    };
    let nofile = crate::fdlimit::for_child(max_fds).map(|l| libc::rlimit {
        rlim_cur: l.soft as libc::rlim_t,
        rlim_max: l.hard as libc::rlim_t,
    });
    // The handshake pipe (close-on-exec on both ends in this process, so no
    // other child keeps it; the child's copy is dup2'ed to fd 3).
    let (read_end, write_fd) = if supervised {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe2 fills two fds on success; we own them from here.
        if unsafe { pipe2_cloexec(&mut fds) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fresh fds owned by nobody else.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        (Some(r), Some(w))
    } else {
        (None, None)
    };
    let hs_fd = write_fd.as_ref().map(|w| w.as_raw_fd());
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe calls (prctl, getppid, setrlimit, dup2, fcntl); it
    // allocates nothing and touches no locks. It owns `write_fd`, so the
    // write end stays open in this process until the command is dropped.
    unsafe {
        c.pre_exec(move || {
            #[cfg(target_os = "linux")]
            {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    death_signal as libc::c_ulong,
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
            if let Some(lim) = nofile {
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if let Some(fd) = hs_fd {
                let to = super::supervise::HANDSHAKE_FD;
                // dup2 onto itself keeps close-on-exec: clear it instead.
                let ok = if fd == to {
                    libc::fcntl(fd, libc::F_SETFD, 0) == 0
                } else {
                    libc::dup2(fd, to) == to
                };
                if !ok {
                    return Err(std::io::Error::last_os_error());
                }
            }
            let _keep_open = &write_fd;
            Ok(())
        });
    }
    Ok(read_end)
}

#[cfg(target_os = "linux")]
unsafe fn pipe2_cloexec(fds: &mut [libc::c_int; 2]) -> libc::c_int {
    libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC)
}

/// macOS has no pipe2: pipe, then close-on-exec on both ends. Another
/// thread's fork in between could inherit the fds until its exec; harmless
/// (the reader only waits for one line, bounded).
#[cfg(all(unix, not(target_os = "linux")))]
unsafe fn pipe2_cloexec(fds: &mut [libc::c_int; 2]) -> libc::c_int {
    if libc::pipe(fds.as_mut_ptr()) != 0 {
        return -1;
    }
    for fd in *fds {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    0
}

pub fn exit_info(status: ExitStatus) -> ExitInfo {
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

/// What `kill_all` needs to kill one target: its supervisor (asked to sweep
/// with SIGTERM), its process group id (Unix, unsupervised) or the Job
/// handle value (Windows; the `Group` owning it deregisters before closing
/// it).
#[derive(Debug, Clone, Copy)]
enum KillRef {
    #[cfg(unix)]
    Supervisor(u32),
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

/// How long a supervisor may take to sweep its tree after SIGTERM (also
/// the longest a dropped [`Group`] waits for it).
pub const SWEEP_WAIT: Duration = Duration::from_secs(5);

fn kill_ref(k: KillRef) {
    match k {
        #[cfg(unix)]
        KillRef::Supervisor(pid) => procctl::terminate(pid),
        #[cfg(unix)]
        KillRef::Pgid(pgid) => procctl::kill_group(pgid),
        #[cfg(windows)]
        KillRef::Job(h) => super::job::terminate_raw(h),
        #[cfg(not(any(unix, windows)))]
        KillRef::None => {}
    }
}

fn supervisor_of(k: KillRef) -> Option<u32> {
    match k {
        #[cfg(unix)]
        KillRef::Supervisor(pid) => Some(pid),
        #[allow(unreachable_patterns)] // Windows: no supervisors
        _ => None,
    }
}

/// Kill every registered target and wait (bounded) until every supervisor
/// has swept its tree and exited, and every unsupervised target (whose
/// group was SIGKILLed: the signal is delivered, the exit follows a moment
/// later) has exited; used when the harness is interrupted (SIGINT /
/// SIGTERM / SIGHUP / Ctrl-C) or its watchdog ends a stalled run, right
/// before it exits.
pub fn kill_all() {
    let refs: Vec<(u32, KillRef)> = registry()
        .as_ref()
        .map(|m| m.iter().map(|(&pid, &k)| (pid, k)).collect())
        .unwrap_or_default();
    for &(_, k) in &refs {
        kill_ref(k);
    }
    let gone: Vec<u32> = refs
        .into_iter()
        .map(|(pid, k)| supervisor_of(k).unwrap_or(pid))
        .collect();
    procctl::wait_exited(&gone, SWEEP_WAIT);
}

/// Live pids in the registry (for tests and diagnostics).
pub fn registered_pids() -> Vec<u32> {
    registry()
        .as_ref()
        .map(|m| m.keys().copied().collect())
        .unwrap_or_default()
}

/// Owner of a target's process tree. Registered while alive; on drop the
/// whole tree is killed (unless `kill` already did) and deregistered.
///
/// Supervised (Linux): the supervisor is asked to sweep (SIGTERM); it kills
/// every descendant, setsid'ed or double-forked ones included, before it
/// exits. Unsupervised (macOS, tests that do not enable supervision): the
/// tree is frozen, walked and killed, then the process group is killed. The
/// group is killed even if the leader already exited on its own: its
/// orphaned children keep the group (and so its id) alive and must not
/// outlive the run. A group id cannot be reused while any member lives.
pub struct Group {
    /// The target's pid (the registry key).
    pid: u32,
    /// The supervisor's pid (the tokio child), if supervised.
    supervisor: Option<u32>,
    /// The tokio child was reaped: its pid may belong to someone else now.
    reaped: bool,
    killed: bool,
    #[cfg(windows)]
    job: Option<Job>,
}

impl Group {
    /// `target_pid` is the server (the same process as `child` unless
    /// supervised). Windows: the child is wrapped in a kill-on-close Job; if
    /// the Job cannot be created or assigned, only the child itself is
    /// killed (`kill_on_drop`).
    pub fn new(target_pid: u32, child: &tokio::process::Child) -> Group {
        #[cfg(windows)]
        return Group::with_job(target_pid, child);
        #[cfg(not(windows))]
        Group::with_pgid(target_pid, child.id().unwrap_or(target_pid))
    }

    #[cfg(not(windows))]
    fn with_pgid(target_pid: u32, child_pid: u32) -> Group {
        let supervisor = (child_pid != target_pid).then_some(child_pid);
        #[cfg(unix)]
        let k = match supervisor {
            Some(s) => KillRef::Supervisor(s),
            None => KillRef::Pgid(target_pid),
        };
        #[cfg(not(unix))]
        let k = KillRef::None;
        registry()
            .get_or_insert_with(HashMap::new)
            .insert(target_pid, k);
        Group {
            pid: target_pid,
            supervisor,
            reaped: false,
            killed: false,
        }
    }

    /// Windows: wrap the child in a kill-on-close Job. If the Job cannot be
    /// created or assigned, only the child itself is killed (`kill_on_drop`).
    #[cfg(windows)]
    fn with_job(pid: u32, child: &tokio::process::Child) -> Group {
        let job = child.raw_handle().and_then(|h| Job::for_process(h).ok());
        if let Some(j) = &job {
            registry()
                .get_or_insert_with(HashMap::new)
                .insert(pid, KillRef::Job(j.raw()));
        }
        Group {
            pid,
            supervisor: None,
            reaped: false,
            killed: false,
            job,
        }
    }

    /// The raw handle value of the Job (Windows, if it was created), for
    /// sampling the process tree; `None` elsewhere.
    pub fn job_raw(&self) -> Option<usize> {
        #[cfg(windows)]
        return self.job.as_ref().map(Job::raw);
        #[cfg(not(windows))]
        None
    }

    /// The supervisor's pid while it may still run (not yet reaped).
    pub fn supervisor_pid(&self) -> Option<u32> {
        self.supervisor.filter(|_| !self.reaped)
    }

    pub fn supervised(&self) -> bool {
        self.supervisor.is_some()
    }

    /// The tokio child was reaped (its exit status is known).
    pub fn mark_reaped(&mut self) {
        self.reaped = true;
    }

    /// Kill the whole tree now (idempotent). Supervised: only asks; see
    /// [`wait_swept`](Self::wait_swept).
    pub fn kill(&mut self) {
        if self.killed {
            return;
        }
        match self.supervisor {
            // A reaped supervisor has already swept (it sweeps, then exits).
            Some(s) => {
                if !self.reaped {
                    procctl::terminate(s);
                }
            }
            None => {
                // Walk only while the pid is still ours (not reaped):
                // otherwise it may name an unrelated process by now.
                if !self.reaped {
                    tree::kill_once(self.pid, true);
                }
                #[cfg(unix)]
                kill_ref(KillRef::Pgid(self.pid));
                #[cfg(windows)]
                if let Some(j) = &self.job {
                    kill_ref(KillRef::Job(j.raw()));
                }
            }
        }
        self.killed = true;
        self.deregister();
    }

    /// Last resort when a supervisor did not exit after `kill`: SIGKILL its
    /// process group (the target is in it; a setsid'ed descendant is not).
    pub fn force(&mut self) {
        if let (Some(s), false) = (self.supervisor, self.reaped) {
            procctl::kill_group(s);
        }
    }

    fn deregister(&self) {
        if let Some(m) = registry().as_mut() {
            m.remove(&self.pid);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let asked = !self.killed;
        self.kill();
        // Dropped without `kill().await` (an error path or a cancelled run):
        // wait here, bounded, so the sweep is over when the drop returns.
        if let (true, Some(s), false) = (asked, self.supervisor, self.reaped) {
            if !procctl::wait_exited(&[s], SWEEP_WAIT) {
                self.force();
            }
        }
        // Windows: the Job handle closes after deregistration (field drop).
    }
}
