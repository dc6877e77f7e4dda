//! `mfa-session policy`: the printed documents are valid JSON that IAM accepts (created through
//! the emulator's CreatePolicy and read back), and invalid CIDRs are refused with nothing
//! printed.

use crate::common;

use common::Home;
use predicates::prelude::*;

#[test]
fn every_variant_is_accepted_by_iam_create_policy() {
    let moto = common::moto();
    let iam = common::admin_iam(&moto);
    let home = Home::new();
    let variants: &[&[&str]] = &[
        &[],
        &["--allow-ip", "203.0.113.0/24"],
        &["--allow-ip", "203.0.113.7", "--allow-ip", "2001:db8::/32"],
    ];
    for (i, args) in variants.iter().enumerate() {
        let out = home.cmd().arg("policy").args(*args).output().unwrap();
        assert!(out.status.success());
        assert!(out.stderr.is_empty());
        let text = String::from_utf8(out.stdout).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            text.trim_start()
                .starts_with("{\n  \"Version\": \"2012-10-17\""),
            "{text}"
        );
        let name = format!("ForceMFA-{}-{i}", std::process::id());
        let stored = common::runtime().block_on(async {
            let created = iam
                .create_policy()
                .policy_name(&name)
                .policy_document(&text)
                .send()
                .await
                .expect("IAM accepts the policy");
            let arn = created.policy.unwrap().arn.unwrap();
            iam.get_policy_version()
                .policy_arn(arn)
                .version_id("v1")
                .send()
                .await
                .unwrap()
                .policy_version
                .unwrap()
                .document
                .unwrap()
        });
        let stored = urlencoding_decode(&stored);
        let back: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, doc, "IAM stored what we printed");
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), if args.is_empty() { 5 } else { 6 });
    }
}

/// IAM returns policy documents URL-encoded.
fn urlencoding_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn invalid_cidrs_are_refused_and_nothing_is_printed() {
    let home = Home::new();
    for bad in ["10.0.0.0/33", "300.0.0.1", "office", "10.0.0/8"] {
        home.cmd()
            .args(["policy", "--allow-ip", "203.0.113.0/24", "--allow-ip", bad])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(bad).and(predicate::str::contains("CIDR")));
    }
}

#[test]
fn explain_goes_to_stderr_and_says_why_bool_if_exists() {
    let home = Home::new();
    home.cmd()
        .args(["policy", "--explain"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("{"))
        .stderr(predicate::str::contains("BoolIfExists versus Bool"))
        .stderr(predicate::str::contains(
            "plain access keys\nkeep working without MFA",
        ));
}
