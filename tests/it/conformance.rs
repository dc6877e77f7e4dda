//! The AWS SDKs' own cross-SDK profile-parser suite (`tests/data/profile-parser-tests.json`,
//! copied from `shared/conformance`), run against our reader. Every case runs; none is skipped.

use std::collections::BTreeMap;

use mfa_session::store::{self, Document, FileKind};
use serde_json::Value;

type Map = BTreeMap<String, BTreeMap<String, String>>;

fn to_map(v: &Value) -> Map {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(name, props)| {
            let props = props
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            (name.clone(), props)
        })
        .collect()
}

fn run_case(case: &Value) -> Result<(), String> {
    let input = &case["input"];
    let parse = |key: &str, kind| match input.get(key).and_then(Value::as_str) {
        Some(text) => Document::parse_sdk(kind, text).map_err(|e| e.to_string()),
        None => Ok(Document::empty(kind)),
    };
    let parsed = parse("configFile", FileKind::Config)
        .and_then(|c| parse("credentialsFile", FileKind::Credentials).map(|k| (c, k)));
    let output = &case["output"];
    match (
        parsed,
        output.get("errorContaining").and_then(Value::as_str),
    ) {
        (Err(got), Some(want)) if got.contains(want) => Ok(()),
        (Err(got), Some(want)) => Err(format!("error {got:?} does not contain {want:?}")),
        (Err(got), None) => Err(format!("unexpected error {got:?}")),
        (Ok(_), Some(want)) => Err(format!("parsed, but expected an error containing {want:?}")),
        (Ok((config, credentials)), None) => {
            let got = store::merge(&config, &credentials);
            let want = &output["config"];
            if got.profiles != to_map(&want["profiles"]) {
                return Err(format!(
                    "profiles: got {:?}, want {}",
                    got.profiles, want["profiles"]
                ));
            }
            if let Some(sso) = want.get("sso_sessions")
                && got.sso_sessions != to_map(sso)
            {
                return Err(format!(
                    "sso_sessions: got {:?}, want {sso}",
                    got.sso_sessions
                ));
            }
            Ok(())
        }
    }
}

#[test]
fn sdk_profile_parser_suite() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/profile-parser-tests.json"
    ))
    .unwrap();
    let suite: Value = serde_json::from_str(&text).unwrap();
    let cases = suite["tests"].as_array().unwrap();
    let mut failures = Vec::new();
    for case in cases {
        if let Err(why) = run_case(case) {
            failures.push(format!("{}: {why}", case["name"]));
        }
    }
    let passed = cases.len() - failures.len();
    println!(
        "conformance: {passed}/{} cases passed, 0 skipped",
        cases.len()
    );
    eprintln!(
        "conformance: {passed}/{} cases passed, 0 skipped",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "failed cases:\n{}",
        failures.join("\n")
    );
    assert!(cases.len() >= 60, "the suite shrank: {} cases", cases.len());
}

/// Every case that parses must also survive a no-op round trip byte for byte: reading is
/// lossless even for inputs the suite only means to test the reader with.
#[test]
fn every_suite_input_round_trips() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/profile-parser-tests.json"
    ))
    .unwrap();
    let suite: Value = serde_json::from_str(&text).unwrap();
    for case in suite["tests"].as_array().unwrap() {
        for (key, kind) in [
            ("configFile", FileKind::Config),
            ("credentialsFile", FileKind::Credentials),
        ] {
            if let Some(t) = case["input"].get(key).and_then(Value::as_str)
                && let Ok(doc) = Document::parse_sdk(kind, t)
            {
                assert_eq!(doc.to_string(), t, "{}", case["name"]);
            }
        }
    }
}
