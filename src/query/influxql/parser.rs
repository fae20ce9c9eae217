//! The recursive-descent InfluxQL parser.
//!
//! Errors follow InfluxDB 1.x's wording, `found X, expected Y`, with the 1-based line and
//! column of the offending token. The parser never panics; nesting deeper than
//! [`MAX_DEPTH`] is rejected instead of exhausting the stack, and more than
//! [`MAX_REGEX_BYTES`] of regex literals instead of compiling them.

use std::borrow::Cow;

use super::ast::*;
use super::lexer::{Lexer, Pos, Token, TokenKind};
use crate::error::{Error, Result};

mod statements;

/// Maximum nesting of parentheses, unary operators and subqueries.
pub const MAX_DEPTH: usize = 200;

/// Most bytes of regex literals one query text may hold, in all. Compiling a regex costs time
/// in proportion to its text (up to about 35 µs a byte for case-insensitive Unicode classes
/// once nested classes are refused, [`RegexError::NestedClass`]): this bounds what one query
/// spends compiling at about two seconds, and leaves room for the longest regexes dashboards
/// write (an alternation of 2,000 host names is 58 KB).
pub const MAX_REGEX_BYTES: usize = 64 << 10;

const EXPECT_OPERAND: &str = "identifier, string, number, bool";
/// 1.x's statement keywords, in its order.
const EXPECT_STATEMENT: &str =
    "SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL";

/// Parse one or more `;`-separated statements. Empty statements and a trailing `;` are
/// allowed; an input with no statement at all yields an empty vector.
pub fn parse(text: &str) -> Result<Vec<Statement>> {
    let mut p = Parser::new(text);
    let mut out = Vec::new();
    loop {
        while p.eat(&TokenKind::Semicolon) {}
        if p.peek().kind == TokenKind::Eof {
            return Ok(out);
        }
        out.push(p.parse_statement()?);
        let t = p.peek();
        if !matches!(t.kind, TokenKind::Semicolon | TokenKind::Eof) {
            return Err(p.unexpected(";"));
        }
    }
}

/// Parse exactly one statement (a trailing `;` is allowed).
pub fn parse_statement(text: &str) -> Result<Statement> {
    let mut stmts = parse(text)?;
    match stmts.len() {
        1 => Ok(stmts.remove(0)),
        0 => Err(Error::Parse {
            message: format!("found EOF, expected {EXPECT_STATEMENT}"),
            line: 1,
            column: 1,
        }),
        n => Err(Error::Parse {
            message: format!("expected exactly one statement, found {n}"),
            line: 1,
            column: 1,
        }),
    }
}

