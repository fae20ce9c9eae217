//! Serving until a signal, and the bounded shutdown that follows it.
//!
//! On SIGTERM, SIGINT or SIGHUP (or the embedder's trigger) the daemon, within
//! `shutdown_timeout` whatever clients or the compaction backlog do:
//!
//! 1. stops accepting (the listeners close and the socket file is removed) and asks every
//!    compactor to stop at its next safe point ([`Db::stop_compactions`]);
//! 2. lets the requests in hand finish (idle connections close at once) until the timeout less
//!    a reserve for step 3 (`min(5 s, timeout / 2)`), then closes the connections still open;
//! 3. closes the databases: the WAL writer, memtable and flusher drain (the memtables are
//!    flushed to tables), the compactors stop, the threads are joined. If that does not end by
//!    the timeout the process exits anyway: every acknowledged write is in the WAL and is
//!    replayed at the next start.
//!
//! Progress (what it waits for) is logged every second.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::Db;
use crate::error::{Error, IoContext, Result};

use super::listener::{Front, HttpLimits};
use super::{router, ServeOptions};

/// The default `shutdown_timeout`.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// The most of the shutdown timeout kept for closing the databases (flushing the memtables)
/// after the connections' grace.
const CLOSE_RESERVE: Duration = Duration::from_secs(5);

/// How often the shutdown logs what it waits for.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Bind the Unix socket. A path that exists and is not a socket (a regular file, a directory,
/// a symbolic link) is refused and left alone; a socket another process answers on is
/// refused; a stale socket file (nobody listening: left by a crash) is replaced.
pub fn bind_unix(path: &Path, mode: u32) -> Result<std::os::unix::net::UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            let what = if meta.is_dir() {
                "a directory"
            } else if meta.file_type().is_symlink() {
                "a symbolic link"
            } else if meta.is_file() {
                "a regular file"
            } else {
                "not a socket"
            };
            return Err(Error::Config(format!(
                "--socket {}: the path exists and is {what}, not a socket; strata does not \
                 replace it: remove it or choose another --socket",
                path.display()
            )));
        }
        Ok(_) => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(Error::Config(format!(
                    "socket {} is in use by a running process; stop it or choose another --socket",
                    path.display()
                )));
            }
            tracing::info!(socket = %path.display(), "removing stale socket file");
            std::fs::remove_file(path).ctx(|| format!("remove stale socket {}", path.display()))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::io(
                format!("inspect socket path {}", path.display()),
                e,
            ))
        }
    }
    let l = std::os::unix::net::UnixListener::bind(path)
        .ctx(|| format!("bind socket {}", path.display()))?;
    let file = SocketFile::new(path);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .ctx(|| format!("chmod socket {}", path.display()))?;
    l.set_nonblocking(true)
        .ctx(|| "set socket non-blocking".to_string())?;
    std::mem::forget(file);
    Ok(l)
}

/// The socket file this process bound: removed when dropped (every exit that is not a crash),
/// if it is still the same file.
struct SocketFile {
    path: PathBuf,
    id: Option<(u64, u64)>,
}

impl SocketFile {
    fn new(path: &Path) -> SocketFile {
        SocketFile {
            path: path.to_path_buf(),
            id: std::fs::symlink_metadata(path)
                .ok()
                .map(|m| (m.dev(), m.ino())),
        }
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let now = std::fs::symlink_metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        if now.is_some() && now == self.id {
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::warn!(socket = %self.path.display(), error = %e, "cannot remove the socket file");
            }
        }
    }
}

/// Serve until SIGTERM, SIGINT or SIGHUP, then shut down within `opts.shutdown_timeout` (see
/// the module docs).
pub async fn serve(db: Arc<Db>, opts: ServeOptions) -> Result<()> {
    serve_until(db, opts, shutdown_signal()).await
}

/// Serve until `shutdown` completes, then shut down as [`serve`] does on a signal: stop
/// accepting, remove the socket file, let requests finish, close the databases (the `Db` is
/// closed afterwards: writes and queries answer [`Error::Closed`]). Fails with
/// [`Error::ShutdownTimedOut`] if the databases did not close within the timeout.
pub async fn serve_until(
    db: Arc<Db>,
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    // A TCP address beyond loopback without authentication is refused before anything binds.
    opts.validate()?;
    let std_unix = bind_unix(&opts.socket, opts.socket_mode)?;
    let socket_file = SocketFile::new(&opts.socket);
    let unix = tokio::net::UnixListener::from_std(std_unix)
        .ctx(|| "register socket with tokio".to_string())?;
    let tcp = match &opts.tcp {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .ctx(|| format!("bind TCP {addr}"))?,
        ),
        None => None,
    };
    check_limits(&opts.limits);
    let front = Front::new(opts.limits.clone());
    let app = router(db.clone());
    let app = if opts.auth_enabled {
        crate::auth::http::protect(app, db.clone())
    } else {
        app
    };
    let mut accepting = vec![front.spawn_accept(unix, app.clone())];
    if let Some(tcp) = tcp {
        accepting.push(front.spawn_accept(tcp, app));
    }
    tracing::info!(socket = %opts.socket.display(), tcp = ?opts.tcp, limits = ?opts.limits, "strata is serving");
    println!("strata: listening on unix socket {}", opts.socket.display());

    shutdown.await;
    let started = Instant::now();
    let timeout = opts.shutdown_timeout.filter(|t| !t.is_zero());
    tracing::info!(
        ?timeout,
        "shutting down: no new connections; compaction stops at its next safe point"
    );
    front.drain();
    for a in accepting {
        let _ = a.await;
    }
    drop(socket_file);
    db.stop_compactions();

    let grace = timeout.map(|t| t.saturating_sub(CLOSE_RESERVE.min(t / 2)));
    drain_connections(&front, started, grace).await;
    close_databases(db, started, timeout).await
}

