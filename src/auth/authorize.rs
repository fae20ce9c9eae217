//! Which privilege each statement needs, as InfluxDB 1.x's `RequiredPrivileges`, and the check
//! of a non-admin user against them (1.x's `QueryAuthorizer`).
//!
//! | statement | needs |
//! |---|---|
//! | `SELECT`, `EXPLAIN [ANALYZE] SELECT` | `READ` on each source's database (subqueries included) |
//! | `SHOW MEASUREMENTS / SERIES / TAG KEYS / TAG VALUES / FIELD KEYS / RETENTION POLICIES` | `READ` on the database |
//! | `SHOW QUERIES` | `READ` on the request's database |
//! | `SHOW DATABASES` | nothing (it lists only the databases the user may read or write) |
//! | `DELETE`, `DROP SERIES` | `WRITE` on the database |
//! | `CREATE/DROP DATABASE`, `DROP MEASUREMENT`, `CREATE/ALTER/DROP RETENTION POLICY`, `KILL QUERY`, every user statement | admin |
//!
//! "The database" is the one the statement names (`ON db`, `FROM db..m`), else the request's
//! (`db=`). For `DELETE` and `DROP SERIES` 1.x checks the request's database even when the
//! statement names another; strata checks the database the statement acts on.

use super::catalog::User;
use super::AuthError;
use crate::query::influxql::{Privilege, SelectStatement, Source, Statement};

/// One requirement of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    Admin,
    /// `privilege` on the named database (`None`: the request's).
    On {
        database: Option<String>,
        privilege: Privilege,
    },
}

fn on(database: &Option<String>, privilege: Privilege) -> Need {
    Need::On {
        database: database.clone(),
        privilege,
    }
}

fn select_needs(s: &SelectStatement, out: &mut Vec<Need>) {
    for src in &s.sources {
        match src {
            Source::Measurement(m) => out.push(on(&m.database, Privilege::Read)),
            Source::Subquery(q) => select_needs(q, out),
        }
    }
}

/// The database a source list names, if any (what execution uses, too).
fn named_database(sources: &[Source]) -> Option<String> {
    sources.iter().find_map(|s| match s {
        Source::Measurement(m) => m.database.clone(),
        Source::Subquery(_) => None,
    })
}

/// What `st` needs (empty: anyone may run it).
pub fn required(st: &Statement) -> Vec<Need> {
    let mut out = Vec::new();
    match st {
        Statement::Select(s) => select_needs(s, &mut out),
        Statement::Explain { statement, .. } => select_needs(statement, &mut out),
        Statement::ShowDatabases => {}
        Statement::ShowMeasurements(s) => out.push(on(&s.database, Privilege::Read)),
        Statement::ShowTagKeys(s) | Statement::ShowFieldKeys(s) | Statement::ShowSeries(s) => {
            out.push(on(&s.database, Privilege::Read))
        }
        Statement::ShowTagValues(s) => out.push(on(&s.database, Privilege::Read)),
        Statement::ShowCardinality(s) => out.push(on(&s.database, Privilege::Read)),
        Statement::ShowRetentionPolicies { database } => out.push(on(database, Privilege::Read)),
        Statement::ShowQueries => out.push(on(&None, Privilege::Read)),
        Statement::Delete { source, .. } => {
            let db = source
                .as_ref()
                .and_then(|s| named_database(std::slice::from_ref(s)));
            out.push(on(&db, Privilege::Write))
        }
        Statement::DropSeries { sources, .. } => {
            out.push(on(&named_database(sources), Privilege::Write))
        }
        Statement::KillQuery { .. }
        | Statement::CreateDatabase { .. }
        | Statement::DropDatabase { .. }
        | Statement::DropMeasurement { .. }
        | Statement::CreateRetentionPolicy { .. }
        | Statement::AlterRetentionPolicy { .. }
        | Statement::DropRetentionPolicy { .. }
        | Statement::CreateUser { .. }
        | Statement::DropUser { .. }
        | Statement::SetPassword { .. }
        | Statement::Grant { .. }
        | Statement::GrantAdmin { .. }
        | Statement::Revoke { .. }
        | Statement::RevokeAdmin { .. }
        | Statement::ShowUsers
        | Statement::ShowGrants { .. } => out.push(Need::Admin),
    }
    out
}