/// Parse a standalone expression (e.g. a `WHERE` condition).
pub fn parse_expr(text: &str) -> Result<Expr> {
    let mut p = Parser::new(text);
    let e = p.parse_expr()?;
    if p.peek().kind != TokenKind::Eof {
        return Err(p.unexpected("EOF"));
    }
    Ok(e)
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token>,
    depth: usize,
    /// Bytes of the regex literals compiled so far (at most [`MAX_REGEX_BYTES`]).
    regex_bytes: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            lexer: Lexer::new(text),
            peeked: None,
            depth: 0,
            regex_bytes: 0,
        }
    }

    fn peek(&mut self) -> &Token {
        let lexer = &mut self.lexer;
        self.peeked.get_or_insert_with(|| lexer.next_token())
    }

    fn next(&mut self) -> Token {
        self.peek();
        self.peeked
            .take()
            .unwrap_or_else(|| self.lexer.next_token())
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if &self.peek().kind == kind {
            self.next();
            true
        } else {
            false
        }
    }

    fn peek_kw(&mut self, kw: &str) -> bool {
        matches!(self.peek().kind, TokenKind::Keyword(k) if k == kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.peek_kw(kw) {
            self.next();
            true
        } else {
            false
        }
    }

    /// Whether the next token is the bare identifier `name` (case-insensitive).
    fn peek_ident_named(&mut self, name: &str) -> bool {
        matches!(&self.peek().kind, TokenKind::Ident(s) if s.eq_ignore_ascii_case(name))
    }

    fn error_at(pos: Pos, message: String) -> Error {
        Error::Parse {
            message,
            line: pos.line,
            column: pos.column,
        }
    }

    /// `found <next token>, expected <expected>` at the next token.
    fn unexpected(&mut self, expected: &str) -> Error {
        let t = self.peek().clone();
        Self::found(&t, expected)
    }

    fn found(t: &Token, expected: &str) -> Error {
        match &t.kind {
            TokenKind::Error(m) => Self::error_at(t.pos, m.clone()),
            // 1.x places a string one column before its opening quote (not before column 1).
            k @ TokenKind::Str(_) => {
                let mut pos = t.pos;
                pos.column = pos.column.saturating_sub(1).max(1);
                Self::error_at(pos, format!("found {k}, expected {expected}"))
            }
            k => Self::error_at(t.pos, format!("found {k}, expected {expected}")),
        }
    }

    fn expect(&mut self, kind: TokenKind) -> Result<Token> {
        if self.peek().kind == kind {
            Ok(self.next())
        } else {
            Err(self.unexpected(&kind.to_string()))
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected(kw))
        }
    }

    fn descend(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let pos = self.peek().pos;
            return Err(Self::error_at(
                pos,
                format!("query nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn ascend(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn parse_ident(&mut self) -> Result<String> {
        match &self.peek().kind {
            TokenKind::Ident(s) | TokenKind::QuotedIdent(s) => {
                let s = s.clone();
                self.next();
                Ok(s)
            }
            _ => Err(self.unexpected("identifier")),
        }
    }

    fn parse_ident_list(&mut self) -> Result<Vec<String>> {
        let mut out = vec![self.parse_ident()?];
        while self.eat(&TokenKind::Comma) {
            out.push(self.parse_ident()?);
        }
        Ok(out)
    }

    /// If the next token starts with `/`, re-lex it as a regex literal and return it.
    fn try_regex(&mut self) -> Result<Option<Regex>> {
        let t = self.peek().clone();
        let starts_with_slash = match &t.kind {
            TokenKind::Div => true,
            // An unterminated "comment" may really be a regex starting with '*'.
            TokenKind::Error(_) => self
                .lexer_src_at(t.offset)
                .is_some_and(|s| s.starts_with('/')),
            _ => false,
        };
        if !starts_with_slash {
            return Ok(None);
        }
        self.peeked = None;
        self.lexer.reset(t.offset, t.pos);
        let r = self.lexer.scan_regex();
        match r.kind {
            TokenKind::Regex(src) => {
                // Compiling a regex costs time in proportion to its text: charged before.
                self.regex_bytes = self.regex_bytes.saturating_add(src.len());
                if self.regex_bytes > MAX_REGEX_BYTES {
                    return Err(Self::error_at(
                        r.pos,
                        format!(
                            "regex literals hold more than {MAX_REGEX_BYTES} bytes in all: a \
                             query may hold at most that much regex"
                        ),
                    ));
                }
                match Regex::new(&src) {
                    Ok(re) => Ok(Some(re)),
                    Err(e) => Err(Self::error_at(
                        r.pos,
                        format!("found invalid regex /{}/: {e}", shortened(&src)),
                    )),
                }
            }
            _ => Err(Self::found(&r, "regex")),
        }
    }

    fn lexer_src_at(&self, offset: usize) -> Option<&'a str> {
        self.lexer.source().get(offset..)
    }

    fn parse_regex(&mut self) -> Result<Regex> {
        match self.try_regex()? {
            Some(r) => Ok(r),
            None => Err(self.unexpected("regex")),
        }
    }

    fn parse_u64(&mut self) -> Result<u64> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Integer(s) => {
                let n = s.parse::<u64>().map_err(|_| {
                    Self::error_at(t.pos, format!("found {s}, expected integer in range"))
                })?;
                self.next();
                Ok(n)
            }
            _ => Err(Self::found(&t, "integer")),
        }
    }

    fn parse_u32(&mut self) -> Result<u32> {
        let pos = self.peek().pos;
        let n = self.parse_u64()?;
        u32::try_from(n)
            .map_err(|_| Self::error_at(pos, format!("found {n}, expected integer in range")))
    }

    /// A duration literal, optionally preceded by `-` when `allow_negative`.
    fn parse_duration_lit(&mut self, allow_negative: bool) -> Result<i64> {
        let neg = allow_negative && self.eat(&TokenKind::Sub);
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Duration(s) => {
                let d = parse_duration_signed(s, neg).ok_or_else(|| {
                    Self::error_at(t.pos, format!("found {s}, expected duration"))
                })?;
                self.next();
                Ok(d)
            }
            _ => Err(Self::found(&t, "duration")),
        }
    }

    /// `DURATION` value: a duration or `INF` (returned as 0).
    fn parse_rp_duration(&mut self) -> Result<i64> {
        if self.eat_kw("INF") {
            return Ok(0);
        }
        self.parse_duration_lit(false)
    }

    fn parse_on(&mut self) -> Result<Option<String>> {
        if self.eat_kw("ON") {
            Ok(Some(self.parse_ident()?))
        } else {
            Ok(None)
        }
    }

    fn parse_where(&mut self) -> Result<Option<Expr>> {
        if self.eat_kw("WHERE") {
            Ok(Some(self.parse_expr()?))
        } else {
            Ok(None)
        }
    }

    fn parse_limit_offset(&mut self) -> Result<(Option<u64>, Option<u64>)> {
        let limit = if self.eat_kw("LIMIT") {
            Some(self.parse_u64()?)
        } else {
            None
        };
        let offset = if self.eat_kw("OFFSET") {
            Some(self.parse_u64()?)
        } else {
            None
        };
        Ok((limit, offset))
    }

    // ---- statements -------------------------------------------------------------------

    fn parse_statement(&mut self) -> Result<Statement> {
        let t = self.peek().clone();
        let TokenKind::Keyword(kw) = t.kind else {
            return Err(Self::found(&t, EXPECT_STATEMENT));
        };
        match kw {
            "SELECT" => Ok(Statement::Select(Box::new(self.parse_select()?))),
            "EXPLAIN" => {
                self.next();
                let analyze = self.eat_kw("ANALYZE");
                if !self.peek_kw("SELECT") {
                    return Err(self.unexpected("SELECT"));
                }
                Ok(Statement::Explain {
                    analyze,
                    statement: Box::new(self.parse_select()?),
                })
            }
            "SHOW" => {
                self.next();
                self.parse_show()
            }
            "CREATE" => {
                self.next();
                self.parse_create()
            }
            "DROP" => {
                self.next();
                self.parse_drop()
            }
            "DELETE" => {
                self.next();
                self.parse_delete()
            }
            "ALTER" => {
                self.next();
                self.parse_alter()
            }
            "KILL" => {
                self.next();
                self.expect_kw("QUERY")?;
                Ok(Statement::KillQuery {
                    id: self.parse_u64()?,
                })
            }
            "GRANT" => {
                self.next();
                self.parse_grant()
            }
            "REVOKE" => {
                self.next();
                self.parse_revoke()
            }
            "SET" => {
                self.next();
                self.expect_kw("PASSWORD")?;
                self.expect_kw("FOR")?;
                let name = self.parse_ident()?;
                self.expect(TokenKind::Eq)?;
                Ok(Statement::SetPassword {
                    name,
                    password: Password::new(self.parse_string()?),
                })
            }
            _ => Err(Self::found(&t, EXPECT_STATEMENT)),
        }
    }

    fn parse_select(&mut self) -> Result<SelectStatement> {
        self.expect_kw("SELECT")?;
        let mut s = SelectStatement {
            fields: self.parse_fields()?,
            ..SelectStatement::default()
        };
        self.expect_kw("FROM")?;
        s.sources = self.parse_sources(true)?;
        s.condition = self.parse_where()?;
        if self.eat_kw("GROUP") {
            self.expect_kw("BY")?;
            s.dimensions = self.parse_dimensions()?;
        }
        if self.peek_ident_named("fill") {
            s.fill = self.parse_fill()?;
        }
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            s.order_desc = self.parse_order()?;
        }
        (s.limit, s.offset) = self.parse_limit_offset()?;
        if self.eat_kw("SLIMIT") {
            s.slimit = Some(self.parse_u64()?);
        }
        if self.eat_kw("SOFFSET") {
            s.soffset = Some(self.parse_u64()?);
        }
        if self.peek_ident_named("tz") {
            self.next();
            self.expect(TokenKind::LParen)?;
            let t = self.next();
            let TokenKind::Str(tz) = t.kind else {
                return Err(Self::found(&t, "string"));
            };
            self.expect(TokenKind::RParen)?;
            s.tz = Some(tz);
        }
        Ok(s)
    }

    fn parse_fields(&mut self) -> Result<Vec<Field>> {
        let mut fields = Vec::new();
        loop {
            let expr = self.parse_operand_or_regex()?;
            let alias = if self.eat_kw("AS") {
                Some(self.parse_ident()?)
            } else {
                None
            };
            fields.push(Field { expr, alias });
            if !self.eat(&TokenKind::Comma) {
                return Ok(fields);
            }
        }
    }

    fn parse_sources(&mut self, allow_subquery: bool) -> Result<Vec<Source>> {
        let mut out = Vec::new();
        loop {
            if allow_subquery && self.peek().kind == TokenKind::LParen {
                self.next();
                self.descend()?;
                let sub = self.parse_select();
                self.ascend();
                out.push(Source::Subquery(Box::new(sub?)));
                self.expect(TokenKind::RParen)?;
            } else {
                out.push(Source::Measurement(self.parse_measurement()?));
            }
            if !self.eat(&TokenKind::Comma) {
                return Ok(out);
            }
        }
    }

    /// `m`, `rp.m`, `db.rp.m`, `db..m`, with a regex allowed in place of `m`.
    fn parse_measurement(&mut self) -> Result<Measurement> {
        let mut qualifiers: Vec<String> = Vec::new();
        let start = self.peek().pos;
        let name = loop {
            if let Some(r) = self.try_regex()? {
                break MeasurementName::Regex(r);
            }
            let id = match self.parse_ident() {
                Ok(id) => id,
                Err(_) => return Err(self.unexpected("identifier, regex")),
            };
            if !self.eat(&TokenKind::Dot) {
                break MeasurementName::Name(id);
            }
            qualifiers.push(id);
            if qualifiers.len() == 1 && self.eat(&TokenKind::Dot) {
                qualifiers.push(String::new());
            }
            if qualifiers.len() > 2 {
                return Err(Self::error_at(
                    start,
                    "too many segments in measurement name, expected db.rp.measurement".into(),
                ));
            }
        };
        let (database, retention_policy) = match qualifiers.len() {
            0 => (None, None),
            1 => (None, qualifiers.pop()),
            _ => {
                let rp = qualifiers.pop().filter(|s| !s.is_empty());
                (qualifiers.pop(), rp)
            }
        };
        Ok(Measurement {
            database,
            retention_policy,
            name,
        })
    }

    fn parse_dimensions(&mut self) -> Result<Vec<Dimension>> {
        let mut out = Vec::new();
        loop {
            out.push(self.parse_dimension()?);
            if !self.eat(&TokenKind::Comma) {
                return Ok(out);
            }
        }
    }

    fn parse_dimension(&mut self) -> Result<Dimension> {
        if self.eat(&TokenKind::Mul) {
            return Ok(Dimension::Wildcard);
        }
        if let Some(r) = self.try_regex()? {
            return Ok(Dimension::Regex(r));
        }
        let t = self.peek().clone();
        let name = match &t.kind {
            TokenKind::Ident(s) | TokenKind::QuotedIdent(s) => s.clone(),
            _ => return Err(Self::found(&t, "identifier, *, regex, time()")),
        };
        self.next();
        let is_time = matches!(&t.kind, TokenKind::Ident(s) if s.eq_ignore_ascii_case("time"));
        if !is_time {
            return Ok(Dimension::Tag(name));
        }
        if !self.eat(&TokenKind::LParen) {
            return Err(Self::error_at(
                t.pos,
                "time() is a function and expects at least one argument".into(),
            ));
        }
        let interval = self.parse_duration_lit(false)?;
        let offset = if self.eat(&TokenKind::Comma) {
            if self.peek_ident_named("now") {
                self.next();
                self.expect(TokenKind::LParen)?;
                self.expect(TokenKind::RParen)?;
                Some(TimeOffset::Now)
            } else {
                Some(TimeOffset::Duration(self.parse_duration_lit(true)?))
            }
        } else {
            None
        };
        self.expect(TokenKind::RParen)?;
        Ok(Dimension::Time { interval, offset })
    }

    fn parse_fill(&mut self) -> Result<Fill> {
        self.next(); // `fill`
        self.expect(TokenKind::LParen)?;
        const EXPECTED: &str = "null, none, previous, linear, or a number";
        let neg = self.eat(&TokenKind::Sub);
        let t = self.next();
        let fill = match &t.kind {
            TokenKind::Ident(s) if !neg => match s.to_ascii_lowercase().as_str() {
                "null" => Fill::Null,
                "none" => Fill::None,
                "previous" => Fill::Previous,
                "linear" => Fill::Linear,
                _ => return Err(Self::found(&t, EXPECTED)),
            },
            TokenKind::Integer(s) => {
                let text = if neg { format!("-{s}") } else { s.clone() };
                Fill::Integer(text.parse().map_err(|_| {
                    Self::error_at(t.pos, format!("found {text}, expected integer in range"))
                })?)
            }
            TokenKind::Number(s) => {
                let n = parse_float(s).ok_or_else(|| {
                    Self::error_at(t.pos, format!("found {s}, expected finite number"))
                })?;
                Fill::Number(if neg { -n } else { n })
            }
            _ => return Err(Self::found(&t, EXPECTED)),
        };
        self.expect(TokenKind::RParen)?;
        Ok(fill)
    }

    /// After `ORDER BY`: `time [ASC|DESC]` or just `ASC|DESC`. Returns whether descending.
    fn parse_order(&mut self) -> Result<bool> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Ident(s) | TokenKind::QuotedIdent(s) if s.eq_ignore_ascii_case("time") => {
                self.next();
            }
            TokenKind::Ident(_) | TokenKind::QuotedIdent(_) => {
                return Err(Self::error_at(
                    t.pos,
                    format!(
                        "found {}, expected time: only ORDER BY time supported at this time",
                        t.kind
                    ),
                ));
            }
            TokenKind::Keyword("ASC" | "DESC") => {}
            _ => return Err(Self::found(&t, "time, ASC, DESC")),
        }
        if self.eat_kw("DESC") {
            return Ok(true);
        }
        self.eat_kw("ASC");
        Ok(false)
    }

    // ---- expressions ------------------------------------------------------------------

    fn parse_expr(&mut self) -> Result<Expr> {
        self.parse_expr_prec(1)
    }

    /// Precedence climbing: parse an expression whose binary operators all bind at least as
    /// tightly as `min`.
    fn parse_expr_prec(&mut self, min: u8) -> Result<Expr> {
        self.descend()?;
        let r = self.parse_expr_prec_inner(min);
        self.ascend();
        r
    }

    fn parse_expr_prec_inner(&mut self, min: u8) -> Result<Expr> {
        let lhs = if min <= NOT_PRECEDENCE && self.eat_kw("NOT") {
            Expr::Not(Box::new(self.parse_expr_prec(NOT_PRECEDENCE)?))
        } else {
            self.parse_unary()?
        };
        self.parse_binary_rest(lhs, min)
    }

    /// The binary operators after `lhs` that bind at least as tightly as `min`. As in 1.x a
    /// regex is an operand only right after `=~`/`!~` (there it must be one, unparenthesized).
    ///
    /// A chain `a + b + c …` becomes a left-deep tree, one level per operator: its links count
    /// toward [`MAX_DEPTH`] like parentheses, so no later pass over the tree (or its drop) can
    /// exhaust the stack. A long run of one of `AND`/`OR` (a generated `host = 'a' OR host = 'b'
    /// OR …`) is associative, so past [`BALANCE_RUN`] operands it becomes a balanced tree
    /// instead, `log2(n)` levels deep.
    fn parse_binary_rest(&mut self, lhs: Expr, min: u8) -> Result<Expr> {
        let mut lhs = Some(lhs);
        // Levels the chain has added so far, and the run of AND or OR being collected.
        let mut links = 0usize;
        let mut run: Option<(BinaryOp, Vec<Expr>)> = None;
        while let Some(op) = binary_op(&self.peek().kind) {
            let p = op.precedence();
            if p < min {
                break;
            }
            let pos = self.peek().pos;
            self.next();
            let rhs = if matches!(op, BinaryOp::EqRegex | BinaryOp::NeqRegex) {
                let re = Expr::Regex(self.parse_regex()?);
                self.descend()?;
                let r = self.parse_binary_rest(re, p + 1);
                self.ascend();
                r?
            } else {
                self.parse_expr_prec(p + 1)?
            };
            if matches!(op, BinaryOp::And | BinaryOp::Or) {
                match &mut run {
                    Some((run_op, items)) if *run_op == op => items.push(rhs),
                    _ => {
                        let left = finish_run(run.take(), &mut lhs, &mut links);
                        run = Some((op, vec![left, rhs]));
                    }
                }
            } else {
                let left = finish_run(run.take(), &mut lhs, &mut links);
                lhs = Some(Expr::Binary {
                    op,
                    lhs: Box::new(left),
                    rhs: Box::new(rhs),
                });
                links += 1;
            }
            if self.depth + links + run.as_ref().map_or(0, |(_, v)| run_levels(v.len())) > MAX_DEPTH
            {
                return Err(Self::error_at(
                    pos,
                    format!(
                        "query nested more than {MAX_DEPTH} levels deep (each operator of a chain \
                         like `a + b + c` nests one level)"
                    ),
                ));
            }
        }
        Ok(finish_run(run, &mut lhs, &mut links))
    }

    /// A field of the SELECT list or a call's argument: a regex alone (as in 1.x, not inside
    /// an expression), or an expression.
    fn parse_operand_or_regex(&mut self) -> Result<Expr> {
        match self.try_regex()? {
            Some(r) => Ok(Expr::Regex(r)),
            None => self.parse_expr(),
        }
    }

    fn parse_unary(&mut self) -> Result<Expr> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Sub => {
                self.next();
                let n = self.peek().clone();
                match &n.kind {
                    TokenKind::Integer(_) | TokenKind::Number(_) | TokenKind::Duration(_) => {
                        self.parse_literal(true)
                    }
                    TokenKind::Div => Err(Self::found(&n, "identifier, number, duration, (")),
                    _ => {
                        self.descend()?;
                        let e = self.parse_unary();
                        self.ascend();
                        Ok(Expr::Neg(Box::new(e?)))
                    }
                }
            }
            TokenKind::LParen => {
                self.next();
                let e = self.parse_expr()?;
                self.expect(TokenKind::RParen)?;
                Ok(Expr::Paren(Box::new(e)))
            }
            TokenKind::Mul => {
                self.next();
                let data_type = self.parse_cast()?;
                if matches!(data_type, Some(t) if t != DataType::Field && t != DataType::Tag) {
                    return Err(Self::error_at(
                        t.pos,
                        "found wildcard cast, expected *::field or *::tag".into(),
                    ));
                }
                Ok(Expr::Wildcard(data_type))
            }
            TokenKind::Integer(_)
            | TokenKind::Number(_)
            | TokenKind::Duration(_)
            | TokenKind::Str(_)
            | TokenKind::Keyword("TRUE" | "FALSE") => self.parse_literal(false),
            TokenKind::Keyword("DISTINCT") => {
                self.next();
                if self.peek().kind == TokenKind::LParen {
                    self.parse_call("distinct".into())
                } else {
                    let name = self.parse_ident()?;
                    Ok(Expr::Call {
                        name: "distinct".into(),
                        args: vec![Expr::var(name)],
                    })
                }
            }
            TokenKind::Ident(s) | TokenKind::QuotedIdent(s) => {
                let mut name = s.clone();
                self.next();
                if self.peek().kind == TokenKind::LParen {
                    return self.parse_call(name.to_lowercase());
                }
                while self.eat(&TokenKind::Dot) {
                    name.push('.');
                    name.push_str(&self.parse_ident()?);
                }
                let data_type = self.parse_cast()?;
                Ok(Expr::VarRef { name, data_type })
            }
            _ => Err(Self::found(&t, EXPECT_OPERAND)),
        }
    }

    /// An optional `::type` suffix.
    fn parse_cast(&mut self) -> Result<Option<DataType>> {
        if !self.eat(&TokenKind::DoubleColon) {
            return Ok(None);
        }
        let t = self.next();
        const EXPECTED: &str = "float, integer, unsigned, string, boolean, field, tag";
        match &t.kind {
            TokenKind::Keyword("FIELD") => Ok(Some(DataType::Field)),
            TokenKind::Keyword("TAG") => Ok(Some(DataType::Tag)),
            TokenKind::Ident(s) => DataType::from_name(s)
                .map(Some)
                .ok_or_else(|| Self::found(&t, EXPECTED)),
            _ => Err(Self::found(&t, EXPECTED)),
        }
    }

    /// After the function name; the next token is `(`.
    fn parse_call(&mut self, name: String) -> Result<Expr> {
        self.next(); // (
        let mut args = Vec::new();
        if !self.eat(&TokenKind::RParen) {
            loop {
                args.push(self.parse_operand_or_regex()?);
                if self.eat(&TokenKind::RParen) {
                    break;
                }
                if !self.eat(&TokenKind::Comma) {
                    return Err(self.unexpected(")"));
                }
            }
        }
        Ok(Expr::Call { name, args })
    }

    /// A literal token (number, duration, string, bool), negated if `neg`.
    fn parse_literal(&mut self, neg: bool) -> Result<Expr> {
        let t = self.next();
        let sign = if neg { "-" } else { "" };
        Ok(match t.kind {
            TokenKind::Integer(s) => {
                let text = format!("{sign}{s}");
                Expr::Integer(text.parse().map_err(|_| {
                    Self::error_at(t.pos, format!("found {text}, expected integer in range"))
                })?)
            }
            TokenKind::Number(s) => {
                let n = parse_float(&s).ok_or_else(|| {
                    Self::error_at(t.pos, format!("found {sign}{s}, expected finite number"))
                })?;
                Expr::Number(if neg { -n } else { n })
            }
            TokenKind::Duration(s) => {
                let d = parse_duration_signed(&s, neg).ok_or_else(|| {
                    Self::error_at(t.pos, format!("found {s}, expected duration"))
                })?;
                Expr::Duration(d)
            }
            TokenKind::Str(s) => Expr::String(s),
            TokenKind::Keyword("TRUE") => Expr::Boolean(true),
            TokenKind::Keyword("FALSE") => Expr::Boolean(false),
            _ => return Err(Self::found(&t, EXPECT_OPERAND)),
        })
    }
}

