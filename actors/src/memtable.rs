//! The memtable actor: the single writer of the active memtable.
//!
//! It applies committed batches (making them visible to readers), acknowledges each writer in
//! seqno order, and when the active memtable is over its size threshold freezes it (publishing a
//! version where it is frozen and a new one is active) and hands it to the flusher. The hand-off
//! is a send on the flusher's bounded mailbox: when `max_frozen_memtables` are already waiting,
//! this actor blocks, its own mailbox fills, the WAL writer blocks, and writers wait.

use crate::error::{ActorError, Cause, Done};
use crate::mailbox::{Receiver, Sender};
use crate::oneshot::OneshotSender;
use crate::wal_writer::{MemMsg, SeqNo};

/// The active memtable as the actor sees it.
pub trait MemStore<P> {
    /// A frozen memtable on its way to the flusher.
    type Frozen: Send + 'static;
    /// What applying a record fails with.
    type Error: Cause;
    /// Apply a durable record; readers see it when this returns.
    fn apply(&mut self, seqno: SeqNo, payload: &P) -> Result<(), Self::Error>;
    /// Whether the active memtable holds nothing (a flush then has nothing to freeze).
    fn is_empty(&self) -> bool;
    /// Whether the active memtable is over its size threshold.
    fn should_freeze(&self) -> bool;
    /// Freeze the active memtable and publish a version with a fresh active one.
    fn freeze(&mut self) -> Self::Frozen;
}

/// What the flusher's mailbox carries.
pub enum FlushMsg<F, E> {
    /// Write this frozen memtable as a table.
    Flush {
        /// The frozen memtable (still readable until its table is installed).
        frozen: F,
        /// Replied to once the table is installed.
        done: Option<OneshotSender<Done<E>>>,
    },
    /// Nothing to freeze: reply once every flush queued before it is done.
    Barrier(OneshotSender<Done<E>>),
}

fn hand_off<F: Send + 'static, E, S: Sender<FlushMsg<F, E>>>(flusher: &S, msg: FlushMsg<F, E>) {
    if let Err(closed) = flusher.send(msg) {
        match closed.0 {
            FlushMsg::Flush {
                done: Some(done), ..
            }
            | FlushMsg::Barrier(done) => {
                let _ = done.send(Err(ActorError::FlusherStopped));
            }
            FlushMsg::Flush { done: None, .. } => {}
        }
    }
}

/// Run the memtable actor until its mailbox closes; then freeze what is left and hand it to the
/// flusher, and drop the flusher's sender so the flusher drains and stops in turn.
pub fn run_memtable<P, M, R, S>(mut store: M, inbox: R, flusher: S)
where
    P: Send + 'static,
    M: MemStore<P>,
    R: Receiver<MemMsg<P, M::Error>>,
    S: Sender<FlushMsg<M::Frozen, M::Error>>,
{
    while let Some(msg) = inbox.recv() {
        match msg {
            MemMsg::Apply(batch) => {
                for committed in batch {
                    let applied = store
                        .apply(committed.seqno, &committed.payload)
                        .map(|()| committed.seqno)
                        .map_err(ActorError::Apply);
                    let _ = committed.reply.send(applied);
                }
                if store.should_freeze() {
                    let frozen = store.freeze();
                    hand_off(&flusher, FlushMsg::Flush { frozen, done: None });
                }
            }
            MemMsg::Flush(done) => {
                if store.is_empty() {
                    hand_off(&flusher, FlushMsg::Barrier(done));
                } else {
                    let frozen = store.freeze();
                    hand_off(
                        &flusher,
                        FlushMsg::Flush {
                            frozen,
                            done: Some(done),
                        },
                    );
                }
            }
        }
    }
    // Planted bug: stop without handing the last memtable on, so acknowledged writes that were
    // never frozen do not reach a table at shutdown.
    #[cfg(strata_loom_mutant = "shutdown_skip_drain")]
    return;
    #[allow(unreachable_code)]
    if !store.is_empty() {
        let frozen = store.freeze();
        hand_off(&flusher, FlushMsg::Flush { frozen, done: None });
    }
}
