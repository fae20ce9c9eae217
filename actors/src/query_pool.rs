//! The query pool: a bounded queue, a fixed set of worker loops, and permits.
//!
//! * [`QueryPool::submit`] never blocks: a full queue is [`Busy`] (the daemon answers 503).
//! * A [`Query`] is a list of tasks, `FnOnce(&CancelToken) -> Result<T, E>`, where the caller's
//!   error type `E` can say why the pool stopped a task (`E: From<Stopped>`). It is queued as
//!   up to `parallelism` runner jobs; each runner takes the query's next task until none is left,
//!   so at most `parallelism` tasks of one query run at once.
//! * A task runs only while its worker holds one of `max_concurrent` permits. The permit is an
//!   RAII guard, so it is returned on success, error, cancel, deadline and panic (workers run
//!   tasks under `catch_unwind`; a panic becomes the query's error).
//! * [`QueryPool::try_inline`] hands a caller a permit to run a small query on its own thread
//!   (no hand-off to a worker and back) when one is free and nothing is queued; it counts
//!   against `max_concurrent` like a worker's.
//! * Every task of a query shares one [`CancelToken`]: [`Handle::cancel`], dropping the
//!   [`Handle`] (client gone), the deadline and the first failing task all trip it. Tasks check it
//!   cooperatively; workers check it before starting a task, so queued tasks of a cancelled query
//!   never run. Under loom there is no clock: the deadline is modelled by [`Handle::expire`].
//!
//! The pool is generic over its mailbox family: flume in production
//! (`QueryPool<FlumeMailbox>`), the facade mailbox under loom.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use crate::mailbox::{Mailbox, Receiver, Sender, TrySendError};
use crate::sync::atomic::{AtomicU8, Ordering};
use crate::sync::{self, thread, Arc, Condvar, Mutex};

/// Why the pool stopped a query (or one of its tasks) before it finished. A task's error type
/// converts from it (`E: From<Stopped>`), so it reaches the submitter typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// Stopped by [`Handle::cancel`] or by dropping its [`Handle`] (the client went away).
    Cancelled,
    /// The query ran past its deadline.
    DeadlineExceeded {
        /// The time it was given ([`Query::timeout`]); `None` when the deadline was modelled by
        /// [`CancelToken::expire`] on a token without one.
        timeout: Option<Duration>,
    },
    /// The pool shut down before the task ran.
    PoolStopped,
    /// A task panicked; the panic's message.
    Panicked(String),
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Cancelled => f.write_str("query cancelled"),
            Stopped::DeadlineExceeded { .. } => f.write_str("query deadline exceeded"),
            Stopped::PoolStopped => f.write_str("the query pool has stopped"),
            Stopped::Panicked(message) => write!(f, "query task panicked: {message}"),
        }
    }
}

impl std::error::Error for Stopped {}

const LIVE: u8 = 0;
const STATE_CANCELLED: u8 = 1;
const STATE_EXPIRED: u8 = 2;

/// The cancel signal shared by every task of one query.
#[derive(Clone)]
pub struct CancelToken {
    inner: Arc<TokenInner>,
}

struct TokenInner {
    state: AtomicU8,
    /// What the query was given, reported by [`Stopped::DeadlineExceeded`].
    timeout: Option<Duration>,
    #[cfg(not(strata_loom))]
    deadline: Option<std::time::Instant>,
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

impl CancelToken {
    /// A live token without a deadline.
    pub fn new() -> Self {
        CancelToken::with_timeout(None)
    }

    /// A live token that expires `timeout` from now (`None`: never). Under loom the timeout is
    /// ignored; call [`CancelToken::expire`] to model the deadline passing.
    pub fn with_timeout(timeout: Option<Duration>) -> Self {
        CancelToken {
            inner: Arc::new(TokenInner {
                state: AtomicU8::new(LIVE),
                timeout,
                #[cfg(not(strata_loom))]
                deadline: timeout.map(|t| std::time::Instant::now() + t),
            }),
        }
    }

    /// Cancel (no effect if already cancelled or expired: the first reason wins).
    pub fn cancel(&self) {
        self.trip(STATE_CANCELLED);
    }

