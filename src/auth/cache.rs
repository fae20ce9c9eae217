//! The bounded cache of verified credentials. An argon2 verification costs tens of
//! milliseconds by design, too much for every request, so once a (user, password) pair has
//! verified against a stored hash, the cache keeps a keyed BLAKE2b-256 MAC of the password
//! (the key is random, made at start, never stored) beside the stored hash it was verified
//! against. A later request with the same pair costs one MAC and a constant-time comparison.
//! No password is kept, and the MACs are worthless without the key of this process.
//!
//! An entry counts only while the user's stored hash is the one it was verified against, so
//! `SET PASSWORD` (a new hash) or `DROP USER` make it useless at once; they also remove it.
//! At most [`CAPACITY`] users are cached; a full cache drops an arbitrary entry for a new one
//! (that user pays one argon2 verification next time). Wrong passwords are never cached: each
//! costs a full verification, which also slows guessing.

use std::collections::HashMap;
use std::sync::Mutex;

use blake2::digest::consts::U32;
use blake2::digest::Mac;
use blake2::Blake2bMac;
use password_hash::rand_core::{OsRng, RngCore};

type Mac32 = Blake2bMac<U32>;

/// Most users whose credentials are cached at once.
pub const CAPACITY: usize = 1024;

struct Entry {
    /// The stored hash the password was verified against.
    hash: String,
    mac: [u8; 32],
}

/// Verified credentials, by user name.
pub struct CredentialCache {
    key: [u8; 64],
    entries: Mutex<HashMap<String, Entry>>,
    capacity: usize,
}

impl Default for CredentialCache {
    fn default() -> Self {
        CredentialCache::with_capacity(CAPACITY)
    }
}

impl CredentialCache {
    /// An empty cache holding at most `capacity` users, with a new random key.
    pub fn with_capacity(capacity: usize) -> CredentialCache {
        let mut key = [0u8; 64];
        OsRng.fill_bytes(&mut key);
        CredentialCache {
            key,
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn mac(&self, user: &str, password: &str) -> Mac32 {
        let mut m = Mac32::new((&self.key).into());
        m.update(&(user.len() as u64).to_le_bytes());
        m.update(user.as_bytes());
        m.update(password.as_bytes());
        m
    }

    /// Whether `password` was verified for `user` against the hash `stored` (the user's
    /// current one).
    pub fn check(&self, user: &str, stored: &str, password: &str) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let Some(e) = entries.get(user) else {
            return false;
        };
        e.hash == stored && self.mac(user, password).verify_slice(&e.mac).is_ok()
    }

    /// Remember that `password` verified for `user` against `stored`.
    pub fn remember(&self, user: &str, stored: &str, password: &str) {
        let mac: [u8; 32] = self.mac(user, password).finalize().into_bytes().into();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(user) {
            if let Some(victim) = entries.keys().next().cloned() {
                entries.remove(&victim);
            }
        }
        entries.insert(
            user.to_string(),
            Entry {
                hash: stored.to_string(),
                mac,
            },
        );
    }

    /// Forget `user` (its password changed, or it was dropped).
    pub fn forget(&self, user: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user);
    }

    /// Users cached now.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_only_for_the_same_password_and_stored_hash() {
        let c = CredentialCache::with_capacity(4);
        assert!(!c.check("bob", "h1", "pw"));
        c.remember("bob", "h1", "pw");
        assert!(c.check("bob", "h1", "pw"));
        assert!(!c.check("bob", "h1", "pw2"), "another password");
        assert!(!c.check("bob", "h2", "pw"), "the stored hash changed");
        assert!(!c.check("alice", "h1", "pw"), "another user");
        c.forget("bob");
        assert!(!c.check("bob", "h1", "pw"));
    }

    #[test]
    fn it_is_bounded() {
        let c = CredentialCache::with_capacity(3);
        for i in 0..10 {
            c.remember(&format!("u{i}"), "h", "pw");
            assert!(c.len() <= 3);
        }
        assert!(c.check("u9", "h", "pw"), "the newest entry is kept");
        // Re-remembering a cached user does not evict anyone.
        c.remember("u9", "h", "pw");
        assert_eq!(c.len(), 3);
    }
}
