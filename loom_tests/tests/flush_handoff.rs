//! Memtable freeze + flush hand-off (`run_memtable` + `run_flusher`): while points move from the
//! active memtable to a frozen one and then into a table, a concurrent reader of the published
//! version sees every acknowledged point exactly once: never in none, never in two places.
//!
//! Killed by: `flush_drop_before_install`.

use strata_actors::catalog::VersionCell;
use strata_actors::flusher::run_flusher;
use strata_actors::mailbox::{FacadeMailbox, Mailbox, Sender};
use strata_actors::memtable::{run_memtable, FlushMsg};
use strata_actors::oneshot::{oneshot, OneshotReceiver};
use strata_actors::sync::{thread, Arc};
use strata_actors::wal_writer::{Committed, MemMsg, SeqNo, WriteReply};
use strata_actors::Health;
use strata_loom_tests::fakes::{
    assert_each_visible_once, FrozenMem, LsmSink, LsmStore, LsmVersion,
};
use strata_loom_tests::model;

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

#[test]
fn reader_sees_each_acked_point_exactly_once() {
    model(|| {
        let cell = Arc::new(VersionCell::new(LsmVersion::empty()));
        // Freeze after every point, so each write goes active -> frozen -> table.
        let store = LsmStore::new(cell.clone(), 1);
        let sink = LsmSink::new(cell.clone());
        let (mem_tx, mem_rx) = FacadeMailbox::bounded::<MemMsg<(), String>>(1);
        let (fl_tx, fl_rx) = FacadeMailbox::bounded::<FlushMsg<FrozenMem, String>>(1);
        let mem = thread::spawn(move || run_memtable(store, mem_rx, fl_tx));
        let fl = thread::spawn(move || run_flusher(sink, fl_rx, Health::new()));

        let ack1 = apply(&mem_tx, 1);
        assert_eq!(ack1.recv(), Some(Ok(1)));
        // Point 1 is being frozen and flushed while this thread reads.
        assert_each_visible_once(&cell, &[1]);
        let ack2 = apply(&mem_tx, 2);
        assert_each_visible_once(&cell, &[1]);
        assert_eq!(ack2.recv(), Some(Ok(2)));
        assert_each_visible_once(&cell, &[1, 2]);

        drop(mem_tx);
        mem.join().expect("memtable");
        fl.join().expect("flusher");
        let v = cell.current();
        assert_eq!(v.in_tables(), vec![1, 2]);
        assert!(v.frozen.is_empty(), "a frozen memtable was never installed");
    });
}