    /// The deadline has passed.
    pub fn expire(&self) {
        self.trip(STATE_EXPIRED);
    }

    fn trip(&self, to: u8) {
        let _ = self
            .inner
            .state
            .compare_exchange(LIVE, to, Ordering::AcqRel, Ordering::Acquire);
    }

    /// `Err(reason)` once cancelled or past the deadline. Tasks call this between steps.
    pub fn check(&self) -> Result<(), Stopped> {
        match self.inner.state.load(Ordering::Acquire) {
            LIVE => {
                #[cfg(not(strata_loom))]
                if let Some(d) = self.inner.deadline {
                    if std::time::Instant::now() >= d {
                        self.expire();
                        return self.check();
                    }
                }
                Ok(())
            }
            STATE_CANCELLED => Err(Stopped::Cancelled),
            _ => Err(Stopped::DeadlineExceeded {
                timeout: self.inner.timeout,
            }),
        }
    }

    /// Whether the query has been cancelled or is past its deadline.
    pub fn is_cancelled(&self) -> bool {
        self.check().is_err()
    }
}

/// One task of a query.
pub type Task<T, E> = Box<dyn FnOnce(&CancelToken) -> Result<T, E> + Send + 'static>;

/// A query: its tasks, how many may run at once, and its deadline.
pub struct Query<T, E> {
    tasks: Vec<Task<T, E>>,
    parallelism: usize,
    timeout: Option<Duration>,
}

impl<T: Send + 'static, E: From<Stopped> + Send + 'static> Query<T, E> {
    /// An empty query running at most `parallelism` (at least 1) tasks at once.
    pub fn new(parallelism: usize) -> Self {
        Query {
            tasks: Vec::new(),
            parallelism: parallelism.max(1),
            timeout: None,
        }
    }

    /// Add a task; it sees the query's [`CancelToken`].
    pub fn task(
        mut self,
        task: impl FnOnce(&CancelToken) -> Result<T, E> + Send + 'static,
    ) -> Self {
        self.tasks.push(Box::new(task));
        self
    }

    /// Fail with [`Stopped::DeadlineExceeded`] once `timeout` has passed since submission.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }
}

/// The queue is full (or the pool is shutting down): try again later (HTTP 503).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the query queue is full")
    }
}

impl std::error::Error for Busy {}

// ---------------------------------------------------------------------------------------------
// permits

struct Permits {
    available: Mutex<usize>,
    freed: Condvar,
}

/// One running task's permit; returned to the pool when dropped.
struct Permit {
    permits: Arc<Permits>,
}

impl Permits {
    fn acquire(this: &Arc<Self>) -> Permit {
        let mut n = sync::lock(&this.available);
        while *n == 0 {
            n = sync::wait(&this.freed, n);
        }
        *n -= 1;
        drop(n);
        Permit {
            permits: this.clone(),
        }
    }

    /// A permit if one is free now; never waits.
    fn try_acquire(this: &Arc<Self>) -> Option<Permit> {
        #[cfg_attr(strata_loom_mutant = "inline_without_permit", allow(unused_mut))]
        let mut n = sync::lock(&this.available);
        // Planted bug: an inline run takes no permit, so it runs beside `max_concurrent` others
        // (and hands one more back when it ends).
        #[cfg(not(strata_loom_mutant = "inline_without_permit"))]
        {
            if *n == 0 {
                return None;
            }
            *n -= 1;
        }
        drop(n);
        Some(Permit {
            permits: this.clone(),
        })
    }

    fn release(&self) {
        *sync::lock(&self.available) += 1;
        self.freed.notify_one();
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.permits.release();
    }
}

// ---------------------------------------------------------------------------------------------
// queries in flight

struct QueryState<T, E> {
    pending: VecDeque<(usize, Task<T, E>)>,
    results: Vec<Option<T>>,
    /// The first failure (a task's error, or the cancel/deadline reason of a skipped task).
    error: Option<E>,
    /// Tasks not finished yet (pending or running).
    outstanding: usize,
    /// Runner jobs alive (queued or running).
    runners: usize,
}

struct QueryShared<T, E> {
    token: CancelToken,
    state: Mutex<QueryState<T, E>>,
    done: Condvar,
}

