//! Background readers for the child's stdout and stderr.
//!
//! Stderr lines that parse as a JSON [`ServerEvent`] become events; in the
//! other lines, error codes the server spelled as text (a Python traceback's
//! `[Errno 104]`, Node's `code: 'ECONNRESET'`, see [`netrepro_sys::errtext`]) become
//! events marked `source = text`. Events are aggregated ([`EventLog`]).
//! Of the plain lines only the newest [`TAIL_LINES`] per stream are kept,
//! each cut to [`MAX_KEPT_LINE_BYTES`] with a note; a line is read up to
//! [`MAX_LINE_BYTES`] and the rest of it is discarded. So a chatty or
//! hostile server cannot exhaust memory, and the pipes are drained until EOF
//! no matter what, so the child never blocks on a full pipe.

use super::events::{cut, EventLog, MAX_EVENT_TEXT_BYTES};
use netrepro_observe::{EventSource, ServerEvent};
use netrepro_sys::errors::ObservedError;
use netrepro_sys::platform::Os;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;

/// Newest plain lines kept per stream (the tail a report shows).
pub const TAIL_LINES: usize = 40;
/// A line is read up to this many bytes; the rest up to the newline is discarded.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// A kept line is cut to this many bytes, with a note giving its length.
pub const MAX_KEPT_LINE_BYTES: usize = 1024;
/// Lines within which a repeat of the same text-recognised error is the same
/// report (Node prints one error as `Error: read ECONNRESET`, `errno: -104`
/// and `code: 'ECONNRESET'` on three lines).
const TEXT_REPEAT_WINDOW: u64 = 32;

/// The newest lines of one stream, and how many there were.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    lines: VecDeque<String>,
    /// Lines seen in total.
    pub(crate) total: u64,
    /// Lines kept shorter than they were.
    pub(crate) cut: u64,
}

impl Tail {
    /// Keep `line` (as read, `len` bytes before any read-time cut).
    pub(crate) fn push(&mut self, line: &[u8], len: usize) {
        self.total += 1;
        let (kept, was_cut) = kept_line(line, len);
        if was_cut {
            self.cut += 1;
        }
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(kept);
    }
    pub(crate) fn to_vec(&self) -> Vec<String> {
        self.lines.iter().cloned().collect()
    }
    /// The last `n` lines.
    pub(crate) fn tail(&self, n: usize) -> Vec<String> {
        let skip = self.lines.len().saturating_sub(n);
        self.lines.iter().skip(skip).cloned().collect()
    }
}

/// A line as kept: lossy UTF-8, at most [`MAX_KEPT_LINE_BYTES`] of it, and a
/// note when it was longer (`len` is its length before the read-time cut).
fn kept_line(line: &[u8], len: usize) -> (String, bool) {
    let text = String::from_utf8_lossy(line);
    if len <= MAX_KEPT_LINE_BYTES && text.len() <= MAX_KEPT_LINE_BYTES {
        return (text.into_owned(), false);
    }
    let mut s = cut(&text, MAX_KEPT_LINE_BYTES);
    s.push_str(&format!(" [netrepro: line of {len} bytes cut]"));
    (s, true)
}

#[derive(Debug)]
pub(crate) struct StderrState {
    pub(crate) events: EventLog,
    pub(crate) lines: Tail,
    /// The last error read from text and the line number it was on.
    last_text: Option<(ObservedError, u64)>,
    started: Instant,
    host: Os,
}

impl StderrState {
    fn new(started: Instant, host: Os) -> Self {
        StderrState {
            events: EventLog::default(),
            lines: Tail::default(),
            last_text: None,
            started,
            host,
        }
    }

