//! No supervisor on this OS (no child subreaper / parent-death signal):
//! targets are started directly and `supervise_with` never enables this.

use std::ffi::OsString;
use std::process::ExitCode;

pub fn run(_parent: u32, _program: OsString, _args: Vec<OsString>) -> ExitCode {
    crate::errln!("netrepro {}: not supported on this OS", super::SUBCOMMAND);
    ExitCode::from(2)
}
