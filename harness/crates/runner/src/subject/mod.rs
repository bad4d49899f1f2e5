//! The server under test as a child process: spawn, wait for readiness,
//! collect its JSON error log, sample its resources, detect exit, and kill it
//! (with its whole process group / Job object) on drop. No child outlives a run.
//!
//! Layout: `log` (stdout / stderr readers), `events` (server events,
//! aggregated). Everything that differs per OS (process group / Job object,
//! supervisor, tree walk, pause, resource sampling) is in
//! `netrepro_sys::process`.

mod events;
mod log;

pub use netrepro_sys::process::group::{describe_exit, TargetCommand};
pub use netrepro_sys::process::pause::Pauser;
pub use netrepro_sys::process::resources::{
    count_close_wait, parse_proc_net_tcp, parse_proc_net_unix, socket_inode, TcpRow, TCP_CLOSE_WAIT,
};
pub use netrepro_sys::process::supervise::{
    main as supervise_main, supervise_with, SUBCOMMAND as SUPERVISE_SUBCOMMAND,
};
use netrepro_sys::process::{group as process, resources, supervise};

use log::{Collected, StderrState, Tail};
use netrepro_observe::{ExitInfo, ResourceSample, ServerEvent, TargetOutput};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio::io::BufReader;

/// How long `kill` waits for the killed process to be reaped.
const KILL_REAP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a failed start waits for the rest of stderr before reporting.
const EARLY_EXIT_STDERR_WAIT: Duration = Duration::from_secs(1);
/// Stderr lines quoted in `ExitedEarly`.
const EARLY_EXIT_STDERR_LINES: usize = 20;

/// A command running this netrepro binary (`std::env::current_exe`), e.g.
/// for the built-in `netrepro serve ...` servers. In tests `current_exe` is
/// the test binary, so tests build their commands explicitly.
pub fn self_exe_command<I, S>(args: I) -> TargetCommand
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    TargetCommand {
        program: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("netrepro")),
        args: args.into_iter().map(Into::into).collect(),
        max_fds: None,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("could not start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("server exited before it was ready ({exit}); stderr: {stderr}")]
    ExitedEarly { exit: String, stderr: String },
    #[error("server printed no `LISTENING <addr>` line within {0:?}")]
    NotReady(Duration),
    #[error("server printed an unreadable readiness line: {0:?}")]
    BadReadyLine(String),
    #[error(
        "server printed no `LISTENING <addr>` line and {addr} did not {how} within {waited:?}"
    )]
    NeverListened {
        addr: SocketAddr,
        how: &'static str,
        waited: Duration,
    },
}

/// A readiness check for programs that do not print `LISTENING <addr>`:
/// called repeatedly until it returns true (each call should bound itself).
pub type ReadyCheck = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send>;

/// The other way to become ready: `addr` is where the program was told to
/// listen, `check` says whether it does yet, `how` names the check in errors
/// ("accept a TCP connection").
pub struct ReadyPoll {
    pub addr: SocketAddr,
    pub how: &'static str,
    pub check: ReadyCheck,
}

/// Pause between two readiness checks.
const READY_POLL_INTERVAL: Duration = Duration::from_millis(20);

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

enum Ready {
    Addr(SocketAddr),
    Bad(String),
    Exited(ExitInfo),
    Timeout,
}

/// `LISTENING <addr>` -> Some(Ok(addr)); `LISTENING <junk>` -> Some(Err);
/// any other line -> None (ignored, e.g. a banner).
fn parse_ready_line(line: &str) -> Option<Result<SocketAddr, ()>> {
    let rest = line.trim().strip_prefix("LISTENING")?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None; // e.g. "LISTENINGX": not the readiness line
    }
    Some(rest.trim().parse().map_err(|_| ()))
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
        let spawned = command.spawn();
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

        let stderr =
            log::spawn_stderr_reader(child.stderr.take().expect("stderr is piped"), started);
        let mut out = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut seen = Tail::default();
        let mut line = log::LineBuf::default();
        let mut stdout_open = true;

        let ready = loop {
            tokio::select! {
                biased;
                r = line.read(&mut out, log::MAX_LINE_BYTES), if stdout_open => {
                    match r {
                        Ok(Some(len)) => {
                            let text = String::from_utf8_lossy(&line.buf).into_owned();
                            let parsed = parse_ready_line(&text);
                            seen.push(&line.buf, len);
                            match parsed {
                                Some(Ok(addr)) => break Ready::Addr(addr),
                                Some(Err(())) => break Ready::Bad(text),
                                None => {}
                            }
                        }
                        // EOF: it can never become ready; wait for its exit.
                        _ => stdout_open = false,
                    }
                }
                st = child.wait() => {
                    break match st {
                        Ok(st) => Ready::Exited(process::exit_info(st)),
                        Err(_) => Ready::Exited(ExitInfo { code: None, signal: None }),
                    };
                }
                ok = poll_once(&mut poll), if poll.is_some() => {
                    if ok {
                        if let Some(p) = &poll {
                            break Ready::Addr(p.addr);
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline) => break Ready::Timeout,
            }
        };

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
        let root = resources::Root {
            pid: self.pid,
            supervisor: self.group.supervisor_pid(),
            child: &self.child,
            job: self.group.job_raw(),
        };
        let mut s = resources::sample(&root);
        s.label = label.to_string();
        s.t_ms = self.started.elapsed().as_millis() as u64;
        s
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

/// One readiness check after a short pause (never completes without a poll).
async fn poll_once(poll: &mut Option<ReadyPoll>) -> bool {
    tokio::time::sleep(READY_POLL_INTERVAL).await;
    match poll {
        Some(p) => (p.check)().await,
        None => std::future::pending().await,
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

/// Kill every target process still running, with its whole tree, and wait
/// (bounded) until they are gone (interrupt handler). Safe to call from any
/// thread at any time; blocks for at most a few seconds.
pub fn kill_all() {
    process::kill_all()
}

/// Pids of targets whose groups are still registered for [`kill_all`]
/// (killed or dropped targets are removed).
pub fn live_target_pids() -> Vec<u32> {
    process::registered_pids()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_line_forms() {
        assert_eq!(
            parse_ready_line("LISTENING 127.0.0.1:80"),
            Some(Ok("127.0.0.1:80".parse().unwrap()))
        );
        assert_eq!(
            parse_ready_line("  LISTENING   [::1]:9\r"),
            Some(Ok("[::1]:9".parse().unwrap()))
        );
        assert_eq!(parse_ready_line("LISTENING nonsense"), Some(Err(())));
        assert_eq!(parse_ready_line("LISTENING"), Some(Err(())));
        assert_eq!(parse_ready_line("LISTENINGX 1.2.3.4:5"), None);
        assert_eq!(parse_ready_line("starting up"), None);
    }

    #[test]
    fn exit_descriptions() {
        assert_eq!(
            describe_exit(&ExitInfo {
                code: Some(3),
                signal: None
            }),
            "exit code 3"
        );
        assert_eq!(
            describe_exit(&ExitInfo {
                code: None,
                signal: Some(11)
            }),
            "killed by signal 11 (SIGSEGV)"
        );
        assert_eq!(
            describe_exit(&ExitInfo {
                code: None,
                signal: Some(64)
            }),
            "killed by signal 64"
        );
    }
}
