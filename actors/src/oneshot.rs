//! One-shot replies on the sync facade: every request to an actor carries one of these.

use std::time::Duration;

use crate::sync::{self, Arc, Condvar, Mutex};

struct Slot<T> {
    value: Option<T>,
    sender_alive: bool,
    receiver_alive: bool,
}

struct Shared<T> {
    slot: Mutex<Slot<T>>,
    cv: Condvar,
}

/// The replying half. Dropping it without sending wakes the receiver with `None`.
pub struct OneshotSender<T>(Arc<Shared<T>>);
/// The waiting half.
pub struct OneshotReceiver<T>(Arc<Shared<T>>);

/// A new reply slot.
pub fn oneshot<T>() -> (OneshotSender<T>, OneshotReceiver<T>) {
    let sh = Arc::new(Shared {
        slot: Mutex::new(Slot {
            value: None,
            sender_alive: true,
            receiver_alive: true,
        }),
        cv: Condvar::new(),
    });
    (OneshotSender(sh.clone()), OneshotReceiver(sh))
}

impl<T> OneshotSender<T> {
    /// Deliver the reply. Returns it back if the receiver is gone (the requester gave up).
    pub fn send(self, value: T) -> Result<(), T> {
        let mut s = sync::lock(&self.0.slot);
        if !s.receiver_alive {
            return Err(value);
        }
        s.value = Some(value);
        drop(s);
        self.0.cv.notify_all();
        Ok(())
    }

    /// Whether the requester is still waiting.
    pub fn is_wanted(&self) -> bool {
        sync::lock(&self.0.slot).receiver_alive
    }
}

impl<T> Drop for OneshotSender<T> {
    fn drop(&mut self) {
        let mut s = sync::lock(&self.0.slot);
        s.sender_alive = false;
        drop(s);
        self.0.cv.notify_all();
    }
}

impl<T> Drop for OneshotReceiver<T> {
    fn drop(&mut self) {
        sync::lock(&self.0.slot).receiver_alive = false;
    }
}

impl<T> OneshotReceiver<T> {
    /// Wait for the reply; `None` if the sender was dropped without replying.
    pub fn recv(self) -> Option<T> {
        let mut s = sync::lock(&self.0.slot);
        loop {
            if let Some(v) = s.value.take() {
                return Some(v);
            }
            if !s.sender_alive {
                return None;
            }
            s = sync::wait(&self.0.cv, s);
        }
    }

    /// Take the reply if it is there.
    pub fn try_recv(&self) -> Option<T> {
        sync::lock(&self.0.slot).value.take()
    }

    /// Wait at most `timeout`. `Err(self)` on timeout so the caller can keep waiting.
    #[cfg(not(strata_loom))]
    pub fn recv_timeout(self, timeout: Duration) -> Result<Option<T>, OneshotReceiver<T>> {
        let deadline = std::time::Instant::now() + timeout;
        let mut s = sync::lock(&self.0.slot);
        loop {
            if let Some(v) = s.value.take() {
                return Ok(Some(v));
            }
            if !s.sender_alive {
                return Ok(None);
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                drop(s);
                return Err(self);
            }
            s = match self.0.cv.wait_timeout(s, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Under loom there is no clock: a timed wait is a plain wait.
    #[cfg(strata_loom)]
    pub fn recv_timeout(self, _timeout: Duration) -> Result<Option<T>, OneshotReceiver<T>> {
        Ok(self.recv())
    }
}

#[cfg(all(test, not(strata_loom)))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reply_arrives() {
        let (tx, rx) = oneshot();
        std::thread::spawn(move || tx.send(5));
        assert_eq!(rx.recv(), Some(5));
    }

    #[test]
    fn dropped_sender_wakes_receiver() {
        let (tx, rx) = oneshot::<u8>();
        std::thread::spawn(move || drop(tx));
        assert_eq!(rx.recv(), None);
    }

    #[test]
    fn send_to_gone_receiver_returns_value() {
        let (tx, rx) = oneshot();
        drop(rx);
        assert_eq!(tx.send(1), Err(1));
    }

    #[test]
    fn timeout_then_reply() {
        let (tx, rx) = oneshot();
        let rx = rx
            .recv_timeout(Duration::from_millis(10))
            .expect_err("timed out");
        tx.send(3).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(1)).ok(), Some(Some(3)));
    }
}
