//! Write-ahead log: segment files of crc-framed records, replay, trimming.
//!
//! A WAL directory holds segment files `NNNNNNNN.wal` (zero-padded segment number, from
//! `00000001`). A segment is a sequence of records:
//!
//! ```text
//! [len u32 LE][crc32 u32 LE of payload][payload: seqno u64 LE + encoded WriteBatch]
//! ```
//!
//! (see [`codec`] for the batch encoding). Only the newest segment (the *active* one) is ever
//! appended to, and only by the [`Wal`] that created it: opening a WAL replays what is on disk and
//! starts a fresh segment. [`Wal::append`] only encodes into memory; [`Wal::sync`] writes
//! everything buffered with one `write` and `fdatasync`s it, so a group of appends shares one
//! sync. When the active segment has reached `segment_bytes` after a sync, it is closed and the
//! next one is created. A [`WalTrimmer`] deletes closed segments once everything in them has
//! been flushed to SSTables.
//!
//! # Replay and bad records
//!
//! A record is *bad* when its header or payload runs past the end of the segment, its crc does
//! not match, or its payload does not decode. On open, [`Wal::open`] reads every segment before
//! changing anything, then:
//!
//! - A bad record in the **newest** segment with no valid record after it (found by a forward
//!   resync scan that tries every later offset) is the *torn tail* of the write that was in
//!   flight at a crash: it was never acknowledged, so the segment is truncated there.
//! - Any other bad record (in an older segment, or in the newest one with a valid record after
//!   it) may hide acknowledged writes. By default ([`OnCorrupt::Fail`]) the open stops with
//!   [`Error::WalCorrupt`] naming the segment and byte offset, and no file is truncated,
//!   deleted or created. With [`OnCorrupt::Skip`] (the `wal_skip_corrupt` option) replay skips
//!   just the bad bytes (the record's own length when it is intact and a valid record follows
//!   it, otherwise up to the next valid record found by the resync scan), keeps every later
//!   record and segment, and reports each skip in [`Replay::skipped`].
//!
//! New records always go to a fresh segment, so they never follow garbage.
//!
//! # When segments are deleted
//!
//! A segment file is deleted only once every record in it is in an installed SSTable, in two
//! places: by [`WalTrimmer::trim`] after a flush, and by [`Wal::open`] for segments whose
//! records all have seqno <= the flushed seqno it is given (or that hold no record at all).
//! Nothing else deletes a segment; a bad record never causes a deletion, and the only file
//! replay changes is the newest segment, truncated at a torn tail. The one exception to "every
//! record" is a segment in which replay skipped bad bytes under [`OnCorrupt::Skip`]: the open
//! keeps it (the skipped bytes' seqnos are unknown), and the trimmer deletes it, bad bytes
//! included, once its valid records are flushed.
//!
//! [`verify_dir`] scans a WAL directory read-only and reports every bad record.

pub mod codec;

#[cfg(test)]
mod tests;

pub use codec::{decode_batch, encode_batch};

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::{Error, IoContext, Result};
use crate::file_io::{FileIo, IoFile};
use crate::types::{SeqNo, WriteBatch};

/// Bytes of the record header: payload length and payload crc32, both u32 LE.
pub const RECORD_HEADER_LEN: u64 = 8;

/// File-name suffix of WAL segments.
const SEGMENT_SUFFIX: &str = ".wal";

/// The path of segment number `no` in `dir`.
pub fn segment_path(dir: &Path, no: u64) -> PathBuf {
    dir.join(format!("{no:08}{SEGMENT_SUFFIX}"))
}

/// Parse a segment file name (`00000042.wal`) into its number.
fn parse_segment_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(SEGMENT_SUFFIX)?;
    if stem.len() < 8 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// What [`Wal::open`] does with a bad record that is not the torn tail of the newest segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnCorrupt {
    /// Stop the open with [`Error::WalCorrupt`], changing no file (the default).
    #[default]
    Fail,
    /// Skip only the bad bytes, keep every later record and segment, and report the skip in
    /// [`Replay::skipped`].
    Skip,
}

