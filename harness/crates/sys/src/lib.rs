//! The one OS seam of netrepro. Every `cfg(target_os)` / `cfg(windows)` of
//! the harness lives in this crate (the reference servers' socket options
//! aside, in `netrepro-servers`), behind functions with the same signature on
//! every OS:
//!
//! - [`platform`]: which OS, and whether a Windows build runs under Wine;
//! - [`errors`]: raw OS error code -> OS name -> portable class, and
//!   [`errtext`], the same codes read from a server's printed output;
//! - [`process`]: process groups, Job objects, the Linux subreaper
//!   supervisor, tree walks, pause / resume, resource sampling;
//! - [`netns`]: a network namespace of its own for link-fault scenarios;
//! - [`ports`]: the OS's ephemeral port range, and the ports outside it
//!   that the harness picks for a program it starts;
//! - [`sockopt`]: client socket options set before connect, and what the OS
//!   granted for them;
//! - [`fdlimit`], [`file_kind`], [`interrupt`], [`stdio`]: descriptor limits,
//!   what kind of file a path is, interrupt signals, and stdout / stderr that
//!   end quietly when their reader goes away.

pub mod errors;
pub mod errtext;
pub mod escape;
pub mod fdlimit;
pub mod file_kind;
pub mod files;
pub mod interrupt;
pub mod netns;
pub mod platform;
pub mod ports;
pub mod process;
pub mod sockopt;
pub mod stdio;
