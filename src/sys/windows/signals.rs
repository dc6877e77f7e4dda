//! Console control events on Windows (Ctrl-C, Ctrl-Break, a closed console window, log-off):
//! the jobs of registered trees are ended first; then Ctrl-C and Ctrl-Break end us with
//! `STATUS_CONTROL_C_EXIT`, and the other events are left to the default handler. There are no
//! signals to defer or to die of: a served command's exit code is passed on as it is.

use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

use windows_sys::Win32::Foundation::STATUS_CONTROL_C_EXIT;
use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, CTRL_C_EVENT, SetConsoleCtrlHandler};
use windows_sys::core::BOOL;

/// Room for this many live jobs at once.
const SLOTS: usize = 64;

static JOBS: [AtomicIsize; SLOTS] = [const { AtomicIsize::new(0) }; SLOTS];
/// Under `exec --server` or `exec`: Ctrl-C and Ctrl-Break are the command's to answer.
static FORWARD: AtomicBool = AtomicBool::new(false);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A job ended if the console asks us to end while it runs; forgotten on drop.
#[derive(Debug)]
pub(in crate::sys) struct TrackedJob {
    slot: Option<usize>,
}

impl Drop for TrackedJob {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            JOBS[i].store(0, Ordering::SeqCst);
        }
    }
}

/// Registers the job with the raw handle `job` until the returned guard is dropped.
pub(in crate::sys) fn track_job(job: isize) -> TrackedJob {
    install();
    let slot = JOBS.iter().position(|g| {
        g.compare_exchange(0, job, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    });
    TrackedJob { slot }
}

/// Ends every registered job now.
pub fn kill_tracked() {
    for j in &JOBS {
        let h = j.load(Ordering::SeqCst);
        if h != 0 {
            crate::sys::job::terminate_raw(h);
        }
    }
}

unsafe extern "system" fn on_event(kind: u32) -> BOOL {
    if FORWARD.load(Ordering::SeqCst) && (kind == CTRL_C_EVENT || kind == CTRL_BREAK_EVENT) {
        // The command shares the console and got the event too; its end becomes ours.
        return 1;
    }
    kill_tracked();
    if kind == CTRL_C_EVENT || kind == CTRL_BREAK_EVENT {
        // Ended by the person, as Windows' own handler ends a program, but with the exit code
        // it is meant to have everywhere: STATUS_CONTROL_C_EXIT (wine's handler exits 0).
        std::process::exit(STATUS_CONTROL_C_EXIT);
    }
    // A closed console window, log-off or shut-down: the next handler (the default one) ends
    // the process.
    0
}

fn install() {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    // SAFETY: registering a handler function that lives for the whole process.
    unsafe {
        SetConsoleCtrlHandler(Some(on_event), 1);
    }
}

/// Nothing is held back on Windows: control events are handled on a thread of their own.
#[must_use]
#[derive(Debug)]
pub struct Deferred(());

/// See [`Deferred`].
pub fn defer() -> Deferred {
    Deferred(())
}

impl Deferred {
    /// Nothing to undo in `cmd`.
    pub fn not_in(&self, cmd: &mut std::process::Command) {
        let _ = cmd;
    }
}

/// Under `exec` and `exec --server`: Ctrl-C and Ctrl-Break are left to the command (`pid`),
/// which shares our console.
pub fn forward_to(pid: u32) {
    let _ = pid;
    FORWARD.store(true, Ordering::SeqCst);
    install();
}

/// Windows processes do not die of signals: always `None` (the exit code is passed on).
pub fn die_like(status: &std::process::ExitStatus) -> Option<u8> {
    let _ = status;
    None
}
