//! What the commands that run targets (`run`, `explore`) set up first: the
//! runner's settings with this binary as the server program and supervisor,
//! and the tokio runtime that watches for interrupts. A failure is printed
//! here and returned as the exit code the command ends with.

use crate::exit::EXIT_INPUT;
use netrepro_runner::RunConfig;

/// Runner settings with this binary as the `netrepro serve` server program,
/// and the harness set up to start targets: its own descriptor limit raised
/// (`fdlimit`), every target started under this binary's supervisor
/// (`subject::supervise_with`, Linux).
pub fn config_for_this_binary() -> Result<RunConfig, u8> {
    netrepro_sys::fdlimit::raise();
    match std::env::current_exe() {
        Ok(exe) => {
            netrepro_runner::subject::supervise_with(exe.clone());
            Ok(RunConfig::new(exe))
        }
        Err(e) => {
            netrepro_sys::errln!("error: cannot find the netrepro binary to start servers: {e}");
            Err(EXIT_INPUT)
        }
    }
}

/// The multi-thread tokio runtime `run` and `explore` drive everything on,
/// already watching for interrupts (`interrupt`: targets killed, exit 128+N).
pub fn runtime() -> Result<tokio::runtime::Runtime, u8> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            netrepro_sys::errln!("error: cannot start the async runtime: {e}");
            EXIT_INPUT
        })?;
    netrepro_sys::interrupt::watch(&rt);
    Ok(rt)
}
