//! Command-line flags that point `run` (and `explore`) at the user's own
//! server instead of the built-in ones: `--target-cmd`, `--target-addr`,
//! `--proto`, `--expect`, `--probe-send`, `--probe-expect`. Turns them into
//! a [`netrepro_runner::ExternalTarget`]; see
//! `runner::external` for what happens next.

use netrepro_runner::external::{loopback_rule, target_mode, AddrOrigin, ModeError, NotLoopback};
use netrepro_runner::probe::{ProbeExpect, ProbeSpec};
use netrepro_runner::{ExternalKind, ExternalTarget};
use netrepro_scenario::{Mode, Proto, Scenario, Verdict};
use std::net::SocketAddr;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExternalArgs {
    /// Run against your own server, started per scenario from this command
    /// line (no shell; quotes work). Placeholders: {port} (a free loopback
    /// port netrepro picked), {host}, {addr}, and {upstream} for forward mode.
    /// Ready when it prints `LISTENING <addr>`, or else when {port} accepts
    /// (TCP) / answers the probe (UDP).
    #[arg(long, value_name = "COMMAND", conflicts_with = "target_addr")]
    pub target_cmd: Option<String>,
    /// Run against a server that is already running (loopback only unless
    /// --allow-remote). Crash detection by probe only.
    #[arg(long, value_name = "HOST:PORT")]
    pub target_addr: Option<SocketAddr>,
    /// Allow a non-loopback --target-addr, or a --target-cmd program that
    /// announces a non-loopback address (traffic leaves this machine).
    #[arg(long)]
    pub allow_remote: bool,
    /// External target: only run scenarios of this protocol.
    #[arg(long, value_enum)]
    pub proto: Option<Proto>,
    /// External target: what your server does; scenarios of the other mode
    /// are skipped with a note. Default: forward if --target-cmd has
    /// {upstream}, else echo.
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// External target: the verdict(s) you expect; without it results are
    /// "unverified" (observations only).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub expect: Vec<Verdict>,
    /// Probe: send this text instead of a fresh echo payload (`\n` and `\r` are unescaped).
    #[arg(long, value_name = "TEXT")]
    pub probe_send: Option<String>,
    /// Probe: the reply that counts as served: this text, or `any` for any reply.
    /// Default: the sent bytes echoed back.
    #[arg(long, value_name = "TEXT|any")]
    pub probe_expect: Option<String>,
}

