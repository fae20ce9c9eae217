//! Unit tests of the accumulators: each family against the values 1.x answers, folding float
//! runs against adding points, and merged partial states against one pass.

use std::collections::BTreeMap;

use super::{merge_is_exact, Accumulator, AggregateValue};
use crate::query::exec::answer::bucket_order;
use crate::query::exec::bucket_map::BucketMap;
use crate::query::exec::layout::AggregateCall;
use crate::query::exec::tests::spec;
use crate::query::plan::AggFn;
use crate::query::result::Value;
use crate::query::value_set::DISTINCT_INDEX_BYTES;
use crate::types::{FieldType, FieldValue, Values};
use proptest::strategy::Strategy as _;

proptest::proptest! {
    /// The bucket map finds and makes buckets as an ordered map does, whatever the order
    /// of the lookups.
    #[test]
    fn bucket_map_is_an_ordered_map(ops in proptest::collection::vec((0i64..40, proptest::bool::ANY), 0..120)) {
        let mut m = BucketMap::default();
        let calls = [spec(AggFn::Count), spec(AggFn::Count)];
        let mut model: BTreeMap<i64, u64> = BTreeMap::new();
        for (b, make) in ops {
            if make {
                m.entry(b, &calls)[1].add(&calls[1], b, FieldValue::Integer(1), &Vec::new);
                *model.entry(b).or_default() += 1;
            } else {
                proptest::prop_assert_eq!(m.get_mut(b).map(|a| a[1].points()), model.get(&b).copied());
            }
        }
        let got: Vec<(i64, u64)> = m.iter().map(|(b, a)| (*b, a[1].points())).collect();
        let want: Vec<(i64, u64)> = model.into_iter().collect();
        proptest::prop_assert_eq!(got, want);
    }

    /// Folding float runs at once (in any split into runs) answers exactly what adding
    /// their points one by one does, ties and NaNs included.
    #[test]
    fn folding_float_runs_equals_adding_points(
        vals in proptest::collection::vec(
            proptest::prop_oneof![(-3i32..3).prop_map(f64::from), proptest::strategy::Just(f64::NAN)],
            1..60,
        ),
        cuts in proptest::collection::vec(0usize..60, 0..5),
    ) {
        let ts: Vec<i64> = (0..vals.len() as i64).map(|t| t * 10).collect();
        let col = Values::Float(vals.clone());
        let mut bounds: Vec<usize> = cuts.into_iter().filter(|&c| c < vals.len()).collect();
        bounds.extend([0, vals.len()]);
        bounds.sort_unstable();
        bounds.dedup();
        let no_aux = || vec![Value::Null];
        for func in [AggFn::Count, AggFn::Sum, AggFn::Mean, AggFn::Min, AggFn::Max, AggFn::First, AggFn::Last] {
            let a = spec(func);
            let mut one = Accumulator::new(&a);
            for (k, &t) in ts.iter().enumerate() {
                one.add(&a, t, col.get(k), &no_aux);
            }
            let mut runs = Accumulator::new(&a);
            for w in bounds.windows(2) {
                proptest::prop_assert!(runs.add_floats(&a, &ts[w[0]..w[1]], &vals[w[0]..w[1]], &no_aux));
            }
            let (x, y) = (one.finish(&a), runs.finish(&a));
            proptest::prop_assert_eq!(format!("{:?}", (x.value, x.time)), format!("{:?}", (y.value, y.time)), "{:?}", func);
        }
    }
}

fn run(func: AggFn, pts: &[(i64, FieldValue)]) -> AggregateValue {
    let a = spec(func);
    let mut acc = Accumulator::new(&a);
    for (t, v) in pts {
        acc.add(&a, *t, v.clone(), &Vec::new);
    }
    acc.finish(&a)
}

