//! Windows: handle count via `GetProcessHandleCount`, CLOSE_WAIT sockets via
//! `GetExtendedTcpTable(TCP_TABLE_OWNER_PID_ALL)` for IPv4 and IPv6, rows
//! filtered by the server's pid (parsed by `tcp_table`).
//!
//! Under Wine both are reported as unknown:
//! - `GetProcessHandleCount` reports 0 handles whatever the process holds
//!   (observed with Wine 8.0: every sample of a live server was 0), which
//!   would read as "no leak" rather than "cannot tell";
//! - `GetExtendedTcpTable` with owning pids works but is slow under Wine (it
//!   maps sockets to processes by scanning the host's /proc): measured here,
//!   it made a 9-scenario run take 52 s instead of 6 s, because the runner
//!   polls resources every 20 ms while waiting for them to settle.
//! So under Wine a leak cannot be seen; the scenarios' `wine` expectations
//! say so where it matters.

use super::tcp_table::{self, Family};
use super::Counts;
use windows_sys::Win32::Foundation::{ERROR_INSUFFICIENT_BUFFER, NO_ERROR};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetExtendedTcpTable, MIB_TCP6ROW_OWNER_PID, MIB_TCPROW_OWNER_PID, TCP_TABLE_OWNER_PID_ALL,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};
use windows_sys::Win32::System::Threading::GetProcessHandleCount;

// The parser's row layout is the real struct's layout.
const _: () = assert!(std::mem::size_of::<MIB_TCPROW_OWNER_PID>() == Family::V4.row_size());
const _: () = assert!(std::mem::size_of::<MIB_TCP6ROW_OWNER_PID>() == Family::V6.row_size());

/// The table can grow between the size query and the fill; retry a few times.
const TABLE_ATTEMPTS: usize = 4;

pub(super) fn sample(pid: u32, child: &tokio::process::Child) -> Counts {
    Counts {
        fds: handle_count(child),
        close_wait: close_wait(pid),
    }
}

fn handle_count(child: &tokio::process::Child) -> Option<u64> {
    if crate::platform::under_wine() {
        return None; // stub under Wine, see the module doc
    }
    let handle = child.raw_handle()?;
    let mut count = 0u32;
    // SAFETY: `handle` is the live process handle owned by `child`, which
    // outlives this call; `count` is a valid out pointer.
    let ok = unsafe { GetProcessHandleCount(handle as _, &mut count) };
    (ok != 0).then_some(u64::from(count))
}

/// CLOSE_WAIT rows owned by `pid` over both families; `None` if either
/// table cannot be read.
fn close_wait(pid: u32) -> Option<u64> {
    if crate::platform::under_wine() {
        return None; // too slow to poll under Wine, see the module doc
    }
    let mut total = 0;
    for (af, family) in [(AF_INET, Family::V4), (AF_INET6, Family::V6)] {
        let buf = table(u32::from(af))?;
        let rows = tcp_table::parse(&buf, family)?;
        total += tcp_table::count_close_wait(&rows, pid);
    }
    Some(total)
}

/// The raw `MIB_TCP(6)TABLE_OWNER_PID` bytes for address family `af`.
fn table(af: u32) -> Option<Vec<u8>> {
    let mut size = 0u32;
    // u32 storage keeps the buffer DWORD-aligned, as the struct requires.
    let mut buf: Vec<u32> = Vec::new();
    for _ in 0..TABLE_ATTEMPTS {
        // SAFETY: `buf` holds at least `size` bytes (it is null with size 0
        // on the first call, which only asks for the size).
        let rc = unsafe {
            GetExtendedTcpTable(
                if buf.is_empty() {
                    std::ptr::null_mut()
                } else {
                    buf.as_mut_ptr().cast()
                },
                &mut size,
                0,
                af,
                TCP_TABLE_OWNER_PID_ALL,
                0,
            )
        };
        match rc {
            NO_ERROR if !buf.is_empty() => {
                let bytes: Vec<u8> = buf.iter().flat_map(|d| d.to_le_bytes()).collect();
                return Some(bytes[..(size as usize).min(bytes.len())].to_vec());
            }
            NO_ERROR | ERROR_INSUFFICIENT_BUFFER => {
                // Room for a few connections more than asked, in case it grows.
                let words = (size as usize).div_ceil(4) + 64;
                buf = vec![0u32; words];
                size = (words * 4) as u32;
            }
            _ => return None,
        }
    }
    None
}
