//! Compaction models: the compactor loops of `strata-actors` (C0 and C1, mailboxes of one) over
//! the published version, with in-memory fakes.
//!
//! * `install_never_loses_or_doubles_a_point`: two layers' compactors race for the same C1 table
//!   while a reader checks its snapshots; every point is visible exactly once at every instant,
//!   and after the drain every point sits in C2. Killed by: `compaction_install_two_steps`,
//!   `compaction_no_conflict_check`.
//! * `flusher_stall_and_compactor_chain_drain_without_deadlock`: flusher → C0 → C1 with the
//!   flusher stalled while C0 is over its bound; closing the flusher's mailbox drains the chain
//!   in order, nothing deadlocks, every flushed point reaches C2. Killed by:
//!   `stall_lost_wakeup` (deadlock), `compactor_drop_nudge`.
//! * `force_answers_only_once_everything_reached_the_last_layer`: a major compaction
//!   ([`CompactMsg::Force`]) sent to C0 while C0 and C1 are within their limits and a reader
//!   checks snapshots: the answer comes only once every table is in C2, and every point is
//!   visible exactly once throughout.

use strata_actors::catalog::VersionCell;
use strata_actors::compactor::{run_compactor, CompactMsg, StallGate};
use strata_actors::flusher::run_flusher;
use strata_actors::mailbox::{FacadeMailbox, FacadeSender, Mailbox, Sender};
use strata_actors::memtable::FlushMsg;
use strata_actors::oneshot::oneshot;
use strata_actors::sync::{thread, Arc};
use strata_actors::Health;
use strata_loom_tests::fakes::{
    assert_each_visible_once, FrozenMem, LayerIo, LsmSink, LsmVersion, Mem, StallingSink, Table,
};
use strata_loom_tests::model;

fn table(points: &[u64], layer: usize) -> Arc<Table> {
    Arc::new(Table {
        points: points.to_vec(),
        layer,
    })
}

#[test]
fn install_never_loses_or_doubles_a_point() {
    model(|| {
        let mut v = LsmVersion::empty();
        v.tables = vec![table(&[1], 0), table(&[2], 0), table(&[3], 1)];
        let cell = Arc::new(VersionCell::new(v));
        let health = Health::new();
        let (tx0, rx0) = FacadeMailbox::bounded::<CompactMsg<String>>(1);
        let (tx1, rx1) = FacadeMailbox::bounded::<CompactMsg<String>>(1);
        // Both compactors start with work: C0 (limit 1) merges C0 with C1's table, C1 (limit 0)
        // moves that same table on to C2.
        assert!(tx0.try_send(CompactMsg::Nudge).is_ok());
        assert!(tx1.try_send(CompactMsg::Nudge).is_ok());
        let io0 = LayerIo {
            cell: cell.clone(),
            layer: 0,
            limit: 1,
        };
        let io1 = LayerIo {
            cell: cell.clone(),
            layer: 1,
            limit: 0,
        };
        let h0 = health.clone();
        let c0 = thread::spawn(move || run_compactor(io0, rx0, Some(tx1), h0, None));
        let h1 = health.clone();
        let c1 = thread::spawn(move || {
            run_compactor::<_, _, FacadeSender<CompactMsg<String>>>(io1, rx1, None, h1, None)
        });
        let rc = cell.clone();
        let reader = thread::spawn(move || {
            for _ in 0..2 {
                assert_each_visible_once(&rc, &[1, 2, 3]);
            }
        });
        drop(tx0);
        reader.join().expect("reader");
        c0.join().expect("C0");
        c1.join().expect("C1");
        assert_each_visible_once(&cell, &[1, 2, 3]);
        let v = cell.current();
        assert!(
            v.tables.iter().all(|t| t.layer == 2),
            "the drain left work behind: layers {:?}",
            v.tables.iter().map(|t| t.layer).collect::<Vec<_>>()
        );
        assert!(health.check().is_ok());
    });
}

