//! A started, ready server under test ([`RunningTarget`]): spawned in its
//! own process group / Job object (through `netrepro_sys::process`), its
//! stdout and stderr read in the background (`log`), its resources sampled,
//! its exit detected, and killed with its whole tree on `kill` or drop.

use super::error::TargetError;
use super::log::{self, Collected, StderrState, Tail};
use super::ready::{self, Ready, ReadyPoll};
use netrepro_observe::{ExitInfo, ResourceSample, ServerEvent, TargetOutput};
use netrepro_sys::platform::Os;
use netrepro_sys::process::group::{describe_exit, TargetCommand};
use netrepro_sys::process::pause::Pauser;
use netrepro_sys::process::{group as process, resources, supervise};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::BufReader;

/// How long `kill` waits for the killed process to be reaped.
const KILL_REAP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a failed start waits for the rest of stderr before reporting.
const EARLY_EXIT_STDERR_WAIT: Duration = Duration::from_secs(1);
/// Stderr lines quoted in `ExitedEarly`.
const EARLY_EXIT_STDERR_LINES: usize = 20;

/// A started, ready server. Dropping it kills the whole process group / Job.
pub struct RunningTarget {
    // Declared first: dropped (group killed) before the child handle.
    group: process::Group,
    child: tokio::process::Child,
    pid: u32,
    addr: SocketAddr,
    started: Instant,
    exit: Option<ExitInfo>,
    stderr: Collected<StderrState>,
    stdout: Collected<Tail>,
}

impl RunningTarget {
    /// Start `cmd` and wait up to `ready_timeout` for its `LISTENING <addr>`
    /// stdout line. Other stdout lines before it are ignored (kept in
    /// [`stdout_lines`](Self::stdout_lines)). On any error the child and its
    /// group are killed.
    pub async fn spawn(
        cmd: &TargetCommand,
        ready_timeout: Duration,
    ) -> Result<RunningTarget, TargetError> {
        Self::spawn_polling(cmd, ready_timeout, None).await
    }

    /// Like [`spawn`](Self::spawn), for programs that may not print a
    /// readiness line (external targets): whichever comes first, a
    /// `LISTENING <addr>` line or `poll.check` succeeding, makes it ready.
    pub async fn spawn_polling(
        cmd: &TargetCommand,
        ready_timeout: Duration,
        mut poll: Option<ReadyPoll>,
    ) -> Result<RunningTarget, TargetError> {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + ready_timeout;
        let spawn_err = |source| TargetError::Spawn {
            program: cmd.program.display().to_string(),
            source,
        };
        let prepared = process::build_command(cmd).map_err(spawn_err)?;
        let mut command = prepared.command;
        let spawned = netrepro_sys::process::inherit::spawning(|| command.spawn());
        // Closes our copy of the handshake pipe's write end (held by the
        // pre_exec closure): EOF if the supervisor dies before reporting.
        drop(command);
        let mut child = spawned.map_err(spawn_err)?;
        let child_pid = child
            .id()
            .expect("a child that was not waited for has a pid");
        let pid = match prepared.handshake {
            None => child_pid,
            Some(fd) => match supervise::read_target_pid(fd, deadline).await {
                Ok(pid) => pid,
                Err(e) => {
                    // Reap the supervisor (it exits at once after `err`).
                    let _ = tokio::time::timeout(KILL_REAP_TIMEOUT, child.wait()).await;
                    return Err(spawn_err(e));
                }
            },
        };
        let mut group = process::Group::new(pid, &child);

        let stderr = log::spawn_stderr_reader(
            child.stderr.take().expect("stderr is piped"),
            started,
            Os::current(),
        );
        let mut out = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut seen = Tail::default();
        let mut line = log::LineBuf::default();
        let ready = ready::wait(
            &mut child, &mut out, &mut seen, &mut line, &mut poll, deadline,
        )
        .await;

        let addr = match ready {
            Ready::Addr(a) => a,
            Ready::Bad(line) => return Err(TargetError::BadReadyLine(line)),
            Ready::Timeout => {
                return Err(match &poll {
                    Some(p) => TargetError::NeverListened {
                        addr: p.addr,
                        how: p.how,
                        waited: ready_timeout,
                    },
                    None => TargetError::NotReady(ready_timeout),
                })
            }
            Ready::Exited(info) => {
                group.mark_reaped();
                stderr.wait_eof(EARLY_EXIT_STDERR_WAIT).await;
                // `group` drops here: leftover group members are killed too.
                return Err(TargetError::ExitedEarly {
                    exit: describe_exit(&info),
                    stderr: stderr_tail(&stderr),
                });
            }
        };
        let stdout = log::spawn_stdout_reader(out, seen, line);
        Ok(RunningTarget {
            group,
            child,
            pid,
            addr,
            started,
            exit: None,
            stderr,
            stdout,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What a scenario's `pause` / `resume` steps use to freeze this
    /// target's whole process tree (see [`Pauser`]).
    pub fn pauser(&self) -> Pauser {
        Pauser::new(self.pid, self.group.job_raw())
    }

    /// Exit status if the process has exited (non-blocking).
    pub fn try_exit(&mut self) -> Option<ExitInfo> {
        if self.exit.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.exit = Some(process::exit_info(st));
                self.group.mark_reaped();
            }
        }
        self.exit.clone()
    }

    /// Wait up to `timeout` for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitInfo> {
        if self.exit.is_none() {
            if let Ok(Ok(st)) = tokio::time::timeout(timeout, self.child.wait()).await {
                self.exit = Some(process::exit_info(st));
                self.group.mark_reaped();
            }
        }
        self.exit.clone()
    }

