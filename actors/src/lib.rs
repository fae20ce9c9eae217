//! strata's actor runtime and the protocol loops of every engine actor.
//!
//! Everything here is written against [`sync`], a facade over `std::sync` that becomes loom's
//! model-checked types under `--cfg strata_loom`, and every actor loop is generic over its
//! mailbox ([`mailbox::Sender`]/[`mailbox::Receiver`]) and its I/O (a [`wal_writer::Log`], a
//! [`memtable::MemStore`], a [`flusher::FlushSink`], a [`compactor::CompactIo`]). Production plugs in crossbeam/flume
//! mailboxes and real files; `loom_tests/` plugs in facade mailboxes and in-memory fakes and
//! checks the same loops.

#![deny(missing_docs)]

pub mod catalog;
pub mod compactor;
pub mod error;
pub mod flusher;
pub mod health;
pub mod mailbox;
pub mod memtable;
pub mod oneshot;
pub mod query_pool;
pub mod sync;
pub mod wal_writer;

pub use error::{ActorError, Cause, Done};
pub use health::Health;
pub use mailbox::{
    Closed, CrossbeamMailbox, FacadeMailbox, FlumeMailbox, Mailbox, Receiver, Sender, TryRecvError,
    TrySendError,
};
pub use oneshot::{oneshot, OneshotReceiver, OneshotSender};
pub use query_pool::{Busy, CancelToken, Handle, InlinePermit, Query, QueryPool, Stopped};
