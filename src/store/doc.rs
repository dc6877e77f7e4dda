//! A lossless model of one AWS shared config or credentials file.
//!
//! The AWS SDKs read these files with a line-oriented grammar of their own (not INI): inline
//! comments only after whitespace, continuation lines, sub-properties, `[profile x]` only in the
//! config file. Users keep comments, odd spacing and CRLF in them, and other tools own most of
//! their sections. So this module keeps every line exactly as it was read (text and line
//! terminator), classifies it with the same rules as the SDKs' parser, and edits by replacing,
//! inserting or removing whole lines of the one section it was asked to change. Everything
//! else is written back byte for byte.
//!
//! Pure text in, text out: no file system, no environment.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

/// Which of the two shared files a text is: they name sections differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `~/.aws/config`: `[profile name]`, `[default]`, `[sso-session name]`.
    Config,
    /// `~/.aws/credentials`: `[name]` only.
    Credentials,
}

/// A syntax error, with the 1-based line it was found on. The messages are the SDKs' own.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: &'static str,
}

/// Why an edit was refused. Nothing is changed when one is returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(
        "invalid profile name {0:?}: the AWS SDKs accept only letters, digits and - / . % @ _ : +"
    )]
    InvalidProfileName(String),
    #[error("invalid key name {0:?}: the AWS SDKs accept only letters, digits and - / . % @ _ : +")]
    InvalidKey(String),
    #[error("the value for {key} cannot be stored: {why}")]
    InvalidValue { key: String, why: &'static str },
    #[error(
        "line {line} sets {key} as `{key} : value` (a colon, no `=`); mfa-session reads such \
         lines but does not edit them: change it to `{key} = value`"
    )]
    ColonLine { key: String, line: usize },
}

/// The profiles (and sso-sessions) of a file as the SDKs see them: keys lower-cased, duplicates
/// merged, invalid names dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profiles {
    pub profiles: BTreeMap<String, BTreeMap<String, String>>,
    pub sso_sessions: BTreeMap<String, BTreeMap<String, String>>,
}

/// A byte range within one line's text.
/// The longest value written into a file: real ones (a session token, an ARN) are far shorter.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span(usize, usize);

impl Span {
    /// Where `inner` (a subslice of `outer`) sits in `outer`.
    fn of(outer: &str, inner: &str) -> Span {
        let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
        Span(start, start + inner.len())
    }

    fn get(self, text: &str) -> &str {
        &text[self.0..self.1]
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Blank,
    Comment,
    /// A section header; `name` is the text between the brackets, comment-free and trimmed.
    Header {
        name: Span,
    },
    /// `key = value`; `key` trimmed but with its case. The value is read from the line's text
    /// when needed ([`property_value`]): most values are never looked at, so not copied.
    /// `colon`: the line is `key : value` (a colon and no `=`), which the SDKs' grammar rejects
    /// but the AWS CLI, botocore and the AWS CRT read as a property; such lines are read, and
    /// never edited.
    Property {
        key: Span,
        colon: bool,
    },
    /// An indented line continuing the property above it.
    Continuation,
}

/// A line's text: a range of the text as read, or (after an edit) text of its own. Lines read
/// from the file cost no allocation, which is what keeps large files cheap to read.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Text {
    Read(usize, usize),
    Owned(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Line {
    text: Text,
    eol: &'static str,
    kind: Kind,
}

impl Line {
    fn owned(text: String, eol: &'static str, kind: Kind) -> Line {
        Line {
            text: Text::Owned(text),
            eol,
            kind,
        }
    }
}

/// One parsed file. `to_string()` gives back the exact input until an edit is made, and after an
/// edit, the exact input except for the lines of the edited keys.
#[derive(Clone, Debug)]
pub struct Document {
    kind: FileKind,
    /// The text as read; unedited lines point into it.
    source: String,
    lines: Vec<Line>,
    /// Where each profile's sections are, built at the first lookup and kept up to date by
    /// every edit: with it a lookup or an edit by name costs the profile's lines, not the
    /// file's, so reading or writing every profile of a large file is linear.
    index: OnceLock<Index>,
}

/// The header lines of each profile, as the SDKs resolve the headers. Built without a copy of
/// any name (it is built on the hot path of `export`, which then looks up a handful): entries
/// are (hash of the profile name, header line), sorted; a lookup checks the names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Index {
    /// `[profile default]` hides every bare `[default]` (config file).
    hide_bare_default: bool,
    headers: Vec<(u64, usize)>,
}

/// FNV-1a: a fast hash of a short name; collisions only cost a comparison.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What a section header means in a file of a given kind (borrowed from the header's text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section<'a> {
    Profile { name: &'a str, bare_default: bool },
    SsoSession(&'a str),
    Ignored,
}

const COMMENT: [char; 2] = ['#', ';'];
const WS: [char; 2] = [' ', '\t'];

/// The SDKs' rule for profile and property names.
pub fn is_valid_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/.%@_:+".contains(c))
}

/// Strips an inline comment and surrounding blanks, as the SDKs do. Headers end at any comment
/// character; property lines only at one preceded by whitespace, so `value;x` keeps its `;`.
/// Returns the byte range of what is left, within `line`.
fn content_range(line: &str, comments_need_whitespace: bool) -> (usize, usize) {
    let start = line.len() - line.trim_start_matches(WS).len();
    let end = line.trim_end_matches(WS).len().max(start);
    let body = &line[start..end];
    // Jump from one comment character to the next (both ASCII) instead of decoding every char:
    // session tokens are long, and this runs on every property line.
    let bytes = body.as_bytes();
    let mut cut = body.len();
    let mut from = 0;
    while let Some(pos) = memchr::memchr2(b'#', b';', &bytes[from..]) {
        let i = from + pos;
        if !comments_need_whitespace
            || body[..i]
                .chars()
                .next_back()
                .is_some_and(char::is_whitespace)
        {
            cut = i;
            break;
        }
        from = i + 1;
    }
    let kept = body[..cut].trim_end_matches(WS);
    (start, start + kept.len())
}

fn prepare(line: &str, comments_need_whitespace: bool) -> &str {
    let (s, e) = content_range(line, comments_need_whitespace);
    &line[s..e]
}

/// The value on a property line (comment-free, trimmed). Only called on lines that parsed as
/// properties, so the `=` (or, for a `key : value` line, the `:`) is there.
fn property_value(line: &str, colon: bool) -> &str {
    prepare(line, true)
        .split_once(if colon { ':' } else { '=' })
        .map(|(_, v)| v.trim_matches(WS))
        .unwrap_or("")
}

/// `key = value` → (key, value), trimmed; the error messages are the SDKs'.
fn split_property(line: &str, what: Prop) -> Result<(&str, &str), &'static str> {
    let (k, v) = line.split_once('=').ok_or(match what {
        Prop::Property => "Expected an '=' sign defining a property",
        Prop::Sub => "Expected an '=' sign defining a sub-property",
    })?;
    let k = k.trim_matches(WS);
    if k.is_empty() {
        return Err(match what {
            Prop::Property => "Property did not have a name",
            Prop::Sub => "Sub-property did not have a name",
        });
    }
    Ok((k, v.trim_matches(WS)))
}