/// May `user` run every statement of `statements` (request database `database`)? The first
/// statement it may not run is the error, in 1.x's words.
pub fn check(user: &User, statements: &[Statement], database: &str) -> Result<(), AuthError> {
    if user.admin {
        return Ok(());
    }
    for st in statements {
        for need in required(st) {
            match need {
                Need::Admin => {
                    return Err(AuthError::RequiresAdmin {
                        user: user.name.clone(),
                        statement: st.to_string(),
                    })
                }
                Need::On {
                    database: named,
                    privilege,
                } => {
                    let db = named
                        .as_deref()
                        .filter(|d| !d.is_empty())
                        .unwrap_or(database);
                    if !user.may(privilege, db) {
                        return Err(AuthError::RequiresPrivilege {
                            user: user.name.clone(),
                            statement: st.to_string(),
                            privilege,
                            database: db.to_string(),
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::query::influxql::parse;

    fn user(privs: &[(&str, Privilege)]) -> User {
        User {
            name: "bob".into(),
            hash: String::new(),
            admin: false,
            privileges: privs.iter().map(|(d, p)| (d.to_string(), *p)).collect(),
        }
    }

    fn run(u: &User, q: &str, db: &str) -> Result<(), String> {
        check(u, &parse(q).unwrap(), db).map_err(|e| e.to_string())
    }

    #[test]
    fn readers_read_writers_delete_admins_administer() {
        let reader = user(&[("db", Privilege::Read)]);
        assert_eq!(run(&reader, "SELECT * FROM cpu", "db"), Ok(()));
        assert_eq!(
            run(&reader, "SHOW MEASUREMENTS; SHOW TAG KEYS", "db"),
            Ok(())
        );
        assert_eq!(run(&reader, "SHOW DATABASES", ""), Ok(()));
        assert_eq!(
            run(&reader, "SELECT * FROM other..cpu", "db"),
            Err("error authorizing query: bob not authorized to execute statement 'SELECT * FROM other..cpu', requires READ on other".into())
        );
        assert_eq!(
            run(&reader, "SELECT * FROM (SELECT * FROM x..cpu)", "db").unwrap_err(),
            "error authorizing query: bob not authorized to execute statement 'SELECT * FROM (SELECT * FROM x..cpu)', requires READ on x"
        );
        assert_eq!(
            run(&reader, "DELETE FROM cpu", "db"),
            Err("error authorizing query: bob not authorized to execute statement 'DELETE FROM cpu', requires WRITE on db".into())
        );
        assert_eq!(
            run(&reader, "DROP DATABASE db", "db"),
            Err("error authorizing query: bob not authorized to execute statement 'DROP DATABASE db', requires admin privilege".into())
        );
        assert_eq!(
            run(&reader, "CREATE USER x WITH PASSWORD 'secret'", "db"),
            Err("error authorizing query: bob not authorized to execute statement 'CREATE USER x WITH PASSWORD [REDACTED]', requires admin privilege".into())
        );
        let writer = user(&[("db", Privilege::Write)]);
        assert_eq!(
            run(&writer, "DELETE FROM cpu; DROP SERIES FROM cpu", "db"),
            Ok(())
        );
        assert!(run(&writer, "SELECT * FROM cpu", "db").is_err());
        assert!(run(&writer, "DROP SERIES FROM other..cpu", "db").is_err());
        let all = user(&[("db", Privilege::All)]);
        assert_eq!(
            run(&all, "SELECT * FROM cpu; DELETE FROM cpu", "db"),
            Ok(())
        );
        assert!(run(&all, "KILL QUERY 1", "db").is_err());
        let mut admin = user(&[]);
        admin.admin = true;
        assert_eq!(run(&admin, "DROP DATABASE db; SHOW USERS", ""), Ok(()));
    }
}
