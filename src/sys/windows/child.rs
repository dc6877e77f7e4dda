//! Trees on Windows: the child in a kill-on-close Job Object (`sys::windows::job`), registered
//! with the console control handler while it runs.

use std::io;
use std::process::{Child, Command};

use crate::sys::job::Job;
use crate::sys::signals::imp::{TrackedJob, track_job};

#[derive(Debug)]
pub(super) struct Group {
    /// Forgotten by the handler before the job is closed.
    _tracked: Option<TrackedJob>,
    job: Option<Job>,
}

pub(super) fn spawn(mut cmd: Command, foreground: bool) -> io::Result<(Child, Group)> {
    let _ = foreground;
    let child = cmd.spawn()?;
    let job = Job::holding(&child);
    let tracked = job.as_ref().map(|j| track_job(j.raw()));
    Ok((
        child,
        Group {
            _tracked: tracked,
            job,
        },
    ))
}

impl Group {
    pub(super) fn kill(&self, child: &mut Child) {
        match &self.job {
            Some(job) => job.terminate(),
            None => {
                let _ = child.kill();
            }
        }
    }

    pub(super) fn terminate(&self, child: &mut Child) {
        self.kill(child);
    }
}