/// What [`Wal::open`] found on disk.
#[derive(Debug)]
pub struct Replay {
    /// Every batch with seqno > `min_seqno`, in log order.
    pub batches: Vec<(SeqNo, WriteBatch)>,
    /// The highest seqno in the WAL (including batches <= `min_seqno`), or `min_seqno` if higher.
    pub last_seqno: SeqNo,
    /// Set when the newest segment ended in a torn record and was truncated there.
    pub truncated: Option<Truncation>,
    /// Bad stretches skipped under [`OnCorrupt::Skip`], in log order (always empty under
    /// [`OnCorrupt::Fail`]). Their bytes are still on disk.
    pub skipped: Vec<BadRecord>,
}

/// The cut of a torn tail of the newest segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// The newest segment; it was truncated to `offset` bytes.
    pub segment: PathBuf,
    /// Offset of the torn record in `segment` (= the segment's new length).
    pub offset: u64,
    /// Bytes discarded: the segment's length minus `offset`.
    pub bytes_cut: u64,
    /// Why the record was rejected.
    pub reason: String,
}

/// A bad record (or a run of bad bytes) in a WAL segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    /// The segment file.
    pub segment: PathBuf,
    /// Byte offset of the bad record in `segment`.
    pub offset: u64,
    /// Bytes from `offset` to the next valid record (or to the end of the segment): what
    /// skipping it passes over.
    pub len: u64,
    /// Why the record was rejected (crc mismatch, short payload, ...).
    pub reason: String,
    /// True when this is the torn tail of the newest segment (no valid record follows it),
    /// which [`Wal::open`] truncates.
    pub torn_tail: bool,
}

/// What [`verify_dir`] found in a WAL directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalReport {
    /// Segment files scanned.
    pub segments: usize,
    /// Valid records.
    pub records: u64,
    /// Total bytes of all segments.
    pub bytes: u64,
    /// Highest seqno of a valid record.
    pub max_seqno: Option<SeqNo>,
    /// Every bad record, in log order.
    pub bad: Vec<BadRecord>,
}

impl WalReport {
    /// True when [`Wal::open`] would open this WAL without [`OnCorrupt::Skip`]: no bad record
    /// other than a torn tail of the newest segment.
    pub fn opens_cleanly(&self) -> bool {
        self.bad.iter().all(|b| b.torn_tail)
    }
}

/// Segment bookkeeping shared by the [`Wal`] and its [`WalTrimmer`]s.
#[derive(Debug)]
struct Segments {
    dir: PathBuf,
    /// Closed segments: number → highest seqno in it (`None` when it holds no record).
    closed: BTreeMap<u64, Option<SeqNo>>,
    /// Number of the active segment (never trimmed).
    active: u64,
}

fn lock(m: &Mutex<Segments>) -> MutexGuard<'_, Segments> {
    // The state is only changed after the file operation it records succeeded, so it is
    // consistent even if a holder panicked.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The write-ahead log writer. Single-threaded: one WAL writer owns it.
pub struct Wal {
    dir: PathBuf,
    segment_bytes: u64,
    shared: Arc<Mutex<Segments>>,
    active_no: u64,
    active_path: PathBuf,
    file: IoFile,
    /// Every write, fsync, rotation and truncation goes through it.
    io: Arc<dyn FileIo>,
    /// Bytes of whole, synced records in the active segment file.
    written: u64,
    /// Set when a failed write or fsync may have left bytes past `written` in the file; they are
    /// cut before anything else is written (so bad bytes can only ever be the newest segment's
    /// tail, which replay cuts too).
    dirty_tail: bool,
    /// Encoded records not yet written.
    buf: Vec<u8>,
    /// Highest seqno appended to the active segment (written or buffered).
    active_max: Option<SeqNo>,
}

