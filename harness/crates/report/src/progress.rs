//! Progress while `run` works: on an interactive terminal (stdout is a TTY
//! and `CI` is unset) an indicatif bar with n/N, the current scenario and
//! the failures so far, with each finished result printed above it;
//! otherwise the quiet line-oriented output (one line per result) that CI
//! logs and the CLI tests read.

use super::model::ResultRecord;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing until the final table (`--quiet`).
    Silent,
    /// One plain line per result.
    Lines,
    /// A live bar (interactive terminal).
    Bar,
}

/// Pick the mode: a bar only for a person at a terminal, never in CI
/// (`CI` is set by GitHub Actions and most CI systems) or when piped.
pub fn choose(quiet: bool, stdout_is_tty: bool, in_ci: bool) -> Mode {
    match (quiet, stdout_is_tty && !in_ci) {
        (true, _) => Mode::Silent,
        (false, true) => Mode::Bar,
        (false, false) => Mode::Lines,
    }
}

pub fn line(n: usize, total: usize, r: &ResultRecord) -> String {
    format!(
        "[{n:>3}/{total}] {:<10} {:<8} {:<40} {:<9} {:.2}s",
        r.status.as_str().to_uppercase(),
        r.impl_.as_str(),
        netrepro_sys::escape::terminal(&r.scenario.name),
        r.verdict.map_or("not run", |v| v.as_str()),
        r.duration_ms as f64 / 1000.0
    )
}

pub struct Progress {
    mode: Mode,
    total: usize,
    done: usize,
    failed: usize,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(total: usize, quiet: bool) -> Progress {
        let mode = choose(
            quiet,
            std::io::stdout().is_terminal(),
            std::env::var_os("CI").is_some(),
        );
        let bar = (mode == Mode::Bar).then(|| {
            let b = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stdout());
            b.set_style(
                ProgressStyle::with_template("[{pos:>3}/{len}] {bar:30} {prefix} {wide_msg}")
                    .expect("static template")
                    .progress_chars("=> "),
            );
            b.set_prefix("0 failed");
            b
        });
        Progress {
            mode,
            total,
            done: 0,
            failed: 0,
            bar,
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// A scenario x impl is about to run.
    pub fn start(&self, scenario: &str, imp: &str) {
        if let Some(b) = &self.bar {
            b.set_message(format!(
                "{} [{imp}]",
                netrepro_sys::escape::terminal(scenario)
            ));
        }
    }

    /// A result is in.
    pub fn finish_one(&mut self, r: &ResultRecord) {
        self.done += 1;
        if r.failed() {
            self.failed += 1;
        }
        let text = line(self.done, self.total, r);
        match (&self.bar, self.mode) {
            (Some(b), _) => {
                b.println(text);
                b.set_prefix(format!("{} failed", self.failed));
                b.inc(1);
            }
            (None, Mode::Lines) => {
                netrepro_sys::outln!("{text}");
            }
            _ => {}
        }
    }

    /// Remove the bar before the final table.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_only_for_an_interactive_terminal_outside_ci() {
        assert_eq!(choose(false, true, false), Mode::Bar);
        assert_eq!(choose(false, true, true), Mode::Lines);
        assert_eq!(choose(false, false, false), Mode::Lines);
        assert_eq!(choose(true, true, false), Mode::Silent);
        assert_eq!(choose(true, false, true), Mode::Silent);
    }
}
