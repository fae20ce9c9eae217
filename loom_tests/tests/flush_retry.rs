//! A failing flush (`run_flusher` with a sink whose first table write fails, as on a full disk)
//! and its retry: the frozen memtable stays readable while the flush fails, the request that
//! asked for it is answered with the failure (nothing is poisoned), the next flush writes it
//! first and then the new one, and the WAL is never trimmed past a point that is not in a table.
//!
//! Killed by: `flush_forget_failed`.

use strata_actors::catalog::VersionCell;
use strata_actors::flusher::{run_flusher, FlushSink};
use strata_actors::mailbox::{FacadeMailbox, Mailbox, Sender};
use strata_actors::memtable::{run_memtable, FlushMsg};
use strata_actors::oneshot::{oneshot, OneshotReceiver};
use strata_actors::sync::{self, thread, Arc, Mutex};
use strata_actors::wal_writer::{Committed, MemMsg, SeqNo, WriteReply};
use strata_actors::{ActorError, Health};
use strata_loom_tests::fakes::{
    assert_each_visible_once, FrozenMem, LsmSink, LsmStore, LsmVersion, Table,
};
use strata_loom_tests::model;

/// [`LsmSink`] whose first `write_frozen` fails with an I/O error that will pass.
struct FailOnce {
    inner: LsmSink,
    failures_left: usize,
    /// Every trim asked for, with the highest seqno in a table at that moment.
    trims: Arc<Mutex<Vec<(SeqNo, SeqNo)>>>,
}

impl FlushSink<FrozenMem> for FailOnce {
    type Table = Arc<Table>;
    type Error = String;
    fn write_frozen(&mut self, frozen: &FrozenMem) -> Result<Option<Arc<Table>>, String> {
        if self.failures_left > 0 {
            self.failures_left -= 1;
            return Err("injected ENOSPC".to_string());
        }
        self.inner.write_frozen(frozen)
    }
    fn install(&mut self, frozen: &FrozenMem, table: Option<Arc<Table>>) -> Result<SeqNo, String> {
        self.inner.install(frozen, table)
    }
    fn trim_wal(&mut self, flushed: SeqNo) -> Result<(), String> {
        let in_tables = self
            .inner
            .cell
            .current()
            .in_tables()
            .last()
            .copied()
            .unwrap_or(0);
        sync::lock(&self.trims).push((flushed, in_tables));
        self.inner.trim_wal(flushed)
    }
    fn retry_after(&mut self, _failures: u32, _error: &String) -> Option<std::time::Duration> {
        Some(std::time::Duration::ZERO)
    }
}

fn apply<S: Sender<MemMsg<(), String>>>(
    memtable: &S,
    seqno: SeqNo,
) -> OneshotReceiver<WriteReply<String>> {
    let (reply, ack) = oneshot();
    let batch = vec![Committed {
        seqno,
        payload: (),
        reply,
    }];
    assert!(memtable.send(MemMsg::Apply(batch)).is_ok(), "memtable gone");
    ack
}

fn flush<S: Sender<MemMsg<(), String>>>(
    memtable: &S,
) -> OneshotReceiver<Result<(), ActorError<String>>> {
    let (done, answer) = oneshot();
    assert!(memtable.send(MemMsg::Flush(done)).is_ok(), "memtable gone");
    answer
}

#[test]
fn a_failed_flush_keeps_its_points_and_the_next_flush_writes_them() {
    model(|| {
        let cell = Arc::new(VersionCell::new(LsmVersion::empty()));
        // Freeze only on request, so each flush below takes the points written before it.
        let store = LsmStore::new(cell.clone(), usize::MAX);
        let trims = Arc::new(Mutex::new(Vec::new()));
        let sink = FailOnce {
            inner: LsmSink::new(cell.clone()),
            failures_left: 1,
            trims: trims.clone(),
        };
        let health = Health::new();
        let (mem_tx, mem_rx) = FacadeMailbox::bounded::<MemMsg<(), String>>(1);
        let (fl_tx, fl_rx) = FacadeMailbox::bounded::<FlushMsg<FrozenMem, String>>(1);
        let mem = thread::spawn(move || run_memtable(store, mem_rx, fl_tx));
        let fl = {
            let health = health.clone();
            thread::spawn(move || run_flusher(sink, fl_rx, health))
        };

        assert_eq!(apply(&mem_tx, 1).recv(), Some(Ok(1)));
        let first = flush(&mem_tx);
        assert_each_visible_once(&cell, &[1]);
        let answer = first.recv().expect("the flusher answers");
        assert!(answer.is_err(), "the failed flush is reported: {answer:?}");
        assert!(
            health.check().is_ok(),
            "a failure that passes does not poison"
        );
        assert_each_visible_once(&cell, &[1]);

        assert_eq!(apply(&mem_tx, 2).recv(), Some(Ok(2)));
        assert_eq!(flush(&mem_tx).recv(), Some(Ok(())));
        assert_each_visible_once(&cell, &[1, 2]);

        drop(mem_tx);
        mem.join().expect("memtable");
        fl.join().expect("flusher");
        let v = cell.current();
        assert_eq!(v.in_tables(), vec![1, 2]);
        assert!(v.frozen.is_empty(), "a frozen memtable was never installed");
        for (trimmed, in_tables) in sync::lock(&trims).iter() {
            assert!(
                trimmed <= in_tables,
                "WAL trimmed to {trimmed} with only {in_tables} in tables"
            );
        }
    });
}
