//! Windows: suspend / resume a whole process with `NtSuspendProcess` /
//! `NtResumeProcess` from ntdll, what Sysinternals PsSuspend and Process
//! Explorer use. They are exported by ntdll but not in the Win32 headers, so
//! they are looked up with `GetProcAddress`
//! (https://learn.microsoft.com/en-us/windows/win32/api/libloaderapi/nf-libloaderapi-getprocaddress);
//! signature `NTSTATUS NtSuspendProcess(HANDLE ProcessHandle)`
//! (https://ntdoc.m417z.com/ntsuspendprocess, phnt `ntpsapi.h`). The handle
//! needs `PROCESS_SUSPEND_RESUME`
//! (https://learn.microsoft.com/en-us/windows/win32/procthread/process-security-and-access-rights).
//! Each call raises / lowers every thread's suspend count by one, like
//! `SuspendThread` per thread
//! (https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-suspendthread),
//! so pause and resume must pair up (the caller tracks that).

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
use windows_sys::Win32::System::Threading::{OpenProcess, PROCESS_SUSPEND_RESUME};

#[derive(Clone, Copy)]
pub enum Which {
    Suspend,
    Resume,
}

type NtProcessCall = unsafe extern "system" fn(HANDLE) -> i32;

/// Suspend or resume `pid`. False if the process could not be opened or the
/// function is missing (then nothing happened).
pub fn call(pid: u32, which: Which) -> bool {
    let name: &[u8] = match which {
        Which::Suspend => b"NtSuspendProcess\0",
        Which::Resume => b"NtResumeProcess\0",
    };
    let ntdll: Vec<u16> = "ntdll.dll\0".encode_utf16().collect();
    // SAFETY: a NUL-terminated UTF-16 module name; ntdll is always loaded.
    let module = unsafe { GetModuleHandleW(ntdll.as_ptr()) };
    if module.is_null() {
        return false;
    }
    // SAFETY: a NUL-terminated ASCII name on a loaded module.
    let Some(f) = (unsafe { GetProcAddress(module, name.as_ptr()) }) else {
        return false;
    };
    // SAFETY: both exports have the signature NTSTATUS (HANDLE) (see module doc).
    let f: NtProcessCall = unsafe { std::mem::transmute(f) };
    // SAFETY: plain call; the handle is closed below.
    let h = unsafe { OpenProcess(PROCESS_SUSPEND_RESUME, 0, pid) };
    if h.is_null() {
        return false;
    }
    // SAFETY: `h` is a process handle with PROCESS_SUSPEND_RESUME.
    let status = unsafe { f(h) };
    // SAFETY: we own `h`.
    unsafe { CloseHandle(h) };
    status >= 0
}
