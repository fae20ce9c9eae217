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

/// A regex literal: the source text (as the regex engine sees it, with `\/` already turned
/// into `/`) and the compiled regex. Two `Regex`es are equal when their sources are.
#[derive(Clone, Debug)]
pub struct Regex {
    source: String,
    compiled: regex::Regex,
}

/// Why a regex literal was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegexError {
    /// Not a regex: the regex crate's reason.
    #[error("{0}")]
    Invalid(String),
    /// A character class inside a class, or a class set operation: not in the RE2 syntax
    /// InfluxDB's regexes use, and in the regex crate the costly case (a case-insensitive
    /// negated class nested in a class takes milliseconds to compile: a 1 KB query of them
    /// took over half a second).
    #[error(
        "nested character classes and class set operations (&&, --, ~~) are not supported \
         (InfluxQL regexes are RE2's, whose classes hold no class)"
    )]
    NestedClass,
}

impl Regex {
    /// Compile `source`. Its syntax is checked first (cheaply: no Unicode tables), so a
    /// construct that is costly to compile and not InfluxQL is refused before it is compiled.
    pub fn new(source: &str) -> Result<Regex, RegexError> {
        let reason = |message: String| {
            // The regex crate's message spans lines (source, caret, reason): keep the reason.
            let reason = message.lines().last().unwrap_or_default();
            RegexError::Invalid(reason.strip_prefix("error: ").unwrap_or(reason).to_string())
        };
        let syntax = regex_syntax::ast::parse::Parser::new()
            .parse(source)
            .map_err(|e| reason(e.to_string()))?;
        regex_syntax::ast::visit(&syntax, NoNestedClass)?;
        Ok(Regex {
            source: source.to_string(),
            compiled: regex::Regex::new(source).map_err(|e| reason(e.to_string()))?,
        })
    }

    /// The regex source.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The compiled regex (unanchored, as in InfluxDB: `/cpu/` matches `cpu_total`).
    pub fn regex(&self) -> &regex::Regex {
        &self.compiled
    }

    /// Whether the regex matches anywhere in `s`.
    pub fn is_match(&self, s: &str) -> bool {
        self.compiled.is_match(s)
    }
}

/// Refuses a class inside a class and class set operations.
struct NoNestedClass;

impl regex_syntax::ast::Visitor for NoNestedClass {
    type Output = ();
    type Err = RegexError;

    fn finish(self) -> Result<(), RegexError> {
        Ok(())
    }

    /// The items of a bracketed class; one that is bracketed itself is nested.
    fn visit_class_set_item_pre(
        &mut self,
        item: &regex_syntax::ast::ClassSetItem,
    ) -> Result<(), RegexError> {
        match item {
            regex_syntax::ast::ClassSetItem::Bracketed(_) => Err(RegexError::NestedClass),
            _ => Ok(()),
        }
    }

    fn visit_class_set_binary_op_pre(
        &mut self,
        _: &regex_syntax::ast::ClassSetBinaryOp,
    ) -> Result<(), RegexError> {
        Err(RegexError::NestedClass)
    }
}

impl PartialEq for Regex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Display for Regex {
    /// `/source/`, with `/` escaped as `\/`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('/')?;
        let mut chars = self.source.chars();
        while let Some(c) = chars.next() {
            match c {
                '/' => f.write_str("\\/")?,
                '\\' => {
                    f.write_char('\\')?;
                    if let Some(n) = chars.next() {
                        f.write_char(n)?;
                    }
                }
                c => f.write_char(c)?,
            }
        }
        f.write_char('/')
    }
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

/// `SHOW MEASUREMENTS [ON db] [WITH MEASUREMENT = name | =~ /re/] [WHERE] [LIMIT] [OFFSET]`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ShowMeasurementsStatement {
    pub database: Option<String>,
    /// `WITH MEASUREMENT ...`.
    pub measurement: Option<MeasurementName>,
    pub condition: Option<Expr>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// `SHOW TAG KEYS`, `SHOW SERIES` and `SHOW FIELD KEYS` share this shape
