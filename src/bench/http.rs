//! A minimal blocking HTTP/1.1 client over a Unix socket or TCP, with keep-alive: enough to POST
//! line protocol and GET query answers from strata, InfluxDB and VictoriaMetrics.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use super::BenchError;

/// Where a server listens.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Unix(PathBuf),
    /// `host:port`.
    Tcp(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Unix(p) => write!(f, "unix:{}", p.display()),
            Target::Tcp(a) => write!(f, "http://{a}"),
        }
    }
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One connection, reused for consecutive requests (re-opened when the server closed it).
pub struct Client {
    target: Target,
    conn: Option<BufReader<Box<dyn Stream>>>,
    timeout: Duration,
}

/// The parsed head of a response.
#[derive(Debug, PartialEq)]
pub struct Head {
    pub status: u16,
    pub content_length: Option<usize>,
    pub chunked: bool,
    pub close: bool,
}

/// Parse a status line and header lines (without the final blank line).
pub fn parse_head(text: &str) -> Result<Head, String> {
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP/1.x status line: {status_line:?}"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("no status code in {status_line:?}"))?;
    let mut head = Head {
        status,
        content_length: None,
        chunked: false,
        close: version == "HTTP/1.0",
    };
    for l in lines.filter(|l| !l.is_empty()) {
        let Some((k, v)) = l.split_once(':') else {
            return Err(format!("malformed header line {l:?}"));
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
        match k.as_str() {
            "content-length" => {
                head.content_length =
                    Some(v.parse().map_err(|_| format!("bad Content-Length {v:?}"))?)
            }
            "transfer-encoding" => head.chunked = v.contains("chunked"),
            "connection" => head.close = v.contains("close"),
            _ => {}
        }
    }
    Ok(head)
}

/// Read a chunked body (after the head) from `r`.
pub fn read_chunked(r: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    let mut out = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(bad("connection closed inside a chunked body".into()));
        }
        let size_text = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| bad(format!("bad chunk size {size_text:?}")))?;
        if size == 0 {
            // Trailers until the blank line.
            loop {
                let mut t = String::new();
                if r.read_line(&mut t)? == 0 || t == "\r\n" || t == "\n" {
                    return Ok(out);
                }
            }
        }
        let start = out.len();
        out.resize(start + size, 0);
        r.read_exact(&mut out[start..])?;
        let mut crlf = [0u8; 2];
        r.read_exact(&mut crlf)?;
    }
}

impl Client {
    pub fn new(target: Target) -> Client {
        Client {
            target,
            conn: None,
            timeout: Duration::from_secs(600),
        }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    fn connect(&self) -> std::io::Result<BufReader<Box<dyn Stream>>> {
        let s: Box<dyn Stream> = match &self.target {
            Target::Unix(p) => {
                let s = UnixStream::connect(p)?;
                s.set_read_timeout(Some(self.timeout))?;
                Box::new(s)
            }
            Target::Tcp(a) => {
                let s = TcpStream::connect(a.as_str())?;
                s.set_read_timeout(Some(self.timeout))?;
                s.set_nodelay(true)?;
                Box::new(s)
            }
        };
        Ok(BufReader::with_capacity(64 << 10, s))
    }

    /// Send one request and read the answer. A request on a reused connection that the server
    /// had closed meanwhile is sent once more on a new connection (both the writes and queries of
    /// the bench are idempotent).
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Response, BenchError> {
        let reused = self.conn.is_some();
        match self.try_request(method, path, body) {
            Ok(r) => Ok(r),
            Err(_) if reused => {
                self.conn = None;
                self.try_request(method, path, body)
            }
            Err(e) => Err(e),
        }
    }

    fn try_request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Response, BenchError> {
        let what = || format!("{method} {}{path}", self.target);
        let io = |e: std::io::Error| BenchError::io(what(), e);
        if self.conn.is_none() {
            self.conn = Some(self.connect().map_err(io)?);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(BenchError::Http(format!("{}: no connection", what())));
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
            body.len()
        );
        let sent = conn
            .get_mut()
            .write_all(head.as_bytes())
            .and_then(|()| conn.get_mut().write_all(body))
            .and_then(|()| conn.get_mut().flush());
        let answer = read_response(conn);
        let answer = match (answer, sent) {
            (Ok(a), _) => a,
            (Err(e), Err(we)) => {
                self.conn = None;
                return Err(io(std::io::Error::new(
                    we.kind(),
                    format!("{we} (then reading the answer: {e})"),
                )));
            }
            (Err(e), Ok(())) => {
                self.conn = None;
                return Err(io(e));
            }
        };
        let (head, body) = answer;
        if head.close {
            self.conn = None;
        }
        Ok(Response {
            status: head.status,
            body,
        })
    }

    pub fn get(&mut self, path: &str) -> Result<Response, BenchError> {
        self.request("GET", path, b"")
    }

    pub fn post(&mut self, path: &str, body: &[u8]) -> Result<Response, BenchError> {
        self.request("POST", path, body)
    }
}

fn read_response(r: &mut BufReader<Box<dyn Stream>>) -> std::io::Result<(Head, Vec<u8>)> {
    let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    let mut head_text = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the server closed the connection without an answer",
            ));
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head_text.push_str(line.trim_end_matches(['\r', '\n']));
        head_text.push_str("\r\n");
    }
    let head = parse_head(&head_text).map_err(bad)?;
    let body = if head.status == 204 || head.status == 304 || (100..200).contains(&head.status) {
        Vec::new()
    } else if head.chunked {
        read_chunked(r)?
    } else if let Some(n) = head.content_length {
        let mut b = vec![0; n];
        r.read_exact(&mut b)?;
        b
    } else {
        let mut b = Vec::new();
        r.read_to_end(&mut b)?;
        b
    };
    Ok((head, body))
}

