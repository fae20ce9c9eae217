//! The WAL writer actor: group commit.
//!
//! It blocks for one request, drains whatever else is already queued (up to `batch_max_bytes`),
//! appends all of it to the log, syncs once, and only then hands the batch to the memtable actor,
//! which applies it and acknowledges each writer. So no writer is ever acknowledged before the
//! sync that covers its record, and acknowledgements come in sequence-number order.

use crate::error::{ActorError, Cause, Done};
use crate::health::Health;
use crate::mailbox::{Receiver, Sender};
use crate::oneshot::{oneshot, OneshotReceiver, OneshotSender};
use crate::sync::atomic::{AtomicU8, Ordering};
use crate::sync::Arc;

/// Sequence number of a write: one per request, strictly increasing.
pub type SeqNo = u64;

/// The reply a writer waits for: its seqno once durable and applied, or why it failed.
pub type WriteReply<E> = Result<SeqNo, ActorError<E>>;

const PENDING: u8 = 0;
const TAKEN: u8 = 1;
const ABANDONED: u8 = 2;

/// One writer's request: a payload (one WAL record) and where to send the acknowledgement.
pub struct WriteRequest<P, E> {
    /// The record to append.
    pub payload: P,
    /// Approximate encoded size, used to bound a group commit.
    pub bytes: usize,
    claim: Arc<AtomicU8>,
    reply: OneshotSender<WriteReply<E>>,
}

/// The writer's side of a [`WriteRequest`].
pub struct WriteTicket<E> {
    claim: Arc<AtomicU8>,
    reply: OneshotReceiver<WriteReply<E>>,
}

/// Make a request and the ticket its writer waits on.
pub fn write_request<P, E>(payload: P, bytes: usize) -> (WriteRequest<P, E>, WriteTicket<E>) {
    let claim = Arc::new(AtomicU8::new(PENDING));
    let (tx, rx) = oneshot();
    (
        WriteRequest {
            payload,
            bytes,
            claim: claim.clone(),
            reply: tx,
        },
        WriteTicket { claim, reply: rx },
    )
}