/// (`SHOW FIELD KEYS` never has a condition).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ShowKeysStatement {
    pub database: Option<String>,
    /// `FROM ...`; empty means every measurement.
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// The `WITH KEY` part of `SHOW TAG VALUES`.
#[derive(Clone, Debug, PartialEq)]
pub enum TagKeyFilter {
    /// `WITH KEY = k`.
    Eq(String),
    /// `WITH KEY != k`.
    Neq(String),
    /// `WITH KEY =~ /re/`.
    EqRegex(Regex),
    /// `WITH KEY !~ /re/`.
    NeqRegex(Regex),
    /// `WITH KEY IN (k1, k2)`.
    In(Vec<String>),
}

impl TagKeyFilter {
    /// Whether the tag key `key` is selected.
    pub fn matches(&self, key: &str) -> bool {
        match self {
            TagKeyFilter::Eq(x) => key == x,
            TagKeyFilter::Neq(x) => key != x,
            TagKeyFilter::EqRegex(r) => r.is_match(key),
            TagKeyFilter::NeqRegex(r) => !r.is_match(key),
            TagKeyFilter::In(xs) => xs.iter().any(|x| x == key),
        }
    }
}

impl fmt::Display for TagKeyFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagKeyFilter::Eq(k) => write!(f, "= {}", quote_ident(k)),
            TagKeyFilter::Neq(k) => write!(f, "!= {}", quote_ident(k)),
            TagKeyFilter::EqRegex(r) => write!(f, "=~ {r}"),
            TagKeyFilter::NeqRegex(r) => write!(f, "!~ {r}"),
            TagKeyFilter::In(keys) => {
                f.write_str("IN (")?;
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&quote_ident(k))?;
                }
                f.write_char(')')
            }
        }
    }
}

/// `SHOW TAG VALUES [ON db] [FROM ...] WITH KEY ... [WHERE] [LIMIT] [OFFSET]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ShowTagValuesStatement {
    pub database: Option<String>,
    pub sources: Vec<Source>,
    pub key: TagKeyFilter,
    pub condition: Option<Expr>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// Retention-policy options of `CREATE DATABASE ... WITH ...`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RetentionPolicySpec {
    /// `DURATION d`, nanoseconds; `Some(0)` is `INF` (keep forever).
    pub duration: Option<i64>,
    /// `REPLICATION n`.
    pub replication: Option<u32>,
    /// `SHARD DURATION d`, nanoseconds.
    pub shard_duration: Option<i64>,
    /// `NAME rp`.
    pub name: Option<String>,
}

/// A privilege a user holds on a database (InfluxDB 1.x's `influxql.Privilege`; the numbers
/// are 1.x's, so `REVOKE` can clear bits as 1.x does: `ALL &^ READ` is `WRITE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Privilege {
    /// What is left after every privilege on a database was revoked (`NO PRIVILEGES`).
    None = 0,
    Read = 1,
    Write = 2,
    /// `ALL [PRIVILEGES]`: read and write.
    All = 3,
}

impl Privilege {
    /// The privilege with bits `b` (the low two bits).
    pub fn from_bits(b: u8) -> Privilege {
        match b & 3 {
            0 => Privilege::None,
            1 => Privilege::Read,
            2 => Privilege::Write,
            _ => Privilege::All,
        }
    }

    /// Its bits (`Read` 1, `Write` 2, `All` 3).
    pub fn bits(self) -> u8 {
        self as u8
    }

    /// `self` without the bits of `other` (1.x's `&^` in `REVOKE`).
    pub fn without(self, other: Privilege) -> Privilege {
        Privilege::from_bits(self.bits() & !other.bits())
    }