    /// Wait up to `timeout` until the stderr reader has reached EOF, i.e. the
    /// process (and anything that inherited its stderr) is gone and every
    /// line it wrote is in [`events`](Self::events) / [`stderr_lines`](Self::stderr_lines).
    /// Call after the process exited to collect a crashed server's fatal
    /// event without racing the reader. Returns true if EOF was reached.
    pub async fn settle_logs(&self, timeout: Duration) -> bool {
        self.stderr.wait_eof(timeout).await
    }

    /// Error events parsed from stderr so far.
    pub fn events(&self) -> Vec<ServerEvent> {
        self.stderr.lock().events.to_vec()
    }

    /// The newest stderr lines that were not events (for diagnostics).
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().lines.to_vec()
    }

    /// The newest stdout lines, including the readiness line.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().to_vec()
    }

    /// The tails of both streams and what was merged, cut or dropped.
    pub fn output(&self) -> TargetOutput {
        let err = self.stderr.lock();
        let out = self.stdout.lock();
        TargetOutput {
            stderr_tail: err.lines.to_vec(),
            stdout_tail: out.to_vec(),
            stderr_lines: err.lines.total,
            stdout_lines: out.total,
            cut_lines: err.lines.cut + out.cut,
            events_read: err.events.read,
            events_merged: err.events.merged,
            events_dropped: err.events.dropped,
        }
    }

    /// Resources of the whole process tree now (see [`ResourceSample`];
    /// counters are `None` where the platform cannot tell or the process is
    /// gone); `t_ms` since spawn.
    pub fn sample(&self, label: &str) -> ResourceSample {
        self.labelled(resources::sample(&self.root()), label)
    }

    /// Only the tree's CPU and run-queue time, threads and pids now (see
    /// `resources::sample_cpu`: a fraction of [`sample`](Self::sample)'s
    /// cost on Linux); `t_ms` since spawn.
    pub fn sample_cpu(&self, label: &str) -> ResourceSample {
        self.labelled(resources::sample_cpu(&self.root()), label)
    }

    fn labelled(&self, mut s: ResourceSample, label: &str) -> ResourceSample {
        s.label = label.to_string();
        s.t_ms = self.started.elapsed().as_millis() as u64;
        s
    }

    fn root(&self) -> resources::Root<'_> {
        resources::Root {
            pid: self.pid,
            supervisor: self.group.supervisor_pid(),
            child: &self.child,
            job: self.group.job_raw(),
        }
    }

    /// Kill the process and its whole tree and reap it; returns how it ended
    /// (`None` if it could not be reaped within a few seconds). If it had
    /// already exited, any leftover descendants are still killed.
    pub async fn kill(&mut self) -> Option<ExitInfo> {
        let supervised = self.group.supervised();
        self.group.kill();
        if self.exit.is_none() && !supervised {
            // Redundant on Unix (tree kill), the only kill on Windows without a Job.
            let _ = self.child.start_kill();
        }
        let exit = self.wait_exit(KILL_REAP_TIMEOUT).await;
        if exit.is_none() {
            self.group.force();
            return self.wait_exit(KILL_REAP_TIMEOUT).await;
        }
        exit
    }
}

fn stderr_tail(stderr: &Collected<StderrState>) -> String {
    let st = stderr.lock();
    let mut parts: Vec<String> = st.lines.tail(EARLY_EXIT_STDERR_LINES);
    parts.extend(
        st.events
            .tail(EARLY_EXIT_STDERR_LINES)
            .iter()
            .filter(|e| e.source == netrepro_observe::EventSource::Json)
            .filter_map(|e| serde_json::to_string(e).ok()),
    );
    if parts.is_empty() {
        "(empty)".to_string()
    } else {
        parts.join("\n")
    }
}