impl Wal {
    /// Open (creating `dir` if needed) and replay. Returns every batch with seqno > `min_seqno`,
    /// in order.
    ///
    /// Every segment is read before any file is changed. A torn tail of the newest segment (a
    /// bad record with no valid record after it) is cut: the segment is truncated there and
    /// fsynced, the cut is logged with `tracing::warn!` and reported in
    /// [`Replay::truncated`]. Any other bad record fails the open with [`Error::WalCorrupt`]
    /// (naming the first one's segment and offset) and leaves every file as it was, unless
    /// `on_corrupt` is [`OnCorrupt::Skip`]: then its bytes are skipped, each skip is logged and
    /// reported in [`Replay::skipped`], and every later record is replayed. I/O errors while
    /// reading are returned as errors, not treated as corruption.
    ///
    /// Replayed segments whose records all have seqno <= `min_seqno` (or that hold no record),
    /// and in which nothing was skipped, are deleted. New appends go to a fresh segment
    /// numbered one past the highest existing one.
    pub fn open(
        dir: &Path,
        segment_bytes: u64,
        min_seqno: SeqNo,
        on_corrupt: OnCorrupt,
    ) -> Result<(Wal, Replay)> {
        Wal::open_with(
            dir,
            segment_bytes,
            min_seqno,
            on_corrupt,
            crate::file_io::real(),
        )
    }

    /// [`Wal::open`] whose writes, fsyncs, truncations and removals go through `io`.
    pub fn open_with(
        dir: &Path,
        segment_bytes: u64,
        min_seqno: SeqNo,
        on_corrupt: OnCorrupt,
        io: Arc<dyn FileIo>,
    ) -> Result<(Wal, Replay)> {
        io.create_dir_all(dir)
            .ctx(|| format!("create WAL directory {}", dir.display()))?;
        let found = list_segments(dir)?;
        let next_no = found.last().map_or(1, |(no, _)| no + 1);

        // Read everything first: a corrupt record must fail the open before any file changes.
        let mut batches = Vec::new();
        let mut last_seqno = min_seqno;
        let mut scans: Vec<(u64, PathBuf, SegmentScan)> = Vec::with_capacity(found.len());
        for (i, (no, path)) in found.iter().enumerate() {
            let newest = i + 1 == found.len();
            let scan = scan_segment(path, newest, |seqno, batch| {
                if seqno > min_seqno {
                    batches.push((seqno, batch));
                }
            })?;
            if on_corrupt == OnCorrupt::Fail {
                if let Some(bad) = scan.bad.iter().find(|b| !b.torn_tail) {
                    return Err(Error::WalCorrupt {
                        segment: path.clone(),
                        offset: bad.offset,
                        reason: bad.reason.clone(),
                    });
                }
            }
            if let Some(m) = scan.max_seqno {
                last_seqno = last_seqno.max(m);
            }
            scans.push((*no, path.clone(), scan));
        }

        let mut truncated = None;
        let mut skipped = Vec::new();
        let mut closed = BTreeMap::new();
        for (no, path, scan) in scans {
            let mut skipped_here = false;
            for bad in scan.bad {
                let bad = BadRecord {
                    segment: path.clone(),
                    offset: bad.offset,
                    len: bad.len,
                    reason: bad.reason,
                    torn_tail: bad.torn_tail,
                };
                if bad.torn_tail {
                    truncated = Some(cut_torn_tail(io.as_ref(), bad)?);
                } else {
                    tracing::warn!(
                        segment = %path.display(),
                        offset = bad.offset,
                        bytes_skipped = bad.len,
                        reason = %bad.reason,
                        "WAL replay skipped a corrupt record (wal_skip_corrupt); the bytes stay \
                         on disk until the segment is trimmed"
                    );
                    skipped_here = true;
                    skipped.push(bad);
                }
            }
            // Segments wholly covered by `min_seqno` are already flushed: drop them now. One
            // with skipped bytes is kept (their seqnos are unknown) until the trimmer drops it.
            if !skipped_here && scan.max_seqno.is_none_or(|m| m <= min_seqno) {
                io.remove(&path)
                    .ctx(|| format!("delete flushed WAL segment {}", path.display()))?;
            } else {
                closed.insert(no, scan.max_seqno);
            }
        }

        let active_path = segment_path(dir, next_no);
        let file = create_segment(&io, &active_path)?;
        sync_dir(io.as_ref(), dir)?;

        let shared = Arc::new(Mutex::new(Segments {
            dir: dir.to_path_buf(),
            closed,
            active: next_no,
        }));
        let wal = Wal {
            dir: dir.to_path_buf(),
            segment_bytes,
            shared,
            active_no: next_no,
            active_path,
            file,
            io,
            written: 0,
            dirty_tail: false,
            buf: Vec::new(),
            active_max: None,
        };
        Ok((
            wal,
            Replay {
                batches,
                last_seqno,
                truncated,
                skipped,
            },
        ))
    }