/// How much of a refused regex its error quotes: enough to find it, not the 64 KiB a query may
/// hold.
const QUOTED_REGEX_CHARS: usize = 80;

/// The regex as an error quotes it: its first [`QUOTED_REGEX_CHARS`] characters, then `…`.
fn shortened(regex: &str) -> Cow<'_, str> {
    match regex.char_indices().nth(QUOTED_REGEX_CHARS) {
        Some((end, _)) => Cow::Owned(format!("{}…", &regex[..end])),
        None => Cow::Borrowed(regex),
    }
}

fn parse_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A run of `AND`/`OR` operands longer than this is built as a balanced tree.
pub const BALANCE_RUN: usize = 32;

/// Levels a run of `n` operands adds to the tree.
fn run_levels(n: usize) -> usize {
    if n <= BALANCE_RUN {
        n.saturating_sub(1)
    } else {
        n.next_power_of_two().trailing_zeros() as usize
    }
}

/// The tree of a finished run of one operator (or the pending left operand when there is no
/// run); counts its levels into `links`.
fn finish_run(
    run: Option<(BinaryOp, Vec<Expr>)>,
    lhs: &mut Option<Expr>,
    links: &mut usize,
) -> Expr {
    let Some((op, items)) = run else {
        return lhs.take().unwrap_or(Expr::Boolean(false));
    };
    *links += run_levels(items.len());
    if items.len() <= BALANCE_RUN {
        let mut it = items.into_iter();
        let first = it.next().unwrap_or(Expr::Boolean(false));
        it.fold(first, |l, r| Expr::Binary {
            op,
            lhs: Box::new(l),
            rhs: Box::new(r),
        })
    } else {
        balanced(op, items)
    }
}

