//! The InfluxQL lexer: turns query text into [`Token`]s, each tagged with its 1-based
//! line and column ([`Pos`]).
//!
//! Regular-expression literals (`/.../`) cannot be told apart from the division operator
//! without knowing the grammar, so [`Lexer::next_token`] always returns `/` as
//! [`TokenKind::Div`]; the parser rewinds with [`Lexer::reset`] and calls
//! [`Lexer::scan_regex`] where a regex may appear (the same approach as InfluxDB 1.x).
//!
//! Lexical errors (an unterminated string, an illegal character, ...) do not abort the lexer:
//! they come back as [`TokenKind::Error`] tokens so the parser can report them with a position.

use std::fmt;

/// A position in the query text. Both numbers are 1-based; `column` counts characters
/// (not bytes) from the start of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// End of input.
    Eof,
    /// A bare identifier that is not a keyword (`cpu`, `usage_idle`).
    Ident(String),
    /// A double-quoted identifier, with escapes resolved (`"my measurement"`).
    QuotedIdent(String),
    /// A keyword, in its canonical upper-case spelling (`"SELECT"`).
    Keyword(&'static str),
    /// An integer literal, as written (no sign).
    Integer(String),
    /// A floating-point literal, as written (no sign).
    Number(String),
    /// A duration literal, as written (`1h30m`); may be invalid, the parser checks it.
    Duration(String),
    /// A single-quoted string literal, with escapes resolved.
    Str(String),
    /// A regex literal's source, with `\/` resolved to `/`. Only produced by
    /// [`Lexer::scan_regex`].
    Regex(String),
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    /// `!=` or `<>`.
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    EqRegex,
    NeqRegex,
    LParen,
    RParen,
    Comma,
    Dot,
    DoubleColon,
    Semicolon,
    /// A lexical error; the string is the complete message (e.g. `found unterminated string`).
    Error(String),
}

impl fmt::Display for TokenKind {
    /// The token as named in error messages, following InfluxDB 1.x: literals show their text,
    /// keywords their upper-case name, end of input `EOF`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s: &str = match self {
            TokenKind::Eof => "EOF",
            TokenKind::Ident(s)
            | TokenKind::QuotedIdent(s)
            | TokenKind::Integer(s)
            | TokenKind::Number(s)
            | TokenKind::Duration(s)
            | TokenKind::Regex(s)
            | TokenKind::Str(s) => {
                if s.is_empty() {
                    return match self {
                        TokenKind::Str(_) => f.write_str("''"),
                        TokenKind::QuotedIdent(_) => f.write_str("\"\""),
                        _ => f.write_str("//"),
                    };
                }
                s
            }
            TokenKind::Keyword(k) => k,
            TokenKind::Add => "+",
            TokenKind::Sub => "-",
            TokenKind::Mul => "*",
            TokenKind::Div => "/",
            TokenKind::Mod => "%",
            TokenKind::Eq => "=",
            TokenKind::Neq => "!=",
            TokenKind::Lt => "<",
            TokenKind::Lte => "<=",
            TokenKind::Gt => ">",
            TokenKind::Gte => ">=",
            TokenKind::EqRegex => "=~",
            TokenKind::NeqRegex => "!~",
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::Comma => ",",
            TokenKind::Dot => ".",
            TokenKind::DoubleColon => "::",
            TokenKind::Semicolon => ";",
            TokenKind::Error(m) => m,
        };
        f.write_str(s)
    }
}

/// A token with the position of its first character and its byte offset in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub pos: Pos,
    /// Byte offset of the token's first character.
    pub offset: usize,
}

/// InfluxQL keywords (InfluxDB 1.x's list plus `NOT`), upper case, sorted. Keywords are
/// matched case-insensitively; an identifier spelled like a keyword must be double-quoted.
pub const KEYWORDS: &[&str] = &[
    "ALL",
    "ALTER",
    "ANALYZE",
    "AND",
    "ANY",
    "AS",
    "ASC",
    "BEGIN",
    "BY",
    "CARDINALITY",
    "CONTINUOUS",
    "CREATE",
    "DATABASE",
    "DATABASES",
    "DEFAULT",
    "DELETE",
    "DESC",
    "DESTINATIONS",
    "DIAGNOSTICS",
    "DISTINCT",
    "DROP",
    "DURATION",
    "END",
    "EVERY",
    "EXACT",
    "EXPLAIN",
    "FALSE",
    "FIELD",
    "FOR",
    "FROM",
    "GRANT",
    "GRANTS",
    "GROUP",
    "GROUPS",
    "IN",
    "INF",
    "INSERT",
    "INTO",
    "KEY",
    "KEYS",
    "KILL",
    "LIMIT",
    "MEASUREMENT",
    "MEASUREMENTS",
    "NAME",
    "NOT",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "PASSWORD",
    "POLICIES",
    "POLICY",
    "PRIVILEGES",
    "QUERIES",
    "QUERY",
    "READ",
    "REPLICATION",
    "RESAMPLE",
    "RETENTION",
    "REVOKE",
    "SELECT",
    "SERIES",
    "SET",
    "SHARD",
    "SHARDS",
    "SHOW",
    "SLIMIT",
    "SOFFSET",
    "STATS",
    "SUBSCRIPTION",
    "SUBSCRIPTIONS",
    "TAG",
    "TO",
    "TRUE",
    "USER",
    "USERS",
    "VALUES",
    "WHERE",
    "WITH",
    "WRITE",
];

