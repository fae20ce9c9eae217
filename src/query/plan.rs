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
    pub fn eval(&self, tag: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            TagPred::True => true,
            TagPred::Eq(k, v) => tag(k).unwrap_or_default() == *v,
            TagPred::Neq(k, v) => tag(k).unwrap_or_default() != *v,
            TagPred::Match(k, re) => re.is_match(&tag(k).unwrap_or_default()),
            TagPred::NotMatch(k, re) => !re.is_match(&tag(k).unwrap_or_default()),
            TagPred::And(a, b) => a.eval(tag) && b.eval(tag),
            TagPred::Or(a, b) => a.eval(tag) || b.eval(tag),
            TagPred::Not(a) => !a.eval(tag),
        }
    }

    /// `(key, value)` pairs that every matching series must have (top-level `AND`ed equalities),
    /// used to narrow candidates through the tag postings before evaluating.
    pub fn required_equalities(&self) -> Vec<(String, String)> {
        match self {
            TagPred::Eq(k, v) if !v.is_empty() => vec![(k.clone(), v.clone())],
            TagPred::And(a, b) => {
                let mut v = a.required_equalities();
                v.extend(b.required_equalities());
                v
            }
            _ => Vec::new(),
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

/// A literal a field is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Number(f64),
    String(String),
    Bool(bool),
}

/// A predicate over the field values of one row, from the WHERE clause.
#[derive(Clone, Debug)]
pub enum FieldPred {
    Cmp(String, CmpOp, Literal),
    And(Box<FieldPred>, Box<FieldPred>),
    Or(Box<FieldPred>, Box<FieldPred>),
    Not(Box<FieldPred>),
}

impl FieldPred {
    /// Field names the predicate reads.
    pub fn fields(&self, out: &mut Vec<String>) {
        match self {
            FieldPred::Cmp(f, _, _) => {
                if !out.contains(f) {
                    out.push(f.clone())
                }
            }
            FieldPred::And(a, b) | FieldPred::Or(a, b) => {
                a.fields(out);
                b.fields(out);
            }
            FieldPred::Not(a) => a.fields(out),
        }
    }
}

/// Aggregate and selector functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFn {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    First,
    Last,
}

impl AggFn {
    pub fn from_name(name: &str) -> Option<AggFn> {
        Some(match name.to_ascii_lowercase().as_str() {
            "count" => AggFn::Count,
            "sum" => AggFn::Sum,
            "mean" => AggFn::Mean,
            "min" => AggFn::Min,
            "max" => AggFn::Max,
            "first" => AggFn::First,
            "last" => AggFn::Last,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            AggFn::Count => "count",
            AggFn::Sum => "sum",
            AggFn::Mean => "mean",
            AggFn::Min => "min",
            AggFn::Max => "max",
            AggFn::First => "first",
            AggFn::Last => "last",
        }
    }

    /// Selectors return a point (with its own time); aggregates compute a value.
    pub fn is_selector(self) -> bool {
        matches!(self, AggFn::Min | AggFn::Max | AggFn::First | AggFn::Last)
    }
}

/// What one output column computes.
#[derive(Clone, Debug, PartialEq)]
pub enum ProjExpr {
    /// A field's raw value (or a tag's value, in raw queries).
    Field(String),
    /// Every field and tag (raw queries).
    Wildcard,
    /// An aggregate over one field.
    Agg(AggFn, String),
    /// An aggregate over every field (`count(*)`): one column per field, named `fn_field`.
    AggWildcard(AggFn),
}

/// One output column.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    pub expr: ProjExpr,
    /// Column name; `None` to derive it (`mean`, the field name, …).
    pub alias: Option<String>,
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
    pub fn is_aggregate(&self) -> bool {
        self.projections
            .iter()
            .any(|p| matches!(p.expr, ProjExpr::Agg(..) | ProjExpr::AggWildcard(..)))
    }
}
