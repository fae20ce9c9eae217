//! Per-statement read limits of a SELECT, as InfluxDB 1.x's `max-select-point` and
//! `max-select-series` (`Config::max_select_points`, `Config::max_select_series`; 0 means
//! unlimited).
//!
//! The executor reports what it resolves and reads: [`SelectLimits::add_series`] once the
//! series of a measurement are known, [`SelectLimits::add_points`] for every run of points it
//! reads. The counts accumulate over the whole statement; the call that takes a count past its
//! limit fails with the typed error, whose text is 1.x's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// The limits of one SELECT statement and what it has used so far. Clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct SelectLimits {
    max_points: u64,
    max_series: u64,
    used: Arc<Used>,
}

#[derive(Debug, Default)]
struct Used {
    points: AtomicU64,
    series: AtomicU64,
}

impl SelectLimits {
    /// Limits of `max_points` points and `max_series` series (0: that one is unlimited).
    pub fn new(max_points: u64, max_series: u64) -> SelectLimits {
        SelectLimits {
            max_points,
            max_series,
            used: Arc::default(),
        }
    }

    /// No limits.
    pub fn unlimited() -> SelectLimits {
        SelectLimits::default()
    }

    /// `n` more series were selected. Fails with [`Error::MaxSelectSeriesExceeded`] once the
    /// statement's total is above the limit.
    pub fn add_series(&self, n: usize) -> Result<()> {
        let total = add(&self.used.series, n);
        if self.max_series > 0 && total > self.max_series {
            return Err(Error::MaxSelectSeriesExceeded {
                selected: total,
                limit: self.max_series,
            });
        }
        Ok(())
    }

    /// `n` more points were read. Fails with [`Error::MaxSelectPointsExceeded`] once the
    /// statement's total is above the limit.
    pub fn add_points(&self, n: usize) -> Result<()> {
        let total = add(&self.used.points, n);
        if self.max_points > 0 && total > self.max_points {
            return Err(Error::MaxSelectPointsExceeded {
                read: total,
                limit: self.max_points,
            });
        }
        Ok(())
    }

    /// Points read so far.
    pub fn points(&self) -> u64 {
        self.used.points.load(Ordering::Relaxed)
    }

    /// Series selected so far.
    pub fn series(&self) -> u64 {
        self.used.series.load(Ordering::Relaxed)
    }
}

/// Add `n` and return the new total (saturating: a count can never wrap below a limit).
fn add(counter: &AtomicU64, n: usize) -> u64 {
    let n = u64::try_from(n).unwrap_or(u64::MAX);
    let prev = counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
            Some(c.saturating_add(n))
        })
        .unwrap_or_else(|c| c);
    prev.saturating_add(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_unlimited() {
        let l = SelectLimits::unlimited();
        assert!(l.add_points(usize::MAX).is_ok());
        assert!(l.add_points(usize::MAX).is_ok());
        assert!(l.add_series(1 << 40).is_ok());
        assert_eq!(l.points(), u64::MAX);
    }

    #[test]
    fn points_accumulate_and_the_limit_itself_is_allowed() {
        let l = SelectLimits::new(10, 0);
        assert!(l.add_points(4).is_ok());
        assert!(l.add_points(6).is_ok()); // exactly the limit
        let e = l.add_points(3).unwrap_err();
        assert!(
            matches!(
                e,
                Error::MaxSelectPointsExceeded {
                    read: 13,
                    limit: 10
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "max-select-point limit exceeded: (13/10)");
    }

    #[test]
    fn series_accumulate_over_measurements() {
        let l = SelectLimits::new(0, 3);
        assert!(l.add_series(2).is_ok());
        let e = l.add_series(2).unwrap_err();
        assert_eq!(e.to_string(), "max-select-series limit exceeded: (4/3)");
        // Points are not limited by a series limit.
        assert!(l.add_points(1_000_000).is_ok());
    }

    #[test]
    fn clones_share_the_counts() {
        let a = SelectLimits::new(5, 0);
        let b = a.clone();
        assert!(a.add_points(3).is_ok());
        assert!(b.add_points(3).is_err());
        assert_eq!(a.points(), 6);
    }
}