#[derive(Clone, Copy)]
enum Prop {
    Property,
    Sub,
}

impl Document {
    /// An empty file of the given kind.
    pub fn empty(kind: FileKind) -> Self {
        Document {
            kind,
            source: String::new(),
            lines: Vec::new(),
            index: OnceLock::new(),
        }
    }

    /// Parses `text` with the SDKs' grammar. A file that fails here must never be rewritten.
    pub fn parse(kind: FileKind, text: &str) -> Result<Self, ParseError> {
        Self::parse_owned(kind, text.to_string())
    }

    /// Parses `text` with exactly the SDKs' grammar, where a `key : value` line is an error (the
    /// conformance suite checks this one).
    pub fn parse_sdk(kind: FileKind, text: &str) -> Result<Self, ParseError> {
        Self::parse_with(kind, text.to_string(), false)
    }

    /// Like [`Document::parse`], keeping `text` as the document's buffer (no copy). Reads what
    /// the SDKs read, and also `key : value` lines (a colon and no `=`), as the AWS CLI,
    /// botocore and the AWS CRT do.
    pub fn parse_owned(kind: FileKind, text: String) -> Result<Self, ParseError> {
        Self::parse_with(kind, text, true)
    }

    fn parse_with(kind: FileKind, text: String, colons: bool) -> Result<Self, ParseError> {
        #[derive(PartialEq)]
        enum State {
            Start,
            InSection,
            InProperty { sub: bool },
        }
        if text.starts_with('\u{feff}') {
            // Some Windows editors add one; botocore and the SDKs fail on it too.
            return Err(ParseError {
                line: 1,
                message: "the file starts with a UTF-8 byte order mark (BOM), which the AWS CLI \
                          and SDKs cannot read: save it as UTF-8 without BOM",
            });
        }
        let mut state = State::Start;
        let mut lines = Vec::new();
        let mut rest = text.as_str();
        let mut number = 0;
        while !rest.is_empty() {
            number += 1;
            let (raw, eol, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
                Some(i) if i > 0 && rest.as_bytes()[i - 1] == b'\r' => {
                    (&rest[..i - 1], "\r\n", &rest[i + 1..])
                }
                Some(i) => (&rest[..i], "\n", &rest[i + 1..]),
                None => (rest, "", ""),
            };
            rest = next;
            let err = |message| ParseError {
                line: number,
                message,
            };
            let kind = if raw.trim().is_empty() {
                Kind::Blank
            } else if raw.starts_with(COMMENT) {
                Kind::Comment
            } else if raw.starts_with('[') {
                let body = prepare(raw, false);
                let name = body
                    .strip_prefix('[')
                    .and_then(|b| b.strip_suffix(']'))
                    .ok_or_else(|| err("Profile definition must end with ']'"))?;
                state = State::InSection;
                Kind::Header {
                    name: Span::of(raw, name.trim_matches(WS)),
                }
            } else if raw.starts_with(WS) {
                let text = raw.trim_matches(WS);
                match state {
                    State::Start => {
                        return Err(err("Expected a profile definition, found continuation"));
                    }
                    State::InSection => {
                        return Err(err("Expected a property definition, found continuation"));
                    }
                    State::InProperty { sub } => {
                        if sub {
                            split_property(text, Prop::Sub).map_err(err)?;
                        }
                    }
                }
                Kind::Continuation
            } else {
                if state == State::Start {
                    return Err(err("Expected a profile definition"));
                }
                let body = prepare(raw, true);
                let (key, value, colon) = match split_property(body, Prop::Property) {
                    Ok((k, v)) => (k, v, false),
                    Err(e) => match body.split_once(':') {
                        Some((k, v)) if colons && !body.contains('=') => {
                            let k = k.trim_matches(WS);
                            if k.is_empty() {
                                return Err(err(e));
                            }
                            (k, v.trim_matches(WS), true)
                        }
                        _ => return Err(err(e)),
                    },
                };
                state = State::InProperty {
                    sub: value.is_empty(),
                };
                Kind::Property {
                    key: Span::of(raw, key),
                    colon,
                }
            };
            let Span(start, end) = Span::of(&text, raw);
            lines.push(Line {
                text: Text::Read(start, end),
                eol,
                kind,
            });
        }
        Ok(Document {
            kind,
            source: text,
            lines,
            index: OnceLock::new(),
        })
    }

