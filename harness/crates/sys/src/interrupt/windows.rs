//! Ctrl-C, Ctrl-Break and console close through tokio's console-control
//! streams (SetConsoleCtrlHandler; a console-close handler has about 5 s
//! before Windows ends the process, per the HandlerRoutine docs:
//! https://learn.microsoft.com/windows/console/handlerroutine). Every exit
//! is 130. If the harness is killed outright (TerminateProcess), the
//! kill-on-close Job objects end every target (`target/job.rs`).

use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, CtrlBreak, CtrlC, CtrlClose};

pub(super) struct Signals {
    c: CtrlC,
    brk: CtrlBreak,
    close: CtrlClose,
}

impl Signals {
    pub(super) fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            c: ctrl_c()?,
            brk: ctrl_break()?,
            close: ctrl_close()?,
        })
    }

    pub(super) async fn next(&mut self) -> u8 {
        tokio::select! {
            _ = self.c.recv() => 130,
            _ = self.brk.recv() => 130,
            _ = self.close.recv() => 130,
        }
    }
}