impl<T, E> QueryShared<T, E> {
    fn finish(&self, idx: usize, result: Result<T, E>) {
        let mut st = sync::lock(&self.state);
        let failed = match result {
            Ok(v) => {
                st.results[idx] = Some(v);
                false
            }
            Err(e) => {
                if st.error.is_none() {
                    st.error = Some(e);
                }
                true
            }
        };
        st.outstanding -= 1;
        let all_done = st.outstanding == 0;
        drop(st);
        if failed {
            // The query has failed: stop its other tasks.
            self.token.cancel();
        }
        if all_done {
            self.done.notify_all();
        }
    }
}

/// A queued unit of work of the pool (opaque; it only exists to name the mailbox type).
pub struct Job(Box<dyn Runnable>);

trait Runnable: Send {
    fn run(self: Box<Self>, permits: &Arc<Permits>);
    /// Take back a runner that was never queued: uncount it without failing the query.
    fn retract(self: Box<Self>);
}

/// Runs tasks of one query until none is left. Dropped without finishing (pool stopped, or
/// never queued), it fails the tasks no other runner will take, so `wait` never hangs.
struct Runner<T, E: From<Stopped>> {
    query: Arc<QueryShared<T, E>>,
    /// The token the tasks of this runner see: the query's own.
    token: CancelToken,
    /// Whether this runner was counted in `QueryState::runners`.
    counted: bool,
}

impl<T: Send + 'static, E: From<Stopped> + Send + 'static> Runnable for Runner<T, E> {
    fn run(self: Box<Self>, permits: &Arc<Permits>) {
        loop {
            let next = sync::lock(&self.query.state).pending.pop_front();
            let Some((idx, task)) = next else { break };
            let result = run_task(task, &self.token, permits);
            self.query.finish(idx, result);
        }
    }

    fn retract(self: Box<Self>) {
        let mut me = *self;
        if me.counted {
            me.counted = false;
            sync::lock(&me.query.state).runners -= 1;
        }
    }
}

fn run_task<T, E: From<Stopped>>(
    task: Task<T, E>,
    token: &CancelToken,
    permits: &Arc<Permits>,
) -> Result<T, E> {
    // A cancelled query's queued tasks are dropped unrun, without taking a permit.
    token.check()?;
    let permit = Permits::acquire(permits);
    // Waiting for the permit may have taken a while.
    token.check()?;
    let (result, panicked) = run_caught(task, token);
    // Planted bug: a panicking task's permit is never returned.
    #[cfg(strata_loom_mutant = "permit_leak_on_panic")]
    if panicked {
        std::mem::forget(permit);
        return result;
    }
    // Planted bug: a failed task returns its permit twice (once by hand, once by the guard).
    #[cfg(strata_loom_mutant = "permit_double_release")]
    if result.is_err() {
        permits.release();
    }
    let _ = panicked;
    drop(permit);
    result
}

/// Run `task`, turning a panic into the task's error; also says whether it panicked.
fn run_caught<T, E: From<Stopped>>(
    task: impl FnOnce(&CancelToken) -> Result<T, E>,
    token: &CancelToken,
) -> (Result<T, E>, bool) {
    match catch_unwind(AssertUnwindSafe(|| task(token))) {
        Ok(r) => (r, false),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_string());
            (Err(Stopped::Panicked(message).into()), true)
        }
    }
}

/// A permit taken on the caller's own thread by [`QueryPool::try_inline`]: the caller runs one
/// small query itself instead of handing it to a worker and waiting to be woken. It counts
/// against `max_concurrent` like a worker's permit, so inline runs and worker tasks together
/// never exceed it; it is returned when [`InlinePermit::run`] returns (or when dropped unused).
pub struct InlinePermit {
    permit: Permit,
}

impl InlinePermit {
    /// Run `task` here under this permit, as a worker would: not at all if `token` has already
    /// tripped, and a panic becomes the error. The permit is returned before this returns.
    pub fn run<T, E: From<Stopped>>(
        self,
        token: &CancelToken,
        task: impl FnOnce(&CancelToken) -> Result<T, E>,
    ) -> Result<T, E> {
        token.check()?;
        let (result, _panicked) = run_caught(task, token);
        drop(self.permit);
        result
    }
}

