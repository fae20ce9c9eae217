//! vq's errors: a parse error at a token, or a runtime error at a token (VQ.md §6.2). Their
//! Display is exactly the line strata prints on stderr.

/// What went wrong running vq text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VqError {
    /// The source does not parse; nothing of it ran. `found` is the lexeme of the token where
    /// the parser stood (`None` at the end of the source).
    #[error("[line {line}:col {column}] Parse error at {}: {message}", at(found))]
    Parse {
        line: u32,
        column: u32,
        found: Option<String>,
        message: String,
    },
    /// A statement failed; the statements before it took effect, the ones after did not run.
    #[error("[line {line}:col {column}] Runtime error: {message}")]
    Runtime {
        line: u32,
        column: u32,
        message: String,
    },
}

fn at(found: &Option<String>) -> String {
    match found {
        Some(lexeme) => format!("'{lexeme}'"),
        None => "end".to_string(),
    }
}

impl VqError {
    /// A runtime error at `word`.
    pub fn runtime(word: &super::ast::Word, message: impl Into<String>) -> VqError {
        VqError::Runtime {
            line: word.line,
            column: word.column,
            message: message.into(),
        }
    }

    /// Whether this is a parse error (exit code 65) rather than a runtime one (70).
    pub fn is_parse(&self) -> bool {
        matches!(self, VqError::Parse { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_stderr_line_of_section_6_2() {
        let e = VqError::Parse {
            line: 1,
            column: 8,
            found: Some("x".into()),
            message: "Expected select type.".into(),
        };
        assert_eq!(
            e.to_string(),
            "[line 1:col 8] Parse error at 'x': Expected select type."
        );
        let e = VqError::Parse {
            line: 2,
            column: 1,
            found: None,
            message: "Expected semicolon.".into(),
        };
        assert_eq!(
            e.to_string(),
            "[line 2:col 1] Parse error at end: Expected semicolon."
        );
        let e = VqError::Runtime {
            line: 3,
            column: 12,
            message: "Table 'nope' does not exist.".into(),
        };
        assert_eq!(
            e.to_string(),
            "[line 3:col 12] Runtime error: Table 'nope' does not exist."
        );
    }
}
