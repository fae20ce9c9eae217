//! Property tests of every codec: bit-exact round trips of arbitrary input and no panics on
//! arbitrary bytes.

use super::*;
use proptest::prelude::*;

#[test]
fn zigzag_extremes() {
    for v in [0, 1, -1, i64::MIN, i64::MAX, 63, -64] {
        assert_eq!(unzigzag(zigzag(v)), v);
    }
    assert_eq!(zigzag(-1), 1);
    assert_eq!(zigzag(1), 2);
}

#[test]
fn varint_rejects_overflow_and_truncation() {
    let mut buf = Vec::new();
    put_uvarint(&mut buf, u64::MAX);
    assert_eq!(buf.len(), 10);
    assert_eq!(Input::new(&buf).uvarint("x"), Ok(u64::MAX));
    let mut bad = buf.clone();
    bad[9] = 2;
    assert!(Input::new(&bad).uvarint("x").is_err());
    assert!(Input::new(&buf[..9]).uvarint("x").is_err());
    assert!(Input::new(&[0x80; 11]).uvarint("x").is_err());
}

#[test]
fn decoders_reject_bad_input() {
    assert!(decode_bools(BOOL_BYTE, &[2], 1).is_err());
    assert!(decode_bools(BOOL_BYTE, &[1, 0], 1).is_err());
    assert!(
        decode_bools(BOOL_BITMAP, &[0b10], 1).is_err(),
        "padding bit set"
    );
    assert!(decode_bools(BOOL_BITMAP, &[0, 0], 9).is_ok());
    assert!(decode_bools(BOOL_BITMAP, &[0, 0], 8).is_err(), "extra byte");
    assert!(decode_floats(FLOAT_RAW, &[0; 7], 1).is_err());
    assert!(decode_floats(FLOAT_RAW, &[0; 8], usize::MAX).is_err());
    assert!(decode_floats(FLOAT_GORILLA, &[0; 8], usize::MAX).is_err());
    assert!(decode_floats(FLOAT_DECIMAL, &[0, 0, 0, 0], usize::MAX).is_err());
    assert!(decode_floats(4, &[], 0).is_err());
    assert!(decode_strings(STRING_LEN_PREFIXED, &[2, 0xff, 0xfe], 1).is_err());
    assert!(decode_strings(STRING_LEN_PREFIXED, &[5, b'a'], 1).is_err());
    assert!(decode_strings(STRING_DEFLATE, &[5, 1, 2, 3], 1).is_err());
    assert!(decode_unsigned(UNSIGNED_VARINT, &[1, 2], 1).is_err());
    assert!(decode_integers(3, &[], 0).is_err());
    assert!(decode_integers(INT_PACKED, &[0, 0, 0], usize::MAX).is_err());
    assert!(decode_timestamps(TS_DELTA_ZIGZAG, &[0x80], 1).is_err());
    assert!(decode_timestamps(TS_PACKED, &[1, 0, 0, 0, 0], 1).is_err());
}

#[test]
fn compressed_strings_announcing_a_wrong_length_are_rejected() {
    let v: Vec<String> = (0..100).map(|i| format!("host_{}", i % 3)).collect();
    let mut buf = Vec::new();
    assert_eq!(encode_strings(&v, &mut buf), STRING_DEFLATE);
    assert_eq!(decode_strings(STRING_DEFLATE, &buf, 100), Ok(v.clone()));
    // The raw length is the leading varint; announce one byte less, then one more.
    let mut raw_len = Input::new(&buf);
    let n = raw_len.uvarint("len").expect("len");
    let body = &buf[raw_len.position()..];
    for wrong in [n - 1, n + 1] {
        let mut bad = Vec::new();
        put_uvarint(&mut bad, wrong);
        bad.extend_from_slice(body);
        assert!(
            decode_strings(STRING_DEFLATE, &bad, 100).is_err(),
            "{wrong}"
        );
    }
}

