//! External targets: the user's own server, started from a command line
//! (`run --target-cmd 'python3 server.py --port {port}'`) or already running
//! (`--target-addr 127.0.0.1:9000`). This module says what such a target is
//! and which rules apply to it (its mode, loopback only, the scenarios it
//! skips, the notes on what netrepro cannot do to it); starting a
//! `--target-cmd` program is `start::command`.
//!
//! A `--target-addr` server is not ours: no resources, no exit status; a
//! probe that is refused counts as crashed, one that times out as hung, and
//! the result says so in its notes.

use crate::probe::ProbeSpec;
use netrepro_report::{ExternalKindName, ExternalTargetInfo};
use netrepro_scenario::{Mode, Scenario, ServerOptions, Verdict};
use std::fmt;
use std::net::SocketAddr;

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

/// A `--mode` that contradicts what the external target can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModeError {
    /// `--mode echo` with a `--target-cmd` that takes `{upstream}`.
    #[error("--mode echo, but --target-cmd has {{upstream}}, which only a forwarder takes")]
    EchoWithUpstream,
    /// `--mode forward` with `--target-addr`.
    #[error("--mode forward needs --target-cmd with {{upstream}}: each run gives the forwarder its own upstream address")]
    ForwardAddr,
    /// `--mode forward` with a `--target-cmd` without `{upstream}`.
    #[error("--mode forward: put {{upstream}} in --target-cmd where your forwarder takes its upstream address")]
    ForwardWithoutUpstream,
}

/// The mode an external target runs in: `--mode` if given, else what the
/// target can be. A `--target-cmd` is a forwarder exactly when it takes the
/// upstream address (`{upstream}`), so that decides the default, and a
/// `--mode` that contradicts it is a usage error. A `--target-addr` server
/// cannot be told where its upstream is: echo only.
pub fn target_mode(kind: &ExternalKind, given: Option<Mode>) -> Result<Mode, ModeError> {
    let can = match kind {
        ExternalKind::Cmd(c) if c.contains("{upstream}") => Mode::Forward,
        ExternalKind::Cmd(_) | ExternalKind::Addr(_) => Mode::Echo,
    };
    match (given, can, kind) {
        (None, m, _) => Ok(m),
        (Some(g), m, _) if g == m => Ok(m),
        (Some(_), Mode::Forward, _) => Err(ModeError::EchoWithUpstream),
        (Some(_), _, ExternalKind::Addr(_)) => Err(ModeError::ForwardAddr),
        (Some(_), _, ExternalKind::Cmd(_)) => Err(ModeError::ForwardWithoutUpstream),
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

/// Where an address checked by [`loopback_rule`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrOrigin {
    /// The user's `--target-addr`.
    TargetAddr,
    /// The `LISTENING <addr>` line of a started `--target-cmd` program.
    Announced,
}

impl fmt::Display for AddrOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddrOrigin::TargetAddr => "--target-addr",
            AddrOrigin::Announced => "the target announced `LISTENING <addr>` with",
        })
    }
}

/// An address outside loopback without `--allow-remote`: the user's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{origin} {addr} is not a loopback address; netrepro sends traffic to loopback only unless you pass --allow-remote")]
pub struct NotLoopback {
    pub origin: AddrOrigin,
    pub addr: SocketAddr,
}

/// The loopback rule, for `--target-addr` and for the address a
/// `--target-cmd` program announces (`LISTENING <addr>`) alike: netrepro
/// sends traffic to loopback only unless `--allow-remote`.
pub fn loopback_rule(
    addr: SocketAddr,
    allow_remote: bool,
    origin: AddrOrigin,
) -> Result<(), NotLoopback> {
    if addr.ip().is_loopback() || allow_remote {
        return Ok(());
    }
    Err(NotLoopback { origin, addr })
}

/// Check the address a started `--target-cmd` program announced, before
/// anything connects to it. The error is the user's input (exit code 2).
pub fn check_announced(addr: SocketAddr, ext: &ExternalTarget) -> Result<(), NotLoopback> {
    match ext.kind {
        ExternalKind::Cmd(_) => loopback_rule(addr, ext.allow_remote, AddrOrigin::Announced),
        // Checked when the flags were read.
        ExternalKind::Addr(_) => Ok(()),
    }
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
        assert_eq!(
            target_mode(&echo, Some(Mode::Forward)),
            Err(ModeError::ForwardWithoutUpstream)
        );
        assert_eq!(
            target_mode(&fwd, Some(Mode::Echo)),
            Err(ModeError::EchoWithUpstream)
        );
        assert_eq!(
            target_mode(&addr, Some(Mode::Forward)),
            Err(ModeError::ForwardAddr)
        );
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