/// A balanced tree of `op` over `items` (at least one). Built with [`Expr::binary`], so a
/// right subtree of the same operator is wrapped in [`Expr::Paren`]: the tree prints as
/// `a AND b AND (c AND d) …` and that text parses back to the same tree.
fn balanced(op: BinaryOp, mut items: Vec<Expr>) -> Expr {
    if items.len() == 1 {
        return items.pop().unwrap_or(Expr::Boolean(false));
    }
    let right = items.split_off(items.len() / 2);
    Expr::binary(op, balanced(op, items), balanced(op, right))
}

fn binary_op(kind: &TokenKind) -> Option<BinaryOp> {
    Some(match kind {
        TokenKind::Keyword("OR") => BinaryOp::Or,
        TokenKind::Keyword("AND") => BinaryOp::And,
        TokenKind::Eq => BinaryOp::Eq,
        TokenKind::Neq => BinaryOp::Neq,
        TokenKind::Lt => BinaryOp::Lt,
        TokenKind::Lte => BinaryOp::Lte,
        TokenKind::Gt => BinaryOp::Gt,
        TokenKind::Gte => BinaryOp::Gte,
        TokenKind::EqRegex => BinaryOp::EqRegex,
        TokenKind::NeqRegex => BinaryOp::NeqRegex,
        TokenKind::Add => BinaryOp::Add,
        TokenKind::Sub => BinaryOp::Sub,
        TokenKind::Mul => BinaryOp::Mul,
        TokenKind::Div => BinaryOp::Div,
        TokenKind::Mod => BinaryOp::Mod,
        _ => return None,
    })
}
