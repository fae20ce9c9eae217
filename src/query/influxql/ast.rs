//! The InfluxQL abstract syntax tree.
//!
//! Every type is `Clone + Debug + PartialEq`. `Display` on [`Statement`] and [`Expr`] prints
//! valid InfluxQL that parses back to an equal tree (for trees the parser produces, and for
//! expressions built with [`Expr::binary`]); it is what `SHOW QUERIES` and `EXPLAIN` show.
//! The exception: `CREATE USER` and `SET PASSWORD` print their password as `[REDACTED]`, as
//! InfluxDB 1.x does.
//!
//! Conventions the planner can rely on:
//! - Durations and times are `i64` nanoseconds.
//! - Function names in [`Expr::Call`] are lower case; `now()` is `Call { name: "now", args: [] }`.
//! - A `-` directly before a number or duration literal is folded into the literal
//!   (`-5` is `Integer(-5)`); any other unary minus is [`Expr::Neg`].
//! - [`Expr::Paren`] records parentheses written in the query; precedence is already encoded
//!   in the tree shape, so the planner may simply look through `Paren`.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use super::lexer::lookup_keyword;
pub use super::regex_literal::{Regex, RegexError};
pub use super::statement::*;

/// Nanoseconds per duration unit, longest spelling first where prefixes overlap.
const DURATION_UNITS: &[(&str, i64)] = &[
    ("ns", 1),
    ("ms", 1_000_000),
    ("u", 1_000),
    ("µ", 1_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
    ("w", 604_800_000_000_000),
];

/// Parse an InfluxQL duration literal (`1h`, `1h30m`, `10ms`, `5u`, `5µ`, `2w`, `100ns`) into
/// nanoseconds. Returns `None` for anything else, including overflow and a missing unit.
pub fn parse_duration(s: &str) -> Option<i64> {
    parse_duration_signed(s, false)
}

/// [`parse_duration`], negated when `negative` (so `-9223372036854775808ns` is representable).
pub(crate) fn parse_duration_signed(s: &str, negative: bool) -> Option<i64> {
    let mut rest = s;
    let mut total: i128 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let ndigits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if ndigits == 0 || ndigits > 20 {
            return None;
        }
        let n: i128 = rest[..ndigits].parse().ok()?;
        rest = &rest[ndigits..];
        let &(unit, mult) = DURATION_UNITS.iter().find(|(u, _)| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        total = total.checked_add(n.checked_mul(i128::from(mult))?)?;
        if total > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    i64::try_from(if negative { -total } else { total }).ok()
}

/// Format nanoseconds as a duration literal in the largest unit that divides it exactly
/// (`3_600_000_000_000` → `1h`, `0` → `0s`). Negative values get a leading `-`.
pub fn format_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    for (unit, mult) in [
        ("w", 604_800_000_000_000u64),
        ("d", 86_400_000_000_000),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("u", 1_000),
    ] {
        if abs.is_multiple_of(mult) {
            return format!("{sign}{}{unit}", abs / mult);
        }
    }
    format!("{sign}{abs}ns")
}

/// Quote an identifier for printing: bare when it is a plain identifier that is not a
/// keyword, otherwise double-quoted with `\`, `"` and newlines escaped.
pub fn quote_ident(s: &str) -> Cow<'_, str> {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && lookup_keyword(s).is_none();
    if plain {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// Quote a string literal: single quotes, with `\`, `'` and newlines escaped.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A `::type` cast on a variable reference or wildcard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    Float,
    Integer,
    Unsigned,
    String,
    Boolean,
    /// `::tag`: the name refers to a tag key.
    Tag,
    /// `::field`: the name refers to a field key.
    Field,
}

impl DataType {
    /// Parse the name after `::` (case-insensitive).
    pub fn from_name(s: &str) -> Option<DataType> {
        Some(match s.to_ascii_lowercase().as_str() {
            "float" => DataType::Float,
            "integer" => DataType::Integer,
            "unsigned" => DataType::Unsigned,
            "string" => DataType::String,
            "boolean" => DataType::Boolean,
            "tag" => DataType::Tag,
            "field" => DataType::Field,
            _ => return None,
        })
    }

    /// The lower-case name used after `::`.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Float => "float",
            DataType::Integer => "integer",
            DataType::Unsigned => "unsigned",
            DataType::String => "string",
            DataType::Boolean => "boolean",
            DataType::Tag => "tag",
            DataType::Field => "field",
        }
    }
}

