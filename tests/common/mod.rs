//! Shared helpers for the integration tests: start the real `strata` binary, talk HTTP to it
//! over its Unix socket.
#![allow(dead_code)]

pub mod vq;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Run a test alone among the tests of its file that also take this guard. A data directory's
/// lock belongs to the open file description, and a child process forked by one test (before
/// its exec closes the inherited descriptors) shares every descriptor of the test process:
/// forked while another test closes and reopens a database, it keeps the old lock alive for a
/// moment and the reopen is refused. A real daemon forks nothing; only tests running side by
/// side in one process do.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The body as text (lossily, for a binary one).
    pub body: String,
    /// The body's bytes (de-chunked).
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

pub fn percent_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// [`request`] that returns `None` instead of panicking when the server is gone or dies before
/// answering (crash tests).
pub fn try_request(
    socket: &Path,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> Option<Answer> {
    let mut s = UnixStream::connect(socket).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let head = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\r\n",
        body.len()
    );
    let _ = s
        .write_all(head.as_bytes())
        .and_then(|()| s.write_all(body));
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    Some(Answer {
        status,
        bytes: body.as_bytes().to_vec(),
        body: body.to_string(),
    })
}

/// Run `strata inspect DATA_DIR [extra…]` and return its standard output (panics on failure).
pub fn inspect(data_dir: &Path, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("inspect")
        .arg(data_dir)
        .args(extra)
        .env("STRATA_LOG", "warn")
        .output()
        .expect("run strata inspect");
    assert!(
        out.status.success(),
        "strata inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("inspect output is UTF-8")
}

/// One HTTP/1.1 request over a Unix socket (Connection: close; body read to EOF).
pub fn request(socket: &Path, method: &str, path_and_query: &str, body: &[u8]) -> Answer {
    request_with(socket, method, path_and_query, &[], body)
}

/// [`request`] with extra headers (`("Content-Encoding", "gzip")`).
pub fn request_with(
    socket: &Path,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut s =
        UnixStream::connect(socket).unwrap_or_else(|e| panic!("connect {}: {e}", socket.display()));
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        extra.push_str("Content-Type: text/plain\r\n");
    }
    let head = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    );
    // The server may answer and close before it has read the whole body (a 413 decided from
    // Content-Length), so a failed write is not the end: the answer is still in our receive
    // buffer. Only when there is no answer at all does the write error matter.
    let sent = s
        .write_all(head.as_bytes())
        .and_then(|()| s.write_all(body));
    let mut raw = Vec::new();
    let read = s.read_to_end(&mut raw);
    if raw.is_empty() {
        panic!("no HTTP answer (write: {sent:?}, read: {read:?})");
    }
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("malformed HTTP answer: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let bytes = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&raw[end + 4..])
    } else {
        raw[end + 4..].to_vec()
    };
    Answer {
        status,
        body: String::from_utf8_lossy(&bytes).to_string(),
        bytes,
    }
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = s.windows(2).position(|w| w == b"\r\n") {
        let len = String::from_utf8_lossy(&s[..eol]);
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        let rest = &s[eol + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        s = rest.get(n + 2..).unwrap_or_default();
    }
    out
}

pub fn write(socket: &Path, db: &str, lines: &str) -> Answer {
    request(
        socket,
        "POST",
        &format!("/write?db={}", percent_encode(db)),
        lines.as_bytes(),
    )
}

pub fn query(socket: &Path, db: &str, q: &str) -> Answer {
    request(
        socket,
        "GET",
        &format!("/query?db={}&q={}", percent_encode(db), percent_encode(q)),
        b"",
    )
}

/// `query` with `epoch=ns`, returning the parsed JSON; panics on a non-200 answer.
pub fn query_json(socket: &Path, db: &str, q: &str) -> serde_json::Value {
    let a = request(
        socket,
        "GET",
        &format!(
            "/query?db={}&epoch=ns&q={}",
            percent_encode(db),
            percent_encode(q)
        ),
        b"",
    );
    assert_eq!(a.status, 200, "query {q:?} failed: {}", a.body);
    a.json()
}