/// The error an InfluxDB-1.x-style `/query` JSON answer carries (a top-level `"error"` or one
/// in any statement result), or a description of a non-200 / non-JSON answer; `None` for a
/// good answer.
pub fn influx_answer_error(status: u16, body: &[u8]) -> Option<String> {
    let json: serde_json::Value = match serde_json::from_slice(body) {
        Ok(j) => j,
        Err(_) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Some(format!("HTTP {status}, not JSON: {text}"));
        }
    };
    let mut errors = Vec::new();
    if let Some(e) = json.get("error") {
        errors.push(e.as_str().map_or_else(|| e.to_string(), str::to_string));
    }
    if let Some(results) = json.get("results").and_then(|r| r.as_array()) {
        for r in results {
            if let Some(e) = r.get("error") {
                errors.push(e.as_str().map_or_else(|| e.to_string(), str::to_string));
            }
        }
    }
    if status != 200 && errors.is_empty() {
        errors.push(format!("HTTP {status}"));
    }
    (!errors.is_empty()).then(|| errors.join("; "))
}

/// The error of a Prometheus-API answer (`{"status":"error","error":…}` or a non-200), if any.
pub fn prom_answer_error(status: u16, body: &[u8]) -> Option<String> {
    let json: serde_json::Value = match serde_json::from_slice(body) {
        Ok(j) => j,
        Err(_) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Some(format!("HTTP {status}, not JSON: {text}"));
        }
    };
    if status == 200 && json.get("status").and_then(|s| s.as_str()) == Some("success") {
        return None;
    }
    let e = json
        .get("error")
        .and_then(|e| e.as_str())
        .unwrap_or("no error message");
    Some(format!("HTTP {status}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn heads() {
        let h = parse_head("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: x\r\n").unwrap();
        assert_eq!(
            h,
            Head {
                status: 200,
                content_length: Some(12),
                chunked: false,
                close: false
            }
        );
        let h = parse_head("HTTP/1.1 204 No Content\r\nConnection: close\r\n").unwrap();
        assert!(h.close);
        let h = parse_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n").unwrap();
        assert!(h.chunked);
        assert!(parse_head("HTTP/1.0 200 OK\r\n").unwrap().close);
        assert!(parse_head("SSH-2.0\r\n").is_err());
        assert!(parse_head("HTTP/1.1 abc\r\n").is_err());
        assert!(parse_head("HTTP/1.1 200 OK\r\nnocolon\r\n").is_err());
    }

    #[test]
    fn chunked_bodies() {
        let mut r = Cursor::new(b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\nNEXT".to_vec());
        assert_eq!(read_chunked(&mut r).unwrap(), b"hello world");
        let mut rest = String::new();
        r.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "NEXT");
        let mut r = Cursor::new(b"5\r\nhel".to_vec());
        assert!(read_chunked(&mut r).is_err());
        let mut r = Cursor::new(b"zz\r\n".to_vec());
        assert!(read_chunked(&mut r).is_err());
    }

    #[test]
    fn influx_errors() {
        assert_eq!(
            influx_answer_error(200, br#"{"results":[{"statement_id":0}]}"#),
            None
        );
        assert_eq!(
            influx_answer_error(200, br#"{"results":[{"statement_id":0,"error":"boom"}]}"#),
            Some("boom".into())
        );
        assert_eq!(
            influx_answer_error(400, br#"{"error":"error parsing query: x"}"#),
            Some("error parsing query: x".into())
        );
        assert_eq!(influx_answer_error(500, b"{}"), Some("HTTP 500".into()));
        assert!(influx_answer_error(502, b"<html>")
            .unwrap()
            .starts_with("HTTP 502, not JSON"));
    }

    #[test]
    fn prom_errors() {
        assert_eq!(
            prom_answer_error(200, br#"{"status":"success","data":{}}"#),
            None
        );
        assert_eq!(
            prom_answer_error(422, br#"{"status":"error","error":"bad"}"#),
            Some("HTTP 422: bad".into())
        );
    }
}
