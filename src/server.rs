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
//!
//! Any local user can connect to a loopback port, so the endpoint is built not to fall to one
//! who tries to exhaust it: every connection is read on one event-loop thread (no thread per
//! connection, so none can fail to start), must deliver its request within 2 seconds, and at
//! most [`MAX_CONNECTIONS`] are open at once. The owner's request is answered among thousands of
//! idle or slow connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::session::{self, Secret, Session};

/// The largest request accepted (request line and headers).
const MAX_REQUEST: usize = 16 * 1024;
/// How long a client has, from connecting, to send its whole request: the SDKs send it in one
/// write, so a connection still incomplete after this is dropped (a slow client cannot hold a
/// place for long).
const HEAD_DEADLINE: Duration = Duration::from_secs(2);
/// How long an authorized request may wait for its session (a renewal through a dialog takes
/// longer; the SDKs give up after a few seconds anyway and ask again).
const ANSWER_DEADLINE: Duration = Duration::from_secs(60);
/// How long writing the answer may take.
const WRITE_DEADLINE: Duration = Duration::from_secs(2);
/// Connections served at once, at most; more are closed as soon as they are accepted. Each one
/// costs a socket and a few KiB, no thread: the owner's request is read and answered among
/// thousands of idle ones.
const MAX_CONNECTIONS: usize = 4096;
/// After `accept` fails (out of file descriptors), wait this long before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A listening endpoint and the token its clients must present.
pub struct Endpoint {
    listener: std::net::TcpListener,
    pub token: Secret,
}

/// What a request is answered with: the session, or why there is none.
type Answer = Result<Session, String>;

impl Endpoint {
    /// Binds 127.0.0.1 on a free port, with a fresh random token.
    pub fn bind() -> std::io::Result<Endpoint> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
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

    /// Answers requests for ever with what `session` gives. Two threads in all, whatever the
    /// load: this one reads and writes every connection (no thread per connection, so no
    /// thread to fail to start), and one that obtains sessions, one request at a time (the
    /// broker's single flight serialises renewals anyway).
    pub fn serve<F>(self, session: F) -> std::io::Result<()>
    where
        F: Fn() -> anyhow::Result<Session> + Send + 'static,
    {
        let room = crate::sys::process::raise_open_files(
            u64::try_from(MAX_CONNECTIONS).unwrap_or(4096) + 64,
        );
        let cap = usize::try_from(room.saturating_sub(64))
            .unwrap_or(MAX_CONNECTIONS)
            .clamp(16, MAX_CONNECTIONS);
        let (jobs, mut queue) = mpsc::unbounded_channel::<oneshot::Sender<Answer>>();
        std::thread::Builder::new()
            .name("credential-broker".into())
            .spawn(move || {
                while let Some(reply) = queue.blocking_recv() {
                    if reply.is_closed() {
                        continue;
                    }
                    let answer = session().map_err(|e| {
                        let text = crate::error::describe(&e);
                        tracing::warn!("credential server: {text}");
                        text
                    });
                    let _ = reply.send(answer);
                }
            })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let token = Arc::new(self.token);
        runtime.block_on(async move {
            let listener = TcpListener::from_std(self.listener)?;
            let open = Arc::new(AtomicUsize::new(0));
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::debug!("credential server: accept failed: {e}");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                if open.load(Ordering::Relaxed) >= cap {
                    drop(stream);
                    continue;
                }
                open.fetch_add(1, Ordering::Relaxed);
                let (open, token, jobs) = (open.clone(), token.clone(), jobs.clone());
                tokio::spawn(async move {
                    let _ = answer(stream, &token, &jobs).await;
                    open.fetch_sub(1, Ordering::Relaxed);
                });
            }
        })
    }
}

async fn answer(
    mut stream: TcpStream,
    token: &Secret,
    jobs: &mpsc::UnboundedSender<oneshot::Sender<Answer>>,
) -> std::io::Result<()> {
    let timed_out = || std::io::Error::from(std::io::ErrorKind::TimedOut);
    let request = tokio::time::timeout(HEAD_DEADLINE, read_head(&mut stream))
        .await
        .map_err(|_| timed_out())??;
    let (status, body) = match authorized(&request, token) {
        Err(why) => (
            "403 Forbidden",
            format!("{{\"message\":{}}}", crate::shell::json_string(why)),
        ),
        Ok(()) => {
            let (reply, answered) = oneshot::channel();
            let answer = match jobs.send(reply) {
                Ok(()) => tokio::time::timeout(ANSWER_DEADLINE, answered)
                    .await
                    .map_err(|_| "no session within the time limit".to_string())
                    .and_then(|r| r.map_err(|_| "the credential broker stopped".to_string()))
                    .and_then(|a| a),
                Err(_) => Err("the credential broker stopped".to_string()),
            };
            match answer {
                Ok(s) => ("200 OK", body(&s)),
                Err(text) => (
                    "500 Internal Server Error",
                    format!("{{\"message\":{}}}", crate::shell::json_string(&text)),
                ),
            }
        }
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    tokio::time::timeout(WRITE_DEADLINE, async {
        stream.write_all(response.as_bytes()).await?;
        stream.flush().await
    })
    .await
    .map_err(|_| timed_out())?
}

/// The request line and headers, up to the blank line.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_REQUEST {
            return Err(std::io::Error::other("request too large"));
        }
        let n = stream.read(&mut chunk).await?;
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

/// 32 random bytes from the OS (the `getrandom` crate: the right call on every platform),
/// hex-encoded.
fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| std::io::Error::other(format!("no random bytes: {e}")))?;
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