impl<T, E: From<Stopped>> Drop for Runner<T, E> {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let mut st = sync::lock(&self.query.state);
        st.runners -= 1;
        if st.runners > 0 || st.pending.is_empty() {
            return;
        }
        let left = st.pending.len();
        st.pending.clear();
        if st.error.is_none() {
            st.error = Some(Stopped::PoolStopped.into());
        }
        st.outstanding -= left;
        let all_done = st.outstanding == 0;
        drop(st);
        if all_done {
            self.query.done.notify_all();
        }
    }
}

/// The submitter's side of a query.
pub struct Handle<T, E> {
    query: Arc<QueryShared<T, E>>,
}

impl<T, E> Handle<T, E> {
    /// Cancel the query: tasks not started never run, running tasks see it at their next check.
    pub fn cancel(&self) {
        self.query.token.cancel();
    }

    /// The deadline passed (what a timer does; under loom, the model's stand-in for the clock).
    pub fn expire(&self) {
        self.query.token.expire();
    }

    /// The query's token.
    pub fn token(&self) -> &CancelToken {
        &self.query.token
    }

    /// Whether every task has finished.
    pub fn is_done(&self) -> bool {
        sync::lock(&self.query.state).outstanding == 0
    }

    /// Wait for every task; the results in task order, or the query's first error.
    pub fn wait(self) -> Result<Vec<T>, E> {
        let mut st = sync::lock(&self.query.state);
        while st.outstanding > 0 {
            st = sync::wait(&self.query.done, st);
        }
        if let Some(e) = st.error.take() {
            return Err(e);
        }
        Ok(st.results.iter_mut().filter_map(Option::take).collect())
    }
}

impl<T, E> Drop for Handle<T, E> {
    /// Nobody will read the result (the client went away): stop the query.
    fn drop(&mut self) {
        self.query.token.cancel();
    }
}

// ---------------------------------------------------------------------------------------------
// the pool

/// A fixed set of workers on one bounded queue, with `max_concurrent` permits.
pub struct QueryPool<M: Mailbox> {
    queue: Option<M::Sender<Job>>,
    workers: Vec<thread::JoinHandle<()>>,
    permits: Arc<Permits>,
    max_concurrent: usize,
}

impl<M: Mailbox> QueryPool<M> {
    /// `workers` worker loops (at least 1) taking jobs from a queue of `queue_depth`, running at
    /// most `max_concurrent` (at least 1) tasks at once.
    pub fn new(workers: usize, queue_depth: usize, max_concurrent: usize) -> Self {
        let (tx, rx) = M::bounded::<Job>(queue_depth.max(1));
        let max_concurrent = max_concurrent.max(1);
        let permits = Arc::new(Permits {
            available: Mutex::new(max_concurrent),
            freed: Condvar::new(),
        });
        let workers = (0..workers.max(1))
            .map(|_| {
                let rx = rx.clone();
                let permits = permits.clone();
                thread::spawn(move || run_worker(rx, permits))
            })
            .collect();
        QueryPool {
            queue: Some(tx),
            workers,
            permits,
            max_concurrent,
        }
    }

    /// Queue a query. Never blocks: `Err(Busy)` if the queue has no room for it.
    pub fn submit<T: Send + 'static, E: From<Stopped> + Send + 'static>(
        &self,
        query: Query<T, E>,
    ) -> Result<Handle<T, E>, Busy> {
        let n = query.tasks.len();
        let token = CancelToken::with_timeout(query.timeout);
        let shared = Arc::new(QueryShared {
            token,
            state: Mutex::new(QueryState {
                pending: query.tasks.into_iter().enumerate().collect(),
                results: (0..n).map(|_| None).collect(),
                error: None,
                outstanding: n,
                runners: 0,
            }),
            done: Condvar::new(),
        });
        let handle = Handle {
            query: shared.clone(),
        };
        if n == 0 {
            return Ok(handle);
        }
        let queue = self.queue.as_ref().ok_or(Busy)?;
        let mut queued = 0;
        for _ in 0..query.parallelism.min(n) {
            // Count the runner before it becomes visible to a worker, so a fast worker cannot
            // finish it and take the count below zero.
            sync::lock(&shared.state).runners += 1;
            #[cfg(not(strata_loom_mutant = "cancel_not_propagated"))]
            let token = shared.token.clone();
            // Planted bug: the runner's tasks get a token of their own, which no cancel reaches.
            #[cfg(strata_loom_mutant = "cancel_not_propagated")]
            let token = CancelToken::new();
            let job = Job(Box::new(Runner {
                query: shared.clone(),
                token,
                counted: true,
            }));
            match queue.try_send(job) {
                Ok(()) => queued += 1,
                Err(TrySendError::Full(job) | TrySendError::Closed(job)) => {
                    // Not queued: fewer runners is fine, as long as one was queued.
                    job.0.retract();
                    break;
                }
            }
        }
        if queued == 0 {
            // Nothing will run it; the caller gets Busy and the handle is dropped (cancelling
            // the token nobody else holds).
            return Err(Busy);
        }
        Ok(handle)
    }

