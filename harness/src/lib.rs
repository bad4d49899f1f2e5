//! The `netrepro` command line: every clap type, every line printed and every
//! exit code live here; the work is done by the library crates under
//! `harness/crates/` (scenario -> runner -> report, on top of sys). Data
//! flows one way: scenario -> runner -> server + client actors ->
//! observations -> verdict -> report.

pub mod bench;
pub mod bless;
pub mod catalog;
pub mod cli;
pub mod exit;
pub mod explore;
pub mod external_args;
pub mod outputs;
pub mod report_command;
pub mod runtime;
pub mod stalled;
