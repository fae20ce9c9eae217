//! strata: a time-series database. An LSM engine (WAL → memtable → SSTables → time-window
//! compaction) whose moving parts are actors on bounded channels. See `README.md` for the
//! picture and `DESIGN.md` in the shared folder for the design.
//!
//! The embedded entry point is [`Db`]; the daemon is [`server::serve`].

pub mod auth;
pub mod bench_data;
pub mod cardinality;
pub mod check;
pub mod compaction;
pub mod config;
pub mod database;
pub mod db;
pub mod delete;
pub mod error;
pub mod failpoint;
pub mod file_io;
pub mod ingest;
pub mod inspect;
pub mod lineproto;
pub mod manifest;
pub mod memtable;
pub mod quarantine;
pub mod query;
pub mod repair;
pub mod retention;
pub mod retry;
pub mod series;
pub mod server;
pub mod sstable;
pub mod types;
pub mod version;
pub mod vq;
pub mod wal;

pub use config::Config;
pub use db::{Db, QueryPaths, WriteSummary};
pub use error::{Error, Result};
pub use sstable::BlockCacheStats;
