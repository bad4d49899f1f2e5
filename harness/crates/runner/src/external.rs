//! External targets: the user's own server, started from a command line
//! (`run --target-cmd 'python3 server.py --port {port}'`) or already running
//! (`--target-addr 127.0.0.1:9000`).
//!
//! A `--target-cmd` program goes through the same [`RunningTarget`] as the
//! built-in servers (process group, stderr JSON events, resource sampling,
//! exit detection, kill). Readiness: a `LISTENING <addr>` line if it prints
//! one; otherwise, if the command contains `{port}`, TCP: the port accepts a
//! connection, UDP: the port answers the probe. Without `{port}` only the
//! `LISTENING` line can make it ready. All bounded by the ready timeout.
//! In forward mode the readiness connections are kept and finished before
//! the scenario starts (`quiesce`): nothing readiness relayed to the
//! upstream listener can reach the scenario's `upstream accept`.
//!
//! A `--target-addr` server is not ours: no resources, no exit status; a
//! probe that is refused counts as crashed, one that times out as hung, and
//! the result says so in its notes.

use super::probe::{self, ProbeSpec};
use super::quiesce;
use super::RunConfig;
use crate::subject::{ReadyPoll, RunningTarget, TargetCommand};
use netrepro_observe::{ExitInfo, ResourceSample, ServerEvent, TargetOutput};
use netrepro_report::{ExternalKindName, ExternalTargetInfo};
use netrepro_scenario::{Mode, Proto, Scenario, ServerOptions, Verdict};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// How long one readiness check may take.
const READY_CHECK_TIMEOUT: Duration = Duration::from_millis(200);

/// Where the external server comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalKind {
    /// A command line (shell-like quoting, no shell); placeholders `{port}`,
    /// `{host}`, `{addr}` (host:port) and, in forward mode, `{upstream}`.
    Cmd(String),
    /// A server that is already running.
    Addr(SocketAddr),
}

/// An external target and what the user expects of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalTarget {
    pub kind: ExternalKind,
    pub probe: ProbeSpec,
    /// Acceptable verdicts (`--expect`); empty = unverified.
    pub expect: Vec<Verdict>,
    /// `--allow-remote`: the target's address (given or announced) may be
    /// outside loopback.
    pub allow_remote: bool,
    /// What the target was started as (`--mode`, or see [`target_mode`]):
    /// scenarios of the other mode are skipped.
    pub mode: Mode,
}

/// The mode an external target runs in: `--mode` if given, else what the
/// target can be. A `--target-cmd` is a forwarder exactly when it takes the
/// upstream address (`{upstream}`), so that decides the default, and a
/// `--mode` that contradicts it is a usage error. A `--target-addr` server
/// cannot be told where its upstream is: echo only.
pub fn target_mode(kind: &ExternalKind, given: Option<Mode>) -> Result<Mode, String> {
    let can = match kind {
        ExternalKind::Cmd(c) if c.contains("{upstream}") => Mode::Forward,
        ExternalKind::Cmd(_) | ExternalKind::Addr(_) => Mode::Echo,
    };
    match (given, can, kind) {
        (None, m, _) => Ok(m),
        (Some(g), m, _) if g == m => Ok(m),
        (Some(_), Mode::Forward, _) => Err(
            "--mode echo, but --target-cmd has {upstream}, which only a forwarder takes".into(),
        ),
        (Some(_), _, ExternalKind::Addr(_)) => Err(
            "--mode forward needs --target-cmd with {upstream}: each run gives the forwarder its own upstream address".into(),
        ),
        (Some(_), _, ExternalKind::Cmd(_)) => Err(
            "--mode forward: put {upstream} in --target-cmd where your forwarder takes its upstream address".into(),
        ),
    }
}

/// Why `sc` is not run against `ext`, if it is not: the scenario is for a
/// server of the other mode (a forward scenario against an echo server
/// could only fail to set up).
pub fn mode_skip(sc: &Scenario, ext: &ExternalTarget) -> Option<String> {
    (sc.target.mode != ext.mode).then(|| {
        format!(
            "skipped: a {}-mode scenario, and the target runs in {} mode (--mode; default for --target-cmd: forward if it has {{upstream}}, else echo; --target-addr: echo)",
            sc.target.mode.as_str(),
            ext.mode.as_str()
        )
    })
}

/// A scenario that pauses the server cannot run against `--target-addr`:
/// that server is not netrepro's process, so it cannot be frozen, and the
/// ordering the pause makes would silently become a race again.
pub fn pause_skip(sc: &Scenario, ext: &ExternalTarget) -> Option<String> {
    (matches!(ext.kind, ExternalKind::Addr(_)) && sc.pauses_server()).then(|| {
        "skipped: the scenario pauses the server (op = \"pause\"), which needs netrepro to run it (a built-in server or --target-cmd); a --target-addr server is not netrepro's process".to_string()
    })
}

