//! The logical plan of a SELECT: what every front end (InfluxQL, vq) compiles to, and what the
//! executor runs. Nothing here knows about syntax.

use std::collections::BTreeSet;

use regex::Regex;

use crate::query::analysis::{AnalysisArgs, AnalysisFn};
use crate::query::math::MathFn;
use crate::series::{MeasurementIndex, Postings};
use crate::types::SeriesId;

/// A predicate over a series' tags (and measurement name), from the WHERE clause.
#[derive(Clone, Debug)]
pub enum TagPred {
    True,
    Eq(String, String),
    Neq(String, String),
    Match(String, Regex),
    NotMatch(String, Regex),
    And(Box<TagPred>, Box<TagPred>),
    Or(Box<TagPred>, Box<TagPred>),
    Not(Box<TagPred>),
}

impl TagPred {
    /// Evaluate against a series' tags (missing tag = empty string, as InfluxDB).
    pub fn eval<'a>(&self, tag: &dyn Fn(&str) -> Option<&'a str>) -> bool {
        match self {
            TagPred::True => true,
            TagPred::Eq(k, v) => tag(k).unwrap_or_default() == v,
            TagPred::Neq(k, v) => tag(k).unwrap_or_default() != v,
            TagPred::Match(k, re) => re.is_match(tag(k).unwrap_or_default()),
            TagPred::NotMatch(k, re) => !re.is_match(tag(k).unwrap_or_default()),
            TagPred::And(a, b) => a.eval(tag) && b.eval(tag),
            TagPred::Or(a, b) => a.eval(tag) || b.eval(tag),
            TagPred::Not(a) => !a.eval(tag),
        }
    }

    /// The series of `mi` that may satisfy the predicate, narrowed through the tag postings
    /// (every series where they cannot narrow): evaluate the predicate on these only. An
    /// equality takes its postings, `AND` intersects, `OR` unites, so `host = 'a' OR host =
    /// 'b'` costs two postings lists, not a look at every series.
    pub fn candidates(&self, mi: &MeasurementIndex) -> BTreeSet<SeriesId> {
        let postings = mi.read_postings();
        let narrowed = self.narrow(&postings);
        drop(postings);
        narrowed.unwrap_or_else(|| mi.series_ids())
    }

    /// A superset of the matching series from `postings`, or `None` (any series may match).
    fn narrow(&self, postings: &Postings) -> Option<BTreeSet<SeriesId>> {
        match self {
            // `k = ''` matches the series without the tag: no postings list holds them.
            TagPred::Eq(k, v) if !v.is_empty() => Some(
                postings
                    .get(k)
                    .and_then(|vals| vals.get(v))
                    .cloned()
                    .unwrap_or_default(),
            ),
            TagPred::And(a, b) => match (a.narrow(postings), b.narrow(postings)) {
                (Some(x), Some(y)) => {
                    let (small, big) = if x.len() <= y.len() { (x, y) } else { (y, x) };
                    Some(small.into_iter().filter(|id| big.contains(id)).collect())
                }
                (Some(x), None) | (None, Some(x)) => Some(x),
                (None, None) => None,
            },
            TagPred::Or(a, b) => {
                let mut x = a.narrow(postings)?;
                x.extend(b.narrow(postings)?);
                Some(x)
            }
            _ => None,
        }
    }

    pub fn and(a: TagPred, b: TagPred) -> TagPred {
        match (a, b) {
            (TagPred::True, x) | (x, TagPred::True) => x,
            (a, b) => TagPred::And(Box::new(a), Box::new(b)),
        }
    }
}

/// Comparison operator of a field condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl CmpOp {
    /// Whether `a OP b` holds when `a` compares to `b` as `ord`.
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ord == Equal,
            CmpOp::Neq => ord != Equal,
            CmpOp::Lt => ord == Less,
            CmpOp::Lte => ord != Greater,
            CmpOp::Gt => ord == Greater,
            CmpOp::Gte => ord != Less,
        }
    }
}

/// A literal a field is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Number(f64),
    String(String),
    Bool(bool),
}