    /// One stderr line: a JSON event, or plain text (kept in the tail and
    /// searched for error codes).
    fn line(&mut self, line: &[u8], len: usize) {
        let text = String::from_utf8_lossy(line);
        if let Some(mut ev) = parse_event(&text) {
            ev.source = EventSource::Json; // whatever the line claims
            ev.text = None;
            ev.count = 1;
            ev.last_t_ms = None;
            self.events.push(ev);
            return;
        }
        self.lines.push(line, len);
        let n = self.lines.total;
        let t_ms = self.started.elapsed().as_millis() as u64;
        for te in netrepro_sys::errtext::recognise(&text, self.host) {
            let repeat = matches!(&self.last_text,
                Some((e, at)) if *e == te.error && n - at <= TEXT_REPEAT_WINDOW);
            self.last_text = Some((te.error.clone(), n));
            if repeat {
                continue;
            }
            let mut ev = ServerEvent::new(
                te.op.as_deref().unwrap_or("unknown"),
                &te.error,
                false,
                t_ms,
            );
            ev.source = EventSource::Text;
            ev.text = Some(cut(text.trim(), MAX_EVENT_TEXT_BYTES));
            self.events.push(ev);
        }
    }
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

/// One line being read. Cancel-safe: if a [`read`](Self::read) future is
/// dropped at an await (the readiness `select!` takes another branch), the
/// bytes it consumed stay here and the next call continues the same line.
#[derive(Debug, Default)]
pub(crate) struct LineBuf {
    /// The line so far, without the trailing `\n` / `\r\n`, at most `max` bytes.
    pub(crate) buf: Vec<u8>,
    len: usize,
    any: bool,
    ends_cr: bool,
    complete: bool,
}

impl LineBuf {
    /// Read one line, keeping at most `max` bytes of it. Returns the line's
    /// full length (before the cut), or `None` at EOF with nothing read.
    pub(crate) async fn read<R: AsyncBufRead + Unpin>(
        &mut self,
        r: &mut R,
        max: usize,
    ) -> std::io::Result<Option<usize>> {
        if self.complete {
            self.buf.clear();
            self.len = 0;
            self.any = false;
            self.ends_cr = false;
            self.complete = false;
        }
        loop {
            let chunk = r.fill_buf().await?;
            if chunk.is_empty() {
                break;
            }
            self.any = true;
            let (used, done) = match memchr(chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let data = &chunk[..if done { used - 1 } else { used }];
            self.len = self.len.saturating_add(data.len());
            if let Some(&last) = data.last() {
                self.ends_cr = last == b'\r';
            }
            let room = max.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&data[..data.len().min(room)]);
            r.consume(used);
            if done {
                break;
            }
        }
        self.complete = true;
        if self.ends_cr {
            // `\r\n`: the `\r` is not part of the line (nor of a cut one).
            if self.buf.len() == self.len {
                self.buf.pop();
            }
            self.len -= 1;
        }
        Ok(self.any.then_some(self.len))
    }
}

fn memchr(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Drain `stderr` into events / plain lines until EOF; `started` is when the
/// target started (the time base of events read from text); `host` is the
/// OS the target runs on, whose error codes its text spells.
pub(crate) fn spawn_stderr_reader<R>(
    stderr: R,
    started: Instant,
    host: Os,
) -> Collected<StderrState>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    spawn_reader(
        BufReader::new(stderr),
        StderrState::new(started, host),
        LineBuf::default(),
        StderrState::line,
    )
}

/// Drain `stdout` into a bounded tail until EOF (`seen`: lines read before;
/// `partial`: a line the readiness wait had begun to read).
pub(crate) fn spawn_stdout_reader<R>(stdout: R, seen: Tail, partial: LineBuf) -> Collected<Tail>
where
    R: AsyncBufRead + Unpin + Send + 'static,
{
    spawn_reader(stdout, seen, partial, Tail::push)
}

fn spawn_reader<R, S, F>(mut r: R, init: S, mut line: LineBuf, mut f: F) -> Collected<S>
where
    R: AsyncBufRead + Unpin + Send + 'static,
    S: Send + 'static,
    F: FnMut(&mut S, &[u8], usize) + Send + 'static,
{
    let state = Arc::new(Mutex::new(init));
    let (tx, rx) = watch::channel(false);
    let shared = Arc::clone(&state);
    tokio::spawn(async move {
        // A read error (rare on pipes) ends the stream like EOF.
        while let Ok(Some(len)) = line.read(&mut r, MAX_LINE_BYTES).await {
            let mut st = shared.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut st, &line.buf, len);
        }
        let _ = tx.send(true);
    });
    Collected { state, eof: rx }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netrepro_sys::errors::ErrorClass;

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
    fn tail_keeps_the_newest_lines_and_cuts_long_ones_with_a_note() {
        let mut t = Tail::default();
        for i in 0..TAIL_LINES + 5 {
            let l = i.to_string();
            t.push(l.as_bytes(), l.len());
        }
        let v = t.to_vec();
        assert_eq!(v.len(), TAIL_LINES);
        assert_eq!(v[0], "5");
        assert_eq!(t.total, (TAIL_LINES + 5) as u64);
        assert_eq!(t.tail(1), vec![(TAIL_LINES + 4).to_string()]);
        // A 64 KiB line (cut at read to MAX_LINE_BYTES, longer before).
        let long = vec![b'x'; MAX_LINE_BYTES];
        t.push(&long, 200_000);
        let last = t.tail(1).pop().unwrap();
        assert!(last.len() < MAX_KEPT_LINE_BYTES + 64, "{}", last.len());
        assert!(
            last.ends_with("[netrepro: line of 200000 bytes cut]"),
            "{last}"
        );
        assert_eq!(t.cut, 1);
    }

