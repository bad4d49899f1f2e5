//! netrepro: run client-disconnect and abort scenarios against real TCP/UDP
//! servers and report which errors came up where. Data flows one way:
//! scenario -> runner -> target + client actors -> observations -> verdict -> report.
//! See `../shared/DESIGN.md` and README.md.

pub mod bench;
pub mod catalog;
pub mod cli;
pub mod client;
pub mod errors;
pub mod errtext;
pub mod escape;
pub mod explore;
pub mod external_args;
pub mod fdlimit;
pub mod file_kind;
pub mod interrupt;
pub mod jobs;
pub mod observe;
pub mod output;
pub mod platform;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod servers;
pub mod target;
pub mod verdict;
