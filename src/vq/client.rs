//! `strata vq --socket PATH`: hand vq text to a running daemon (`POST /vq`) over its Unix
//! socket instead of opening the data directory (which the daemon owns).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

/// What the daemon answered for one source.
#[derive(Debug, Clone, PartialEq)]
pub struct Remote {
    /// What `strata vq` prints on stdout.
    pub output: String,
    /// The §6.2 error line and its exit code (65 parse, 70 runtime), if the run failed.
    pub error: Option<(String, u8)>,
}

/// Credentials for a daemon with authentication on.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Run `source` on database `database` of the daemon listening on `socket`. The error says
/// what failed (connection, HTTP status and the daemon's message, an unreadable answer).
pub fn run_remote(
    socket: &Path,
    database: &str,
    source: &str,
    creds: &Credentials,
) -> Result<Remote, String> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("db", database);
    if let Some(u) = &creds.username {
        query.append_pair("u", u);
        query.append_pair("p", creds.password.as_deref().unwrap_or(""));
    }
    let request = format!(
        "POST /vq?{} HTTP/1.1\r\nHost: strata\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        query.finish(),
        source.len()
    );
    let talk = || -> std::io::Result<Vec<u8>> {
        let mut s = UnixStream::connect(socket)?;
        s.write_all(request.as_bytes())?;
        s.write_all(source.as_bytes())?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer)?;
        Ok(answer)
    };
    let answer =
        talk().map_err(|e| format!("cannot talk to the daemon at {}: {e}", socket.display()))?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "the daemon's answer has no body".to_string())?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    let json: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| format!("the daemon's answer (HTTP {status}) is not JSON: {e}"))?;
    if status != 200 {
        let message = json["error"].as_str().unwrap_or("no message");
        return Err(format!("the daemon refused (HTTP {status}): {message}"));
    }
    let output = json["output"].as_str().unwrap_or_default().to_string();
    let error = json["error"].as_str().map(|line| {
        let exit = json["exit"]
            .as_u64()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(70);
        (line.to_string(), exit)
    });
    Ok(Remote { output, error })
}