/// The loopback rule, for `--target-addr` and for the address a
/// `--target-cmd` program announces (`LISTENING <addr>`) alike: netrepro
/// sends traffic to loopback only unless `--allow-remote`. `what` names the
/// address in the error.
pub fn loopback_rule(addr: SocketAddr, allow_remote: bool, what: &str) -> Result<(), String> {
    if addr.ip().is_loopback() || allow_remote {
        return Ok(());
    }
    Err(format!(
        "{what} {addr} is not a loopback address; netrepro sends traffic to loopback only unless you pass --allow-remote"
    ))
}

impl ExternalTarget {
    pub fn info(&self) -> ExternalTargetInfo {
        match &self.kind {
            ExternalKind::Cmd(c) => ExternalTargetInfo {
                kind: ExternalKindName::Cmd,
                spec: c.clone(),
            },
            ExternalKind::Addr(a) => ExternalTargetInfo {
                kind: ExternalKindName::Addr,
                spec: a.to_string(),
            },
        }
    }
}

/// Split `cmd` like a POSIX shell would (quotes, backslashes; no expansion)
/// and substitute the placeholders. Errors are for the user.
pub fn command_line(
    cmd: &str,
    listen: SocketAddr,
    upstream: Option<SocketAddr>,
) -> Result<Vec<String>, String> {
    let words = shlex::split(cmd)
        .ok_or_else(|| format!("cannot split --target-cmd {cmd:?}: unbalanced quotes"))?;
    if words.is_empty() {
        return Err("--target-cmd is empty".into());
    }
    if upstream.is_none() && cmd.contains("{upstream}") {
        return Err(
            "--target-cmd uses {upstream}, which exists only for mode = \"forward\" scenarios"
                .into(),
        );
    }
    let up = upstream.map(|u| u.to_string()).unwrap_or_default();
    Ok(words
        .into_iter()
        .map(|w| {
            w.replace("{port}", &listen.port().to_string())
                .replace("{host}", &listen.ip().to_string())
                .replace("{addr}", &listen.to_string())
                .replace("{upstream}", &up)
        })
        .collect())
}

/// A loopback port that was free a moment ago (bound, read, released). The
/// program binds it right after; another process taking it in between is a
/// race we accept (it shows as "never listened" or a bind error on stderr).
fn free_port(bind: &str, proto: Proto) -> Result<SocketAddr, String> {
    let at = format!("{bind}:0")
        .parse::<SocketAddr>()
        .or_else(|_| format!("[{bind}]:0").parse::<SocketAddr>())
        .map_err(|_| format!("bad bind address {bind:?}"))?;
    let addr = match proto {
        Proto::Tcp => std::net::TcpListener::bind(at).and_then(|l| l.local_addr()),
        Proto::Udp => std::net::UdpSocket::bind(at).and_then(|s| s.local_addr()),
    };
    addr.map_err(|e| format!("cannot find a free port on {bind}: {e}"))
}

/// Readiness connections kept open for [`quiesce::drain_readiness`].
type Held = Arc<Mutex<Vec<tokio::net::TcpStream>>>;

/// Readiness without a `LISTENING` line, for a program told to use `addr`.
/// With `hold` (forward mode), every connection that succeeds is kept there
/// instead of closed, so what the forwarder relays of it can be finished
/// before the scenario starts.
fn ready_poll(proto: Proto, addr: SocketAddr, spec: &ProbeSpec, hold: Option<Held>) -> ReadyPoll {
    let spec = spec.clone();
    match proto {
        Proto::Tcp => ReadyPoll {
            addr,
            how: "accept a TCP connection",
            check: Box::new(move || {
                let hold = hold.clone();
                Box::pin(async move {
                    let c = tokio::time::timeout(
                        READY_CHECK_TIMEOUT,
                        tokio::net::TcpStream::connect(addr),
                    )
                    .await;
                    match (c, hold) {
                        // No await between the connect and this push: a
                        // cancelled check cannot lose a connected stream.
                        (Ok(Ok(s)), Some(h)) => {
                            h.lock().unwrap_or_else(|e| e.into_inner()).push(s);
                            true
                        }
                        (Ok(Ok(_)), None) => true,
                        _ => false,
                    }
                })
            }),
        },
        // UDP has no accept: the port is ready when it answers the probe.
        Proto::Udp => ReadyPoll {
            addr,
            how: "answer the UDP probe",
            check: Box::new(move || {
                let spec = spec.clone();
                Box::pin(async move {
                    probe::probe_with(
                        &spec,
                        Proto::Udp,
                        Mode::Echo,
                        addr,
                        None,
                        READY_CHECK_TIMEOUT,
                    )
                    .await
                    .served
                })
            }),
        },
    }
}

