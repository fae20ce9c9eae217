//! The vq parser: recursive descent over the tokens of a whole source (VQ.md §3), stopping at
//! the first error with the message of §4 at the token where it stood.

use super::ast::{Clause, Program, SelectType, Statement, Tag, Word};
use super::error::VqError;
use super::lexer::{tokenize, Token, TokenKind};

/// Parse a whole source (a file, or one REPL line).
pub fn parse(source: &str) -> Result<Program, VqError> {
    let tokens = tokenize(source);
    Parser { tokens, at: 0 }.program()
}

struct Parser {
    /// Always ends with END_OF_FILE.
    tokens: Vec<Token>,
    at: usize,
}

type Parsed<T> = Result<T, VqError>;

impl Parser {
    fn peek(&self) -> &Token {
        // `tokenize` always ends with END_OF_FILE, and `advance` never passes it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> &Token {
        let i = self.at.min(self.tokens.len() - 1);
        if self.tokens[i].kind != TokenKind::EndOfFile {
            self.at += 1;
        }
        &self.tokens[i]
    }

    fn error(&self, message: &str) -> VqError {
        let t = self.peek();
        VqError::Parse {
            line: t.line,
            column: t.column,
            found: (t.kind != TokenKind::EndOfFile).then(|| t.lexeme.clone()),
            message: message.to_string(),
        }
    }

    /// Take a token of `kind`, or fail with `message` at the current token.
    fn expect(&mut self, kind: TokenKind, message: &str) -> Parsed<Word> {
        if self.peek().kind == kind {
            Ok(Word::from(self.advance()))
        } else {
            Err(self.error(message))
        }
    }

    /// Take a token of `kind` if it is next.
    fn eat(&mut self, kind: TokenKind) -> bool {
        let here = self.peek().kind == kind;
        if here {
            self.advance();
        }
        here
    }

    fn program(mut self) -> Parsed<Program> {
        let mut statements = Vec::new();
        loop {
            statements.push(self.query()?);
            self.expect(TokenKind::Semicolon, "Expected semicolon.")?;
            if self.peek().kind == TokenKind::EndOfFile {
                return Ok(Program { statements });
            }
        }
    }

    fn query(&mut self) -> Parsed<Statement> {
        match self.peek().kind {
            TokenKind::Select => self.select(),
            TokenKind::Put => self.put(),
            TokenKind::Delete => self.delete(),
            TokenKind::Create => {
                self.advance();
                self.expect(TokenKind::Table, "Expected TABLE.")?;
                let table = self.table_name()?;
                let columns = if self.eat(TokenKind::Tags) {
                    self.tag_columns()?
                } else {
                    Vec::new()
                };
                Ok(Statement::CreateTable { table, columns })
            }
            TokenKind::Drop => {
                self.advance();
                self.expect(TokenKind::Table, "Expected TABLE.")?;
                Ok(Statement::DropTable {
                    table: self.table_name()?,
                })
            }
            TokenKind::Add => {
                self.advance();
                self.expect(TokenKind::Tags, "Expected TAGS.")?;
                let columns = self.tag_columns()?;
                self.expect(TokenKind::To, "Expected TO.")?;
                let table = self.table_name()?;
                Ok(Statement::AddTags { columns, table })
            }
            TokenKind::Remove => {
                self.advance();
                self.expect(TokenKind::Tags, "Expected TAGS.")?;
                let columns = self.tag_columns()?;
                self.expect(TokenKind::From, "Expected FROM.")?;
                let table = self.table_name()?;
                Ok(Statement::RemoveTags { columns, table })
            }
            TokenKind::Tables => {
                self.advance();
                Ok(Statement::Tables)
            }
            _ => Err(self.error("Expected query base word.")),
        }
    }

    fn select(&mut self) -> Parsed<Statement> {
        self.advance();
        let kind = match self.peek().kind {
            TokenKind::Data => SelectType::Data,
            TokenKind::Avg => SelectType::Avg,
            TokenKind::Sum => SelectType::Sum,
            TokenKind::Count => SelectType::Count,
            TokenKind::Min => SelectType::Min,
            TokenKind::Max => SelectType::Max,
            _ => return Err(self.error("Expected select type.")),
        };
        self.advance();
        let metric = self.metric()?;
        self.expect(TokenKind::From, "Expected FROM.")?;
        let table = self.table_name()?;
        let clause = match self.peek().kind {
            TokenKind::All => {
                self.advance();
                Clause::All
            }
            TokenKind::Between => {
                self.advance();
                let a = self.timestamp()?;
                self.expect(TokenKind::And, "Expected AND.")?;
                Clause::Between(a, self.timestamp()?)
            }
            TokenKind::At => {
                self.advance();
                Clause::At(self.timestamp()?)
            }
            _ => return Err(self.error("Expected select clause.")),
        };
        let filter = if self.eat(TokenKind::Where) {
            self.tag_list()?
        } else {
            Vec::new()
        };
        Ok(Statement::Select {
            kind,
            metric,
            table,
            clause,
            filter,
        })
    }

    fn put(&mut self) -> Parsed<Statement> {
        self.advance();
        let metric = self.metric()?;
        let timestamp = self.timestamp()?;
        let value = self.expect(TokenKind::Number, "Expected value.")?;
        self.expect(TokenKind::Into, "Expected INTO.")?;
        let table = self.table_name()?;
        let tags = self.optional_tags()?;
        Ok(Statement::Put {
            metric,
            timestamp,
            value,
            table,
            tags,
        })
    }

    fn delete(&mut self) -> Parsed<Statement> {
        self.advance();
        let metric = self.metric()?;
        let timestamp = self.timestamp()?;
        self.expect(TokenKind::From, "Expected FROM.")?;
        let table = self.table_name()?;
        let tags = self.optional_tags()?;
        Ok(Statement::Delete {
            metric,
            timestamp,
            table,
            tags,
        })
    }

    fn metric(&mut self) -> Parsed<Word> {
        self.expect(TokenKind::Identifier, "Expected metric.")
    }

    fn table_name(&mut self) -> Parsed<Word> {
        self.expect(TokenKind::Identifier, "Expected table name.")
    }

    fn timestamp(&mut self) -> Parsed<Word> {
        self.expect(TokenKind::Number, "Expected timestamp.")
    }

    fn optional_tags(&mut self) -> Parsed<Vec<Tag>> {
        if self.eat(TokenKind::Tags) {
            self.tag_list()
        } else {
            Ok(Vec::new())
        }
    }

    fn tag_list(&mut self) -> Parsed<Vec<Tag>> {
        let mut tags = Vec::new();
        loop {
            let key = self.expect(TokenKind::Identifier, "Expected tag key.")?;
            self.expect(TokenKind::Equal, "Expected '='.")?;
            let value = self.expect(TokenKind::Identifier, "Expected tag value.")?;
            tags.push((key, value));
            if !self.eat(TokenKind::Comma) {
                return Ok(tags);
            }
        }
    }

    fn tag_columns(&mut self) -> Parsed<Vec<Word>> {
        let mut columns = Vec::new();
        loop {
            columns.push(self.expect(TokenKind::Identifier, "Expected tag key.")?);
            if !self.eat(TokenKind::Comma) {
                return Ok(columns);
            }
        }
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
