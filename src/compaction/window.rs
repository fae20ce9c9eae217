//! Time windows of the compaction layers.
//!
//! * Fixed windows (`30m`, `1h`, `1d`, `1w`, any whole number of ns) are **epoch-aligned**: a
//!   window starts at a multiple of its length since 1970-01-01T00:00:00Z. (So a `1w` window
//!   starts on a Thursday 00:00 UTC, the same buckets as InfluxDB's `GROUP BY time(1w)`; days,
//!   hours and 30-minute windows nest inside it.)
//! * Month windows (`1mo`, `3mo`, `1y` = `12mo`) are **calendar months in UTC**: an `n`-month
//!   window starts on the first day of a month whose index since January 1970 is a multiple of
//!   `n`, so `3mo` windows are calendar quarters (Jan, Apr, Jul, Oct) and `1y` windows calendar
//!   years. A week may straddle two months; a move into a month layer cuts it at the boundary.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate};

use crate::error::{Error, Result};

const NS_PER_SEC: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * NS_PER_SEC;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// The time window of one compaction layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Epoch-aligned windows of this many nanoseconds (> 0).
    Nanos(i64),
    /// Calendar-aligned windows of this many months (> 0), UTC.
    Months(u32),
}

impl Window {
    pub const MINUTES_30: Window = Window::Nanos(30 * MINUTE);
    pub const HOUR: Window = Window::Nanos(HOUR);
    pub const DAY: Window = Window::Nanos(DAY);
    pub const WEEK: Window = Window::Nanos(WEEK);
    pub const MONTH: Window = Window::Months(1);
    pub const QUARTER: Window = Window::Months(3);
    pub const YEAR: Window = Window::Months(12);

    /// The window holding `ts`: `(start, end)`, start inclusive, end exclusive (saturating at the
    /// ends of the i64 nanosecond range).
    pub fn bounds(self, ts: i64) -> (i64, i64) {
        match self {
            Window::Nanos(n) => {
                let n = n.max(1);
                let start = ts - ts.rem_euclid(n);
                (start, start.saturating_add(n))
            }
            Window::Months(n) => {
                let n = i64::from(n.max(1));
                let secs = ts.div_euclid(NS_PER_SEC);
                let Some(dt) = DateTime::from_timestamp(secs, 0) else {
                    return (i64::MIN, i64::MAX);
                };
                let idx = (i64::from(dt.year()) - 1970) * 12 + i64::from(dt.month0());
                let first = idx - idx.rem_euclid(n);
                (month_start_ns(first), month_start_ns(first + n))
            }
        }
    }

    /// The start of the window after the one holding `ts` (`i64::MAX` past the range).
    pub fn next_start(self, ts: i64) -> i64 {
        self.bounds(ts).1
    }

    /// Parse `30m`, `1h`, `1d`, `1w`, `1mo`, `3mo`, `1y`, `90s`, `500ms`, `1000000ns`.
    pub fn parse(s: &str) -> Result<Window> {
        let t = s.trim();
        let bad = || {
            Error::Config(format!(
                "invalid compaction window {s:?}: expected a positive number with a unit \
                 (ns, us, ms, s, m, h, d, w, mo, y), e.g. 30m, 1d, 3mo"
            ))
        };
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (num, unit) = t.split_at(split);
        let n: i64 = num.parse().map_err(|_| bad())?;
        if n <= 0 {
            return Err(bad());
        }
        let months = |m: i64| u32::try_from(m).map(Window::Months).map_err(|_| bad());
        let nanos = |unit_ns: i64| n.checked_mul(unit_ns).map(Window::Nanos).ok_or_else(bad);
        match unit {
            "mo" => months(n),
            "y" => months(n.checked_mul(12).ok_or_else(bad)?),
            "ns" => nanos(1),
            "us" | "µs" => nanos(1_000),
            "ms" => nanos(1_000_000),
            "s" => nanos(NS_PER_SEC),
            "m" => nanos(MINUTE),
            "h" => nanos(HOUR),
            "d" => nanos(DAY),
            "w" => nanos(WEEK),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Window::Months(m) if m % 12 == 0 => write!(f, "{}y", m / 12),
            Window::Months(m) => write!(f, "{m}mo"),
            Window::Nanos(n) => {
                for (unit, len) in [
                    ("w", WEEK),
                    ("d", DAY),
                    ("h", HOUR),
                    ("m", MINUTE),
                    ("s", NS_PER_SEC),
                    ("ms", 1_000_000),
                    ("us", 1_000),
                ] {
                    if n % len == 0 {
                        return write!(f, "{}{unit}", n / len);
                    }
                }
                write!(f, "{n}ns")
            }
        }
    }
}

