//! What `console` signs in as, decided from the files alone (no network): a role profile and
//! the region that chooses the partition's sign-in host. A GetSessionToken profile is refused
//! here, before any code is asked for or any request made: the federation endpoint accepts
//! only role (and federation-token) sessions.

use crate::ctx::Ctx;
use crate::error::ConsoleError;

use super::{Files, Kind, profile};

/// The role profile `console` signs in as, and its region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninTarget {
    pub profile: String,
    /// `AWS_REGION` / `AWS_DEFAULT_REGION`, else the role profile's `region`, else its source
    /// profile's, else `us-east-1`: the order the role's STS calls use.
    pub region: String,
}

/// The sign-in target for `profile`, or why it cannot sign in to the console.
pub fn signin_target(ctx: &Ctx, files: &Files, name: &str) -> Result<SigninTarget, ConsoleError> {
    let role = match profile::resolve(files, name, &ctx.long_term_suffix) {
        Kind::Role(r) => r,
        Kind::Session => {
            return Err(ConsoleError::NotARole {
                profile: name.to_string(),
                what: "a GetSessionToken (MFA session) profile".into(),
            });
        }
        Kind::Neither => {
            return Err(ConsoleError::NotARole {
                profile: name.to_string(),
                what: "no profile mfa-session knows (no role_arn, no keys, no session)".into(),
            });
        }
    };
    let region = ctx
        .env
        .region
        .clone()
        .or_else(|| files.region(&role.name))
        .or_else(|| role.source_profile.as_deref().and_then(|s| files.region(s)))
        .unwrap_or_else(|| "us-east-1".to_string());
    Ok(SigninTarget {
        profile: role.name,
        region,
    })
}
