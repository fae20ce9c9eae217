//! When the flusher and the compactors try again after a failed step.
//!
//! A failed flush or compaction changes nothing in the catalog: its partial outputs are its own
//! (logged pending) and the data it was moving is still where it was (a frozen memtable and the
//! WAL, or the input tables). So an I/O failure — a full disk, a failing device — is retried
//! with a growing wait instead of poisoning the database, and work resumes by itself once the
//! cause clears. Anything else (a bug such as a series missing from the index) and any failure
//! while the database is closing gives up: the database is poisoned and the data stays in the
//! WAL for the next start.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;

/// The first wait after a failure.
pub const FIRST_WAIT: Duration = Duration::from_millis(20);
/// The longest wait between two attempts.
pub const MAX_WAIT: Duration = Duration::from_secs(2);

/// The retry decision of one background worker.
#[derive(Debug, Clone)]
pub struct BackgroundRetry {
    closing: Arc<AtomicBool>,
    /// Whether the last failure was one that can pass (an I/O error).
    transient: bool,
}

impl BackgroundRetry {
    /// Retries end once `closing` is set.
    pub fn new(closing: Arc<AtomicBool>) -> BackgroundRetry {
        BackgroundRetry {
            closing,
            transient: false,
        }
    }

    /// Note the error a step failed with (before the worker asks [`BackgroundRetry::after`]),
    /// and log it.
    pub fn failed(&mut self, what: &str, e: &Error) {
        self.transient = matches!(e, Error::Io { .. });
        if self.transient {
            tracing::warn!(error = %e, "{what} failed; it is tried again until the cause clears");
        } else {
            tracing::error!(error = %e, "{what} failed");
        }
    }

    /// How long to wait before attempt `failures + 1`, or `None` to give up.
    pub fn after(&self, failures: u32) -> Option<Duration> {
        if !self.transient || self.closing.load(Ordering::Acquire) {
            return None;
        }
        let doublings = failures.saturating_sub(1).min(16);
        Some(FIRST_WAIT.saturating_mul(1 << doublings).min(MAX_WAIT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_retried_with_growing_waits_until_closing() {
        let closing = Arc::new(AtomicBool::new(false));
        let mut r = BackgroundRetry::new(closing.clone());
        r.failed(
            "flush",
            &Error::io("write", std::io::Error::other("disk full")),
        );
        assert_eq!(r.after(1), Some(FIRST_WAIT));
        assert_eq!(r.after(2), Some(FIRST_WAIT * 2));
        assert_eq!(r.after(40), Some(MAX_WAIT));
        closing.store(true, Ordering::Release);
        assert_eq!(r.after(1), None);
        closing.store(false, Ordering::Release);
        r.failed(
            "flush",
            &Error::Query("series 3 missing from the index".into()),
        );
        assert_eq!(r.after(1), None);
    }
}
