//! The liveness probe: a fresh client asks the server for one echo. A server
//! that answers it "survived"; one that is alive but silent "hung".
//! External targets may speak something else than echo: [`ProbeSpec`] says
//! what to send and which reply counts (`run --probe-send / --probe-expect`).

use netrepro_observe::StepOutcome;
use netrepro_scenario::{Mode, Proto};
use netrepro_sys::errors::ErrorClass;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::time::{timeout, Instant};

pub use netrepro_observe::ProbeResult;

/// What the probe sends and which reply means "served".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeSpec {
    /// Bytes to send; `None` = a fresh payload per probe, expected back (echo).
    pub send: Option<Vec<u8>>,
    pub expect: ProbeExpect,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProbeExpect {
    /// The sent bytes, byte for byte.
    #[default]
    Echo,
    /// Exactly these bytes (TCP: read until that many arrived).
    Bytes(Vec<u8>),
    /// Any reply of at least one byte.
    Any,
}

/// Makes every default probe payload different, so a reply left over from
/// an earlier probe can never pass for this one.
static PROBE_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl ProbeSpec {
    /// (bytes to send, reply that counts, or `None` for any reply).
    fn exchange(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        let send = self.send.clone().unwrap_or_else(|| {
            let n = PROBE_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            format!("netrepro-probe-{}-{n}\n", std::process::id()).into_bytes()
        });
        let want = match &self.expect {
            ProbeExpect::Echo => Some(send.clone()),
            ProbeExpect::Bytes(b) => Some(b.clone()),
            ProbeExpect::Any => None,
        };
        (send, want)
    }
}