#[test]
fn aggregates_and_selectors() {
    use FieldValue::Integer as I;
    let pts = [(30, I(5)), (10, I(1)), (20, I(5)), (40, I(2))];
    assert_eq!(run(AggFn::Median, &pts).value, Value::Float(3.5));
    assert_eq!(run(AggFn::Mode, &pts).value, Value::Integer(5));
    assert_eq!(run(AggFn::Spread, &pts).value, Value::Integer(4));
    assert_eq!(run(AggFn::Sum, &pts).value, Value::Integer(13));
    let max = run(AggFn::Max, &pts);
    assert_eq!((max.value, max.time), (Value::Integer(5), Some(20)));
    let p = run(AggFn::Percentile, &pts);
    assert_eq!((p.value, p.time), (Value::Integer(2), Some(40)));
    let sd = run(AggFn::Stddev, &pts).value;
    let Value::Float(sd) = sd else {
        panic!("{sd:?}")
    };
    assert!((sd - 2.0615528128088303).abs() < 1e-12);
    assert_eq!(run(AggFn::Stddev, &pts[..1]).value, Value::Null);
}

#[test]
fn top_keeps_the_best_n_earliest_on_ties_in_time_order() {
    let a = spec(AggFn::Top);
    let mut acc = Accumulator::new(&a);
    for (t, v) in [(1, 3), (2, 9), (3, 9), (4, 9), (5, 1)] {
        acc.add(&a, t, FieldValue::Integer(v), &Vec::new);
    }
    let rows: Vec<(i64, Value)> = acc
        .finish_rows(&a)
        .into_iter()
        .map(|(t, v, _)| (t, v))
        .collect();
    assert_eq!(rows, vec![(2, Value::Integer(9)), (3, Value::Integer(9))]);
}

#[test]
fn count_distinct_of_many_values_is_found_by_hash_and_charged() {
    // 100k distinct values, each read twice (the second time out of order): one pass of
    // O(1) lookups (a scan of the held values per point took 17 s here).
    let a = AggregateCall {
        count_distinct: true,
        ..spec(AggFn::Count)
    };
    let mut acc = Accumulator::new(&a);
    let mut charged = 0;
    let t0 = std::time::Instant::now();
    for round in 0..2i64 {
        for i in 0..100_000i64 {
            let t = if round == 0 { i } else { 300_000 - i };
            charged += acc.add(&a, t, FieldValue::Float(i as f64 / 4.0), &Vec::new);
        }
    }
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(acc.finish(&a).value, Value::Integer(100_000));
    // Each value kept is charged once, its index entry included; repeats are not.
    assert_eq!(charged, 100_000 * (48 + 8 + DISTINCT_INDEX_BYTES));
    // -0 and 0 are one value (the first read is kept), integers and floats are not.
    let d = spec(AggFn::Distinct);
    let mut acc = Accumulator::new(&a);
    for (t, v) in [
        (1, FieldValue::Float(-0.0)),
        (2, FieldValue::Float(0.0)),
        (3, FieldValue::Integer(0)),
    ] {
        acc.add(&d, t, v, &Vec::new);
    }
    let rows: Vec<(i64, Value)> = acc
        .finish_rows(&d)
        .into_iter()
        .map(|(t, v, _)| (t, v))
        .collect();
    assert_eq!(rows, vec![(1, Value::Float(-0.0)), (3, Value::Integer(0))]);
}

#[test]
fn top_with_tags_keeps_the_best_point_of_each_tag_value() {
    let a = AggregateCall {
        tags: vec![0],
        n: 3,
        ..spec(AggFn::Top)
    };
    let mut acc = Accumulator::new(&a);
    for i in 0..50_000i64 {
        let host = Value::String(format!("h{}", i % 10_000).into());
        acc.add(&a, i, FieldValue::Integer(i), &|| vec![host.clone()]);
    }
    let rows: Vec<(i64, Value, Vec<Value>)> = acc.finish_rows(&a);
    let s = |x: &str| vec![Value::String(x.into())];
    assert_eq!(
        rows,
        vec![
            (49_997, Value::Integer(49_997), s("h9997")),
            (49_998, Value::Integer(49_998), s("h9998")),
            (49_999, Value::Integer(49_999), s("h9999")),
        ]
    );
}

