//! Which MFA devices can give a code for an API call. Since 2024 an IAM user may register
//! security keys and passkeys (FIDO) as MFA devices; `ListMFADevices` returns them with serials
//! such as `arn:aws:iam::123456789012:u2f/user/alice/NAME-ID`, but STS takes only TOTP devices
//! (virtual or hardware) for GetSessionToken and AssumeRole. Discovery skips security keys;
//! when they are all a user has, or when one is configured as `mfa_serial`, the login stops
//! before any code is asked for or any call is made, with [`SECURITY_KEYS_FIX`].

use super::MfaError;

/// What a person with only security keys or passkeys can do, in every message about them.
pub const SECURITY_KEYS_FIX: &str = "security keys and passkeys sign in to the AWS console, not \
     to CLI sessions: GetSessionToken and AssumeRole take only a code from a virtual or hardware \
     TOTP device. Register one (IAM console → Security credentials → Assign MFA device → \
     Authenticator app or Hardware TOTP token) and use it here; for a user with only a passkey, \
     AWS's own `aws login` (AWS CLI v2) is the route to CLI credentials";

/// Whether `serial` names a security key or passkey (`arn:PARTITION:iam::ACCOUNT:u2f/...`),
/// which STS does not accept.
pub fn is_security_key(serial: &str) -> bool {
    let mut parts = serial.splitn(6, ':');
    let (Some("arn"), Some(_), Some("iam"), Some(_), Some(_), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    resource.starts_with("u2f/")
}

/// The devices of `listed` that can give a code, in order. Fails when the user has devices and
/// every one is a security key or passkey; an empty list stays empty (no device at all).
pub fn usable(listed: Vec<String>, who: &str) -> Result<Vec<String>, MfaError> {
    let (keys, usable): (Vec<String>, Vec<String>) =
        listed.into_iter().partition(|d| is_security_key(d));
    if usable.is_empty() && !keys.is_empty() {
        return Err(MfaError::OnlySecurityKeys {
            who: who.to_string(),
            keys: keys.join(", "),
        });
    }
    if !keys.is_empty() {
        tracing::info!(
            "skipping {} (security keys and passkeys cannot give a code for STS)",
            keys.join(", ")
        );
    }
    Ok(usable)
}

/// Refuses a configured serial that names a security key or passkey; `origin` says where it
/// was configured.
pub fn check_configured(serial: &str, origin: &str) -> Result<(), MfaError> {
    if is_security_key(serial) {
        return Err(MfaError::SecurityKeySerial {
            serial: crate::text::untrusted(serial),
            origin: origin.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_keys_are_told_from_totp_devices() {
        for key in [
            "arn:aws:iam::123456789012:u2f/user/alice/yubikey-ABC",
            "arn:aws-us-gov:iam::123456789012:u2f/user/alice/passkey-1",
            "arn:aws:iam::123456789012:u2f/root-account-mfa-device",
        ] {
            assert!(is_security_key(key), "{key}");
        }
        for device in [
            "arn:aws:iam::123456789012:mfa/alice",
            "arn:aws:iam::123456789012:mfa/u2f/alice",
            "GAHT12345678",
            "u2f/alice",
            "arn:aws:sts::123456789012:u2f/x",
        ] {
            assert!(!is_security_key(device), "{device}");
        }
    }

    #[test]
    fn only_totp_devices_are_offered() {
        let key = "arn:aws:iam::1:u2f/user/a/k".to_string();
        let totp = "arn:aws:iam::1:mfa/a".to_string();
        assert_eq!(
            usable(vec![key.clone(), totp.clone()], "me").unwrap(),
            [totp]
        );
        assert!(usable(vec![], "me").unwrap().is_empty());
        let e = usable(vec![key.clone()], "IAM user a").unwrap_err();
        assert!(matches!(e, MfaError::OnlySecurityKeys { .. }));
        let text = e.to_string();
        assert!(
            text.contains(&key) && text.contains("IAM user a") && text.contains("aws login"),
            "{text}"
        );
        assert!(check_configured(&key, "--serial").is_err());
        assert!(check_configured("arn:aws:iam::1:mfa/a", "--serial").is_ok());
    }
}
