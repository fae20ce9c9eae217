//! Bounded mailboxes: one trait, three implementations.
//!
//! * [`CrossbeamMailbox`]: the storage actors' mailboxes (OS threads, blocking).
//! * [`FlumeMailbox`]: the query pool's (async senders with `send_async`, sync workers).
//! * [`FacadeMailbox`]: a bounded queue on the [`crate::sync`] facade, so loom can model it.
//!
//! All three obey one contract, checked by the same test suite (`tests` below): capacity is a
//! hard bound, messages come out in FIFO order, `send` blocks while the box is full, the box is
//! closed for receivers when the last sender drops (after the queued messages are drained) and for
//! senders when the last receiver drops, and blocked parties are woken by a close.

use std::collections::VecDeque;
use std::time::Duration;

use crate::sync::{self, Arc, Condvar, Mutex};

/// A send failed because every receiver is gone; the message is handed back.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed<T>(pub T);

/// Why a non-blocking (or timed) send failed; the message is handed back.
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The mailbox stayed full (for `send_timeout`: until the timeout).
    Full(T),
    /// Every receiver is gone.
    Closed(T),
}

/// Why a non-blocking receive returned nothing.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// Nothing is queued now (or nothing came within the timeout); senders remain.
    Empty,
    /// Empty and every sender is gone.
    Closed,
}

/// The sending half of a bounded mailbox.
pub trait Sender<T>: Clone + Send + 'static {
    /// Block until there is room, then enqueue.
    fn send(&self, msg: T) -> Result<(), Closed<T>>;
    /// Enqueue only if there is room now.
    fn try_send(&self, msg: T) -> Result<(), TrySendError<T>>;
    /// Block at most `timeout` for room.
    fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), TrySendError<T>>;
    /// Messages queued now.
    fn len(&self) -> usize;
    /// Whether nothing is queued now.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The receiving half of a bounded mailbox. Cloneable: several workers may share one box.
pub trait Receiver<T>: Clone + Send + 'static {
    /// Block until a message arrives; `None` once the box is empty and every sender is gone.
    fn recv(&self) -> Option<T>;
    /// Take a message only if one is queued now.
    fn try_recv(&self) -> Result<T, TryRecvError>;
    /// Block at most `timeout` for a message: [`TryRecvError::Empty`] when none came.
    fn recv_timeout(&self, timeout: Duration) -> Result<T, TryRecvError>;
    /// Messages queued now.
    fn len(&self) -> usize;
    /// Whether nothing is queued now.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A family of bounded mailboxes.
pub trait Mailbox: 'static {
    /// This family's sending half.
    type Sender<T: Send + 'static>: Sender<T>;
    /// This family's receiving half.
    type Receiver<T: Send + 'static>: Receiver<T>;
    /// A mailbox holding at most `capacity` messages (`capacity` >= 1).
    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Sender<T>, Self::Receiver<T>);
}

// ---------------------------------------------------------------------------------------------
// crossbeam-channel

/// Mailboxes on `crossbeam-channel` (storage actors).
pub struct CrossbeamMailbox;

impl<T: Send + 'static> Sender<T> for crossbeam_channel::Sender<T> {
    fn send(&self, msg: T) -> Result<(), Closed<T>> {
        crossbeam_channel::Sender::send(self, msg).map_err(|e| Closed(e.0))
    }
    fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        crossbeam_channel::Sender::try_send(self, msg).map_err(|e| match e {
            crossbeam_channel::TrySendError::Full(m) => TrySendError::Full(m),
            crossbeam_channel::TrySendError::Disconnected(m) => TrySendError::Closed(m),
        })
    }
    fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), TrySendError<T>> {
        crossbeam_channel::Sender::send_timeout(self, msg, timeout).map_err(|e| match e {
            crossbeam_channel::SendTimeoutError::Timeout(m) => TrySendError::Full(m),
            crossbeam_channel::SendTimeoutError::Disconnected(m) => TrySendError::Closed(m),
        })
    }
    fn len(&self) -> usize {
        crossbeam_channel::Sender::len(self)
    }
}

