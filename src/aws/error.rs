//! SDK errors turned into the few kinds a user can act on.
//!
//! AWS reports the interesting failures of an MFA login (wrong code, serial of another user,
//! dead key, clock skew) as generic error codes with telling messages; the SDK adds transport
//! failures of its own. Each variant here is one actionable line and one exit code. Messages
//! from AWS are included only where they carry no secret (AWS never echoes keys or codes).

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("AWS rejected the MFA code (wrong, expired, or already used in this 30-second window)")]
    InvalidCode,
    #[error(
        "AWS could not validate the MFA device: the serial is not associated with this user; \
         check --serial or mfa_serial (list yours with `aws iam list-mfa-devices`)"
    )]
    SerialNotAssociated,
    #[error(
        "AWS rejected the long-term access key ({code}): it is invalid, inactive or deleted; \
         check the keys in the long-term section or create a new access key"
    )]
    InvalidKey { code: String },
    #[error(
        "AWS rejected the request signature: the secret access key in the long-term section does \
         not match its access key id"
    )]
    SignatureMismatch,
    #[error(
        "AWS rejected the request time: this machine's clock is off; sync it (e.g. \
         `timedatectl set-ntp true` or `sudo chronyc makestep`) and try again"
    )]
    ClockSkew,
    #[error("{op} was denied: {message}")]
    AccessDenied { op: &'static str, message: String },
    #[error("AWS kept throttling {op} ({}); wait a minute and try again", attempts_text(*.attempts))]
    Throttled { op: &'static str, attempts: u32 },
    #[error("AWS returned a server error ({status}) for {op} ({}); try again later", attempts_text(*.attempts))]
    Server {
        op: &'static str,
        status: u16,
        attempts: u32,
    },
    #[error("{op} timed out; check the network or raise --timeout")]
    Timeout { op: &'static str },
    #[error("cannot connect to the {op} endpoint: {detail}")]
    Connect { op: &'static str, detail: String },
    #[error(
        "the requested duration is longer than the role's MaxSessionDuration: lower \
         duration_seconds or --duration, or raise the role's maximum session duration in IAM"
    )]
    RoleMaxDuration,
    #[error(
        "a role assumed from a session (role chaining) lasts at most 1 hour: AWS refused the longer \
         duration"
    )]
    ChainedDuration,
    #[error("{op} failed: {code}: {message}")]
    Other {
        op: &'static str,
        code: String,
        message: String,
    },
    #[error("{what} cannot be used: {why}")]
    InvalidSetting { what: &'static str, why: String },
    #[error("the answer to {op} was cut off before its end ({detail}); try again")]
    CutOff { op: &'static str, detail: String },
    #[error(
        "the answer to {op} (HTTP {status}) could not be read as an AWS answer ({detail}); is the \
         endpoint an AWS STS/IAM endpoint?"
    )]
    Unreadable {
        op: &'static str,
        status: u16,
        detail: String,
    },
    #[error("{op} returned an unusable response: {what}")]
    Malformed {
        op: &'static str,
        what: &'static str,
    },
}

/// The number of attempts the retry policy makes for a call without a one-time code; reported
/// in throttling messages.
pub const ATTEMPTS: u32 = 3;

/// How many attempts were made, for messages: a call carrying a one-time code is made once,
/// because AWS would refuse the code the second time anyway (it is accepted once per window).
fn attempts_text(attempts: u32) -> String {
    if attempts <= 1 {
        "one attempt: a call carrying a one-time MFA code is not retried".to_string()
    } else {
        format!("{attempts} attempts")
    }
}

impl AwsError {
    /// For a call that changes something at AWS: when no usable answer came back although the
    /// request may have been sent and acted on (the connection dropped, a timeout, a cut-off or
    /// unreadable answer, a 5xx), what happened, in words that do not claim it was not sent.
    /// `None` for an answer that says AWS did not act (an AWS error code).
    pub fn lost_answer(&self) -> Option<String> {
        match self {
            AwsError::Connect { detail, .. } => {
                Some(format!("the connection failed or dropped: {detail}"))
            }
            AwsError::Timeout { .. } => Some("no answer came in time".to_string()),
            AwsError::CutOff { detail, .. } => Some(format!("the answer was cut off ({detail})")),
            AwsError::Server { status, .. } => {
                Some(format!("AWS answered with a server error ({status})"))
            }
            AwsError::Unreadable { status, detail, .. } => Some(format!(
                "the answer (HTTP {status}) could not be read ({detail})"
            )),
            AwsError::Malformed { what, .. } => Some(format!("the answer was unusable ({what})")),
            _ => None,
        }
    }

