//! A local HTTP endpoint that answers AWS query-protocol calls (STS and IAM) from a script, with
//! AWS's real response and error bodies. It exists for what the emulator cannot do: a rejected
//! code, a foreign serial, a dead key, clock skew, throttling, 5xx, a hang. It also counts and
//! records every request, so tests can assert how many calls a command made and how they were
//! signed.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Reply {
    /// Status and body.
    Http(u16, String),
    /// Read the request, then never answer (until the test ends).
    Hang,
    /// Read the request, then close the connection without a byte of answer: the request was
    /// sent (and may have been acted on), the answer lost.
    Drop,
    /// Status and the start of a body: announce `Content-Length` of the whole body, send only
    /// the first `sent` bytes, then close the connection.
    Truncated(u16, String, usize),
}

#[derive(Clone, Debug)]
pub struct Request {
    pub action: String,
    pub body: String,
    pub authorization: String,
}

#[derive(Default)]
struct State {
    /// Per action: replies in order; the last one repeats.
    script: HashMap<String, Vec<Reply>>,
    requests: Vec<Request>,
}

pub struct FakeAws {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeAws {
    pub fn start() -> FakeAws {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(conn, s));
            }
        });
        FakeAws { url, state }
    }

    /// Scripts the replies to an action (`GetSessionToken`, `ListMFADevices`, …).
    pub fn on(&self, action: &str, replies: Vec<Reply>) -> &Self {
        self.state
            .lock()
            .unwrap()
            .script
            .insert(action.to_string(), replies);
        self
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn actions(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.action).collect()
    }
}

fn serve(conn: TcpStream, state: Arc<Mutex<State>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut len = 0;
        let mut authorization = String::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap_or((h, ""));
            match k.to_ascii_lowercase().as_str() {
                "content-length" => len = v.trim().parse().unwrap_or(0),
                "authorization" => authorization = v.trim().to_string(),
                _ => {}
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        let action = body
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .unwrap_or("")
            .to_string();
        let reply = {
            let mut st = state.lock().unwrap();
            st.requests.push(Request {
                action: action.clone(),
                body: body.clone(),
                authorization,
            });
            match st.script.get_mut(&action) {
                Some(q) if q.len() > 1 => q.remove(0),
                Some(q) if q.len() == 1 => q[0].clone(),
                _ => Reply::Http(400, error_xml("sts", "InvalidAction", "not scripted")),
            }
        };
        match reply {
            Reply::Hang => {
                std::thread::sleep(Duration::from_secs(120));
                return;
            }
            Reply::Drop => {
                let _ = conn.shutdown(std::net::Shutdown::Both);
                return;
            }
            Reply::Truncated(status, body, sent) => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&body.as_bytes()[..sent.min(body.len())]);
                let _ = conn.flush();
                let _ = conn.shutdown(std::net::Shutdown::Both);
                return;
            }
            Reply::Http(status, body) => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                     x-amzn-RequestId: 4d4b6f3a-0000-4000-8000-000000000000\r\n\r\n",
                    body.len()
                );
                if conn.write_all(head.as_bytes()).is_err()
                    || conn.write_all(body.as_bytes()).is_err()
                {
                    return;
                }
            }
        }
    }
}

/// AWS's error body for the query protocol (`sts` or `iam` namespace).
pub fn error_xml(service: &str, code: &str, message: &str) -> String {
    let ns = match service {
        "iam" => "https://iam.amazonaws.com/doc/2010-05-08/",
        _ => "https://sts.amazonaws.com/doc/2011-06-15/",
    };
    format!(
        "<ErrorResponse xmlns=\"{ns}\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    \
         <Message>{message}</Message>\n  </Error>\n  <RequestId>4d4b6f3a-0000-4000-8000-000000000000</RequestId>\n</ErrorResponse>\n"
    )
}

pub const SESSION_KEY_ID: &str = "ASIAFAKESESSION00001";
pub const SESSION_SECRET: &str = "fakeSessionSecret/wJalrXUtnFEMI/K7MDENG+bPxRfiCY";
pub const SESSION_TOKEN: &str = "FwoGZXIvYXdzEFakeSessionToken//////////wEaDFAKE+TOKEN/VALUE==";

/// A successful GetSessionToken body whose session expires at `expiration` (RFC 3339).
pub fn session_xml(expiration: &str) -> String {
    session_xml_with(SESSION_KEY_ID, SESSION_SECRET, SESSION_TOKEN, expiration)
}

/// A GetSessionToken "success" with the given credentials, for the answers a hostile or broken
/// endpoint sends: empty keys, a past or far-future Expiration, a huge token.
pub fn session_xml_with(key_id: &str, secret: &str, token: &str, expiration: &str) -> String {
    format!(
        "<GetSessionTokenResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  \
         <GetSessionTokenResult>\n    <Credentials>\n      <SessionToken>{token}</SessionToken>\n      \
         <SecretAccessKey>{secret}</SecretAccessKey>\n      <Expiration>{expiration}</Expiration>\n      \
         <AccessKeyId>{key_id}</AccessKeyId>\n    </Credentials>\n  </GetSessionTokenResult>\n  \
         <ResponseMetadata>\n    <RequestId>58c5dbae-abef-11e0-8cfe-09039844ac7d</RequestId>\n  </ResponseMetadata>\n\
         </GetSessionTokenResponse>\n"
    )
}

/// A ListMFADevices body listing `serials` for `user`.
pub fn devices_xml(user: &str, serials: &[&str]) -> String {
    let members: String = serials
        .iter()
        .map(|s| {
            format!(
                "<member><UserName>{user}</UserName><SerialNumber>{s}</SerialNumber>\
                 <EnableDate>2026-01-01T00:00:00Z</EnableDate></member>"
            )
        })
        .collect();
    format!(
        "<ListMFADevicesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  \
         <ListMFADevicesResult>\n    <IsTruncated>false</IsTruncated>\n    <MFADevices>{members}</MFADevices>\n  \
         </ListMFADevicesResult>\n  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>\n\
         </ListMFADevicesResponse>\n"
    )
}
