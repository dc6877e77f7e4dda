//! Text that came from outside — AWS error messages and codes, an endpoint's answers, lines of
//! the files, what an `mfa_process` prints — made safe to show on a terminal.
//!
//! Such text may carry line breaks (a fake second message line), ANSI and OSC escape sequences
//! (colours, a changed window title, a hyperlink, a rewritten line), bidirectional overrides that
//! reorder what is shown, or megabytes. [`untrusted`] is the one function every such text goes
//! through before it reaches stderr: control and bidi characters are written as visible escapes
//! (`\n`, `\x1b`, `\u{202e}`) and the text is cut at [`MAX_SHOWN`] characters.

use std::fmt::Write as _;

/// How many characters of an outside text are shown; the rest is summarised.
pub const MAX_SHOWN: usize = 500;

/// `text` with control and bidi characters escaped and cut at [`MAX_SHOWN`] characters.
pub fn untrusted(text: &str) -> String {
    untrusted_keeping(text, MAX_SHOWN, false)
}

/// Like [`untrusted`] with a limit of `max` characters; `keep_newlines` lets `\n` through (for
/// multi-line text relayed as it is printed, such as an `mfa_process`'s stderr).
pub fn untrusted_keeping(text: &str, max: usize, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len().min(max) + 16);
    let mut chars = text.chars();
    for (shown, c) in chars.by_ref().enumerate() {
        if shown == max {
            let rest = 1 + chars.count();
            let _ = write!(out, "… ({rest} more characters)");
            return out;
        }
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_invisible_format(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Characters that change how the text around them is shown without being seen: bidirectional
/// embeddings, overrides and isolates, zero-width marks, line and paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_caps() {
        assert_eq!(untrusted("plain text: ok"), "plain text: ok");
        assert_eq!(
            untrusted("a\nb\r\x1b[31mred\x07\u{9b}\u{7f}\0"),
            "a\\nb\\r\\x1b[31mred\\x07\\x9b\\x7f\\x00"
        );
        assert_eq!(untrusted("x\u{202e}y"), "x\\u{202e}y");
        let long = "é".repeat(2_000_000);
        let shown = untrusted(&long);
        assert!(
            shown.ends_with("… (1999500 more characters)"),
            "{}",
            &shown[..20]
        );
        assert_eq!(shown.chars().filter(|&c| c == 'é').count(), MAX_SHOWN);
        assert_eq!(untrusted_keeping("a\nb\x1b", 10, true), "a\nb\\x1b");
    }
}
