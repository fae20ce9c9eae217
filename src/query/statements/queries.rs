//! SHOW QUERIES and KILL QUERY: the query registry.

use crate::db::Databases as Db;
use crate::error::Result;
use crate::query::SeriesResult;

/// `SHOW QUERIES`.
pub(super) fn show(db: &Db) -> Result<Vec<SeriesResult>> {
    Ok(vec![db.queries().show()])
}

/// `KILL QUERY id`.
pub(super) fn kill(db: &Db, id: u64) -> Result<Vec<SeriesResult>> {
    db.queries().kill(id)?;
    Ok(Vec::new())
}
