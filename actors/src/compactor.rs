//! The compactor actors: one per layer (C0–C7), each a loop over its own bounded mailbox.
//!
//! A compactor is woken by a [`CompactMsg::Nudge`] (the flusher nudges C0 after installing a
//! table; compactor `k` nudges `k + 1` after installing its output there) and then works until
//! its layer is within its limits: *plan* a job against the current version, *run* it (stream the
//! merge into new, fsynced files), *install* it (one manifest edit + one version publish). An
//! install that finds its inputs already replaced by a concurrent edit (another layer's
//! compactor, a delete rewrite) reports [`Installed::Conflict`]: the job's output is discarded
//! and the compactor plans again against the new version.
//!
//! Channels: layers hand work only *forward* (C0 → C1 → … → C7). Nudges are idempotent ("look at
//! your layer"), so they are sent with `try_send`: a full mailbox already holds a message that
//! will make the receiver re-plan, and a compactor never blocks on a nudge. A
//! [`CompactMsg::Barrier`] is forwarded with a blocking `send` (a forward edge: C7 never sends, so
//! the chain cannot deadlock) and answered by the last layer once every layer before it has
//! finished the work queued ahead of the barrier. A [`CompactMsg::Force`] travels the same way,
//! but each layer first moves *all* its tables on, whatever its limit (a full compaction: when
//! the last layer answers, every table that existed when the message was sent is in it).
//!
//! Backpressure: the [`StallGate`] lets the flusher wait while C0 holds too many tables; the C0
//! compactor opens it after each install and closes it for good when it stops, so a flusher
//! never waits for a compactor that is gone.

use crate::error::{ActorError, Cause, Done};
use crate::health::Health;
use crate::mailbox::{Receiver, Sender, TrySendError};
use crate::oneshot::OneshotSender;
use crate::sync::{self, Arc, Condvar, Mutex};

/// A message to a compactor.
pub enum CompactMsg<E> {
    /// Look at your layer: compact while it is over its limits.
    Nudge,
    /// Finish the work queued before this message, pass the barrier on to the next layer; the
    /// last layer answers it (with the database's health).
    Barrier(OneshotSender<Done<E>>),
    /// As [`CompactMsg::Barrier`], but first move every table of your layer into the next one,
    /// whatever the limit (a full compaction down to the last layer).
    Force(OneshotSender<Done<E>>),
}

/// What an install did.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Installed {
    /// The edit is durable and published.
    Done,
    /// A concurrent edit already replaced an input: nothing changed, plan again.
    Conflict,
}

/// A compactor's I/O, for one layer.
pub trait CompactIo {
    /// A planned job: its inputs, taken from one version.
    type Job;
    /// The files a job wrote (fsynced, not yet in the catalog).
    type Output;
    /// What a compaction step fails with.
    type Error: Cause;
    /// A job for this layer if it is over its limits (with `force`: if it holds any table and
    /// is not the last layer), against the current version.
    fn plan(&mut self, force: bool) -> Result<Option<Self::Job>, Self::Error>;
    /// Stream the merge into new files (fsync files and directory).
    fn run(&mut self, job: &Self::Job) -> Result<Self::Output, Self::Error>;
    /// Log the edit (fsynced) and publish it; old files go once no version references them.
    /// On [`Installed::Conflict`] the output must be discarded (its files deleted).
    fn install(&mut self, job: Self::Job, out: Self::Output) -> Result<Installed, Self::Error>;
    /// After the `failures`-th failed step in a row, the last one failing with `error`: how long
    /// to wait before planning again, or `None` to give up (the failure will not pass, or the
    /// database is closing), which poisons the database. The default gives up at once.
    fn retry_after(&mut self, failures: u32, error: &Self::Error) -> Option<std::time::Duration> {
        let _ = (failures, error);
        None
    }
}

/// Consecutive conflicts after which a compactor stops re-planning until its next message.
/// Every conflict means another editor made progress, so this only bounds a pathological loop.
pub const MAX_CONFLICTS: usize = 64;

/// Where the flusher waits while C0 is too far behind (see the module docs).
pub struct StallGate {
    /// (installs so far, closed)
    state: Mutex<(u64, bool)>,
    cv: Condvar,
}

