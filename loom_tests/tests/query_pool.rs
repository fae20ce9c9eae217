//! The query pool (`query_pool::QueryPool` on facade mailboxes): concurrency never exceeds the
//! permits, permits come back on success, error, cancel, deadline and panic, and a cancel (or the
//! deadline) is observed by every task of the query.
//!
//! An inline run (`QueryPool::try_inline`, a small query run on the caller's thread) holds one
//! of the same permits: inline runs and worker tasks together never exceed them.
//!
//! Killed by: `permit_leak_on_panic`, `permit_double_release` (permits model),
//! `cancel_not_propagated` (cancel and deadline models), `inline_without_permit` (inline model).

use strata_actors::mailbox::FacadeMailbox;
use strata_actors::query_pool::{Query, QueryPool, Stopped};
use strata_actors::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use strata_actors::sync::{thread, Arc};
use strata_loom_tests::{model, quiet_planted_panics};

type Pool = QueryPool<FacadeMailbox>;

#[test]
fn permits_bound_concurrency_and_come_back_after_success_and_panic() {
    quiet_planted_panics();
    model(|| {
        const PERMITS: usize = 1;
        let pool = Pool::new(2, 2, PERMITS);
        let running = Arc::new(AtomicUsize::new(0));
        let task = |panics: bool| {
            let running = running.clone();
            move |_: &_| -> Result<u8, Stopped> {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(
                    now <= PERMITS,
                    "{now} tasks running with {PERMITS} permit(s)"
                );
                running.fetch_sub(1, Ordering::SeqCst);
                if panics {
                    panic!("planted panic in a query task");
                }
                Ok(1)
            }
        };
        let q = Query::new(2).task(task(false)).task(task(true));
        let err = pool
            .submit(q)
            .expect("queue has room")
            .wait()
            .expect_err("a task panicked");
        assert!(matches!(err, Stopped::Panicked(_)), "{err}");
        assert_eq!(
            pool.available_permits(),
            PERMITS,
            "permits not all returned"
        );
        pool.shutdown();
    });
}

/// Submit a two-task query, stop it with `stop`, and check that every task that runs after the
/// stop returned sees it, and that the permits come back.
fn stop_reaches_every_task(stop: fn(&strata_actors::Handle<u8, Stopped>), reason: Stopped) {
    model(move || {
        let pool = Pool::new(2, 2, 2);
        let stopped = Arc::new(AtomicBool::new(false));
        let task = || {
            let (stopped, reason) = (stopped.clone(), reason.clone());
            move |tok: &strata_actors::CancelToken| -> Result<u8, Stopped> {
                let after = stopped.load(Ordering::SeqCst);
                let r = tok.check();
                if after {
                    assert_eq!(r, Err(reason), "a task missed the stop");
                }
                r.map(|()| 1)
            }
        };
        let h = pool
            .submit(Query::new(2).task(task()).task(task()))
            .expect("queue has room");
        stop(&h);
        stopped.store(true, Ordering::SeqCst);
        match h.wait() {
            Ok(v) => assert_eq!(v, vec![1, 1]),
            Err(e) => assert_eq!(e, reason),
        }
        assert_eq!(pool.available_permits(), 2, "permits not all returned");
        pool.shutdown();
    });
}

#[test]
fn cancel_is_observed_by_every_task() {
    stop_reaches_every_task(|h| h.cancel(), Stopped::Cancelled);
}

#[test]
fn deadline_is_observed_by_every_task() {
    // The model's token has no timeout: only a clock would set one.
    stop_reaches_every_task(|h| h.expire(), Stopped::DeadlineExceeded { timeout: None });
}

#[test]
fn inline_runs_and_worker_tasks_share_the_permits() {
    model(|| {
        const PERMITS: usize = 1;
        let pool = Arc::new(Pool::new(1, 2, PERMITS));
        let running = Arc::new(AtomicUsize::new(0));
        let task = {
            let running = running.clone();
            move || {
                let running = running.clone();
                move |_: &strata_actors::CancelToken| -> Result<u8, Stopped> {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(
                        now <= PERMITS,
                        "{now} tasks running with {PERMITS} permit(s)"
                    );
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(1)
                }
            }
        };
        let inline = {
            let (pool, task) = (pool.clone(), task.clone());
            thread::spawn(move || {
                pool.try_inline()
                    .map(|p| p.run(&strata_actors::CancelToken::new(), task()))
            })
        };
        let pooled = pool
            .submit(Query::new(1).task(task()))
            .expect("queue has room")
            .wait();
        assert_eq!(pooled, Ok(vec![1]));
        let inline = inline.join().expect("inline thread");
        // Refused (permit taken or a job queued) or run: never an error.
        assert!(matches!(inline, None | Some(Ok(1))), "{inline:?}");
        assert_eq!(
            pool.available_permits(),
            PERMITS,
            "permits not all returned"
        );
    });
}
