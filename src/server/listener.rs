//! The front door: accept loops on the Unix socket and on TCP, each connection served by
//! hyper's HTTP/1.1 server under a connection cap and three timeouts, and the drain at shutdown.
//!
//! - **Connection cap** (`max_connections`): a connection takes a permit when it is accepted,
//!   before anything of it is read; with none left it is answered a short `503` (a
//!   non-blocking write, never waited on) and closed at once. Nothing queues in the process:
//!   beyond the cap connections wait only in the kernel's listen backlog.
//! - **Header timeout**: a request's head (request line and headers) must arrive within it,
//!   counted from the accept for a connection's first request and from the first byte of the
//!   request after that (as Go's `ReadHeaderTimeout`, which InfluxDB 1.x serves with).
//! - **Idle timeout**: a keep-alive connection between requests is closed after it.
//! - **Body timeout**: a request's whole body must arrive within it, counted from the end of
//!   its head; past it the handler's read fails ([`BodyTimeout`]; `/write` answers 408) and
//!   the connection is closed.
//! - **Send timeout**: an answer being written must make progress: once the client stops
//!   taking bytes (a write that cannot go on), the connection is closed if none is taken
//!   within it. Every byte taken restarts it, so a slow reader of a big answer is not cut; one
//!   that stops reading gives its connection (and the answer it held) back.
//!
//! While a request is being handled the connection has no deadline of its own (the query and
//! write timeouts bound the work). Bytes written count as activity: the idle timeout runs from
//! the last of them, not from the moment the answer was handed to hyper.
//!
//! At shutdown ([`Front::drain`]) the accept loops stop (the listeners close), idle
//! connections close at once and the others after their request; [`Front::cut`] then drops
//! every connection still open (dropping its handler, which cancels its query).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::Router;
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Default header timeout.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default body timeout.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default keep-alive idle timeout.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default send timeout.
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// How finely bytes written move an idle connection's idle start (an idle timeout is seconds).
const IDLE_RESOLUTION: Duration = Duration::from_millis(100);
/// The connection cap when the descriptor limit allows it (see [`default_max_connections`]).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// The body of the answer to a connection over the cap.
const REFUSED_BODY: &str =
    r#"{"error":"too many open connections (max_connections); retry later, or reuse one"}"#;

/// The answer to a connection over the cap (written without waiting, then closed).
fn refused_answer() -> Vec<u8> {
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
         X-Influxdb-Version: {}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{REFUSED_BODY}",
        super::VERSION,
        REFUSED_BODY.len()
    )
    .into_bytes()
}

/// The HTTP limits of the daemon's listeners (Unix socket and TCP alike). A timeout of `None`
/// is no timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// A request's head must arrive within it (`--http-header-timeout-secs`).
    pub header_timeout: Option<Duration>,
    /// A request's body must arrive within it, from the end of the head
    /// (`--http-body-timeout-secs`).
    pub body_timeout: Option<Duration>,
    /// A keep-alive connection is closed after this long without a request
    /// (`--http-idle-timeout-secs`).
    pub idle_timeout: Option<Duration>,
    /// A connection whose answer the client stops taking is closed after this long without
    /// progress (`--http-send-timeout-secs`).
    pub send_timeout: Option<Duration>,
    /// Connections open at once, over every listener; more are refused (`--max-connections`).
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Some(DEFAULT_HEADER_TIMEOUT),
            body_timeout: Some(DEFAULT_BODY_TIMEOUT),
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            send_timeout: Some(DEFAULT_SEND_TIMEOUT),
            max_connections: default_max_connections(),
        }
    }
}

/// The process's open-file limit (soft, hard), if the platform says.
pub fn nofile_limit() -> Option<(u64, u64)> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only the struct it is given, which lives for the call.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0;
    // `rlim_t` is u64 on Linux but not everywhere.
    #[allow(clippy::unnecessary_cast)]
    let (soft, hard) = (r.rlim_cur as u64, r.rlim_max as u64);
    ok.then_some((soft, hard))
}