impl Default for StallGate {
    fn default() -> Self {
        StallGate::new()
    }
}

impl StallGate {
    /// An open gate with no install reported yet.
    pub fn new() -> StallGate {
        StallGate {
            state: Mutex::new((0, false)),
            cv: Condvar::new(),
        }
    }

    /// Block while `too_many()` holds and the gate is open for waiting. `too_many` is evaluated
    /// afresh after every install the compactor reports, and a report between the check and the
    /// wait is never missed (the install count is read under the lock before the check).
    /// Returns how many times it had to wait.
    pub fn wait_while(&self, too_many: impl Fn() -> bool) -> usize {
        let mut waits = 0;
        let mut st = sync::lock(&self.state);
        loop {
            if st.1 {
                return waits;
            }
            let seen = st.0;
            drop(st);
            if !too_many() {
                return waits;
            }
            st = sync::lock(&self.state);
            #[cfg(not(strata_loom_mutant = "stall_lost_wakeup"))]
            while st.0 == seen && !st.1 {
                waits += 1;
                st = sync::wait(&self.cv, st);
            }
            // Planted bug: waits without checking whether an install happened since the check,
            // so an install between the check and the wait is missed and the flusher sleeps
            // forever.
            #[cfg(strata_loom_mutant = "stall_lost_wakeup")]
            {
                let _ = seen;
                if !st.1 {
                    waits += 1;
                    st = sync::wait(&self.cv, st);
                }
            }
        }
    }

    /// An install happened: waiters re-check.
    pub fn notify(&self) {
        sync::lock(&self.state).0 += 1;
        self.cv.notify_all();
    }

    /// The compactor is gone (stopped or poisoned): nobody waits any more.
    pub fn close(&self) {
        sync::lock(&self.state).1 = true;
        self.cv.notify_all();
    }
}

/// Closes the stall gate when the compactor's loop ends, however it ends (a panic included).
struct CloseOnDrop(Option<Arc<StallGate>>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some(gate) = &self.0 {
            gate.close();
        }
    }
}

/// What one round of [`work`] did.
struct Round<E> {
    /// Something was installed.
    installed: bool,
    /// The error of the step that failed, if one did (the catalog is unchanged by it).
    failed: Option<E>,
}

/// Work until the layer is within its limits (with `force`: until it is empty), or a step
/// fails. A failure the I/O will retry ([`CompactIo::retry_after`]) is returned; one it will not
/// poisons the database.
fn work<I: CompactIo>(
    io: &mut I,
    health: &Health<I::Error>,
    stall: Option<&StallGate>,
    force: bool,
    failures: &mut u32,
) -> Round<I::Error> {
    let mut round = Round {
        installed: false,
        failed: None,
    };
    let mut conflicts = 0;
    while health.check().is_ok() {
        let step = io.plan(force).and_then(|job| match job {
            None => Ok(None),
            Some(job) => {
                let out = io.run(&job)?;
                io.install(job, out).map(Some)
            }
        });
        match step {
            Ok(None) => {
                *failures = 0;
                break;
            }
            Ok(Some(Installed::Done)) => {
                conflicts = 0;
                *failures = 0;
                round.installed = true;
                if let Some(gate) = stall {
                    gate.notify();
                }
            }
            Ok(Some(Installed::Conflict)) => {
                conflicts += 1;
                if conflicts >= MAX_CONFLICTS {
                    break;
                }
            }
            Err(error) => {
                *failures = failures.saturating_add(1);
                #[cfg(not(strata_loom_mutant = "compaction_failure_poisons"))]
                if io.retry_after(*failures, &error).is_none() {
                    health.poison(ActorError::Compaction(error.clone()));
                }
                // Planted bug: every failure poisons, even one the I/O will retry (a full disk
                // then takes the database down until a restart).
                #[cfg(strata_loom_mutant = "compaction_failure_poisons")]
                health.poison(ActorError::Compaction(error.clone()));
                round.failed = Some(error);
                break;
            }
        }
    }
    round
}