/// Binary operators, from loosest to tightest binding:
/// `OR` < `AND` < comparisons (`= != < <= > >= =~ !~`) < `+ -` < `* / %`.
/// All are left-associative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    EqRegex,
    NeqRegex,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// Precedence of `NOT` (between `AND` and comparisons).
pub(crate) const NOT_PRECEDENCE: u8 = 3;
/// Precedence of unary minus and of atoms.
pub(crate) const UNARY_PRECEDENCE: u8 = 7;
const ATOM_PRECEDENCE: u8 = 8;

impl BinaryOp {
    /// Binding strength: higher binds tighter. `OR` is 1; `NOT` sits at 3, between `AND` (2)
    /// and the comparisons (4).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Neq
            | BinaryOp::Lt
            | BinaryOp::Lte
            | BinaryOp::Gt
            | BinaryOp::Gte
            | BinaryOp::EqRegex
            | BinaryOp::NeqRegex => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 6,
        }
    }

    /// The operator as written in InfluxQL.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "OR",
            BinaryOp::And => "AND",
            BinaryOp::Eq => "=",
            BinaryOp::Neq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Lte => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Gte => ">=",
            BinaryOp::EqRegex => "=~",
            BinaryOp::NeqRegex => "!~",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }

    /// `=`, `!=`, `<`, `<=`, `>`, `>=`, `=~`, `!~`.
    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }

    /// `+`, `-`, `*`, `/`, `%`.
    pub fn is_arithmetic(self) -> bool {
        self.precedence() >= 5
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An expression: in the field list, `WHERE`, function arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `lhs op rhs`.
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `NOT expr` (a strata extension; binds looser than comparisons, tighter than `AND`).
    Not(Box<Expr>),
    /// Unary minus of anything but a number/duration literal (`-(a + b)`, `-value`).
    Neg(Box<Expr>),
    /// A function call; `name` is lower case. `now()` has no arguments; `DISTINCT x` is
    /// `distinct(x)`.
    Call { name: String, args: Vec<Expr> },
    /// A reference to a field, tag, or `time`, with an optional `::type` cast. Segmented names
    /// (`a.b`) are joined with `.`.
    VarRef {
        name: String,
        data_type: Option<DataType>,
    },
    /// An integer literal (`42`, `-7`).
    Integer(i64),
    /// A float literal (`1.5`, `-2e3`); always finite.
    Number(f64),
    /// A single-quoted string literal (also used for RFC3339 times: `time > '2024-01-01T00:00:00Z'`).
    String(String),
    /// `true` / `false`.
    Boolean(bool),
    /// A duration literal in nanoseconds (`1h30m`, `-15m`).
    Duration(i64),
    /// A regex literal `/.../`.
    Regex(Regex),
    /// `*`, optionally `*::field` or `*::tag`.
    Wildcard(Option<DataType>),
    /// `( expr )` as written.
    Paren(Box<Expr>),
}

impl Expr {
    /// A variable reference without a cast.
    pub fn var(name: impl Into<String>) -> Expr {
        Expr::VarRef {
            name: name.into(),
            data_type: None,
        }
    }

    /// `now()`.
    pub fn now() -> Expr {
        Expr::Call {
            name: "now".into(),
            args: Vec::new(),
        }
    }

    /// Whether this is `now()`.
    pub fn is_now(&self) -> bool {
        matches!(self, Expr::Call { name, args } if name == "now" && args.is_empty())
    }