/// A predicate over one row (its field values and its series' tags), from the WHERE clause.
#[derive(Clone, Debug)]
pub enum FieldPred {
    Cmp(String, CmpOp, Literal),
    /// `field =~ /re/` (`negated`: `!~`). As in InfluxDB 1.x only string values can match
    /// either way: a number, boolean or missing value satisfies neither.
    Match {
        field: String,
        re: Regex,
        negated: bool,
    },
    /// A comparison that is not a name against a literal (`a + 1 > 99`, `a > b * 2`,
    /// `(a + b) / 2 >= 50`): both sides evaluated per row as InfluxDB 1.x evaluates a
    /// condition. `fields` are the names in it that are fields; the others are tags.
    Expr {
        op: CmpOp,
        lhs: PlanExpr,
        rhs: PlanExpr,
        fields: Vec<String>,
    },
    /// A tag condition combined with field conditions inside `OR`.
    Tag(TagPred),
    And(Box<FieldPred>, Box<FieldPred>),
    Or(Box<FieldPred>, Box<FieldPred>),
    Not(Box<FieldPred>),
}

impl FieldPred {
    /// Field names the predicate reads.
    pub fn fields(&self, out: &mut Vec<String>) {
        match self {
            FieldPred::Cmp(f, _, _) | FieldPred::Match { field: f, .. } => {
                if !out.contains(f) {
                    out.push(f.clone())
                }
            }
            FieldPred::Expr { fields, .. } => {
                for f in fields {
                    if !out.contains(f) {
                        out.push(f.clone())
                    }
                }
            }
            FieldPred::Tag(_) => {}
            FieldPred::And(a, b) | FieldPred::Or(a, b) => {
                a.fields(out);
                b.fields(out);
            }
            FieldPred::Not(a) => a.fields(out),
        }
    }
}

/// Functions of the SELECT list: aggregates and selectors (one value, or a few rows, per
/// bucket) and transformations (one output per input point or bucket).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFn {
    Count,
    Sum,
    Mean,
    Median,
    Mode,
    Spread,
    Stddev,
    Min,
    Max,
    First,
    Last,
    Percentile,
    Distinct,
    Integral,
    Top,
    Bottom,
    Derivative,
    NonNegativeDerivative,
    Difference,
    NonNegativeDifference,
    MovingAverage,
    CumulativeSum,
    Elapsed,
    /// A technical-analysis function (`exponential_moving_average`, …).
    Analysis(AnalysisFn),
    /// `holt_winters(aggregate, N, S)`: N forecast buckets ([`crate::query::holt_winters`]).
    HoltWinters,
    /// `holt_winters_with_fit(aggregate, N, S)`: the fit over the buckets, then the forecast.
    HoltWintersWithFit,
}

impl AggFn {
    /// Every function, in the order of the enum.
    pub const ALL: [AggFn; 33] = [
        AggFn::Count,
        AggFn::Sum,
        AggFn::Mean,
        AggFn::Median,
        AggFn::Mode,
        AggFn::Spread,
        AggFn::Stddev,
        AggFn::Min,
        AggFn::Max,
        AggFn::First,
        AggFn::Last,
        AggFn::Percentile,
        AggFn::Distinct,
        AggFn::Integral,
        AggFn::Top,
        AggFn::Bottom,
        AggFn::Derivative,
        AggFn::NonNegativeDerivative,
        AggFn::Difference,
        AggFn::NonNegativeDifference,
        AggFn::MovingAverage,
        AggFn::CumulativeSum,
        AggFn::Elapsed,
        AggFn::Analysis(AnalysisFn::ExponentialMovingAverage),
        AggFn::Analysis(AnalysisFn::DoubleExponentialMovingAverage),
        AggFn::Analysis(AnalysisFn::TripleExponentialMovingAverage),
        AggFn::Analysis(AnalysisFn::TripleExponentialDerivative),
        AggFn::Analysis(AnalysisFn::RelativeStrengthIndex),
        AggFn::Analysis(AnalysisFn::ChandeMomentumOscillator),
        AggFn::Analysis(AnalysisFn::KaufmansEfficiencyRatio),
        AggFn::Analysis(AnalysisFn::KaufmansAdaptiveMovingAverage),
        AggFn::HoltWinters,
        AggFn::HoltWintersWithFit,
    ];

