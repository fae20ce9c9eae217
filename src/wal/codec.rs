//! Encoding of one WAL record payload: the batch's seqno followed by the [`WriteBatch`].
//!
//! Layout (all varints are unsigned LEB128, at most 10 bytes):
//!
//! ```text
//! seqno            u64 LE
//! format           u8 (= 1)
//! new series       varint count, then per series: id varint, key (varint len + utf8)
//! field dictionary varint count, then per name: varint len + utf8
//! rows             varint count, then per row:
//!                    series    varint
//!                    timestamp zigzag varint of (ts - previous row's ts), first row from 0
//!                    fields    varint count, then per field:
//!                                dictionary index varint, type tag u8 (FieldType as u8), value
//! values           Float: f64 bits u64 LE; Integer: zigzag varint; Unsigned: varint;
//!                  Boolean: u8 0/1; String: varint len + utf8
//! ```
//!
//! The dictionary stores each distinct field name once per record; decoded rows share the names
//! as `Arc<str>`. Decoding rejects anything malformed (truncation, bad utf8, unknown tags,
//! out-of-range dictionary indexes, trailing bytes) with an error message and never panics;
//! allocations are capped by the input that remains.

use std::collections::HashMap;
use std::sync::Arc;

use crate::types::{FieldType, FieldValue, NewSeries, Row, SeqNo, WriteBatch};

/// The only format byte this module writes and reads.
pub const FORMAT_V1: u8 = 1;

/// Append the payload of one WAL record (`seqno` + `batch`) to `out`. `out` is not cleared.
pub fn encode_batch(seqno: SeqNo, batch: &WriteBatch, out: &mut Vec<u8>) {
    // No reserve from `approx_bytes` (a pass over every field): the WAL reuses its buffer.
    out.extend_from_slice(&seqno.to_le_bytes());
    out.push(FORMAT_V1);

    put_varint(out, batch.new_series.len() as u64);
    for s in &batch.new_series {
        put_varint(out, s.id);
        put_str(out, &s.key);
    }

    // Build the field-name dictionary in first-use order, and each field's index into it.
    // Rows of one batch usually carry the same `Arc<str>` names in the same order, so try the
    // previous row's name at the same position by pointer before hashing.
    let mut names: Vec<&str> = Vec::new();
    let mut index_of: HashMap<&str, u64> = HashMap::new();
    let mut field_idx: Vec<u64> = Vec::with_capacity(batch.point_count());
    let mut prev_row: Option<(&Row, usize)> = None; // row and the start of its indexes
    for row in &batch.rows {
        let start = field_idx.len();
        for (pos, (name, _)) in row.fields.iter().enumerate() {
            let reused = prev_row.and_then(|(prev, prev_start)| {
                let (prev_name, _) = prev.fields.get(pos)?;
                if Arc::ptr_eq(prev_name, name) {
                    field_idx.get(prev_start + pos).copied()
                } else {
                    None
                }
            });
            let idx = match reused {
                Some(i) => i,
                None => *index_of.entry(&**name).or_insert_with(|| {
                    names.push(name);
                    (names.len() - 1) as u64
                }),
            };
            field_idx.push(idx);
        }
        prev_row = Some((row, start));
    }

    put_varint(out, names.len() as u64);
    for name in &names {
        put_str(out, name);
    }

    put_varint(out, batch.rows.len() as u64);
    let mut prev_ts: i64 = 0;
    let mut idx_iter = field_idx.iter();
    for row in &batch.rows {
        put_varint(out, row.series);
        put_varint(out, zigzag(row.timestamp.wrapping_sub(prev_ts)));
        prev_ts = row.timestamp;
        put_varint(out, row.fields.len() as u64);
        for ((_, value), idx) in row.fields.iter().zip(&mut idx_iter) {
            put_varint(out, *idx);
            out.push(value.field_type() as u8);
            match value {
                FieldValue::Float(v) => out.extend_from_slice(&v.to_bits().to_le_bytes()),
                FieldValue::Integer(v) => put_varint(out, zigzag(*v)),
                FieldValue::Unsigned(v) => put_varint(out, *v),
                FieldValue::Boolean(v) => out.push(u8::from(*v)),
                FieldValue::String(s) => put_str(out, s),
            }
        }
    }
}