/// Nanoseconds of the first instant of month `idx` (months since January 1970), saturating.
fn month_start_ns(idx: i64) -> i64 {
    let year = 1970 + idx.div_euclid(12);
    let month = idx.rem_euclid(12) as u32 + 1;
    let Ok(year) = i32::try_from(year) else {
        return if idx < 0 { i64::MIN } else { i64::MAX };
    };
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|dt| dt.and_utc().timestamp().checked_mul(NS_PER_SEC))
        .unwrap_or(if idx < 0 { i64::MIN } else { i64::MAX })
}

/// Format a nanosecond timestamp as RFC 3339 (UTC), for `strata inspect`.
pub fn rfc3339(ts: i64) -> String {
    let dt = DateTime::from_timestamp(ts.div_euclid(NS_PER_SEC), ts.rem_euclid(NS_PER_SEC) as u32);
    match dt {
        Some(d) => d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => ts.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(y: i32, m: u32, d: u32, h: u32, mi: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
            .and_utc()
            .timestamp()
            * NS_PER_SEC
    }

    #[test]
    fn fixed_windows_are_epoch_aligned() {
        let t = ns(2024, 3, 5, 10, 47) + 123;
        assert_eq!(
            Window::MINUTES_30.bounds(t),
            (ns(2024, 3, 5, 10, 30), ns(2024, 3, 5, 11, 0))
        );
        assert_eq!(
            Window::DAY.bounds(t),
            (ns(2024, 3, 5, 0, 0), ns(2024, 3, 6, 0, 0))
        );
        // 1970-01-01 was a Thursday: weeks run Thursday to Thursday.
        assert_eq!(
            Window::WEEK.bounds(t),
            (ns(2024, 2, 29, 0, 0), ns(2024, 3, 7, 0, 0))
        );
        assert_eq!(Window::HOUR.bounds(-1), (-HOUR, 0));
    }

    #[test]
    fn month_windows_are_calendar_months_quarters_and_years() {
        let t = ns(2024, 2, 29, 23, 59);
        assert_eq!(
            Window::MONTH.bounds(t),
            (ns(2024, 2, 1, 0, 0), ns(2024, 3, 1, 0, 0))
        );
        assert_eq!(
            Window::QUARTER.bounds(t),
            (ns(2024, 1, 1, 0, 0), ns(2024, 4, 1, 0, 0))
        );
        assert_eq!(
            Window::QUARTER.bounds(ns(2024, 11, 3, 0, 0)),
            (ns(2024, 10, 1, 0, 0), ns(2025, 1, 1, 0, 0))
        );
        assert_eq!(
            Window::YEAR.bounds(t),
            (ns(2024, 1, 1, 0, 0), ns(2025, 1, 1, 0, 0))
        );
        assert_eq!(
            Window::MONTH.bounds(ns(1969, 12, 31, 23, 0)),
            (ns(1969, 12, 1, 0, 0), ns(1970, 1, 1, 0, 0))
        );
        let (s, e) = Window::YEAR.bounds(i64::MAX - 1);
        assert!(s < i64::MAX && e == i64::MAX);
    }

    #[test]
    fn parse_and_display_round_trip() {
        for s in [
            "30m", "1h", "1d", "1w", "1mo", "3mo", "1y", "90s", "5ms", "7ns",
        ] {
            assert_eq!(Window::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Window::parse("12mo").unwrap(), Window::YEAR);
        for bad in ["", "0h", "-1h", "1x", "h", "1.5h"] {
            assert!(Window::parse(bad).is_err(), "{bad}");
        }
    }
}
