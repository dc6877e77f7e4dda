//! Job Objects: a process and everything it starts, ended together (`TerminateJobObject`),
//! and ended by Windows when the last handle to the job closes (`KILL_ON_JOB_CLOSE`), which
//! is also when mfa-session dies, however it dies.
//!
//! A child is assigned to the job just after it starts: whatever it starts in those first
//! instants escapes the job (std cannot start a process suspended); in practice a shell has
//! not started anything by then.

use std::os::windows::io::AsRawHandle;
use std::process::Child;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
    SetInformationJobObject, TerminateJobObject,
};

/// A kill-on-close job holding one child's tree; closed (and so ended) on drop.
#[derive(Debug)]
pub(in crate::sys) struct Job(HANDLE);

// SAFETY: a job handle may be used and closed from any thread.
unsafe impl Send for Job {}
// SAFETY: the handle is only passed to thread-safe kernel calls.
unsafe impl Sync for Job {}

impl Job {
    /// A new job holding `child`, or `None` when Windows refuses one (then only the child
    /// itself can be ended).
    pub(in crate::sys) fn holding(child: &Child) -> Option<Job> {
        // SAFETY: plain kernel calls with valid arguments; the handle is closed by Drop.
        unsafe {
            let handle = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if handle.is_null() {
                return None;
            }
            let job = Job(handle);
            let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
            limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            let size = u32::try_from(size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>()).ok()?;
            if SetInformationJobObject(
                job.0,
                JobObjectExtendedLimitInformation,
                (&raw const limits).cast(),
                size,
            ) == 0
                || AssignProcessToJobObject(job.0, child.as_raw_handle()) == 0
            {
                tracing::debug!(
                    "no Job Object for child {}: {}",
                    child.id(),
                    std::io::Error::last_os_error()
                );
                return None;
            }
            Some(job)
        }
    }

    /// The raw handle, for the registry of `sys::signals`.
    pub(in crate::sys) fn raw(&self) -> isize {
        self.0 as isize
    }

    /// Ends every process in the job now.
    pub(in crate::sys) fn terminate(&self) {
        terminate_raw(self.raw());
    }
}

/// Ends every process in the job with the raw handle `h` (from a console control handler).
pub(in crate::sys) fn terminate_raw(h: isize) {
    // SAFETY: TerminateJobObject on a handle we hold; a stale one fails harmlessly.
    unsafe {
        TerminateJobObject(h as HANDLE, 1);
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // SAFETY: our handle, closed once.
        unsafe {
            CloseHandle(self.0);
        }
    }
}