/// A usage error in the external-target flags (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExternalArgsError {
    #[error("--target-cmd is empty")]
    EmptyCommand,
    #[error("--target-cmd {0:?} has unbalanced quotes (or ends in a lone backslash)")]
    UnbalancedQuotes(String),
    #[error("--expect, --probe-send, --probe-expect, --allow-remote and --mode need --target-cmd or --target-addr")]
    NoTarget,
    /// A non-loopback `--target-addr` without `--allow-remote`.
    #[error(transparent)]
    NotLoopback(#[from] NotLoopback),
    /// `--mode` against what the target can be.
    #[error(transparent)]
    Mode(#[from] ModeError),
}

fn unescape(s: &str) -> Vec<u8> {
    s.replace("\\n", "\n").replace("\\r", "\r").into_bytes()
}

impl ExternalArgs {
    /// The external target, if one was given; errors are usage errors.
    pub fn target(&self) -> Result<Option<ExternalTarget>, ExternalArgsError> {
        let kind = match (&self.target_cmd, self.target_addr) {
            (Some(c), _) => {
                if c.trim().is_empty() {
                    return Err(ExternalArgsError::EmptyCommand);
                }
                // Split here, once, so a typo is one usage error rather than
                // every scenario failing to start the server.
                if shlex::split(c).is_none() {
                    return Err(ExternalArgsError::UnbalancedQuotes(c.clone()));
                }
                ExternalKind::Cmd(c.clone())
            }
            (None, Some(a)) => {
                loopback_rule(a, self.allow_remote, AddrOrigin::TargetAddr)?;
                ExternalKind::Addr(a)
            }
            (None, None) => {
                if self.probe_send.is_some()
                    || self.probe_expect.is_some()
                    || !self.expect.is_empty()
                    || self.allow_remote
                    || self.mode.is_some()
                {
                    return Err(ExternalArgsError::NoTarget);
                }
                return Ok(None);
            }
        };
        let mode = target_mode(&kind, self.mode)?;
        let probe = ProbeSpec {
            send: self.probe_send.as_deref().map(unescape),
            expect: match self.probe_expect.as_deref() {
                None => ProbeExpect::Echo,
                Some("any") => ProbeExpect::Any,
                Some(t) => ProbeExpect::Bytes(unescape(t)),
            },
        };
        Ok(Some(ExternalTarget {
            kind,
            probe,
            expect: self.expect.clone(),
            allow_remote: self.allow_remote,
            mode,
        }))
    }

    /// Does `sc` apply to the external target (`--proto`)?
    pub fn wants(&self, sc: &Scenario) -> bool {
        self.proto.map_or(true, |p| p == sc.target.proto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        x: ExternalArgs,
    }

    /// Why a command line was refused: by clap, or by `target()`.
    #[derive(Debug, PartialEq)]
    enum Refused {
        Clap(clap::error::ErrorKind),
        Target(ExternalArgsError),
    }

    fn parse(args: &[&str]) -> Result<Option<ExternalTarget>, Refused> {
        let mut v = vec!["t"];
        v.extend_from_slice(args);
        let t = T::try_parse_from(v).map_err(|e| Refused::Clap(e.kind()))?;
        t.x.target().map_err(Refused::Target)
    }

    fn refused(args: &[&str]) -> Refused {
        parse(args).expect_err("refused")
    }

    #[test]
    fn remote_addresses_need_an_explicit_override() {
        assert_eq!(
            refused(&["--target-addr", "192.0.2.1:80"]),
            Refused::Target(ExternalArgsError::NotLoopback(NotLoopback {
                origin: AddrOrigin::TargetAddr,
                addr: "192.0.2.1:80".parse().unwrap(),
            }))
        );
        assert!(parse(&["--target-addr", "192.0.2.1:80", "--allow-remote"])
            .unwrap()
            .is_some());
        assert!(parse(&["--target-addr", "[::1]:80"]).unwrap().is_some());
        // For a command, the rule applies to the address it announces.
        let t = parse(&["--target-cmd", "x", "--allow-remote"])
            .unwrap()
            .unwrap();
        assert!(t.allow_remote);
        assert_eq!(
            refused(&["--allow-remote"]),
            Refused::Target(ExternalArgsError::NoTarget)
        );
    }

    #[test]
    fn probe_and_expect_flags() {
        let t = parse(&[
            "--target-cmd",
            "x {port}",
            "--probe-send",
            "PING\\n",
            "--probe-expect",
            "any",
            "--expect",
            "survived,leaked",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(t.probe.send.as_deref(), Some(&b"PING\n"[..]));
        assert_eq!(t.probe.expect, ProbeExpect::Any);
        assert_eq!(t.expect, vec![Verdict::Survived, Verdict::Leaked]);
        assert_eq!(
            refused(&["--expect", "survived"]),
            Refused::Target(ExternalArgsError::NoTarget)
        );
        assert!(parse(&[]).unwrap().is_none());
        assert_eq!(
            refused(&["--target-cmd", "a", "--target-addr", "127.0.0.1:1"]),
            Refused::Clap(clap::error::ErrorKind::ArgumentConflict)
        );
    }

    #[test]
    fn an_empty_command_and_a_mode_the_target_cannot_be_are_usage_errors() {
        assert_eq!(
            refused(&["--target-cmd", "  "]),
            Refused::Target(ExternalArgsError::EmptyCommand)
        );
        // {upstream} makes it a forwarder; an address is an echo server.
        assert_eq!(
            refused(&["--target-cmd", "f {port} {upstream}", "--mode", "echo"]),
            Refused::Target(ExternalArgsError::Mode(ModeError::EchoWithUpstream))
        );
        assert_eq!(
            refused(&["--target-addr", "127.0.0.1:1", "--mode", "forward"]),
            Refused::Target(ExternalArgsError::Mode(ModeError::ForwardAddr))
        );
        assert_eq!(
            refused(&["--target-cmd", "f {port}", "--mode", "forward"]),
            Refused::Target(ExternalArgsError::Mode(ModeError::ForwardWithoutUpstream))
        );
    }

    #[test]
    fn unbalanced_quotes_in_the_target_command_are_a_usage_error() {
        for cmd in ["python3 'server.py {port}", "python3 \"server.py {port}"] {
            assert_eq!(
                refused(&["--target-cmd", cmd]),
                Refused::Target(ExternalArgsError::UnbalancedQuotes(cmd.into()))
            );
        }
        assert!(parse(&["--target-cmd", "python3 'server.py' {port}"])
            .unwrap()
            .is_some());
    }
}
