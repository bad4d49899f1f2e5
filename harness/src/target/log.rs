//! Background readers for the child's stdout and stderr.
//!
//! Stderr lines that parse as a JSON [`ServerEvent`] become events; all other
//! lines are kept verbatim (lossy UTF-8) for diagnostics. Both buffers keep
//! only the newest [`MAX_LINES`] entries and every line is truncated to
//! [`MAX_LINE_BYTES`], so a chatty or hostile server cannot exhaust memory.
//! The pipes are drained until EOF no matter what, so the child never blocks
//! on a full pipe.

use crate::observe::ServerEvent;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;

/// Newest lines (and, separately, events) kept per stream.
pub const MAX_LINES: usize = 10_000;
/// Longer lines are cut (the rest up to the newline is discarded).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// A bounded FIFO that drops its oldest entries and counts them.
#[derive(Debug)]
pub(crate) struct Bounded<T> {
    items: VecDeque<T>,
    dropped: u64,
}

impl<T> Default for Bounded<T> {
    fn default() -> Self {
        Bounded {
            items: VecDeque::new(),
            dropped: 0,
        }
    }
}

impl<T: Clone> Bounded<T> {
    pub(crate) fn push(&mut self, item: T) {
        if self.items.len() == MAX_LINES {
            self.items.pop_front();
            self.dropped += 1;
        }
        self.items.push_back(item);
    }
    pub(crate) fn to_vec(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }
    /// The last `n` entries.
    pub(crate) fn tail(&self, n: usize) -> Vec<T> {
        let skip = self.items.len().saturating_sub(n);
        self.items.iter().skip(skip).cloned().collect()
    }
}

#[derive(Debug, Default)]
pub(crate) struct StderrState {
    pub(crate) events: Bounded<ServerEvent>,
    pub(crate) lines: Bounded<String>,
}

/// Shared view of what a stream reader collected, plus its EOF flag.
#[derive(Debug, Clone)]
pub(crate) struct Collected<S> {
    state: Arc<Mutex<S>>,
    eof: watch::Receiver<bool>,
}

impl<S> Collected<S> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, S> {
        // A panicking reader task must not make the state unreadable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn at_eof(&self) -> bool {
        *self.eof.borrow()
    }
    /// Wait up to `timeout` for the stream to reach EOF; true if it did.
    pub(crate) async fn wait_eof(&self, timeout: Duration) -> bool {
        let mut rx = self.eof.clone();
        tokio::time::timeout(timeout, rx.wait_for(|eof| *eof))
            .await
            .map(|r| r.is_ok())
            .unwrap_or(false)
            || self.at_eof()
    }
}

/// Classify one stderr line.
pub(crate) fn parse_event(line: &str) -> Option<ServerEvent> {
    let t = line.trim();
    if !t.starts_with('{') {
        return None;
    }
    serde_json::from_str(t).ok()
}

/// Read one line (without the trailing `\n` / `\r\n`) into `buf`, keeping at
/// most `max` bytes of it. Returns false at EOF with nothing read.
pub(crate) async fn read_line_bounded<R: AsyncBufRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<bool> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = r.fill_buf().await?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (used, done) = match memchr(chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let data = &chunk[..if done { used - 1 } else { used }];
        let room = max.saturating_sub(buf.len());
        buf.extend_from_slice(&data[..data.len().min(room)]);
        r.consume(used);
        if done {
            break;
        }
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(any)
}

fn memchr(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Drain `stderr` into events / raw lines until EOF.
pub(crate) fn spawn_stderr_reader<R>(stderr: R) -> Collected<StderrState>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    spawn_reader(
        stderr,
        |st: &mut StderrState, line: String| match parse_event(&line) {
            Some(ev) => st.events.push(ev),
            None => st.lines.push(line),
        },
    )
}

