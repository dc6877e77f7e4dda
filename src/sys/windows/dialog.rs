//! CredUI on Windows: `CredUIPromptForCredentialsW` with generic credentials, nothing saved
//! (`DO_NOT_PERSIST`), the name field filled and read-only (`KEEP_USERNAME`), always shown.
//! The hidden field is the answer; the buffers are wiped before they are freed.

use std::io;

use windows_sys::Win32::Foundation::{ERROR_CANCELLED, NO_ERROR};
use windows_sys::Win32::Security::Credentials::{
    CREDUI_FLAGS_ALWAYS_SHOW_UI, CREDUI_FLAGS_DO_NOT_PERSIST, CREDUI_FLAGS_GENERIC_CREDENTIALS,
    CREDUI_FLAGS_KEEP_USERNAME, CREDUI_INFOW, CREDUI_MAX_USERNAME_LENGTH,
    CredUIPromptForCredentialsW,
};

use crate::sys::dialog::Answer;

/// The hidden field's buffer, in UTF-16 units (CredUI's CREDUI_MAX_PASSWORD_LENGTH + 1).
const SECRET_UNITS: usize = 257;

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

pub(super) fn ask_hidden(caption: &str, message: &str, user: &str) -> io::Result<Answer> {
    let caption = wide(caption);
    let message = wide(message);
    // The target names the credential; with DO_NOT_PERSIST nothing is stored under it.
    let target = wide("mfa-session");
    let mut name = vec![0u16; CREDUI_MAX_USERNAME_LENGTH as usize + 1];
    let room = name.len() - 1;
    for (slot, unit) in name.iter_mut().zip(user.encode_utf16().take(room)) {
        *slot = unit;
    }
    let mut secret = vec![0u16; SECRET_UNITS];
    let mut save = 0;
    let info = CREDUI_INFOW {
        cbSize: u32::try_from(size_of::<CREDUI_INFOW>()).unwrap_or(0),
        hwndParent: std::ptr::null_mut(),
        pszMessageText: message.as_ptr(),
        pszCaptionText: caption.as_ptr(),
        hbmBanner: std::ptr::null_mut(),
    };
    // SAFETY: every pointer is to a live, NUL-terminated buffer of the length given.
    let status = unsafe {
        CredUIPromptForCredentialsW(
            &info,
            target.as_ptr(),
            std::ptr::null(),
            0,
            name.as_mut_ptr(),
            u32::try_from(name.len()).unwrap_or(0),
            secret.as_mut_ptr(),
            u32::try_from(secret.len()).unwrap_or(0),
            &mut save,
            CREDUI_FLAGS_GENERIC_CREDENTIALS
                | CREDUI_FLAGS_ALWAYS_SHOW_UI
                | CREDUI_FLAGS_DO_NOT_PERSIST
                | CREDUI_FLAGS_KEEP_USERNAME,
        )
    };
    let end = secret.iter().position(|&u| u == 0).unwrap_or(secret.len());
    let answer = String::from_utf16_lossy(&secret[..end]);
    secret.iter_mut().for_each(|u| *u = 0);
    match status {
        NO_ERROR => Ok(Answer::Given(answer)),
        ERROR_CANCELLED => Ok(Answer::Cancelled),
        e => Err(io::Error::from_raw_os_error(e.cast_signed())),
    }
}