#[test]
fn flusher_stall_and_compactor_chain_drain_without_deadlock() {
    model(|| {
        let mut v = LsmVersion::empty();
        let m1 = Arc::new(Mem::default());
        let m2 = Arc::new(Mem::default());
        strata_actors::sync::lock(&m1.points).push(1);
        strata_actors::sync::lock(&m2.points).push(2);
        v.frozen = vec![(1, m1.clone()), (2, m2.clone())];
        let cell = Arc::new(VersionCell::new(v));
        let health = Health::new();
        let stall = Arc::new(StallGate::new());
        let (fl_tx, fl_rx) = FacadeMailbox::bounded::<FlushMsg<FrozenMem, String>>(1);
        let (tx0, rx0) = FacadeMailbox::bounded::<CompactMsg<String>>(1);
        let (tx1, rx1) = FacadeMailbox::bounded::<CompactMsg<String>>(1);
        // The flusher waits while C0 holds any table (bound 0), so its second flush needs C0's
        // compactor to have moved the first one on.
        let sink = StallingSink {
            inner: LsmSink::new(cell.clone()),
            stall: stall.clone(),
            c0_bound: 0,
            c0: tx0,
        };
        let io0 = LayerIo {
            cell: cell.clone(),
            layer: 0,
            limit: 0,
        };
        let io1 = LayerIo {
            cell: cell.clone(),
            layer: 1,
            limit: 0,
        };
        let hf = health.clone();
        let fl = thread::spawn(move || run_flusher(sink, fl_rx, hf));
        let h0 = health.clone();
        let c0 = thread::spawn(move || run_compactor(io0, rx0, Some(tx1), h0, Some(stall)));
        let h1 = health.clone();
        let c1 = thread::spawn(move || {
            run_compactor::<_, _, FacadeSender<CompactMsg<String>>>(io1, rx1, None, h1, None)
        });
        for (id, mem) in [(1, m1), (2, m2)] {
            let msg = FlushMsg::Flush {
                frozen: FrozenMem { id, mem },
                done: None,
            };
            assert!(fl_tx.send(msg).is_ok());
        }
        drop(fl_tx); // close the front door: flusher, then C0, then C1 drain and stop
        fl.join().expect("flusher");
        c0.join().expect("C0");
        c1.join().expect("C1");
        let v = cell.current();
        assert_eq!(v.in_tables(), vec![1, 2], "a flushed point was lost");
        assert!(v.frozen.is_empty());
        assert!(
            v.tables.iter().all(|t| t.layer == 2),
            "the chain stopped with work left: layers {:?}",
            v.tables.iter().map(|t| t.layer).collect::<Vec<_>>()
        );
    });
}

#[test]
fn force_answers_only_once_everything_reached_the_last_layer() {
    model(|| {
        let mut v = LsmVersion::empty();
        v.tables = vec![table(&[1], 0), table(&[2], 1)];
        let cell = Arc::new(VersionCell::new(v));
        let health = Health::new();
        let (tx0, rx0) = FacadeMailbox::bounded::<CompactMsg<String>>(1);
        let (tx1, rx1) = FacadeMailbox::bounded::<CompactMsg<String>>(1);
        // Both layers are within their limits: only the force moves anything.
        let io0 = LayerIo {
            cell: cell.clone(),
            layer: 0,
            limit: 5,
        };
        let io1 = LayerIo {
            cell: cell.clone(),
            layer: 1,
            limit: 5,
        };
        let h0 = health.clone();
        let c0 = thread::spawn(move || run_compactor(io0, rx0, Some(tx1), h0, None));
        let h1 = health.clone();
        let c1 = thread::spawn(move || {
            run_compactor::<_, _, FacadeSender<CompactMsg<String>>>(io1, rx1, None, h1, None)
        });
        let rc = cell.clone();
        let reader = thread::spawn(move || assert_each_visible_once(&rc, &[1, 2]));
        let (otx, orx) = oneshot();
        assert!(tx0.send(CompactMsg::Force(otx)).is_ok());
        assert_eq!(orx.recv(), Some(Ok(())));
        let v = cell.current();
        assert!(
            v.tables.iter().all(|t| t.layer == 2),
            "answered before the last layer had everything: layers {:?}",
            v.tables.iter().map(|t| t.layer).collect::<Vec<_>>()
        );
        drop(tx0);
        reader.join().expect("reader");
        c0.join().expect("C0");
        c1.join().expect("C1");
        assert_each_visible_once(&cell, &[2, 1]);
    });
}