    /// Build `lhs op rhs`, wrapping an operand in [`Expr::Paren`] when precedence requires
    /// it, so that the result prints and re-parses to the same tree.
    pub fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
        let p = op.precedence();
        let lhs = if lhs.precedence() < p {
            Expr::Paren(Box::new(lhs))
        } else {
            lhs
        };
        let rhs = if rhs.precedence() <= p {
            Expr::Paren(Box::new(rhs))
        } else {
            rhs
        };
        Expr::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        }
    }

    /// Binding strength of the expression's top node (see [`BinaryOp::precedence`]).
    pub fn precedence(&self) -> u8 {
        match self {
            Expr::Binary { op, .. } => op.precedence(),
            Expr::Not(_) => NOT_PRECEDENCE,
            Expr::Neg(_) => UNARY_PRECEDENCE,
            // Negative literals print with a leading '-', so they behave like unary minus.
            Expr::Integer(n) if *n < 0 => UNARY_PRECEDENCE,
            Expr::Duration(n) if *n < 0 => UNARY_PRECEDENCE,
            Expr::Number(n) if n.is_sign_negative() => UNARY_PRECEDENCE,
            _ => ATOM_PRECEDENCE,
        }
    }

    /// Call `f` on this expression and every sub-expression, parents before children,
    /// left to right (function arguments included).
    pub fn walk<'e>(&'e self, f: &mut impl FnMut(&'e Expr)) {
        f(self);
        match self {
            Expr::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            Expr::Not(e) | Expr::Neg(e) | Expr::Paren(e) => e.walk(f),
            Expr::Call { args, .. } => args.iter().for_each(|a| a.walk(f)),
            _ => {}
        }
    }

    /// The expression with any number of enclosing [`Expr::Paren`] removed.
    pub fn unparen(&self) -> &Expr {
        let mut e = self;
        while let Expr::Paren(inner) = e {
            e = inner;
        }
        e
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, e: &Expr, needs_paren: bool) -> fmt::Result {
    if needs_paren {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Binary { op, lhs, rhs } => {
                let p = op.precedence();
                write_operand(f, lhs, lhs.precedence() < p)?;
                write!(f, " {op} ")?;
                write_operand(f, rhs, rhs.precedence() <= p)
            }
            Expr::Not(e) => {
                f.write_str("NOT ")?;
                write_operand(f, e, e.precedence() < NOT_PRECEDENCE)
            }
            Expr::Neg(e) => {
                let literal = matches!(**e, Expr::Integer(_) | Expr::Number(_) | Expr::Duration(_));
                if literal && e.precedence() == ATOM_PRECEDENCE {
                    // A zero is the one such literal the parser itself puts under a `Neg`
                    // (`- -0`: the literal `-0` is 0), and `- -0` parses back to it.
                    if matches!(**e, Expr::Integer(0) | Expr::Duration(0)) {
                        return write!(f, "- -{e}");
                    }
                    // `-5` would re-parse as the literal -5; keep the structure visible.
                    return write!(f, "-({e})");
                }
                f.write_char('-')?;
                if e.precedence() < UNARY_PRECEDENCE {
                    write!(f, "({e})")
                } else {
                    let s = e.to_string();
                    if s.starts_with('-') {
                        f.write_char(' ')?;
                    }
                    f.write_str(&s)
                }
            }
            Expr::Call { name, args } => {
                if name == "distinct" {
                    f.write_str("distinct(")?;
                } else {
                    write!(f, "{}(", quote_ident(name))?;
                }
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_char(')')
            }
            Expr::VarRef { name, data_type } => {
                f.write_str(&quote_ident(name))?;
                if let Some(t) = data_type {
                    write!(f, "::{}", t.name())?;
                }
                Ok(())
            }
            Expr::Integer(n) => write!(f, "{n}"),
            Expr::Number(n) => {
                if n.is_finite() {
                    write!(f, "{n:?}")
                } else {
                    // Not produced by the parser; print something that at least parses.
                    f.write_str("0.0")
                }
            }
            Expr::String(s) => f.write_str(&quote_string(s)),
            Expr::Boolean(b) => f.write_str(if *b { "true" } else { "false" }),
            Expr::Duration(d) => f.write_str(&format_duration(*d)),
            Expr::Regex(r) => write!(f, "{r}"),
            Expr::Wildcard(t) => {
                f.write_char('*')?;
                if let Some(t) = t {
                    write!(f, "::{}", t.name())?;
                }
                Ok(())
            }
            Expr::Paren(e) => write!(f, "({e})"),
        }
    }
}