    #[tokio::test]
    async fn bounded_line_reader_truncates_and_strips_crlf() {
        let data = b"abcdef\r\nxy\nlast".to_vec();
        let mut r = BufReader::new(&data[..]);
        let mut l = LineBuf::default();
        assert_eq!(l.read(&mut r, 3).await.unwrap(), Some(6));
        assert_eq!(l.buf, b"abc");
        assert_eq!(l.read(&mut r, 3).await.unwrap(), Some(2));
        assert_eq!(l.buf, b"xy");
        assert_eq!(l.read(&mut r, 3).await.unwrap(), Some(4));
        assert_eq!(l.buf, b"las");
        assert_eq!(l.read(&mut r, 3).await.unwrap(), None);
    }

    /// The readiness wait drops a read mid-line when the port check wins;
    /// the next read must continue that line, not start with its tail.
    #[tokio::test]
    async fn a_read_dropped_mid_line_loses_nothing() {
        let (mut w, rd) = tokio::io::duplex(64);
        let mut r = BufReader::new(rd);
        let mut l = LineBuf::default();
        use tokio::io::AsyncWriteExt;
        w.write_all(b"LISTEN").await.unwrap();
        let first = tokio::time::timeout(Duration::from_millis(50), l.read(&mut r, 100)).await;
        assert!(first.is_err(), "no newline yet: the read is still waiting");
        w.write_all(b"ING 127.0.0.1:9\n").await.unwrap();
        assert_eq!(l.read(&mut r, 100).await.unwrap(), Some(21));
        assert_eq!(l.buf, b"LISTENING 127.0.0.1:9");
    }

    #[tokio::test]
    async fn stderr_reader_splits_events_and_lines() {
        let data = b"hello\n{\"op\":\"accept\",\"raw\":24,\"name\":\"EMFILE\",\"class\":\"resource-exhausted\",\"fatal\":false,\"source\":\"text\"}\nbye".to_vec();
        let c = spawn_stderr_reader(std::io::Cursor::new(data), Instant::now(), Os::current());
        assert!(c.wait_eof(Duration::from_secs(5)).await);
        let st = c.lock();
        assert_eq!(
            st.lines.to_vec(),
            vec!["hello".to_string(), "bye".to_string()]
        );
        let ev = st.events.to_vec();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].name, "EMFILE");
        // A JSON line cannot claim to be text.
        assert_eq!(ev[0].source, EventSource::Json);
    }

    /// The events read from `data`, written by a server running on Linux
    /// (whatever OS this test runs on: the codes are read as Linux's).
    async fn events_of(data: &[u8]) -> Vec<ServerEvent> {
        let c = spawn_stderr_reader(
            std::io::Cursor::new(data.to_vec()),
            Instant::now(),
            Os::Linux,
        );
        assert!(c.wait_eof(Duration::from_secs(5)).await);
        let ev = c.lock().events.to_vec();
        ev
    }

    #[tokio::test]
    async fn a_traceback_and_a_node_dump_become_one_text_event_each() {
        let py = b"Traceback (most recent call last):\n  File \"x.py\", line 3, in <module>\nConnectionResetError: [Errno 104] Connection reset by peer\n";
        let ev = events_of(py).await;
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!((ev[0].raw, ev[0].op.as_str()), (Some(104), "unknown"));
        assert_eq!(ev[0].source, EventSource::Text);
        assert!(!ev[0].fatal);
        assert!(ev[0]
            .text
            .as_deref()
            .unwrap()
            .starts_with("ConnectionResetError"));

        // One Node error spans three lines that each name it: one event.
        let node = b"node:events:497\n      throw er; // Unhandled 'error' event\nError: read ECONNRESET\n    at TCP.onStreamRead (node:internal/stream_base_commons:217:20)\n  errno: -104,\n  code: 'ECONNRESET',\n  syscall: 'read'\n";
        let ev = events_of(node).await;
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!((ev[0].raw, ev[0].op.as_str()), (Some(104), "read"));
        assert_eq!(ev[0].class, ErrorClass::Reset);
        assert_eq!(ev[0].count, 1);

        // The same error again, far apart: aggregated, counted.
        let mut twice = node.to_vec();
        for _ in 0..TEXT_REPEAT_WINDOW {
            twice.extend_from_slice(b"filler\n");
        }
        twice.extend_from_slice(node);
        let ev = events_of(&twice).await;
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(ev[0].count, 2);
    }
}
