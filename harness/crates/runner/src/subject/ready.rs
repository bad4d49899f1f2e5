//! Readiness: a started server is ready when it prints `LISTENING <addr>`
//! on stdout, or, for programs that may not print one (external targets),
//! when a [`ReadyPoll`] check succeeds, whichever comes first. Every other
//! stdout line before it is kept; the wait ends early when the process
//! exits or prints an unreadable readiness line, and is bounded by a
//! deadline.

use super::log::{self, LineBuf, Tail};
use netrepro_observe::ExitInfo;
use netrepro_sys::process::group as process;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;
use tokio::io::AsyncBufRead;
use tokio::process::Child;
use tokio::time::Instant;

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

/// How the wait for readiness ended.
pub(super) enum Ready {
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

/// One readiness check after a short pause (never completes without a poll).
async fn poll_once(poll: &mut Option<ReadyPoll>) -> bool {
    tokio::time::sleep(READY_POLL_INTERVAL).await;
    match poll {
        Some(p) => (p.check)().await,
        None => std::future::pending().await,
    }
}

/// Wait until `child` is ready (see the module doc) or `deadline`. The
/// stdout lines read go to `seen`; a line cut short by a winning poll stays
/// in `line` for the stdout reader that takes over.
pub(super) async fn wait<R: AsyncBufRead + Unpin>(
    child: &mut Child,
    out: &mut R,
    seen: &mut Tail,
    line: &mut LineBuf,
    poll: &mut Option<ReadyPoll>,
    deadline: Instant,
) -> Ready {
    let mut stdout_open = true;
    loop {
        tokio::select! {
            biased;
            r = line.read(out, log::MAX_LINE_BYTES), if stdout_open => {
                match r {
                    Ok(Some(len)) => {
                        let text = String::from_utf8_lossy(&line.buf).into_owned();
                        let parsed = parse_ready_line(&text);
                        seen.push(&line.buf, len);
                        match parsed {
                            Some(Ok(addr)) => return Ready::Addr(addr),
                            Some(Err(())) => return Ready::Bad(text),
                            None => {}
                        }
                    }
                    // EOF: it can never become ready; wait for its exit.
                    _ => stdout_open = false,
                }
            }
            st = child.wait() => {
                return match st {
                    Ok(st) => Ready::Exited(process::exit_info(st)),
                    Err(_) => Ready::Exited(ExitInfo { code: None, signal: None }),
                };
            }
            ok = poll_once(poll), if poll.is_some() => {
                if ok {
                    if let Some(p) = poll {
                        return Ready::Addr(p.addr);
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => return Ready::Timeout,
        }
    }
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
}
