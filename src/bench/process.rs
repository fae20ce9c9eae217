//! Child server processes of the bench (the strata daemon, influxd, victoria-metrics): start with
//! the log in a file, wait until ready, signal, wait for a clean exit, read peak RSS.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::http::Client;
use super::BenchError;

/// A server process; killed (SIGKILL) if dropped while still running.
pub struct Server {
    pub name: String,
    child: Child,
    log: PathBuf,
}

/// Find `program` on `PATH` (or take it as is if it contains a `/`).
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

impl Server {
    /// Start `cmd` with stdout and stderr going to `log`.
    pub fn start(name: &str, mut cmd: Command, log: &Path) -> Result<Server, BenchError> {
        let out = File::create(log)
            .map_err(|e| BenchError::io(format!("create {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| BenchError::io(format!("dup {}", log.display()), e))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| BenchError::io(format!("start {name} ({cmd:?})"), e))?;
        Ok(Server {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of the server's log, indented, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        let tail = &all[all.len().saturating_sub(lines)..];
        if tail.is_empty() {
            return format!("(its log {} is empty)", self.log.display());
        }
        format!(
            "last lines of {}:\n{}",
            self.log.display(),
            tail.iter()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    }

    /// An error about this server, with its log tail.
    pub fn failure(&self, what: impl std::fmt::Display) -> BenchError {
        BenchError::Server(format!("{}: {what}\n{}", self.name, self.log_tail(15)))
    }

    /// Poll `GET path` until it answers `status` (60 s at most; fails at once if the process
    /// exits).
    pub fn wait_ready(
        &mut self,
        client: &mut Client,
        path: &str,
        status: u16,
    ) -> Result<(), BenchError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Err(self.failure(format!("exited during start-up ({st})")));
            }
            match client.get(path) {
                Ok(r) if r.status == status => return Ok(()),
                _ if Instant::now() > deadline => {
                    return Err(self.failure(format!(
                        "did not answer {status} on GET {path} at {} within 60 s",
                        client.target()
                    )))
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Peak RSS (kB) so far.
    pub fn peak_rss_kb(&self) -> Option<u64> {
        super::stats::peak_rss_kb(self.pid())
    }

    /// Send `signal` (`TERM`, `INT`) and wait for the exit (at most `timeout`, then SIGKILL and
    /// an error). Returns the exit status and how long the shutdown took.
    pub fn stop(
        mut self,
        signal: &str,
        timeout: Duration,
    ) -> Result<(ExitStatus, Duration), BenchError> {
        let t0 = Instant::now();
        let st = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .map_err(|e| BenchError::io("run kill", e))?;
        if !st.success() {
            return Err(self.failure(format!("kill -{signal} {} failed ({st})", self.pid())));
        }
        loop {
            match self.child.try_wait() {
                Ok(Some(st)) => return Ok((st, t0.elapsed())),
                Ok(None) if t0.elapsed() > timeout => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err(self.failure(format!(
                        "did not exit within {timeout:?} of SIG{signal}; killed"
                    )));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(BenchError::io(format!("wait for {}", self.name), e)),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