    /// Encode and buffer one record. Nothing reaches the file until [`Wal::sync`].
    ///
    /// Seqnos are expected to increase; the WAL does not check it, but trimming and replay
    /// filtering are per-record and stay correct either way.
    pub fn append(&mut self, seqno: SeqNo, batch: &WriteBatch) -> Result<()> {
        let start = self.buf.len();
        self.buf
            .extend_from_slice(&[0u8; RECORD_HEADER_LEN as usize]);
        encode_batch(seqno, batch, &mut self.buf);
        let (header, payload) = self.buf[start..].split_at_mut(RECORD_HEADER_LEN as usize);
        let Ok(len) = u32::try_from(payload.len()) else {
            let n = payload.len();
            self.buf.truncate(start);
            return Err(Error::io(
                format!("append to WAL segment {}", self.active_path.display()),
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("record of {n} bytes exceeds the 4 GiB WAL record limit"),
                ),
            ));
        };
        let crc = crc32fast::hash(payload);
        header[..4].copy_from_slice(&len.to_le_bytes());
        header[4..].copy_from_slice(&crc.to_le_bytes());
        self.active_max = Some(self.active_max.map_or(seqno, |m| m.max(seqno)));
        Ok(())
    }

    /// Write everything buffered and `fdatasync` the active segment. Then, if the segment has
    /// reached `segment_bytes`, close it and start the next one (fsyncing the directory).
    ///
    /// A failed write or fsync is returned, and the records buffered for it are dropped (their
    /// writers are told they were not written). The bytes it may have left are cut from the
    /// file at once, or — if that fails too — before the next write: the WAL keeps working
    /// once the cause clears (space freed), and bad bytes never sit before good ones. A failed
    /// rotation is only logged: the records are durable, and the active segment takes the next
    /// ones until a later rotation succeeds.
    pub fn sync(&mut self) -> Result<()> {
        if self.dirty_tail {
            if let Err(e) = self.cut_tail() {
                self.buf.clear();
                return Err(e);
            }
        }
        if !self.buf.is_empty() {
            let res = self
                .file
                .write_all(&self.buf)
                .ctx(|| format!("write WAL segment {}", self.active_path.display()))
                .and_then(|()| {
                    self.file
                        .sync_data()
                        .ctx(|| format!("fdatasync WAL segment {}", self.active_path.display()))
                });
            if let Err(e) = res {
                self.buf.clear();
                self.dirty_tail = true;
                tracing::error!(error = %e, "WAL write failed; the batch was not acknowledged");
                if let Err(cut) = self.cut_tail() {
                    tracing::error!(error = %cut, "could not cut the failed write from the WAL yet; retried before the next write");
                }
                return Err(e);
            }
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
        if self.written > 0 && self.written >= self.segment_bytes {
            if let Err(e) = self.rotate() {
                tracing::warn!(error = %e, segment = %self.active_path.display(), "WAL rotation failed; the active segment keeps taking records until a later rotation succeeds");
            }
        }
        Ok(())
    }

    /// Cut the active segment back to its last synced record.
    fn cut_tail(&mut self) -> Result<()> {
        let path = self.active_path.clone();
        self.file
            .truncate(self.written)
            .and_then(|()| self.file.sync_data())
            .ctx(|| {
                format!(
                    "cut WAL segment {} back to its last synced record ({} bytes)",
                    path.display(),
                    self.written
                )
            })?;
        self.dirty_tail = false;
        Ok(())
    }

    /// A handle the flusher uses to delete segments that are no longer needed.
    pub fn trimmer(&self) -> WalTrimmer {
        WalTrimmer {
            shared: Arc::clone(&self.shared),
            io: self.io.clone(),
        }
    }

    /// Segment files currently on disk (closed ones and the active one), oldest first.
    pub fn segments(&self) -> Vec<PathBuf> {
        let st = lock(&self.shared);
        st.closed
            .keys()
            .chain(std::iter::once(&st.active))
            .map(|&no| segment_path(&st.dir, no))
            .collect()
    }

    /// The active segment's path.
    pub fn active_segment(&self) -> &Path {
        &self.active_path
    }

    /// Bytes appended but not yet written by [`Wal::sync`].
    pub fn buffered_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Close the active segment (already synced) and make the next one active.
    fn rotate(&mut self) -> Result<()> {
        let next_no = self.active_no + 1;
        let next_path = segment_path(&self.dir, next_no);
        // Not exclusive: a file left by an earlier failed rotation is ours and empty of records.
        let file = IoFile::create(self.io.clone(), &next_path, false)
            .ctx(|| format!("create WAL segment {}", next_path.display()))?;
        sync_dir(self.io.as_ref(), &self.dir)?;
        {
            let mut st = lock(&self.shared);
            st.closed.insert(self.active_no, self.active_max);
            st.active = next_no;
        }
        tracing::debug!(
            closed = %self.active_path.display(),
            bytes = self.written,
            max_seqno = ?self.active_max,
            "WAL segment rotated"
        );
        self.file = file;
        self.active_no = next_no;
        self.active_path = next_path;
        self.written = 0;
        self.active_max = None;
        Ok(())
    }
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the buffer itself: it can hold megabytes of encoded records.
        f.debug_struct("Wal")
            .field("dir", &self.dir)
            .field("segment_bytes", &self.segment_bytes)
            .field("active_segment", &self.active_path)
            .field("written", &self.written)
            .field("buffered_bytes", &self.buf.len())
            .field("active_max_seqno", &self.active_max)
            .field("dirty_tail", &self.dirty_tail)
            .finish_non_exhaustive()
    }
}

