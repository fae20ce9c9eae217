//! The vq lexer (VQ.md §2): tokens with 1-based line and column, keywords case-sensitive,
//! NUMBER as `-?[0-9]+(\.[0-9]+)?`, `//` comments, one UNKNOWN token per other character.

use std::fmt;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Select,
    Put,
    Delete,
    Create,
    Drop,
    Add,
    Remove,
    Tables,
    Data,
    Avg,
    Sum,
    Count,
    Min,
    Max,
    Table,
    Tags,
    All,
    Between,
    And,
    At,
    Where,
    From,
    Into,
    To,
    Identifier,
    Number,
    Equal,
    Comma,
    Semicolon,
    Unknown,
    EndOfFile,
}

/// The keywords, spelled exactly as vq requires (upper case).
const KEYWORDS: [(&str, TokenKind); 24] = [
    ("SELECT", TokenKind::Select),
    ("PUT", TokenKind::Put),
    ("DELETE", TokenKind::Delete),
    ("CREATE", TokenKind::Create),
    ("DROP", TokenKind::Drop),
    ("ADD", TokenKind::Add),
    ("REMOVE", TokenKind::Remove),
    ("TABLES", TokenKind::Tables),
    ("DATA", TokenKind::Data),
    ("AVG", TokenKind::Avg),
    ("SUM", TokenKind::Sum),
    ("COUNT", TokenKind::Count),
    ("MIN", TokenKind::Min),
    ("MAX", TokenKind::Max),
    ("TABLE", TokenKind::Table),
    ("TAGS", TokenKind::Tags),
    ("ALL", TokenKind::All),
    ("BETWEEN", TokenKind::Between),
    ("AND", TokenKind::And),
    ("AT", TokenKind::At),
    ("WHERE", TokenKind::Where),
    ("FROM", TokenKind::From),
    ("INTO", TokenKind::Into),
    ("TO", TokenKind::To),
];

/// The keywords (upper case: vq's keywords are case-sensitive).
pub fn keywords() -> impl Iterator<Item = &'static str> {
    KEYWORDS.iter().map(|(k, _)| *k)
}

/// Whether `word` is a vq keyword (and so cannot be printed as an identifier).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|(k, _)| *k == word)
}

/// One token: its kind, its text as written, and where its first character is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    /// The characters of the token (empty for END_OF_FILE).
    pub lexeme: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters (a tab counts 1).
    pub column: u32,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} '{}' {}:{}",
            self.kind, self.lexeme, self.line, self.column
        )
    }
}