/// Drain `stdout` into a bounded line buffer until EOF.
pub(crate) fn spawn_stdout_reader<R>(stdout: R, seen: Bounded<String>) -> Collected<Bounded<String>>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    spawn_reader_with(stdout, seen, |st: &mut Bounded<String>, line| st.push(line))
}

fn spawn_reader<R, S, F>(r: R, f: F) -> Collected<S>
where
    R: AsyncRead + Unpin + Send + 'static,
    S: Default + Send + 'static,
    F: FnMut(&mut S, String) + Send + 'static,
{
    spawn_reader_with(r, S::default(), f)
}

fn spawn_reader_with<R, S, F>(r: R, init: S, mut f: F) -> Collected<S>
where
    R: AsyncRead + Unpin + Send + 'static,
    S: Send + 'static,
    F: FnMut(&mut S, String) + Send + 'static,
{
    let state = Arc::new(Mutex::new(init));
    let (tx, rx) = watch::channel(false);
    let shared = Arc::clone(&state);
    tokio::spawn(async move {
        let mut r = BufReader::new(r);
        let mut buf = Vec::new();
        // A read error (rare on pipes) ends the stream like EOF.
        while let Ok(true) = read_line_bounded(&mut r, &mut buf, MAX_LINE_BYTES).await {
            let line = String::from_utf8_lossy(&buf).into_owned();
            let mut st = shared.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut st, line);
        }
        let _ = tx.send(true);
    });
    Collected { state, eof: rx }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::ErrorClass;

    #[test]
    fn event_lines_parse_and_others_do_not() {
        let ev = parse_event(
            r#" {"op":"recv","raw":104,"name":"ECONNRESET","class":"reset","fatal":true,"t_ms":12}"#,
        )
        .expect("event");
        assert_eq!(ev.op, "recv");
        assert_eq!(ev.raw, Some(104));
        assert_eq!(ev.class, ErrorClass::Reset);
        assert!(ev.fatal);
        assert_eq!(parse_event("thread 'main' panicked"), None);
        assert_eq!(parse_event(r#"{"op":"recv"}"#), None);
    }

    #[test]
    fn bounded_drops_oldest() {
        let mut b = Bounded::default();
        for i in 0..MAX_LINES + 5 {
            b.push(i);
        }
        let v = b.to_vec();
        assert_eq!(v.len(), MAX_LINES);
        assert_eq!(v[0], 5);
        assert_eq!(b.dropped, 5);
        assert_eq!(b.tail(2), vec![MAX_LINES + 3, MAX_LINES + 4]);
    }

    #[tokio::test]
    async fn bounded_line_reader_truncates_and_strips_crlf() {
        let data = b"abcdef\r\nxy\nlast".to_vec();
        let mut r = BufReader::new(&data[..]);
        let mut buf = Vec::new();
        assert!(read_line_bounded(&mut r, &mut buf, 3).await.unwrap());
        assert_eq!(buf, b"abc");
        assert!(read_line_bounded(&mut r, &mut buf, 3).await.unwrap());
        assert_eq!(buf, b"xy");
        assert!(read_line_bounded(&mut r, &mut buf, 3).await.unwrap());
        assert_eq!(buf, b"las");
        assert!(!read_line_bounded(&mut r, &mut buf, 3).await.unwrap());
    }

    #[tokio::test]
    async fn stderr_reader_splits_events_and_lines() {
        let data = b"hello\n{\"op\":\"accept\",\"raw\":24,\"name\":\"EMFILE\",\"class\":\"resource-exhausted\",\"fatal\":false}\nbye".to_vec();
        let c = spawn_stderr_reader(std::io::Cursor::new(data));
        assert!(c.wait_eof(Duration::from_secs(5)).await);
        let st = c.lock();
        assert_eq!(
            st.lines.to_vec(),
            vec!["hello".to_string(), "bye".to_string()]
        );
        assert_eq!(st.events.to_vec().len(), 1);
        assert_eq!(st.events.to_vec()[0].name, "EMFILE");
    }
}