/// Decode one WAL record payload written by [`encode_batch`]. The whole input must be consumed.
pub fn decode_batch(buf: &[u8]) -> Result<(SeqNo, WriteBatch), String> {
    let mut r = Reader { buf, pos: 0 };
    let seqno = u64::from_le_bytes(r.array::<8>("seqno")?);
    let format = r.u8("format byte")?;
    if format != FORMAT_V1 {
        return Err(format!("unknown WAL record format {format}"));
    }

    let n_series = r.count("new series count")?;
    let mut new_series = Vec::with_capacity(n_series);
    for _ in 0..n_series {
        let id = r.varint("series id")?;
        let key = r.string("series key")?;
        new_series.push(NewSeries { id, key });
    }

    let n_names = r.count("field dictionary count")?;
    let mut names: Vec<Arc<str>> = Vec::with_capacity(n_names);
    for _ in 0..n_names {
        names.push(Arc::from(r.str("field name")?));
    }

    let n_rows = r.count("row count")?;
    let mut rows = Vec::with_capacity(n_rows);
    let mut prev_ts: i64 = 0;
    for _ in 0..n_rows {
        let series = r.varint("row series")?;
        let timestamp = prev_ts.wrapping_add(unzigzag(r.varint("timestamp delta")?));
        prev_ts = timestamp;
        let n_fields = r.count("field count")?;
        let mut fields = Vec::with_capacity(n_fields);
        for _ in 0..n_fields {
            let at = r.pos;
            let idx = r.varint("field name index")?;
            let name = usize::try_from(idx)
                .ok()
                .and_then(|i| names.get(i))
                .ok_or_else(|| {
                    format!(
                        "field name index {idx} at byte {at} out of range (dictionary has {} names)",
                        names.len()
                    )
                })?;
            let at = r.pos;
            let tag = r.u8("field type")?;
            let value = match FieldType::from_u8(tag) {
                Some(FieldType::Float) => {
                    FieldValue::Float(f64::from_bits(u64::from_le_bytes(r.array::<8>("float")?)))
                }
                Some(FieldType::Integer) => FieldValue::Integer(unzigzag(r.varint("integer")?)),
                Some(FieldType::Unsigned) => FieldValue::Unsigned(r.varint("unsigned")?),
                Some(FieldType::Boolean) => {
                    let at = r.pos;
                    match r.u8("boolean")? {
                        0 => FieldValue::Boolean(false),
                        1 => FieldValue::Boolean(true),
                        b => return Err(format!("invalid boolean byte {b} at byte {at}")),
                    }
                }
                Some(FieldType::String) => FieldValue::String(r.string("string value")?),
                None => return Err(format!("unknown field type tag {tag} at byte {at}")),
            };
            fields.push((Arc::clone(name), value));
        }
        rows.push(Row {
            series,
            timestamp,
            fields,
        });
    }

    if r.pos != buf.len() {
        return Err(format!(
            "{} trailing bytes after the batch at byte {}",
            buf.len() - r.pos,
            r.pos
        ));
    }
    Ok((seqno, WriteBatch { new_series, rows }))
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Bounds-checked cursor over a payload. Every method names what it was reading on error.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or_else(|| {
                format!(
                    "truncated {what}: need {n} bytes at byte {}, {} left",
                    self.pos,
                    self.remaining()
                )
            })?;
        let s = self.buf.get(self.pos..end).ok_or("internal bounds error")?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        let s = self.bytes(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.array::<1>(what)?[0])
    }

    fn varint(&mut self, what: &str) -> Result<u64, String> {
        let start = self.pos;
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8(what)?;
            if shift == 63 && b > 1 {
                return Err(format!("{what}: varint at byte {start} overflows u64"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!("{what}: varint at byte {start} overflows u64"))
    }

    /// A count of items that each take at least one byte: rejected if more than the input left,
    /// which also caps the allocation made from it.
    fn count(&mut self, what: &str) -> Result<usize, String> {
        let at = self.pos;
        let n = self.varint(what)?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(format!(
                "{what} {n} at byte {at} exceeds the {} bytes left",
                self.remaining()
            )),
        }
    }

    fn str(&mut self, what: &str) -> Result<&'a str, String> {
        let at = self.pos;
        let len = self.varint(what)?;
        let len = usize::try_from(len).map_err(|_| format!("{what}: length {len} too large"))?;
        let bytes = self.bytes(len, what)?;
        std::str::from_utf8(bytes).map_err(|e| format!("{what} at byte {at} is not utf-8: {e}"))
    }

    fn string(&mut self, what: &str) -> Result<String, String> {
        self.str(what).map(str::to_owned)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Batch equality where floats compare by bit pattern (NaN == NaN, 0.0 != -0.0).
    pub(crate) fn same_batch(a: &WriteBatch, b: &WriteBatch) -> bool {
        fn same_value(a: &FieldValue, b: &FieldValue) -> bool {
            match (a, b) {
                (FieldValue::Float(x), FieldValue::Float(y)) => x.to_bits() == y.to_bits(),
                _ => a == b,
            }
        }
        a.new_series == b.new_series
            && a.rows.len() == b.rows.len()
            && a.rows.iter().zip(&b.rows).all(|(x, y)| {
                x.series == y.series
                    && x.timestamp == y.timestamp
                    && x.fields.len() == y.fields.len()
                    && x.fields
                        .iter()
                        .zip(&y.fields)
                        .all(|((kx, vx), (ky, vy))| kx == ky && same_value(vx, vy))
            })
    }

    fn value_strategy() -> impl Strategy<Value = FieldValue> {
        prop_oneof![
            any::<u64>().prop_map(|b| FieldValue::Float(f64::from_bits(b))),
            any::<f64>().prop_map(FieldValue::Float),
            any::<i64>().prop_map(FieldValue::Integer),
            any::<u64>().prop_map(FieldValue::Unsigned),
            any::<bool>().prop_map(FieldValue::Boolean),
            ".{0,12}".prop_map(FieldValue::String),
        ]
    }

    fn batch_strategy() -> impl Strategy<Value = WriteBatch> {
        let names = prop::collection::vec(".{0,8}", 1..6);
        let series = prop::collection::vec((any::<u64>(), ".{0,20}"), 0..4);
        (names, series).prop_flat_map(|(names, series)| {
            let names: Vec<Arc<str>> = names.into_iter().map(Arc::from).collect();
            let n = names.len();
            let field = (0..n, value_strategy())
                .prop_map(move |(i, v)| (Arc::clone(&names[i % names.len()]), v));
            let row = (
                any::<u64>(),
                any::<i64>(),
                prop::collection::vec(field, 0..6),
            )
                .prop_map(|(series, timestamp, fields)| Row {
                    series,
                    timestamp,
                    fields,
                });
            let series: Vec<NewSeries> = series
                .into_iter()
                .map(|(id, key)| NewSeries { id, key })
                .collect();
            prop::collection::vec(row, 0..8).prop_map(move |rows| WriteBatch {
                new_series: series.clone(),
                rows,
            })
        })
    }

    proptest! {
        #[test]
        fn codec_round_trip(seqno in any::<u64>(), batch in batch_strategy()) {
            let mut buf = vec![0xAA]; // encode appends; make sure it does not clobber
            encode_batch(seqno, &batch, &mut buf);
            prop_assert_eq!(buf[0], 0xAA);
            let (s, decoded) = decode_batch(&buf[1..]).map_err(TestCaseError::fail)?;
            prop_assert_eq!(s, seqno);
            prop_assert!(same_batch(&batch, &decoded), "{:?} != {:?}", batch, decoded);
        }

        #[test]
        fn decode_garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_batch(&bytes);
        }

        #[test]
        fn decode_mutated_never_panics(
            batch in batch_strategy(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut buf = Vec::new();
            encode_batch(7, &batch, &mut buf);
            for (i, b) in flips {
                let i = i.index(buf.len());
                buf[i] ^= b;
            }
            let _ = decode_batch(&buf);
            let _ = decode_batch(&buf[..cut.index(buf.len() + 1)]);
        }
    }

    #[test]
    fn every_prefix_of_a_record_is_rejected() {
        let name: Arc<str> = Arc::from("usage_user");
        let batch = WriteBatch {
            new_series: vec![NewSeries {
                id: 3,
                key: "cpu,host=ä".into(),
            }],
            rows: vec![Row {
                series: 3,
                timestamp: -5,
                fields: vec![
                    (Arc::clone(&name), FieldValue::String("héllo".into())),
                    (Arc::from("b"), FieldValue::Boolean(true)),
                ],
            }],
        };
        let mut buf = Vec::new();
        encode_batch(1, &batch, &mut buf);
        for cut in 0..buf.len() {
            assert!(decode_batch(&buf[..cut]).is_err(), "prefix {cut} decoded");
        }
        let mut longer = buf.clone();
        longer.push(0);
        assert!(decode_batch(&longer).is_err());
        assert!(decode_batch(&buf).is_ok());
    }

    #[test]
    fn dictionary_stores_each_name_once_and_shares_arcs() {
        let names: Vec<Arc<str>> = (0..10).map(|i| Arc::from(format!("usage_{i}"))).collect();
        let rows: Vec<Row> = (0..100)
            .map(|r| Row {
                series: r % 7,
                timestamp: 1_700_000_000_000_000_000 + (r as i64) * 10_000_000_000,
                fields: names
                    .iter()
                    .map(|n| (Arc::clone(n), FieldValue::Float(r as f64)))
                    .collect(),
            })
            .collect();
        let batch = WriteBatch {
            new_series: vec![],
            rows,
        };
        let mut buf = Vec::new();
        encode_batch(9, &batch, &mut buf);
        let text = String::from_utf8_lossy(&buf);
        assert_eq!(text.matches("usage_3").count(), 1);
        let (_, decoded) = decode_batch(&buf).expect("decodes");
        assert!(same_batch(&batch, &decoded));
        assert!(Arc::ptr_eq(
            &decoded.rows[0].fields[3].0,
            &decoded.rows[99].fields[3].0
        ));
        // Same names as different Arcs (not pointer-equal) still share one dictionary entry.
        let mut batch2 = batch.clone();
        batch2.rows[1].fields[3].0 = Arc::from("usage_3");
        let mut buf2 = Vec::new();
        encode_batch(9, &batch2, &mut buf2);
        assert_eq!(buf, buf2);
    }

    #[test]
    fn varint_edges() {
        for v in [0u64, 1, 127, 128, 300, u64::MAX - 1, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut r = Reader { buf: &b, pos: 0 };
            assert_eq!(r.varint("v"), Ok(v));
            assert_eq!(r.pos, b.len());
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        // 10th byte above 1 overflows.
        let b = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(Reader { buf: &b, pos: 0 }.varint("v").is_err());
        let b = [0x80; 11];
        assert!(Reader { buf: &b, pos: 0 }.varint("v").is_err());
    }
}