    /// Whether holding `self` allows what `needed` allows (1.x: equal, or `ALL`).
    pub fn allows(self, needed: Privilege) -> bool {
        needed == Privilege::None || self == needed || self == Privilege::All
    }
}

impl fmt::Display for Privilege {
    /// 1.x's names: `NO PRIVILEGES`, `READ`, `WRITE`, `ALL PRIVILEGES`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Privilege::None => "NO PRIVILEGES",
            Privilege::Read => "READ",
            Privilege::Write => "WRITE",
            Privilege::All => "ALL PRIVILEGES",
        })
    }
}

/// A password written in a statement. Its `Debug` and the statement's `Display` never show it
/// (1.x prints `[REDACTED]`), so it stays out of logs, `SHOW QUERIES` and error messages.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Password {
        Password(s.into())
    }

    /// The password itself (to hash it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// A parsed InfluxQL statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Select(Box<SelectStatement>),
    /// `EXPLAIN [ANALYZE] SELECT ...`.
    Explain {
        analyze: bool,
        statement: Box<SelectStatement>,
    },
    ShowDatabases,
    ShowMeasurements(ShowMeasurementsStatement),
    /// `SHOW TAG KEYS [ON db] [FROM ...] [WHERE] [LIMIT] [OFFSET]`.
    ShowTagKeys(ShowKeysStatement),
    ShowTagValues(ShowTagValuesStatement),
    /// `SHOW FIELD KEYS [ON db] [FROM ...] [LIMIT] [OFFSET]` (`condition` is always `None`).
    ShowFieldKeys(ShowKeysStatement),
    /// `SHOW SERIES [ON db] [FROM ...] [WHERE] [LIMIT] [OFFSET]`.
    ShowSeries(ShowKeysStatement),
    /// `SHOW SERIES CARDINALITY`, `SHOW TAG VALUES EXACT CARDINALITY WITH KEY = k`, ….
    ShowCardinality(super::ShowCardinalityStatement),
    ShowQueries,
    /// `SHOW RETENTION POLICIES [ON db]`.
    ShowRetentionPolicies {
        database: Option<String>,
    },
    /// `KILL QUERY id`.
    KillQuery {
        id: u64,
    },
    /// `CREATE DATABASE name [WITH [DURATION d] [REPLICATION n] [SHARD DURATION d] [NAME rp]]`.
    CreateDatabase {
        name: String,
        retention: Option<RetentionPolicySpec>,
    },
    DropDatabase {
        name: String,
    },
    DropMeasurement {
        name: String,
    },
    /// `DROP SERIES [FROM ...] [WHERE ...]` (at least one of the two).
    DropSeries {
        sources: Vec<Source>,
        condition: Option<Expr>,
    },
    /// `DELETE FROM m [WHERE ...]` or `DELETE WHERE ...` (at least one of the two).
    Delete {
        source: Option<Source>,
        condition: Option<Expr>,
    },
    /// `CREATE RETENTION POLICY name ON db DURATION d REPLICATION n [SHARD DURATION d] [DEFAULT]`.
    CreateRetentionPolicy {
        name: String,
        database: String,
        duration: i64,
        replication: u32,
        shard_duration: Option<i64>,
        default: bool,
    },
    /// `ALTER RETENTION POLICY name ON db [DURATION d] [REPLICATION n] [SHARD DURATION d]
    /// [DEFAULT]` (at least one option).
    AlterRetentionPolicy {
        name: String,
        database: String,
        duration: Option<i64>,
        replication: Option<u32>,
        shard_duration: Option<i64>,
        default: bool,
    },
    /// `DROP RETENTION POLICY name ON db`.
    DropRetentionPolicy {
        name: String,
        database: String,
    },
    /// `CREATE USER name WITH PASSWORD 'pw' [WITH ALL PRIVILEGES]`.
    CreateUser {
        name: String,
        password: Password,
        admin: bool,
    },
    /// `DROP USER name`.
    DropUser {
        name: String,
    },
    /// `SET PASSWORD FOR name = 'pw'`.
    SetPassword {
        name: String,
        password: Password,
    },
    /// `GRANT READ|WRITE|ALL [PRIVILEGES] ON db TO user`.
    Grant {
        privilege: Privilege,
        database: String,
        user: String,
    },
    /// `GRANT ALL [PRIVILEGES] TO user`: make `user` an admin.
    GrantAdmin {
        user: String,
    },
    /// `REVOKE READ|WRITE|ALL [PRIVILEGES] ON db FROM user`.
    Revoke {
        privilege: Privilege,
        database: String,
        user: String,
    },
    /// `REVOKE ALL [PRIVILEGES] FROM user`: `user` is no longer an admin.
    RevokeAdmin {
        user: String,
    },
    /// `SHOW USERS`.
    ShowUsers,
    /// `SHOW GRANTS FOR user`.
    ShowGrants {
        user: String,
    },
}

