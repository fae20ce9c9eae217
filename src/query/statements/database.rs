//! The statements that create, drop and change databases and their retention policy.

use crate::db::Databases as Db;
use crate::error::{Error, Result};
use crate::query::influxql::ast::RetentionPolicySpec;
use crate::query::SeriesResult;
use crate::retention::RetentionChange;

/// `CREATE DATABASE name [WITH …]`.
pub(super) fn create(
    db: &Db,
    name: &str,
    retention: &Option<RetentionPolicySpec>,
) -> Result<Vec<SeriesResult>> {
    let change = retention
        .as_ref()
        .map(|r| RetentionChange {
            duration: r.duration,
            shard_group_duration: r.shard_duration,
            replica_n: r.replication,
            name: r.name.clone(),
        })
        .unwrap_or_default();
    db.create_database_with(name, &change)?;
    Ok(Vec::new())
}

/// `DROP DATABASE name`.
pub(super) fn drop(db: &Db, name: &str) -> Result<Vec<SeriesResult>> {
    db.drop_database(name)?;
    Ok(Vec::new())
}

/// `ALTER RETENTION POLICY name ON database …` (each strata database has exactly one policy).
pub(super) fn alter_retention_policy(
    db: &Db,
    name: &str,
    database: &str,
    duration: &Option<i64>,
    replication: &Option<u32>,
    shard_duration: &Option<i64>,
) -> Result<Vec<SeriesResult>> {
    let d = db.database(database)?;
    if d.retention().name != *name {
        return Err(Error::RetentionPolicyNotFound(name.to_string()));
    }
    d.alter_retention(&RetentionChange {
        duration: *duration,
        shard_group_duration: *shard_duration,
        replica_n: *replication,
        name: None,
    })?;
    Ok(Vec::new())
}