    pub fn kind(&self) -> FileKind {
        self.kind
    }

    fn text(&self, i: usize) -> &str {
        match &self.lines[i].text {
            Text::Read(start, end) => &self.source[*start..*end],
            Text::Owned(t) => t,
        }
    }

    /// The name in the header on line `i`, if it is one.
    fn header(&self, i: usize) -> Option<&str> {
        match self.lines[i].kind {
            Kind::Header { name } => Some(name.get(self.text(i))),
            _ => None,
        }
    }

    /// The key of the property on line `i`, if it is one (with its case).
    fn key(&self, i: usize) -> Option<&str> {
        match self.lines[i].kind {
            Kind::Property { key, .. } => Some(key.get(self.text(i))),
            _ => None,
        }
    }

    fn section_of<'a>(&self, header: &'a str) -> Section<'a> {
        match self.kind {
            FileKind::Credentials if is_valid_identifier(header) => Section::Profile {
                name: header,
                bare_default: false,
            },
            FileKind::Credentials => Section::Ignored,
            FileKind::Config => {
                let prefixed = |prefix: &str| {
                    header
                        .strip_prefix(prefix)
                        .filter(|r| r.starts_with(WS))
                        .map(|r| r.trim_matches(WS))
                        .filter(|n| is_valid_identifier(n))
                };
                if header == "default" {
                    Section::Profile {
                        name: "default",
                        bare_default: true,
                    }
                } else if let Some(name) = prefixed("profile") {
                    Section::Profile {
                        name,
                        bare_default: false,
                    }
                } else if let Some(name) = prefixed("sso-session") {
                    Section::SsoSession(name)
                } else {
                    Section::Ignored
                }
            }
        }
    }

    /// In the config file a `[profile default]` anywhere hides every bare `[default]`.
    fn has_prefixed_default(&self) -> bool {
        self.kind == FileKind::Config
            && (0..self.lines.len()).any(|i| {
                self.header(i).map(|h| self.section_of(h))
                    == Some(Section::Profile {
                        name: "default",
                        bare_default: false,
                    })
            })
    }

    /// The section a header opens, as the SDKs resolve it; `None` for one they ignore.
    fn resolve<'a>(&self, header: &'a str, hide_bare_default: bool) -> Option<Section<'a>> {
        match self.section_of(header) {
            Section::Profile {
                bare_default: true, ..
            } if hide_bare_default => None,
            Section::Ignored => None,
            s => Some(s),
        }
    }

    /// For each line, the section it belongs to, or `None`.
    fn owners(&self) -> Vec<Option<Section<'_>>> {
        let hide = self.has_prefixed_default();
        let mut current = None;
        (0..self.lines.len())
            .map(|i| {
                if let Some(name) = self.header(i) {
                    current = self.resolve(name, hide);
                }
                current
            })
            .collect()
    }

    /// The full value of the property on line `i`: its own text and its continuation lines.
    fn value_at(&self, i: usize) -> String {
        let colon = matches!(self.lines[i].kind, Kind::Property { colon: true, .. });
        let mut value = property_value(self.text(i), colon).to_string();
        for j in i + 1..self.lines.len() {
            match self.lines[j].kind {
                Kind::Continuation => {
                    value.push('\n');
                    value.push_str(self.text(j).trim_matches(WS));
                }
                Kind::Blank | Kind::Comment => {}
                _ => break,
            }
        }
        value
    }

    /// The profiles and sso-sessions as the SDKs read them.
    pub fn profiles(&self) -> Profiles {
        let mut out = Profiles::default();
        let hide = self.has_prefixed_default();
        let mut i = 0;
        while i < self.lines.len() {
            let Some(name) = self.header(i) else {
                i += 1;
                continue;
            };
            i += 1;
            let map = match self.resolve(name, hide) {
                Some(Section::Profile { name, .. }) => out.profiles.entry(name.to_string()),
                Some(Section::SsoSession(name)) => out.sso_sessions.entry(name.to_string()),
                _ => continue,
            }
            .or_default();
            // One map lookup per section, then its lines.
            while i < self.lines.len() && !matches!(self.lines[i].kind, Kind::Header { .. }) {
                if let Some(key) = self.key(i)
                    && is_valid_identifier(key)
                {
                    map.insert(key.to_ascii_lowercase(), self.value_at(i));
                }
                i += 1;
            }
        }
        out
    }

    /// One profile's properties, or `None` when the file has no such profile. Copies only this
    /// profile's values: this is the hot path of `export` on large files. The first lookup
    /// indexes the file in one pass; later ones read only the profile's own sections.
    pub fn profile(&self, name: &str) -> Option<BTreeMap<String, String>> {
        let headers = self.headers_of(name);
        if headers.is_empty() {
            return None;
        }
        let mut map = BTreeMap::new();
        for h in headers {
            let mut i = h + 1;
            while i < self.lines.len() && !matches!(self.lines[i].kind, Kind::Header { .. }) {
                if let Some(key) = self.key(i)
                    && is_valid_identifier(key)
                {
                    map.insert(key.to_ascii_lowercase(), self.value_at(i));
                }
                i += 1;
            }
        }
        Some(map)
    }

    /// The index of the profiles' sections, built once per version of the document.
    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let hide = self.has_prefixed_default();
            let mut headers = Vec::new();
            for i in 0..self.lines.len() {
                if let Some(header) = self.header(i)
                    && let Some(Section::Profile { name, .. }) = self.resolve(header, hide)
                {
                    headers.push((name_hash(name), i));
                }
            }
            headers.sort_unstable();
            Index {
                hide_bare_default: hide,
                headers,
            }
        })
    }

    /// The header lines of the sections of profile `name`, in file order.
    fn headers_of(&self, name: &str) -> Vec<usize> {
        let index = self.index();
        let hash = name_hash(name);
        let first = index.headers.partition_point(|&(h, _)| h < hash);
        index.headers[first..]
            .iter()
            .take_while(|&&(h, _)| h == hash)
            .map(|&(_, line)| line)
            .filter(|&line| {
                self.header(line)
                    .and_then(|h| self.resolve(h, index.hide_bare_default))
                    .is_some_and(|s| matches!(s, Section::Profile { name: n, .. } if n == name))
            })
            .collect()
    }

    /// Keeps the index right after the lines from `at` on changed: `removed` lines (no header
    /// among them) replaced by `added` ones (no header among them).
    fn shift_index(&mut self, at: usize, removed: usize, added: usize) {
        let Some(index) = self.index.get_mut().filter(|_| removed != added) else {
            return;
        };
        // Every line from `at` on moves by the same amount: the order stays sorted.
        for (_, line) in index.headers.iter_mut().filter(|(_, line)| *line >= at) {
            *line = *line - removed + added;
        }
    }

    /// The line that defines `key` in `profile` now: the last one, as the SDKs read it.
    fn defining(&self, profile: &str, key: &str) -> Option<usize> {
        let headers = self.headers_of(profile);
        headers.into_iter().rev().find_map(|h| {
            let end = (h + 1..self.lines.len())
                .find(|&j| matches!(self.lines[j].kind, Kind::Header { .. }))
                .unwrap_or(self.lines.len());
            (h + 1..end)
                .rev()
                .find(|&i| self.key(i).is_some_and(|k| k.eq_ignore_ascii_case(key)))
        })
    }

    /// The names of all profiles, in the order they first appear.
    pub fn profile_names(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut names: Vec<String> = Vec::new();
        for s in self.owners().into_iter().flatten() {
            if let Section::Profile { name, .. } = s
                && seen.insert(name)
            {
                names.push(name.to_string());
            }
        }
        names
    }

    /// Indexes of the lines that make up the property starting at `i` (its continuations, and
    /// the blank lines or comments between them, which the SDKs skip).
    fn property_extent(&self, i: usize) -> usize {
        let mut end = i + 1;
        let mut j = i + 1;
        while j < self.lines.len() {
            match self.lines[j].kind {
                Kind::Continuation => end = j + 1,
                Kind::Blank | Kind::Comment => {}
                _ => break,
            }
            j += 1;
        }
        end
    }

    fn newline(&self) -> &'static str {
        let crlf = self.lines.iter().filter(|l| l.eol == "\r\n").count();
        let lf = self.lines.iter().filter(|l| l.eol == "\n").count();
        if crlf > lf { "\r\n" } else { "\n" }
    }

    fn check(profile: &str, key: &str, value: Option<&str>) -> Result<(), EditError> {
        if !is_valid_identifier(profile) {
            return Err(EditError::InvalidProfileName(profile.to_string()));
        }
        if !is_valid_identifier(key) {
            return Err(EditError::InvalidKey(key.to_string()));
        }
        let Some(value) = value else { return Ok(()) };
        let bad = |why| {
            Err(EditError::InvalidValue {
                key: key.to_string(),
                why,
            })
        };
        if value.len() > MAX_VALUE_BYTES {
            return bad("it is longer than 64 KiB");
        }
        if value.contains(['\n', '\r']) {
            return bad("it contains a line break");
        }
        if value != value.trim_matches(WS) {
            return bad("it starts or ends with a blank, which the SDKs would trim");
        }
        if value.contains(char::is_control) {
            return bad("it contains a control character");
        }
        let mut prev_ws = false;
        for c in value.chars() {
            if COMMENT.contains(&c) && prev_ws {
                return bad("a '#' or ';' after a blank would be read as a comment");
            }
            prev_ws = c.is_whitespace();
        }
        Ok(())
    }

    /// The value a key of `profile` has in this file, if any (case-insensitive key).
    pub fn get(&self, profile: &str, key: &str) -> Option<String> {
        self.profile(profile)?.remove(&key.to_ascii_lowercase())
    }

    /// Sets `key = value` in `profile`: rewrites the line that defines the key now (keeping its
    /// spacing and inline comment), else adds it at the end of the profile's last section, else
    /// appends a new section. Nothing else changes.
    pub fn set(&mut self, profile: &str, key: &str, value: &str) -> Result<(), EditError> {
        Self::check(profile, key, Some(value))?;
        let defining = self.defining(profile, key);
        let last_header = self.headers_of(profile).last().copied();
        if let Some(i) = defining {
            self.refuse_colon(i)?;
            // Keep the key's original spelling, its spacing and its inline comment: the rewrite
            // only touches what follows the `=`, so the key's span stays where it was.
            let line = Line::owned(
                rewrite_value(self.text(i), value),
                self.lines[i].eol,
                self.lines[i].kind.clone(),
            );
            self.replace_property(i, Some(line));
            return Ok(());
        }
        match last_header {
            Some(h) => {
                let mut after = h;
                let mut sep = " = ";
                let mut seen_style = false;
                let mut j = h + 1;
                while j < self.lines.len() && !matches!(self.lines[j].kind, Kind::Header { .. }) {
                    if let Kind::Property { .. } = self.lines[j].kind {
                        if !seen_style {
                            sep = separator_style(self.text(j));
                            seen_style = true;
                        }
                        after = self.property_extent(j) - 1;
                    }
                    j += 1;
                }
                let text = property_line(key, sep, value);
                self.insert_after(after, text, key);
            }
            None => self.append_section(profile, &[(key, value)])?,
        }
        Ok(())
    }

    /// Renames the property `old_key` of `profile` to `new_key = value` on the same line,
    /// keeping its position, spacing and inline comment, so that renaming it back restores the
    /// file byte for byte. Returns whether the profile had `old_key`.
    pub fn rename(
        &mut self,
        profile: &str,
        old_key: &str,
        new_key: &str,
        value: &str,
    ) -> Result<bool, EditError> {
        Self::check(profile, new_key, Some(value))?;
        let Some(i) = self.defining(profile, old_key) else {
            return Ok(false);
        };
        self.refuse_colon(i)?;
        let Kind::Property { key, .. } = self.lines[i].kind else {
            unreachable!("the defining line is a property")
        };
        let text = self.text(i);
        let renamed = format!("{}{new_key}{}", &text[..key.0], &text[key.1..]);
        let kind = Kind::Property {
            key: Span(key.0, key.0 + new_key.len()),
            colon: false,
        };
        let line = Line::owned(rewrite_value(&renamed, value), self.lines[i].eol, kind);
        self.replace_property(i, Some(line));
        Ok(true)
    }

    /// `key : value` lines are read but never edited.
    fn refuse_colon(&self, i: usize) -> Result<(), EditError> {
        match self.lines[i].kind {
            Kind::Property { key, colon: true } => Err(EditError::ColonLine {
                key: key.get(self.text(i)).to_string(),
                line: i + 1,
            }),
            _ => Ok(()),
        }
    }

    fn insert_after(&mut self, after: usize, text: String, key: &str) {
        let nl = self.newline();
        // A last line without a newline stays the last line without one.
        let eol = if self.lines[after].eol.is_empty() {
            self.lines[after].eol = nl;
            ""
        } else {
            nl
        };
        let kind = Kind::Property {
            key: Span(0, key.len()),
            colon: false,
        };
        self.shift_index(after + 1, 0, 1);
        self.lines.insert(after + 1, Line::owned(text, eol, kind));
    }

    /// Replaces the property starting at line `i` and its continuation lines with `new` (or
    /// nothing). Comments and blank lines among the continuations are not the property's and
    /// stay, byte for byte: even the newline of a line that becomes the last one is kept.
    fn replace_property(&mut self, i: usize, new: Option<Line>) {
        let end = self.property_extent(i);
        let kept = self.lines[i + 1..end]
            .iter()
            .filter(|l| !matches!(l.kind, Kind::Continuation))
            .cloned();
        let replacement: Vec<Line> = new.into_iter().chain(kept).collect();
        self.shift_index(i, end - i, replacement.len());
        self.lines.splice(i..end, replacement);
    }

    /// Removes every definition of `key` in `profile` (duplicates too, so no older value
    /// resurfaces). Returns whether anything was removed.
    pub fn remove(&mut self, profile: &str, key: &str) -> Result<bool, EditError> {
        Self::check(profile, key, None)?;
        let mut removed = false;
        loop {
            let Some(i) = self.defining(profile, key) else {
                return Ok(removed);
            };
            self.refuse_colon(i)?;
            self.replace_property(i, None);
            removed = true;
        }
    }

    /// Appends a new section for `profile` with the given properties at the end of the file.
    pub fn append_section(
        &mut self,
        profile: &str,
        props: &[(&str, &str)],
    ) -> Result<(), EditError> {
        for (k, v) in props {
            Self::check(profile, k, Some(v))?;
        }
        if props.is_empty() {
            Self::check(profile, "x", None)?;
        }
        let nl = self.newline();
        let final_eol = match self.lines.last() {
            Some(l) => l.eol,
            None => nl,
        };
        if let Some(last) = self.lines.last_mut() {
            if last.eol.is_empty() {
                last.eol = nl;
            }
            if last.kind != Kind::Blank {
                self.lines.push(Line::owned(String::new(), nl, Kind::Blank));
            }
        }
        let header = match (self.kind, profile) {
            (FileKind::Credentials, _) | (FileKind::Config, "default") => profile.to_string(),
            (FileKind::Config, _) => format!("profile {profile}"),
        };
        let name = Kind::Header {
            name: Span(1, 1 + header.len()),
        };
        // The new section is the profile's only one, at the end: no line before it moves. A bare
        // `[default]` in the config file may be hidden by a `[profile default]`: index again.
        let at = self.lines.len();
        match self.index.get_mut() {
            Some(_) if self.kind == FileKind::Config && profile == "default" => {
                self.index.take();
            }
            Some(index) => {
                let entry = (name_hash(profile), at);
                let pos = index.headers.partition_point(|e| *e < entry);
                index.headers.insert(pos, entry);
            }
            None => {}
        }
        self.lines
            .push(Line::owned(format!("[{header}]"), nl, name));
        for (k, v) in props {
            let key = Kind::Property {
                key: Span(0, k.len()),
                colon: false,
            };
            self.lines
                .push(Line::owned(property_line(k, " = ", v), nl, key));
        }
        if let Some(last) = self.lines.last_mut() {
            last.eol = final_eol;
        }
        Ok(())
    }
}

