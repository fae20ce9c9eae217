//! SSTable reading: the input written as a table file, then `Table::open`, `Table::verify` and
//! every block read (the table's iterator, `read_range` and `read_timestamps`).
//!
//! Input: a mode byte, then the file. Mode bit 0 ("fix"): the harness makes the footer
//! consistent (magic, section crcs, footer crc) before writing the file and, once the table
//! opens, every block's crc, so mutations reach the index, filter, stats and block decoders
//! behind the checksums.
//!
//! Asserts no panic, and for a table that opens: its stats match the file and what `verify`
//! counts; a lookup by (series, field) finds the blocks the iterator walks; fixing block crcs
//! (data bytes only) never stops the table opening; a block that reads is what its index entry
//! says (count, first and last timestamp, ascending timestamps, the field's type); a block that
//! fails to read is one `verify` reports; and when `verify` is clean every read succeeds, the
//! points add up to the stats and `read_timestamps` agrees with the decoded block.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::sstable::Table;
use strata_fuzz::{fix_block_crcs, fix_sstable_sections, scratch_dir};

fn blocks_of(t: &Table) -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    for (sid, _) in t.series() {
        for (field, _) in t.fields(sid) {
            out.extend(t.blocks(sid, field).iter().map(|b| (b.offset, b.len)));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let path = scratch_dir().join("fuzz.sst");
    let mut file = body.to_vec();
    let fix = mode & 1 != 0;
    if fix {
        fix_sstable_sections(&mut file);
    }
    std::fs::write(&path, &file).expect("write the table file");
    let Ok(mut table) = Table::open(&path) else {
        return;
    };
    if fix {
        fix_block_crcs(&mut file, &blocks_of(&table));
        drop(table);
        std::fs::write(&path, &file).expect("write the table file");
        table = Table::open(&path).expect("a table opened; fixing block crcs must not stop it");
    }

    let stats = table.stats().clone();
    assert_eq!(stats.file_bytes, file.len() as u64);
    let report = table.verify();
    assert_eq!(report.blocks, stats.blocks);
    let clean = report.is_clean();
    if clean {
        assert_eq!(report.points, stats.points);
    }

    // The blocks as the lookups find them, in the order the iterator walks the index.
    let mut metas = Vec::new();
    for (sid, key) in table.series() {
        assert!(table.may_contain(sid));
        assert_eq!(table.series_key(sid), Some(key));
        for (field, ftype) in table.fields(sid) {
            for b in table.blocks(sid, field) {
                metas.push((sid, key, field, ftype, b));
            }
        }
    }
    let mut items = 0usize;
    let mut points = 0u64;
    let (mut buf, mut ts) = (Vec::new(), Vec::new());
    for (item, (sid, key, field, ftype, b)) in table.iter().zip(&metas) {
        items += 1;
        match item {
            Ok((isid, ikey, ifield, col)) => {
                assert_eq!((isid, ikey, ifield), (*sid, *key, *field));
                assert_eq!(col.values.field_type(), *ftype);
                assert_eq!(col.len(), b.count as usize);
                assert_eq!(col.values.len(), col.timestamps.len());
                assert!(col.timestamps.windows(2).all(|w| w[0] < w[1]));
                assert_eq!(col.timestamps.first(), Some(&b.min_ts));
                assert_eq!(col.timestamps.last(), Some(&b.max_ts));
                points += col.len() as u64;
                if clean {
                    table
                        .read_timestamps(b, None, &mut buf, &mut ts)
                        .expect("a block that verified reads its timestamps");
                    assert_eq!(ts, col.timestamps);
                }
            }
            Err(e) => {
                assert!(
                    !clean,
                    "verify found no damage, yet a block fails to read: {e}"
                );
                assert!(
                    report.damage.iter().any(|d| d.offset == b.offset),
                    "a block at {} fails to read ({e}) but verify does not report it",
                    b.offset
                );
            }
        }
    }
    assert_eq!(items as u64, stats.blocks);
    assert_eq!(metas.len() as u64, stats.blocks);
    if clean {
        assert_eq!(points, stats.points);
        for (sid, _) in table.series() {
            for (field, _) in table.fields(sid) {
                let n: u64 = table
                    .blocks(sid, field)
                    .iter()
                    .map(|b| u64::from(b.count))
                    .sum();
                let got = table
                    .read_range(sid, field, i64::MIN, i64::MAX)
                    .expect("a clean table reads every range");
                assert_eq!(got.map_or(0, |c| c.len() as u64), n);
            }
        }
    }
});
