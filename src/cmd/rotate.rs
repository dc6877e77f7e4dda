//! `mfa-session rotate`: flags → [`RotateRequest`] → the rotation steps → what happened.

use std::process::ExitCode;

use crate::cli::RotateArgs;
use crate::cmd::Ctx;
use crate::provider::rotate::{self, RotateRequest};

pub fn run(args: &RotateArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let req = RotateRequest {
        profile: ctx.env.profile(args.profile.as_deref()),
        keep_old: args.keep_old,
        delete_first: args.delete.clone(),
        region: args.region.clone(),
        timeout: args.timeout,
    };
    let done = rotate::rotate(&req, ctx)?;
    if let Some(id) = &done.deleted_first {
        ctx.say(&format!(
            "deleted the unused key {id} of {} first",
            done.user
        ));
    }
    ctx.say(&format!(
        "[{}] new access key {} stored ({} store) and working; old key {} {}",
        ctx.long_term(&req.profile),
        done.new,
        done.store.name(),
        done.old,
        if args.keep_old {
            "deactivated (delete it when you are sure)"
        } else {
            "deleted"
        }
    ));
    Ok(ExitCode::SUCCESS)
}
