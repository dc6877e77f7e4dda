//! The platform seam holds: no raw OS call and no platform `cfg` outside `src/sys/`, and no
//! import cycle between the error mapping and the layers it maps.
//!
//! Raw calls are `libc`, `std::os::{unix,windows,fd}`, `windows-sys` and `unsafe`; platform
//! `cfg`s are `cfg(unix)`, `cfg(windows)`, `cfg(target_os …)` and `cfg!(…)`. Outside the seam
//! the only `cfg`s allowed are `cfg(test)` and, for unit tests that drive Unix tools,
//! `cfg(all(test, unix))`; the keyring's per-OS backend files are chosen in
//! `src/secrets/keyring` (the one other place that names platforms, without raw calls).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Each code line (comments dropped) of every source file outside `src/sys/`, as
/// `(file, line number, text)`.
fn lines_outside_the_seam() -> Vec<(String, usize, String)> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut out = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with("sys/") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            // A trailing comment is not code either (no string in our code holds "//" next to
            // these words).
            let code = code.split(" //").next().unwrap_or(code);
            out.push((rel.clone(), i + 1, code.to_string()));
        }
    }
    out
}

#[test]
fn no_raw_os_call_outside_the_platform_seam() {
    const RAW: [&str; 9] = [
        "libc::",
        "std::os::unix",
        "std::os::windows",
        "std::os::fd",
        "windows_sys",
        "unsafe {",
        "unsafe fn",
        "unsafe impl",
        "unsafe extern",
    ];
    let found: Vec<String> = lines_outside_the_seam()
        .into_iter()
        .filter(|(_, _, code)| RAW.iter().any(|raw| code.contains(raw)))
        .map(|(file, n, code)| format!("src/{file}:{n}: {code}"))
        .collect();
    assert!(
        found.is_empty(),
        "raw OS calls outside src/sys (move them behind a portable function there):\n{}",
        found.join("\n")
    );
    // The guard itself sees what it must: the seam does hold such calls.
    let mut seam = Vec::new();
    rust_files(&src().join("sys"), &mut seam);
    let seam_text: String = seam
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(RAW[..6].iter().all(|raw| seam_text.contains(raw)));
}

#[test]
fn no_platform_cfg_outside_the_platform_seam() {
    let found: Vec<String> = lines_outside_the_seam()
        .into_iter()
        .filter(|(file, _, _)| !file.starts_with("secrets/keyring"))
        .filter(|(_, _, code)| {
            let c = code.replace(' ', "");
            (c.contains("cfg(") || c.contains("cfg!("))
                && !["#[cfg(test)]", "#[cfg(all(test,unix))]", "#![cfg_attr("]
                    .iter()
                    .any(|ok| c.starts_with(ok))
        })
        .map(|(file, n, code)| format!("src/{file}:{n}: {code}"))
        .collect();
    assert!(
        found.is_empty(),
        "platform cfg outside src/sys (ask sys for a portable answer instead):\n{}",
        found.join("\n")
    );
}

/// The top-level modules (`error`, `mfa`, `secrets`, …) each file of `src/` names through
/// `crate::…` or `super::…` paths.
fn module_edges() -> Vec<(String, String)> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut edges = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let module = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        for piece in text.split("crate::").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                edges.push((module.clone(), name));
            }
        }
    }
    edges.sort();
    edges.dedup();
    edges
}

#[test]
fn the_error_mapping_is_not_in_an_import_cycle() {
    // `error` maps every layer's errors to exit codes, so it names them all; none of the layers
    // it names may name `error` back, directly or through another (the old cycle was
    // error -> mfa -> secrets -> error, through KeyringError).
    let edges = module_edges();
    let mut reach = vec!["secrets".to_string(), "mfa".to_string(), "sys".to_string()];
    let mut seen = Vec::new();
    while let Some(m) = reach.pop() {
        if seen.contains(&m) {
            continue;
        }
        seen.push(m.clone());
        for (from, to) in &edges {
            if *from == m {
                assert_ne!(
                    to, "error",
                    "{from} names crate::error: {seen:?} leads back to it"
                );
                reach.push(to.clone());
            }
        }
    }
}
