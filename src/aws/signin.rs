//! The AWS console's federation endpoint: a role session traded for a sign-in token, and the
//! sign-in URL built from it (`mfa-session console`).
//!
//! The flow is AWS's documented one for custom identity brokers
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_enable-console-custom-url.html>),
//! as aws-vault's `login` implements it (`cli/login.go`: `generateLoginURL`,
//! `requestSigninToken`): `GET /federation?Action=getSigninToken&Session=<JSON of sessionId,
//! sessionKey, sessionToken>` answers `{"SigninToken": "..."}`, and
//! `/federation?Action=login&Issuer=..&Destination=..&SigninToken=..` signs the browser in. The
//! partition's sign-in host follows aws-vault's choice by region prefix: `cn-` is aws-cn
//! (`signin.amazonaws.cn`, console `console.amazonaws.cn`), `us-gov-` is aws-us-gov
//! (`signin.amazonaws-us-gov.com`, console `console.amazonaws-us-gov.com`), anything else aws
//! (`signin.aws.amazon.com`, console `console.aws.amazon.com`).
//!
//! Everything but [`signin_token`] is pure. The sign-in token and every URL holding it or the
//! session are [`Secret`]s: they are never logged, and no error message quotes them.

use std::time::Duration;

use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_types::byte_stream::ByteStream;

use crate::session::{Secret, Session};

/// What the console's sign-in tells the person the session came from (`Issuer`).
pub const ISSUER: &str = "mfa-session";

/// The bounds of a console session's `SessionDuration`, in seconds: 15 minutes to 12 hours.
pub const SESSION_DURATION_BOUNDS: (u64, u64) = (900, 43_200);

/// The longest answer read from the federation endpoint; a real one is a few kilobytes.
const MAX_ANSWER: usize = 64 * 1024;

/// The longest sign-in token accepted; real ones are about a kilobyte or two.
const MAX_TOKEN: usize = 16 * 1024;

/// An AWS partition, as far as the console cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    Aws,
    AwsCn,
    AwsUsGov,
}

impl Partition {
    /// The partition of a region, by its prefix (as aws-vault decides it).
    pub fn of_region(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition::AwsCn
        } else if region.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else {
            Partition::Aws
        }
    }

    /// The partition's sign-in host.
    pub fn signin_host(self) -> &'static str {
        match self {
            Partition::Aws => "signin.aws.amazon.com",
            Partition::AwsCn => "signin.amazonaws.cn",
            Partition::AwsUsGov => "signin.amazonaws-us-gov.com",
        }
    }

    /// The partition's console host.
    pub fn console_host(self) -> &'static str {
        match self {
            Partition::Aws => "console.aws.amazon.com",
            Partition::AwsCn => "console.amazonaws.cn",
            Partition::AwsUsGov => "console.amazonaws-us-gov.com",
        }
    }

    /// Where the console opens without `--destination`: the partition's console home.
    pub fn default_destination(self) -> String {
        format!("https://{}/", self.console_host())
    }

    pub fn name(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }
}

/// Why no sign-in URL could be made.
#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    #[error("AWS_ENDPOINT_URL_SIGNIN {0}")]
    BadEndpoint(String),
    #[error(
        "--destination {0:?} is not an https:// URL of printable ASCII without blanks (e.g. \
         https://console.aws.amazon.com/s3/)"
    )]
    BadDestination(String),
    #[error(
        "the federation endpoint {host} refused the role session (HTTP {status}); the role's \
         session may have been revoked or the role may not be allowed to sign in to the console"
    )]
    Refused { host: String, status: u16 },
    #[error("the federation endpoint {host} is unavailable (HTTP {status}); try again later")]
    Unavailable { host: String, status: u16 },
    #[error("cannot reach the federation endpoint {host}: {why}")]
    Connect { host: String, why: String },
    #[error("the federation endpoint {host} did not answer within {} s", timeout.as_secs())]
    Timeout { host: String, timeout: Duration },
    #[error("the federation endpoint {host} sent an unusable answer: {what}")]
    Malformed { host: String, what: &'static str },
}

