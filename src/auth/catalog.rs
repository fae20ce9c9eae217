//! The users and what each may do, with InfluxDB 1.x's rules for every change
//! (`services/meta/data.go`). Pure data: hashing, persistence and locking live elsewhere.

use std::collections::BTreeMap;

use super::AuthError;
use crate::query::influxql::Privilege;

/// One user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// The argon2 hash of the password, as a PHC string (`$argon2id$v=19$m=...`).
    pub hash: String,
    pub admin: bool,
    /// Privilege per database (a `REVOKE` can leave `NO PRIVILEGES` behind, as in 1.x).
    pub privileges: BTreeMap<String, Privilege>,
}

impl User {
    /// Whether the user may do what `needed` allows on `database` (1.x's `AuthorizeDatabase`).
    pub fn may(&self, needed: Privilege, database: &str) -> bool {
        self.admin
            || needed == Privilege::None
            || self
                .privileges
                .get(database)
                .is_some_and(|p| p.allows(needed))
    }
}

/// Every user, in creation order (the order `SHOW USERS` lists them, as 1.x).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    pub users: Vec<User>,
}

impl Catalog {
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    fn user_mut(&mut self, name: &str) -> Result<&mut User, AuthError> {
        self.users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or(AuthError::UserNotFound)
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Add a user (the caller has checked it does not exist).
    pub fn create(&mut self, name: &str, hash: String, admin: bool) -> Result<(), AuthError> {
        if name.is_empty() {
            return Err(AuthError::UsernameRequired);
        }
        if self.user(name).is_some() {
            return Err(AuthError::UserExists);
        }
        self.users.push(User {
            name: name.to_string(),
            hash,
            admin,
            privileges: BTreeMap::new(),
        });
        Ok(())
    }

    pub fn drop_user(&mut self, name: &str) -> Result<(), AuthError> {
        let before = self.users.len();
        self.users.retain(|u| u.name != name);
        if self.users.len() == before {
            return Err(AuthError::UserNotFound);
        }
        Ok(())
    }

    pub fn set_hash(&mut self, name: &str, hash: String) -> Result<(), AuthError> {
        self.user_mut(name)?.hash = hash;
        Ok(())
    }

    pub fn set_admin(&mut self, name: &str, admin: bool) -> Result<(), AuthError> {
        self.user_mut(name)?.admin = admin;
        Ok(())
    }

    /// Set `name`'s privilege on `database` (replacing what it had, as 1.x's `GRANT`).
    pub fn set_privilege(
        &mut self,
        name: &str,
        database: &str,
        privilege: Privilege,
    ) -> Result<(), AuthError> {
        self.user_mut(name)?
            .privileges
            .insert(database.to_string(), privilege);
        Ok(())
    }

    /// `REVOKE privilege ON database FROM name`: `ALL` leaves `NO PRIVILEGES`; otherwise its
    /// bits are cleared from what the user has (`ALL` minus `READ` is `WRITE`), as 1.x.
    pub fn revoke(
        &mut self,
        name: &str,
        database: &str,
        privilege: Privilege,
    ) -> Result<(), AuthError> {
        let user = self.user_mut(name)?;
        let left = match privilege {
            Privilege::All => Privilege::None,
            p => user
                .privileges
                .get(database)
                .copied()
                .unwrap_or(Privilege::None)
                .without(p),
        };
        user.privileges.insert(database.to_string(), left);
        Ok(())
    }

    /// A dropped database takes every user's privileges on it along (1.x's `DropDatabase`).
    /// Whether anything changed.
    pub fn forget_database(&mut self, database: &str) -> bool {
        let mut changed = false;
        for u in &mut self.users {
            changed |= u.privileges.remove(database).is_some();
        }
        changed
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        c.create("root", "h0".into(), true).unwrap();
        c.create("bob", "h1".into(), false).unwrap();
        c
    }

    #[test]
    fn create_and_drop_follow_1x() {
        let mut c = catalog();
        assert!(matches!(
            c.create("bob", "h".into(), false),
            Err(AuthError::UserExists)
        ));
        assert!(matches!(
            c.create("", "h".into(), false),
            Err(AuthError::UsernameRequired)
        ));
        assert!(matches!(
            c.drop_user("nobody"),
            Err(AuthError::UserNotFound)
        ));
        c.drop_user("root").unwrap();
        assert_eq!(c.users.len(), 1);
        assert_eq!(c.users[0].name, "bob");
    }

    #[test]
    fn grant_replaces_and_revoke_clears_bits() {
        let mut c = catalog();
        c.set_privilege("bob", "db", Privilege::All).unwrap();
        let bob = c.user("bob").unwrap();
        assert!(bob.may(Privilege::Read, "db") && bob.may(Privilege::Write, "db"));
        assert!(!bob.may(Privilege::Read, "other"));
        c.revoke("bob", "db", Privilege::Read).unwrap();
        assert_eq!(c.user("bob").unwrap().privileges["db"], Privilege::Write);
        c.set_privilege("bob", "db", Privilege::Read).unwrap();
        assert_eq!(c.user("bob").unwrap().privileges["db"], Privilege::Read);
        assert!(!c.user("bob").unwrap().may(Privilege::Write, "db"));
        c.revoke("bob", "db", Privilege::All).unwrap();
        assert_eq!(c.user("bob").unwrap().privileges["db"], Privilege::None);
        // Revoking what was never granted leaves NO PRIVILEGES, as 1.x.
        c.revoke("bob", "x", Privilege::Write).unwrap();
        assert_eq!(c.user("bob").unwrap().privileges["x"], Privilege::None);
        assert!(matches!(
            c.revoke("nobody", "db", Privilege::Read),
            Err(AuthError::UserNotFound)
        ));
    }

    #[test]
    fn admins_may_everything_and_dropped_databases_are_forgotten() {
        let mut c = catalog();
        assert!(c.user("root").unwrap().may(Privilege::Write, "anything"));
        c.set_privilege("bob", "db", Privilege::Write).unwrap();
        assert!(c.forget_database("db"));
        assert!(!c.forget_database("db"));
        assert!(c.user("bob").unwrap().privileges.is_empty());
    }
}
