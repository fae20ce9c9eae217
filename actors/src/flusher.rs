//! The flusher actor: frozen memtable → table file → version edit → WAL trim, in that order.
//!
//! The order is the crash-safety argument: the table is fsynced (file and directory) before the
//! manifest names it; the manifest edit is fsynced before the version drops the frozen memtable;
//! and only then may the WAL delete segments wholly at or below the flushed seqno.

use crate::health::Health;
use crate::mailbox::Receiver;
use crate::memtable::FlushMsg;
use crate::wal_writer::SeqNo;

/// The flusher's I/O.
pub trait FlushSink<F> {
    /// A written, fsynced table not yet in the catalog.
    type Table: Send + 'static;
    /// Write `frozen` as a table (fsync file and directory). `None` if it holds nothing to write.
    fn write_table(&mut self, frozen: &F) -> Result<Option<Self::Table>, String>;
    /// Append and fsync the version edit, then publish a version with the table in C0 and
    /// without the frozen memtable. Returns the highest seqno now in tables.
    fn install(&mut self, frozen: F, table: Option<Self::Table>) -> Result<SeqNo, String>;
    /// Let the WAL delete segments whose records are all at or below `flushed`.
    fn trim_wal(&mut self, flushed: SeqNo) -> Result<(), String>;
}

fn flush_one<F, K: FlushSink<F>>(sink: &mut K, frozen: F) -> Result<(), String> {
    let table = sink.write_table(&frozen)?;
    let flushed = sink.install(frozen, table)?;
    sink.trim_wal(flushed)
}

/// Run the flusher until its mailbox closes. After a failure the database is poisoned and every
/// later request is answered with the reason (the actor keeps draining so nothing upstream hangs).
pub fn run_flusher<F, K, R>(mut sink: K, inbox: R, health: Health)
where
    F: Send + 'static,
    K: FlushSink<F>,
    R: Receiver<FlushMsg<F>>,
{
    while let Some(msg) = inbox.recv() {
        match msg {
            FlushMsg::Flush { frozen, done } => {
                let r = match health.check() {
                    Err(reason) => Err(reason),
                    Ok(()) => flush_one(&mut sink, frozen).map_err(|e| {
                        let reason = format!("flush failed: {e}");
                        health.poison(reason.clone());
                        reason
                    }),
                };
                if let Some(d) = done {
                    let _ = d.send(r);
                }
            }
            FlushMsg::Barrier(done) => {
                let _ = done.send(health.check());
            }
        }
    }
}