/// The federation endpoint: `AWS_ENDPOINT_URL_SIGNIN` when set (the path `/federation` is
/// appended to it, as the SDKs append an operation's path to `AWS_ENDPOINT_URL_<SERVICE>`),
/// else `https://<the partition's sign-in host>/federation`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://host[:port][/path]/federation`.
    pub federation: String,
    /// The host, for messages.
    pub host: String,
}

impl Endpoint {
    pub fn new(
        partition: Partition,
        signin_override: Option<&str>,
    ) -> Result<Endpoint, SigninError> {
        let base = match signin_override {
            Some(url) => {
                super::check_endpoint(url, "AWS_ENDPOINT_URL_SIGNIN")
                    .map_err(|e| SigninError::BadEndpoint(e.to_string()))?;
                if url.contains(['?', '#']) {
                    return Err(SigninError::BadEndpoint(format!(
                        "{:?} has a query or fragment; give the endpoint's base URL",
                        crate::text::untrusted(url)
                    )));
                }
                url.trim_end_matches('/').to_string()
            }
            None => format!("https://{}", partition.signin_host()),
        };
        let host = base
            .split_once("://")
            .map_or(base.as_str(), |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        Ok(Endpoint {
            federation: format!("{base}/federation"),
            host,
        })
    }
}

/// `s` percent-encoded for a query value: everything but RFC 3986's unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `Session` parameter: `{"sessionId","sessionKey","sessionToken"}` of the role session.
pub fn session_json(session: &Session) -> Secret {
    let json = serde_json::json!({
        "sessionId": session.access_key_id,
        "sessionKey": session.secret_access_key.expose(),
        "sessionToken": session.session_token.expose(),
    });
    Secret::new(json.to_string())
}

/// The `getSigninToken` request's URL; `session_duration` (seconds) is AWS's `SessionDuration`,
/// the console session's length, left to AWS when absent.
pub fn token_request_url(
    endpoint: &Endpoint,
    session: &Session,
    session_duration: Option<u64>,
) -> Secret {
    let duration = session_duration
        .map(|d| format!("&SessionDuration={d}"))
        .unwrap_or_default();
    Secret::new(format!(
        "{}?Action=getSigninToken{duration}&Session={}",
        endpoint.federation,
        encode(session_json(session).expose())
    ))
}

/// The sign-in URL: `Action=login` with the issuer, the destination and the token.
pub fn login_url(endpoint: &Endpoint, destination: &str, token: &Secret) -> Secret {
    Secret::new(format!(
        "{}?Action=login&Issuer={}&Destination={}&SigninToken={}",
        endpoint.federation,
        encode(ISSUER),
        encode(destination),
        encode(token.expose())
    ))
}

/// A `--destination`: an `https://` URL of printable ASCII without blanks.
pub fn check_destination(url: &str) -> Result<(), SigninError> {
    let ok = url.len() <= 2048
        && url
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty())
        && url.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(SigninError::BadDestination(crate::text::untrusted(url)))
    }
}

/// The token in a `getSigninToken` answer body.
pub fn parse_token(host: &str, body: &[u8]) -> Result<Secret, SigninError> {
    let malformed = |what| SigninError::Malformed {
        host: host.to_string(),
        what,
    };
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| malformed("not JSON"))?;
    let token = value
        .get("SigninToken")
        .ok_or(malformed("no SigninToken in it"))?
        .as_str()
        .ok_or(malformed("a SigninToken that is not a string"))?;
    if token.is_empty() || token.len() > MAX_TOKEN || !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(malformed(
            "a SigninToken that is empty, too long or not printable ASCII",
        ));
    }
    Ok(Secret::new(token))
}

