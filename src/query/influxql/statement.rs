//! InfluxQL statements other than SELECT's own parts: the statement list ([`Statement`]), the
//! SHOW statements' shapes, retention policy options, privileges and passwords, each printed
//! back as InfluxQL (part of [`super::ast`], which re-exports it).

use std::fmt::{self, Write as _};

use super::ast::*;

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
