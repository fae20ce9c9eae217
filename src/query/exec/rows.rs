//! Reading one series' rows: its fields' merged streams joined on time and filtered by the field
//! condition, or only its newest rows.

use super::check;
use super::group::GroupContext;
use super::predicate::{eval_field_pred, RowPred};
use crate::error::Result;
use crate::query::limits::Charge;
use crate::query::scan::{Segment, SegmentStream};
use crate::series::SeriesInfo;
use crate::types::{Column, FieldValue};

/// The next chunk of merged points of a stream read without pre-aggregates.
pub(super) fn next_points(st: &mut SegmentStream<'_>) -> Result<Option<Column>> {
    loop {
        match st.next()? {
            Some(Segment::Points(c)) if c.is_empty() => continue,
            Some(Segment::Points(c)) => return Ok(Some(c)),
            // Not asked for (no block qualifies): nothing to join, so skip it.
            Some(Segment::Block(_)) => continue,
            None => return Ok(None),
        }
    }
}

/// Rows of one series: (time, the value of each read field).
pub(super) type Rows = Vec<(i64, Vec<Option<FieldValue>>)>;

/// What takes one row at a time: its time and the value of each read field.
pub(super) type RowSink<'a> = dyn FnMut(i64, &[Option<FieldValue>]) -> Result<()> + 'a;

/// The number of points left in every field's chunk when all of them hold the same
/// timestamps from their positions on (and at least one), else `None`.
pub(super) fn aligned_len(heads: &[Option<(Column, usize)>]) -> Option<usize> {
    let mut first: Option<&[i64]> = None;
    for h in heads {
        let (c, i) = h.as_ref()?;
        let ts = c.timestamps.get(*i..)?;
        match first {
            None => first = Some(ts),
            Some(f) if f == ts => {}
            Some(_) => return None,
        }
    }
    first.map(<[i64]>::len).filter(|&m| m > 0)
}