impl<T: Send + 'static> Receiver<T> for crossbeam_channel::Receiver<T> {
    fn recv(&self) -> Option<T> {
        crossbeam_channel::Receiver::recv(self).ok()
    }
    fn try_recv(&self) -> Result<T, TryRecvError> {
        crossbeam_channel::Receiver::try_recv(self).map_err(|e| match e {
            crossbeam_channel::TryRecvError::Empty => TryRecvError::Empty,
            crossbeam_channel::TryRecvError::Disconnected => TryRecvError::Closed,
        })
    }
    fn recv_timeout(&self, timeout: Duration) -> Result<T, TryRecvError> {
        crossbeam_channel::Receiver::recv_timeout(self, timeout).map_err(|e| match e {
            crossbeam_channel::RecvTimeoutError::Timeout => TryRecvError::Empty,
            crossbeam_channel::RecvTimeoutError::Disconnected => TryRecvError::Closed,
        })
    }
    fn len(&self) -> usize {
        crossbeam_channel::Receiver::len(self)
    }
}

impl Mailbox for CrossbeamMailbox {
    type Sender<T: Send + 'static> = crossbeam_channel::Sender<T>;
    type Receiver<T: Send + 'static> = crossbeam_channel::Receiver<T>;
    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Sender<T>, Self::Receiver<T>) {
        crossbeam_channel::bounded(capacity.max(1))
    }
}

// ---------------------------------------------------------------------------------------------
// flume

/// Mailboxes on `flume` (query pool: async callers use `flume::Sender::send_async`).
pub struct FlumeMailbox;

impl<T: Send + 'static> Sender<T> for flume::Sender<T> {
    fn send(&self, msg: T) -> Result<(), Closed<T>> {
        flume::Sender::send(self, msg).map_err(|e| Closed(e.0))
    }
    fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        flume::Sender::try_send(self, msg).map_err(|e| match e {
            flume::TrySendError::Full(m) => TrySendError::Full(m),
            flume::TrySendError::Disconnected(m) => TrySendError::Closed(m),
        })
    }
    fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), TrySendError<T>> {
        flume::Sender::send_timeout(self, msg, timeout).map_err(|e| match e {
            flume::SendTimeoutError::Timeout(m) => TrySendError::Full(m),
            flume::SendTimeoutError::Disconnected(m) => TrySendError::Closed(m),
        })
    }
    fn len(&self) -> usize {
        flume::Sender::len(self)
    }
}

impl<T: Send + 'static> Receiver<T> for flume::Receiver<T> {
    fn recv(&self) -> Option<T> {
        flume::Receiver::recv(self).ok()
    }
    fn try_recv(&self) -> Result<T, TryRecvError> {
        flume::Receiver::try_recv(self).map_err(|e| match e {
            flume::TryRecvError::Empty => TryRecvError::Empty,
            flume::TryRecvError::Disconnected => TryRecvError::Closed,
        })
    }
    fn recv_timeout(&self, timeout: Duration) -> Result<T, TryRecvError> {
        flume::Receiver::recv_timeout(self, timeout).map_err(|e| match e {
            flume::RecvTimeoutError::Timeout => TryRecvError::Empty,
            flume::RecvTimeoutError::Disconnected => TryRecvError::Closed,
        })
    }
    fn len(&self) -> usize {
        flume::Receiver::len(self)
    }
}

impl Mailbox for FlumeMailbox {
    type Sender<T: Send + 'static> = flume::Sender<T>;
    type Receiver<T: Send + 'static> = flume::Receiver<T>;
    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Sender<T>, Self::Receiver<T>) {
        flume::bounded(capacity.max(1))
    }
}

// ---------------------------------------------------------------------------------------------
// facade

/// Bounded mailboxes built only from the [`crate::sync`] facade (mutex + two condvars), so that
/// under `cfg(strata_loom)` every interleaving of senders and receivers is explored.
pub struct FacadeMailbox;

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    receivers: usize,
}

struct Shared<T> {
    cap: usize,
    state: Mutex<State<T>>,
    not_empty: Condvar,
    not_full: Condvar,
}

/// Sending half of a [`FacadeMailbox`].
pub struct FacadeSender<T>(Arc<Shared<T>>);
/// Receiving half of a [`FacadeMailbox`].
pub struct FacadeReceiver<T>(Arc<Shared<T>>);

impl<T> Clone for FacadeSender<T> {
    fn clone(&self) -> Self {
        sync::lock(&self.0.state).senders += 1;
        FacadeSender(self.0.clone())
    }
}