    pub fn from_name(name: &str) -> Option<AggFn> {
        Some(match name.to_ascii_lowercase().as_str() {
            "count" => AggFn::Count,
            "sum" => AggFn::Sum,
            "mean" => AggFn::Mean,
            "median" => AggFn::Median,
            "mode" => AggFn::Mode,
            "spread" => AggFn::Spread,
            "stddev" => AggFn::Stddev,
            "min" => AggFn::Min,
            "max" => AggFn::Max,
            "first" => AggFn::First,
            "last" => AggFn::Last,
            "percentile" => AggFn::Percentile,
            "distinct" => AggFn::Distinct,
            "integral" => AggFn::Integral,
            "top" => AggFn::Top,
            "bottom" => AggFn::Bottom,
            "derivative" => AggFn::Derivative,
            "non_negative_derivative" => AggFn::NonNegativeDerivative,
            "difference" => AggFn::Difference,
            "non_negative_difference" => AggFn::NonNegativeDifference,
            "moving_average" => AggFn::MovingAverage,
            "cumulative_sum" => AggFn::CumulativeSum,
            "elapsed" => AggFn::Elapsed,
            "holt_winters" => AggFn::HoltWinters,
            "holt_winters_with_fit" => AggFn::HoltWintersWithFit,
            other => return AnalysisFn::from_name(other).map(AggFn::Analysis),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            AggFn::Count => "count",
            AggFn::Sum => "sum",
            AggFn::Mean => "mean",
            AggFn::Median => "median",
            AggFn::Mode => "mode",
            AggFn::Spread => "spread",
            AggFn::Stddev => "stddev",
            AggFn::Min => "min",
            AggFn::Max => "max",
            AggFn::First => "first",
            AggFn::Last => "last",
            AggFn::Percentile => "percentile",
            AggFn::Distinct => "distinct",
            AggFn::Integral => "integral",
            AggFn::Top => "top",
            AggFn::Bottom => "bottom",
            AggFn::Derivative => "derivative",
            AggFn::NonNegativeDerivative => "non_negative_derivative",
            AggFn::Difference => "difference",
            AggFn::NonNegativeDifference => "non_negative_difference",
            AggFn::MovingAverage => "moving_average",
            AggFn::CumulativeSum => "cumulative_sum",
            AggFn::Elapsed => "elapsed",
            AggFn::Analysis(f) => f.name(),
            AggFn::HoltWinters => "holt_winters",
            AggFn::HoltWintersWithFit => "holt_winters_with_fit",
        }
    }

    /// Selectors return a point (with its own time); aggregates compute a value.
    pub fn is_selector(self) -> bool {
        matches!(
            self,
            AggFn::Min
                | AggFn::Max
                | AggFn::First
                | AggFn::Last
                | AggFn::Percentile
                | AggFn::Top
                | AggFn::Bottom
        )
    }

    /// Transformations run over a sequence of points or buckets.
    pub fn is_transform(self) -> bool {
        matches!(
            self,
            AggFn::Derivative
                | AggFn::NonNegativeDerivative
                | AggFn::Difference
                | AggFn::NonNegativeDifference
                | AggFn::MovingAverage
                | AggFn::CumulativeSum
                | AggFn::Elapsed
        ) || self.analysis().is_some()
            || self.is_holt_winters()
    }

    /// `holt_winters` or `holt_winters_with_fit`: answered once per series from all its
    /// buckets, not bucket by bucket.
    pub fn is_holt_winters(self) -> bool {
        matches!(self, AggFn::HoltWinters | AggFn::HoltWintersWithFit)
    }

    /// The technical-analysis function this is, if it is one.
    pub fn analysis(self) -> Option<AnalysisFn> {
        match self {
            AggFn::Analysis(f) => Some(f),
            _ => None,
        }
    }

    /// Functions that answer several rows per bucket.
    pub fn is_multi_row(self) -> bool {
        matches!(self, AggFn::Top | AggFn::Bottom | AggFn::Distinct)
    }
}

/// Arithmetic operators of the SELECT list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// A function call of the SELECT list.
#[derive(Clone, Debug)]
pub struct Call {
    pub func: AggFn,
    /// The argument: a field ([`PlanExpr::Var`]), `*`, a regex, or (for transformations and
    /// `count(distinct(x))`) another call.
    pub arg: PlanExpr,
    /// `top`/`bottom`/`moving_average` N; percentile's P is in `p`.
    pub n: usize,
    pub p: f64,
    /// Unit argument of derivative/elapsed/integral in ns (0: the default).
    pub unit: i64,
    /// `top(field, tag, …, N)` tag keys.
    pub tags: Vec<String>,
    /// A technical-analysis function's hold period and warm-up (its period is `n`).
    pub analysis: AnalysisArgs,
    /// holt_winters' season length `S` (its horizon `N` is `n`).
    pub season: usize,
}

/// What one output column computes.
#[derive(Clone, Debug)]
pub enum PlanExpr {
    /// A field or tag of the row.
    Var(String),
    /// Every field and tag (raw queries).
    Wildcard,
    /// Every field whose name matches.
    Regex(Regex),
    Integer(i64),
    Number(f64),
    String(String),
    Bool(bool),
    Binary(ArithOp, Box<PlanExpr>, Box<PlanExpr>),
    Call(Box<Call>),
    /// A math function of its arguments (`round(mean(x))`, `abs(x)`), per row or per bucket.
    Math(MathFn, Vec<PlanExpr>),
}

impl PlanExpr {
    /// Visit every call, outermost first (not descending into call arguments).
    pub fn calls<'a>(&'a self, out: &mut Vec<&'a Call>) {
        match self {
            PlanExpr::Call(c) => out.push(c),
            PlanExpr::Binary(_, a, b) => {
                a.calls(out);
                b.calls(out);
            }
            PlanExpr::Math(_, args) => args.iter().for_each(|a| a.calls(out)),
            _ => {}
        }
    }

