//! Signals that end mfa-session without leaving anything of ours behind.
//!
//! Two things must not outlive us: the process groups of the code sources and dialogs we run
//! (an `mfa_process` holding a YubiKey, a zenity dialog on screen) and, under
//! `exec --server`, the command we serve. [`track_group`] registers a group for the time it
//! runs; the handlers installed here kill every registered group before mfa-session dies of
//! the signal it got (SIGTERM, SIGHUP, SIGINT), so whoever sent it still sees us die of it.
//! [`forward_to`] makes SIGTERM and SIGHUP go to the served command instead, whose end is then
//! ours. The registry is a fixed array of atomics: a handler may only read it.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Room for this many live process groups at once (one per device renewed in parallel).
const SLOTS: usize = 64;

static GROUPS: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];
/// The served command's pid under `exec --server`, else 0.
static FORWARD: AtomicI32 = AtomicI32::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The signals after which we clean up and die.
const FATAL: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGHUP, libc::SIGINT];

/// A process group killed if mfa-session is signalled while it runs; forgotten on drop.
#[derive(Debug)]
pub struct TrackedGroup {
    slot: Option<usize>,
}

impl Drop for TrackedGroup {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            GROUPS[i].store(0, Ordering::SeqCst);
        }
    }
}

/// Registers the process group `pgid` (a child spawned as a group leader) until the returned
/// guard is dropped.
pub fn track_group(pgid: u32) -> TrackedGroup {
    install();
    let Ok(pgid) = i32::try_from(pgid) else {
        return TrackedGroup { slot: None };
    };
    let slot = GROUPS.iter().position(|g| {
        g.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    });
    if slot.is_none() {
        tracing::debug!("more than {SLOTS} code sources at once: group {pgid} is not tracked");
    }
    TrackedGroup { slot }
}

/// Kills every registered group now (at exit).
pub fn kill_tracked() {
    for g in &GROUPS {
        let pgid = g.load(Ordering::SeqCst);
        if pgid > 0 {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    kill_tracked();
    let child = FORWARD.load(Ordering::SeqCst);
    // SAFETY: kill, signal and raise are async-signal-safe.
    unsafe {
        if child > 0 && signal != libc::SIGINT {
            // The served command decides; its end becomes ours in the main thread.
            libc::kill(child, signal);
            return;
        }
        // Die of the signal: it is blocked while this handler runs and is delivered, with the
        // default action, as soon as it returns.
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

/// Installs the handlers once, leaving alone a signal the parent asked us to ignore (`nohup`).
fn install() {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    for signal in FATAL {
        // SAFETY: querying and setting a disposition with valid, zeroed sigaction structs.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            new.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaction(signal, &new, std::ptr::null_mut());
        }
    }
}

/// Signals held back on the calling thread (and on every thread it starts) until dropped: what
/// arrives meanwhile is delivered then, to the handlers installed by then.
#[must_use]
pub struct Deferred {
    old: libc::sigset_t,
}

const DEFERRED: [libc::c_int; 4] = [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGQUIT];

/// Holds back SIGTERM, SIGHUP, SIGINT and SIGQUIT. Start threads after this, so that a signal
/// is never delivered to one of them (which would not hold it back) before we are ready.
pub fn defer() -> Deferred {
    // SAFETY: signal-set calls on valid, zeroed sets.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in DEFERRED {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
        Deferred { old }
    }
}

impl Deferred {
    /// Makes `cmd` start with the signal mask we had before [`defer`]: a child inherits the
    /// mask, and the command must get its signals at once.
    pub fn not_in(&self, cmd: &mut std::process::Command) {
        use std::os::unix::process::CommandExt;
        let old = self.old;
        // SAFETY: pthread_sigmask is async-signal-safe; `old` is a copied, valid set.
        unsafe {
            cmd.pre_exec(move || {
                libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
                Ok(())
            });
        }
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved by `defer`.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}

/// Under `exec --server`: SIGTERM and SIGHUP go to `pid` (the served command), SIGINT and
/// SIGQUIT are ignored (a terminal sends them to the command too; it decides).
pub fn forward_to(pid: u32) {
    FORWARD.store(i32::try_from(pid).unwrap_or(0), Ordering::SeqCst);
    install();
    // SAFETY: setting dispositions of two signals.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
}

/// Ends this process the way `status` ended the served command: killed by the same signal, or
/// `None` when it exited normally (its code is then ours).
pub fn die_like(status: &std::process::ExitStatus) -> Option<u8> {
    use std::os::unix::process::ExitStatusExt;
    let signal = status.signal()?;
    kill_tracked();
    // SAFETY: resetting a handler and raising a signal on ourselves; the signal is unblocked.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signal);
    }
    Some(u8::try_from(128 + signal).unwrap_or(255))
}