impl<T> Drop for FacadeSender<T> {
    fn drop(&mut self) {
        let mut st = sync::lock(&self.0.state);
        st.senders -= 1;
        if st.senders == 0 {
            drop(st);
            // Planted bug: closing does not wake receivers blocked on an empty box.
            #[cfg(not(strata_loom_mutant = "mailbox_close_no_wakeup"))]
            self.0.not_empty.notify_all();
        }
    }
}

impl<T> Clone for FacadeReceiver<T> {
    fn clone(&self) -> Self {
        sync::lock(&self.0.state).receivers += 1;
        FacadeReceiver(self.0.clone())
    }
}

impl<T> Drop for FacadeReceiver<T> {
    fn drop(&mut self) {
        let mut st = sync::lock(&self.0.state);
        st.receivers -= 1;
        if st.receivers == 0 {
            drop(st);
            self.0.not_full.notify_all();
        }
    }
}

impl<T: Send + 'static> FacadeSender<T> {
    fn send_inner(&self, msg: T, block: bool) -> Result<(), TrySendError<T>> {
        let sh = &self.0;
        let mut st = sync::lock(&sh.state);
        loop {
            if st.receivers == 0 {
                return Err(TrySendError::Closed(msg));
            }
            #[cfg(not(strata_loom_mutant = "mailbox_over_capacity"))]
            let full = st.queue.len() >= sh.cap;
            // Planted bug: lets one message too many in.
            #[cfg(strata_loom_mutant = "mailbox_over_capacity")]
            let full = st.queue.len() > sh.cap;
            if !full {
                st.queue.push_back(msg);
                drop(st);
                sh.not_empty.notify_one();
                return Ok(());
            }
            if !block {
                return Err(TrySendError::Full(msg));
            }
            st = sync::wait(&sh.not_full, st);
        }
    }
}

impl<T: Send + 'static> Sender<T> for FacadeSender<T> {
    fn send(&self, msg: T) -> Result<(), Closed<T>> {
        self.send_inner(msg, true).map_err(|e| match e {
            TrySendError::Full(m) | TrySendError::Closed(m) => Closed(m),
        })
    }
    fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.send_inner(msg, false)
    }
    fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), TrySendError<T>> {
        // The facade has no clock under loom; poll with short sleeps on std.
        #[cfg(strata_loom)]
        {
            let _ = timeout;
            self.send_inner(msg, false)
        }
        #[cfg(not(strata_loom))]
        {
            let deadline = std::time::Instant::now() + timeout;
            let mut msg = msg;
            loop {
                match self.send_inner(msg, false) {
                    Err(TrySendError::Full(m)) if std::time::Instant::now() < deadline => {
                        msg = m;
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    other => return other,
                }
            }
        }
    }
    fn len(&self) -> usize {
        sync::lock(&self.0.state).queue.len()
    }
}

impl<T: Send + 'static> Receiver<T> for FacadeReceiver<T> {
    fn recv(&self) -> Option<T> {
        let sh = &self.0;
        let mut st = sync::lock(&sh.state);
        loop {
            if let Some(m) = st.queue.pop_front() {
                drop(st);
                sh.not_full.notify_one();
                return Some(m);
            }
            if st.senders == 0 {
                return None;
            }
            st = sync::wait(&sh.not_empty, st);
        }
    }
    fn recv_timeout(&self, timeout: Duration) -> Result<T, TryRecvError> {
        // The facade has no clock under loom: a wait that finds nothing times out at once.
        #[cfg(strata_loom)]
        {
            let _ = timeout;
            self.try_recv()
        }
        #[cfg(not(strata_loom))]
        {
            let deadline = std::time::Instant::now() + timeout;
            loop {
                match self.try_recv() {
                    Err(TryRecvError::Empty) if std::time::Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    other => return other,
                }
            }
        }
    }
    fn try_recv(&self) -> Result<T, TryRecvError> {
        let sh = &self.0;
        let mut st = sync::lock(&sh.state);
        match st.queue.pop_front() {
            Some(m) => {
                drop(st);
                sh.not_full.notify_one();
                Ok(m)
            }
            None if st.senders == 0 => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
    fn len(&self) -> usize {
        sync::lock(&self.0.state).queue.len()
    }
}

impl Mailbox for FacadeMailbox {
    type Sender<T: Send + 'static> = FacadeSender<T>;
    type Receiver<T: Send + 'static> = FacadeReceiver<T>;
    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Sender<T>, Self::Receiver<T>) {
        let sh = Arc::new(Shared {
            cap: capacity.max(1),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                senders: 1,
                receivers: 1,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        });
        (FacadeSender(sh.clone()), FacadeReceiver(sh))
    }
}

