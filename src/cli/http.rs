//! A minimal HTTP/1.1 client for the daemon's Unix socket (one request per connection).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{CliError, Result};

/// Credentials sent with every request (HTTP Basic), when authentication is on.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// A daemon reached through its Unix socket.
#[derive(Clone, Debug)]
pub struct Client {
    socket: PathBuf,
    auth: Option<Credentials>,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Client {
    /// A client of the daemon at `socket` (not yet connected).
    pub fn new(socket: &Path, auth: Option<Credentials>) -> Client {
        Client {
            socket: socket.to_path_buf(),
            auth,
        }
    }

    /// The socket's path.
    /// The credentials sent with each request.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.auth.as_ref()
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Whether a daemon answers `/ping` on the socket.
    pub fn ping(&self) -> Result<()> {
        let r = self.request("GET", "/ping", None, b"")?;
        if r.status == 204 {
            Ok(())
        } else {
            Err(CliError::Protocol(format!(
                "/ping answered {} on {}",
                r.status,
                self.socket.display()
            )))
        }
    }

    /// One request: `path_and_query` already percent-encoded.
    pub fn request(
        &self,
        method: &str,
        path_and_query: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Response> {
        let mut s = UnixStream::connect(&self.socket).map_err(|source| CliError::Connect {
            path: self.socket.clone(),
            source,
        })?;
        let io = |what: &str, e| CliError::io(format!("{what} {}", self.socket.display()), e);
        s.set_read_timeout(Some(Duration::from_secs(3600)))
            .map_err(|e| io("configure", e))?;
        let mut head = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             User-Agent: strata-cli\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        if let Some(c) = &self.auth {
            use base64ct::Encoding;
            let token = base64ct::Base64::encode_string(
                format!("{}:{}", c.username, c.password).as_bytes(),
            );
            head.push_str(&format!("Authorization: Basic {token}\r\n"));
        }
        head.push_str("\r\n");
        // The daemon may answer (an error) before reading the whole body: the answer counts.
        let sent = s
            .write_all(head.as_bytes())
            .and_then(|()| s.write_all(body));
        let mut raw = Vec::new();
        let read = s.read_to_end(&mut raw);
        if raw.is_empty() {
            return Err(match (sent, read) {
                (Err(e), _) | (_, Err(e)) => io("talk to the daemon on", e),
                _ => CliError::Protocol("the connection closed without an answer".into()),
            });
        }
        parse_response(&raw)
    }
}

/// Parse a whole HTTP/1.1 answer (`Content-Length`, chunked, or read to EOF).
fn parse_response(raw: &[u8]) -> Result<Response> {
    let end = memchr::memmem::find(raw, b"\r\n\r\n")
        .ok_or_else(|| CliError::Protocol("no end of the HTTP head".into()))?;
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let rest = &raw[end + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| CliError::Protocol(format!("no status in {head:?}")))?;
    let lower = head.to_ascii_lowercase();
    let body = if lower.contains("transfer-encoding: chunked") {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(Response { status, body })
}

fn dechunk(mut s: &[u8]) -> Result<Vec<u8>> {
    let bad = || CliError::Protocol("malformed chunked body".into());
    let mut out = Vec::new();
    loop {
        let nl = memchr::memmem::find(s, b"\r\n").ok_or_else(bad)?;
        let len_text = std::str::from_utf8(&s[..nl]).map_err(|_| bad())?;
        let len_text = len_text.split(';').next().unwrap_or("").trim();
        let n = usize::from_str_radix(len_text, 16).map_err(|_| bad())?;
        s = &s[nl + 2..];
        if n == 0 {
            return Ok(out);
        }
        let chunk = s.get(..n).ok_or_else(bad)?;
        out.extend_from_slice(chunk);
        s = s.get(n + 2..).ok_or_else(bad)?;
    }
}

/// Percent-encode a query-string value.
pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The `error` of a daemon's JSON error body, or the body itself.
pub fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse() {
        let r = parse_response(b"HTTP/1.1 204 No Content\r\nX: y\r\n\r\n").expect("204");
        assert_eq!((r.status, r.body.len()), (204, 0));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .expect("chunked");
        assert_eq!(r.body, b"abcde");
        assert!(parse_response(b"garbage").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            error_message(br#"{"error":"database not found"}"#),
            "database not found"
        );
        assert_eq!(error_message(b"plain\n"), "plain");
    }
}
