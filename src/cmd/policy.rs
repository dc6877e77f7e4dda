//! `mfa-session policy`: the IAM policy that makes MFA mandatory — the reason this tool exists.
//!
//! It lets a user manage only their own MFA device and password, and denies everything else
//! unless MFA is present. The condition is `BoolIfExists aws:MultiFactorAuthPresent false`:
//! requests signed with long-term access keys carry no such key at all, so a plain `Bool` would
//! let them through, and `BoolIfExists` denies them too. `sts:GetSessionToken` and the MFA
//! management calls stay allowed, so a user can enrol a device and trade keys plus a code for
//! a session. With `--allow-ip`, requests from other source addresses are denied, except those
//! AWS services make on the user's behalf (`aws:ViaAWSService`).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use ipnet::IpNet;
use serde_json::{Value, json};

use crate::error::BadCidr;

/// Parses a CIDR block, or a single address as a /32 or /128.
pub fn parse_cidr(s: &str) -> Result<IpNet, BadCidr> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| BadCidr {
            value: s.to_string(),
        })
}

/// The policy document.
pub fn document(allow_ip: &[IpNet]) -> Value {
    let own_user = "arn:aws:iam::*:user/${aws:username}";
    let mut statements = vec![
        json!({
            "Sid": "AllowViewAccountInfo",
            "Effect": "Allow",
            "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"],
            "Resource": "*"
        }),
        json!({
            "Sid": "AllowManageOwnPasswords",
            "Effect": "Allow",
            "Action": ["iam:ChangePassword", "iam:GetUser"],
            "Resource": own_user
        }),
        json!({
            "Sid": "AllowManageOwnVirtualMFADevice",
            "Effect": "Allow",
            "Action": ["iam:CreateVirtualMFADevice"],
            "Resource": "arn:aws:iam::*:mfa/*"
        }),
        json!({
            "Sid": "AllowManageOwnUserMFA",
            "Effect": "Allow",
            "Action": [
                "iam:DeactivateMFADevice",
                "iam:EnableMFADevice",
                "iam:ListMFADevices",
                "iam:ResyncMFADevice"
            ],
            "Resource": own_user
        }),
        json!({
            "Sid": "DenyAllExceptListedIfNoMFA",
            "Effect": "Deny",
            "NotAction": [
                "iam:CreateVirtualMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:ChangePassword",
                "iam:ListMFADevices",
                "iam:ListVirtualMFADevices",
                "iam:ResyncMFADevice",
                "sts:GetSessionToken"
            ],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
        }),
    ];
    if !allow_ip.is_empty() {
        let cidrs: Vec<String> = allow_ip.iter().map(|n| n.to_string()).collect();
        statements.push(json!({
            "Sid": "DenyOutsideAllowedSourceIPs",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "NotIpAddress": {"aws:SourceIp": cidrs},
                "Bool": {"aws:ViaAWSService": "false"}
            }
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

pub const EXPLANATION: &str = "\
How this policy works (docs/policy.md has the full rollout):

- Without MFA a user may only: see the account's password policy, change their own password,
  create, enable, list and resync their own MFA device, and call sts:GetSessionToken, which is
  how long-term keys plus a code become an MFA session (mfa-session login).
- Everything else is denied unless aws:MultiFactorAuthPresent is true.

BoolIfExists versus Bool: requests signed with long-term access keys do not carry the key
aws:MultiFactorAuthPresent at all. With \"Bool\": {\"aws:MultiFactorAuthPresent\": \"false\"} the
condition is false for them (the key is missing), the Deny does not apply, and plain access keys
keep working without MFA: the console is protected, the CLI is not. \"BoolIfExists\" also matches
when the key is missing, so the Deny applies to long-term keys too. That is what breaks the AWS
CLI, SDKs and batch jobs until they use a session from mfa-session (login, export,
credential-process, refresh).

--allow-ip adds a Deny for requests from other source addresses. \"aws:ViaAWSService\": \"false\"
exempts calls AWS services make on the user's behalf (CloudFormation, Athena, ...), which come
from AWS addresses, not the user's.
";

pub fn run(allow_ip: &[String], explain: bool, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let nets = allow_ip
        .iter()
        .map(|s| parse_cidr(s))
        .collect::<Result<Vec<_>, _>>()?;
    let text =
        serde_json::to_string_pretty(&document(&nets)).context("cannot render the policy")?;
    writeln!(out, "{text}").context("cannot write to stdout")?;
    if explain {
        eprint!("{EXPLANATION}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert_eq!(
            parse_cidr("203.0.113.0/24").unwrap().to_string(),
            "203.0.113.0/24"
        );
        assert_eq!(
            parse_cidr("198.51.100.7").unwrap().to_string(),
            "198.51.100.7/32"
        );
        assert_eq!(
            parse_cidr("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        for bad in ["10.0.0.0/33", "300.1.1.1", "10.0.0/8", "", "any", "::/129"] {
            assert!(parse_cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mfa_deny_uses_bool_if_exists_and_keeps_get_session_token() {
        let doc = document(&[]);
        let deny = &doc["Statement"][4];
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(
            deny["Condition"]["BoolIfExists"]["aws:MultiFactorAuthPresent"],
            "false"
        );
        assert!(
            deny["NotAction"]
                .as_array()
                .unwrap()
                .contains(&json!("sts:GetSessionToken"))
        );
        assert!(
            deny["NotAction"]
                .as_array()
                .unwrap()
                .contains(&json!("iam:ListMFADevices"))
        );
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 5);
        let with_ip = document(&[parse_cidr("203.0.113.0/24").unwrap()]);
        let ip = &with_ip["Statement"][5];
        assert_eq!(
            ip["Condition"]["NotIpAddress"]["aws:SourceIp"],
            json!(["203.0.113.0/24"])
        );
        assert_eq!(ip["Condition"]["Bool"]["aws:ViaAWSService"], "false");
    }
}