#[test]
fn distinct_keeps_the_point_read_first_and_answers_in_its_time_order() {
    // Points of one bucket in any order; value 7 at times 1 and 4, value 2 at 2 and 6.
    let pts = [(4, 7), (2, 2), (1, 7), (3, 5), (6, 2)];
    let rows = |newest_first: bool| -> Vec<(i64, Value)> {
        let a = AggregateCall {
            newest_first,
            ..spec(AggFn::Distinct)
        };
        let mut acc = Accumulator::new(&a);
        for (t, v) in pts {
            acc.add(&a, t, FieldValue::Integer(v), &Vec::new);
        }
        acc.finish_rows(&a)
            .into_iter()
            .map(|(t, v, _)| (t, v))
            .collect()
    };
    let i = Value::Integer;
    assert_eq!(rows(false), vec![(1, i(7)), (2, i(2)), (3, i(5))]);
    // ORDER BY time DESC: 1.x reads newest first and keeps each value's newest point.
    assert_eq!(rows(true), vec![(3, i(5)), (4, i(7)), (6, i(2))]);
    // … and answers a bucket's rows oldest first even then.
    assert_eq!(bucket_order(vec![1, 2, 3], true), vec![3, 2, 1]);
    assert_eq!(bucket_order(vec![1, 2, 3], false), vec![1, 2, 3]);
}

proptest::proptest! {
    /// Every accumulator whose merge is exact ([`merge_is_exact`]) answers, after its points
    /// are added in two parts and the second merged into the first, exactly what adding them
    /// all in one pass does (values, times, rows and their order); stddev's merge (Chan's
    /// formula) agrees to rounding. Values are small integers, as integers or floats, with
    /// repeats and ties.
    #[test]
    fn merged_partial_accumulators_answer_as_one_pass(
        points in proptest::collection::vec((0i64..40, -4i64..5, proptest::bool::ANY), 0..60),
        cut in 0usize..60,
    ) {
        let points: Vec<(i64, FieldValue)> = points
            .into_iter()
            .map(|(t, v, int)| (t, if int { FieldValue::Integer(v) } else { FieldValue::Float(v as f64) }))
            .collect();
        let cut = cut.min(points.len());
        let calls = [
            spec(AggFn::Count), spec(AggFn::Min), spec(AggFn::Max), spec(AggFn::First),
            spec(AggFn::Last), spec(AggFn::Spread), spec(AggFn::Median), spec(AggFn::Mode),
            spec(AggFn::Percentile), spec(AggFn::Integral), spec(AggFn::Top), spec(AggFn::Bottom),
            spec(AggFn::Distinct), AggregateCall { count_distinct: true, ..spec(AggFn::Count) },
            AggregateCall { newest_first: true, ..spec(AggFn::Distinct) }, spec(AggFn::Stddev),
        ];
        for call in &calls {
            let aux = |t: i64| move || vec![Value::Integer(t % 3)];
            let add = |acc: &mut Accumulator, pts: &[(i64, FieldValue)]| {
                for (t, v) in pts {
                    acc.add(call, *t, v.clone(), &aux(*t));
                }
            };
            let mut whole = Accumulator::new(call);
            add(&mut whole, &points);
            let (mut first, mut second) = (Accumulator::new(call), Accumulator::new(call));
            add(&mut first, &points[..cut]);
            add(&mut second, &points[cut..]);
            first.merge(call, second);
            proptest::prop_assert_eq!(first.points(), whole.points());
            let (a, b) = (whole.finish(call), first.finish(call));
            if call.func == AggFn::Stddev {
                match (&a.value, &b.value) {
                    (Value::Float(x), Value::Float(y)) => proptest::prop_assert!((x - y).abs() < 1e-9, "{x} {y}"),
                    (x, y) => proptest::prop_assert_eq!(x, y),
                }
                continue;
            }
            proptest::prop_assert!(merge_is_exact(call, None));
            proptest::prop_assert_eq!(format!("{:?}", (a.value, a.time, a.aux)), format!("{:?}", (b.value, b.time, b.aux)), "{:?}", call.func);
            proptest::prop_assert_eq!(whole.finish_rows(call), first.finish_rows(call), "{:?}", call.func);
        }
    }

    /// Bucket maps of two runs of series merge into the map one pass over both makes.
    #[test]
    fn merged_bucket_maps_equal_one_pass(
        points in proptest::collection::vec((0i64..100, -4i64..5), 0..80),
        cut in 0usize..80,
    ) {
        let calls = [spec(AggFn::Count), spec(AggFn::Max)];
        let fill = |map: &mut BucketMap, pts: &[(i64, i64)]| {
            for (t, v) in pts {
                for (acc, call) in map.entry(t / 10 * 10, &calls).iter_mut().zip(&calls) {
                    acc.add(call, *t, FieldValue::Integer(*v), &Vec::new);
                }
            }
        };
        let cut = cut.min(points.len());
        let mut whole = BucketMap::default();
        fill(&mut whole, &points);
        let (mut first, mut second) = (BucketMap::default(), BucketMap::default());
        fill(&mut first, &points[..cut]);
        fill(&mut second, &points[cut..]);
        first.merge(second, &calls);
        let answer = |map: &BucketMap| -> Vec<(i64, String)> {
            map.iter()
                .map(|(b, accs)| {
                    let mut accs = accs.to_vec();
                    let outs: Vec<String> = accs.iter_mut().zip(&calls).map(|(a, c)| format!("{:?}", a.finish(c).value)).collect();
                    (*b, outs.join(","))
                })
                .collect()
        };
        proptest::prop_assert_eq!(answer(&whole), answer(&first));
    }
}

