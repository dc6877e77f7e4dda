//! HTTPS, as every real AWS endpoint is: the emulator speaks plain HTTP, so these tests put a
//! TLS front (Python's `ssl` with a certificate from a CA made here by `openssl`) before it.
//! A login through it must work when the CA is trusted (`SSL_CERT_FILE`, which the system root
//! loader honours) and must fail, changing nothing, when it is not: proof that the TLS stack the
//! binary ships (rustls with ring) is wired in and really checks certificates.

use std::path::Path;
use std::process::{Child, Command as StdCommand, Stdio};

use crate::common::{self, Home};

/// A CA and a certificate for `localhost` / 127.0.0.1 signed by it, in `dir`.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = StdCommand::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is needed to make the test certificates");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=mfa-session test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    // A CA that signed nothing here: trusting only it must not let our server through.
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=another CA",
        "-keyout",
        "other.key",
        "-out",
        "other.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n\
         extendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ]);
}

/// A TLS front on a free loopback port forwarding every request to `upstream`.
struct TlsFront {
    child: Child,
    url: String,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const FRONT: &str = r#"
import http.client, http.server, ssl, sys, urllib.parse
cert, key, upstream = sys.argv[1], sys.argv[2], urllib.parse.urlparse(sys.argv[3])

class Forward(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        conn.request("POST", self.path, body, headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

impl TlsFront {
    fn start(dir: &Path, upstream: &str) -> TlsFront {
        use std::io::BufRead;
        let mut child = StdCommand::new(common::venv().join("bin/python"))
            .args(["-c", FRONT])
            .arg(dir.join("server.pem"))
            .arg(dir.join("server.key"))
            .arg(upstream)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("TLS front did not start: {line:?}"));
        TlsFront {
            child,
            url: format!("https://localhost:{port}"),
        }
    }
}

#[test]
fn login_over_https_checks_the_certificate() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path());
    let front = TlsFront::start(certs.path(), &moto);
    let home = Home::new();
    let original = format!(
        "[work-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\nmfa_serial = {}\n",
        user.access_key_id, user.secret_access_key, user.serial
    );
    home.write_credentials(&original);

    // Not trusted: only another CA is. A TLS failure, nothing written, no code spent (a
    // made-up one: the handshake fails before any request is sent).
    let out = home
        .cmd_at(&front.url)
        .env("SSL_CERT_FILE", certs.path().join("other.pem"))
        .args(["login", "-p", "work", "-c", "123456", "--timeout", "5s"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert_eq!(home.read_credentials(), original);

    // Trusted: the login goes through the TLS front to the emulator.
    let out = home
        .cmd_at(&front.url)
        .env("SSL_CERT_FILE", certs.path().join("ca.pem"))
        .args(["login", "-p", "work", "-c", &common::totp_now(&user.seed)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let s = common::profile(&home.read_credentials(), "work");
    assert!(s["aws_access_key_id"].starts_with("ASIA"), "{s:?}");
}