impl Statement {
    /// Whether the statement carries a password (its text must not be shown as written).
    pub fn has_password(&self) -> bool {
        matches!(
            self,
            Statement::CreateUser { .. } | Statement::SetPassword { .. }
        )
    }
}

fn rp_duration(d: i64) -> String {
    if d == 0 {
        "INF".into()
    } else {
        format_duration(d)
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Select(s) => write!(f, "{s}"),
            Statement::Explain { analyze, statement } => {
                f.write_str("EXPLAIN ")?;
                if *analyze {
                    f.write_str("ANALYZE ")?;
                }
                write!(f, "{statement}")
            }
            Statement::ShowDatabases => f.write_str("SHOW DATABASES"),
            Statement::ShowMeasurements(s) => {
                f.write_str("SHOW MEASUREMENTS")?;
                write_on(f, &s.database)?;
                match &s.measurement {
                    Some(MeasurementName::Name(n)) => {
                        write!(f, " WITH MEASUREMENT = {}", quote_ident(n))?
                    }
                    Some(MeasurementName::Regex(r)) => write!(f, " WITH MEASUREMENT =~ {r}")?,
                    None => {}
                }
                write_where(f, &s.condition)?;
                write_limits(f, s.limit, s.offset)
            }
            Statement::ShowTagKeys(s) | Statement::ShowFieldKeys(s) | Statement::ShowSeries(s) => {
                f.write_str(match self {
                    Statement::ShowTagKeys(_) => "SHOW TAG KEYS",
                    Statement::ShowFieldKeys(_) => "SHOW FIELD KEYS",
                    _ => "SHOW SERIES",
                })?;
                write_on(f, &s.database)?;
                write_from(f, &s.sources)?;
                write_where(f, &s.condition)?;
                write_limits(f, s.limit, s.offset)
            }
            Statement::ShowTagValues(s) => {
                f.write_str("SHOW TAG VALUES")?;
                write_on(f, &s.database)?;
                write_from(f, &s.sources)?;
                write!(f, " WITH KEY {}", s.key)?;
                write_where(f, &s.condition)?;
                write_limits(f, s.limit, s.offset)
            }
            Statement::ShowCardinality(s) => write!(f, "{s}"),
            Statement::ShowQueries => f.write_str("SHOW QUERIES"),
            Statement::ShowRetentionPolicies { database } => {
                f.write_str("SHOW RETENTION POLICIES")?;
                write_on(f, database)
            }
            Statement::KillQuery { id } => write!(f, "KILL QUERY {id}"),
            Statement::CreateDatabase { name, retention } => {
                write!(f, "CREATE DATABASE {}", quote_ident(name))?;
                if let Some(rp) = retention {
                    f.write_str(" WITH")?;
                    if let Some(d) = rp.duration {
                        write!(f, " DURATION {}", rp_duration(d))?;
                    }
                    if let Some(n) = rp.replication {
                        write!(f, " REPLICATION {n}")?;
                    }
                    if let Some(d) = rp.shard_duration {
                        write!(f, " SHARD DURATION {}", format_duration(d))?;
                    }
                    if let Some(n) = &rp.name {
                        write!(f, " NAME {}", quote_ident(n))?;
                    }
                }
                Ok(())
            }
            Statement::DropDatabase { name } => write!(f, "DROP DATABASE {}", quote_ident(name)),
            Statement::DropMeasurement { name } => {
                write!(f, "DROP MEASUREMENT {}", quote_ident(name))
            }
            Statement::DropSeries { sources, condition } => {
                f.write_str("DROP SERIES")?;
                write_from(f, sources)?;
                write_where(f, condition)
            }
            Statement::Delete { source, condition } => {
                f.write_str("DELETE")?;
                if let Some(s) = source {
                    write!(f, " FROM {s}")?;
                }
                write_where(f, condition)
            }
            Statement::CreateRetentionPolicy {
                name,
                database,
                duration,
                replication,
                shard_duration,
                default,
            } => {
                write!(
                    f,
                    "CREATE RETENTION POLICY {} ON {} DURATION {} REPLICATION {replication}",
                    quote_ident(name),
                    quote_ident(database),
                    rp_duration(*duration)
                )?;
                if let Some(d) = shard_duration {
                    write!(f, " SHARD DURATION {}", format_duration(*d))?;
                }
                if *default {
                    f.write_str(" DEFAULT")?;
                }
                Ok(())
            }
            Statement::AlterRetentionPolicy {
                name,
                database,
                duration,
                replication,
                shard_duration,
                default,
            } => {
                write!(
                    f,
                    "ALTER RETENTION POLICY {} ON {}",
                    quote_ident(name),
                    quote_ident(database)
                )?;
                if let Some(d) = duration {
                    write!(f, " DURATION {}", rp_duration(*d))?;
                }
                if let Some(n) = replication {
                    write!(f, " REPLICATION {n}")?;
                }
                if let Some(d) = shard_duration {
                    write!(f, " SHARD DURATION {}", format_duration(*d))?;
                }
                if *default {
                    f.write_str(" DEFAULT")?;
                }
                Ok(())
            }
            Statement::DropRetentionPolicy { name, database } => write!(
                f,
                "DROP RETENTION POLICY {} ON {}",
                quote_ident(name),
                quote_ident(database)
            ),
            // Passwords print as 1.x prints them: `[REDACTED]` (so these two do not parse back).
            Statement::CreateUser { name, admin, .. } => {
                write!(
                    f,
                    "CREATE USER {} WITH PASSWORD [REDACTED]",
                    quote_ident(name)
                )?;
                if *admin {
                    f.write_str(" WITH ALL PRIVILEGES")?;
                }
                Ok(())
            }
            Statement::DropUser { name } => write!(f, "DROP USER {}", quote_ident(name)),
            Statement::SetPassword { name, .. } => {
                write!(f, "SET PASSWORD FOR {} = [REDACTED]", quote_ident(name))
            }
            Statement::Grant {
                privilege,
                database,
                user,
            } => write!(
                f,
                "GRANT {privilege} ON {} TO {}",
                quote_ident(database),
                quote_ident(user)
            ),
            Statement::GrantAdmin { user } => {
                write!(f, "GRANT ALL PRIVILEGES TO {}", quote_ident(user))
            }
            Statement::Revoke {
                privilege,
                database,
                user,
            } => write!(
                f,
                "REVOKE {privilege} ON {} FROM {}",
                quote_ident(database),
                quote_ident(user)
            ),
            Statement::RevokeAdmin { user } => {
                write!(f, "REVOKE ALL PRIVILEGES FROM {}", quote_ident(user))
            }
            Statement::ShowUsers => f.write_str("SHOW USERS"),
            Statement::ShowGrants { user } => write!(f, "SHOW GRANTS FOR {}", quote_ident(user)),
        }
    }
}