    /// Visit the variable references outside calls.
    pub fn bare_vars<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            PlanExpr::Var(v) => out.push(v),
            PlanExpr::Binary(_, a, b) => {
                a.bare_vars(out);
                b.bare_vars(out);
            }
            PlanExpr::Math(_, args) => args.iter().for_each(|a| a.bare_vars(out)),
            _ => {}
        }
    }
}

/// One output column.
#[derive(Clone, Debug)]
pub struct Projection {
    pub expr: PlanExpr,
    /// Column name (alias, or derived as InfluxDB does: `mean`, the field name, `a_b`).
    pub name: String,
    /// Whether the name is an alias (kept as is when `*` or a regex expands).
    pub aliased: bool,
}

/// How empty GROUP BY time buckets are filled.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Fill {
    #[default]
    Null,
    None,
    Previous,
    Linear,
    Value(f64),
}

/// Tag grouping.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum GroupTags {
    #[default]
    None,
    Keys(Vec<String>),
    All,
}

/// A SELECT, ready to run.
#[derive(Clone, Debug)]
pub struct SelectPlan {
    pub measurements: Vec<String>,
    /// Measurement regex sources (`FROM /re/`), matched against the database's measurements.
    pub measurement_regexes: Vec<Regex>,
    pub tag_filter: TagPred,
    pub field_filter: Option<FieldPred>,
    /// Inclusive time bounds in ns.
    pub tmin: i64,
    pub tmax: i64,
    /// Whether the query gave a lower / upper time bound.
    pub has_tmin: bool,
    pub has_tmax: bool,
    pub projections: Vec<Projection>,
    /// `GROUP BY /regex/` dimensions (tag keys matching any are grouped on too).
    pub group_regexes: Vec<Regex>,
    /// `GROUP BY time(interval, offset)` in ns.
    pub group_time: Option<(i64, i64)>,
    pub group_tags: GroupTags,
    pub fill: Fill,
    pub desc: bool,
    pub limit: usize,
    pub offset: usize,
    pub slimit: usize,
    pub soffset: usize,
    /// `now()` at planning time, in ns (upper bound of GROUP BY time queries without one).
    pub now: i64,
}

