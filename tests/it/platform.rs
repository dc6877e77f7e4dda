//! The platform seam holds: no raw OS call and no platform `cfg` outside `src/sys/`; and the
//! layers stay layers: no import cycle between the top-level modules.
//!
//! A third test reads the `crate::…` paths of each top-level module and fails on any cycle
//! between them.
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
fn no_import_cycle_between_the_top_level_modules() {
    // Each layer names only those below it: `error` maps every layer's errors to exit codes and
    // so names them all, and none of them may name it back (the old cycle was error -> mfa ->
    // secrets -> error, through KeyringError); `mfa` reads seeds from `secrets`, which must
    // not call back into `mfa`.
    let edges = module_edges();
    let modules: Vec<&String> = edges.iter().map(|(from, _)| from).collect();
    for start in modules {
        // Every path out of `start`: a cycle is a path that comes back to it.
        let mut stack = vec![vec![start.clone()]];
        let mut seen: Vec<String> = Vec::new();
        while let Some(path) = stack.pop() {
            let last = path.last().unwrap().clone();
            for (from, to) in &edges {
                if *from != last {
                    continue;
                }
                assert_ne!(to, start, "import cycle: {} -> {to}", path.join(" -> "));
                if !seen.contains(to) {
                    seen.push(to.clone());
                    let mut longer = path.clone();
                    longer.push(to.clone());
                    stack.push(longer);
                }
            }
        }
    }
    // The guard sees the edges it must: `error` names `secrets`, and `mfa` names `secrets`.
    assert!(edges.contains(&("error".into(), "secrets".into())));
    assert!(edges.contains(&("mfa".into(), "secrets".into())));
}
