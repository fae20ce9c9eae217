//! Write-ahead log: segment files of crc-framed records, replay, trimming.
