//! Windows: handle count via `GetProcessHandleCount`. CLOSE_WAIT (from
//! `GetExtendedTcpTable` filtered by pid) is not implemented yet.

use super::Counts;
use windows_sys::Win32::System::Threading::GetProcessHandleCount;

pub(super) fn sample(_pid: u32, child: &tokio::process::Child) -> Counts {
    let Some(handle) = child.raw_handle() else {
        return Counts::default();
    };
    let mut count = 0u32;
    // SAFETY: `handle` is the live process handle owned by `child`, which
    // outlives this call; `count` is a valid out pointer.
    let ok = unsafe { GetProcessHandleCount(handle as _, &mut count) };
    Counts {
        fds: (ok != 0).then_some(u64::from(count)),
        close_wait: None,
    }
}