/// Raise the soft open-file limit to the hard one (as Go programs do at start, InfluxDB
/// included): connections, WAL segments and tables all take descriptors. Returns the soft
/// limit in force afterwards. Best effort.
pub fn raise_nofile_limit() -> Option<u64> {
    let (soft, hard) = nofile_limit()?;
    if soft < hard {
        let r = libc::rlimit {
            rlim_cur: hard as libc::rlim_t,
            rlim_max: hard as libc::rlim_t,
        };
        // SAFETY: setrlimit reads only the struct it is given, which lives for the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) } == 0 {
            tracing::debug!(from = soft, to = hard, "raised the open-file limit");
            return Some(hard);
        }
    }
    Some(soft)
}

/// [`DEFAULT_MAX_CONNECTIONS`], or half the soft open-file limit if that is lower, so that
/// connections alone never exhaust the descriptors the databases need.
pub fn default_max_connections() -> usize {
    let half = nofile_limit().map_or(u64::MAX, |(soft, _)| soft / 2);
    usize::try_from(half)
        .unwrap_or(usize::MAX)
        .clamp(1, DEFAULT_MAX_CONNECTIONS)
}

/// The error a request body's read fails with past the body timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?} (http_body_timeout)")]
pub struct BodyTimeout(pub Duration);

/// Whether `e` (or an error it wraps) is a [`BodyTimeout`].
pub fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.is::<BodyTimeout>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// What the connections are told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Serving,
    /// Finish the request in hand, take no other, close.
    Draining,
    /// Close now.
    Cut,
}

/// The listeners' shared state: the connection cap, the shutdown stage, counters.
pub struct Front {
    limits: HttpLimits,
    permits: Arc<Semaphore>,
    max: usize,
    stage: watch::Sender<Stage>,
    in_flight: Arc<AtomicUsize>,
    refused: AtomicU64,
    /// When the last refusal was logged (refusals are logged at most every 10 s).
    refusal_logged: Mutex<Option<Instant>>,
}

/// A listener the front door accepts from.
pub trait Accept: Send + 'static {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn accept_io(&self) -> impl Future<Output = io::Result<Self::Io>> + Send;
    /// Write `bytes` if the socket takes them now (never waits).
    fn try_write_now(io: &Self::Io, bytes: &[u8]);
}

impl Accept for tokio::net::UnixListener {
    type Io = tokio::net::UnixStream;
    async fn accept_io(&self) -> io::Result<Self::Io> {
        self.accept().await.map(|(s, _)| s)
    }
    fn try_write_now(io: &Self::Io, bytes: &[u8]) {
        let _ = io.try_write(bytes);
    }
}

impl Accept for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;
    async fn accept_io(&self) -> io::Result<Self::Io> {
        let (s, _) = self.accept().await?;
        let _ = s.set_nodelay(true);
        Ok(s)
    }
    fn try_write_now(io: &Self::Io, bytes: &[u8]) {
        let _ = io.try_write(bytes);
    }
}

impl Front {
    pub fn new(limits: HttpLimits) -> Arc<Front> {
        let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
        let (stage, _) = watch::channel(Stage::Serving);
        Arc::new(Front {
            limits,
            permits: Arc::new(Semaphore::new(max)),
            max,
            stage,
            in_flight: Arc::new(AtomicUsize::new(0)),
            refused: AtomicU64::new(0),
            refusal_logged: Mutex::new(None),
        })
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.max.saturating_sub(self.permits.available_permits())
    }

    /// Requests being handled now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Connections refused over the cap so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Stop accepting (the accept loops end and drop their listeners); connections finish the
    /// request in hand and close.
    pub fn drain(&self) {
        self.stage.send_replace(Stage::Draining);
    }

    /// Close every connection still open now.
    pub fn cut(&self) {
        self.stage.send_replace(Stage::Cut);
    }

    /// Accept from `listener` until [`Front::drain`], serving each connection with `app`.
    pub fn spawn_accept<L: Accept>(
        self: &Arc<Self>,
        listener: L,
        app: Router,
    ) -> tokio::task::JoinHandle<()> {
        let front = self.clone();
        tokio::spawn(async move { front.accept_loop(listener, app).await })
    }