/// A TSBS-shaped block (10 s timestamps, a 2-decimal random walk in [0, 100]) of 1000 points
/// must stay small: measured about 1.0 byte/point; fail well before the raw 16.
#[test]
fn tsbs_block_costs_at_most_two_bytes_per_point() {
    for seed in 0..5 {
        let c = crate::bench_data::float_column(seed, 1000);
        let Values::Float(v) = &c.values else {
            panic!("float column");
        };
        let mut ts = Vec::new();
        assert_eq!(encode_timestamps(&c.timestamps, &mut ts), TS_PACKED);
        let mut vals = Vec::new();
        let id = encode_floats(v, &mut vals);
        // Since format v5 the range-coded deltas win (see below).
        assert_eq!(id, FLOAT_DECIMAL_MUL_RANGE, "seed {seed}");
        // Two-decimal values in [0, 100] all decode by multiplication (ALP's e = 14, f = 12).
        let mut v4 = Vec::new();
        assert_eq!(encode_floats_decimal(v, &mut v4), Some(FLOAT_DECIMAL_MUL));
        let mut v3 = Vec::new();
        encode_floats_decimal_v3(v, &mut v3);
        assert_eq!(v4.len(), v3.len(), "the same size as the division rule");
        let per_point = (ts.len() + vals.len()) as f64 / 1000.0;
        assert!(ts.len() <= 24, "timestamps take {} bytes", ts.len());
        assert!(per_point <= 2.0, "seed {seed}: {per_point} bytes/point");
        assert_eq!(decode_floats(id, &vals, 1000).as_ref(), Ok(v));
        assert_eq!(decode_floats(FLOAT_DECIMAL_MUL, &v4, 1000).as_ref(), Ok(v));
        assert_eq!(
            decode_timestamps(TS_PACKED, &ts, 1000),
            Ok(c.timestamps.clone())
        );
    }
}

/// Issue #6: TSBS-shaped float data at most 1.0 byte/point on disk. The walk's deltas take the
/// 201 values -100..=100 hundredths: bit packing spends 8 bits on each (1.006 bytes/value with
/// its header), the range-coded deltas log2(201) = 7.65 bits plus a few bytes of header and
/// flush: 0.961 to 0.963 bytes/value on these seeds.
#[test]
fn tsbs_walk_range_codes_under_0_965_bytes_per_value() {
    for seed in [0, 1, 2, 3, 4, 42] {
        let v = crate::bench_data::random_walk(seed, 1000);
        let mut buf = Vec::new();
        let id = encode_floats(&v, &mut buf);
        assert_eq!(id, FLOAT_DECIMAL_MUL_RANGE, "seed {seed}");
        let per_value = buf.len() as f64 / 1000.0;
        assert!(per_value <= 0.965, "seed {seed}: {per_value} bytes/value");
        let mut range = Vec::new();
        assert_eq!(encode_floats_decimal_range(&v, &mut range), Some(id));
        assert_eq!(range, buf);
        let mut packed = Vec::new();
        encode_floats_decimal(&v, &mut packed);
        assert!(
            packed.len() >= 1005,
            "seed {seed}: packed {} bytes",
            packed.len()
        );
        let back = decode_floats(id, &buf, 1000).expect("decode");
        assert!(same_floats(&back, &v), "seed {seed}");
        // The same integers under the division rule (id 8) decode the same.
        let mut div = Vec::new();
        assert!(float::Decimal::new(&v, float::DecimalRule::Divide)
            .is_some_and(|d| d.encode_range(&mut div)));
        assert_eq!(div.len(), buf.len());
        let back = decode_floats(FLOAT_DECIMAL_RANGE, &div, 1000).expect("decode");
        assert!(same_floats(&back, &v), "seed {seed}");
    }
}

#[test]
fn irregular_timestamps_still_pack() {
    // 10 s with up to ±1 ms of jitter: deltas of deltas need ~22 bits, not 64.
    let ts: Vec<i64> = (0..1000i64)
        .map(|i| {
            1_700_000_000_000_000_000 + i * 10_000_000_000 + (i * 7919 % 2001 - 1000) * 1_000_000
        })
        .collect();
    let mut buf = Vec::new();
    let id = encode_timestamps(&ts, &mut buf);
    assert!(buf.len() <= 24 + 1000 * 32 / 8, "{} bytes", buf.len());
    assert_eq!(decode_timestamps(id, &buf, ts.len()), Ok(ts));
}

/// Floats that stress bit-exactness: NaN payloads, signed zeros, infinities, subnormals.
fn special_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        Just(f64::NAN),
        Just(f64::from_bits(0x7ff8_dead_beef_0001)),
        Just(f64::from_bits(0xfff0_0000_0000_0001)),
        Just(-0.0),
        Just(0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::from_bits(1)),
        Just(f64::MIN_POSITIVE / 2.0),
        Just(f64::MAX),
        Just(f64::MIN),
        (-10_000i64..10_000).prop_map(|m| m as f64 / 100.0),
        (-1000i64..1000, 0u32..=10).prop_map(|(m, e)| m as f64 / 10f64.powi(e as i32)),
    ]
}

/// Decimal-only floats (what FLOAT_DECIMAL must accept).
fn decimal_floats() -> impl Strategy<Value = Vec<f64>> {
    (0u32..=6).prop_flat_map(|e| {
        prop::collection::vec(
            prop_oneof![
                -1_000_000i64..1_000_000,
                Just(0),
                Just(1 << 40),
                Just(-(1 << 45))
            ],
            0..300,
        )
        .prop_map(move |ms| {
            ms.into_iter()
                .map(|m| m as f64 / 10f64.powi(e as i32))
                .collect()
        })
    })
}

