//! [`Target`]: the server under test, as the user names it (a program and
//! its arguments, a command line, or an address), turned into the runner's
//! [`ExternalTarget`].

use netrepro_runner::external::{self, target_mode, AddrOrigin, NotLoopback};
use netrepro_runner::probe::ProbeSpec;
use netrepro_runner::{ExternalKind, ExternalTarget};
use netrepro_scenario::{Mode, Verdict};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The server the scenarios run against.
///
/// A started program (from [`Target::program`] or [`Target::command`]) gets
/// a fresh process per scenario, and is told where to listen through the
/// placeholders `{port}`, `{host}` and `{addr}` (host:port) in its
/// arguments, or announces it by printing `LISTENING <addr>` on stdout. A
/// forwarder takes its upstream address through `{upstream}`; it then runs
/// the forward-mode scenarios, any other program the echo-mode ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Program { program: PathBuf, args: Vec<String> },
    Command(String),
    Addr(SocketAddr),
}

/// A [`Target`] that cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The program's path is not valid Unicode, so it cannot be passed on.
    #[error("the program path {0:?} is not valid Unicode")]
    NotUnicode(PathBuf),
    /// A program path or argument contains a NUL byte.
    #[error("{0:?} contains a NUL byte, which no command line can carry")]
    Nul(String),
    /// The address is outside loopback: netrepro only talks to loopback.
    #[error(transparent)]
    NotLoopback(#[from] NotLoopback),
}

impl Target {
    /// A program to start, e.g. `env!("CARGO_BIN_EXE_my-server")`; add its
    /// arguments with [`Target::arg`] / [`Target::args`]. The program is run
    /// directly (no shell).
    pub fn program(path: impl Into<PathBuf>) -> Target {
        Target {
            kind: Kind::Program {
                program: path.into(),
                args: Vec::new(),
            },
        }
    }

    /// A command line, split like a POSIX shell would (quotes, backslashes;
    /// no expansion, no shell), e.g. `"python3 server.py --port {port}"`.
    pub fn command(line: impl Into<String>) -> Target {
        Target {
            kind: Kind::Command(line.into()),
        }
    }

    /// A server that is already running on a loopback address. netrepro did
    /// not start it, so it can only tell a crash by a refused probe, cannot
    /// pause it (such scenarios are skipped) and sees no exit status.
    pub fn addr(addr: SocketAddr) -> Target {
        Target {
            kind: Kind::Addr(addr),
        }
    }

    /// One more argument for a [`Target::program`] (placeholders allowed).
    /// On a command line or an address there is nothing to add it to: it is
    /// ignored there.
    pub fn arg(mut self, arg: impl Into<String>) -> Target {
        if let Kind::Program { args, .. } = &mut self.kind {
            args.push(arg.into());
        }
        self
    }

    /// More arguments for a [`Target::program`], as [`Target::arg`].
    pub fn args<I, S>(self, args: I) -> Target
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        args.into_iter().fold(self, Target::arg)
    }

    /// The runner's target, expecting one of `expect`.
    pub(crate) fn external(&self, expect: Vec<Verdict>) -> Result<ExternalTarget, TargetError> {
        let kind = match &self.kind {
            Kind::Program { program, args } => {
                let program = program
                    .to_str()
                    .ok_or_else(|| TargetError::NotUnicode(program.clone()))?;
                // The runner takes a command line; quoting each word makes it
                // split back into exactly these words (single quotes keep a
                // Windows path's backslashes).
                let mut words = Vec::with_capacity(args.len() + 1);
                for w in std::iter::once(program).chain(args.iter().map(String::as_str)) {
                    let q = shlex::try_quote(w).map_err(|_| TargetError::Nul(w.to_string()))?;
                    words.push(q.into_owned());
                }
                ExternalKind::Cmd(words.join(" "))
            }
            Kind::Command(c) => ExternalKind::Cmd(c.clone()),
            Kind::Addr(a) => {
                external::loopback_rule(*a, false, AddrOrigin::TargetAddr)?;
                ExternalKind::Addr(*a)
            }
        };
        // Without a given mode this cannot fail: it is what the target can be.
        let mode = target_mode(&kind, None).unwrap_or(Mode::Echo);
        Ok(ExternalTarget {
            kind,
            probe: ProbeSpec::default(),
            expect,
            allow_remote: false,
            mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netrepro_runner::start::command::command_line;

    #[test]
    fn a_program_and_its_arguments_reach_the_runner_word_for_word() {
        let t = Target::program(r"C:\Program Files\srv.exe")
            .arg("--name")
            .args(["it's", "{port}"]);
        let ext = t.external(vec![Verdict::Survived]).unwrap();
        let ExternalKind::Cmd(line) = &ext.kind else {
            panic!("{ext:?}")
        };
        let words = command_line(line, "127.0.0.1:4000".parse().unwrap(), None).unwrap();
        assert_eq!(
            words,
            [r"C:\Program Files\srv.exe", "--name", "it's", "4000"]
        );
        assert_eq!(ext.mode, Mode::Echo);
        assert_eq!(ext.expect, [Verdict::Survived]);
    }

    #[test]
    fn a_forwarder_is_one_that_takes_its_upstream() {
        let t = Target::command("socat TCP-LISTEN:{port} TCP:{upstream}");
        assert_eq!(t.external(vec![]).unwrap().mode, Mode::Forward);
    }

    #[test]
    fn an_address_outside_loopback_is_refused() {
        let t = Target::addr("192.0.2.1:80".parse().unwrap());
        assert!(matches!(
            t.external(vec![]),
            Err(TargetError::NotLoopback(_))
        ));
        let t = Target::addr("127.0.0.1:80".parse().unwrap());
        assert!(t.external(vec![]).is_ok());
    }

    #[test]
    fn a_nul_byte_is_an_error_not_a_truncated_argument() {
        let t = Target::program("srv").arg("a\0b");
        assert!(matches!(t.external(vec![]), Err(TargetError::Nul(_))));
    }
}