    /// A permit for running one query on the calling thread ([`InlinePermit::run`]), if one is
    /// free right now and no job waits in the queue (an inline run never overtakes queued
    /// queries). `None` otherwise, and once the pool is shutting down: submit it instead.
    /// Never blocks.
    pub fn try_inline(&self) -> Option<InlinePermit> {
        let queue = self.queue.as_ref()?;
        if !queue.is_empty() {
            return None;
        }
        Permits::try_acquire(&self.permits).map(|permit| InlinePermit { permit })
    }

    /// Permits free now (equals `max_concurrent` when the pool is idle).
    pub fn available_permits(&self) -> usize {
        *sync::lock(&self.permits.available)
    }

    /// Tasks that may run at once: the permits the pool was made with.
    pub fn max_concurrent(&self) -> usize {
        self.max_concurrent
    }

    /// Jobs waiting in the queue.
    pub fn queued(&self) -> usize {
        self.queue.as_ref().map_or(0, |q| q.len())
    }

    /// Stop taking queries, let the workers finish what is queued, and join them.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.queue = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl<M: Mailbox> Drop for QueryPool<M> {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run_worker<R: Receiver<Job>>(inbox: R, permits: Arc<Permits>) {
    while let Some(Job(runner)) = inbox.recv() {
        runner.run(&permits);
    }
}