/// Split `source` into tokens; the last is always END_OF_FILE. Never fails: what is not a
/// token of vq becomes an UNKNOWN token (the parser reports it).
pub fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line, mut column) = (0usize, 1u32, 1u32);
    let digit_at = |i: usize| chars.get(i).is_some_and(|c| c.is_ascii_digit());
    while let Some(&c) = chars.get(i) {
        let (start, start_col) = (i, column);
        let kind = match c {
            '\n' => {
                i += 1;
                line += 1;
                column = 1;
                continue;
            }
            ' ' | '\t' | '\r' | '\u{b}' | '\u{c}' => {
                i += 1;
                column += 1;
                continue;
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while chars.get(i).is_some_and(|c| *c != '\n') {
                    i += 1;
                    column += 1;
                }
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                KEYWORDS
                    .iter()
                    .find(|(k, _)| *k == word)
                    .map_or(TokenKind::Identifier, |(_, kind)| *kind)
            }
            c if c.is_ascii_digit() || (c == '-' && digit_at(i + 1)) => {
                i += 1;
                while digit_at(i) {
                    i += 1;
                }
                if chars.get(i) == Some(&'.') && digit_at(i + 1) {
                    i += 1;
                    while digit_at(i) {
                        i += 1;
                    }
                }
                TokenKind::Number
            }
            '=' => {
                i += 1;
                TokenKind::Equal
            }
            ',' => {
                i += 1;
                TokenKind::Comma
            }
            ';' => {
                i += 1;
                TokenKind::Semicolon
            }
            _ => {
                i += 1;
                TokenKind::Unknown
            }
        };
        column += (i - start) as u32;
        tokens.push(Token {
            kind,
            lexeme: chars[start..i].iter().collect(),
            line,
            column: start_col,
        });
    }
    tokens.push(Token {
        kind: TokenKind::EndOfFile,
        lexeme: String::new(),
        line,
        column,
    });
    tokens
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::TokenKind::*;
    use super::*;

    fn kinds(s: &str) -> Vec<(TokenKind, String)> {
        tokenize(s)
            .into_iter()
            .map(|t| (t.kind, t.lexeme))
            .collect()
    }

    fn k(kind: TokenKind, s: &str) -> (TokenKind, String) {
        (kind, s.to_string())
    }

    #[test]
    fn numbers_follow_the_rules_of_section_2() {
        assert_eq!(
            kinds("123id"),
            vec![k(Number, "123"), k(Identifier, "id"), k(EndOfFile, "")]
        );
        assert_eq!(
            kinds("123..45"),
            vec![
                k(Number, "123"),
                k(Unknown, "."),
                k(Unknown, "."),
                k(Number, "45"),
                k(EndOfFile, "")
            ]
        );
        assert_eq!(
            kinds("-123."),
            vec![k(Number, "-123"), k(Unknown, "."), k(EndOfFile, "")]
        );
        assert_eq!(
            kinds("--"),
            vec![k(Unknown, "-"), k(Unknown, "-"), k(EndOfFile, "")]
        );
        assert_eq!(
            kinds("1e5"),
            vec![k(Number, "1"), k(Identifier, "e5"), k(EndOfFile, "")]
        );
        assert_eq!(kinds("-0.25"), vec![k(Number, "-0.25"), k(EndOfFile, "")]);
        assert_eq!(
            kinds("'a'"),
            vec![
                k(Unknown, "'"),
                k(Identifier, "a"),
                k(Unknown, "'"),
                k(EndOfFile, "")
            ]
        );
    }

    #[test]
    fn keywords_are_case_sensitive() {
        assert_eq!(
            kinds("SELECT select Select tables TABLES"),
            vec![
                k(Select, "SELECT"),
                k(Identifier, "select"),
                k(Identifier, "Select"),
                k(Identifier, "tables"),
                k(Tables, "TABLES"),
                k(EndOfFile, "")
            ]
        );
    }

    #[test]
    fn comments_and_punctuation() {
        assert_eq!(
            kinds("a=b, c; // PUT x\n/ *"),
            vec![
                k(Identifier, "a"),
                k(Equal, "="),
                k(Identifier, "b"),
                k(Comma, ","),
                k(Identifier, "c"),
                k(Semicolon, ";"),
                k(Unknown, "/"),
                k(Unknown, "*"),
                k(EndOfFile, "")
            ]
        );
    }

    #[test]
    fn positions_are_one_based_and_end_of_file_follows_the_last_character() {
        let end = |s: &str| {
            let t = tokenize(s).pop().unwrap();
            (t.line, t.column)
        };
        assert_eq!(end("TABLES"), (1, 7));
        assert_eq!(end("TABLES;\n"), (2, 1));
        assert_eq!(end("    \n\t   "), (2, 5));
        assert_eq!(end(""), (1, 1));
        let t = tokenize("PUT\n\tm  12 // x\n  ;");
        let pos: Vec<(u32, u32)> = t.iter().map(|t| (t.line, t.column)).collect();
        assert_eq!(pos, vec![(1, 1), (2, 2), (2, 5), (3, 3), (3, 4)]);
    }

    #[test]
    fn non_ascii_characters_are_unknown_tokens_of_one_column() {
        let t = tokenize("é x");
        assert_eq!((t[0].kind, t[0].lexeme.as_str()), (Unknown, "é"));
        assert_eq!((t[1].line, t[1].column), (1, 3));
    }
}
