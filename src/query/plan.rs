//! The logical plan of a SELECT: what every front end (InfluxQL, vq) compiles to, and what the
//! executor runs. Nothing here knows about syntax.

use regex::Regex;

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
    pub fn eval<'v>(&self, tag: &dyn Fn(&str) -> Option<&'v str>) -> bool {
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

    /// Sets of `(key, value)` equalities such that every matching series has all the pairs of
    /// at least one set (`host = 'a' OR host = 'b'`: two sets of one pair; `AND`s join sets),
    /// to narrow the candidates through the tag postings before evaluating; `None` when the
    /// predicate does not narrow them (a negation, a regex, an equality with the empty value
    /// that a series without the tag satisfies, or an `OR` with such a side).
    pub fn candidates(&self) -> Option<Vec<Vec<(String, String)>>> {
        /// Most sets an `AND` of two disjunctions expands to before one side is kept alone.
        const MAX_SETS: usize = 64;
        match self {
            TagPred::Eq(k, v) if !v.is_empty() => Some(vec![vec![(k.clone(), v.clone())]]),
            TagPred::And(a, b) => match (a.candidates(), b.candidates()) {
                (Some(x), Some(y)) if x.len() * y.len() <= MAX_SETS => Some(
                    x.iter()
                        .flat_map(|l| y.iter().map(move |r| l.iter().chain(r).cloned().collect()))
                        .collect(),
                ),
                (Some(x), Some(y)) => Some(if x.len() <= y.len() { x } else { y }),
                (x, y) => x.or(y),
            },
            TagPred::Or(a, b) => {
                let mut x = a.candidates()?;
                x.extend(b.candidates()?);
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
        lhs: PExpr,
        rhs: PExpr,
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
}

impl AggFn {
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
            _ => return None,
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
        )
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
    /// The argument: a field ([`PExpr::Var`]), `*`, a regex, or (for transformations and
    /// `count(distinct(x))`) another call.
    pub arg: PExpr,
    /// `top`/`bottom`/`moving_average` N; percentile's P is in `p`.
    pub n: usize,
    pub p: f64,
    /// Unit argument of derivative/elapsed/integral in ns (0: the default).
    pub unit: i64,
    /// `top(field, tag, …, N)` tag keys.
    pub tags: Vec<String>,
}

/// What one output column computes.
#[derive(Clone, Debug)]
pub enum PExpr {
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
    Binary(ArithOp, Box<PExpr>, Box<PExpr>),
    Call(Box<Call>),
}

impl PExpr {
    /// Visit every call, outermost first (not descending into call arguments).
    pub fn calls<'a>(&'a self, out: &mut Vec<&'a Call>) {
        match self {
            PExpr::Call(c) => out.push(c),
            PExpr::Binary(_, a, b) => {
                a.calls(out);
                b.calls(out);
            }
            _ => {}
        }
    }

    /// Visit the variable references outside calls.
    pub fn bare_vars<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            PExpr::Var(v) => out.push(v),
            PExpr::Binary(_, a, b) => {
                a.bare_vars(out);
                b.bare_vars(out);
            }
            _ => {}
        }
    }
}

/// One output column.
#[derive(Clone, Debug)]
pub struct Projection {
    pub expr: PExpr,
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
            .any(|c| !c.func.is_transform() || matches!(&c.arg, PExpr::Call(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eq(k: &str, v: &str) -> TagPred {
        TagPred::Eq(k.into(), v.into())
    }

    fn or(a: TagPred, b: TagPred) -> TagPred {
        TagPred::Or(Box::new(a), Box::new(b))
    }

    fn and(a: TagPred, b: TagPred) -> TagPred {
        TagPred::And(Box::new(a), Box::new(b))
    }

    fn pairs(sets: &[&[(&str, &str)]]) -> Vec<Vec<(String, String)>> {
        sets.iter()
            .map(|s| {
                s.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn candidates_of_ors_and_ands_of_equalities() {
        let hosts = or(eq("host", "a"), eq("host", "b"));
        assert_eq!(
            hosts.candidates(),
            Some(pairs(&[&[("host", "a")], &[("host", "b")]]))
        );
        assert_eq!(
            and(hosts.clone(), eq("dc", "x")).candidates(),
            Some(pairs(&[
                &[("host", "a"), ("dc", "x")],
                &[("host", "b"), ("dc", "x")]
            ]))
        );
        let not = TagPred::Not(Box::new(eq("host", "a")));
        assert_eq!(
            and(hosts.clone(), not.clone()).candidates(),
            hosts.candidates()
        );
        assert_eq!(or(hosts.clone(), not).candidates(), None);
        // A series without the tag has it empty: no posting lists it.
        assert_eq!(or(hosts, eq("host", "")).candidates(), None);
        assert_eq!(TagPred::True.candidates(), None);
    }

    fn pred() -> impl Strategy<Value = TagPred> {
        let key = prop_oneof![Just("k"), Just("j")];
        let value = prop_oneof![Just(""), Just("a"), Just("b")];
        let leaf = prop_oneof![
            (key.clone(), value.clone()).prop_map(|(k, v)| eq(k, v)),
            (key, value).prop_map(|(k, v)| TagPred::Neq(k.into(), v.into())),
            Just(TagPred::True),
        ];
        leaf.prop_recursive(4, 16, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| and(a, b)),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| or(a, b)),
                inner.prop_map(|a| TagPred::Not(Box::new(a))),
            ]
        })
    }

    proptest! {
        /// Narrowing by the candidate sets never drops a matching series.
        #[test]
        fn every_matching_series_is_a_candidate(
            p in pred(),
            k in prop_oneof![Just(None), Just(Some("a")), Just(Some("b"))],
            j in prop_oneof![Just(None), Just(Some("a")), Just(Some("b"))],
        ) {
            let tag = |key: &str| match key {
                "k" => k,
                "j" => j,
                _ => None,
            };
            if let (true, Some(sets)) = (p.eval(&tag), p.candidates()) {
                prop_assert!(
                    sets.iter().any(|set| set.iter().all(|(key, v)| tag(key) == Some(v.as_str()))),
                    "{p:?} {sets:?}"
                );
            }
        }
    }
}
