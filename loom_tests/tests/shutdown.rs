//! Ordered shutdown (`run_wal_writer` -> `run_memtable` -> `run_flusher`, mailboxes of one):
//! closing the front door drains WAL, memtable and flusher in order, nothing deadlocks, and every
//! acknowledged write ends up in a table.
//!
//! Killed by: `shutdown_skip_drain` (and `ack_before_sync`).

use strata_actors::catalog::VersionCell;
use strata_actors::flusher::run_flusher;
use strata_actors::mailbox::{FacadeMailbox, Mailbox, Sender};
use strata_actors::memtable::{run_memtable, FlushMsg};
use strata_actors::sync::{self, thread, Arc};
use strata_actors::wal_writer::{run_wal_writer, write_request, MemMsg, WalMsg};
use strata_actors::Health;
use strata_loom_tests::fakes::{FakeLog, FrozenMem, LsmSink, LsmStore, LsmVersion};
use strata_loom_tests::model;

#[test]
fn closing_the_front_door_drains_everything_acked() {
    model(|| {
        let cell = Arc::new(VersionCell::new(LsmVersion::empty()));
        let log = FakeLog::new();
        let health = Health::new();
        let sink = LsmSink::new(cell.clone());
        let trimmed = sink.trimmed.clone();
        let (wal_tx, wal_rx) = FacadeMailbox::bounded::<WalMsg<u8, String>>(1);
        let (mem_tx, mem_rx) = FacadeMailbox::bounded::<MemMsg<u8, String>>(1);
        let (fl_tx, fl_rx) = FacadeMailbox::bounded::<FlushMsg<FrozenMem, String>>(1);
        let (wal_log, wal_health) = (log.clone(), health.clone());
        let wal = thread::spawn(move || {
            run_wal_writer(wal_log, wal_rx, mem_tx, wal_health, 1, usize::MAX)
        });
        // Never freezes on size: only the shutdown drain moves the points on.
        let store = LsmStore::new(cell.clone(), 100);
        let mem = thread::spawn(move || run_memtable(store, mem_rx, fl_tx));
        let fl = thread::spawn(move || run_flusher(sink, fl_rx, health));

        let (r1, t1) = write_request(1u8, 1);
        let (r2, t2) = write_request(2u8, 1);
        assert!(wal_tx.send(WalMsg::Write(r1)).is_ok());
        assert!(wal_tx.send(WalMsg::Write(r2)).is_ok());
        drop(wal_tx); // close the front door
        let mut acked = Vec::new();
        for t in [t1, t2] {
            let seqno = t.wait().expect("write acknowledged");
            assert!(
                log.synced() >= seqno,
                "write {seqno} acknowledged before its sync"
            );
            acked.push(seqno);
        }
        acked.sort_unstable();

        wal.join().expect("WAL writer");
        mem.join().expect("memtable");
        fl.join().expect("flusher");

        let v = cell.current();
        assert_eq!(
            v.in_tables(),
            acked,
            "an acknowledged write never reached a table"
        );
        assert!(v.frozen.is_empty() && v.active.points().is_empty());
        assert_eq!(*sync::lock(&trimmed), 2, "WAL not trimmed up to the flush");
        assert!(log.synced() >= 2);
    });
}