/// The sign-in token for `session` from `endpoint` (one GET, at most `timeout`), over the same
/// HTTP stack (hyper, rustls with ring, the system's roots) as every STS and IAM call; plain
/// `http://` only for an `AWS_ENDPOINT_URL_SIGNIN` that says so.
pub async fn signin_token(
    endpoint: &Endpoint,
    session: &Session,
    session_duration: Option<u64>,
    timeout: Duration,
) -> Result<Secret, SigninError> {
    let host = endpoint.host.clone();
    let connect = |why: String| SigninError::Connect {
        host: host.clone(),
        why,
    };
    let url = token_request_url(endpoint, session, session_duration);
    let mut request = aws_sdk_sts::config::http::HttpRequest::get(url.expose())
        .map_err(|_| connect("the request could not be built".into()))?;
    request.headers_mut().insert(
        "user-agent",
        concat!("mfa-session/", env!("CARGO_PKG_VERSION")),
    );
    request.headers_mut().insert("accept", "application/json");
    let exchange = async {
        let response = connector()
            .call(request)
            .await
            // The error's text is the connector's; it names no URL, query or header.
            .map_err(|e| connect(crate::text::untrusted(&describe_connector_error(&e))))?;
        let status = response.status().as_u16();
        let mut body = ByteStream::new(response.into_body());
        let mut read = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|_| connect("the answer was cut off".into()))?;
            if read.len() + chunk.len() > MAX_ANSWER {
                return Err(SigninError::Malformed {
                    host: host.clone(),
                    what: "an answer longer than 64 KiB",
                });
            }
            read.extend_from_slice(&chunk);
        }
        Ok::<_, SigninError>((status, read))
    };
    let (status, body) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| SigninError::Timeout {
            host: host.clone(),
            timeout,
        })??;
    match status {
        200 => parse_token(&host, &body),
        500.. => Err(SigninError::Unavailable { host, status }),
        _ => Err(SigninError::Refused { host, status }),
    }
}