/// Warn about a cap the descriptor limit cannot honour.
fn check_limits(limits: &HttpLimits) {
    if let Some((soft, _)) = super::listener::nofile_limit() {
        if limits.max_connections as u64 >= soft.saturating_sub(64) {
            tracing::warn!(
                max_connections = limits.max_connections,
                open_file_limit = soft,
                "max_connections is close to or over the open-file limit (RLIMIT_NOFILE): the \
                 process may run out of descriptors before the cap refuses connections"
            );
        }
    }
}

/// Wait for the connections to finish their requests and close, at most until `grace` after
/// `started`; then close the rest.
async fn drain_connections(front: &Front, started: Instant, grace: Option<Duration>) {
    let mut logged = Instant::now();
    loop {
        let open = front.connections();
        if open == 0 {
            return;
        }
        let elapsed = started.elapsed();
        if grace.is_some_and(|g| elapsed >= g) {
            tracing::warn!(
                connections = open,
                requests_in_flight = front.in_flight(),
                "shutdown: closing the connections still open (their requests are abandoned)"
            );
            front.cut();
            // The connection tasks end at their next poll.
            let until = Instant::now() + Duration::from_secs(1);
            while front.connections() > 0 && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            return;
        }
        if logged.elapsed() >= PROGRESS_EVERY {
            logged = Instant::now();
            tracing::info!(
                connections = open,
                requests_in_flight = front.in_flight(),
                left = ?grace.map(|g| g.saturating_sub(elapsed)),
                "shutdown: waiting for requests in flight to finish"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Close the databases on a thread of their own, logging progress; give up at the deadline.
async fn close_databases(db: Arc<Db>, started: Instant, timeout: Option<Duration>) -> Result<()> {
    let current = Arc::new(Mutex::new(String::from("starting")));
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    {
        let (db, current) = (db.clone(), current.clone());
        std::thread::Builder::new()
            .name("strata-close".to_string())
            .spawn(move || {
                let r = db.close_shared(|name| {
                    *current.lock().unwrap_or_else(|p| p.into_inner()) = name.to_string();
                });
                let _ = tx.send(r);
            })
            .ctx(|| "start the closing thread".to_string())?;
    }
    let waiting_for = |db: &Db| {
        let name = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match db.database(&name) {
            Ok(d) => {
                let v = d.versions().current();
                format!(
                    "closing database {name}: flushing {} frozen and the active memtable ({} bytes), \
                     {} writes queued; compactors stopping",
                    v.frozen.len(),
                    v.active.bytes(),
                    d.pending_writes()
                )
            }
            Err(_) => format!("closing databases ({name})"),
        }
    };
    let deadline = timeout.map(|t| started + t);
    loop {
        let tick = Instant::now() + PROGRESS_EVERY;
        let wake = deadline.map_or(tick, |d| d.min(tick));
        tokio::select! {
            r = &mut rx => {
                let r = r.unwrap_or(Err(Error::Closed));
                match &r {
                    Ok(()) => tracing::info!(took = ?started.elapsed(), "shutdown complete"),
                    Err(e) => tracing::error!(error = %e, "closing the databases failed"),
                }
                return r;
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
        let what = waiting_for(&db);
        if let (Some(d), Some(t)) = (deadline, timeout) {
            if Instant::now() >= d {
                let e = Error::ShutdownTimedOut {
                    timeout: t,
                    waiting_for: what,
                };
                tracing::error!(error = %e, "shutdown timed out");
                return Err(e);
            }
        }
        tracing::info!(
            elapsed = ?started.elapsed(),
            "shutdown: {what}"
        );
    }
}

/// The first of SIGINT, SIGTERM and SIGHUP.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        tracing::warn!("cannot listen for SIGTERM/SIGHUP; only SIGINT stops strata");
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    let name = tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
        _ = hup.recv() => "SIGHUP",
    };
    tracing::info!("{name} received");
}