#[cfg(all(test, not(strata_loom)))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::mailbox::{CrossbeamMailbox, FacadeMailbox, FlumeMailbox};
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;

    type Pool = QueryPool<FlumeMailbox>;
    /// The tests' queries fail only with the pool's own reasons, or a planted `Panicked`.
    type Q<T> = Query<T, Stopped>;

    fn quiet_panics() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let default = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let planted = info
                    .payload()
                    .downcast_ref::<&str>()
                    .is_some_and(|s| s.starts_with("planted"));
                if !planted {
                    default(info);
                }
            }));
        });
    }

    #[test]
    fn results_come_back_in_task_order() {
        let pool = Pool::new(3, 4, 2);
        let mut q = Q::new(3);
        for i in 0..10u32 {
            q = q.task(move |_| Ok(i * i));
        }
        let h = pool.submit(q).unwrap();
        assert_eq!(
            h.wait().unwrap(),
            (0..10).map(|i| i * i).collect::<Vec<_>>()
        );
        assert_eq!(pool.available_permits(), 2);
    }

    #[test]
    fn inline_permit_counts_against_max_concurrent_and_comes_back() {
        quiet_panics();
        let pool = Pool::new(1, 4, 2);
        let a = pool.try_inline().expect("two permits free");
        let b = pool.try_inline().expect("one permit free");
        assert_eq!(pool.available_permits(), 0);
        assert!(
            pool.try_inline().is_none(),
            "a third inline run took no permit"
        );
        // A pooled task waits for a permit while both are held inline.
        let (tx, rx) = mpsc::channel();
        let h = pool
            .submit(Q::new(1).task(move |_| {
                tx.send(()).unwrap();
                Ok(7u8)
            }))
            .unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(50)).is_err());
        let token = CancelToken::new();
        assert_eq!(a.run(&token, |_| Ok::<u8, Stopped>(1)), Ok(1));
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(h.wait(), Ok(vec![7]));
        // A panic is the run's error and its permit still comes back.
        let err = b
            .run(&token, |_| -> Result<u8, Stopped> {
                panic!("planted inline panic")
            })
            .unwrap_err();
        assert!(
            matches!(&err, Stopped::Panicked(m) if m.contains("planted")),
            "{err}"
        );
        assert_eq!(pool.available_permits(), 2);
        // A tripped token: the task never runs.
        token.cancel();
        let c = pool.try_inline().unwrap();
        assert_eq!(
            c.run(&token, |_| -> Result<u8, Stopped> {
                panic!("ran after cancel")
            }),
            Err(Stopped::Cancelled)
        );
        assert_eq!(pool.available_permits(), 2);
    }

    #[test]
    fn no_inline_run_overtakes_a_queued_query_or_outlives_the_pool() {
        let pool = Pool::new(1, 4, 1);
        let (started_tx, started_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let busy = pool
            .submit(Q::new(1).task(move |_| {
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                Ok(())
            }))
            .unwrap();
        started_rx.recv().unwrap();
        // The one worker is busy and holds the one permit; another query waits in the queue.
        let queued = pool.submit(Q::new(1).task(|_| Ok(()))).unwrap();
        assert_eq!(pool.queued(), 1);
        assert!(pool.try_inline().is_none());
        go_tx.send(()).unwrap();
        busy.wait().unwrap();
        queued.wait().unwrap();
        assert!(pool.try_inline().is_some(), "idle pool, free permit");
        let mut pool = pool;
        pool.stop();
        assert!(pool.try_inline().is_none(), "a stopped pool lent a permit");
    }

    #[test]
    fn empty_query_is_done_at_once() {
        let pool = Pool::new(1, 1, 1);
        assert_eq!(pool.submit(Q::<u8>::new(1)).unwrap().wait(), Ok(vec![]));
    }

    fn concurrency_bounded<M: Mailbox>() {
        let pool = QueryPool::<M>::new(4, 16, 2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let mut q = Q::new(4);
                for _ in 0..6 {
                    let (running, peak) = (running.clone(), peak.clone());
                    q = q.task(move |_| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(2));
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    });
                }
                pool.submit(q).unwrap()
            })
            .collect();
        for h in handles {
            h.wait().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 2, "more tasks than permits");
        assert_eq!(pool.available_permits(), 2);
    }

    #[test]
    fn concurrency_never_exceeds_permits() {
        concurrency_bounded::<FlumeMailbox>();
        concurrency_bounded::<CrossbeamMailbox>();
        concurrency_bounded::<FacadeMailbox>();
    }

    #[test]
    fn per_query_parallelism_is_capped() {
        let pool = Pool::new(4, 8, 4);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut q = Q::new(1);
        for _ in 0..5 {
            let (running, peak) = (running.clone(), peak.clone());
            q = q.task(move |_| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(2));
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            });
        }
        pool.submit(q).unwrap().wait().unwrap();
        assert_eq!(peak.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn first_error_wins_and_stops_siblings() {
        let pool = Pool::new(1, 4, 1);
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let q = Q::new(1)
            .task(|_| Err::<u8, _>(Stopped::Panicked("boom".to_string())))
            .task(move |_| {
                r.fetch_add(1, Ordering::SeqCst);
                Ok(1)
            });
        assert_eq!(
            pool.submit(q).unwrap().wait(),
            Err(Stopped::Panicked("boom".to_string()))
        );
        assert_eq!(
            ran.load(Ordering::SeqCst),
            0,
            "sibling ran after the failure"
        );
        assert_eq!(pool.available_permits(), 1);
    }

    #[test]
    fn panic_is_an_error_and_returns_the_permit() {
        quiet_panics();
        let pool = Pool::new(2, 4, 1);
        let q = Q::new(2)
            .task(|_| -> Result<u8, Stopped> { panic!("planted panic") })
            .task(|_| Ok(2));
        let err = pool.submit(q).unwrap().wait().unwrap_err();
        assert_eq!(err, Stopped::Panicked("planted panic".to_string()));
        assert_eq!(pool.available_permits(), 1);
        // The pool still works.
        assert_eq!(
            pool.submit(Q::new(1).task(|_| Ok(5))).unwrap().wait(),
            Ok(vec![5])
        );
    }

    /// A task that waits (checking its token) until told to go or cancelled.
    fn gated(
        started: mpsc::Sender<()>,
        go: Arc<std::sync::atomic::AtomicBool>,
    ) -> impl FnOnce(&CancelToken) -> Result<u8, Stopped> + Send + 'static {
        move |tok| {
            let _ = started.send(());
            while !go.load(Ordering::SeqCst) {
                tok.check()?;
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(1)
        }
    }

    #[test]
    fn cancel_reaches_running_and_queued_tasks() {
        let pool = Pool::new(2, 4, 2);
        let go = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let ran_late = Arc::new(AtomicUsize::new(0));
        let late = ran_late.clone();
        let q = Q::new(2)
            .task(gated(tx.clone(), go.clone()))
            .task(gated(tx, go.clone()))
            .task(move |_| {
                late.fetch_add(1, Ordering::SeqCst);
                Ok(3)
            });
        let h = pool.submit(q).unwrap();
        rx.recv().unwrap();
        rx.recv().unwrap();
        h.cancel();
        assert_eq!(h.wait(), Err(Stopped::Cancelled));
        assert_eq!(ran_late.load(Ordering::SeqCst), 0);
        assert_eq!(pool.available_permits(), 2);
    }

    #[test]
    fn dropping_the_handle_cancels() {
        let pool = Pool::new(1, 4, 1);
        let go = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let h = pool.submit(Q::new(1).task(gated(tx, go))).unwrap();
        rx.recv().unwrap();
        drop(h);
        pool.shutdown(); // joins: would hang if the task never saw the cancel
    }

    #[test]
    fn deadline_stops_the_query() {
        let pool = Pool::new(1, 4, 1);
        let go = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (tx, _rx) = mpsc::channel();
        let q = Q::new(1)
            .task(gated(tx, go))
            .timeout(Some(Duration::from_millis(20)));
        assert_eq!(
            pool.submit(q).unwrap().wait(),
            Err(Stopped::DeadlineExceeded {
                timeout: Some(Duration::from_millis(20))
            })
        );
        assert_eq!(pool.available_permits(), 1);
    }

    #[test]
    fn full_queue_is_busy() {
        let pool = Pool::new(1, 1, 1);
        let go = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let a = pool.submit(Q::new(1).task(gated(tx, go.clone()))).unwrap();
        rx.recv().unwrap(); // the only worker is busy with `a`
        let b = pool.submit(Q::new(1).task(|_| Ok(2))).unwrap(); // fills the queue
        assert_eq!(pool.queued(), 1);
        assert!(matches!(pool.submit(Q::new(1).task(|_| Ok(3))), Err(Busy)));
        go.store(true, Ordering::SeqCst);
        assert_eq!(a.wait(), Ok(vec![1]));
        assert_eq!(b.wait(), Ok(vec![2]));
    }

    #[test]
    fn partially_queued_query_still_completes() {
        let pool = Pool::new(1, 2, 1);
        let go = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let a = pool.submit(Q::new(1).task(gated(tx, go.clone()))).unwrap();
        rx.recv().unwrap();
        let filler = pool.submit(Q::new(1).task(|_| Ok(0))).unwrap();
        // Wants 3 runners but only 1 slot is left: fewer runners, same result.
        let mut q = Q::new(3);
        for i in 0..4u8 {
            q = q.task(move |_| Ok(i));
        }
        let b = pool.submit(q).unwrap();
        go.store(true, Ordering::SeqCst);
        assert_eq!(a.wait(), Ok(vec![1]));
        assert_eq!(filler.wait(), Ok(vec![0]));
        assert_eq!(b.wait(), Ok(vec![0, 1, 2, 3]));
    }

    #[test]
    fn shutdown_finishes_queued_queries() {
        let pool = Pool::new(1, 4, 1);
        let hs: Vec<_> = (0..3u8)
            .map(|i| pool.submit(Q::new(1).task(move |_| Ok(i))).unwrap())
            .collect();
        pool.shutdown();
        for (i, h) in hs.into_iter().enumerate() {
            assert_eq!(h.wait(), Ok(vec![i as u8]));
        }
    }
}