impl GroupContext<'_> {
    /// One series' rows within `[min, max]` joined on time and filtered by the field
    /// condition, handed to `f` in time order. The fields are read as [`SegmentStream`]s and
    /// joined chunk by chunk, so what is held is a decoded block or so per field and source,
    /// whatever the number of points in range.
    pub(super) fn for_each_row(
        &self,
        s: &SeriesInfo,
        min: i64,
        max: i64,
        f: &mut RowSink<'_>,
    ) -> Result<()> {
        check(self.token)?;
        let n = self.fields.len();
        let mut streams = Vec::with_capacity(n);
        for field in self.fields {
            streams.push(
                self.snap
                    .segments(self.tables, s.id, field, min, max, &|_| false)?,
            );
        }
        // Per field: the chunk being joined and the position in it; `None` once its stream
        // has ended.
        let mut heads: Vec<Option<(Column, usize)>> = Vec::with_capacity(n);
        for st in &mut streams {
            heads.push(next_points(st)?.map(|c| (c, 0)));
        }
        // The row being built, reused for every row and handed over by reference. The
        // condition is checked on its own fields first; the others are read only for a
        // passing row.
        let mut vals: Vec<Option<FieldValue>> = vec![None; n];
        let mut at: Vec<Option<usize>> = vec![None; n];
        let pred = self
            .plan
            .field_filter
            .as_ref()
            .map(|fp| RowPred::new(fp, self.fields));
        let (cond_fields, rest_fields): (Vec<usize>, Vec<usize>) = match &self.plan.field_filter {
            Some(fp) => {
                let mut names = Vec::new();
                fp.fields(&mut names);
                (0..n).partition(|&k| names.contains(&self.fields[k]))
            }
            None => (Vec::new(), (0..n).collect()),
        };
        loop {
            check(self.token)?;
            for (h, st) in heads.iter_mut().zip(&mut streams) {
                if h.as_ref().is_some_and(|(c, i)| *i >= c.len()) {
                    *h = next_points(st)?.map(|c| (c, 0));
                }
            }
            // The row at time `t` whose fields sit at `at` (`None`: the field has no point at
            // `t`): built and handed over if it passes the field condition.
            let mut emit = |t: i64,
                            at: &[Option<usize>],
                            heads: &[Option<(Column, usize)>],
                            vals: &mut Vec<Option<FieldValue>>|
             -> Result<()> {
                let read = |vals: &mut [Option<FieldValue>], ks: &[usize]| {
                    for &k in ks {
                        vals[k] = match (&heads[k], at[k]) {
                            (Some((c, _)), Some(i)) => Some(c.values.get(i)),
                            _ => None,
                        };
                    }
                };
                if let Some(p) = &pred {
                    read(vals, &cond_fields);
                    if !p.holds(self.fields, vals, s) {
                        return Ok(());
                    }
                }
                read(vals, &rest_fields);
                f(t, vals)
            };
            // The common case: every field's chunk holds the same timestamps from its
            // position on (fields written together, blocks cut alike), so rows are positions
            // and need no join.
            if let Some(m) = aligned_len(&heads) {
                let firsts: Vec<usize> = heads.iter().flatten().map(|(_, i)| *i).collect();
                let ts: &[i64] = heads
                    .iter()
                    .flatten()
                    .next()
                    .and_then(|(c, i)| c.timestamps.get(*i..*i + m))
                    .unwrap_or_default();
                for (j, &t) in ts.iter().enumerate() {
                    for (a, i) in at.iter_mut().zip(&firsts) {
                        *a = Some(i + j);
                    }
                    emit(t, &at, &heads, &mut vals)?;
                }
                for (_, i) in heads.iter_mut().flatten() {
                    *i += m;
                }
                continue;
            }
            // Every field's next chunk starts after its current one ends: rows up to the
            // earliest end are complete.
            let Some(horizon) = heads
                .iter()
                .filter_map(|h| h.as_ref().and_then(|(c, _)| c.timestamps.last().copied()))
                .min()
            else {
                return Ok(());
            };
            loop {
                let next = heads
                    .iter()
                    .filter_map(|h| h.as_ref().and_then(|(c, i)| c.timestamps.get(*i).copied()))
                    .min();
                let Some(t) = next.filter(|&t| t <= horizon) else {
                    break;
                };
                for (h, a) in heads.iter_mut().zip(at.iter_mut()) {
                    *a = None;
                    if let Some((c, i)) = h {
                        if c.timestamps.get(*i) == Some(&t) {
                            *a = Some(*i);
                            *i += 1;
                        }
                    }
                }
                emit(t, &at, &heads, &mut vals)?;
            }
        }
    }

    /// The `k` newest rows of one series within `[min, max]` that pass the field condition and
    /// `keep`, in time order: the newest `k` of [`Self::rows`]'s rows that pass `keep`, built
    /// newest first so that no older row is built at all.
    pub(super) fn newest_rows(
        &self,
        s: &SeriesInfo,
        min: i64,
        max: i64,
        k: usize,
        keep: &dyn Fn(&[Option<FieldValue>]) -> bool,
    ) -> Result<(Rows, Charge)> {
        check(self.token)?;
        let n = self.fields.len();
        let mut held = self.snap.mem.empty_charge();
        let row_bytes = 48 + 40 * n as u64;
        let mut cols: Vec<Option<Column>> = Vec::with_capacity(n);
        let mut col_charges = Vec::with_capacity(n);
        for f in self.fields {
            let (col, charge) = self.snap.read_in(self.tables, s.id, f, min, max)?;
            cols.push(col);
            col_charges.push(charge);
        }
        // Per column: how many of its points are not taken yet (the newest are taken first).
        let mut left: Vec<usize> = cols
            .iter()
            .map(|c| c.as_ref().map_or(0, Column::len))
            .collect();
        let mut out: Rows = Vec::new();
        while out.len() < k {
            let newest = cols
                .iter()
                .zip(&left)
                .filter_map(|(c, &n)| Some(*c.as_ref()?.timestamps.get(n.checked_sub(1)?)?))
                .max();
            let Some(t) = newest else { break };
            let mut vals: Vec<Option<FieldValue>> = vec![None; n];
            for ((c, n), v) in cols.iter().zip(left.iter_mut()).zip(vals.iter_mut()) {
                if let Some(c) = c {
                    if *n > 0 && c.timestamps[*n - 1] == t {
                        *n -= 1;
                        *v = Some(c.values.get(*n));
                    }
                }
            }
            if let Some(fp) = &self.plan.field_filter {
                if !eval_field_pred(fp, self.fields, &vals, s) {
                    continue;
                }
            }
            if !keep(&vals) {
                continue;
            }
            let extra: u64 = vals
                .iter()
                .map(|v| match v {
                    Some(FieldValue::String(x)) => x.len() as u64,
                    _ => 0,
                })
                .sum();
            held.add(row_bytes + extra)?;
            out.push((t, vals));
        }
        out.reverse();
        Ok((out, held))
    }

    /// The `k` newest rows of one series within the statement's time range that pass the
    /// field condition and `keep`, in time order, reading only the newest blocks that can
    /// hold them: the window `[start, tmax]` widens through the series' block starts (newest
    /// first, at least doubling the blocks it decodes each time but the last, so that all the
    /// tries together decode fewer than three times the blocks of the whole range, and in the
    /// common case of a small `k` just the newest block of each field) until it holds `k` such
    /// rows or covers the whole range. Rows are merged per timestamp, so a window's rows are
    /// exactly the whole range's rows at or after its start.
    pub(super) fn newest(
        &self,
        s: &SeriesInfo,
        k: usize,
        keep: &dyn Fn(&[Option<FieldValue>]) -> bool,
    ) -> Result<(Rows, Charge)> {
        let (min, max) = (self.plan.tmin, self.plan.tmax);
        let starts = self
            .snap
            .block_starts(self.tables, s.id, self.fields, min, max);
        let mut next = starts.first().copied();
        loop {
            let (lo, blocks) = next.unwrap_or((min, usize::MAX));
            let (rows, held) = self.newest_rows(s, lo, max, k, keep)?;
            if rows.len() >= k || lo <= min || next.is_none() {
                return Ok((rows, held));
            }
            // At least twice the blocks (and at least one more than a window of none).
            next = starts
                .iter()
                .copied()
                .find(|&(_, n)| n > blocks && n >= blocks.saturating_mul(2))
                .or(starts.last().copied());
        }
    }
}