impl Drop for Wal {
    /// On close the active segment becomes a closed one (with its highest seqno), so the
    /// trimmer may delete it once everything in it is flushed: a clean shutdown leaves no WAL
    /// segment behind. Appends that were never synced are not in the file and were never
    /// acknowledged.
    fn drop(&mut self) {
        let mut st = lock(&self.shared);
        if st.active == self.active_no {
            st.closed.insert(self.active_no, self.active_max);
            st.active = 0; // segment numbers start at 1: no segment is active any more
        }
    }
}

/// A cloneable, `Send + Sync` handle that deletes closed WAL segments.
#[derive(Clone, Debug)]
pub struct WalTrimmer {
    shared: Arc<Mutex<Segments>>,
    io: Arc<dyn FileIo>,
}

impl WalTrimmer {
    /// Delete every closed segment whose records all have seqno <= `flushed` (never the active
    /// one). Returns how many were deleted.
    pub fn trim(&self, flushed: SeqNo) -> Result<usize> {
        let mut st = lock(&self.shared);
        let active = st.active;
        let victims: Vec<u64> = st
            .closed
            .iter()
            .filter(|&(&no, max)| no != active && max.is_none_or(|m| m <= flushed))
            .map(|(&no, _)| no)
            .collect();
        let mut deleted = 0;
        for no in victims {
            let path = segment_path(&st.dir, no);
            match self.io.remove(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::io(
                        format!("delete WAL segment {}", path.display()),
                        e,
                    ))
                }
            }
            st.closed.remove(&no);
            deleted += 1;
        }
        if deleted > 0 {
            sync_dir(self.io.as_ref(), &st.dir)?;
            tracing::debug!(deleted, flushed, "WAL segments trimmed");
        }
        Ok(deleted)
    }
}

