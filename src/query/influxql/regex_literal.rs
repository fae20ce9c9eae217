//! InfluxQL's regex literals (`/cpu.*/`): their source, checked and compiled as InfluxDB's RE2
//! syntax allows, and printed back as InfluxQL.

use std::fmt::{self, Write as _};

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
    /// `/source/`, which the lexer reads back to the same source: `/` escaped as `\/`, the
    /// rest as it is. The one exception is a line feed not after a backslash, which the lexer
    /// refuses inside a regex literal: the parser never puts one in a regex, but a regex built
    /// from other text (a Prometheus matcher) may hold one, and it prints as `\n`, which
    /// matches the same character. (A carriage return, or a line feed after a backslash, the
    /// lexer reads as it is, so they print as they are.)
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
                '\n' => f.write_str("\\n")?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('/')
    }
}