impl SelectPlan {
    /// Whether the query aggregates (some call is an aggregate or selector, possibly inside
    /// a transformation).
    pub fn is_aggregate(&self) -> bool {
        let mut calls = Vec::new();
        for p in &self.projections {
            p.expr.calls(&mut calls);
        }
        calls
            .iter()
            .any(|c| !c.func.is_transform() || matches!(&c.arg, PlanExpr::Call(_)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_function_is_listed_once_under_its_name() {
        for f in AggFn::ALL {
            assert_eq!(AggFn::from_name(f.name()), Some(f), "{f:?}");
        }
        let mut names: Vec<&str> = AggFn::ALL.iter().map(|f| f.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), AggFn::ALL.len());
    }
    use crate::series::SeriesIndex;

    fn eq(k: &str, v: &str) -> TagPred {
        TagPred::Eq(k.into(), v.into())
    }

    fn or(a: TagPred, b: TagPred) -> TagPred {
        TagPred::Or(Box::new(a), Box::new(b))
    }

    fn and(a: TagPred, b: TagPred) -> TagPred {
        TagPred::And(Box::new(a), Box::new(b))
    }

    /// The candidates from the postings hold every matching series (the predicate evaluated
    /// on them gives the same series as on all), and equalities under AND and OR narrow them.
    #[test]
    fn candidates_narrow_through_the_postings_and_miss_no_match() {
        let idx = SeriesIndex::new();
        let text = "cpu,host=a,region=eu v=1\ncpu,host=b,region=eu v=1\n\
                    cpu,host=c,region=us v=1\ncpu,host=a,region=us v=1\ncpu,region=us v=1\n";
        let parsed =
            crate::lineproto::parse(text, crate::lineproto::Precision::Nanosecond, 0, 1024);
        let ids: Vec<SeriesId> = parsed
            .points
            .iter()
            .map(|p| idx.resolve(p).unwrap().0)
            .collect();
        let m = idx.measurement("cpu").unwrap();
        let re = |r: &str| TagPred::Match("host".into(), Regex::new(r).unwrap());
        let cases: Vec<(TagPred, Option<Vec<SeriesId>>)> = vec![
            (TagPred::True, None),
            (eq("region", "eu"), Some(vec![ids[0], ids[1]])),
            (and(eq("region", "us"), eq("host", "a")), Some(vec![ids[3]])),
            (and(eq("host", "a"), eq("host", "b")), Some(vec![])),
            (eq("host", "z"), Some(vec![])),
            (eq("zone", "a"), Some(vec![])),
            (
                or(eq("host", "b"), eq("host", "c")),
                Some(vec![ids[1], ids[2]]),
            ),
            (
                and(or(eq("host", "a"), eq("host", "c")), re("^[ab]$")),
                Some(vec![ids[0], ids[2], ids[3]]),
            ),
            (or(eq("host", "a"), re("c")), None),
            // `host = ''`: the series without a host, which no postings list holds.
            (eq("host", ""), None),
            (or(eq("host", ""), eq("host", "b")), None),
            (TagPred::Not(Box::new(eq("host", "a"))), None),
        ];
        for (pred, narrowed) in cases {
            let got = pred.candidates(&m);
            let want = narrowed.unwrap_or_else(|| ids.clone());
            assert_eq!(got.iter().copied().collect::<Vec<_>>(), want, "{pred:?}");
            let matching = |from: &mut dyn Iterator<Item = SeriesId>| -> Vec<SeriesId> {
                from.filter(|id| {
                    let s = idx.get(*id).unwrap();
                    pred.eval(&|k: &str| s.tag(k))
                })
                .collect()
            };
            assert_eq!(
                matching(&mut got.into_iter()),
                matching(&mut ids.iter().copied()),
                "{pred:?}"
            );
        }
    }
}
