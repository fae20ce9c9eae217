//! [`Users`]: the user catalog of a data directory, shared by every request. Reads take a
//! read lock; each change is made on a copy, stored ([`super::store`]) and only then
//! published, so a failed write to disk changes nothing and changes never interleave.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use super::cache::CredentialCache;
use super::catalog::Catalog;
use super::{authorize, password, store, AuthError, Principal};
use crate::error::{Error, Result};
use crate::query::influxql::{Privilege, Statement};

/// The users of a data directory (`DATA_DIR/.users`).
pub struct Users {
    root: PathBuf,
    catalog: RwLock<Catalog>,
    /// Serialises changes (copy, store, publish).
    changing: Mutex<()>,
    cache: CredentialCache,
}

impl Users {
    /// Load the users of data directory `root` (none if it has no catalog file). A damaged
    /// file is an error naming it.
    pub fn open(root: &Path) -> Result<Users> {
        Ok(Users {
            root: root.to_path_buf(),
            catalog: RwLock::new(store::load(root)?),
            changing: Mutex::new(()),
            cache: CredentialCache::default(),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Apply `f` to a copy of the catalog, store it, then publish it.
    fn change(&self, f: impl FnOnce(&mut Catalog) -> Result<(), AuthError>) -> Result<()> {
        let _one = self.changing.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = self.read().clone();
        f(&mut next)?;
        store::store(&self.root, &next)?;
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = next;
        Ok(())
    }

    /// Whether there is no user at all (authentication then lets only the first admin be
    /// created).
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// `CREATE USER`. As 1.x, creating a user that exists with the same password and admin
    /// flag is no error; with another password or flag it is `user already exists`.
    pub fn create_user(&self, name: &str, password: &str, admin: bool) -> Result<()> {
        if name.is_empty() {
            return Err(AuthError::UsernameRequired.into());
        }
        if let Some(u) = self.read().user(name).cloned() {
            return if u.admin == admin && password::verify(password, &u.hash) {
                Ok(())
            } else {
                Err(AuthError::UserExists.into())
            };
        }
        let hash = password::hash(password)?;
        self.change(|c| c.create(name, hash, admin))
    }

    /// `DROP USER`.
    pub fn drop_user(&self, name: &str) -> Result<()> {
        self.change(|c| c.drop_user(name))?;
        self.cache.forget(name);
        Ok(())
    }

    /// `SET PASSWORD FOR`.
    pub fn set_password(&self, name: &str, password: &str) -> Result<()> {
        if self.read().user(name).is_none() {
            return Err(AuthError::UserNotFound.into());
        }
        let hash = password::hash(password)?;
        self.change(|c| c.set_hash(name, hash))?;
        self.cache.forget(name);
        Ok(())
    }

    /// `GRANT ALL PRIVILEGES TO` (true) / `REVOKE ALL PRIVILEGES FROM` (false).
    pub fn set_admin(&self, name: &str, admin: bool) -> Result<()> {
        self.change(|c| c.set_admin(name, admin))
    }

    /// `GRANT privilege ON database TO name`; `database_exists` says whether the database
    /// exists (1.x checks the user first, then the database).
    pub fn grant(
        &self,
        name: &str,
        database: &str,
        privilege: Privilege,
        database_exists: bool,
    ) -> Result<()> {
        if self.read().user(name).is_none() {
            return Err(AuthError::UserNotFound.into());
        }
        exists(database, database_exists)?;
        self.change(|c| c.set_privilege(name, database, privilege))
    }

    /// `REVOKE privilege ON database FROM name` (see [`Catalog::revoke`]).
    pub fn revoke(
        &self,
        name: &str,
        database: &str,
        privilege: Privilege,
        database_exists: bool,
    ) -> Result<()> {
        if self.read().user(name).is_none() {
            return Err(AuthError::UserNotFound.into());
        }
        exists(database, database_exists)?;
        self.change(|c| c.revoke(name, database, privilege))
    }

    /// Forget every privilege on a dropped database.
    pub fn forget_database(&self, database: &str) -> Result<()> {
        if !self
            .read()
            .users
            .iter()
            .any(|u| u.privileges.contains_key(database))
        {
            return Ok(());
        }
        self.change(|c| {
            c.forget_database(database);
            Ok(())
        })
    }

    /// `SHOW USERS`: (name, admin), in creation order.
    pub fn list(&self) -> Vec<(String, bool)> {
        self.read()
            .users
            .iter()
            .map(|u| (u.name.clone(), u.admin))
            .collect()
    }

    /// `SHOW GRANTS FOR name`: (database, privilege), by database.
    pub fn grants(&self, name: &str) -> Result<Vec<(String, Privilege)>> {
        let c = self.read();
        let u = c.user(name).ok_or(AuthError::UserNotFound)?;
        Ok(u.privileges.iter().map(|(d, p)| (d.clone(), *p)).collect())
    }

    /// Check `password` for `name` against the credential cache only: true if it verified
    /// before against the user's current hash. Cheap; [`Users::authenticate`] does the rest.
    pub fn authenticate_cached(&self, name: &str, password: &str) -> bool {
        self.read()
            .user(name)
            .is_some_and(|u| self.cache.check(name, &u.hash, password))
    }

    /// Check `password` for `name`: `authorization failed` for an unknown user or a wrong
    /// password. A miss in the credential cache costs an argon2 verification (tens of
    /// milliseconds): call it off the async threads.
    pub fn authenticate(&self, name: &str, password: &str) -> Result<(), AuthError> {
        let stored = match self.read().user(name) {
            Some(u) => u.hash.clone(),
            None => return Err(AuthError::AuthorizationFailed),
        };
        if self.cache.check(name, &stored, password) {
            return Ok(());
        }
        if !password::verify(password, &stored) {
            return Err(AuthError::AuthorizationFailed);
        }
        self.cache.remember(name, &stored, password);
        Ok(())
    }

    /// Users whose credentials are cached now.
    pub fn cached_credentials(&self) -> usize {
        self.cache.len()
    }

    /// May `who` run `statements` with `database` as the request's database? 1.x's
    /// `QueryAuthorizer.AuthorizeQuery`: with no user at all only a query beginning with
    /// `CREATE USER ... WITH ALL PRIVILEGES` may run; an admin may run anything; anyone else
    /// needs each statement's privileges ([`authorize::required`]).
    pub fn authorize_query(
        &self,
        who: &Principal,
        statements: &[Statement],
        database: &str,
    ) -> Result<(), AuthError> {
        let c = self.read();
        if c.is_empty() {
            return match statements.first() {
                Some(Statement::CreateUser { admin: true, .. }) => Ok(()),
                _ => Err(AuthError::CreateAdminFirst),
            };
        }
        let Principal::User(name) = who else {
            return Err(AuthError::NoUserProvided);
        };
        let Some(user) = c.user(name) else {
            return Err(AuthError::AuthorizationFailed);
        };
        authorize::check(user, statements, database)
    }

    /// May `who` write to `database`? (1.x's write authorizer.)
    pub fn authorize_write(&self, who: &Principal, database: &str) -> Result<(), AuthError> {
        let c = self.read();
        let user = match who {
            Principal::User(name) => c.user(name),
            Principal::Bootstrap => None,
        };
        match (who, user) {
            (_, Some(u)) if u.may(Privilege::Write, database) => Ok(()),
            (Principal::User(name), _) => Err(AuthError::WriteNotAuthorized {
                user: name.clone(),
                database: database.to_string(),
            }),
            (Principal::Bootstrap, _) => Err(AuthError::WriteUserRequired {
                database: database.to_string(),
            }),
        }
    }

    /// May `who` run vq on `database` (`POST /vq`)? vq reads and writes: an admin, or a user
    /// with `ALL` privileges on it.
    pub fn may_read_and_write(&self, who: &Principal, database: &str) -> bool {
        match who {
            Principal::User(name) => self
                .read()
                .user(name)
                .is_some_and(|u| u.may(Privilege::All, database)),
            Principal::Bootstrap => false,
        }
    }

    /// Whether `who` is an admin (strata's own admin-only endpoints).
    pub fn is_admin(&self, who: &Principal) -> bool {
        match who {
            Principal::User(name) => self.read().user(name).is_some_and(|u| u.admin),
            Principal::Bootstrap => false,
        }
    }

    /// Whether `SHOW DATABASES` lists `database` to `who`: as 1.x, only databases the user
    /// may read or write (every one to an admin, or while there is no user).
    pub fn may_see_database(&self, who: &Principal, database: &str) -> bool {
        let c = self.read();
        if c.is_empty() {
            return true;
        }
        match who {
            Principal::User(name) => c.user(name).is_some_and(|u| {
                u.may(Privilege::Read, database) || u.may(Privilege::Write, database)
            }),
            Principal::Bootstrap => false,
        }
    }
}

fn exists(database: &str, exists: bool) -> Result<()> {
    if exists {
        Ok(())
    } else {
        Err(Error::DatabaseNotFound(database.to_string()))
    }
}
