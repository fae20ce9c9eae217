//! The bounded facade mailbox: never over capacity, FIFO per sender, nothing lost, and a close
//! wakes everyone blocked on it.
//!
//! Killed by: `mailbox_over_capacity`, `mailbox_close_no_wakeup`.

use strata_actors::mailbox::{FacadeMailbox, Mailbox, Receiver, Sender};
use strata_actors::sync::thread;
use strata_loom_tests::model;

const CAP: usize = 1;

#[test]
fn bounded_fifo_nothing_lost() {
    model(|| {
        let (tx, rx) = FacadeMailbox::bounded::<(u8, u8)>(CAP);
        let tx_b = tx.clone();
        let a = thread::spawn(move || {
            for i in 0..2 {
                assert!(tx.send((0, i)).is_ok(), "receiver gone");
                assert!(tx.len() <= CAP, "mailbox over capacity: {}", tx.len());
            }
        });
        let b = thread::spawn(move || {
            assert!(tx_b.send((1, 0)).is_ok(), "receiver gone");
            assert!(tx_b.len() <= CAP, "mailbox over capacity: {}", tx_b.len());
        });
        let mut got = Vec::new();
        // Ends only when both senders are gone: the close must wake this receiver.
        while let Some(m) = rx.recv() {
            got.push(m);
        }
        a.join().expect("sender a");
        b.join().expect("sender b");
        assert_eq!(got.len(), 3, "lost or duplicated messages: {got:?}");
        let from_a: Vec<u8> = got.iter().filter(|m| m.0 == 0).map(|m| m.1).collect();
        assert_eq!(from_a, vec![0, 1], "not FIFO: {got:?}");
        assert!(got.contains(&(1, 0)));
    });
}

#[test]
fn close_wakes_blocked_receivers_and_senders() {
    model(|| {
        // Two receivers blocked on one message: one gets it, the close wakes the other.
        let (tx, rx) = FacadeMailbox::bounded::<u8>(CAP);
        let rx2 = rx.clone();
        let r1 = thread::spawn(move || rx.recv());
        let r2 = thread::spawn(move || rx2.recv());
        assert!(tx.send(7).is_ok());
        drop(tx);
        let mut got = [r1.join().expect("r1"), r2.join().expect("r2")];
        got.sort();
        assert_eq!(got, [None, Some(7)]);

        // A sender blocked on a full box is woken by the last receiver leaving.
        let (tx, rx) = FacadeMailbox::bounded::<u8>(CAP);
        assert!(tx.send(1).is_ok());
        let s = thread::spawn(move || tx.send(2).is_err());
        drop(rx);
        assert!(s.join().expect("sender"), "send to a closed box succeeded");
    });
}