/// `key=value` files get `key=value` lines; everything else the AWS CLI's `key = value`.
fn separator_style(line: &str) -> &'static str {
    match line.split_once('=') {
        Some((k, v)) if !k.ends_with(WS) && !v.starts_with(WS) => "=",
        _ => " = ",
    }
}

fn property_line(key: &str, sep: &str, value: &str) -> String {
    if value.is_empty() {
        format!("{key}{}", sep.trim_end_matches(' '))
    } else {
        format!("{key}{sep}{value}")
    }
}

/// Replaces the value of a property line, keeping everything around it: indentation, the key's
/// spelling, the blanks around `=`, trailing blanks and an inline comment.
fn rewrite_value(line: &str, value: &str) -> String {
    let eq = line.find('=').expect("a property line has '='");
    let after_eq = &line[eq + 1..];
    let lead = after_eq.len() - after_eq.trim_start_matches(WS).len();
    let (_, content_end) = content_range(line, true);
    let (value_start, value_end) = if content_end > eq + 1 {
        (eq + 1 + lead, content_end)
    } else {
        // The old value was empty: write after one blank, leaving any further blanks and an
        // inline comment behind the new value.
        let at = eq + 1 + lead.min(1);
        (at, at)
    };
    let rest = &line[value_end..];
    let mut out = String::with_capacity(line.len() + value.len() + 1);
    out.push_str(&line[..value_start]);
    out.push_str(value);
    if !value.is_empty() && rest.starts_with(COMMENT) {
        // Without a blank before it, the comment would become part of the value.
        out.push(' ');
    }
    out.push_str(rest);
    out
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.lines.iter().enumerate() {
            f.write_str(self.text(i))?;
            f.write_str(l.eol)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(t: &str) -> Document {
        Document::parse(FileKind::Credentials, t).unwrap()
    }

    #[test]
    fn round_trips_exactly() {
        let t = "# top\r\n[a] # c\r\nx = 1 ; note\r\n\r\n[b]\ny=2";
        assert_eq!(creds(t).to_string(), t);
    }

    #[test]
    fn set_existing_keeps_spacing_and_comment() {
        let mut d = creds("[p]\naws_session_token   =   old   # keep me\nother = 1\n");
        d.set("p", "AWS_SESSION_TOKEN", "new").unwrap();
        assert_eq!(
            d.to_string(),
            "[p]\naws_session_token   =   new   # keep me\nother = 1\n"
        );
        assert_eq!(d.get("p", "aws_session_token").as_deref(), Some("new"));
    }

    #[test]
    fn set_new_key_goes_after_last_property_not_after_trailing_comments() {
        let mut d = creds("[p]\na=1\n\n# about q\n[q]\nb = 2\n");
        d.set("p", "k", "v").unwrap();
        assert_eq!(d.to_string(), "[p]\na=1\nk=v\n\n# about q\n[q]\nb = 2\n");
    }

    #[test]
    fn set_in_header_only_section_goes_after_header_comment() {
        let mut d = creds("[p] # mine\n\n[q]\n");
        d.set("p", "k", "v").unwrap();
        assert_eq!(d.to_string(), "[p] # mine\nk = v\n\n[q]\n");
    }

    #[test]
    fn set_missing_profile_appends_and_keeps_crlf_and_missing_newline() {
        let mut d = creds("[a]\r\nx = 1");
        d.set("b", "k", "v").unwrap();
        assert_eq!(d.to_string(), "[a]\r\nx = 1\r\n\r\n[b]\r\nk = v");
        let mut d = creds("");
        d.set("b", "k", "v").unwrap();
        assert_eq!(d.to_string(), "[b]\nk = v\n");
    }

    #[test]
    fn set_replaces_continuations_but_keeps_comments_between() {
        let mut d = creds("[p]\nk = a\n  b\n# c\n  d\nz = 1\n");
        d.set("p", "k", "v").unwrap();
        assert_eq!(d.to_string(), "[p]\nk = v\n# c\nz = 1\n");
        assert_eq!(d.get("p", "k").as_deref(), Some("v"));
    }

    #[test]
    fn set_at_end_without_newline() {
        let mut d = creds("[p]\nk = a");
        d.set("p", "j", "b").unwrap();
        assert_eq!(d.to_string(), "[p]\nk = a\nj = b");
        d.set("p", "j", "c").unwrap();
        assert_eq!(d.to_string(), "[p]\nk = a\nj = c");
    }

    #[test]
    fn set_on_empty_value_keeps_comment_apart() {
        let mut d = creds("[p]\na =  # note\nb = # x\nc =\n");
        d.set("p", "a", "1").unwrap();
        d.set("p", "b", "2").unwrap();
        d.set("p", "c", "3").unwrap();
        assert_eq!(d.to_string(), "[p]\na = 1 # note\nb = 2 # x\nc =3\n");
        d.set("p", "a", "").unwrap();
        assert_eq!(d.get("p", "a").as_deref(), Some(""));
    }

    #[test]
    fn colon_lines_are_read_like_the_aws_cli_and_never_edited() {
        let text = "[p]\nregion : eu-west-1\nkey = a:b\n[q]\nx=1\n";
        assert!(Document::parse_sdk(FileKind::Credentials, text).is_err());
        let mut doc = Document::parse(FileKind::Credentials, text).unwrap();
        let p = doc.profile("p").unwrap();
        assert_eq!(p["region"], "eu-west-1");
        assert_eq!(p["key"], "a:b");
        let e = doc.set("p", "region", "us-east-1").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(doc.remove("p", "REGION").is_err());
        doc.set("p", "other", "v").unwrap();
        doc.set("q", "x", "2").unwrap();
        assert_eq!(
            doc.to_string(),
            "[p]\nregion : eu-west-1\nkey = a:b\nother = v\n[q]\nx=2\n"
        );
        // Still an error where no reader accepts it.
        assert!(Document::parse(FileKind::Credentials, "[p]\n: v\n").is_err());
        assert!(Document::parse(FileKind::Credentials, "[p]\nnothing\n").is_err());
    }

    #[test]
    fn rename_keeps_the_line_and_round_trips() {
        let text = "[p]\r\nregion=x\r\naws_secret_access_key = s3cr3t  # mine\r\nz = 1";
        let mut doc = Document::parse(FileKind::Credentials, text).unwrap();
        assert!(
            doc.rename("p", "aws_secret_access_key", "mfa_store", "keyring")
                .unwrap()
        );
        assert_eq!(
            doc.to_string(),
            "[p]\r\nregion=x\r\nmfa_store = keyring  # mine\r\nz = 1"
        );
        assert_eq!(doc.profile("p").unwrap()["mfa_store"], "keyring");
        assert!(
            doc.rename("p", "mfa_store", "aws_secret_access_key", "s3cr3t")
                .unwrap()
        );
        assert_eq!(doc.to_string(), text);
        assert!(!doc.rename("p", "nothing", "x", "y").unwrap());
    }

    #[test]
    fn remove_all_duplicates() {
        let mut d = creds("[p]\nk = 1\n[q]\nk = 2\n[p]\nK = 3\n  more\n");
        assert!(d.remove("p", "k").unwrap());
        assert_eq!(d.to_string(), "[p]\n[q]\nk = 2\n[p]\n");
        assert!(!d.remove("p", "k").unwrap());
    }

    #[test]
    fn remove_last_line_leaves_the_line_before_exact() {
        let mut d = creds("[p]\na = 1\nk = 1");
        d.remove("p", "k").unwrap();
        assert_eq!(d.to_string(), "[p]\na = 1\n");
    }

    #[test]
    fn refuses_values_the_sdk_would_misread() {
        let mut d = creds("[p]\n");
        for v in ["a\nb", " a", "a #b", "a\t;b", "a\u{7}"] {
            assert!(d.set("p", "k", v).is_err(), "{v:?}");
        }
        assert!(d.set("bad name", "k", "v").is_err());
        assert!(d.set("p", "bad key", "v").is_err());
        assert_eq!(d.to_string(), "[p]\n");
        d.set("p", "k", "a#b;c").unwrap();
        assert_eq!(d.get("p", "k").as_deref(), Some("a#b;c"));
    }

    #[test]
    fn config_profile_default_hides_bare_default() {
        let mut d = Document::parse(
            FileKind::Config,
            "[default]\na = 1\n[profile default]\nb = 2\n",
        )
        .unwrap();
        d.set("default", "b", "3").unwrap();
        assert_eq!(
            d.to_string(),
            "[default]\na = 1\n[profile default]\nb = 3\n"
        );
        let mut d = Document::parse(FileKind::Config, "[profile x]\n").unwrap();
        d.set("default", "region", "eu-west-1").unwrap();
        d.set("y", "region", "eu-west-1").unwrap();
        assert_eq!(
            d.to_string(),
            "[profile x]\n\n[default]\nregion = eu-west-1\n\n[profile y]\nregion = eu-west-1\n"
        );
    }

    #[test]
    fn errors_carry_line_numbers() {
        let e = Document::parse(FileKind::Credentials, "[a]\nx = 1\n[b\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().contains("must end with ']'"));
    }

    #[test]
    fn lookups_follow_edits_and_merge_duplicate_sections() {
        let mut d = creds("[a]\nx = 1\n[b]\ny = 2\n[a]\nz = 3\n");
        assert_eq!(d.profile("a").unwrap().len(), 2);
        assert_eq!(d.get("b", "y").as_deref(), Some("2"));
        assert!(d.profile("c").is_none());
        d.set("b", "w", "4").unwrap();
        d.set("c", "v", "5").unwrap();
        assert_eq!(d.get("a", "z").as_deref(), Some("3"), "{d}");
        assert_eq!(d.get("b", "w").as_deref(), Some("4"));
        assert_eq!(d.get("c", "v").as_deref(), Some("5"));
        d.remove("a", "x").unwrap();
        assert_eq!(d.profile("a").unwrap().len(), 1);
        // Kept up to date by every kind of edit, in both kinds of file.
        let fresh = |d: &Document| {
            let mut copy = d.clone();
            copy.index = OnceLock::new();
            copy.index().clone()
        };
        for kind in [FileKind::Credentials, FileKind::Config] {
            let mut d = Document::parse(
                kind,
                "[profile a]\nx = 1\n  more\n# c\n  more\n[b]\n[profile b]\ny = 2\n[default]\nq = 1\n\
                 [profile a]\nz = 3\n[c]\nw = 0",
            )
            .unwrap();
            d.index();
            d.set("a", "x", "one line").unwrap();
            assert_eq!(d.index(), &fresh(&d), "{d}");
            d.set("b", "new", "v").unwrap();
            assert_eq!(d.index(), &fresh(&d), "{d}");
            d.set("c", "w", "1").unwrap();
            d.set("d", "k", "v").unwrap();
            assert_eq!(d.index(), &fresh(&d), "{d}");
            d.set("default", "k", "v").unwrap();
            d.set("a", "added", "v").unwrap();
            assert_eq!(d.index(), &fresh(&d), "{d}");
            d.rename("a", "z", "zz", "v").unwrap();
            d.remove("a", "x").unwrap();
            d.remove("b", "y").unwrap();
            assert_eq!(d.index(), &fresh(&d), "{d}");
            d.append_section("a", &[("k", "v")]).unwrap();
            assert_eq!(d.index(), &fresh(&d), "{d}");
            let reparsed = Document::parse(kind, &d.to_string()).unwrap();
            for name in ["a", "b", "c", "d", "default"] {
                assert_eq!(d.profile(name), reparsed.profile(name), "{name} in {d}");
            }
        }
        let mut d = Document::parse(FileKind::Config, "[profile x]\nk = v\n").unwrap();
        d.index();
        d.set("default", "region", "eu-west-1").unwrap();
        assert_eq!(d.index(), &fresh(&d), "{d}");
        assert_eq!(d.get("default", "region").as_deref(), Some("eu-west-1"));
        let many: String = (0..3000).map(|i| format!("[p{i}]\nk = {i}\n")).collect();
        let d = creds(&many);
        assert!((0..3000).all(|i| d.get(&format!("p{i}"), "k") == Some(i.to_string())));
    }
}
