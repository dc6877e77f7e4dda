//! A credential endpoint for one child process, speaking the container-credentials protocol the
//! AWS SDKs and CLI already support: they read `AWS_CONTAINER_CREDENTIALS_FULL_URI` (loopback
//! only) and send `AWS_CONTAINER_AUTHORIZATION_TOKEN` as the `Authorization` header; the answer
//! is JSON with `AccessKeyId`, `SecretAccessKey`, `Token` and `Expiration`. They ask again before
//! `Expiration` (botocore: 15 minutes before, 10 at the latest), so a job that runs longer than
//! one session keeps working: each request is answered through the session broker, which
//! renews the session when it is due.
//!
//! The server listens on 127.0.0.1 only, on a port the OS picks, and answers only requests that
//! carry the per-run random token (compared in constant time): anything else gets 403 and no
//! credentials. It is plain HTTP/1.1 with one request per connection, which is all the SDKs send.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::session::{self, Secret, Session};

/// The largest request accepted (request line and headers).
const MAX_REQUEST: usize = 16 * 1024;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A listening endpoint and the token its clients must present.
pub struct Endpoint {
    listener: TcpListener,
    pub token: Secret,
}

impl Endpoint {
    /// Binds 127.0.0.1 on a free port, with a fresh random token.
    pub fn bind() -> std::io::Result<Endpoint> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        Ok(Endpoint {
            listener,
            token: Secret::new(random_token()?),
        })
    }

    /// `http://127.0.0.1:PORT/credentials`, for `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub fn url(&self) -> std::io::Result<String> {
        Ok(format!(
            "http://127.0.0.1:{}/credentials",
            self.listener.local_addr()?.port()
        ))
    }

    /// Answers requests for ever, each on its own thread, with what `session` gives.
    pub fn serve<F>(self, session: F)
    where
        F: Fn() -> anyhow::Result<Session> + Send + Sync + 'static,
    {
        let session = std::sync::Arc::new(session);
        let token = std::sync::Arc::new(self.token);
        for stream in self.listener.incoming().flatten() {
            let (session, token) = (session.clone(), token.clone());
            std::thread::spawn(move || {
                let _ = answer(stream, &token, &*session);
            });
        }
    }
}

fn answer(
    mut stream: TcpStream,
    token: &Secret,
    session: &dyn Fn() -> anyhow::Result<Session>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let request = read_head(&mut stream)?;
    let (status, body) = match authorized(&request, token) {
        Err(why) => (
            "403 Forbidden",
            format!("{{\"message\":{}}}", crate::shell::json_string(why)),
        ),
        Ok(()) => match session() {
            Ok(s) => ("200 OK", body(&s)),
            Err(e) => {
                let text = crate::error::describe(&e);
                tracing::warn!("credential server: {text}");
                (
                    "500 Internal Server Error",
                    format!("{{\"message\":{}}}", crate::shell::json_string(&text)),
                )
            }
        },
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())?;
    stream.flush()
}

/// The request line and headers, up to the blank line.
fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_REQUEST {
            return Err(std::io::Error::other("request too large"));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// A GET with the right token in `Authorization`.
fn authorized(request: &str, token: &Secret) -> Result<(), &'static str> {
    let mut lines = request.split("\r\n");
    let first = lines.next().unwrap_or_default();
    if !first.starts_with("GET ") {
        return Err("only GET is served");
    }
    let given = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim());
    match given {
        Some(v) if constant_time_eq(v.as_bytes(), token.expose().as_bytes()) => Ok(()),
        Some(_) => Err("wrong authorization token"),
        None => Err("no authorization token"),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The container-credentials JSON of a session.
fn body(s: &Session) -> String {
    use crate::shell::json_string;
    format!(
        "{{\"AccessKeyId\":{},\"SecretAccessKey\":{},\"Token\":{},\"Expiration\":{}}}",
        json_string(&s.access_key_id),
        json_string(s.secret_access_key.expose()),
        json_string(s.session_token.expose()),
        json_string(&session::format_expiration(s.expiration)),
    )
}

/// 32 random bytes from the OS, hex-encoded.
fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    let mut filled = 0;
    while filled < bytes.len() {
        // SAFETY: the pointer and length describe the unfilled rest of `bytes`.
        let n = unsafe {
            libc::getrandom(bytes[filled..].as_mut_ptr().cast(), bytes.len() - filled, 0)
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
            continue;
        }
        filled += usize::try_from(n).unwrap_or(0);
    }
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_get_with_the_token_is_authorized() {
        let t = Secret::new("abc");
        assert!(
            authorized(
                "GET /credentials HTTP/1.1\r\nAuthorization: abc\r\n\r\n",
                &t
            )
            .is_ok()
        );
        assert!(authorized("GET / HTTP/1.1\r\nauthorization:abc\r\n\r\n", &t).is_ok());
        assert!(authorized("GET / HTTP/1.1\r\nAuthorization: abd\r\n\r\n", &t).is_err());
        assert!(authorized("GET / HTTP/1.1\r\nAuthorization: ab\r\n\r\n", &t).is_err());
        assert!(authorized("GET / HTTP/1.1\r\n\r\n", &t).is_err());
        assert!(authorized("POST / HTTP/1.1\r\nAuthorization: abc\r\n\r\n", &t).is_err());
        assert_eq!(random_token().unwrap().len(), 64);
        assert_ne!(random_token().unwrap(), random_token().unwrap());
    }
}