/// Run one layer's compactor until its mailbox closes (the layer before it stopped: ordered
/// shutdown). `next` is the next layer's mailbox (`None` for the last layer). `stall` is the
/// flusher's [`StallGate`] (C0 only). After a failure the database is poisoned; the actor keeps
/// draining its mailbox, answering barriers with the reason.
pub fn run_compactor<I, R, S>(
    mut io: I,
    inbox: R,
    next: Option<S>,
    health: Health<I::Error>,
    stall: Option<Arc<StallGate>>,
) where
    I: CompactIo,
    R: Receiver<CompactMsg<I::Error>>,
    S: Sender<CompactMsg<I::Error>>,
{
    let _close = CloseOnDrop(stall.clone());
    // The last round's failure and the failures in a row: while a step keeps failing, the
    // compactor tries again after the wait the I/O asks for, and answers barriers with the
    // failure instead of holding them (refused, not absorbed).
    let mut failing: Option<I::Error> = None;
    let mut failures = 0u32;
    loop {
        let wait = failing
            .as_ref()
            .and_then(|error| io.retry_after(failures, error));
        if let (Some(error), None) = (&failing, wait) {
            // The I/O stopped retrying (the database is closing): give up, and let a flusher
            // waiting for this layer go.
            health.poison(ActorError::Compaction(error.clone()));
            if let Some(gate) = &stall {
                gate.close();
            }
        }
        let msg = match wait {
            None => inbox.recv(),
            Some(wait) => match inbox.recv_timeout(wait) {
                Ok(msg) => Some(msg),
                Err(crate::mailbox::TryRecvError::Empty) => Some(CompactMsg::Nudge),
                Err(crate::mailbox::TryRecvError::Closed) => None,
            },
        };
        let Some(msg) = msg else { break };
        #[cfg(not(strata_loom_mutant = "force_ignored"))]
        let force = matches!(msg, CompactMsg::Force(_));
        // Planted bug: a major compaction is passed on like a barrier, moving nothing.
        #[cfg(strata_loom_mutant = "force_ignored")]
        let force = false;
        let round = work(&mut io, &health, stall.as_deref(), force, &mut failures);
        let installed = round.installed;
        failing = round.failed;
        if health.is_poisoned() {
            if let Some(gate) = &stall {
                gate.close();
            }
        }
        if installed {
            if let Some(next_layer) = &next {
                // Idempotent: a full mailbox already holds a message that makes it re-plan.
                #[cfg(not(strata_loom_mutant = "compactor_drop_nudge"))]
                match next_layer.try_send(CompactMsg::Nudge) {
                    Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Closed(_)) => {}
                }
                // Planted bug: the next layer is never told about the tables it received.
                #[cfg(strata_loom_mutant = "compactor_drop_nudge")]
                let _ = next_layer;
            }
        }
        let (done, wrap): (_, fn(_) -> CompactMsg<I::Error>) = match msg {
            CompactMsg::Nudge => continue,
            CompactMsg::Barrier(done) => (done, CompactMsg::Barrier),
            CompactMsg::Force(done) => (done, CompactMsg::Force),
        };
        if let Some(error) = &failing {
            let _ = done.send(Err(ActorError::Compaction(error.clone())));
            continue;
        }
        match &next {
            Some(next_layer) => {
                if let Err(crate::mailbox::Closed(
                    CompactMsg::Barrier(done) | CompactMsg::Force(done),
                )) = next_layer.send(wrap(done))
                {
                    let _ = done.send(Err(ActorError::CompactionStopped));
                }
            }
            None => {
                let _ = done.send(health.check());
            }
        }
    }
}

