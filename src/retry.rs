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
}

/// Whether a failure can pass by itself (an I/O error: a full disk, a failing device).
fn is_transient(error: &Error) -> bool {
    matches!(error, Error::Io { .. })
}

impl BackgroundRetry {
    /// Retries end once `closing` is set.
    pub fn new(closing: Arc<AtomicBool>) -> BackgroundRetry {
        BackgroundRetry { closing }
    }

    /// Log the error a step (`what`) failed with: a warning if it is retried, an error if not.
    pub fn report(&self, what: &str, error: &Error) {
        if is_transient(error) {
            tracing::warn!(%error, "{what} failed; it is tried again until the cause clears");
        } else {
            tracing::error!(%error, "{what} failed");
        }
    }

    /// How long to wait before attempt `failures + 1` after a step failed with `error`, or
    /// `None` to give up.
    pub fn after(&self, failures: u32, error: &Error) -> Option<Duration> {
        if !is_transient(error) || self.closing.load(Ordering::Acquire) {
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
        let retry = BackgroundRetry::new(closing.clone());
        let disk_full = Error::io("write", std::io::Error::other("disk full"));
        assert_eq!(retry.after(1, &disk_full), Some(FIRST_WAIT));
        assert_eq!(retry.after(2, &disk_full), Some(FIRST_WAIT * 2));
        assert_eq!(retry.after(40, &disk_full), Some(MAX_WAIT));
        closing.store(true, Ordering::Release);
        assert_eq!(retry.after(1, &disk_full), None);
        closing.store(false, Ordering::Release);
        assert_eq!(retry.after(1, &Error::SeriesNotIndexed { series: 3 }), None);
    }
}
