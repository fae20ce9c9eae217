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