/// Sum and mean of floats are not split (their merge rounds differently); sum of integers is.
#[test]
fn float_sums_do_not_merge_exactly() {
    assert!(!merge_is_exact(&spec(AggFn::Sum), Some(FieldType::Float)));
    assert!(merge_is_exact(&spec(AggFn::Sum), Some(FieldType::Integer)));
    assert!(!merge_is_exact(
        &spec(AggFn::Mean),
        Some(FieldType::Integer)
    ));
    assert!(!merge_is_exact(
        &spec(AggFn::Stddev),
        Some(FieldType::Integer)
    ));
}

/// What a point may make an accumulator hold is taken from the query's memory before the
/// point is kept: at the memory limit the add fails, the point is not added and the
/// accumulator holds exactly what is in use. Repeats of a distinct value give back what they
/// took; counting takes nothing.
#[test]
fn an_add_is_charged_before_the_point_is_kept() {
    use crate::error::Error;
    use crate::query::limits::{QueryMemory, Reservation};
    let per_point = 48 + 8;
    for func in [AggFn::Median, AggFn::Distinct, AggFn::Top, AggFn::Count] {
        let a = AggregateCall { n: 2, ..spec(func) };
        let index = if func == AggFn::Distinct {
            DISTINCT_INDEX_BYTES
        } else {
            0
        };
        // Room for three points (below a reservation chunk: each take is charged exactly).
        let memory = QueryMemory::new(3 * (per_point + index));
        let mut held = Reservation::new(&memory);
        let mut acc = Accumulator::new(&a);
        let mut kept = 0;
        let mut refused = None;
        for (t, v) in [1i64, 1, 2, 3, 4, 5].into_iter().enumerate() {
            let added = acc.add_charged(
                &a,
                t as i64,
                FieldValue::Integer(v),
                &Vec::new,
                0,
                &mut held,
            );
            assert_eq!(held.in_use(), acc.size(), "{func:?}");
            assert!(memory.used() <= 3 * (per_point + index), "{func:?}");
            match added {
                Ok(()) => kept += 1,
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        let over = matches!(refused, Some(Error::QueryMemoryLimitExceeded { .. }));
        match func {
            // Three points fit, the fourth is refused and not added. top() without tags keeps
            // every point until it holds 32, so it refuses the fourth alike.
            AggFn::Median | AggFn::Top => {
                assert_eq!((kept, over), (3, true), "{func:?}");
                assert_eq!(acc.points(), 3, "{func:?}: the refused point was not added");
            }
            // The repeated 1 gives back what it took: 1, 2 and 3 fit, 4 does not.
            AggFn::Distinct => {
                assert_eq!((kept, over), (4, true));
                assert_eq!(acc.size(), 3 * (per_point + index));
            }
            _ => {
                assert_eq!((kept, refused.is_none()), (6, true));
                assert_eq!(memory.used(), 0);
            }
        }
    }
}
