//! The zenity driver: a GTK password dialog (`zenity --entry --hide-text`) and device list
//! (`zenity --list`) on a Linux or BSD desktop, the dialog `auto` tries first without a
//! terminal. Its own file so what is zenity's (the arguments, Pango markup in `--text`) sits
//! apart from what all dialogs share (`mod.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{DIALOG_TITLE, Dialog, PromptKind};

/// A zenity password dialog.
#[derive(Debug)]
pub struct Zenity {
    program: PathBuf,
}

impl Zenity {
    /// The dialog of `program` (zenity, as found on `PATH`).
    pub(super) fn new(program: PathBuf) -> Zenity {
        Zenity { program }
    }
}

/// Text for Pango markup (zenity's --text).
pub(super) fn markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Dialog for Zenity {
    const KIND: PromptKind = PromptKind::Zenity;

    fn program(&self) -> &Path {
        &self.program
    }

    fn entry(&self, text: &str) -> Command {
        let mut c = Command::new(&self.program);
        c.args(["--entry", "--hide-text", "--title", DIALOG_TITLE, "--text"])
            .arg(markup(text));
        c
    }

    fn list(&self, text: &str, devices: &[String]) -> Command {
        let mut c = Command::new(&self.program);
        c.args(["--list", "--title", DIALOG_TITLE, "--text"])
            .arg(markup(text))
            .args(["--column", "MFA device"])
            .args(devices);
        c
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn dialog_text_is_markup_escaped_and_holds_no_code() {
        let d = Zenity::new("zenity".into());
        let c = d.entry("a <b> & c");
        let args: Vec<_> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(
            args.contains(&"a &lt;b&gt; &amp; c".to_string()),
            "{args:?}"
        );
        assert!(args.contains(&"--hide-text".to_string()));
    }
}
