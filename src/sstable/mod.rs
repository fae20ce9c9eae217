//! SSTable format: blocks per (series, field), block index, footer.

pub mod codec;
