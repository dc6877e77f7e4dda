//! Property tests of the lossless editor over generated credentials and config files.
//!
//! The generator builds files line by line and knows, for every line, which profile and key it
//! belongs to. After any edit the file must (1) parse, (2) read as the expected profiles, and
//! (3) keep every line the edit does not own — same text, same line ending, same order — with
//! only the lines the edit implies added.

use std::collections::BTreeMap;

use mfa_session::store::{Document, FileKind};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct GenLine {
    text: String,
    eol: &'static str,
    /// The (profile, lower-cased key) whose value this line is part of, if any.
    owner: Option<(String, String)>,
}

const NAMES: &[&str] = &["default", "dev", "prod", "a-b", "x.y@z", "dev-long-term"];
const KEYS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "expiration",
    "region",
    "Region",
    "mfa_serial",
    "s3",
];

fn value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9/+=:._-]{0,16}"
}

fn eol() -> impl Strategy<Value = &'static str> {
    prop_oneof![3 => Just("\n"), 1 => Just("\r\n")]
}

fn filler() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("   ".to_string()),
        Just("\t".to_string()),
        "[#;][ a-z#;=]{0,12}",
    ]
}

#[derive(Clone, Debug)]
enum Item {
    Filler(String),
    Property {
        key: String,
        layout: u8,
        value: String,
        continuations: Vec<String>,
    },
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        1 => filler().prop_map(Item::Filler),
        3 => (
            prop::sample::select(KEYS),
            0u8..6,
            value(),
            prop::collection::vec("[a-z0-9=-]{1,8}", 0..3)
        )
            .prop_map(|(key, layout, value, continuations)| Item::Property {
                key: key.to_string(),
                layout,
                value,
                continuations,
            }),
    ]
}

#[derive(Clone, Debug)]
struct Section {
    /// `None`: a section no profile resolves to (invalid name, sso-session).
    name: Option<&'static str>,
    header_style: u8,
    items: Vec<Item>,
}

fn section() -> impl Strategy<Value = Section> {
    (
        prop::option::weighted(0.85, prop::sample::select(NAMES)),
        0u8..4,
        prop::collection::vec(item(), 0..6),
    )
        .prop_map(|(name, header_style, items)| Section {
            name,
            header_style,
            items,
        })
}

#[derive(Clone, Debug)]
struct GenFile {
    kind: FileKind,
    lines: Vec<GenLine>,
}

impl GenFile {
    fn text(&self) -> String {
        self.lines
            .iter()
            .map(|l| format!("{}{}", l.text, l.eol))
            .collect()
    }
}

fn header(kind: FileKind, name: Option<&str>, style: u8) -> String {
    let inner = match (kind, name) {
        (FileKind::Credentials, Some(n)) => n.to_string(),
        (FileKind::Config, Some(n)) => format!("profile {n}"),
        (FileKind::Credentials, None) => "not valid".to_string(),
        (FileKind::Config, None) => "sso-session corp".to_string(),
    };
    match style {
        0 => format!("[{inner}]"),
        1 => format!("[ {inner}\t]"),
        2 => format!("[{inner}] # about it"),
        _ => format!("[{inner}];x"),
    }
}

fn property_text(key: &str, layout: u8, value: &str) -> String {
    match layout {
        0 => format!("{key}={value}"),
        1 => format!("{key} = {value}"),
        2 => format!("{key}\t=   {value}  "),
        3 => format!("{key} = {value} # note"),
        4 => format!("{key} = {value} ;"),
        _ => format!("{key}  ={value}"),
    }
}

fn gen_file() -> impl Strategy<Value = GenFile> {
    (
        prop_oneof![Just(FileKind::Credentials), Just(FileKind::Config)],
        prop::collection::vec(filler(), 0..3),
        prop::collection::vec(section(), 0..6),
        prop::collection::vec(eol(), 80),
        any::<bool>(),
    )
        .prop_map(|(kind, prelude, sections, eols, final_newline)| {
            let mut lines = Vec::new();
            let mut push = |text: String, owner: Option<(String, String)>| {
                lines.push(GenLine {
                    text,
                    eol: "\n",
                    owner,
                })
            };
            for f in prelude {
                push(f, None);
            }
            for s in sections {
                push(header(kind, s.name, s.header_style), None);
                for it in s.items {
                    match it {
                        Item::Filler(f) => push(f, None),
                        Item::Property {
                            key,
                            layout,
                            value,
                            continuations,
                        } => {
                            let owner = s.name.map(|n| (n.to_string(), key.to_ascii_lowercase()));
                            push(property_text(&key, layout, &value), owner.clone());
                            for c in continuations {
                                // After an empty value, continuations are sub-properties.
                                let c = if value.is_empty() {
                                    format!("k{c} = 1")
                                } else {
                                    c
                                };
                                push(format!("  {c}"), owner.clone());
                            }
                        }
                    }
                }
            }
            for (i, l) in lines.iter_mut().enumerate() {
                l.eol = eols[i % eols.len()];
            }
            if !final_newline && let Some(l) = lines.last_mut() {
                l.eol = "";
                // An empty last line without a newline is no line at all.
                if l.text.is_empty() {
                    lines.pop();
                }
            }
            GenFile { kind, lines }
        })
}