/// The contract every mailbox implementation must meet, as a reusable suite.
#[cfg(all(test, not(strata_loom)))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::thread;
    use std::time::Duration;

    fn capacity_is_a_hard_bound<M: Mailbox>() {
        let (tx, rx) = M::bounded::<u32>(2);
        assert!(tx.try_send(1).is_ok());
        assert!(tx.try_send(2).is_ok());
        assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
        assert_eq!(tx.len(), 2);
        assert_eq!(rx.try_recv(), Ok(1));
        assert!(tx.try_send(3).is_ok());
        assert_eq!(rx.len(), 2);
    }

    fn fifo<M: Mailbox>() {
        let (tx, rx) = M::bounded::<u32>(4);
        let h = thread::spawn(move || {
            for i in 0..100 {
                tx.send(i).map_err(|_| "closed").unwrap();
            }
        });
        let got: Vec<u32> = (0..100).filter_map(|_| rx.recv()).collect();
        h.join().unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }

    fn send_blocks_while_full<M: Mailbox>() {
        let (tx, rx) = M::bounded::<u32>(1);
        tx.send(1).map_err(|_| "closed").unwrap();
        let tx2 = tx.clone();
        let h = thread::spawn(move || {
            tx2.send(2).map_err(|_| "closed").unwrap();
        });
        thread::sleep(Duration::from_millis(50));
        assert!(
            !h.is_finished(),
            "send must block while the mailbox is full"
        );
        assert_eq!(rx.recv(), Some(1));
        h.join().unwrap();
        assert_eq!(rx.recv(), Some(2));
        assert_eq!(
            tx.send_timeout(3, Duration::from_millis(1)),
            Ok(()),
            "room again"
        );
        assert_eq!(
            tx.send_timeout(4, Duration::from_millis(20)),
            Err(TrySendError::Full(4))
        );
    }

    fn close_when_last_sender_drops<M: Mailbox>() {
        let (tx, rx) = M::bounded::<u32>(4);
        let tx2 = tx.clone();
        tx.send(7).map_err(|_| "closed").unwrap();
        drop(tx);
        assert_eq!(rx.try_recv(), Ok(7));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "one sender left");
        drop(tx2);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(rx.recv(), None);
    }

    fn queued_messages_survive_close<M: Mailbox>() {
        let (tx, rx) = M::bounded::<u32>(4);
        tx.send(1).map_err(|_| "closed").unwrap();
        tx.send(2).map_err(|_| "closed").unwrap();
        drop(tx);
        assert_eq!(rx.recv(), Some(1));
        assert_eq!(rx.recv(), Some(2));
        assert_eq!(rx.recv(), None);
    }

    fn receivers_woken_on_close<M: Mailbox>() {
        let (tx, rx) = M::bounded::<u32>(1);
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || rx.recv())
            })
            .collect();
        thread::sleep(Duration::from_millis(30));
        drop(tx);
        for w in waiters {
            assert_eq!(w.join().unwrap(), None);
        }
    }

    fn senders_woken_when_receivers_drop<M: Mailbox>() {
        let (tx, rx) = M::bounded::<u32>(1);
        tx.send(1).map_err(|_| "closed").unwrap();
        let h = thread::spawn(move || tx.send(2));
        thread::sleep(Duration::from_millis(30));
        drop(rx);
        assert!(h.join().unwrap().is_err());
    }

    macro_rules! contract {
        ($name:ident, $m:ty) => {
            mod $name {
                use super::*;
                #[test]
                fn capacity() {
                    capacity_is_a_hard_bound::<$m>();
                }
                #[test]
                fn order() {
                    fifo::<$m>();
                }
                #[test]
                fn blocking_send() {
                    send_blocks_while_full::<$m>();
                }
                #[test]
                fn close_on_last_sender() {
                    close_when_last_sender_drops::<$m>();
                }
                #[test]
                fn drain_after_close() {
                    queued_messages_survive_close::<$m>();
                }
                #[test]
                fn wake_receivers() {
                    receivers_woken_on_close::<$m>();
                }
                #[test]
                fn wake_senders() {
                    senders_woken_when_receivers_drop::<$m>();
                }
            }
        };
    }

    contract!(crossbeam, CrossbeamMailbox);
    contract!(flume, FlumeMailbox);
    contract!(facade, FacadeMailbox);
}
