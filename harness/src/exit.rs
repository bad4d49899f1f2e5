//! Every exit code of `netrepro`, in one place: 0 all expectations met, 1
//! some scenario failed, 2 usage or input error, 3 the work was done but
//! stdout or stderr could not be written (a reader closing the pipe is not
//! an error), 4 a report could not be written, 5 some result is a harness
//! error (and none failed); interrupted: 128 + the signal (see
//! `netrepro_sys::interrupt`). The commands return one of these; `cli` turns
//! it into the process's exit status.

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_INPUT: u8 = 2;
/// Printing failed (e.g. `> /dev/full`); a closed pipe does not count.
pub const EXIT_OUTPUT: u8 = 3;
/// A report (`--report`, `--junit`, `--ctrf`, `--markdown`, `report … -o`)
/// could not be written: the run's result is lost, so this wins over 0 and 1.
/// `bless`: a scenario file could not be written.
pub const EXIT_REPORT: u8 = 4;
/// Some result is a harness error (status `error`: the harness ran out of
/// descriptors, its own bind failed ...) and none failed: the run could not
/// judge every scenario. A failure (1) wins: it is the regression signal.
pub const EXIT_HARNESS: u8 = 5;

/// The exit code a command ends with, given the one its work earned: a
/// failed write to stdout / stderr (other than a closed pipe) turns success
/// into [`EXIT_OUTPUT`] (1 and 2 already say "failed" and are kept).
pub fn exit_code(work: u8) -> u8 {
    if work == EXIT_OK && netrepro_sys::stdio::broken() {
        EXIT_OUTPUT
    } else {
        work
    }
}
