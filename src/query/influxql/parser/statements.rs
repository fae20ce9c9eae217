//! Parsing the statements other than SELECT: SHOW (the cardinality statements included),
//! CREATE, DROP, DELETE, ALTER, GRANT and REVOKE, and their parts.

use super::super::ast::*;
use super::super::lexer::TokenKind;
use super::super::show_cardinality::{CardinalityOf, ShowCardinalityStatement};
use super::Parser;
use crate::error::Result;

/// What a cardinality statement counts, as far as its first words tell (`TAG VALUES` takes its
/// `WITH KEY` later).
#[derive(Clone, Copy)]
enum CardinalityKind {
    Series,
    Measurements,
    TagKeys,
    TagValues,
    FieldKeys,
}

impl Parser<'_> {
    /// A string literal (a password).
    pub(super) fn parse_string(&mut self) -> Result<String> {
        let t = self.peek().clone();
        match t.kind {
            TokenKind::Str(s) => {
                self.next();
                Ok(s)
            }
            _ => Err(Self::found(&t, "string")),
        }
    }

    /// `READ`, `WRITE` or `ALL [PRIVILEGES]`.
    fn parse_privilege(&mut self) -> Result<Privilege> {
        if self.eat_kw("READ") {
            Ok(Privilege::Read)
        } else if self.eat_kw("WRITE") {
            Ok(Privilege::Write)
        } else if self.eat_kw("ALL") {
            self.eat_kw("PRIVILEGES");
            Ok(Privilege::All)
        } else {
            Err(self.unexpected("READ, WRITE, ALL [PRIVILEGES]"))
        }
    }

    /// After `GRANT`: `priv ON db TO user`, or `ALL [PRIVILEGES] TO user` (admin), as 1.x.
    pub(super) fn parse_grant(&mut self) -> Result<Statement> {
        let privilege = self.parse_privilege()?;
        if self.eat_kw("ON") {
            let database = self.parse_ident()?;
            self.expect_kw("TO")?;
            let user = self.parse_ident()?;
            return Ok(Statement::Grant {
                privilege,
                database,
                user,
            });
        }
        if privilege == Privilege::All && self.eat_kw("TO") {
            return Ok(Statement::GrantAdmin {
                user: self.parse_ident()?,
            });
        }
        Err(self.unexpected(if privilege == Privilege::All {
            "ON, TO"
        } else {
            "ON"
        }))
    }

    /// After `REVOKE`: `priv ON db FROM user`, or `ALL [PRIVILEGES] FROM user`, as 1.x.
    pub(super) fn parse_revoke(&mut self) -> Result<Statement> {
        let privilege = self.parse_privilege()?;
        if self.eat_kw("ON") {
            let database = self.parse_ident()?;
            self.expect_kw("FROM")?;
            let user = self.parse_ident()?;
            return Ok(Statement::Revoke {
                privilege,
                database,
                user,
            });
        }
        if privilege == Privilege::All && self.eat_kw("FROM") {
            return Ok(Statement::RevokeAdmin {
                user: self.parse_ident()?,
            });
        }
        Err(self.unexpected(if privilege == Privilege::All {
            "ON, FROM"
        } else {
            "ON"
        }))
    }

    pub(super) fn parse_show(&mut self) -> Result<Statement> {
        const EXPECTED: &str =
            "DATABASES, FIELD, GRANTS, MEASUREMENT, MEASUREMENTS, QUERIES, RETENTION, SERIES, TAG, \
             USERS";
        if self.eat_kw("DATABASES") {
            return Ok(Statement::ShowDatabases);
        }
        if self.eat_kw("USERS") {
            return Ok(Statement::ShowUsers);
        }
        if self.eat_kw("GRANTS") {
            self.expect_kw("FOR")?;
            return Ok(Statement::ShowGrants {
                user: self.parse_ident()?,
            });
        }
        if self.eat_kw("QUERIES") {
            return Ok(Statement::ShowQueries);
        }
        if self.eat_kw("RETENTION") {
            self.expect_kw("POLICIES")?;
            return Ok(Statement::ShowRetentionPolicies {
                database: self.parse_on()?,
            });
        }
        if self.eat_kw("MEASUREMENTS") {
            let database = self.parse_on()?;
            let measurement = if self.eat_kw("WITH") {
                self.expect_kw("MEASUREMENT")?;
                if self.eat(&TokenKind::EqRegex) {
                    Some(MeasurementName::Regex(self.parse_regex()?))
                } else if self.eat(&TokenKind::Eq) {
                    Some(match self.try_regex()? {
                        Some(r) => MeasurementName::Regex(r),
                        None => MeasurementName::Name(self.parse_ident()?),
                    })
                } else {
                    return Err(self.unexpected("=, =~"));
                }
            } else {
                None
            };
            let condition = self.parse_where()?;
            let (limit, offset) = self.parse_limit_offset()?;
            return Ok(Statement::ShowMeasurements(ShowMeasurementsStatement {
                database,
                measurement,
                condition,
                limit,
                offset,
            }));
        }
        if self.eat_kw("SERIES") {
            if self.peek_kw("EXACT") || self.peek_kw("CARDINALITY") {
                return self.parse_show_cardinality(CardinalityKind::Series);
            }
            return Ok(Statement::ShowSeries(self.parse_show_keys(true)?));
        }
        if self.eat_kw("MEASUREMENT") {
            return self.parse_show_cardinality(CardinalityKind::Measurements);
        }
        if self.eat_kw("FIELD") {
            if self.eat_kw("KEY") {
                return self.parse_show_cardinality(CardinalityKind::FieldKeys);
            }
            if !self.eat_kw("KEYS") {
                return Err(self.unexpected("KEY, KEYS"));
            }
            return Ok(Statement::ShowFieldKeys(self.parse_show_keys(false)?));
        }
        if self.eat_kw("TAG") {
            if self.eat_kw("KEYS") {
                return Ok(Statement::ShowTagKeys(self.parse_show_keys(true)?));
            }
            if self.eat_kw("KEY") {
                return self.parse_show_cardinality(CardinalityKind::TagKeys);
            }
            if self.eat_kw("VALUES") {
                if self.peek_kw("EXACT") || self.peek_kw("CARDINALITY") {
                    return self.parse_show_cardinality(CardinalityKind::TagValues);
                }
                return self.parse_show_tag_values();
            }
            return Err(self.unexpected("KEY, KEYS, VALUES"));
        }
        Err(self.unexpected(EXPECTED))
    }

    /// `FROM sources` if there is one (the SHOW statements'): none means every measurement.
    fn parse_optional_from(&mut self) -> Result<Vec<Source>> {
        if self.eat_kw("FROM") {
            self.parse_sources(false)
        } else {
            Ok(Vec::new())
        }
    }

    fn parse_show_keys(&mut self, with_where: bool) -> Result<ShowKeysStatement> {
        let database = self.parse_on()?;
        let sources = self.parse_optional_from()?;
        let condition = if with_where {
            self.parse_where()?
        } else {
            None
        };
        let (limit, offset) = self.parse_limit_offset()?;
        Ok(ShowKeysStatement {
            database,
            sources,
            condition,
            limit,
            offset,
        })
    }

    /// After `SHOW SERIES`, `SHOW MEASUREMENT`, `SHOW TAG KEY`, `SHOW TAG VALUES` or `SHOW
    /// FIELD KEY`: `[EXACT] CARDINALITY [ON db] [FROM ...] [WITH KEY ...] [WHERE] [GROUP BY]
    /// [LIMIT] [OFFSET]`.
    fn parse_show_cardinality(&mut self, kind: CardinalityKind) -> Result<Statement> {
        let exact = self.eat_kw("EXACT");
        self.expect_kw("CARDINALITY")?;
        let database = self.parse_on()?;
        let sources = self.parse_optional_from()?;
        let of = match kind {
            CardinalityKind::Series => CardinalityOf::Series,
            CardinalityKind::Measurements => CardinalityOf::Measurements,
            CardinalityKind::TagKeys => CardinalityOf::TagKeys,
            CardinalityKind::TagValues => CardinalityOf::TagValues(self.parse_with_key()?),
            CardinalityKind::FieldKeys => CardinalityOf::FieldKeys,
        };
        let condition = self.parse_where()?;
        let dimensions = if self.eat_kw("GROUP") {
            self.expect_kw("BY")?;
            self.parse_dimensions()?
        } else {
            Vec::new()
        };
        let (limit, offset) = self.parse_limit_offset()?;
        Ok(Statement::ShowCardinality(ShowCardinalityStatement {
            of,
            exact,
            database,
            sources,
            condition,
            dimensions,
            limit,
            offset,
        }))
    }

    fn parse_show_tag_values(&mut self) -> Result<Statement> {
        let database = self.parse_on()?;
        let sources = self.parse_optional_from()?;
        let key = self.parse_with_key()?;
        let condition = self.parse_where()?;
        let (limit, offset) = self.parse_limit_offset()?;
        Ok(Statement::ShowTagValues(ShowTagValuesStatement {
            database,
            sources,
            key,
            condition,
            limit,
            offset,
        }))
    }

    /// `WITH KEY = k`, `!= k`, `=~ /re/`, `!~ /re/` or `IN (k, ...)`.
    fn parse_with_key(&mut self) -> Result<TagKeyFilter> {
        self.expect_kw("WITH")?;
        self.expect_kw("KEY")?;
        Ok(match self.peek().kind {
            TokenKind::Eq => {
                self.next();
                TagKeyFilter::Eq(self.parse_ident()?)
            }
            TokenKind::Neq => {
                self.next();
                TagKeyFilter::Neq(self.parse_ident()?)
            }
            TokenKind::EqRegex => {
                self.next();
                TagKeyFilter::EqRegex(self.parse_regex()?)
            }
            TokenKind::NeqRegex => {
                self.next();
                TagKeyFilter::NeqRegex(self.parse_regex()?)
            }
            TokenKind::Keyword("IN") => {
                self.next();
                self.expect(TokenKind::LParen)?;
                let keys = self.parse_ident_list()?;
                self.expect(TokenKind::RParen)?;
                TagKeyFilter::In(keys)
            }
            _ => return Err(self.unexpected("=, !=, =~, !~, IN")),
        })
    }

    pub(super) fn parse_create(&mut self) -> Result<Statement> {
        if self.eat_kw("DATABASE") {
            let name = self.parse_ident()?;
            let retention = if self.eat_kw("WITH") {
                let mut rp = RetentionPolicySpec::default();
                if self.eat_kw("DURATION") {
                    rp.duration = Some(self.parse_rp_duration()?);
                }
                if self.eat_kw("REPLICATION") {
                    rp.replication = Some(self.parse_u32()?);
                }
                if self.eat_kw("SHARD") {
                    self.expect_kw("DURATION")?;
                    rp.shard_duration = Some(self.parse_duration_lit(false)?);
                }
                if self.eat_kw("NAME") {
                    rp.name = Some(self.parse_ident()?);
                }
                if rp == RetentionPolicySpec::default() {
                    return Err(self.unexpected("DURATION, REPLICATION, SHARD, NAME"));
                }
                Some(rp)
            } else {
                None
            };
            return Ok(Statement::CreateDatabase { name, retention });
        }
        if self.eat_kw("RETENTION") {
            self.expect_kw("POLICY")?;
            let name = self.parse_ident()?;
            self.expect_kw("ON")?;
            let database = self.parse_ident()?;
            self.expect_kw("DURATION")?;
            let duration = self.parse_rp_duration()?;
            self.expect_kw("REPLICATION")?;
            let replication = self.parse_u32()?;
            let shard_duration = if self.eat_kw("SHARD") {
                self.expect_kw("DURATION")?;
                Some(self.parse_duration_lit(false)?)
            } else {
                None
            };
            let default = self.eat_kw("DEFAULT");
            return Ok(Statement::CreateRetentionPolicy {
                name,
                database,
                duration,
                replication,
                shard_duration,
                default,
            });
        }
        if self.eat_kw("USER") {
            let name = self.parse_ident()?;
            self.expect_kw("WITH")?;
            self.expect_kw("PASSWORD")?;
            let password = Password::new(self.parse_string()?);
            let admin = if self.eat_kw("WITH") {
                self.expect_kw("ALL")?;
                self.expect_kw("PRIVILEGES")?;
                true
            } else {
                false
            };
            return Ok(Statement::CreateUser {
                name,
                password,
                admin,
            });
        }
        Err(self.unexpected("DATABASE, RETENTION, USER"))
    }

    pub(super) fn parse_drop(&mut self) -> Result<Statement> {
        if self.eat_kw("DATABASE") {
            return Ok(Statement::DropDatabase {
                name: self.parse_ident()?,
            });
        }
        if self.eat_kw("MEASUREMENT") {
            return Ok(Statement::DropMeasurement {
                name: self.parse_ident()?,
            });
        }
        if self.eat_kw("SERIES") {
            let sources = if self.eat_kw("FROM") {
                self.parse_sources(false)?
            } else {
                Vec::new()
            };
            let condition = self.parse_where()?;
            if sources.is_empty() && condition.is_none() {
                return Err(self.unexpected("FROM, WHERE"));
            }
            return Ok(Statement::DropSeries { sources, condition });
        }
        if self.eat_kw("RETENTION") {
            self.expect_kw("POLICY")?;
            let name = self.parse_ident()?;
            self.expect_kw("ON")?;
            let database = self.parse_ident()?;
            return Ok(Statement::DropRetentionPolicy { name, database });
        }
        if self.eat_kw("USER") {
            return Ok(Statement::DropUser {
                name: self.parse_ident()?,
            });
        }
        Err(self.unexpected("DATABASE, MEASUREMENT, RETENTION, SERIES, USER"))
    }

    pub(super) fn parse_delete(&mut self) -> Result<Statement> {
        let source = if self.eat_kw("FROM") {
            Some(Source::Measurement(self.parse_measurement()?))
        } else {
            None
        };
        let condition = self.parse_where()?;
        if source.is_none() && condition.is_none() {
            return Err(self.unexpected("FROM, WHERE"));
        }
        Ok(Statement::Delete { source, condition })
    }

    pub(super) fn parse_alter(&mut self) -> Result<Statement> {
        self.expect_kw("RETENTION")?;
        self.expect_kw("POLICY")?;
        let name = self.parse_ident()?;
        self.expect_kw("ON")?;
        let database = self.parse_ident()?;
        let (mut duration, mut replication, mut shard_duration, mut default) =
            (None, None, None, false);
        loop {
            if duration.is_none() && self.eat_kw("DURATION") {
                duration = Some(self.parse_rp_duration()?);
            } else if replication.is_none() && self.eat_kw("REPLICATION") {
                replication = Some(self.parse_u32()?);
            } else if shard_duration.is_none() && self.eat_kw("SHARD") {
                self.expect_kw("DURATION")?;
                shard_duration = Some(self.parse_duration_lit(false)?);
            } else if !default && self.eat_kw("DEFAULT") {
                default = true;
            } else {
                break;
            }
        }
        if duration.is_none() && replication.is_none() && shard_duration.is_none() && !default {
            return Err(self.unexpected("DURATION, REPLICATION, SHARD, DEFAULT"));
        }
        Ok(Statement::AlterRetentionPolicy {
            name,
            database,
            duration,
            replication,
            shard_duration,
            default,
        })
    }

    // ---- SELECT -----------------------------------------------------------------------
}
