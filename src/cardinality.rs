//! Cardinality limits, as InfluxDB 1.x has them: `max_series_per_database` (the series one
//! database may hold) and `max_values_per_tag` (the values one tag key of one measurement may
//! have). Each is charged before a series is created, under the index's locks, so concurrent
//! writers can never go past it together. A point that would create a series past a limit is
//! dropped and its write is a partial write with 1.x's text; points of existing series keep
//! writing. 0 turns a limit off.

use std::sync::atomic::{AtomicU64, Ordering};

/// The default of [`CardinalityLimits::max_series_per_database`] (InfluxDB 1.x's).
pub const DEFAULT_MAX_SERIES_PER_DATABASE: u64 = 1_000_000;
/// The default of [`CardinalityLimits::max_values_per_tag`] (InfluxDB 1.x's).
pub const DEFAULT_MAX_VALUES_PER_TAG: u64 = 100_000;

/// The limits one database's series index enforces (0: no limit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CardinalityLimits {
    pub max_series_per_database: u64,
    pub max_values_per_tag: u64,
}

/// Why a new series was refused. The texts are InfluxDB 1.x's (`partial write: <this>
/// dropped=N` once the write's dropped points are counted).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    #[error("max-series-per-database limit exceeded: ({limit})")]
    Series { limit: u64 },
    /// `count`: values the tag key has (at least `limit`); `value` is the new one refused.
    #[error("max-values-per-tag limit exceeded ({count}/{limit}): measurement={measurement:?} tag={tag:?} value={value:?}")]
    TagValues {
        count: u64,
        limit: u64,
        measurement: String,
        tag: String,
        value: String,
    },
}

/// Whether a tag key holding `count` values may take a value it does not have yet.
pub fn check_tag_values(
    limit: u64,
    count: usize,
    measurement: &str,
    tag: &str,
    value: &str,
) -> Result<(), LimitExceeded> {
    let count = u64::try_from(count).unwrap_or(u64::MAX);
    if limit == 0 || count < limit {
        return Ok(());
    }
    Err(LimitExceeded::TagValues {
        count,
        limit,
        measurement: measurement.to_string(),
        tag: tag.to_string(),
        value: value.to_string(),
    })
}

/// The series a database holds, as a budget: [`SeriesBudget::charge`] takes one place before a
/// series is created, or refuses past the limit; series found on disk are counted whatever the
/// limit (a lowered limit refuses new series, it never hides existing ones); a forgotten series
/// gives its place back.
#[derive(Debug, Default)]
pub struct SeriesBudget {
    held: AtomicU64,
}

impl SeriesBudget {
    /// Take a place for a new series, unless `limit` (0: none) places are taken.
    pub fn charge(&self, limit: u64) -> Result<(), LimitExceeded> {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (limit == 0 || n < limit).then_some(n + 1)
            })
            .map(|_| ())
            .map_err(|_| LimitExceeded::Series { limit })
    }

    /// Count a series found on disk (a table's index or a WAL record), whatever the limit.
    pub fn count_known(&self) {
        self.held.fetch_add(1, Ordering::AcqRel);
    }

    /// Give back the place of a forgotten series.
    pub fn release(&self) {
        let _ = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// Series held now.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn texts_are_influxdb_1x() {
        assert_eq!(
            LimitExceeded::Series { limit: 1_000_000 }.to_string(),
            "max-series-per-database limit exceeded: (1000000)"
        );
        let e = check_tag_values(100_000, 100_000, "cpu", "host", "h100000").unwrap_err();
        assert_eq!(
            e.to_string(),
            "max-values-per-tag limit exceeded (100000/100000): measurement=\"cpu\" tag=\"host\" value=\"h100000\""
        );
        assert!(check_tag_values(100_000, 99_999, "cpu", "host", "x").is_ok());
        assert!(check_tag_values(0, 1 << 40, "cpu", "host", "x").is_ok());
    }

    #[test]
    fn the_series_budget_is_charged_before_and_given_back() {
        let b = SeriesBudget::default();
        b.charge(2).unwrap();
        b.charge(2).unwrap();
        assert_eq!(b.charge(2), Err(LimitExceeded::Series { limit: 2 }));
        assert_eq!(b.held(), 2);
        b.release();
        b.charge(2).unwrap();
        // Series on disk count past the limit; a lower limit then refuses every new one.
        b.count_known();
        assert_eq!(b.held(), 3);
        assert!(b.charge(2).is_err());
        assert!(b.charge(0).is_ok(), "0: no limit");
    }

    #[test]
    fn concurrent_charges_never_pass_the_limit() {
        let b = std::sync::Arc::new(SeriesBudget::default());
        let ok: u64 = (0..4)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || (0..1000).filter(|_| b.charge(1500).is_ok()).count())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap() as u64)
            .sum();
        assert_eq!(ok, 1500);
        assert_eq!(b.held(), 1500);
    }
}
