//! What the engine actors answer with when they cannot do what they were asked.
//!
//! An actor's I/O (the [`Log`](crate::wal_writer::Log), [`MemStore`](crate::memtable::MemStore),
//! [`FlushSink`](crate::flusher::FlushSink) and [`CompactIo`](crate::compactor::CompactIo) it is
//! plugged into) fails with an error type of the embedder's choosing, its [`Cause`]: strata uses
//! `Arc<strata::Error>`, the loom fakes a `String`. The actors never turn it into text: they wrap
//! it, unchanged, in an [`ActorError`] that says which step failed, and hand that to whoever waits
//! (a writer, a flush or a barrier) and to [`Health`](crate::Health) when it poisons the database.

use std::fmt;

/// The error an actor's I/O fails with: cloneable (one failure answers every writer of a group
/// commit and is kept as the poison reason), shareable across the actor threads, printable.
/// Implemented for every type with those properties.
pub trait Cause: Clone + Send + Sync + fmt::Debug + fmt::Display + 'static {}

impl<T: Clone + Send + Sync + fmt::Debug + fmt::Display + 'static> Cause for T {}

/// Why an actor request failed, carrying the I/O's error `E` unchanged where there is one. The
/// texts are the ones strata's users see (inside strata's own error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorError<E> {
    /// The WAL could not append a group commit's records; nothing of the group was acknowledged.
    WalAppend(E),
    /// The WAL could not fsync a group commit; nothing of the group was acknowledged.
    WalSync(E),
    /// The memtable could not apply a durable record.
    Apply(E),
    /// A flush (table write, version edit or WAL trim) failed.
    Flush(E),
    /// A compaction step (plan, merge or install) failed.
    Compaction(E),
    /// An actor thread panicked (the embedder reports it with the thread's name).
    Panicked {
        /// The name of the actor thread that panicked.
        actor: String,
    },
    /// The memtable actor stopped before it could apply a committed batch or pass a flush on.
    MemtableStopped,
    /// The flusher stopped before it could take a frozen memtable or a flush barrier.
    FlusherStopped,
    /// The next compactor stopped before it could take a barrier.
    CompactionStopped,
    /// The WAL writer dropped a write without answering it (the database shut down).
    ShutDown,
}

impl<E: fmt::Display> fmt::Display for ActorError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActorError::WalAppend(cause) => write!(f, "WAL append failed: {cause}"),
            ActorError::WalSync(cause) => write!(f, "WAL fsync failed: {cause}"),
            ActorError::Apply(cause) => write!(f, "{cause}"),
            ActorError::Flush(cause) => write!(f, "flush failed: {cause}"),
            ActorError::Compaction(cause) => write!(f, "compaction failed: {cause}"),
            ActorError::Panicked { actor } => write!(f, "actor {actor} panicked"),
            ActorError::MemtableStopped => f.write_str("the memtable actor has stopped"),
            ActorError::FlusherStopped => f.write_str("the flusher has stopped"),
            ActorError::CompactionStopped => f.write_str("compaction stopped"),
            ActorError::ShutDown => {
                f.write_str("the database shut down before the write was acknowledged")
            }
        }
    }
}

impl<E> ActorError<E> {
    /// The I/O error this failure carries, if it came from the I/O.
    pub fn cause(&self) -> Option<&E> {
        match self {
            ActorError::WalAppend(cause)
            | ActorError::WalSync(cause)
            | ActorError::Apply(cause)
            | ActorError::Flush(cause)
            | ActorError::Compaction(cause) => Some(cause),
            ActorError::Panicked { .. }
            | ActorError::MemtableStopped
            | ActorError::FlusherStopped
            | ActorError::CompactionStopped
            | ActorError::ShutDown => None,
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ActorError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

/// The reply to a request that only succeeds or fails (a flush, a barrier).
pub type Done<E> = Result<(), ActorError<E>>;

#[cfg(all(test, not(strata_loom)))]
mod tests {
    use super::*;

    #[test]
    fn texts_name_the_failed_step_and_keep_the_cause() {
        let e: ActorError<String> = ActorError::Flush("disk full".to_string());
        assert_eq!(e.to_string(), "flush failed: disk full");
        assert_eq!(e.cause().map(String::as_str), Some("disk full"));
        let stopped: ActorError<String> = ActorError::MemtableStopped;
        assert_eq!(stopped.to_string(), "the memtable actor has stopped");
        assert_eq!(stopped.cause(), None);
    }
}