fn same_floats(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits())
}

fn timestamps_strategy() -> impl Strategy<Value = Vec<i64>> {
    prop_oneof![
        // arbitrary: irregular, duplicates, decreasing, extremes
        prop::collection::vec(
            prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -5i64..5],
            0..300
        ),
        // regular with occasional gaps / duplicates / steps back
        (
            any::<i64>(),
            1i64..1_000_000_000_000,
            prop::collection::vec(-2i64..3, 0..300)
        )
            .prop_map(|(start, step, jitter)| {
                let mut t = start;
                jitter
                    .into_iter()
                    .map(|j| {
                        t = t.wrapping_add(step.wrapping_mul(j));
                        t
                    })
                    .collect()
            }),
    ]
}

/// Values of every type, with extremes.
fn values_strategy() -> impl Strategy<Value = Values> {
    prop_oneof![
        prop::collection::vec(special_float(), 0..300).prop_map(Values::Float),
        decimal_floats().prop_map(Values::Float),
        prop::collection::vec(
            prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -100i64..100],
            0..300
        )
        .prop_map(Values::Integer),
        prop::collection::vec(
            prop_oneof![
                any::<u64>(),
                Just(u64::MAX),
                Just(0u64),
                Just(1 << 63),
                0u64..1000
            ],
            0..300
        )
        .prop_map(Values::Unsigned),
        prop::collection::vec(any::<bool>(), 0..300).prop_map(Values::Boolean),
        prop::collection::vec(prop_oneof![".{0,12}", "(ab|cd){0,20}"], 0..100)
            .prop_map(Values::String),
    ]
}

/// Bit-exact equality (so NaN payloads and -0.0 count).
fn same_values(a: &Values, b: &Values) -> bool {
    match (a, b) {
        (Values::Float(x), Values::Float(y)) => same_floats(x, y),
        _ => a == b,
    }
}

fn round_trips(v: &Values, codec: u8, buf: &[u8]) -> Result<(), TestCaseError> {
    let back = decode_values(v.field_type(), codec, buf, v.len());
    prop_assert!(
        back.as_ref().is_ok_and(|b| same_values(b, v)),
        "codec {}: {:?} != {:?}",
        codec,
        back,
        v
    );
    // Appending to a non-empty buffer keeps what was there.
    let mut out = v.clone();
    decode_values_into(v.field_type(), codec, buf, v.len(), &mut out)
        .map_err(|e| TestCaseError::fail(e.0))?;
    prop_assert_eq!(out.len(), 2 * v.len());
    prefixes_decode(v, codec, buf)
}

