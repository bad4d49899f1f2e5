//! The server under test as a child process: spawn, wait for readiness,
//! collect its JSON error log, sample its resources, detect exit, and kill it
//! (with its whole process group / Job object) on drop. No child outlives a run.
//!
//! Layout: `running` (the started process: [`RunningTarget`]), `ready`
//! (when it counts as ready: the `LISTENING` line or a [`ReadyPoll`]),
//! `error` ([`TargetError`]), `log` (stdout / stderr readers), `events`
//! (server events, aggregated). Everything that differs per OS (process
//! group / Job object, supervisor, tree walk, pause, resource sampling) is
//! in `netrepro_sys::process`.

mod error;
mod events;
mod log;
mod ready;
mod running;

pub use error::TargetError;
pub use netrepro_sys::process::group::{describe_exit, TargetCommand};
pub use netrepro_sys::process::pause::Pauser;
pub use netrepro_sys::process::resources::{
    count_close_wait, parse_proc_net_tcp, parse_proc_net_unix, socket_inode, TcpRow, TCP_CLOSE_WAIT,
};
pub use netrepro_sys::process::supervise::{
    main as supervise_main, supervise_with, SUBCOMMAND as SUPERVISE_SUBCOMMAND,
};
pub use ready::{ReadyCheck, ReadyPoll};
pub use running::RunningTarget;

use netrepro_sys::process::group as process;
use std::path::PathBuf;

/// A command running this netrepro binary (`std::env::current_exe`), e.g.
/// for the built-in `netrepro serve ...` servers. In tests `current_exe` is
/// the test binary, so tests build their commands explicitly.
pub fn self_exe_command<I, S>(args: I) -> TargetCommand
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    TargetCommand {
        program: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("netrepro")),
        args: args.into_iter().map(Into::into).collect(),
        max_fds: None,
    }
}

/// Kill every target process still running, with its whole tree, and wait
/// (bounded) until they are gone (interrupt handler). Safe to call from any
/// thread at any time; blocks for at most a few seconds.
pub fn kill_all() {
    process::kill_all()
}

/// Pids of targets whose groups are still registered for [`kill_all`]
/// (killed or dropped targets are removed).
pub fn live_target_pids() -> Vec<u32> {
    process::registered_pids()
}

#[cfg(test)]
mod tests {
    use super::*;
    use netrepro_observe::ExitInfo;

    #[test]
    fn exit_descriptions() {
        assert_eq!(
            describe_exit(&ExitInfo {
                code: Some(3),
                signal: None
            }),
            "exit code 3"
        );
        assert_eq!(
            describe_exit(&ExitInfo {
                code: None,
                signal: Some(11)
            }),
            "killed by signal 11 (SIGSEGV)"
        );
        assert_eq!(
            describe_exit(&ExitInfo {
                code: None,
                signal: Some(64)
            }),
            "killed by signal 64"
        );
    }
}