    async fn accept_loop<L: Accept>(self: Arc<Self>, listener: L, app: Router) {
        let mut stage = self.stage.subscribe();
        loop {
            if *stage.borrow_and_update() != Stage::Serving {
                return;
            }
            let io = tokio::select! {
                r = listener.accept_io() => r,
                _ = stage.changed() => continue,
            };
            let io = match io {
                Ok(io) => io,
                Err(e) => {
                    // Out of descriptors (EMFILE/ENFILE) or a connection that died in the
                    // backlog: the listener stays; wait a little so a lack of descriptors
                    // does not spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                L::try_write_now(&io, &refused_answer());
                drop(io);
                self.note_refusal();
                continue;
            };
            let (front, app) = (self.clone(), app.clone());
            tokio::spawn(async move { front.serve_connection(io, app, permit).await });
        }
    }

    fn note_refusal(&self) {
        let n = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self
            .refusal_logged
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if last.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(10)) {
            *last = Some(now);
            tracing::warn!(
                max_connections = self.max,
                refused_so_far = n,
                "connection refused: max_connections reached"
            );
        }
    }

    async fn serve_connection<S>(self: Arc<Self>, io: S, app: Router, _permit: OwnedSemaphorePermit)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let act = Arc::new(Activity::new(&self.limits));
        let io = TokioIo::new(Watched {
            inner: io,
            act: act.clone(),
        });
        let body_timeout = self.limits.body_timeout;
        let (svc_act, in_flight) = (act.clone(), self.in_flight.clone());
        let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let guard = RequestGuard::new(svc_act.clone(), in_flight.clone());
            let req = req.map(|b| Body::new(TimedBody::new(b, body_timeout)));
            let mut app = app.clone();
            async move {
                let resp = match tower_service::Service::call(&mut app, req).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                };
                Ok::<_, Infallible>(resp.map(|inner| GuardedBody {
                    inner,
                    _guard: guard,
                }))
            }
        });
        let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, svc);
        tokio::pin!(conn);
        let mut stage = self.stage.subscribe();
        let mut draining = false;
        loop {
            match *stage.borrow_and_update() {
                Stage::Serving => {}
                Stage::Draining if !draining => {
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
                Stage::Draining => {}
                Stage::Cut => return,
            }
            let deadline = act.deadline();
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = sleep_until(deadline.map(|(at, _)| at)) => {
                    if let Some((at, what)) = act.deadline() {
                        if Instant::now() >= at {
                            tracing::debug!("closing a connection: {what} timeout");
                            return;
                        }
                    }
                }
                _ = act.changed.notified() => {}
                r = stage.changed() => {
                    if r.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Where a connection is between requests, for its deadline.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Accepted at this instant; its first request's head is awaited.
    Opened(Instant),
    /// Keep-alive, waiting for the next request since this instant.
    Idle(Instant),
    /// The first byte of a request's head came at this instant.
    Head(Instant),
    /// A request is being handled (its body has its own deadline).
    Busy,
}

struct Activity {
    phase: Mutex<Phase>,
    /// Since when a write has been waiting for the client to take bytes (none taken since):
    /// nanoseconds after `opened`, plus one; 0 when no write waits. One atomic, so every write
    /// reads it without a lock.
    stalled_since: AtomicU64,
    /// When the connection was accepted: what `stalled_since` counts from.
    opened: Instant,
    /// Told when the phase changes or a write stalls (the connection's deadline moves).
    changed: Notify,
    header: Option<Duration>,
    idle: Option<Duration>,
    send: Option<Duration>,
}

impl Activity {
    fn new(limits: &HttpLimits) -> Activity {
        let opened = Instant::now();
        Activity {
            phase: Mutex::new(Phase::Opened(opened)),
            stalled_since: AtomicU64::new(0),
            opened,
            changed: Notify::new(),
            header: limits.header_timeout,
            idle: limits.idle_timeout,
            send: limits.send_timeout,
        }
    }

    fn set(&self, f: impl FnOnce(Phase) -> Option<Phase>) {
        let mut p = self.phase.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(next) = f(*p) {
            *p = next;
            drop(p);
            self.changed.notify_one();
        }
    }

    /// Bytes came from the client.
    fn read_some(&self) {
        self.set(|p| match p {
            Phase::Idle(_) => Some(Phase::Head(Instant::now())),
            _ => None,
        });
    }

    /// The client took `n` bytes of what the connection writes: a stalled write goes on, and
    /// an idle connection's idle time starts again (its answer was still being sent).
    ///
    /// Cheap on the common path (every write of every answer): the stall is cleared only when
    /// one was noted, and the idle start moves (waking the connection's loop) at most every
    /// [`IDLE_RESOLUTION`].
    fn wrote(&self, n: usize) {
        if n == 0 {
            return;
        }
        if self.stalled_since.load(Ordering::Relaxed) != 0 {
            self.stalled_since.store(0, Ordering::Relaxed);
        }
        self.set(|p| match p {
            Phase::Idle(since) if since.elapsed() >= IDLE_RESOLUTION => {
                Some(Phase::Idle(Instant::now()))
            }
            _ => None,
        });
    }

    /// A write could not go on: the client is not taking bytes. Starts the send timeout,
    /// unless it already runs.
    fn write_stalled(&self) {
        let since = self.opened.elapsed().as_nanos();
        let since = u64::try_from(since)
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1);
        let started = self
            .stalled_since
            .compare_exchange(0, since, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok();
        if started {
            self.changed.notify_one();
        }
    }

    /// When the connection is closed if nothing happens, and which timeout that is.
    fn deadline(&self) -> Option<(Instant, &'static str)> {
        let phase = match *self.phase.lock().unwrap_or_else(|p| p.into_inner()) {
            Phase::Opened(t) | Phase::Head(t) => self.header.map(|d| (t + d, "header")),
            Phase::Idle(t) => self.idle.map(|d| (t + d, "idle")),
            Phase::Busy => None,
        };
        let stalled = match self.stalled_since.load(Ordering::Relaxed) {
            0 => None,
            since => Some(self.opened + Duration::from_nanos(since - 1)),
        };
        let send = stalled.and_then(|t| self.send.map(|d| (t + d, "send")));
        match (phase, send) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        }
    }
}

/// Marks a request in hand from its head until its answer is written (or dropped).
struct RequestGuard {
    act: Arc<Activity>,
    in_flight: Arc<AtomicUsize>,
}

impl RequestGuard {
    fn new(act: Arc<Activity>, in_flight: Arc<AtomicUsize>) -> RequestGuard {
        act.set(|_| Some(Phase::Busy));
        in_flight.fetch_add(1, Ordering::AcqRel);
        RequestGuard { act, in_flight }
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.act.set(|_| Some(Phase::Idle(Instant::now())));
    }
}

/// The connection's I/O, noting when bytes arrive.
struct Watched<S> {
    inner: S,
    act: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.act.read_some();
        }
        r
    }
}