/// The connector's error in words: its kind, and the source's text (an I/O or TLS error).
fn describe_connector_error(e: &aws_smithy_runtime_api::client::result::ConnectorError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// An HTTP(S) connector of the SDK's own stack: rustls with ring, as [`super::http_client`].
fn connector() -> aws_smithy_http_client::Connector {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    aws_smithy_http_client::Connector::builder()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            access_key_id: "ASIAEXAMPLE0000001".into(),
            secret_access_key: Secret::new("se/cr+et=key"),
            session_token: Secret::new("Fwo//tok+en==&x=\"y\""),
            expiration: chrono::Utc::now(),
        }
    }

    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_partition_has_its_hosts() {
        let cases = [
            (
                "us-east-1",
                "signin.aws.amazon.com",
                "https://console.aws.amazon.com/",
            ),
            (
                "eu-west-1",
                "signin.aws.amazon.com",
                "https://console.aws.amazon.com/",
            ),
            (
                "cn-north-1",
                "signin.amazonaws.cn",
                "https://console.amazonaws.cn/",
            ),
            (
                "cn-northwest-1",
                "signin.amazonaws.cn",
                "https://console.amazonaws.cn/",
            ),
            (
                "us-gov-west-1",
                "signin.amazonaws-us-gov.com",
                "https://console.amazonaws-us-gov.com/",
            ),
            (
                "us-gov-east-1",
                "signin.amazonaws-us-gov.com",
                "https://console.amazonaws-us-gov.com/",
            ),
        ];
        for (region, signin, console) in cases {
            let p = Partition::of_region(region);
            assert_eq!(p.signin_host(), signin, "{region}");
            assert_eq!(p.default_destination(), console, "{region}");
            let e = Endpoint::new(p, None).unwrap();
            assert_eq!(e.federation, format!("https://{signin}/federation"));
            assert_eq!(e.host, signin);
        }
        // A region merely containing the prefixes is commercial.
        assert_eq!(Partition::of_region("eu-cn-1"), Partition::Aws);
    }

    #[test]
    fn the_override_replaces_the_host_and_keeps_its_path() {
        let e = Endpoint::new(Partition::AwsCn, Some("http://127.0.0.1:8080/")).unwrap();
        assert_eq!(e.federation, "http://127.0.0.1:8080/federation");
        assert_eq!(e.host, "127.0.0.1:8080");
        let e = Endpoint::new(Partition::Aws, Some("https://proxy.example/aws")).unwrap();
        assert_eq!(e.federation, "https://proxy.example/aws/federation");
        for bad in [
            "ftp://x",
            "http://",
            "http://a b",
            "http://h/?q=1",
            "http://h:99999",
        ] {
            assert!(
                matches!(
                    Endpoint::new(Partition::Aws, Some(bad)),
                    Err(SigninError::BadEndpoint(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(
            encode("https://console.aws.amazon.com/s3/?region=eu-west-1&x=a b"),
            "https%3A%2F%2Fconsole.aws.amazon.com%2Fs3%2F%3Fregion%3Deu-west-1%26x%3Da%20b"
        );
        assert_eq!(encode("+/=\"{}%"), "%2B%2F%3D%22%7B%7D%25");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn the_session_goes_as_encoded_json() {
        let e = Endpoint::new(Partition::Aws, None).unwrap();
        let url = token_request_url(&e, &session(), None);
        let url = url.expose();
        let query = url
            .strip_prefix("https://signin.aws.amazon.com/federation?Action=getSigninToken&Session=")
            .unwrap();
        assert!(!query.contains(['&', '+', '/', '=', '"', '{']), "{query}");
        let json: serde_json::Value = serde_json::from_str(&decode(query)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "sessionId": "ASIAEXAMPLE0000001",
                "sessionKey": "se/cr+et=key",
                "sessionToken": "Fwo//tok+en==&x=\"y\"",
            })
        );
        let url = token_request_url(&e, &session(), Some(3600));
        assert!(
            url.expose()
                .contains("?Action=getSigninToken&SessionDuration=3600&Session=%7B")
        );
    }

    #[test]
    fn the_login_url_carries_issuer_destination_and_token() {
        let e = Endpoint::new(Partition::AwsUsGov, None).unwrap();
        let url = login_url(
            &e,
            "https://console.amazonaws-us-gov.com/ec2/home?region=us-gov-west-1",
            &Secret::new("tok/en+=="),
        );
        assert_eq!(
            url.expose(),
            "https://signin.amazonaws-us-gov.com/federation?Action=login&Issuer=mfa-session\
             &Destination=https%3A%2F%2Fconsole.amazonaws-us-gov.com%2Fec2%2Fhome%3Fregion%3Dus-gov-west-1\
             &SigninToken=tok%2Fen%2B%3D%3D"
        );
        assert_eq!(format!("{url:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn destinations_are_https_urls() {
        assert!(check_destination("https://console.aws.amazon.com/s3/").is_ok());
        for bad in [
            "http://console.aws.amazon.com/",
            "https://",
            "https://a b",
            "javascript:x",
            "",
        ] {
            assert!(check_destination(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_are_checked() {
        assert_eq!(
            parse_token("h", br#"{"SigninToken":"abc"}"#)
                .unwrap()
                .expose(),
            "abc"
        );
        for bad in [
            &b"<html>"[..],
            br#"{"Other":"x"}"#,
            br#"{"SigninToken":7}"#,
            br#"{"SigninToken":""}"#,
            br#"{"SigninToken":"a b"}"#,
        ] {
            let e = parse_token("h", bad).unwrap_err();
            assert!(matches!(e, SigninError::Malformed { .. }), "{e}");
        }
        let long = format!(r#"{{"SigninToken":"{}"}}"#, "a".repeat(MAX_TOKEN + 1));
        assert!(parse_token("h", long.as_bytes()).is_err());
    }
}