    /// `attempts`: how many the client was allowed (1 for a call carrying an MFA code).
    pub fn from_sdk<E>(op: &'static str, attempts: u32, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());

        match &err {
            SdkError::TimeoutError(_) => return AwsError::Timeout { op },
            SdkError::DispatchFailure(d) if d.is_timeout() => return AwsError::Timeout { op },
            SdkError::DispatchFailure(d) => {
                let detail = d
                    .as_connector_error()
                    .map(|c| crate::text::untrusted(&root_cause(c)))
                    .unwrap_or_else(|| "connection failed".to_string());
                return AwsError::Connect { op, detail };
            }
            // A response arrived but not whole: the connection closed mid-body.
            SdkError::ResponseError(_) => {
                return AwsError::CutOff {
                    op,
                    detail: crate::text::untrusted(&root_cause(&err)),
                };
            }
            _ => {}
        }
        if err.code().is_none() && err.message().is_none() {
            // Nothing in the body could be read as an answer or as an AWS error.
            let detail = crate::text::untrusted(&root_cause(&err));
            return match status {
                Some(s) if s >= 500 => AwsError::Server {
                    op,
                    status: s,
                    attempts,
                },
                _ => AwsError::Unreadable {
                    op,
                    status: status.unwrap_or(0),
                    detail,
                },
            };
        }
        // What the server sent is shown escaped and capped: it may hold line breaks, terminal
        // escape sequences or megabytes.
        let code = crate::text::untrusted(err.code().unwrap_or_default());
        let message = crate::text::untrusted(err.message().unwrap_or_default());
        classify(op, attempts, status, &code, &message)
    }
}

/// The decision table, separate from the SDK types so it can be tested on its own.
fn classify(
    op: &'static str,
    attempts: u32,
    status: Option<u16>,
    code: &str,
    message: &str,
) -> AwsError {
    let lower = message.to_ascii_lowercase();
    match code {
        "AccessDenied" if lower.contains("invalid mfa one time pass code") => AwsError::InvalidCode,
        "AccessDenied" if lower.contains("unable to validate mfa code") => {
            AwsError::SerialNotAssociated
        }
        "AccessDenied" => AwsError::AccessDenied {
            op,
            message: message.to_string(),
        },
        "InvalidClientTokenId" | "UnrecognizedClientException" => AwsError::InvalidKey {
            code: code.to_string(),
        },
        // A clock behind AWS's: "Signature expired: … is now earlier than …"; ahead of it:
        // "Signature not yet current: … is still later than …".
        "SignatureDoesNotMatch"
            if lower.contains("expired") || lower.contains("not yet current") =>
        {
            AwsError::ClockSkew
        }
        "SignatureDoesNotMatch" => AwsError::SignatureMismatch,
        "RequestExpired" | "RequestTimeTooSkewed" => AwsError::ClockSkew,
        "ValidationError" if lower.contains("maxsessionduration") => AwsError::RoleMaxDuration,
        "ValidationError" if lower.contains("role chaining") => AwsError::ChainedDuration,
        "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException" => AwsError::Throttled { op, attempts },
        _ => match status {
            Some(s) if s >= 500 => AwsError::Server {
                op,
                status: s,
                attempts,
            },
            _ => AwsError::Other {
                op,
                code: if code.is_empty() {
                    format!("HTTP {}", status.unwrap_or(0))
                } else {
                    code.to_string()
                },
                message: if message.is_empty() {
                    "no error message".to_string()
                } else {
                    message.to_string()
                },
            },
        },
    }
}

/// The innermost cause (`Connection refused (os error 111)`): the layers above it only repeat
/// "io error: client error (Connect)".
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_messages_aws_really_sends() {
        let c = |code, msg| classify("GetSessionToken", 1, Some(403), code, msg);
        assert!(matches!(
            c(
                "AccessDenied",
                "MultiFactorAuthentication failed with invalid MFA one time pass code. "
            ),
            AwsError::InvalidCode
        ));
        assert!(matches!(
            c(
                "AccessDenied",
                "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your \
                 MFA serial number is valid and associated with this user."
            ),
            AwsError::SerialNotAssociated
        ));
        assert!(matches!(
            c(
                "InvalidClientTokenId",
                "The security token included in the request is invalid."
            ),
            AwsError::InvalidKey { .. }
        ));
        assert!(matches!(
            c(
                "SignatureDoesNotMatch",
                "Signature expired: 20260101T000000Z is now earlier than 20260101T001500Z"
            ),
            AwsError::ClockSkew
        ));
        assert!(matches!(
            c(
                "SignatureDoesNotMatch",
                "Signature not yet current: 20260101T001000Z is still later than \
                 20260101T000500Z (20260101T000000Z + 5 min.)"
            ),
            AwsError::ClockSkew
        ));
        assert!(matches!(
            c(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match"
            ),
            AwsError::SignatureMismatch
        ));
        assert!(matches!(
            c("Throttling", "Rate exceeded"),
            AwsError::Throttled { .. }
        ));
        assert!(matches!(
            classify("X", 3, Some(503), "", ""),
            AwsError::Server { status: 503, .. }
        ));
        assert!(matches!(
            c(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            ),
            AwsError::RoleMaxDuration
        ));
        assert!(matches!(
            c(
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
            ),
            AwsError::ChainedDuration
        ));
        assert!(matches!(
            c("ValidationError", "bad"),
            AwsError::Other { .. }
        ));
    }
}
