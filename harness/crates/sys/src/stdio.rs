//! Every line the `netrepro` commands print goes through here, never through
//! `println!`/`eprintln!` (those panic when the write fails: `netrepro list |
//! true` used to die with exit 101).
//!
//! The rules, documented in docs/commands.md, "Exit codes":
//! - stdout closed by the reader (EPIPE, e.g. `| head -1`): later stdout
//!   writes are dropped without a word, as ripgrep and the classic Unix
//!   tools do; the command still finishes its work (`run` still writes its
//!   reports) and exits with the code that work earned.
//! - any other write error (e.g. `> /dev/full`, ENOSPC): one `error: cannot
//!   write to stdout: …` line on stderr, later stdout writes are dropped, the
//!   command still finishes its work, and an exit code of 0 becomes
//!   the binary's `EXIT_OUTPUT` (1 and 2 already say "failed" and are kept).
//! - stderr is treated the same way, except that a failure to write to it
//!   cannot be reported anywhere but the exit code.
//!
//! Rust ignores SIGPIPE for its programs, so a closed pipe shows up here as
//! an `io::ErrorKind::BrokenPipe` write error rather than killing the process.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU8, Ordering};

/// The state of one stream: still writable, closed by its reader, or broken.
const OPEN: u8 = 0;
const CLOSED: u8 = 1;
const BROKEN: u8 = 2;

static STDOUT: AtomicU8 = AtomicU8::new(OPEN);
static STDERR: AtomicU8 = AtomicU8::new(OPEN);

/// Which stream to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

impl Stream {
    fn state(self) -> &'static AtomicU8 {
        match self {
            Stream::Out => &STDOUT,
            Stream::Err => &STDERR,
        }
    }
}

/// Write formatted text to a stream, flushed (so a failure shows up here,
/// not in the exit-time flush whose errors std ignores). Never panics.
pub fn write(stream: Stream, args: fmt::Arguments) {
    let state = stream.state();
    if state.load(Ordering::Relaxed) != OPEN {
        return;
    }
    // The last guard: whatever a command forgot to escape, no control
    // character reaches the terminal (line breaks between lines stay).
    let formatted = fmt::format(args);
    let text = crate::escape::terminal_lines(&formatted);
    let res = match stream {
        Stream::Out => {
            let mut o = io::stdout().lock();
            o.write_all(text.as_bytes()).and_then(|()| o.flush())
        }
        Stream::Err => {
            let mut e = io::stderr().lock();
            e.write_all(text.as_bytes()).and_then(|()| e.flush())
        }
    };
    if let Err(e) = res {
        failed(stream, &e);
    }
}

/// Record a failed write (and say so on stderr once, if that is stdout's).
fn failed(stream: Stream, e: &io::Error) {
    let new = classify(e);
    // Only the first failure of a stream is acted on.
    if stream
        .state()
        .compare_exchange(OPEN, new, Ordering::Relaxed, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    if new == BROKEN && stream == Stream::Out {
        write(
            Stream::Err,
            format_args!(
                "error: cannot write to stdout: {e} (the command goes on without its output)\n"
            ),
        );
    }
}

fn classify(e: &io::Error) -> u8 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        CLOSED
    } else {
        BROKEN
    }
}

/// Whether a write to stdout or stderr failed for another reason than its
/// reader going away.
pub fn broken() -> bool {
    STDOUT.load(Ordering::Relaxed) == BROKEN || STDERR.load(Ordering::Relaxed) == BROKEN
}

/// `print!` that never panics.
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::stdio::write($crate::stdio::Stream::Out, format_args!($($t)*)) };
}
/// `println!` that never panics.
#[macro_export]
macro_rules! outln {
    () => { $crate::stdio::write($crate::stdio::Stream::Out, format_args!("\n")) };
    ($($t:tt)*) => { $crate::stdio::write($crate::stdio::Stream::Out, format_args!("{}\n", format_args!($($t)*))) };
}
/// `eprintln!` that never panics.
#[macro_export]
macro_rules! errln {
    () => { $crate::stdio::write($crate::stdio::Stream::Err, format_args!("\n")) };
    ($($t:tt)*) => { $crate::stdio::write($crate::stdio::Stream::Err, format_args!("{}\n", format_args!($($t)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_quiet_and_other_errors_are_broken() {
        assert_eq!(
            classify(&io::Error::from(io::ErrorKind::BrokenPipe)),
            CLOSED
        );
        assert_eq!(classify(&io::Error::from(io::ErrorKind::WriteZero)), BROKEN);
        #[cfg(unix)]
        assert_eq!(
            classify(&io::Error::from_raw_os_error(libc::ENOSPC)),
            BROKEN
        );
    }
}
