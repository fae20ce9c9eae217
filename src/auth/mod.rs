//! Authentication and authorization as InfluxDB 1.x has them: users with argon2-hashed
//! passwords, an admin flag and per-database privileges (`READ`, `WRITE`, `ALL`), managed by
//! InfluxQL statements and checked per statement.
//!
//! - [`catalog`]: the users and what each may do, with 1.x's rules for every change;
//! - [`password`]: argon2id hashing with a random salt per user;
//! - [`cache`]: the bounded cache of verified credentials that keeps a request from paying for
//!   an argon2 verification each time;
//! - [`store`]: the crash-safe file `DATA_DIR/.users`;
//! - [`users`]: [`Users`], the catalog a [`crate::Db`] holds (statements through `Db::query`
//!   and `strata serve` reach it);
//! - [`authorize`]: which privilege each statement needs (1.x's `RequiredPrivileges`);
//! - [`statements`]: running `CREATE USER`, `GRANT`, `SHOW USERS`, ...;
//! - [`http`]: the daemon's front door: credentials (Basic, `u`/`p`, `Token`), 401 and 403;
//! - [`tcp`]: a TCP listener beyond loopback only with authentication.
//!
//! Authentication is a front-door concern: an embedded [`crate::Db`] runs every statement
//! unless the caller names a [`Principal`] in [`crate::query::QueryOptions`].

pub mod authorize;
pub mod cache;
pub mod catalog;
pub mod http;
pub mod password;
pub mod statements;
pub mod store;
pub mod tcp;
pub mod users;

use std::path::PathBuf;

pub use catalog::{Catalog, User};
pub use users::Users;

/// Who a request runs as, once the front door has let it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// Authentication is on but there is no user yet: only the first admin may be created
    /// (1.x's bootstrap rule).
    Bootstrap,
    /// An authenticated user, by name (privileges are looked up at each check, so a `REVOKE`
    /// applies to the next statement).
    User(String),
}

/// What can go wrong with users, credentials and privileges. The texts are InfluxDB 1.x's
/// (clients match on some of them).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// `CREATE USER` of a name that exists with another password or admin flag.
    #[error("user already exists")]
    UserExists,
    /// A statement named a user that does not exist.
    #[error("user not found")]
    UserNotFound,
    /// An empty user name (`CREATE USER ""`, Basic credentials without a name).
    #[error("username required")]
    UsernameRequired,
    /// Unknown user or wrong password (401).
    #[error("authorization failed")]
    AuthorizationFailed,
    /// Users exist but the request carries no credentials (401).
    #[error("unable to parse authentication credentials")]
    NoCredentials,
    /// A `Bearer` token: strata has no JWT shared secret (1.x's text when none is set; 401).
    #[error("bearer auth disabled")]
    BearerDisabled,
    /// No user exists yet and the query does not begin by creating an admin (403).
    #[error("error authorizing query: create admin user first or disable authentication")]
    CreateAdminFirst,
    /// A query without a user where one is needed (403).
    #[error("error authorizing query: no user provided")]
    NoUserProvided,
    /// A non-admin ran an admin statement (403).
    #[error("error authorizing query: {user} not authorized to execute statement '{statement}', requires admin privilege")]
    RequiresAdmin { user: String, statement: String },
    /// A user without the privilege a statement needs on a database (403).
    #[error("error authorizing query: {user} not authorized to execute statement '{statement}', requires {privilege} on {database}")]
    RequiresPrivilege {
        user: String,
        statement: String,
        privilege: crate::query::influxql::Privilege,
        database: String,
    },
    /// A write without a user while no user exists yet (403).
    #[error("user is required to write to database {database:?}")]
    WriteUserRequired { database: String },
    /// A write by a user without `WRITE` (or `ALL`) on the database (403).
    #[error("{user:?} user is not authorized to write to database {database:?}")]
    WriteNotAuthorized { user: String, database: String },
    /// strata's own `/internal/compact` needs an admin (403).
    #[error("{user:?} user is not authorized to compact database {database:?}: requires admin privilege")]
    CompactNotAuthorized { user: String, database: String },
    /// argon2 refused to hash a password.
    #[error("password hashing failed: {0}")]
    Hash(password_hash::Error),
    /// The user file is damaged: strata stops rather than start with fewer users.
    #[error("user catalog {path} is damaged at byte {offset}: {reason}; strata stopped without changing it. Restore it from a backup, or move it away to start with no users (with --auth-enabled, then create the admin again)")]
    CatalogCorrupt {
        path: PathBuf,
        offset: usize,
        reason: String,
    },
    /// The user file was written by a newer strata.
    #[error(
        "user catalog {path} has format version {version}; this strata reads version {supported}"
    )]
    CatalogVersion {
        path: PathBuf,
        version: u32,
        supported: u32,
    },
}

impl AuthError {
    /// The HTTP status 1.x answers this error with: 401 for credentials, 403 for privileges.
    pub fn http_status(&self) -> u16 {
        match self {
            AuthError::AuthorizationFailed
            | AuthError::NoCredentials
            | AuthError::BearerDisabled
            | AuthError::UsernameRequired => 401,
            AuthError::CreateAdminFirst
            | AuthError::NoUserProvided
            | AuthError::RequiresAdmin { .. }
            | AuthError::RequiresPrivilege { .. }
            | AuthError::WriteUserRequired { .. }
            | AuthError::WriteNotAuthorized { .. }
            | AuthError::CompactNotAuthorized { .. } => 403,
            AuthError::UserExists | AuthError::UserNotFound => 400,
            AuthError::Hash(_)
            | AuthError::CatalogCorrupt { .. }
            | AuthError::CatalogVersion { .. } => 500,
        }
    }
}
