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

use crate::error::{Error, Result, StopReason};

/// The limits of one SELECT statement and what it has used so far. Clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct SelectLimits {
    max_points: u64,
    max_series: u64,
    /// Most GROUP BY time() buckets (0: unlimited).
    max_buckets: u64,
    /// Most points a statement run inline (on the caller's thread) is estimated to read before
    /// it has to move to the pool; 0: the statement is not running inline.
    inline_points: u64,
    used: Arc<Used>,
}

#[derive(Debug, Default)]
struct Used {
    points: AtomicU64,
    series: AtomicU64,
    estimated: AtomicU64,
}

impl SelectLimits {
    /// Limits of `max_points` points and `max_series` series (0: that one is unlimited).
    pub fn new(max_points: u64, max_series: u64) -> SelectLimits {
        SelectLimits {
            max_points,
            max_series,
            max_buckets: 0,
            inline_points: 0,
            used: Arc::default(),
        }
    }

    /// These limits with at most `max_buckets` GROUP BY time() buckets (0: unlimited).
    pub fn with_buckets(mut self, max_buckets: u64) -> SelectLimits {
        self.max_buckets = max_buckets;
        self
    }

    /// A statement is about to make `n` buckets (per group). Fails with
    /// [`Error::MaxSelectBucketsExceeded`] past the limit, before any is made.
    pub fn check_buckets(&self, n: u64) -> Result<()> {
        if self.max_buckets > 0 && n > self.max_buckets {
            return Err(Error::MaxSelectBucketsExceeded {
                buckets: n,
                limit: self.max_buckets,
            });
        }
        Ok(())
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

    /// The statement runs inline, on the caller's thread, as long as the points it is
    /// estimated to read stay within `max_points` (see [`SelectLimits::inline_estimate`]).
    pub(crate) fn inline_budget(mut self, max_points: u64) -> SelectLimits {
        self.inline_points = max_points;
        self
    }

    /// Whether the statement runs inline under a budget of estimated points.
    pub(crate) fn is_inline(&self) -> bool {
        self.inline_points > 0
    }

    /// `n` more points are estimated to be read (an upper bound, known before they are read).
    /// Inline, a total past the budget fails with [`Error::QueryStopped`] and
    /// [`StopReason::OverInlineBudget`], which stops the statement before it reads anything more; the
    /// caller then hands the whole query to the pool. A no-op when not inline.
    pub(crate) fn inline_estimate(&self, n: u64) -> Result<()> {
        if self.inline_points == 0 {
            return Ok(());
        }
        let total = add(
            &self.used.estimated,
            usize::try_from(n).unwrap_or(usize::MAX),
        );
        if total > self.inline_points {
            return Err(Error::QueryStopped(StopReason::OverInlineBudget));
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

/// The memory budget of one query (`Config::query_memory_limit`): the bytes it really holds —
/// decoded columns it keeps, accumulator buffers (median, distinct, …), result rows — are
/// charged before they are allocated, and a charge past the limit fails with
/// [`Error::QueryMemoryLimitExceeded`]. Clones share the count; a [`Charge`] gives its bytes back
/// when dropped. A limit of 0 means unlimited.
#[derive(Clone, Debug, Default)]
pub struct QueryMemory {
    limit: u64,
    used: Arc<MemUsed>,
}

#[derive(Debug, Default)]
struct MemUsed {
    now: AtomicU64,
    peak: AtomicU64,
}

impl QueryMemory {
    pub fn new(limit: u64) -> QueryMemory {
        QueryMemory {
            limit,
            used: Arc::default(),
        }
    }

    /// A charge of nothing yet, to [`Charge::add`] to as the bytes come (it cannot fail).
    pub fn empty_charge(&self) -> Charge {
        Charge {
            mem: self.clone(),
            bytes: 0,
        }
    }

    /// Charge `n` bytes, returned when the [`Charge`] is dropped.
    pub fn charge(&self, n: u64) -> Result<Charge> {
        self.take(n)?;
        Ok(Charge {
            mem: self.clone(),
            bytes: n,
        })
    }

    fn take(&self, n: u64) -> Result<()> {
        let prev = self
            .used
            .now
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                let t = c.saturating_add(n);
                (self.limit == 0 || t <= self.limit).then_some(t)
            })
            .map_err(|held| Error::QueryMemoryLimitExceeded {
                limit: self.limit,
                held,
                wanted: n,
            })?;
        self.used
            .peak
            .fetch_max(prev.saturating_add(n), Ordering::Relaxed);
        Ok(())
    }

    fn give(&self, n: u64) {
        let _ = self
            .used
            .now
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                Some(c.saturating_sub(n))
            });
    }

    /// Bytes held now.
    pub fn used(&self) -> u64 {
        self.used.now.load(Ordering::Relaxed)
    }

    /// Most bytes held at once.
    pub fn peak(&self) -> u64 {
        self.used.peak.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }
}

/// Bytes charged to a [`QueryMemory`], given back on drop.
#[derive(Debug)]
#[must_use = "a charge is given back when dropped"]
pub struct Charge {
    mem: QueryMemory,
    bytes: u64,
}

