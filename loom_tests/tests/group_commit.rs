//! Group commit (`run_wal_writer` + `run_memtable`): no writer is acknowledged before the WAL sync
//! that covers its record, acknowledgements come in seqno order, and none is lost or left hanging
//! when the front door closes.
//!
//! Killed by: `ack_before_sync`.

use strata_actors::mailbox::{FacadeMailbox, Mailbox, Receiver, Sender};
use strata_actors::memtable::{run_memtable, FlushMsg};
use strata_actors::sync::{self, thread};
use strata_actors::wal_writer::{run_wal_writer, write_request, MemMsg, SeqNo, WalMsg};
use strata_actors::Health;
use strata_loom_tests::fakes::{FakeLog, SyncCheckedStore};
use strata_loom_tests::model;

fn write<S: Sender<WalMsg<u8, String>>>(wal: S, log: FakeLog, payload: u8) -> SeqNo {
    let (req, ticket) = write_request(payload, 1);
    assert!(wal.send(WalMsg::Write(req)).is_ok(), "WAL writer gone");
    drop(wal);
    let seqno = ticket.wait().expect("write acknowledged");
    let synced = log.synced();
    assert!(
        seqno <= synced,
        "write {seqno} acknowledged before the sync covering it (synced up to {synced})"
    );
    seqno
}

#[test]
fn no_ack_before_sync_acks_in_order_none_lost() {
    model(|| {
        let log = FakeLog::new();
        let store = SyncCheckedStore::new(log.clone());
        let applied = store.applied.clone();
        let (wal_tx, wal_rx) = FacadeMailbox::bounded::<WalMsg<u8, String>>(2);
        let (mem_tx, mem_rx) = FacadeMailbox::bounded::<MemMsg<u8, String>>(1);
        let (fl_tx, fl_rx) = FacadeMailbox::bounded::<FlushMsg<usize, String>>(1);
        let wal_log = log.clone();
        let wal =
            thread::spawn(move || run_wal_writer(wal_log, wal_rx, mem_tx, Health::new(), 1, 1024));
        let mem = thread::spawn(move || run_memtable(store, mem_rx, fl_tx));

        let (tx2, log2) = (wal_tx.clone(), log.clone());
        let w2 = thread::spawn(move || write(tx2, log2, 2));
        let s1 = write(wal_tx, log.clone(), 1);
        let s2 = w2.join().expect("writer 2");

        // Both front-door senders are gone: the WAL writer stops, then the memtable actor, which
        // hands what it holds to the "flusher" (this thread).
        let mut drained = 0;
        while let Some(msg) = fl_rx.recv() {
            if let FlushMsg::Flush { frozen, .. } = msg {
                drained += frozen;
            }
        }
        wal.join().expect("WAL writer");
        mem.join().expect("memtable");

        let mut acked = [s1, s2];
        acked.sort_unstable();
        assert_eq!(acked, [1, 2], "seqnos are one per write, from 1");
        assert_eq!(*sync::lock(&applied), vec![1, 2], "acks out of seqno order");
        assert_eq!(log.appended(), vec![1, 2]);
        assert_eq!(drained, 2, "shutdown lost applied records");
    });
}
