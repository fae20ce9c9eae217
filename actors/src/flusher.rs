//! The flusher actor: frozen memtable → table file → version edit → WAL trim, in that order.
//!
//! The order is the crash-safety argument: the table is fsynced (file and directory) before the
//! manifest names it; the manifest edit is fsynced before the version drops the frozen memtable;
//! and only then may the WAL delete segments wholly at or below the flushed seqno.

use std::collections::VecDeque;
use std::time::Duration;

use crate::error::{ActorError, Cause};
use crate::health::Health;
use crate::mailbox::Receiver;
use crate::memtable::FlushMsg;
use crate::wal_writer::SeqNo;

/// The flusher's I/O.
pub trait FlushSink<F> {
    /// A written, fsynced table not yet in the catalog.
    type Table: Send + 'static;
    /// What a flush step fails with.
    type Error: Cause;
    /// Write `frozen` as a table (fsync file and directory). `None` if it holds nothing to write.
    fn write_frozen(&mut self, frozen: &F) -> Result<Option<Self::Table>, Self::Error>;
    /// Append and fsync the version edit, then publish a version with the table in C0 and
    /// without the frozen memtable. Returns the highest seqno now in tables.
    fn install(&mut self, frozen: &F, table: Option<Self::Table>) -> Result<SeqNo, Self::Error>;
    /// Let the WAL delete segments whose records are all at or below `flushed`.
    fn trim_wal(&mut self, flushed: SeqNo) -> Result<(), Self::Error>;
    /// After the `failures`-th failed attempt in a row, the last one failing with `error`: how
    /// long to wait before trying the same frozen memtable again, or `None` to give up (the
    /// failure will not pass, or the database is closing), which poisons the database. The
    /// default gives up at once.
    fn retry_after(&mut self, failures: u32, error: &Self::Error) -> Option<Duration> {
        let _ = (failures, error);
        None
    }
}

/// Frozen memtables a failed flush keeps for a later attempt while the flusher goes on taking
/// messages. Past it the flusher retries in place ([`FlushSink::retry_after`]), its mailbox
/// fills and writers wait: memory stays bounded.
pub const MAX_BACKLOG: usize = 1;

fn flush_one<F, K: FlushSink<F>>(sink: &mut K, frozen: &F) -> Result<(), K::Error> {
    let table = sink.write_frozen(frozen)?;
    let flushed = sink.install(frozen, table)?;
    sink.trim_wal(flushed)
}

/// Flush the backlog in order. A failure leaves the failed memtable (and those after it) in the
/// backlog: with at most `keep` of them it returns the reason at once (the next message tries
/// again); with more it waits and retries while the sink says so, else poisons the database.
fn drain<F, K: FlushSink<F>>(
    sink: &mut K,
    backlog: &mut VecDeque<F>,
    health: &Health<K::Error>,
    failures: &mut u32,
    keep: usize,
) -> Result<(), ActorError<K::Error>> {
    while let Some(frozen) = backlog.front() {
        match flush_one(sink, frozen) {
            Ok(()) => {
                backlog.pop_front();
                *failures = 0;
            }
            Err(error) => {
                *failures = failures.saturating_add(1);
                // Planted bug: a failed flush forgets its frozen memtable, so its points never
                // reach a table (and leave the version when a later flush installs).
                #[cfg(strata_loom_mutant = "flush_forget_failed")]
                {
                    backlog.pop_front();
                    return Err(ActorError::Flush(error));
                }
                if backlog.len() <= keep {
                    return Err(ActorError::Flush(error));
                }
                match sink.retry_after(*failures, &error) {
                    Some(wait) => std::thread::sleep(wait),
                    None => {
                        let reason = ActorError::Flush(error);
                        health.poison(reason.clone());
                        backlog.clear();
                        return Err(reason);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Run the flusher until its mailbox closes. A failed flush answers its request with the reason
/// and keeps the frozen memtable (still readable, its points still in the WAL) for the next
/// attempt: once the cause clears (space freed) flushing resumes without a restart. Only when
/// the sink gives up ([`FlushSink::retry_after`] is `None`) is the database poisoned; after
/// that every request is answered with the reason (the actor keeps draining so nothing
/// upstream hangs). When the mailbox closes, a backlog left is retried until the sink gives up.
pub fn run_flusher<F, K, R>(mut sink: K, inbox: R, health: Health<K::Error>)
where
    F: Send + 'static,
    K: FlushSink<F>,
    R: Receiver<FlushMsg<F, K::Error>>,
{
    let mut backlog: VecDeque<F> = VecDeque::new();
    let mut failures = 0u32;
    while let Some(msg) = inbox.recv() {
        match msg {
            FlushMsg::Flush { frozen, done } => {
                let flushed = health.check().and_then(|()| {
                    backlog.push_back(frozen);
                    drain(&mut sink, &mut backlog, &health, &mut failures, MAX_BACKLOG)
                });
                if let Some(done) = done {
                    let _ = done.send(flushed);
                }
            }
            FlushMsg::Barrier(done) => {
                let drained = health.check().and_then(|()| {
                    drain(&mut sink, &mut backlog, &health, &mut failures, MAX_BACKLOG)
                });
                let _ = done.send(drained);
            }
        }
    }
    if !backlog.is_empty() && health.check().is_ok() {
        let _ = drain(&mut sink, &mut backlog, &health, &mut failures, 0);
    }
}