/// Every prefix length a block cut by a read's end can ask for decodes to exactly that prefix
/// (`decode_values_prefix_into`), also past the end (all values).
fn prefixes_decode(v: &Values, codec: u8, buf: &[u8]) -> Result<(), TestCaseError> {
    let n = v.len();
    let mut wants = vec![
        0,
        1,
        2,
        3,
        n / 3,
        n / 2,
        n.saturating_sub(2),
        n.saturating_sub(1),
        n,
        n + 1,
    ];
    wants.extend((0..n).step_by(7));
    for want in wants {
        let mut out = Values::empty(v.field_type());
        decode_values_prefix_into(v.field_type(), codec, buf, n, want, &mut out)
            .map_err(|e| TestCaseError::fail(format!("codec {codec} want {want}: {}", e.0)))?;
        let mut expect = v.clone();
        expect.truncate(want);
        prop_assert!(
            same_values(&out, &expect),
            "codec {} want {} of {}: {:?} != {:?}",
            codec,
            want,
            n,
            out,
            expect
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn timestamps_round_trip(ts in timestamps_strategy()) {
        let mut sizes = Vec::new();
        for (enc, codecs) in [
            (encode_timestamps as fn(&[i64], &mut Vec<u8>) -> u8, &[TS_PACKED, TS_PACKED_PATCHED][..]),
            (encode_timestamps_v2_plain, &[TS_PACKED]),
            (encode_timestamps_v1, &[TS_DELTA_ZIGZAG]),
        ] {
            let mut buf = Vec::new();
            let codec = enc(&ts, &mut buf);
            prop_assert!(codecs.contains(&codec), "{}", codec);
            sizes.push(buf.len());
            prop_assert_eq!(decode_timestamps(codec, &buf, ts.len()), Ok(ts.clone()));
            // A truncated encoding is an error and leaves the output buffer as it was.
            if let Some((_, short)) = buf.split_last() {
                let mut out = vec![7];
                prop_assert!(decode_timestamps_into(codec, short, ts.len(), &mut out).is_err());
                prop_assert_eq!(&out, &vec![7]);
            }
        }
        // The chosen encoding is never larger than the plain id-2 one.
        prop_assert!(sizes[0] <= sizes[1], "{:?}", sizes);
    }

    #[test]
    fn values_round_trip_with_the_chosen_codec(v in values_strategy()) {
        let mut buf = Vec::new();
        let c = encode_values(&v, &mut buf);
        round_trips(&v, c, &buf)?;
        // Never bigger than the v1 encoding, except for the small fixed headers.
        let mut v1 = Vec::new();
        encode_values_v1(&v, &mut v1);
        prop_assert!(buf.len() <= v1.len(), "{} > {}", buf.len(), v1.len());
        // Never bigger than the format v2 (plain packed) encoding, which still decodes.
        let mut v2 = Vec::new();
        let c2 = encode_values_v2_plain(&v, &mut v2);
        prop_assert!(buf.len() <= v2.len(), "{} > {}", buf.len(), v2.len());
        round_trips(&v, c2, &v2)?;
    }

    #[test]
    fn values_round_trip_with_every_codec(v in values_strategy()) {
        let mut buf = Vec::new();
        let c = encode_values_v1(&v, &mut buf);
        round_trips(&v, c, &buf)?;
        if let Values::Float(f) = &v {
            buf.clear();
            round_trips(&v, encode_floats_gorilla(f, &mut buf), &buf)?;
            buf.clear();
            if let Some(c) = encode_floats_decimal(f, &mut buf) {
                round_trips(&v, c, &buf)?;
            }
            buf.clear();
            if let Some(c) = encode_floats_decimal_v3(f, &mut buf) {
                prop_assert!(c == FLOAT_DECIMAL || c == FLOAT_DECIMAL_PATCHED, "{}", c);
                round_trips(&v, c, &buf)?;
            }
            buf.clear();
            if let Some(c) = encode_floats_decimal_range(f, &mut buf) {
                prop_assert!(c == FLOAT_DECIMAL_MUL_RANGE || c == FLOAT_DECIMAL_RANGE, "{}", c);
                round_trips(&v, c, &buf)?;
            }
            buf.clear();
            round_trips(&v, encode_floats_raw(f, &mut buf), &buf)?;
        }
        // The range codecs directly (the chooser takes them only when they are smallest).
        buf.clear();
        let (ints, first, id) = match &v {
            Values::Integer(x) => (x.clone(), range::First::Zigzag, INT_RANGE),
            Values::Unsigned(x) => (
                x.iter().map(|&u| u as i64).collect(),
                range::First::Plain,
                UNSIGNED_RANGE,
            ),
            _ => return Ok(()),
        };
        if range::encode(&ints, first, &mut buf) {
            round_trips(&v, id, &buf)?;
        }
    }

    #[test]
    fn range_ids_round_trip_and_win_only_when_strictly_smaller(
        v in prop_oneof![
            // Random walks with steps in -k..=k (TSBS-like for k = 100), with outliers.
            (any::<i32>(), 0i64..300, prop::collection::vec((any::<u64>(), 0u8..100), 0..400)).prop_map(|(s, k, steps)| {
                let mut x = i64::from(s);
                steps.iter().map(|&(r, o)| {
                    x = x.wrapping_add((r % (2 * k as u64 + 1)) as i64 - k);
                    if o == 0 { x.wrapping_mul(1_000_003) } else { x }
                }).collect::<Vec<i64>>()
            }),
            prop::collection::vec(prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -3i64..3], 0..300),
        ],
    ) {
        // Integers.
        let mut buf = Vec::new();
        let id = encode_integers(&v, &mut buf);
        prop_assert_eq!(decode_integers(id, &buf, v.len()), Ok(v.clone()));
        let mut range = Vec::new();
        let encodable = range::encode(&v, range::First::Zigzag, &mut range);
        if encodable {
            // Prefixes straight from the range layout (outliers make exceptions), appended
            // after what the buffer held.
            for want in [0, 1, 2, v.len() / 2, v.len().saturating_sub(1), v.len(), v.len() + 5] {
                let mut out = vec![-1i64];
                range::decode_prefix_into(&range, v.len(), want, range::First::Zigzag, &mut out, "ints", |x| x)
                    .map_err(|e| TestCaseError::fail(e.0))?;
                prop_assert_eq!(out[0], -1);
                prop_assert_eq!(&out[1..], &v[..want.min(v.len())], "want {}", want);
            }
        }
        let mut packed = Vec::new();
        let variant = packed::encode_best(&v, &[0, 1, 2], &mut packed);
        let mut varints = Vec::new();
        encode_delta_varints(&v, &mut varints);
        let others = packed.len().min(varints.len());
        if id == INT_RANGE {
            prop_assert!(encodable && range.len() < others, "{} vs {}", range.len(), others);
            prop_assert_eq!(&buf, &range);
        } else {
            prop_assert!(!encodable || range.len() >= others, "{} vs {}", range.len(), others);
            prop_assert!(buf.len() == others, "{:?}: {} vs {}", variant, buf.len(), others);
        }
        // The same bits as unsigned.
        let u: Vec<u64> = v.iter().map(|&x| x as u64).collect();
        let mut buf = Vec::new();
        let id = encode_unsigned(&u, &mut buf);
        prop_assert_eq!(decode_unsigned(id, &buf, u.len()), Ok(u.clone()));
        // As decimal floats (hundredths), where they are exact: the full chooser.
        let f: Vec<f64> = v.iter().map(|&x| (x % (1 << 40)) as f64 / 100.0).collect();
        let mut buf = Vec::new();
        let id = encode_floats(&f, &mut buf);
        let back = decode_floats(id, &buf, f.len()).map_err(|e| TestCaseError::fail(e.0))?;
        prop_assert!(same_floats(&back, &f));
        prefixes_decode(&Values::Float(f.clone()), id, &buf)?;
        if id == FLOAT_DECIMAL_MUL_RANGE || id == FLOAT_DECIMAL_RANGE {
            let mut packed = Vec::new();
            encode_floats_decimal(&f, &mut packed);
            prop_assert!(buf.len() < packed.len());
        }
    }

    #[test]
    fn special_floats_never_take_the_range_ids(
        walk in prop::collection::vec(-10_000i64..=10_000, 1..300),
        specials in prop::collection::vec((any::<prop::sample::Index>(), special_float()), 0..4),
    ) {
        let mut f: Vec<f64> = walk.iter().map(|&m| m as f64 / 100.0).collect();
        for (i, x) in &specials {
            let i = i.index(f.len());
            f[i] = *x;
        }
        let mut buf = Vec::new();
        let id = encode_floats(&f, &mut buf);
        let back = decode_floats(id, &buf, f.len()).map_err(|e| TestCaseError::fail(e.0))?;
        prop_assert!(same_floats(&back, &f), "codec {}: {:?} != {:?}", id, back, f);
        if id == FLOAT_DECIMAL_MUL_RANGE || id == FLOAT_DECIMAL_RANGE {
            // Only short decimals: no NaN, infinity or -0.0.
            prop_assert!(f.iter().all(|x| x.is_finite() && x.to_bits() != (-0.0f64).to_bits()), "{:?}", f);
        }
        let mut range = Vec::new();
        if encode_floats_decimal_range(&f, &mut range).is_none() {
            prop_assert!(range.is_empty());
            prop_assert!(id != FLOAT_DECIMAL_MUL_RANGE && id != FLOAT_DECIMAL_RANGE);
        }
    }

    #[test]
    fn decimal_floats_use_the_decimal_codec(v in decimal_floats()) {
        // Values made as m / 10^e (e <= 6, |m| <= 2^45) are always decimal-encodable.
        let mut buf = Vec::new();
        let id = encode_floats_decimal(&v, &mut buf);
        let ids = [FLOAT_DECIMAL, FLOAT_DECIMAL_PATCHED, FLOAT_DECIMAL_MUL, FLOAT_DECIMAL_MUL_PATCHED];
        prop_assert!(id.is_some_and(|id| ids.contains(&id)), "{:?}", id);
        round_trips(&Values::Float(v.clone()), id.unwrap_or(0), &buf)?;
        // Never larger than the plain decimal encoding.
        let mut plain = Vec::new();
        prop_assert!(float::encode_decimal_plain(&v, &mut plain).is_some());
        prop_assert!(buf.len() <= plain.len(), "{} > {}", buf.len(), plain.len());
    }

    #[test]
    fn two_decimal_blocks_decode_by_multiplication(
        ms in prop::collection::vec(-10_000i64..=10_000, 1..300),
    ) {
        // Two decimals within ±100 (TSBS cpu fields) always take the multiplying codec.
        let v: Vec<f64> = ms.iter().map(|&m| m as f64 / 100.0).collect();
        let mut buf = Vec::new();
        let id = encode_floats_decimal(&v, &mut buf);
        prop_assert!(id == Some(FLOAT_DECIMAL_MUL) || id == Some(FLOAT_DECIMAL_MUL_PATCHED), "{:?}", id);
        round_trips(&Values::Float(v), id.unwrap_or(0), &buf)?;
    }

    #[test]
    fn timestamps_ascend_by_header_only_when_they_do(
        ts in prop_oneof![
            timestamps_strategy(),
            (any::<i64>(), prop_oneof![any::<i64>(), 1i64..1000], 0usize..300)
                .prop_map(|(s, step, n)| (0..n as i64).map(|i| s.wrapping_add(step.wrapping_mul(i))).collect()),
        ],
        flip in any::<prop::sample::Index>(),
        xor in any::<u8>(),
    ) {
        let strictly = |t: &[i64]| t.windows(2).all(|w| w[0] < w[1]);
        let mut buf = Vec::new();
        let c = encode_timestamps(&ts, &mut buf);
        if timestamps_ascend_by_header(c, &buf, ts.len()) {
            prop_assert!(strictly(&ts), "{:?}", ts);
        }
        // Mutated bytes that still decode: the claim must hold for what they decode to.
        if !buf.is_empty() {
            let i = flip.index(buf.len());
            buf[i] ^= xor;
        }
        for c in [TS_PACKED, TS_PACKED_PATCHED] {
            if let Ok(back) = decode_timestamps(c, &buf, ts.len()) {
                if timestamps_ascend_by_header(c, &buf, ts.len()) {
                    prop_assert!(strictly(&back), "{:?}", back);
                }
            }
        }
    }

    #[test]
    fn decoders_never_panic_on_random_bytes(
        t in 0u8..5,
        codec in 0u8..10,
        buf in prop::collection::vec(any::<u8>(), 0..96),
        n in prop_oneof![0usize..40, Just(usize::MAX), Just(MAX_VALUES)],
    ) {
        let t = FieldType::from_u8(t).ok_or_else(|| TestCaseError::fail("type"))?;
        let _ = decode_values(t, codec, &buf, n);
        let _ = decode_timestamps(codec, &buf, n);
    }

    #[test]
    fn decoders_never_panic_on_mutated_encodings(
        v in values_strategy(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut buf = Vec::new();
        let c = encode_values(&v, &mut buf);
        let mut ts = Vec::new();
        let tc = encode_timestamps(&(0..v.len() as i64).map(|i| i * 10).collect::<Vec<_>>(), &mut ts);
        for b in [&mut buf, &mut ts] {
            if !b.is_empty() {
                for (i, x) in &flips {
                    let i = i.index(b.len());
                    b[i] ^= x;
                }
            }
        }
        let _ = decode_values(v.field_type(), c, &buf, v.len());
        let _ = decode_timestamps(tc, &ts, v.len());
        if !buf.is_empty() {
            let _ = decode_values(v.field_type(), c, &buf[..cut.index(buf.len())], v.len());
        }
    }
}

fn regular_ts(n: i64) -> Vec<i64> {
    (0..n)
        .map(|i| 1_700_000_000_000_000_000 + i * 10_000_000_000)
        .collect()
}

#[test]
fn regular_timestamps_with_one_gap_stay_tiny() {
    for (from, to) in [(500, 501), (400, 460), (1, 2), (998, 999), (100, 900)] {
        let mut ts = regular_ts(1001);
        ts.drain(from..to);
        let mut buf = Vec::new();
        let id = encode_timestamps(&ts, &mut buf);
        assert_eq!(id, TS_PACKED_PATCHED, "gap {from}..{to}");
        assert!(buf.len() <= 64, "gap {from}..{to}: {} bytes", buf.len());
        let mut plain = Vec::new();
        encode_timestamps_v2_plain(&ts, &mut plain);
        assert!(
            plain.len() > 1000,
            "the plain layout pays the gap: {}",
            plain.len()
        );
        assert_eq!(decode_timestamps(id, &buf, ts.len()), Ok(ts));
    }
}

#[test]
fn integer_run_with_a_hole_and_a_reset_encode_small() {
    let mut v: Vec<i64> = (0..1000).collect();
    v.drain(300..500);
    let mut buf = Vec::new();
    let id = encode_integers(&v, &mut buf);
    // Deltas all 1 but one: the range codec's exception list beats the patched packing.
    assert_eq!(id, INT_RANGE);
    assert!(buf.len() <= 10, "{} bytes", buf.len());
    let mut patched = Vec::new();
    packed::encode_patched(&v, &[0, 1, 2], &mut patched);
    assert!(patched.len() <= 16, "{} bytes", patched.len());
    assert_eq!(
        decode_integers(INT_PACKED_PATCHED, &patched, v.len()),
        Ok(v.clone())
    );
    assert_eq!(decode_integers(id, &buf, v.len()), Ok(v));
    // A counter that resets to zero.
    let v: Vec<u64> = (0..1000u64).map(|i| (i % 600) * 1000 + 5).collect();
    let mut buf = Vec::new();
    let id = encode_unsigned(&v, &mut buf);
    assert_eq!(id, UNSIGNED_RANGE);
    assert!(buf.len() <= 16, "{} bytes", buf.len());
    assert_eq!(decode_unsigned(id, &buf, v.len()), Ok(v));
    // Decimal floats with one spike.
    let mut f: Vec<f64> = (0..1000).map(|i| f64::from(i % 10) / 10.0).collect();
    f[500] = 123_456.7;
    let mut buf = Vec::new();
    let id = encode_floats(&f, &mut buf);
    assert!(
        [
            FLOAT_DECIMAL_PATCHED,
            FLOAT_DECIMAL_MUL_PATCHED,
            FLOAT_DECIMAL_MUL_RANGE
        ]
        .contains(&id),
        "{id}"
    );
    let mut plain = Vec::new();
    assert!(float::encode_decimal_plain(&f, &mut plain).is_some());
    assert!(
        buf.len() * 2 < plain.len(),
        "{} vs {}",
        buf.len(),
        plain.len()
    );
    assert_eq!(decode_floats(id, &buf, f.len()), Ok(f));
}

#[test]
fn range_ids_reject_malformed_blocks() {
    let v = crate::bench_data::random_walk(7, 1000);
    let mut buf = Vec::new();
    assert_eq!(encode_floats(&v, &mut buf), FLOAT_DECIMAL_MUL_RANGE);
    assert!(same_floats(
        &decode_floats(FLOAT_DECIMAL_MUL_RANGE, &buf, 1000).expect("ok"),
        &v
    ));
    // Truncated by a word: the last word is missing.
    let short = &buf[..buf.len() - 4];
    assert!(decode_floats(FLOAT_DECIMAL_MUL_RANGE, short, 1000).is_err());
    // Wrong count.
    assert!(decode_floats(FLOAT_DECIMAL_MUL_RANGE, &buf, 999).is_err());
    assert!(decode_floats(FLOAT_DECIMAL_MUL_RANGE, &buf, 1001).is_err());
    // Header: byte e | f << 4, first (zigzag varint), span << 1 | flag, centre, then the stream.
    let mut input = Input::new(&buf[1..]);
    input.uvarint("first").expect("first");
    let span_at = 1 + input.position();
    assert_eq!(
        input.uvarint("span"),
        Ok(200 << 1),
        "R = 201, no exceptions"
    );
    let centre_at = 1 + input.position();
    input.uvarint("centre").expect("centre");
    let stream_at = 1 + input.position();
    // Bad R: above the limit, or another R than the stream's.
    let rebuilt = |span: u64| {
        let mut b = buf[..span_at].to_vec();
        put_uvarint(&mut b, span << 1);
        b.extend_from_slice(&buf[centre_at..]);
        b
    };
    assert!(decode_floats(FLOAT_DECIMAL_MUL_RANGE, &rebuilt(range::MAX_RANGE), 1000).is_err());
    assert!(decode_floats(FLOAT_DECIMAL_MUL_RANGE, &rebuilt(u64::MAX >> 1), 1000).is_err());
    for span in [199, 202, 1000] {
        let b = rebuilt(span);
        if let Ok(back) = decode_floats(FLOAT_DECIMAL_MUL_RANGE, &b, 1000) {
            assert!(!same_floats(&back, &v), "span {span}");
        }
    }
    // The exception flag with no exception list.
    let mut b = buf.clone();
    b[span_at] |= 1;
    assert!(decode_floats(FLOAT_DECIMAL_MUL_RANGE, &b, 1000).is_err());
    // State out of range: all zero or all ones.
    let state_len = 4 + (buf.len() - stream_at) % 4;
    for fill in [0, 0xff] {
        let mut b = buf.clone();
        b[stream_at..stream_at + state_len].fill(fill);
        assert!(
            decode_floats(FLOAT_DECIMAL_MUL_RANGE, &b, 1000).is_err(),
            "{fill}"
        );
    }
    // Integers and unsigned: the same layout.
    let ints: Vec<i64> = (0..1000).map(|i| (i * 7919) % 100 + i / 3).collect();
    let mut buf = Vec::new();
    assert_eq!(encode_integers(&ints, &mut buf), INT_RANGE);
    assert_eq!(decode_integers(INT_RANGE, &buf, 1000), Ok(ints));
    assert!(decode_integers(INT_RANGE, &buf[..buf.len() - 4], 1000).is_err());
    assert!(decode_unsigned(UNSIGNED_RANGE, &buf[..buf.len() - 4], 1000).is_err());
    assert!(decode_integers(INT_RANGE, &[], 1).is_err());
    assert!(decode_unsigned(UNSIGNED_RANGE, &[], 1).is_err());
}

#[test]
fn range_ids_take_single_values_and_constant_steps() {
    for n in [1usize, 2, 3, 4, 10, 1000] {
        // A constant step: first value, span 0, centre; no symbol stream.
        let v: Vec<i64> = (0..n as i64).map(|i| 5 - 3 * i).collect();
        let mut buf = Vec::new();
        assert!(range::encode(&v, range::First::Zigzag, &mut buf));
        assert_eq!(buf.len(), if n == 1 { 1 } else { 3 }, "{n}: {buf:?}");
        assert_eq!(decode_integers(INT_RANGE, &buf, n), Ok(v.clone()));
        // Up to 3 values the v1 varints are as small (and kept); from 4 on the range id wins.
        let mut chosen = Vec::new();
        let id = encode_integers(&v, &mut chosen);
        assert_eq!(id == INT_RANGE, n >= 4, "{n}: {id}");
        assert_eq!(decode_integers(id, &chosen, n), Ok(v));
        // Unsigned: the first value is a plain varint.
        let u: Vec<u64> = (0..n as u64).map(|i| u64::MAX - 7 * i).collect();
        let bits: Vec<i64> = u.iter().map(|&x| x as i64).collect();
        let mut buf = Vec::new();
        assert!(range::encode(&bits, range::First::Plain, &mut buf));
        assert_eq!(decode_unsigned(UNSIGNED_RANGE, &buf, n), Ok(u.clone()));
        let mut chosen = Vec::new();
        let id = encode_unsigned(&u, &mut chosen);
        assert!(chosen.len() <= buf.len(), "{n}: {id}");
        assert_eq!(decode_unsigned(id, &chosen, n), Ok(u));
        // Floats.
        let f: Vec<f64> = (0..n).map(|i| -12.5 + i as f64 * 0.25).collect();
        let mut buf = Vec::new();
        assert_eq!(
            encode_floats_decimal_range(&f, &mut buf),
            Some(FLOAT_DECIMAL_MUL_RANGE)
        );
        assert_eq!(
            decode_floats(FLOAT_DECIMAL_MUL_RANGE, &buf, n),
            Ok(f.clone())
        );
        let mut chosen = Vec::new();
        let id = encode_floats(&f, &mut chosen);
        assert_eq!(decode_floats(id, &chosen, n), Ok(f));
    }
}

#[test]
fn unknown_codec_ids_are_errors() {
    assert_eq!(
        decode_timestamps(4, &[], 0),
        Err(DecodeError("unknown timestamp codec id 4".into()))
    );
    assert!(decode_integers(5, &[], 0).is_err());
    assert!(decode_unsigned(5, &[], 0).is_err());
    assert!(decode_floats(9, &[], 0).is_err());
}

/// Bytes written by the format v2 encoders (plain packed ids) before the patched ids existed:
/// they must keep decoding bit for bit.
#[test]
fn format_v2_packed_bytes_still_decode() {
    let mut ts = regular_ts(8);
    ts.drain(3..4);
    let ts_v2: &[u8] = &[
        1, 128, 128, 208, 226, 198, 191, 206, 151, 47, 128, 144, 223, 192, 74, 34, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 64, 190, 64, 37, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(
        decode_timestamps(TS_PACKED, ts_v2, ts.len()),
        Ok(ts.clone())
    );
    let mut now = Vec::new();
    encode_timestamps_v2_plain(&ts, &mut now);
    assert_eq!(now, ts_v2, "the plain encoder is unchanged");
    let cases: [(Values, u8, &[u8]); 3] = [
        (
            Values::Integer(vec![5, -3, 100, 7, 7, 8, -100, 12, 13, 14]),
            INT_PACKED,
            &[0, 199, 1, 8, 105, 97, 200, 107, 107, 108, 0, 112, 113, 114],
        ),
        (
            Values::Unsigned(vec![
                1 << 40,
                (1 << 40) + 10,
                (1 << 40) + 25,
                (1 << 40) + 30,
            ]),
            UNSIGNED_PACKED,
            &[
                0, 255, 255, 255, 255, 255, 191, 255, 255, 255, 1, 5, 64, 101, 15,
            ],
        ),
        (
            Values::Float(vec![1.5, 2.25, -7.0, 1e6, 0.01]),
            FLOAT_DECIMAL,
            &[
                2, 0, 247, 10, 27, 82, 3, 0, 232, 28, 0, 0, 0, 0, 0, 120, 199, 235, 219, 43, 0, 0,
            ],
        ),
    ];
    for (v, id, bytes) in cases {
        let back = decode_values(v.field_type(), id, bytes, v.len());
        assert!(back.as_ref().is_ok_and(|b| same_values(b, &v)), "{back:?}");
        let mut now = Vec::new();
        assert_eq!(encode_values_v2_plain(&v, &mut now), id);
        assert_eq!(now, bytes);
    }
}
