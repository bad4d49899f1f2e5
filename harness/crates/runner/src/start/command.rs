//! Starting a `--target-cmd` program: the user's own server, one fresh
//! process per scenario, through the same [`RunningTarget`] as the built-in
//! servers (process group, stderr JSON events, resource sampling, exit
//! detection, kill).
//!
//! Readiness: a `LISTENING <addr>` line if it prints one; otherwise, if the
//! command contains `{port}`, TCP: the port accepts a connection, UDP: the
//! port answers the probe. Without `{port}` only the `LISTENING` line can
//! make it ready. All bounded by the ready timeout. In forward mode the
//! readiness connections are kept and finished before the scenario starts
//! (`quiesce`): nothing readiness relayed to the upstream listener can reach
//! the scenario's `upstream accept`. In echo mode they are finished too (a
//! FIN, then the target's close, bounded), so the baseline resource sample
//! never counts a readiness connection the target is still closing.

use crate::probe::{self, ProbeSpec};
use crate::quiesce::{self, NotRelayed};
use crate::subject::{ReadyPoll, RunningTarget, TargetCommand, TargetError};
use netrepro_scenario::{Mode, Proto, Scenario};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// How long one readiness check may take.
const READY_CHECK_TIMEOUT: Duration = Duration::from_millis(200);

/// A `--target-cmd` that cannot be turned into a program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandLineError {
    #[error("cannot split --target-cmd {0:?}: unbalanced quotes")]
    Unbalanced(String),
    #[error("--target-cmd is empty")]
    Empty,
    /// `{upstream}` in a command run for an echo-mode scenario.
    #[error("--target-cmd uses {{upstream}}, which exists only for mode = \"forward\" scenarios")]
    UpstreamOutsideForward,
}