/// Check the address a started `--target-cmd` program announced, before
/// anything connects to it. The error is the user's input (exit code 2).
pub fn check_announced(addr: SocketAddr, ext: &ExternalTarget) -> Result<(), String> {
    match ext.kind {
        ExternalKind::Cmd(_) => loopback_rule(
            addr,
            ext.allow_remote,
            "the target announced `LISTENING <addr>` with",
        ),
        // Checked when the flags were read.
        ExternalKind::Addr(_) => Ok(()),
    }
}

/// Start `--target-cmd` for `sc`. In forward mode (`upstream` given), the
/// readiness connections the forwarder relayed to `upstream` are finished and
/// the target has gone quiet before this returns (see [`quiesce`]).
pub async fn spawn_cmd(
    cmd: &str,
    sc: &Scenario,
    spec: &ProbeSpec,
    upstream: Option<&TcpListener>,
    cfg: &RunConfig,
) -> Result<RunningTarget, String> {
    let up_addr = upstream.and_then(|l| l.local_addr().ok());
    let listen = free_port(&sc.target.bind, sc.target.proto)?;
    let mut words = command_line(cmd, listen, up_addr)?;
    let program = PathBuf::from(words.remove(0));
    let tc = TargetCommand {
        program,
        args: words,
        max_fds: sc.target.options.max_fds,
    };
    let held: Option<Held> = upstream.map(|_| Held::default());
    let poll = cmd
        .contains("{port}")
        .then(|| ready_poll(sc.target.proto, listen, spec, held.clone()));
    let target = RunningTarget::spawn_polling(&tc, cfg.ready_timeout, poll)
        .await
        .map_err(|e| format!("target did not start: {e}"))?;
    if let (Some(listener), Some(held)) = (upstream, held) {
        let held = std::mem::take(&mut *held.lock().unwrap_or_else(|e| e.into_inner()));
        if !held.is_empty() {
            // On error `target` drops here: its process group is killed.
            quiesce::drain_readiness(held, listener).await?;
            quiesce::wait_quiet(|| target.sample("quiet")).await;
        }
    }
    Ok(target)
}

/// What the runner needs from the scenario's server, whoever runs it.
pub enum Live {
    /// A child process (built-in server or `--target-cmd`).
    Process(Box<RunningTarget>),
    /// `--target-addr`: someone else's process.
    Attached(SocketAddr),
}

impl Live {
    /// What freezes the target's process tree for `pause` steps; `None`
    /// for `--target-addr` (not our process: nothing to freeze).
    pub fn pauser(&self) -> Option<crate::subject::Pauser> {
        match self {
            Live::Process(t) => Some(t.pauser()),
            Live::Attached(_) => None,
        }
    }
    pub fn addr(&self) -> SocketAddr {
        match self {
            Live::Process(t) => t.addr(),
            Live::Attached(a) => *a,
        }
    }
    pub fn sample(&self, label: &str) -> ResourceSample {
        match self {
            Live::Process(t) => t.sample(label),
            Live::Attached(_) => ResourceSample {
                label: label.to_string(),
                ..Default::default()
            },
        }
    }
    pub fn try_exit(&mut self) -> Option<ExitInfo> {
        match self {
            Live::Process(t) => t.try_exit(),
            Live::Attached(_) => None,
        }
    }
    pub async fn wait_exit(&mut self, d: Duration) -> Option<ExitInfo> {
        match self {
            Live::Process(t) => t.wait_exit(d).await,
            Live::Attached(_) => None,
        }
    }
    pub async fn kill(&mut self) -> Option<ExitInfo> {
        match self {
            Live::Process(t) => t.kill().await,
            Live::Attached(_) => None,
        }
    }
    pub async fn settle_logs(&self, d: Duration) {
        if let Live::Process(t) = self {
            t.settle_logs(d).await;
        }
    }
    pub fn events(&self) -> Vec<ServerEvent> {
        match self {
            Live::Process(t) => t.events(),
            Live::Attached(_) => Vec::new(),
        }
    }
    /// What the process wrote; `None` for someone else's process.
    pub fn output(&self) -> Option<TargetOutput> {
        match self {
            Live::Process(t) => Some(t.output()),
            Live::Attached(_) => None,
        }
    }
    pub fn attached(&self) -> bool {
        matches!(self, Live::Attached(_))
    }
}