/// Segment files in `dir`, sorted by number.
fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).ctx(|| format!("list WAL directory {}", dir.display()))?;
    for entry in entries {
        let entry = entry.ctx(|| format!("list WAL directory {}", dir.display()))?;
        let Some(no) = entry.file_name().to_str().and_then(parse_segment_name) else {
            continue;
        };
        out.push((no, entry.path()));
    }
    out.sort_unstable_by_key(|(no, _)| *no);
    Ok(out)
}

fn create_segment(io: &Arc<dyn FileIo>, path: &Path) -> Result<IoFile> {
    IoFile::create(io.clone(), path, true).ctx(|| format!("create WAL segment {}", path.display()))
}

fn sync_dir(io: &dyn FileIo, dir: &Path) -> Result<()> {
    io.sync_dir(dir)
        .ctx(|| format!("fsync WAL directory {}", dir.display()))
}

/// Scan every segment of the WAL directory `dir` without changing anything, and report each bad
/// record (including a torn tail of the newest segment, which [`Wal::open`] would cut) and the
/// counts. Bad records are passed over as [`OnCorrupt::Skip`] would, so all of them are found.
/// I/O errors are returned as errors.
pub fn verify_dir(dir: &Path) -> Result<WalReport> {
    let found = list_segments(dir)?;
    let mut report = WalReport {
        segments: found.len(),
        ..WalReport::default()
    };
    for (i, (_, path)) in found.iter().enumerate() {
        let newest = i + 1 == found.len();
        let mut records = 0u64;
        let scan = scan_segment(path, newest, |_, _| records += 1)?;
        report.records += records;
        report.bytes += scan.file_len;
        report.max_seqno = report.max_seqno.max(scan.max_seqno);
        report.bad.extend(scan.bad.into_iter().map(|b| BadRecord {
            segment: path.clone(),
            offset: b.offset,
            len: b.len,
            reason: b.reason,
            torn_tail: b.torn_tail,
        }));
    }
    Ok(report)
}

/// A bad stretch of one segment (see [`BadRecord`]).
struct BadStretch {
    offset: u64,
    len: u64,
    reason: String,
    torn_tail: bool,
}

struct SegmentScan {
    file_len: u64,
    max_seqno: Option<SeqNo>,
    /// Bad stretches in offset order; only the last can be a torn tail.
    bad: Vec<BadStretch>,
}

/// What is at one offset of a segment.
enum Parsed {
    /// A valid record, ending at `end`.
    Record {
        seqno: SeqNo,
        batch: WriteBatch,
        end: usize,
    },
    /// A bad record; `end` is where it ends by its length field, if the payload fits.
    Bad { reason: String, end: Option<usize> },
}

/// Parse the record at `off` (< `buf.len()`).
fn parse_at(buf: &[u8], off: usize) -> Parsed {
    let rest = buf.get(off..).unwrap_or_default();
    let Some((header, body)) = rest.split_first_chunk::<{ RECORD_HEADER_LEN as usize }>() else {
        return Parsed::Bad {
            reason: format!(
                "short record header: {} bytes at end of segment",
                rest.len()
            ),
            end: None,
        };
    };
    let [l0, l1, l2, l3, c0, c1, c2, c3] = *header;
    let len = u32::from_le_bytes([l0, l1, l2, l3]);
    let crc = u32::from_le_bytes([c0, c1, c2, c3]);
    let Some(payload) = usize::try_from(len).ok().and_then(|n| body.get(..n)) else {
        return Parsed::Bad {
            reason: format!(
                "short payload: record says {len} bytes, {} left in segment",
                body.len()
            ),
            end: None,
        };
    };
    let end = off + RECORD_HEADER_LEN as usize + payload.len();
    let actual = crc32fast::hash(payload);
    if actual != crc {
        return Parsed::Bad {
            reason: format!("crc mismatch: stored {crc:#010x}, computed {actual:#010x}"),
            end: Some(end),
        };
    }
    match decode_batch(payload) {
        Ok((seqno, batch)) => Parsed::Record { seqno, batch, end },
        Err(e) => Parsed::Bad {
            reason: format!("undecodable payload: {e}"),
            end: Some(end),
        },
    }
}