impl<S> Watched<S> {
    /// Note what a write did: bytes taken, or a stall.
    fn note_write(&self, r: &Poll<io::Result<usize>>) {
        match r {
            Poll::Ready(Ok(n)) => self.act.wrote(*n),
            Poll::Pending => self.act.write_stalled(),
            Poll::Ready(Err(_)) => {}
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note_write(&r);
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note_write(&r);
        r
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A request body that fails with [`BodyTimeout`] once its deadline passes.
struct TimedBody {
    inner: Incoming,
    limit: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl TimedBody {
    fn new(inner: Incoming, limit: Option<Duration>) -> TimedBody {
        TimedBody {
            inner,
            limit: limit.unwrap_or_default(),
            deadline: limit.map(|d| Box::pin(tokio::time::sleep(d))),
        }
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let limit = self.limit;
        if self.deadline.as_ref().is_some_and(|d| d.is_elapsed()) {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout(limit)))));
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                self.deadline = None;
                Poll::Ready(None)
            }
            Poll::Ready(Some(r)) => Poll::Ready(Some(r.map_err(Into::into))),
            Poll::Pending => {
                let expired = self
                    .deadline
                    .as_mut()
                    .is_some_and(|d| d.as_mut().poll(cx).is_ready());
                if expired {
                    Poll::Ready(Some(Err(Box::new(BodyTimeout(limit)))))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that ends its request's [`RequestGuard`] when it is done with (written or
/// dropped).
struct GuardedBody {
    inner: Body,
    _guard: RequestGuard,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
