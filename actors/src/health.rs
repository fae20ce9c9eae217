//! Poisoning: a worker that meets an fsync error or panics marks the database unusable for
//! writes, with the reason, instead of carrying on silently.

use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{self, Arc, Mutex};

/// Shared health flag of one database's actors.
#[derive(Clone, Default)]
pub struct Health {
    inner: Arc<HealthInner>,
}

#[derive(Default)]
struct HealthInner {
    poisoned: AtomicBool,
    reason: Mutex<Option<String>>,
}

impl Health {
    pub fn new() -> Health {
        Health::default()
    }

    /// Mark the database poisoned. The first reason is kept.
    pub fn poison(&self, reason: impl Into<String>) {
        let mut r = sync::lock(&self.inner.reason);
        if r.is_none() {
            *r = Some(reason.into());
        }
        self.inner.poisoned.store(true, Ordering::Release);
    }

    /// `Err(reason)` once poisoned.
    pub fn check(&self) -> Result<(), String> {
        if !self.inner.poisoned.load(Ordering::Acquire) {
            return Ok(());
        }
        Err(sync::lock(&self.inner.reason)
            .clone()
            .unwrap_or_else(|| "unknown failure".to_string()))
    }

    pub fn is_poisoned(&self) -> bool {
        self.inner.poisoned.load(Ordering::Acquire)
    }
}