/// Probe `server` as `spec` says. In forward mode the harness answers as
/// the upstream on `upstream` for as long as the probe runs.
pub async fn probe_with(
    spec: &ProbeSpec,
    proto: Proto,
    mode: Mode,
    server: SocketAddr,
    upstream: Option<Arc<TcpListener>>,
    limit: Duration,
) -> ProbeResult {
    let started = Instant::now();
    let (send, want) = spec.exchange();
    let echo = match (mode, upstream) {
        (Mode::Forward, Some(l)) => Some(tokio::spawn(upstream_echo(l))),
        _ => None,
    };
    let outcome = match timeout(limit, attempt(proto, server, &send, want.as_deref())).await {
        Ok(o) => o,
        Err(_) => StepOutcome::timed_out(0, limit),
    };
    if let Some(task) = echo {
        task.abort();
    }
    let served = match &outcome {
        StepOutcome::Ok { bytes } => {
            *bytes > 0 && want.as_ref().map_or(true, |w| w.len() == *bytes)
        }
        _ => false,
    };
    ProbeResult {
        served,
        outcome,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}

/// `Ok { bytes }` with the reply's length if it counts, `Ok { bytes: 0 }`
/// for a reply that does not.
async fn attempt(
    proto: Proto,
    server: SocketAddr,
    send: &[u8],
    want: Option<&[u8]>,
) -> StepOutcome {
    match proto {
        Proto::Tcp => {
            let mut s = match TcpStream::connect(server).await {
                Ok(s) => s,
                Err(e) => return StepOutcome::os_error(0, &e),
            };
            if let Err(e) = s.write_all(send).await {
                return StepOutcome::os_error(0, &e);
            }
            // Any reply: the first read decides; otherwise read the expected length.
            let mut buf = vec![0u8; want.map_or(2048, <[u8]>::len)];
            let mut got = 0;
            while got < buf.len() {
                match s.read(&mut buf[got..]).await {
                    Ok(0) => return StepOutcome::Eof { bytes: got },
                    Ok(n) => got += n,
                    Err(e) => return StepOutcome::os_error(got, &e),
                }
                if want.is_none() {
                    break;
                }
            }
            match want {
                Some(w) if buf != w => StepOutcome::Ok { bytes: 0 },
                _ => StepOutcome::Ok { bytes: got },
            }
        }
        Proto::Udp => {
            let sock = match crate::loopback::udp_socket_for(server).await {
                Ok(s) => s,
                Err(e) => return StepOutcome::os_error(0, &e),
            };
            // Connected, so that "nobody listens there" is seen: the ICMP
            // port unreachable is reported only to a connected UDP socket
            // (Linux, macOS), and the kernel drops datagrams from any other
            // address for us. See `nobody_listening`.
            if let Err(e) = sock.connect(server).await {
                return StepOutcome::os_error(0, &e);
            }
            if let Err(e) = sock.send(send).await {
                return StepOutcome::os_error(0, &e);
            }
            recv_udp_reply(&sock, want).await
        }
    }
}

async fn recv_udp_reply(sock: &UdpSocket, want: Option<&[u8]>) -> StepOutcome {
    let mut buf = vec![0u8; 2048];
    // Bounded by the caller's timeout.
    match sock.recv(&mut buf).await {
        Ok(n) => match want {
            Some(w) if &buf[..n] != w => StepOutcome::Ok { bytes: 0 },
            _ => StepOutcome::Ok { bytes: n },
        },
        Err(e) => StepOutcome::os_error(0, &e),
    }
}

/// Did the probe learn that no socket is bound at the server's address (the
/// server is gone), as opposed to a server that answered wrongly or not at
/// all?
///
/// - TCP: the connect is refused (ECONNREFUSED / WSAECONNREFUSED).
/// - UDP, connected probe socket: the ICMP port unreachable comes back as an
///   error on the next operation. Linux: ECONNREFUSED 111 (kernel
///   `__udp4_lib_err`: only connected sockets see it without IP_RECVERR);
///   macOS/BSD: ECONNREFUSED 61 (dotnet/runtime#923: a connected UDP send
///   loop fails on Linux and OS X); Windows: WSAECONNRESET 10054 ("For a UDP
///   datagram socket, this error would indicate that a previous send
///   operation resulted in an ICMP Port Unreachable message",
///   https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-recv),
///   or ERROR_PORT_UNREACHABLE 1234 from an overlapped completion (CPython
///   gh-91227), which is already classed `refused`. Sources collected in
///   OS-BEHAVIOUR.md §4.3 and §5.4.
pub fn nobody_listening(proto: Proto, outcome: &StepOutcome) -> bool {
    let StepOutcome::Error { error, .. } = outcome else {
        return false;
    };
    match (proto, error.class) {
        (_, ErrorClass::Refused) => true,
        // A reset on UDP can only mean the ICMP error: there is no connection.
        (Proto::Udp, ErrorClass::Reset) => true,
        _ => false,
    }
}

/// Echo every connection the forwarder opens while the probe runs.
async fn upstream_echo(listener: Arc<TcpListener>) {
    let mut conns = tokio::task::JoinSet::new();
    while let Ok((mut s, _)) = listener.accept().await {
        conns.spawn(async move {
            let (mut r, mut w) = s.split();
            let _ = tokio::io::copy(&mut r, &mut w).await;
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use netrepro_sys::errors::ObservedError;

    /// A step that failed with an error of `class` (shared with `decide`'s tests).
    pub(crate) fn failed(class: ErrorClass) -> StepOutcome {
        StepOutcome::Error {
            bytes: 0,
            error: ObservedError {
                raw: None,
                name: "X".into(),
                class,
            },
        }
    }

    #[test]
    fn refused_means_gone_and_a_reset_too_but_only_for_udp() {
        assert!(nobody_listening(Proto::Tcp, &failed(ErrorClass::Refused)));
        assert!(nobody_listening(Proto::Udp, &failed(ErrorClass::Refused)));
        // Windows reports the ICMP error on a connected UDP socket as WSAECONNRESET.
        assert!(nobody_listening(Proto::Udp, &failed(ErrorClass::Reset)));
        // A TCP reset comes from a live server that accepted.
        assert!(!nobody_listening(Proto::Tcp, &failed(ErrorClass::Reset)));
        assert!(!nobody_listening(
            Proto::Udp,
            &StepOutcome::Timeout {
                bytes: 0,
                after_ms: 1
            }
        ));
    }
}