#[derive(Clone, Debug)]
enum Op {
    Set(&'static str, String, String),
    Remove(&'static str, String),
}

fn op() -> impl Strategy<Value = Op> {
    let key = prop_oneof![
        prop::sample::select(KEYS).prop_map(str::to_string),
        prop::sample::select(KEYS).prop_map(|k| k.to_ascii_uppercase()),
        Just("brand_new".to_string()),
    ];
    let name = prop::sample::select(NAMES);
    prop_oneof![
        3 => (name.clone(), key.clone(), value()).prop_map(|(n, k, v)| Op::Set(n, k, v)),
        1 => (name, key).prop_map(|(n, k)| Op::Remove(n, k)),
    ]
}

/// The lines of `orig` the edit does not own, compared with `out`: `out` must contain them all,
/// in order, exactly (a final line that had no newline may have gained one).
fn check_untouched(orig: &[GenLine], out: &str, target: (&str, &str)) -> Result<usize, String> {
    let kept: Vec<&GenLine> = orig
        .iter()
        .filter(|l| {
            l.owner
                .as_ref()
                .is_none_or(|(p, k)| (p.as_str(), k.as_str()) != target)
        })
        .collect();
    let out_lines: Vec<&str> = out.split_inclusive('\n').collect();
    let mut j = 0;
    for (idx, l) in kept.iter().enumerate() {
        let exact = format!("{}{}", l.text, l.eol);
        let is_last_without_newline = l.eol.is_empty() && idx == kept.len() - 1;
        loop {
            let Some(o) = out_lines.get(j) else {
                return Err(format!("untouched line {exact:?} missing or out of order"));
            };
            j += 1;
            let matches = *o == exact
                || (is_last_without_newline
                    && o.strip_suffix('\n')
                        .map(|s| s.strip_suffix('\r').unwrap_or(s))
                        == Some(&l.text));
            if matches {
                break;
            }
        }
    }
    Ok(out_lines.len() - kept.len())
}

fn run(file: GenFile, op: Op) -> Result<(), TestCaseError> {
    let text = file.text();
    let mut doc = Document::parse(file.kind, &text)
        .map_err(|e| TestCaseError::fail(format!("generated file does not parse: {e}\n{text}")))?;
    prop_assert_eq!(doc.to_string(), text.clone());
    let mut want: BTreeMap<String, BTreeMap<String, String>> = doc.profiles().profiles;
    let existed = want.contains_key(match &op {
        Op::Set(p, ..) | Op::Remove(p, _) => *p,
    });
    let (profile, key) = match &op {
        Op::Set(p, k, v) => {
            doc.set(p, k, v).unwrap();
            want.entry(p.to_string())
                .or_default()
                .insert(k.to_ascii_lowercase(), v.clone());
            (*p, k.to_ascii_lowercase())
        }
        Op::Remove(p, k) => {
            doc.remove(p, k).unwrap();
            if let Some(m) = want.get_mut(*p) {
                m.remove(&k.to_ascii_lowercase());
            }
            (*p, k.to_ascii_lowercase())
        }
    };
    let out = doc.to_string();
    let reparsed = Document::parse(file.kind, &out)
        .map_err(|e| TestCaseError::fail(format!("edited file does not parse: {e}\n{out}")))?;
    prop_assert_eq!(
        &reparsed.profiles().profiles,
        &want,
        "\nbefore:\n{}\nafter:\n{}",
        text,
        out
    );
    prop_assert_eq!(reparsed.to_string(), out.clone());
    let added = check_untouched(&file.lines, &out, (profile, &key))
        .map_err(|e| TestCaseError::fail(format!("{e}\nbefore:\n{text}\nafter:\n{out}")))?;
    let owned = file
        .lines
        .iter()
        .filter(|l| {
            l.owner
                .as_ref()
                .is_some_and(|(p, k)| p == profile && *k == key)
        })
        .count();
    let max_added = match op {
        Op::Remove(..) => 0,
        // The defining line is rewritten; shadowed duplicates above it are left alone.
        Op::Set(..) if owned > 0 => owned,
        Op::Set(..) if existed => 1,
        // A new section: separating blank line, header, the property.
        Op::Set(..) => 3,
    };
    prop_assert!(
        added <= max_added,
        "{} lines added, at most {} expected\nbefore:\n{}\nafter:\n{}",
        added,
        max_added,
        text,
        out
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn any_edit_keeps_every_untouched_line(file in gen_file(), op in op()) {
        run(file, op)?;
    }

    #[test]
    fn a_sequence_of_edits_reads_as_expected(file in gen_file(), ops in prop::collection::vec(op(), 1..6)) {
        let mut text = file.text();
        let mut want = Document::parse(file.kind, &text).unwrap().profiles().profiles;
        for op in ops {
            let mut doc = Document::parse(file.kind, &text).unwrap();
            match op {
                Op::Set(p, k, v) => {
                    doc.set(p, &k, &v).unwrap();
                    want.entry(p.to_string()).or_default().insert(k.to_ascii_lowercase(), v);
                }
                Op::Remove(p, k) => {
                    doc.remove(p, &k).unwrap();
                    if let Some(m) = want.get_mut(p) { m.remove(&k.to_ascii_lowercase()); }
                }
            }
            text = doc.to_string();
            prop_assert_eq!(&Document::parse(file.kind, &text).unwrap().profiles().profiles, &want);
        }
    }
}