/// Notes for a result against an external target: what netrepro could not
/// do to a program it did not write, so nothing differs silently.
///
/// Every server option is named in the destructuring below (no `..`): a new
/// option does not compile until this function says whether it applies.
pub fn notes(sc: &Scenario, ext: &ExternalTarget) -> Vec<String> {
    let mut n = Vec::new();
    let ServerOptions {
        ip_recverr,
        max_fds,
        reply_delay_ms,
        idle_timeout_ms,
    } = &sc.target.options;
    if *ip_recverr {
        n.push("ip_recverr = true is not applied to an external target: netrepro cannot set socket options in another program (set IP_RECVERR yourself, e.g. the examples' --recverr)".into());
    }
    if let Some(ms) = reply_delay_ms {
        n.push(format!("reply_delay_ms = {ms} is not applied to an external target: the scenario assumes replies are delayed that long (pass your program a delay if it has one)"));
    }
    if let Some(ms) = idle_timeout_ms {
        n.push(format!("idle_timeout_ms = {ms} is not applied to an external target: it configures the built-in hardened server's idle timeout (your program closes idle connections by its own rules, if at all)"));
    }
    match &ext.kind {
        ExternalKind::Addr(_) => {
            n.push("--target-addr: crash detection by probe only (refused = crashed, no answer = hung); no exit status, resources or server error log".into());
            if let Some(limit) = max_fds {
                n.push(format!(
                    "max_fds = {limit} is not applied: netrepro did not start this process"
                ));
            }
        }
        // Applied: RLIMIT_NOFILE is set in the child before exec (Unix; on
        // Windows `os_options` skips a max_fds scenario for every target).
        ExternalKind::Cmd(_) => {}
    }
    if ext.expect.is_empty() {
        n.push("the scenario's naive/hardened expectations do not apply to an external target; pass --expect to verify a verdict".into());
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of `ServerOptions`, by its scenario-file name, set to a
    /// non-default value (found through serde, so a new field is covered
    /// without editing this test).
    fn each_option_set() -> Vec<(String, ServerOptions)> {
        let all = serde_json::to_value(ServerOptions::default()).unwrap();
        let keys: Vec<String> = all.as_object().unwrap().keys().cloned().collect();
        assert!(keys.len() >= 4, "{keys:?}");
        keys.into_iter()
            .map(|k| {
                let mut v = all.clone();
                v[&k] = match &all[&k] {
                    serde_json::Value::Bool(_) => true.into(),
                    _ => 7.into(),
                };
                (k, serde_json::from_value(v).unwrap())
            })
            .collect()
    }

    fn scenario_with(options: ServerOptions) -> Scenario {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../scenarios/tcp/rst-mid-request.toml");
        let mut sc = netrepro_scenario::load_file(&path).unwrap();
        sc.target.options = options;
        sc
    }

    fn target(kind: ExternalKind) -> ExternalTarget {
        ExternalTarget {
            kind,
            probe: ProbeSpec::default(),
            expect: vec![Verdict::Survived],
            allow_remote: false,
            mode: Mode::Echo,
        }
    }

    #[test]
    fn the_mode_defaults_to_what_the_command_can_be_and_must_agree_with_it() {
        let echo = ExternalKind::Cmd("socat TCP-LISTEN:{port} EXEC:cat".into());
        let fwd = ExternalKind::Cmd("socat TCP-LISTEN:{port} TCP:{upstream}".into());
        let addr = ExternalKind::Addr("127.0.0.1:9".parse().unwrap());
        assert_eq!(target_mode(&echo, None), Ok(Mode::Echo));
        assert_eq!(target_mode(&fwd, None), Ok(Mode::Forward));
        assert_eq!(target_mode(&addr, None), Ok(Mode::Echo));
        assert_eq!(target_mode(&echo, Some(Mode::Echo)), Ok(Mode::Echo));
        assert_eq!(target_mode(&fwd, Some(Mode::Forward)), Ok(Mode::Forward));
        assert!(target_mode(&echo, Some(Mode::Forward)).is_err());
        assert!(target_mode(&fwd, Some(Mode::Echo)).is_err());
        assert!(target_mode(&addr, Some(Mode::Forward)).is_err());
    }

    #[test]
    fn every_option_that_cannot_be_applied_is_named_in_the_notes() {
        let cmd = target(ExternalKind::Cmd("x {port}".into()));
        let addr = target(ExternalKind::Addr("127.0.0.1:9".parse().unwrap()));
        // No option set: nothing to say about options.
        let plain = scenario_with(ServerOptions::default());
        assert!(notes(&plain, &cmd).is_empty(), "{:?}", notes(&plain, &cmd));
        for (key, options) in each_option_set() {
            let sc = scenario_with(options);
            let named = |t: &ExternalTarget| {
                notes(&sc, t)
                    .iter()
                    .any(|n| n.starts_with(&key) && n.contains("not applied"))
            };
            // A process netrepro did not start gets none of them.
            assert!(named(&addr), "{key}: {:?}", notes(&sc, &addr));
            // A started command gets its descriptor limit, nothing else.
            assert_eq!(
                named(&cmd),
                key != "max_fds",
                "{key}: {:?}",
                notes(&sc, &cmd)
            );
        }
    }
}