/// The value of the `/metrics` sample whose line starts with `name` (labels included, e.g.
/// `strata_queries_total{path="pool"}`); panics, showing the text, if there is none.
pub fn metric(socket: &Path, name: &str) -> u64 {
    let text = request(socket, "GET", "/metrics", b"").body;
    let line = text
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// The single value of a one-row, one-value-column answer (`SELECT count(x) ...`).
pub fn scalar(v: &serde_json::Value) -> serde_json::Value {
    v["results"][0]["series"][0]["values"][0][1].clone()
}

/// A running daemon.
pub struct Daemon {
    pub child: Child,
    pub socket: PathBuf,
    pub data_dir: PathBuf,
}

impl Daemon {
    /// Start `strata serve` on `data_dir` with a socket inside `dir`, plus extra flags; wait
    /// until `/ping` answers.
    pub fn start(data_dir: &Path, socket: &Path, extra: &[&str]) -> Daemon {
        Daemon::start_with_env(data_dir, socket, extra, &[])
    }

    /// [`Daemon::start`] with extra environment variables (`STRATA_*` knobs, testing aids).
    pub fn start_with_env(
        data_dir: &Path,
        socket: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_strata"))
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--socket")
            .arg(socket)
            .args(extra)
            .envs(env.iter().copied())
            .env("STRATA_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start strata");
        let mut d = Daemon {
            child,
            socket: socket.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
        };
        d.wait_ready();
        d
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("strata exited during start-up: {st}");
            }
            if UnixStream::connect(&self.socket).is_ok()
                && request(&self.socket, "GET", "/ping", b"").status == 204
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "strata did not start within 60 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let st = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -TERM failed");
        self.child.wait().expect("wait for strata")
    }

    /// Send signal `sig` (`"TERM"`, `"HUP"`, `"INT"`) to the daemon.
    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -{sig} failed");
    }

    /// Wait at most `within` for the daemon to exit: its exit status, or `None` if it still runs.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(st) = self.child.try_wait().expect("wait for strata") {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll `cond` every 20 ms until it holds; panic naming `what` after 60 s.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after 60 s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The rows of `SHOW QUERIES` (`[qid, query, database, duration, status]`), checking the