/// Whether a valid record starts at `off`. Cheap checks (the payload fits and holds a seqno
/// and the known format byte) come before the crc, so a resync over garbage stays fast.
fn valid_at(buf: &[u8], off: usize) -> bool {
    let Some(header) = buf
        .get(off..)
        .and_then(|r| r.first_chunk::<{ RECORD_HEADER_LEN as usize }>())
    else {
        return false;
    };
    let [l0, l1, l2, l3, ..] = *header;
    let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
    let start = off + RECORD_HEADER_LEN as usize;
    let plausible = len > 8
        && buf.len().checked_sub(start).is_some_and(|left| len <= left)
        && buf.get(start + 8) == Some(&codec::FORMAT_V1);
    plausible && matches!(parse_at(buf, off), Parsed::Record { .. })
}

/// The first offset after `off` where a valid record starts.
fn resync(buf: &[u8], off: usize) -> Option<usize> {
    (off + 1..buf.len()).find(|&o| valid_at(buf, o))
}

/// Read one segment, calling `on_record` for every valid record in order, and find its bad
/// stretches. In the `newest` segment, a bad record with no valid record after it is a torn
/// tail. Past any other bad record the scan goes on at the next valid record: the record's own
/// end when its length field is plausible (a valid record or the end of the segment follows),
/// otherwise the first offset where a valid record starts.
fn scan_segment(
    path: &Path,
    newest: bool,
    mut on_record: impl FnMut(SeqNo, WriteBatch),
) -> Result<SegmentScan> {
    let buf = fs::read(path).ctx(|| format!("read WAL segment {}", path.display()))?;
    let mut off = 0usize;
    let mut max_seqno: Option<SeqNo> = None;
    let mut bad = Vec::new();
    while off < buf.len() {
        match parse_at(&buf, off) {
            Parsed::Record { seqno, batch, end } => {
                max_seqno = Some(max_seqno.map_or(seqno, |m| m.max(seqno)));
                on_record(seqno, batch);
                off = end;
            }
            Parsed::Bad { reason, end } => {
                let next = match end {
                    Some(e) if e < buf.len() && valid_at(&buf, e) => Some(e),
                    _ => resync(&buf, off),
                };
                let stop = next.unwrap_or(buf.len());
                bad.push(BadStretch {
                    offset: off as u64,
                    len: (stop - off) as u64,
                    reason,
                    torn_tail: newest && next.is_none(),
                });
                off = stop;
            }
        }
    }
    Ok(SegmentScan {
        file_len: buf.len() as u64,
        max_seqno,
        bad,
    })
}

/// Truncate the newest segment at its torn tail (and fsync it), and describe the cut.
fn cut_torn_tail(io: &dyn FileIo, bad: BadRecord) -> Result<Truncation> {
    let path = &bad.segment;
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .ctx(|| format!("open WAL segment {} to truncate it", path.display()))?;
    io.truncate(&file, path, bad.offset).ctx(|| {
        format!(
            "truncate WAL segment {} to {} bytes",
            path.display(),
            bad.offset
        )
    })?;
    io.sync(&file, path, false)
        .ctx(|| format!("fsync truncated WAL segment {}", path.display()))?;
    tracing::warn!(
        segment = %path.display(),
        offset = bad.offset,
        bytes_cut = bad.len,
        reason = %bad.reason,
        "WAL ended in a torn record (a write in flight at a crash, never acknowledged); cut it"
    );
    Ok(Truncation {
        segment: bad.segment,
        offset: bad.offset,
        bytes_cut: bad.len,
        reason: bad.reason,
    })
}
