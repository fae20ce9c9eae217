//! Poisoning: a worker that meets an error it will not retry, or panics, marks the database
//! unusable for writes, with the reason, instead of carrying on silently.

use crate::error::ActorError;
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{self, Arc, Mutex};

/// Shared health flag of one database's actors. `E` is the actors' I/O error
/// ([`Cause`](crate::error::Cause)); the poison reason is the [`ActorError`] that caused it.
pub struct Health<E> {
    inner: Arc<HealthInner<E>>,
}

// Derived `Clone`/`Default` would require `E: Clone`/`E: Default`; sharing the flag needs neither.
impl<E> Clone for Health<E> {
    fn clone(&self) -> Self {
        Health {
            inner: self.inner.clone(),
        }
    }
}

impl<E> Default for Health<E> {
    fn default() -> Self {
        Health {
            inner: Arc::new(HealthInner {
                poisoned: AtomicBool::new(false),
                reason: Mutex::new(None),
            }),
        }
    }
}

struct HealthInner<E> {
    poisoned: AtomicBool,
    reason: Mutex<Option<ActorError<E>>>,
}

impl<E: Clone> Health<E> {
    /// A healthy flag.
    pub fn new() -> Health<E> {
        Health::default()
    }

    /// Mark the database poisoned. The first reason is kept.
    pub fn poison(&self, reason: ActorError<E>) {
        let mut kept = sync::lock(&self.inner.reason);
        if kept.is_none() {
            *kept = Some(reason);
        }
        self.inner.poisoned.store(true, Ordering::Release);
    }

    /// `Err(reason)` once poisoned.
    pub fn check(&self) -> Result<(), ActorError<E>> {
        if !self.inner.poisoned.load(Ordering::Acquire) {
            return Ok(());
        }
        // The reason is stored before the flag is set, so it is there.
        match sync::lock(&self.inner.reason).clone() {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    /// Whether the database has been poisoned.
    pub fn is_poisoned(&self) -> bool {
        self.inner.poisoned.load(Ordering::Acquire)
    }
}

#[cfg(all(test, not(strata_loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_is_kept() {
        let health: Health<String> = Health::new();
        assert_eq!(health.check(), Ok(()));
        health.poison(ActorError::Flush("disk full".to_string()));
        health.poison(ActorError::FlusherStopped);
        assert!(health.is_poisoned());
        assert_eq!(
            health.check(),
            Err(ActorError::Flush("disk full".to_string()))
        );
    }
}