impl Charge {
    /// Charge `n` more bytes to this charge.
    pub fn add(&mut self, n: u64) -> Result<()> {
        self.mem.take(n)?;
        self.bytes = self.bytes.saturating_add(n);
        Ok(())
    }

    /// Make this charge exactly `n` bytes (giving back or taking the difference).
    pub fn set(&mut self, n: u64) -> Result<()> {
        if n > self.bytes {
            self.add(n - self.bytes)
        } else {
            self.mem.give(self.bytes - n);
            self.bytes = n;
            Ok(())
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.mem.give(self.bytes);
    }
}

/// Bytes charged ahead, [`RESERVATION_CHUNK`] at a time, and used a few at a time without an
/// atomic operation each: what a per-point charge (an accumulator keeping a point) takes. Every
/// byte used is charged before it is used; at most one chunk is charged and not used, and near
/// the limit a chunk that does not fit is not charged: only what is asked for is.
#[derive(Debug)]
pub struct Reservation {
    charge: Charge,
    /// Charged and not in use.
    spare: u64,
}

/// What a [`Reservation`] charges ahead when it runs out (per aggregating task).
pub const RESERVATION_CHUNK: u64 = 64 << 10;

impl Reservation {
    /// An empty reservation against `memory`.
    pub fn new(memory: &QueryMemory) -> Reservation {
        Reservation {
            charge: memory.empty_charge(),
            spare: 0,
        }
    }

    /// Use `n` bytes, charging more first if the spare ones are too few: past the query's
    /// memory limit this fails and nothing is used.
    pub fn take(&mut self, n: u64) -> Result<()> {
        if n <= self.spare {
            self.spare -= n;
            return Ok(());
        }
        let short = n - self.spare;
        let ahead = short.max(RESERVATION_CHUNK);
        let charged = match self.charge.add(ahead) {
            Ok(()) => ahead,
            Err(_) if ahead > short => {
                self.charge.add(short)?;
                short
            }
            Err(limit) => return Err(limit),
        };
        self.spare = self.spare + charged - n;
        Ok(())
    }

    /// Stop using `n` bytes taken (they stay charged, spare for the next [`Reservation::take`]).
    pub fn give_back(&mut self, n: u64) {
        self.spare = self.spare.saturating_add(n).min(self.charge.bytes);
    }

    /// Bytes in use: taken and not given back.
    pub fn in_use(&self) -> u64 {
        self.charge.bytes - self.spare
    }

    /// Bytes charged to the query's memory (in use and spare).
    pub fn charged(&self) -> u64 {
        self.charge.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_charges_ahead_in_chunks_and_exactly_near_the_limit() {
        let memory = QueryMemory::new(RESERVATION_CHUNK + 100);
        let mut r = Reservation::new(&memory);
        r.take(10).unwrap();
        assert_eq!((r.in_use(), r.charged()), (10, RESERVATION_CHUNK));
        assert_eq!(memory.used(), RESERVATION_CHUNK);
        r.take(RESERVATION_CHUNK - 10).unwrap(); // the spare bytes, no new charge
        assert_eq!(memory.used(), RESERVATION_CHUNK);
        // A chunk no longer fits: only what is asked for is charged.
        r.take(60).unwrap();
        assert_eq!(memory.used(), RESERVATION_CHUNK + 60);
        r.give_back(30);
        r.take(70).unwrap(); // 30 spare + 40 more
        assert_eq!(memory.used(), RESERVATION_CHUNK + 100);
        let e = r.take(1).unwrap_err();
        assert!(matches!(e, Error::QueryMemoryLimitExceeded { .. }), "{e:?}");
        assert_eq!(r.in_use(), RESERVATION_CHUNK + 100);
        r.give_back(u64::MAX); // never more than was charged
        assert_eq!(r.in_use(), 0);
        drop(r);
        assert_eq!(memory.used(), 0);
    }

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

    #[test]
    fn memory_charges_fail_past_the_limit_and_come_back_on_drop() {
        let m = QueryMemory::new(100);
        let a = m.charge(60).unwrap();
        let mut b = m.charge(40).unwrap(); // exactly the limit
        assert_eq!(m.used(), 100);
        let e = m.charge(1).unwrap_err();
        assert!(e.to_string().contains("query_memory_limit"), "{e}");
        assert!(matches!(
            e,
            Error::QueryMemoryLimitExceeded {
                limit: 100,
                held: 100,
                wanted: 1
            }
        ));
        // A failed charge takes nothing.
        assert_eq!(m.used(), 100);
        drop(a);
        assert_eq!(m.used(), 40);
        b.set(10).unwrap();
        assert_eq!(m.used(), 10);
        b.add(90).unwrap();
        assert!(b.add(1).is_err());
        assert_eq!(b.bytes(), 100);
        drop(b);
        assert_eq!(m.used(), 0);
        assert_eq!(m.peak(), 100);
    }

    #[test]
    fn memory_zero_means_unlimited_and_clones_share() {
        let m = QueryMemory::new(0);
        let _big = m.charge(u64::MAX / 2).unwrap();
        let n = QueryMemory::new(10);
        let c = n.clone().charge(8).unwrap();
        assert!(n.charge(3).is_err());
        drop(c);
        assert!(n.charge(3).is_ok());
    }
}