#[cfg(all(test, not(strata_loom)))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::mailbox::{CrossbeamMailbox, Mailbox};
    use crate::oneshot;

    /// A layer holding `tables` whose limit is `limit`; a job moves one table to `next`.
    struct Layer {
        tables: Arc<Mutex<Vec<usize>>>,
        limit: usize,
        conflicts_left: usize,
    }

    impl CompactIo for Layer {
        type Job = ();
        type Output = ();
        type Error = String;
        fn plan(&mut self, force: bool) -> Result<Option<()>, String> {
            let limit = if force { 0 } else { self.limit };
            Ok((sync::lock(&self.tables).len() > limit).then_some(()))
        }
        fn run(&mut self, _: &()) -> Result<(), String> {
            Ok(())
        }
        fn install(&mut self, _: (), _: ()) -> Result<Installed, String> {
            if self.conflicts_left > 0 {
                self.conflicts_left -= 1;
                return Ok(Installed::Conflict);
            }
            sync::lock(&self.tables).pop();
            Ok(Installed::Done)
        }
    }

    #[test]
    fn works_until_within_limits_retries_conflicts_and_answers_barriers() {
        let tables = Arc::new(Mutex::new(vec![1, 2, 3, 4]));
        let io = Layer {
            tables: tables.clone(),
            limit: 1,
            conflicts_left: 2,
        };
        let (tx, rx) = CrossbeamMailbox::bounded::<CompactMsg<String>>(2);
        let health = Health::new();
        let gate = Arc::new(StallGate::new());
        let g2 = gate.clone();
        let h = std::thread::spawn(move || {
            run_compactor::<_, _, crossbeam_channel::Sender<CompactMsg<String>>>(
                io,
                rx,
                None,
                health,
                Some(g2),
            )
        });
        let (otx, orx) = oneshot::oneshot();
        tx.send(CompactMsg::Barrier(otx))
            .map_err(|_| "closed")
            .unwrap();
        assert_eq!(orx.recv(), Some(Ok(())));
        assert_eq!(sync::lock(&tables).len(), 1);
        // The gate saw three installs; a waiter whose condition holds returns once it is closed.
        drop(tx);
        h.join().unwrap();
        assert_eq!(
            gate.wait_while(|| true),
            0,
            "closed when the compactor stopped"
        );
    }

    #[test]
    fn force_empties_every_layer_before_the_last_answers() {
        let (a, b) = (
            Arc::new(Mutex::new(vec![1, 2, 3])),
            Arc::new(Mutex::new(vec![4, 5])),
        );
        let layer = |tables: &Arc<Mutex<Vec<usize>>>| Layer {
            tables: tables.clone(),
            limit: 5,
            conflicts_left: 1,
        };
        let (tx_a, rx_a) = CrossbeamMailbox::bounded::<CompactMsg<String>>(1);
        let (tx_b, rx_b) = CrossbeamMailbox::bounded::<CompactMsg<String>>(1);
        let (io_a, io_b) = (layer(&a), layer(&b));
        let ha =
            std::thread::spawn(move || run_compactor(io_a, rx_a, Some(tx_b), Health::new(), None));
        let hb = std::thread::spawn(move || {
            run_compactor::<_, _, crossbeam_channel::Sender<CompactMsg<String>>>(
                io_b,
                rx_b,
                None,
                Health::new(),
                None,
            )
        });
        // Within their limits: a barrier moves nothing.
        let (otx, orx) = oneshot::oneshot();
        tx_a.send(CompactMsg::Barrier(otx))
            .map_err(|_| "closed")
            .unwrap();
        assert_eq!(orx.recv(), Some(Ok(())));
        assert_eq!((sync::lock(&a).len(), sync::lock(&b).len()), (3, 2));
        let (otx, orx) = oneshot::oneshot();
        tx_a.send(CompactMsg::Force(otx))
            .map_err(|_| "closed")
            .unwrap();
        assert_eq!(orx.recv(), Some(Ok(())));
        assert_eq!((sync::lock(&a).len(), sync::lock(&b).len()), (0, 0));
        drop(tx_a);
        ha.join().unwrap();
        hb.join().unwrap();
    }

    #[test]
    fn stall_gate_wakes_a_waiter_on_install() {
        let gate = Arc::new(StallGate::new());
        let level = Arc::new(Mutex::new(3usize));
        let (g, l) = (gate.clone(), level.clone());
        let h = std::thread::spawn(move || g.wait_while(|| *sync::lock(&l) > 2));
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!h.is_finished(), "waits while over the bound");
        *sync::lock(&level) = 1;
        gate.notify();
        assert!(h.join().unwrap() >= 1);
    }
}