/// Why a `--target-cmd` program did not become a ready target.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The harness found no free port to give the program.
    #[error("cannot find a free port on {bind}: {source}")]
    NoFreePort {
        bind: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    CommandLine(#[from] CommandLineError),
    #[error("target did not start: {0}")]
    NotStarted(#[source] TargetError),
    #[error(transparent)]
    NotRelayed(#[from] NotRelayed),
}

/// Split `cmd` like a POSIX shell would (quotes, backslashes; no expansion)
/// and substitute the placeholders. Errors are for the user.
pub fn command_line(
    cmd: &str,
    listen: SocketAddr,
    upstream: Option<SocketAddr>,
) -> Result<Vec<String>, CommandLineError> {
    let words = shlex::split(cmd).ok_or_else(|| CommandLineError::Unbalanced(cmd.to_string()))?;
    if words.is_empty() {
        return Err(CommandLineError::Empty);
    }
    if upstream.is_none() && cmd.contains("{upstream}") {
        return Err(CommandLineError::UpstreamOutsideForward);
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

/// A loopback port on `ip` that was free a moment ago (bound, read,
/// released), for the program to bind right after. It comes from outside
/// the OS's ephemeral range ([`netrepro_sys::ports`]) so that no outgoing
/// connection (another run's client, a test beside this one) can be given
/// it in between: with a port the OS picked (port 0) that happened once in
/// a test run at eight tests at a time (echo-server, tcp/rst-mid-request:
/// the program's bind failed with EADDRINUSE). Random ports are tried, at
/// most [`PORT_TRIES`]; port 0 is the fallback when none binds or there is
/// no range. Built-in servers take theirs here too (`builtin::spawn`).
pub(crate) fn free_port(ip: IpAddr, proto: Proto) -> std::io::Result<SocketAddr> {
    let bind = |port| {
        let at = SocketAddr::new(ip, port);
        match proto {
            Proto::Tcp => std::net::TcpListener::bind(at).and_then(|l| l.local_addr()),
            Proto::Udp => std::net::UdpSocket::bind(at).and_then(|s| s.local_addr()),
        }
    };
    let range = netrepro_sys::ports::listen_range();
    // Two runs of this process must not be handed the same port while
    // neither program has bound it yet: a port picked lately is not
    // picked again (a random pick alone repeats one in ~12,000 picks; other
    // processes' picks are left to that chance).
    let mut recent = RECENT.lock().unwrap_or_else(|e| e.into_inner());
    let got = pick_port(range, crate::loopback::random_u64, |port| {
        if port != 0 && recent.contains(&port) {
            return Err(std::io::ErrorKind::AddrInUse.into());
        }
        bind(port)
    })?;
    if recent.len() >= RECENT_PORTS {
        recent.pop_front();
    }
    recent.push_back(got.port());
    Ok(got)
}

/// Ports [`free_port`] handed out lately in this process, oldest first.
static RECENT: Mutex<std::collections::VecDeque<u16>> =
    Mutex::new(std::collections::VecDeque::new());
/// How many of them are remembered: far more than the runs at once.
const RECENT_PORTS: usize = 512;

/// How many ports of the range [`free_port`] tries before port 0.
const PORT_TRIES: u32 = 16;

/// [`free_port`]'s choice, with its randomness and its bind given.
fn pick_port(
    range: Option<std::ops::Range<u16>>,
    mut random: impl FnMut() -> u64,
    bind: impl Fn(u16) -> std::io::Result<SocketAddr>,
) -> std::io::Result<SocketAddr> {
    if let Some(r) = range.filter(|r| !r.is_empty()) {
        let width = u64::from(r.end - r.start);
        for _ in 0..PORT_TRIES {
            // The remainder is below `width`, itself a u16.
            let port = r.start + (random() % width) as u16;
            if let Ok(a) = bind(port) {
                return Ok(a);
            }
        }
    }
    bind(0)
}

/// Readiness connections kept open for [`quiesce::drain_readiness`].
type Held = Arc<Mutex<Vec<tokio::net::TcpStream>>>;

/// Readiness without a `LISTENING` line, for a program told to use `addr`.
/// With `hold`, every connection that succeeds is kept there instead of
/// closed, so it can be finished before the scenario starts (forward mode:
/// with what the forwarder relayed of it; echo mode: until the target has
/// closed its side, see `quiesce::close_readiness`).
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

/// Start `--target-cmd` for `sc`, told to listen on a free port of `bind`
/// (the scenario's address). In forward mode (`upstream` given), the
/// readiness connections the forwarder relayed to `upstream` are finished and
/// the target has gone quiet before this returns (see [`quiesce`]).
pub async fn spawn(
    cmd: &str,
    sc: &Scenario,
    bind: IpAddr,
    spec: &ProbeSpec,
    upstream: Option<&TcpListener>,
    ready_timeout: Duration,
) -> Result<RunningTarget, CommandError> {
    let up_addr = upstream.and_then(|l| l.local_addr().ok());
    let listen = free_port(bind, sc.target.proto).map_err(|source| CommandError::NoFreePort {
        bind: sc.target.bind.clone(),
        source,
    })?;
    let mut words = command_line(cmd, listen, up_addr)?;
    let program = PathBuf::from(words.remove(0));
    let tc = TargetCommand {
        program,
        args: words,
        max_fds: sc.target.options.max_fds,
    };
    let held = Held::default();
    let poll = cmd
        .contains("{port}")
        .then(|| ready_poll(sc.target.proto, listen, spec, Some(held.clone())));
    let target = RunningTarget::spawn_polling(&tc, ready_timeout, poll)
        .await
        .map_err(CommandError::NotStarted)?;
    let held = std::mem::take(&mut *held.lock().unwrap_or_else(|e| e.into_inner()));
    if held.is_empty() {
        return Ok(target);
    }
    match upstream {
        // On error `target` drops here: its process group is killed.
        Some(listener) => quiesce::drain_readiness(held, listener).await?,
        None => quiesce::close_readiness(held).await,
    }
    quiesce::wait_quiet(|| target.sample("quiet")).await;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picked_port_comes_from_the_range_skips_taken_ones_and_falls_back_to_zero() {
        use std::cell::Cell;
        let addr = |p| -> std::io::Result<SocketAddr> { Ok(SocketAddr::from(([127, 0, 0, 1], p))) };
        let taken = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        // Randomness 0, 1, 2, ...: ports 20000, 20001, ...; the first two are taken.
        let n = Cell::new(0u64);
        let next = || {
            n.set(n.get() + 1);
            n.get() - 1
        };
        let got = pick_port(Some(20000..20100), next, |p| {
            if p < 20002 {
                Err(std::io::Error::from(std::io::ErrorKind::AddrInUse))
            } else {
                addr(p)
            }
        });
        assert_eq!(got.unwrap().port(), 20002);
        // Every try taken: port 0 (the OS's pick), after PORT_TRIES tries.
        let tries = Cell::new(0);
        let got = pick_port(
            Some(20000..20100),
            || 7,
            |p| {
                tries.set(tries.get() + 1);
                if p == 0 {
                    addr(54321)
                } else {
                    Err(std::io::Error::from(taken.kind()))
                }
            },
        );
        assert_eq!(got.unwrap().port(), 54321);
        assert_eq!(tries.get(), PORT_TRIES + 1);
        // No range: port 0 at once.
        let got = pick_port(
            None,
            || 7,
            |p| {
                if p == 0 {
                    addr(40000)
                } else {
                    panic!("tried {p}")
                }
            },
        );
        assert_eq!(got.unwrap().port(), 40000);
    }

    #[test]
    fn one_process_is_not_handed_the_same_port_twice_in_a_row() {
        // 200 random picks from ~12,000 ports would repeat one with a
        // probability of about 80 % without the memory of recent picks.
        let ports: Vec<u16> = (0..200)
            .map(|_| {
                free_port(IpAddr::from([127, 0, 0, 1]), Proto::Tcp)
                    .unwrap()
                    .port()
            })
            .collect();
        let distinct: std::collections::BTreeSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len());
    }

    #[test]
    fn free_port_binds_outside_the_ephemeral_range_here() {
        let eph = netrepro_sys::ports::ephemeral_range();
        for proto in [Proto::Tcp, Proto::Udp] {
            let a = free_port(IpAddr::from([127, 0, 0, 1]), proto).unwrap();
            if netrepro_sys::ports::listen_range().is_some() {
                assert!(!eph.contains(&u32::from(a.port())), "{a} in {eph:?}");
            }
            // Released: the program can bind it.
            match proto {
                Proto::Tcp => drop(std::net::TcpListener::bind(a).unwrap()),
                Proto::Udp => drop(std::net::UdpSocket::bind(a).unwrap()),
            }
        }
    }

    #[test]
    fn placeholders_are_substituted_and_bad_commands_are_named() {
        let listen: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let up: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(
            command_line("srv --port {port} --to '{upstream}'", listen, Some(up)),
            Ok(vec![
                "srv".to_string(),
                "--port".into(),
                "4000".into(),
                "--to".into(),
                "127.0.0.1:5000".into()
            ])
        );
        assert_eq!(
            command_line("srv '{port}", listen, None),
            Err(CommandLineError::Unbalanced("srv '{port}".into()))
        );
        assert_eq!(
            command_line("  ", listen, None),
            Err(CommandLineError::Empty)
        );
        assert_eq!(
            command_line("fwd {upstream}", listen, None),
            Err(CommandLineError::UpstreamOutsideForward)
        );
    }
}
