//! The user catalog on disk: `DATA_DIR/.users` (a name no database can have: database names
//! never start with `.`). Replaced whole on every change, crash-safely: written to
//! `.users.tmp`, fsynced, renamed over `.users`, and the directory fsynced, so a crash leaves
//! either the old or the new catalog, never a mix.
//!
//! Layout (little-endian): magic `STRAUSER`, format version (u32, now 1), user count (u32),
//! then per user its name (u32 length + UTF-8), password hash (u32 length + PHC string), admin
//! flag (u8 0/1), privilege count (u32) and per privilege a database name (u32 length + UTF-8)
//! and the privilege (u8: 0 none, 1 read, 2 write, 3 all); last, a CRC-32 of everything
//! before it. Anything that does not decode stops the start with an error naming the file and
//! the byte: a damaged file never reads as fewer users.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::catalog::{Catalog, User};
use super::{password, AuthError};
use crate::error::{Error, IoContext, Result};
use crate::query::influxql::Privilege;
use crate::version::sync_dir;

/// The file's name in the data directory.
pub const FILE: &str = ".users";
const TMP: &str = ".users.tmp";
const MAGIC: &[u8; 8] = b"STRAUSER";
/// The format version this strata writes and reads.
pub const VERSION: u32 = 1;

/// Where the catalog of data directory `root` lives.
pub fn path(root: &Path) -> PathBuf {
    root.join(FILE)
}

/// The catalog's bytes.
pub fn encode(c: &Catalog) -> Vec<u8> {
    fn put_str(b: &mut Vec<u8>, s: &str) {
        b.extend_from_slice(&(s.len() as u32).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
    }
    let mut b = Vec::new();
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&VERSION.to_le_bytes());
    b.extend_from_slice(&(c.users.len() as u32).to_le_bytes());
    for u in &c.users {
        put_str(&mut b, &u.name);
        put_str(&mut b, &u.hash);
        b.push(u8::from(u.admin));
        b.extend_from_slice(&(u.privileges.len() as u32).to_le_bytes());
        for (db, p) in &u.privileges {
            put_str(&mut b, db);
            b.push(p.bits());
        }
    }
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
    path: &'a Path,
}

impl Reader<'_> {
    fn corrupt(&self, reason: impl Into<String>) -> AuthError {
        AuthError::CatalogCorrupt {
            path: self.path.to_path_buf(),
            offset: self.at,
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], AuthError> {
        match self.b.get(self.at..self.at.saturating_add(n)) {
            Some(s) if self.at.checked_add(n).is_some() => {
                self.at += n;
                Ok(s)
            }
            _ => Err(self.corrupt(format!("the file ends inside {what}"))),
        }
    }

    fn u8(&mut self, what: &str) -> Result<u8, AuthError> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, AuthError> {
        let s = self.take(4, what)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn string(&mut self, what: &str) -> Result<String, AuthError> {
        let start = self.at;
        let n = self.u32(what)? as usize;
        let s = self.take(n, what)?.to_vec();
        String::from_utf8(s).map_err(|_| {
            self.at = start;
            self.corrupt(format!("{what} is not UTF-8"))
        })
    }
}

/// Decode the catalog stored in `b` (read from `path`, which errors name).
pub fn decode(b: &[u8], path: &Path) -> Result<Catalog, AuthError> {
    let mut r = Reader { b, at: 0, path };
    if r.take(MAGIC.len(), "the magic")? != MAGIC {
        r.at = 0;
        return Err(r.corrupt("not a strata user catalog (bad magic)"));
    }
    let version = r.u32("the format version")?;
    if version != VERSION {
        return Err(AuthError::CatalogVersion {
            path: path.to_path_buf(),
            version,
            supported: VERSION,
        });
    }
    let Some(body_len) = b.len().checked_sub(4).filter(|n| *n >= r.at) else {
        return Err(r.corrupt("the file ends before its checksum"));
    };
    let (body, crc) = b.split_at(body_len);
    if crc32fast::hash(body) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        r.at = body_len;
        return Err(r.corrupt("checksum mismatch"));
    }
    let mut r = Reader {
        b: body,
        at: r.at,
        path,
    };
    let count = r.u32("the user count")?;
    let mut c = Catalog::default();
    for _ in 0..count {
        let at = r.at;
        let name = r.string("a user name")?;
        let hash = r.string("a password hash")?;
        if !password::is_valid_hash(&hash) {
            r.at = at;
            return Err(r.corrupt(format!(
                "the password hash of user {name:?} is not an argon2 hash"
            )));
        }
        let admin = match r.u8("an admin flag")? {
            0 => false,
            1 => true,
            x => return Err(r.corrupt(format!("admin flag {x} is neither 0 nor 1"))),
        };
        let n = r.u32("a privilege count")?;
        let mut user = User {
            name: name.clone(),
            hash,
            admin,
            privileges: Default::default(),
        };
        for _ in 0..n {
            let db = r.string("a database name")?;
            let p = r.u8("a privilege")?;
            if p > Privilege::All.bits() {
                return Err(r.corrupt(format!("privilege {p} is not 0-3")));
            }
            user.privileges.insert(db, Privilege::from_bits(p));
        }
        if name.is_empty() || c.user(&name).is_some() {
            r.at = at;
            return Err(r.corrupt(format!("user name {name:?} is empty or repeated")));
        }
        c.users.push(user);
    }
    if r.at != body.len() {
        return Err(r.corrupt("bytes after the last user"));
    }
    Ok(c)
}