/// One entry of the `SELECT` list.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub expr: Expr,
    /// `AS alias`.
    pub alias: Option<String>,
}

impl Field {
    /// The output column name, as InfluxDB 1.x computes it: the alias if any; for a call its
    /// function name (`mean(usage)` → `mean`); for a variable its name; for a binary
    /// expression the names of the calls and variables in it joined with `_`
    /// (`mean(a) + max(b)` → `mean_max`, `value * 2` → `value`). Empty for wildcards, regexes
    /// and bare literals (the planner expands or names those).
    pub fn column_name(&self) -> String {
        if let Some(a) = &self.alias {
            return a.clone();
        }
        match self.expr.unparen() {
            Expr::Call { name, .. } => name.clone(),
            Expr::VarRef { name, .. } => name.clone(),
            e @ (Expr::Binary { .. } | Expr::Neg(_) | Expr::Not(_)) => {
                let mut names = Vec::new();
                collect_names(e, &mut names);
                names.join("_")
            }
            _ => String::new(),
        }
    }
}

fn collect_names(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Call { name, .. } => out.push(name.clone()),
        Expr::VarRef { name, .. } => out.push(name.clone()),
        Expr::Binary { lhs, rhs, .. } => {
            collect_names(lhs, out);
            collect_names(rhs, out);
        }
        Expr::Not(e) | Expr::Neg(e) | Expr::Paren(e) => collect_names(e, out),
        _ => {}
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        if let Some(a) = &self.alias {
            write!(f, " AS {}", quote_ident(a))?;
        }
        Ok(())
    }
}

/// The last part of a measurement reference: a name or a regex over names.
#[derive(Clone, Debug, PartialEq)]
pub enum MeasurementName {
    Name(String),
    Regex(Regex),
}

impl fmt::Display for MeasurementName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MeasurementName::Name(n) => f.write_str(&quote_ident(n)),
            MeasurementName::Regex(r) => write!(f, "{r}"),
        }
    }
}

/// A measurement reference: `m`, `rp.m`, `db.rp.m`, `db..m`, `/re/`, `db.rp./re/`.
/// `None` means "the default" (the query's database / its default retention policy).
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub database: Option<String>,
    pub retention_policy: Option<String>,
    pub name: MeasurementName,
}

impl Measurement {
    /// An unqualified measurement name.
    pub fn named(name: impl Into<String>) -> Measurement {
        Measurement {
            database: None,
            retention_policy: None,
            name: MeasurementName::Name(name.into()),
        }
    }
}

impl fmt::Display for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.database, &self.retention_policy) {
            (Some(db), Some(rp)) => write!(f, "{}.{}.", quote_ident(db), quote_ident(rp))?,
            (Some(db), None) => write!(f, "{}..", quote_ident(db))?,
            (None, Some(rp)) => write!(f, "{}.", quote_ident(rp))?,
            (None, None) => {}
        }
        write!(f, "{}", self.name)
    }
}

/// A `FROM` source.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Measurement(Measurement),
    /// `FROM (SELECT ...)`.
    Subquery(Box<SelectStatement>),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Measurement(m) => write!(f, "{m}"),
            Source::Subquery(s) => write!(f, "({s})"),
        }
    }
}

/// The offset argument of `GROUP BY time(interval, offset)`.
#[derive(Clone, Debug, PartialEq)]
pub enum TimeOffset {
    /// A (possibly negative) duration in nanoseconds.
    Duration(i64),
    /// `now()`: align buckets to the query's now.
    Now,
}

/// One `GROUP BY` entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Dimension {
    /// `time(interval[, offset])`, nanoseconds.
    Time {
        interval: i64,
        offset: Option<TimeOffset>,
    },
    /// A tag key.
    Tag(String),
    /// `*`: every tag.
    Wildcard,
    /// `/re/`: every tag key matching.
    Regex(Regex),
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dimension::Time { interval, offset } => {
                write!(f, "time({}", format_duration(*interval))?;
                match offset {
                    Some(TimeOffset::Duration(d)) => write!(f, ", {}", format_duration(*d))?,
                    Some(TimeOffset::Now) => f.write_str(", now()")?,
                    None => {}
                }
                f.write_char(')')
            }
            Dimension::Tag(t) => f.write_str(&quote_ident(t)),
            Dimension::Wildcard => f.write_char('*'),
            Dimension::Regex(r) => write!(f, "{r}"),
        }
    }
}

