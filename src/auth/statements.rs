//! Running the user statements (`CREATE USER`, `DROP USER`, `SET PASSWORD`, `GRANT`, `REVOKE`,
//! `SHOW USERS`, `SHOW GRANTS`) with InfluxDB 1.x's answers: empty results for changes, one
//! series of columns `user, admin` / `database, privilege` for the two SHOWs (always present,
//! even without rows, as 1.x).

use crate::db::Databases;
use crate::error::Result;
use crate::query::influxql::Statement;
use crate::query::{SeriesResult, Value};

/// Run `st` if it is a user statement (`None`: it is not one).
pub fn execute(dbs: &Databases, st: &Statement) -> Option<Result<Vec<SeriesResult>>> {
    let users = dbs.users();
    let done = |r: Result<()>| Some(r.map(|()| Vec::new()));
    match st {
        Statement::CreateUser {
            name,
            password,
            admin,
        } => done(users.create_user(name, password.expose(), *admin)),
        Statement::DropUser { name } => done(users.drop_user(name)),
        Statement::SetPassword { name, password } => {
            done(users.set_password(name, password.expose()))
        }
        Statement::Grant {
            privilege,
            database,
            user,
        } => done(users.grant(user, database, *privilege, dbs.database(database).is_ok())),
        Statement::Revoke {
            privilege,
            database,
            user,
        } => done(users.revoke(user, database, *privilege, dbs.database(database).is_ok())),
        Statement::GrantAdmin { user } => done(users.set_admin(user, true)),
        Statement::RevokeAdmin { user } => done(users.set_admin(user, false)),
        Statement::ShowUsers => Some(Ok(vec![table(
            &["user", "admin"],
            users
                .list()
                .into_iter()
                .map(|(name, admin)| vec![Value::string(name), Value::Boolean(admin)])
                .collect(),
        )])),
        Statement::ShowGrants { user } => Some(users.grants(user).map(|grants| {
            vec![table(
                &["database", "privilege"],
                grants
                    .into_iter()
                    .map(|(db, p)| vec![Value::string(db), Value::string(p.to_string())])
                    .collect(),
            )]
        })),
        _ => None,
    }
}

fn table(columns: &[&str], values: Vec<Vec<Value>>) -> SeriesResult {
    SeriesResult {
        name: String::new(),
        tags: None,
        columns: columns.iter().map(|c| c.to_string()).collect(),
        values,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::auth::{AuthError, Principal};
    use crate::query::QueryOptions;
    use crate::{Config, Db, Error};

    /// The user catalog through the embedded entry point: `Db::query` runs every statement
    /// without credentials, a `Principal` in the options is authorized, and the users persist.
    #[test]
    fn users_through_db_query() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Config::new()).unwrap();
        db.create_database("d").unwrap();
        let r = db
            .query(
                "",
                "CREATE USER bob WITH PASSWORD 'pw'; GRANT READ ON d TO bob; SHOW USERS; \
                 SHOW GRANTS FOR bob; DROP USER nobody",
            )
            .unwrap()
            .to_json();
        assert_eq!(
            r,
            r#"{"results":[{"statement_id":0},{"statement_id":1},{"statement_id":2,"series":[{"columns":["user","admin"],"values":[["bob",false]]}]},{"statement_id":3,"series":[{"columns":["database","privilege"],"values":[["d","READ"]]}]},{"statement_id":4,"error":"user not found"}]}"#
        );
        let bob = QueryOptions::new("d").as_principal(Principal::User("bob".into()));
        assert!(db.query_with("SHOW MEASUREMENTS", &bob).is_ok());
        match db.query_with("DROP DATABASE d", &bob) {
            Err(Error::Auth(AuthError::RequiresAdmin { user, statement })) => {
                assert_eq!(
                    (user.as_str(), statement.as_str()),
                    ("bob", "DROP DATABASE d")
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(db.users().authenticate("bob", "pw").is_ok());
        assert!(db.users().authenticate("bob", "nope").is_err());
        drop(db);
        let db = Db::open(dir.path(), Config::new()).unwrap();
        assert_eq!(db.users().list(), vec![("bob".to_string(), false)]);
        // Dropping a database forgets the privileges on it.
        db.drop_database("d").unwrap();
        assert!(db.users().grants("bob").unwrap().is_empty());
    }
}
