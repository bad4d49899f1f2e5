//! Windows Job object with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`: closing the
//! handle (our drop, or the harness dying) kills every process in it.
//!
//! Why this covers every way a run ends (issue 10.8):
//! - Descendants: a process created by a process in a Job is in the Job too
//!   ("Job Objects", learn.microsoft.com/windows/win32/procthread/job-objects).
//! - Breakaway: a child leaves the Job only if created with
//!   `CREATE_BREAKAWAY_FROM_JOB` *and* the Job allows it
//!   (`JOB_OBJECT_LIMIT_BREAKAWAY_OK`), or silently with
//!   `JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK`; we set neither, so CreateProcess
//!   with that flag fails with access denied ("Process Creation Flags";
//!   `JOBOBJECT_BASIC_LIMIT_INFORMATION.LimitFlags`).
//! - The harness killed outright (TerminateProcess: Task Manager, `taskkill
//!   /F`, the SIGKILL equivalent): the kernel closes every handle of a dead
//!   process; when the last Job handle closes, kill-on-close terminates
//!   every process in the Job (`JOBOBJECT_BASIC_LIMIT_INFORMATION`,
//!   `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`). The handle is created
//!   non-inheritable (null SECURITY_ATTRIBUTES), so no child holds it open.
//!
//! Caveat: the child is assigned right after spawn, so a grandchild started
//! in that short window escapes the Job (std cannot spawn suspended and
//! does not expose the main thread's handle to resume it).

use std::os::windows::io::RawHandle;
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation,
    SetInformationJobObject, TerminateJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
};

pub struct Job(HANDLE);

// SAFETY: a Job handle is a kernel object handle usable from any thread.
unsafe impl Send for Job {}
unsafe impl Sync for Job {}

impl Job {
    pub fn for_process(process: RawHandle) -> std::io::Result<Job> {
        // SAFETY: FFI with valid (null) attribute/name pointers; the handle
        // is owned by `Job` and closed exactly once in drop.
        unsafe {
            let h = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if h.is_null() {
                return Err(std::io::Error::last_os_error());
            }
            let job = Job(h);
            let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
            info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            if SetInformationJobObject(
                h,
                JobObjectExtendedLimitInformation,
                &info as *const _ as *const core::ffi::c_void,
                std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            ) == 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if AssignProcessToJobObject(h, process as HANDLE) == 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(job)
        }
    }

    pub fn raw(&self) -> usize {
        self.0 as usize
    }
}

/// Terminate every process of the Job whose handle value is `h`.
pub fn terminate_raw(h: usize) {
    // SAFETY: callers pass the value of a Job handle that is still open
    // (entries leave the registry before the handle is closed).
    unsafe { TerminateJobObject(h as HANDLE, 1) };
}

impl Drop for Job {
    fn drop(&mut self) {
        // SAFETY: we own the handle.
        unsafe { CloseHandle(self.0) };
    }
}