/// InfluxDB 1.x shape of the answer on the way.
pub fn show_queries(socket: &Path) -> Vec<Vec<serde_json::Value>> {
    let a = query(socket, "", "SHOW QUERIES");
    assert_eq!(a.status, 200, "SHOW QUERIES: {}", a.body);
    let v = a.json();
    let s = &v["results"][0]["series"][0];
    assert_eq!(
        s["columns"],
        serde_json::json!(["qid", "query", "database", "duration", "status"]),
        "{v}"
    );
    s["values"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r.as_array().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// The `SHOW QUERIES` row of the query whose text is `q`, if listed.
pub fn listed(socket: &Path, q: &str) -> Option<Vec<serde_json::Value>> {
    show_queries(socket).into_iter().find(|r| r[1] == q)
}

/// Run the `strata` binary with `args` (e.g. `["check", DATA_DIR]`) and return its output.
pub fn strata(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env("STRATA_LOG", "warn")
        .output()
        .expect("run strata")
}

/// Every file under `dir` but `LOCK`, with its bytes, by path (to prove nothing changed).
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else if e.file_name() != "LOCK" {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The first entry of `dir` whose name starts with `prefix`.
pub fn entry_starting(dir: &Path, prefix: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
}

/// The manifest of database `db` in `data_dir` (`DB/MANIFEST-NNNNNN`).
pub fn manifest_of(data_dir: &Path, db: &str) -> PathBuf {
    entry_starting(&data_dir.join(db), "MANIFEST-").expect("a manifest")
}

/// The table files of database `db` in `data_dir` (`DB/sst/*.sst`), by name.
pub fn table_files(data_dir: &Path, db: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data_dir.join(db).join("sst"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "sst"));
    v.sort();
    v
}

/// The table of `db` holding a series whose key contains `needle` (e.g. `"host=a"`).
pub fn table_with(data_dir: &Path, db: &str, needle: &str) -> PathBuf {
    table_files(data_dir, db)
        .into_iter()
        .find(|p| {
            strata::sstable::Table::open(p)
                .map(|t| t.series().any(|(_, key)| key.contains(needle)))
                .unwrap_or(false)
        })
        .unwrap_or_else(|| panic!("no table of {db} holds {needle}"))
}

/// Flip one byte in the middle of the first data block of the table at `path` (its checksum
/// no longer matches: a query or compaction reading the block gets `Error::Corrupt`).
pub fn corrupt_a_block(path: &Path) {
    let t = strata::sstable::Table::open(path).expect("open table");
    let (series, _) = t.series().next().expect("a series");
    let (field, _) = t.fields(series).next().expect("a field");
    let b = t.blocks(series, field)[0].clone();
    drop(t);
    let mut bytes = std::fs::read(path).unwrap();
    bytes[(b.offset + u64::from(b.len) / 2) as usize] ^= 0x5a;
    std::fs::write(path, bytes).unwrap();
}

/// `GET /health`: (HTTP status, the JSON body's `status`, its `message`).
pub fn health(socket: &Path) -> (u16, String, String) {
    let a = request(socket, "GET", "/health", b"");
    let v = a.json();
    (
        a.status,
        v["status"].as_str().unwrap_or_default().to_string(),
        v["message"].as_str().unwrap_or_default().to_string(),
    )
}

/// POST `/query?db=DB` with `q` in an `application/x-www-form-urlencoded` body (as clients send
/// long queries).
pub fn query_form(socket: &Path, db: &str, q: &str) -> Answer {
    let body = format!("q={}", percent_encode(q));
    request_with(
        socket,
        "POST",
        &format!("/query?db={}", percent_encode(db)),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
}

/// The daemon's peak resident memory (VmHWM) in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Run the `strata` binary with `args` in `cwd`, `stdin` piped in; returns its output.
pub fn strata_in(
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &[u8],
) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(cwd)
        .env("STRATA_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run strata");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait for strata")
}

/// Standard output and error of a run, as text.
pub fn texts(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// How a command-line test reaches the data: a daemon's socket or the directory embedded.
pub enum Via {
    Daemon(Daemon),
    Embedded(PathBuf),
}

impl Via {
    /// A data directory `dir/data`, served by a daemon on `dir/s.sock` if `daemon`.
    pub fn new(dir: &Path, daemon: bool) -> Via {
        let data = dir.join("data");
        if daemon {
            Via::Daemon(Daemon::start(&data, &dir.join("s.sock"), &[]))
        } else {
            Via::Embedded(data)
        }
    }

    /// The flags that reach it (`--socket S` or `--data-dir D`).
    pub fn flags(&self) -> Vec<String> {
        match self {
            Via::Daemon(d) => vec!["--socket".into(), d.socket.display().to_string()],
            Via::Embedded(p) => vec!["--data-dir".into(), p.display().to_string()],
        }
    }

    /// Run `strata ARGS… FLAGS…` in `cwd`.
    pub fn run(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let flags = self.flags();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(flags.iter().map(String::as_str));
        strata_in(cwd, &all, env, b"")
    }

    /// `strata query --format json --precision ns Q --db DB`: the JSON answer (panics on failure).
    pub fn query_json(&self, cwd: &Path, db: &str, q: &str) -> serde_json::Value {
        let out = self.run(
            cwd,
            &[
                "query",
                "--db",
                db,
                "--format",
                "json",
                "--precision",
                "ns",
                q,
            ],
            &[],
        );
        let (stdout, stderr) = texts(&out);
        assert!(out.status.success(), "query {q:?} failed: {stderr}");
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
    }
}

/// A TCP port free on loopback now (bound, then released, for a child to bind).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}
