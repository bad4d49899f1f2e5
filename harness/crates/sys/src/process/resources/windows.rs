//! Windows: the target's Job object lists the process tree and its CPU time;
//! handle counts via `GetProcessHandleCount` per process; TCP sockets and
//! CLOSE_WAIT via `GetExtendedTcpTable(TCP_TABLE_OWNER_PID_ALL)` for IPv4 and
//! IPv6, rows filtered by the tree's pids (parsed by `tcp_table`).
//!
//! - Tree: `QueryInformationJobObject(JobObjectBasicProcessIdList)` fills
//!   `JOBOBJECT_BASIC_PROCESS_ID_LIST` with the pids of every process in the
//!   Job (children inherit the Job unless they break away)
//!   https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-jobobject_basic_process_id_list
//! - CPU: `JobObjectBasicAccountingInformation` gives `TotalUserTime` and
//!   `TotalKernelTime` in 100 ns units for all processes ever in the Job
//!   https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-jobobject_basic_accounting_information
//! - Without a Job (it could not be created) only the started process is
//!   sampled, and CPU comes from `GetProcessTimes`.
//! - Threads and UDP sockets are not sampled (`None`).
//!
//! Under Wine everything is reported as unknown:
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
use super::{Root, MAX_TREE};
use crate::process::sample::ResourceSample;
use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_INSUFFICIENT_BUFFER, FILETIME, HANDLE, NO_ERROR,
};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetExtendedTcpTable, MIB_TCP6ROW_OWNER_PID, MIB_TCPROW_OWNER_PID, TCP_TABLE_OWNER_PID_ALL,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};
use windows_sys::Win32::System::JobObjects::{
    JobObjectBasicAccountingInformation, JobObjectBasicProcessIdList, QueryInformationJobObject,
    JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, JOBOBJECT_BASIC_PROCESS_ID_LIST,
};
use windows_sys::Win32::System::Threading::{
    GetProcessHandleCount, GetProcessTimes, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
};

// The parser's row layout is the real struct's layout.
const _: () = assert!(std::mem::size_of::<MIB_TCPROW_OWNER_PID>() == Family::V4.row_size());
const _: () = assert!(std::mem::size_of::<MIB_TCP6ROW_OWNER_PID>() == Family::V6.row_size());

/// The table can grow between the size query and the fill; retry a few times.
const TABLE_ATTEMPTS: usize = 4;

pub fn sample(root: &Root) -> ResourceSample {
    let mut out = ResourceSample::default();
    if crate::platform::under_wine() {
        return out; // stubs or too slow under Wine, see the module doc
    }
    let Some(root_handles) = handle_count_of(root.child) else {
        return out; // gone: nothing is known
    };
    let mut pids = root.job.and_then(job_pids).unwrap_or_default();
    pids.retain(|p| *p != root.pid);
    pids.insert(0, root.pid);
    pids.truncate(MAX_TREE);
    let mut fds = root_handles;
    for &pid in &pids[1..] {
        fds += handle_count(pid).unwrap_or(0);
    }
    out.fds = Some(fds);
    out.processes = Some(pids.len() as u64);
    out.cpu_ms = match root.job {
        Some(j) => job_cpu_ms(j),
        None => process_cpu_ms(root.child),
    };
    if let Some((tcp, cw)) = tcp_tally(&pids) {
        out.tcp_sockets = Some(tcp);
        out.close_wait = Some(cw);
    }
    out.pids = pids;
    out
}

fn handle_count_of(child: &tokio::process::Child) -> Option<u64> {
    let handle = child.raw_handle()?;
    let mut count = 0u32;
    // SAFETY: `handle` is the live process handle owned by `child`, which
    // outlives this call; `count` is a valid out pointer.
    let ok = unsafe { GetProcessHandleCount(handle as _, &mut count) };
    (ok != 0).then_some(u64::from(count))
}

/// Handle count of another process of the tree (opened, queried, closed).
fn handle_count(pid: u32) -> Option<u64> {
    // SAFETY: plain FFI; the handle is closed below.
    let h = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if h.is_null() {
        return None;
    }
    let mut count = 0u32;
    // SAFETY: `h` is a process handle we own; `count` is a valid out pointer.
    let ok = unsafe { GetProcessHandleCount(h, &mut count) };
    // SAFETY: we own `h`.
    unsafe { CloseHandle(h) };
    (ok != 0).then_some(u64::from(count))
}

/// The pids in the Job whose handle value is `job`.
pub fn job_pids(job: usize) -> Option<Vec<u32>> {
    let words = MAX_TREE + 8;
    let mut buf = vec![0usize; words];
    let p = buf.as_mut_ptr() as *mut JOBOBJECT_BASIC_PROCESS_ID_LIST;
    // SAFETY: `buf` is `words` pointer-sized words, aligned for the struct;
    // the call writes at most the byte length passed.
    let ok = unsafe {
        QueryInformationJobObject(
            job as HANDLE,
            JobObjectBasicProcessIdList,
            p.cast(),
            (words * std::mem::size_of::<usize>()) as u32,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return None;
    }
    let head = std::mem::offset_of!(JOBOBJECT_BASIC_PROCESS_ID_LIST, ProcessIdList)
        / std::mem::size_of::<usize>();
    // SAFETY: the call initialised the header.
    let n = unsafe { (*p).NumberOfProcessIdsInList } as usize;
    Some(
        buf[head..]
            .iter()
            .take(n.min(words - head))
            .map(|&pid| pid as u32)
            .collect(),
    )
}

fn job_cpu_ms(job: usize) -> Option<u64> {
    let mut info: JOBOBJECT_BASIC_ACCOUNTING_INFORMATION = Default::default();
    // SAFETY: `info` is the struct the information class fills, of that size.
    let ok = unsafe {
        QueryInformationJobObject(
            job as HANDLE,
            JobObjectBasicAccountingInformation,
            (&mut info as *mut JOBOBJECT_BASIC_ACCOUNTING_INFORMATION).cast(),
            std::mem::size_of::<JOBOBJECT_BASIC_ACCOUNTING_INFORMATION>() as u32,
            std::ptr::null_mut(),
        )
    };
    (ok != 0).then(|| ((info.TotalUserTime + info.TotalKernelTime).max(0) / 10_000) as u64)
}

fn process_cpu_ms(child: &tokio::process::Child) -> Option<u64> {
    let handle = child.raw_handle()?;
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut c, mut e, mut k, mut u) = (zero, zero, zero, zero);
    // SAFETY: live process handle owned by `child`; valid out pointers.
    let ok = unsafe { GetProcessTimes(handle as _, &mut c, &mut e, &mut k, &mut u) };
    let t = |f: FILETIME| (u64::from(f.dwHighDateTime) << 32) | u64::from(f.dwLowDateTime);
    (ok != 0).then(|| (t(k) + t(u)) / 10_000)
}

/// (TCP sockets, CLOSE_WAIT) owned by `pids` over both families; `None` if
/// either table cannot be read.
fn tcp_tally(pids: &[u32]) -> Option<(u64, u64)> {
    let mut total = (0, 0);
    for (af, family) in [(AF_INET, Family::V4), (AF_INET6, Family::V6)] {
        let buf = table(u32::from(af))?;
        let rows = tcp_table::parse(&buf, family)?;
        let (n, cw) = tcp_table::tally(&rows, pids);
        total = (total.0 + n, total.1 + cw);
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
