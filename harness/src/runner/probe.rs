//! The liveness probe: a fresh client asks the server for one echo. A server
//! that answers it "survived"; one that is alive but silent "hung".

use crate::errors;
use crate::observe::StepOutcome;
use crate::scenario::{Mode, Proto};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::time::{timeout, Instant};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProbeResult {
    /// The reply came back byte for byte.
    pub served: bool,
    pub outcome: StepOutcome,
    pub elapsed_ms: u64,
}

const PAYLOAD: &[u8] = b"netrepro-probe\n";

/// Probe `server`. In forward mode the harness answers as the upstream on
/// `upstream` for as long as the probe runs.
pub async fn probe(
    proto: Proto,
    mode: Mode,
    server: SocketAddr,
    upstream: Option<Arc<TcpListener>>,
    limit: Duration,
) -> ProbeResult {
    let started = Instant::now();
    let echo = match (mode, upstream) {
        (Mode::Forward, Some(l)) => Some(tokio::spawn(upstream_echo(l))),
        _ => None,
    };
    let outcome = match timeout(limit, attempt(proto, server)).await {
        Ok(o) => o,
        Err(_) => StepOutcome::Timeout {
            bytes: 0,
            after_ms: limit.as_millis() as u64,
        },
    };
    if let Some(task) = echo {
        task.abort();
    }
    ProbeResult {
        served: outcome
            == (StepOutcome::Ok {
                bytes: PAYLOAD.len(),
            }),
        outcome,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}

fn err(bytes: usize, e: &std::io::Error) -> StepOutcome {
    StepOutcome::Error {
        bytes,
        error: errors::observe(e),
    }
}

async fn attempt(proto: Proto, server: SocketAddr) -> StepOutcome {
    match proto {
        Proto::Tcp => {
            let mut s = match TcpStream::connect(server).await {
                Ok(s) => s,
                Err(e) => return err(0, &e),
            };
            if let Err(e) = s.write_all(PAYLOAD).await {
                return err(0, &e);
            }
            let mut buf = vec![0u8; PAYLOAD.len()];
            let mut got = 0;
            while got < buf.len() {
                match s.read(&mut buf[got..]).await {
                    Ok(0) => return StepOutcome::Eof { bytes: got },
                    Ok(n) => got += n,
                    Err(e) => return err(got, &e),
                }
            }
            if buf == PAYLOAD {
                StepOutcome::Ok { bytes: got }
            } else {
                StepOutcome::Ok { bytes: 0 }
            }
        }
        Proto::Udp => {
            let sock = match crate::client::udp_bind_for(server).await {
                Ok(s) => s,
                Err(e) => return err(0, &e),
            };
            if let Err(e) = sock.send_to(PAYLOAD, server).await {
                return err(0, &e);
            }
            recv_udp_reply(&sock, server).await
        }
    }
}

async fn recv_udp_reply(sock: &UdpSocket, server: SocketAddr) -> StepOutcome {
    let mut buf = vec![0u8; 2048];
    // Bounded by the caller's timeout; datagrams from elsewhere are skipped.
    loop {
        match sock.recv_from(&mut buf).await {
            Ok((n, from)) if from == server => {
                return if &buf[..n] == PAYLOAD {
                    StepOutcome::Ok { bytes: n }
                } else {
                    StepOutcome::Ok { bytes: 0 }
                };
            }
            Ok(_) => continue,
            Err(e) => return err(0, &e),
        }
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