impl<P, E> WriteRequest<P, E> {
    /// The WAL writer takes the request; false if its writer already gave up on it.
    fn take(&self) -> bool {
        self.claim
            .compare_exchange(PENDING, TAKEN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

impl<E> WriteTicket<E> {
    /// Give up on a request that is still queued. Returns true if it will never be written
    /// (the WAL writer had not taken it); false if it is already being committed, in which case
    /// the caller must wait for the reply.
    pub fn abandon(&self) -> bool {
        self.claim
            .compare_exchange(PENDING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Wait for the acknowledgement.
    pub fn wait(self) -> WriteReply<E> {
        self.reply.recv().unwrap_or(Err(ActorError::ShutDown))
    }

    /// Wait at most `timeout`; on timeout the ticket comes back so the caller can
    /// [`abandon`](WriteTicket::abandon) it or keep waiting.
    pub fn wait_timeout(
        self,
        timeout: std::time::Duration,
    ) -> Result<WriteReply<E>, WriteTicket<E>> {
        let claim = self.claim;
        match self.reply.recv_timeout(timeout) {
            Ok(reply) => Ok(reply.unwrap_or(Err(ActorError::ShutDown))),
            Err(reply) => Err(WriteTicket { claim, reply }),
        }
    }
}

/// What the WAL writer's mailbox carries.
pub enum WalMsg<P, E> {
    /// A writer's record, to append in the next group commit.
    Write(WriteRequest<P, E>),
    /// Freeze and flush everything acknowledged so far; reply when it is in a table.
    Flush(OneshotSender<Done<E>>),
}

/// A durable record on its way to the memtable.
pub struct Committed<P, E> {
    /// The record's sequence number.
    pub seqno: SeqNo,
    /// The record, durable in the log.
    pub payload: P,
    /// Where its writer waits: answered once the record is applied.
    pub reply: OneshotSender<WriteReply<E>>,
}

/// What the memtable actor's mailbox carries.
pub enum MemMsg<P, E> {
    /// Records already synced to the log, in seqno order.
    Apply(Vec<Committed<P, E>>),
    /// Freeze the active memtable (if it holds anything) and reply once it is in a table.
    Flush(OneshotSender<Done<E>>),
}

/// The log the WAL writer appends to (a real segmented file, or an in-memory fake under loom).
pub trait Log<P> {
    /// What appending or syncing fails with.
    type Error: Cause;
    /// Buffer one record; it is not durable until [`Log::sync`] returns Ok.
    fn append(&mut self, seqno: SeqNo, payload: &P) -> Result<(), Self::Error>;
    /// Make every appended record durable.
    fn sync(&mut self) -> Result<(), Self::Error>;
}

/// Run the WAL writer until its mailbox closes (every sender dropped). Dropping `memtable` at
/// the end closes the memtable actor's mailbox in turn: shutdown drains in order.
pub fn run_wal_writer<P, L, R, S>(
    mut log: L,
    inbox: R,
    memtable: S,
    health: Health<L::Error>,
    mut next_seqno: SeqNo,
    batch_max_bytes: usize,
) where
    P: Send + 'static,
    L: Log<P>,
    R: Receiver<WalMsg<P, L::Error>>,
    S: Sender<MemMsg<P, L::Error>>,
{
    while let Some(first) = inbox.recv() {
        let mut batch: Vec<WriteRequest<P, L::Error>> = Vec::new();
        let mut flushes = Vec::new();
        let mut bytes = 0usize;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                WalMsg::Write(req) => {
                    if !req.take() {
                        continue; // the writer timed out and was told nothing was written
                    }
                    if let Err(reason) = health.check() {
                        let _ = req.reply.send(Err(reason));
                        continue;
                    }
                    bytes += req.bytes;
                    batch.push(req);
                }
                WalMsg::Flush(reply) => flushes.push(reply),
            }
            if bytes < batch_max_bytes {
                next = inbox.try_recv().ok();
            }
        }

        if !batch.is_empty() {
            let mut committed = Vec::with_capacity(batch.len());
            let mut failure = None;
            for req in batch {
                let seqno = next_seqno;
                next_seqno += 1;
                if failure.is_none() {
                    if let Err(error) = log.append(seqno, &req.payload) {
                        failure = Some(ActorError::WalAppend(error));
                    }
                }
                committed.push(Committed {
                    seqno,
                    payload: req.payload,
                    reply: req.reply,
                });
            }
            #[cfg(not(strata_loom_mutant = "ack_before_sync"))]
            {
                if failure.is_none() {
                    if let Err(error) = log.sync() {
                        failure = Some(ActorError::WalSync(error));
                    }
                }
            }
            // Planted bug: hand the batch on (so writers get acked) and sync afterwards.
            #[cfg(strata_loom_mutant = "ack_before_sync")]
            let committed = {
                let _ = memtable.send(MemMsg::Apply(committed));
                if let Err(error) = log.sync() {
                    failure = Some(ActorError::WalSync(error));
                }
                Vec::<Committed<P, L::Error>>::new()
            };
            match failure {
                // Only this group fails: the log cuts what the failed write left and takes the
                // next group once its cause clears (a full disk), so the database is not
                // poisoned.
                Some(reason) => {
                    for record in committed {
                        let _ = record.reply.send(Err(reason.clone()));
                    }
                }
                None => {
                    if !committed.is_empty() {
                        if let Err(closed) = memtable.send(MemMsg::Apply(committed)) {
                            if let MemMsg::Apply(unapplied) = closed.0 {
                                for record in unapplied {
                                    let _ = record.reply.send(Err(ActorError::MemtableStopped));
                                }
                            }
                        }
                    }
                }
            }
        }
        for flush in flushes {
            if let Err(closed) = memtable.send(MemMsg::Flush(flush)) {
                if let MemMsg::Flush(flush) = closed.0 {
                    let _ = flush.send(Err(ActorError::MemtableStopped));
                }
            }
        }
    }
}
