//! strata: a time-series database. An LSM engine (WAL → memtable → SSTables → time-window
//! compaction) whose moving parts are actors on bounded channels. See `DESIGN.md` in the shared
//! folder and `README.md` for the picture.

pub mod error;
pub mod lineproto;
pub mod query;
pub mod sstable;
pub mod types;
pub mod wal;

pub use error::{Error, Result};