/// Read the catalog of data directory `root` (empty if it has none).
pub fn load(root: &Path) -> Result<Catalog> {
    let path = path(root);
    let mut buf = Vec::new();
    match File::open(&path) {
        Ok(mut f) => f
            .read_to_end(&mut buf)
            .ctx(|| format!("read {}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Catalog::default()),
        Err(e) => return Err(Error::io(format!("open {}", path.display()), e)),
    };
    Ok(decode(&buf, &path)?)
}

/// Replace the catalog of data directory `root` with `c`, durably and atomically.
pub fn store(root: &Path, c: &Catalog) -> Result<()> {
    let tmp = root.join(TMP);
    let path = path(root);
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&tmp)
        .ctx(|| format!("create {}", tmp.display()))?;
    f.write_all(&encode(c))
        .and_then(|()| f.sync_all())
        .ctx(|| format!("write {}", tmp.display()))?;
    drop(f);
    fs::rename(&tmp, &path).ctx(|| format!("rename {} to {}", tmp.display(), path.display()))?;
    sync_dir(root)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> Catalog {
        let mut c = Catalog::default();
        c.create("root", password::hash("pw").unwrap(), true)
            .unwrap();
        c.create("bob", password::hash("pw2").unwrap(), false)
            .unwrap();
        c.set_privilege("bob", "db", Privilege::Read).unwrap();
        c.set_privilege("bob", "other", Privilege::None).unwrap();
        c
    }

    #[test]
    fn round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_empty(), "no file: no users");
        let c = sample();
        store(dir.path(), &c).unwrap();
        assert_eq!(load(dir.path()).unwrap(), c);
        assert!(!dir.path().join(TMP).exists());
    }

    /// Every flipped byte and every truncation is an error naming the file: never a catalog
    /// with fewer users.
    #[test]
    fn any_damage_is_an_error() {
        let c = sample();
        let good = encode(&c);
        let p = Path::new("/data/.users");
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0x41;
            let e = decode(&b, p).unwrap_err();
            assert!(e.to_string().contains("/data/.users"), "byte {i}: {e}");
        }
        for n in 0..good.len() {
            assert!(decode(&good[..n], p).is_err(), "truncated to {n}");
        }
        let mut newer = good.clone();
        newer[8] = 2;
        assert!(matches!(
            decode(&newer, p),
            Err(AuthError::CatalogVersion { version: 2, .. })
        ));
    }
}
