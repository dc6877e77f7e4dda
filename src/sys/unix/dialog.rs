//! No in-process password dialog on Unix: its dialogs are separate programs.

use std::io;

use crate::sys::dialog::Answer;

pub(super) fn ask_hidden(caption: &str, message: &str, user: &str) -> io::Result<Answer> {
    let _ = (caption, message, user);
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no CredUI outside Windows",
    ))
}