/// `fill(...)`: what to emit for empty `GROUP BY time()` buckets.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Fill {
    /// `fill(null)`, the default: emit the bucket with null values.
    #[default]
    Null,
    /// `fill(none)`: omit empty buckets.
    None,
    /// `fill(previous)`.
    Previous,
    /// `fill(linear)`.
    Linear,
    /// `fill(<integer>)`.
    Integer(i64),
    /// `fill(<float>)`.
    Number(f64),
}

impl fmt::Display for Fill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fill::Null => f.write_str("fill(null)"),
            Fill::None => f.write_str("fill(none)"),
            Fill::Previous => f.write_str("fill(previous)"),
            Fill::Linear => f.write_str("fill(linear)"),
            Fill::Integer(n) => write!(f, "fill({n})"),
            Fill::Number(n) => write!(f, "fill({})", Expr::Number(*n)),
        }
    }
}

/// A `SELECT` statement. Clauses appear in this order in the text:
/// `SELECT fields FROM sources [WHERE] [GROUP BY] [fill()] [ORDER BY] [LIMIT] [OFFSET]
/// [SLIMIT] [SOFFSET] [tz()]`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SelectStatement {
    pub fields: Vec<Field>,
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
    /// `GROUP BY` entries, in order.
    pub dimensions: Vec<Dimension>,
    pub fill: Fill,
    /// `ORDER BY time DESC`.
    pub order_desc: bool,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub slimit: Option<u64>,
    pub soffset: Option<u64>,
    /// `tz('America/Chicago')`: the IANA zone name, unvalidated.
    pub tz: Option<String>,
}

impl SelectStatement {
    /// The `time(...)` dimension, if any.
    pub fn group_by_time(&self) -> Option<(i64, Option<&TimeOffset>)> {
        self.dimensions.iter().find_map(|d| match d {
            Dimension::Time { interval, offset } => Some((*interval, offset.as_ref())),
            _ => None,
        })
    }
}

pub(super) fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

pub(super) fn write_limits(
    f: &mut fmt::Formatter<'_>,
    limit: Option<u64>,
    offset: Option<u64>,
) -> fmt::Result {
    if let Some(n) = limit {
        write!(f, " LIMIT {n}")?;
    }
    if let Some(n) = offset {
        write!(f, " OFFSET {n}")?;
    }
    Ok(())
}

pub(super) fn write_on(f: &mut fmt::Formatter<'_>, db: &Option<String>) -> fmt::Result {
    if let Some(db) = db {
        write!(f, " ON {}", quote_ident(db))?;
    }
    Ok(())
}

pub(super) fn write_from(f: &mut fmt::Formatter<'_>, sources: &[Source]) -> fmt::Result {
    if !sources.is_empty() {
        f.write_str(" FROM ")?;
        write_list(f, sources)?;
    }
    Ok(())
}

pub(super) fn write_where(f: &mut fmt::Formatter<'_>, cond: &Option<Expr>) -> fmt::Result {
    if let Some(c) = cond {
        write!(f, " WHERE {c}")?;
    }
    Ok(())
}

impl fmt::Display for SelectStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        write_list(f, &self.fields)?;
        write_from(f, &self.sources)?;
        write_where(f, &self.condition)?;
        if !self.dimensions.is_empty() {
            f.write_str(" GROUP BY ")?;
            write_list(f, &self.dimensions)?;
        }
        if self.fill != Fill::Null {
            write!(f, " {}", self.fill)?;
        }
        if self.order_desc {
            f.write_str(" ORDER BY time DESC")?;
        }
        write_limits(f, self.limit, self.offset)?;
        if let Some(n) = self.slimit {
            write!(f, " SLIMIT {n}")?;
        }
        if let Some(n) = self.soffset {
            write!(f, " SOFFSET {n}")?;
        }
        if let Some(tz) = &self.tz {
            write!(f, " tz({})", quote_string(tz))?;
        }
        Ok(())
    }
}