/// The canonical keyword for `ident`, if it is one (case-insensitive).
pub fn lookup_keyword(ident: &str) -> Option<&'static str> {
    if ident.len() > 13 || !ident.is_ascii() {
        return None;
    }
    let upper = ident.to_ascii_uppercase();
    KEYWORDS
        .binary_search(&upper.as_str())
        .ok()
        .map(|i| KEYWORDS[i])
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The lexer. Create it with [`Lexer::new`] and pull tokens with [`Lexer::next_token`]; after
/// the end of input it keeps returning [`TokenKind::Eof`].
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    src: &'a str,
    offset: usize,
    line: usize,
    column: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer positioned at the start of `src`.
    pub fn new(src: &'a str) -> Self {
        Lexer {
            src,
            offset: 0,
            line: 1,
            column: 1,
        }
    }

    /// Move back (or forward) to a position previously reported in a [`Token`].
    pub fn reset(&mut self, offset: usize, pos: Pos) {
        self.offset = offset.min(self.src.len());
        self.line = pos.line;
        self.column = pos.column;
    }

    /// The whole input.
    pub fn source(&self) -> &'a str {
        self.src
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.column,
        }
    }

    fn peek(&self) -> Option<char> {
        self.src.get(self.offset..).and_then(|s| s.chars().next())
    }

    fn peek_nth(&self, n: usize) -> Option<char> {
        self.src.get(self.offset..).and_then(|s| s.chars().nth(n))
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.offset += c.len_utf8();
        if c == '\r' {
            // "\r\n" counts as one line break (at the '\n'); a lone '\r' is a line break too.
            if self.peek() != Some('\n') {
                self.line += 1;
                self.column = 1;
            }
        } else if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    /// Skip whitespace and comments. Returns an error token for an unterminated block comment.
    fn skip_trivia(&mut self) -> Option<Token> {
        loop {
            match (self.peek(), self.peek_nth(1)) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('-'), Some('-')) => {
                    while let Some(c) = self.bump() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                (Some('/'), Some('*')) => {
                    let (offset, pos) = (self.offset, self.pos());
                    self.bump();
                    self.bump();
                    loop {
                        match self.bump() {
                            None => {
                                return Some(Token {
                                    kind: TokenKind::Error(
                                        "found unterminated comment, expected */".into(),
                                    ),
                                    pos,
                                    offset,
                                })
                            }
                            Some('*') if self.peek() == Some('/') => {
                                self.bump();
                                break;
                            }
                            Some(_) => {}
                        }
                    }
                }
                _ => return None,
            }
        }
    }

    /// The next token. `/` is always [`TokenKind::Div`]; see [`Lexer::scan_regex`].
    pub fn next_token(&mut self) -> Token {
        if let Some(err) = self.skip_trivia() {
            return err;
        }
        let (offset, pos) = (self.offset, self.pos());
        let tok = |kind| Token { kind, pos, offset };
        let Some(c) = self.peek() else {
            // InfluxDB 1.x reports the end of input one character past the last one.
            return Token {
                kind: TokenKind::Eof,
                pos: Pos {
                    column: pos.column + 1,
                    ..pos
                },
                offset,
            };
        };
        if c.is_ascii_digit() || (c == '.' && self.peek_nth(1).is_some_and(|d| d.is_ascii_digit()))
        {
            return tok(self.scan_number());
        }
        if is_ident_start(c) {
            let mut s = String::new();
            while let Some(c) = self.peek().filter(|&c| is_ident_char(c)) {
                s.push(c);
                self.bump();
            }
            return tok(match lookup_keyword(&s) {
                Some(k) => TokenKind::Keyword(k),
                None => TokenKind::Ident(s),
            });
        }
        self.bump();
        let next = self.peek();
        let mut two = |kind| {
            self.bump();
            kind
        };
        let kind = match (c, next) {
            ('"', _) => match self.scan_quoted('"') {
                Ok(s) => TokenKind::QuotedIdent(s),
                Err(e) => TokenKind::Error(e),
            },
            ('\'', _) => match self.scan_quoted('\'') {
                Ok(s) => TokenKind::Str(s),
                Err(e) => TokenKind::Error(e),
            },
            ('+', _) => TokenKind::Add,
            ('-', _) => TokenKind::Sub,
            ('*', _) => TokenKind::Mul,
            ('/', _) => TokenKind::Div,
            ('%', _) => TokenKind::Mod,
            ('=', Some('~')) => two(TokenKind::EqRegex),
            ('=', _) => TokenKind::Eq,
            ('!', Some('=')) => two(TokenKind::Neq),
            ('!', Some('~')) => two(TokenKind::NeqRegex),
            ('<', Some('=')) => two(TokenKind::Lte),
            ('<', Some('>')) => two(TokenKind::Neq),
            ('<', _) => TokenKind::Lt,
            ('>', Some('=')) => two(TokenKind::Gte),
            ('>', _) => TokenKind::Gt,
            ('(', _) => TokenKind::LParen,
            (')', _) => TokenKind::RParen,
            (',', _) => TokenKind::Comma,
            ('.', _) => TokenKind::Dot,
            (';', _) => TokenKind::Semicolon,
            (':', Some(':')) => two(TokenKind::DoubleColon),
            (c, _) => TokenKind::Error(format!("found illegal character {c:?}")),
        };
        tok(kind)
    }

    fn scan_number(&mut self) -> TokenKind {
        let start = self.offset;
        let mut float = false;
        let digits = |l: &mut Self| {
            while l.peek().is_some_and(|c| c.is_ascii_digit()) {
                l.bump();
            }
        };
        digits(self);
        if self.peek() == Some('.') && self.peek_nth(1).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            self.bump();
            digits(self);
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let exp = match self.peek_nth(1) {
                Some(d) if d.is_ascii_digit() => true,
                Some('+' | '-') => self.peek_nth(2).is_some_and(|d| d.is_ascii_digit()),
                _ => false,
            };
            if exp {
                float = true;
                self.bump();
                if matches!(self.peek(), Some('+' | '-')) {
                    self.bump();
                }
                digits(self);
            }
        }
        if !float && self.peek().is_some_and(|c| is_ident_char(c) || c == 'µ') {
            while self.peek().is_some_and(|c| is_ident_char(c) || c == 'µ') {
                self.bump();
            }
            return TokenKind::Duration(self.src[start..self.offset].to_string());
        }
        let text = self.src[start..self.offset].to_string();
        if float {
            TokenKind::Number(text)
        } else {
            TokenKind::Integer(text)
        }
    }

    /// Scan the rest of a quoted string or identifier (the opening quote is consumed).
    /// Escapes: `\\`, `\n`, `\'`, `\"`; anything else after a backslash is an error. A raw
    /// line break inside the quotes is an error (write `\n`), as in InfluxDB.
    fn scan_quoted(&mut self, quote: char) -> Result<String, String> {
        let what = if quote == '"' {
            "quoted identifier"
        } else {
            "string"
        };
        let mut s = String::new();
        loop {
            match self.bump() {
                None | Some('\n') => return Err(format!("found unterminated {what}")),
                Some('\\') => match self.bump() {
                    Some('\\') => s.push('\\'),
                    Some('n') => s.push('\n'),
                    Some('\'') => s.push('\''),
                    Some('"') => s.push('"'),
                    Some(c) => return Err(format!("found bad escape \\{c} in {what}")),
                    None => return Err(format!("found unterminated {what}")),
                },
                Some(c) if c == quote => return Ok(s),
                Some(c) => s.push(c),
            }
        }
    }

    /// Scan a regex literal starting at the current position, which must be a `/` (otherwise
    /// an error token is returned). `\/` inside the regex stands for `/`; every other
    /// backslash sequence is kept as written for the regex engine. As in InfluxDB, a regex
    /// cannot span lines.
    pub fn scan_regex(&mut self) -> Token {
        let (offset, pos) = (self.offset, self.pos());
        let tok = |kind| Token { kind, pos, offset };
        if self.bump() != Some('/') {
            return tok(TokenKind::Error(
                "found illegal character, expected regex".into(),
            ));
        }
        let mut s = String::new();
        loop {
            match self.bump() {
                None | Some('\n') => {
                    return tok(TokenKind::Error("found unterminated regex".into()))
                }
                Some('\\') => match self.bump() {
                    Some('/') => s.push('/'),
                    Some(c) => {
                        s.push('\\');
                        s.push(c);
                    }
                    None => return tok(TokenKind::Error("found unterminated regex".into())),
                },
                Some('/') => return tok(TokenKind::Regex(s)),
                Some(c) => s.push(c),
            }
        }
    }
}

/// Tokenize a whole input (every `/` as [`TokenKind::Div`]), ending with the
/// [`TokenKind::Eof`] token. Useful for tests and tools; the parser lexes lazily.
pub fn tokenize(src: &str) -> Vec<Token> {
    let mut lexer = Lexer::new(src);
    let mut out = Vec::new();
    loop {
        let t = lexer.next_token();
        let done = matches!(t.kind, TokenKind::Eof | TokenKind::Error(_));
        out.push(t);
        if done {
            return out;
        }
    }
}
