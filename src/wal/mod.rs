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
//! On open, replay stops at the first record that is torn or bad (short header, short payload,
//! crc mismatch, undecodable payload): what comes before it is kept, its segment is truncated
//! there and later segments are deleted, so new records never follow garbage.

pub mod codec;

#[cfg(test)]
mod tests;

pub use codec::{decode_batch, encode_batch};

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::{Error, IoContext, Result};
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

/// What [`Wal::open`] found on disk.
#[derive(Debug)]
pub struct Replay {
    /// Every batch with seqno > `min_seqno`, in log order.
    pub batches: Vec<(SeqNo, WriteBatch)>,
    /// The highest seqno in the WAL (including batches <= `min_seqno`), or `min_seqno` if higher.
    pub last_seqno: SeqNo,
    /// Set when replay met a torn or bad record and cut the log there.
    pub truncated: Option<Truncation>,
}

/// A cut made by replay at the first torn or bad record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// The segment that held the bad record; it was truncated to `offset` bytes.
    pub segment: PathBuf,
    /// Offset of the bad record in `segment` (= the segment's new length).
    pub offset: u64,
    /// Total bytes discarded: the tail of `segment` plus the whole of every removed segment.
    pub bytes_cut: u64,
    /// Later segments that were deleted because they followed the bad record.
    pub segments_removed: Vec<PathBuf>,
    /// Why the record was rejected.
    pub reason: String,
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
    file: File,
    /// Bytes written to the active segment file.
    written: u64,
    /// Encoded records not yet written.
    buf: Vec<u8>,
    /// Highest seqno appended to the active segment (written or buffered).
    active_max: Option<SeqNo>,
    /// Set after a failed write, sync or rotation; every later call fails with it.
    poisoned: Option<String>,
}

impl Wal {
    /// Open (creating `dir` if needed) and replay. Returns every batch with seqno > `min_seqno`,
    /// in order.
    ///
    /// At the first torn or bad record (short header, short payload, crc mismatch, undecodable
    /// payload) replay keeps everything before it, truncates that segment at the record's offset
    /// (and fsyncs it), deletes any later segments, logs what was cut with `tracing::warn!`, and
    /// reports it in [`Replay::truncated`]. I/O errors while reading are returned as errors, not
    /// treated as corruption.
    ///
    /// Replayed segments whose records all have seqno <= `min_seqno` (or that hold no record)
    /// are deleted. New appends go to a fresh segment numbered one past the highest existing one.
    pub fn open(dir: &Path, segment_bytes: u64, min_seqno: SeqNo) -> Result<(Wal, Replay)> {
        fs::create_dir_all(dir).ctx(|| format!("create WAL directory {}", dir.display()))?;
        let found = list_segments(dir)?;
        let next_no = found.last().map_or(1, |(no, _)| no + 1);

        let mut batches = Vec::new();
        let mut last_seqno = min_seqno;
        let mut truncated = None;
        let mut replayed: Vec<(u64, PathBuf, Option<SeqNo>)> = Vec::new();
        for (i, (no, path)) in found.iter().enumerate() {
            let scan = scan_segment(path, min_seqno, &mut batches)?;
            if let Some(m) = scan.max_seqno {
                last_seqno = last_seqno.max(m);
            }
            replayed.push((*no, path.clone(), scan.max_seqno));
            if let Some(bad) = scan.bad {
                let later = found.get(i + 1..).unwrap_or_default();
                truncated = Some(cut_log(path, &bad, later)?);
                break;
            }
        }

        // Segments wholly covered by `min_seqno` are already flushed: drop them now.
        let mut closed = BTreeMap::new();
        for (no, path, max) in replayed {
            if max.is_none_or(|m| m <= min_seqno) {
                fs::remove_file(&path)
                    .ctx(|| format!("delete flushed WAL segment {}", path.display()))?;
            } else {
                closed.insert(no, max);
            }
        }

        let active_path = segment_path(dir, next_no);
        let file = create_segment(&active_path)?;
        sync_dir(dir)?;

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
            written: 0,
            buf: Vec::new(),
            active_max: None,
            poisoned: None,
        };
        Ok((
            wal,
            Replay {
                batches,
                last_seqno,
                truncated,
            },
        ))
    }

    /// Encode and buffer one record. Nothing reaches the file until [`Wal::sync`].
    ///
    /// Seqnos are expected to increase; the WAL does not check it, but trimming and replay
    /// filtering are per-record and stay correct either way.
    pub fn append(&mut self, seqno: SeqNo, batch: &WriteBatch) -> Result<()> {
        self.check_poisoned()?;
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
    /// A failed write, sync or rotation is returned and poisons the WAL: every later `append`
    /// or `sync` fails with [`Error::Poisoned`].
    pub fn sync(&mut self) -> Result<()> {
        self.check_poisoned()?;
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
            self.poison_on_err(res)?;
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
        if self.written > 0 && self.written >= self.segment_bytes {
            let res = self.rotate();
            self.poison_on_err(res)?;
        }
        Ok(())
    }

    /// A handle the flusher uses to delete segments that are no longer needed.
    pub fn trimmer(&self) -> WalTrimmer {
        WalTrimmer {
            shared: Arc::clone(&self.shared),
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

    fn check_poisoned(&self) -> Result<()> {
        match &self.poisoned {
            Some(msg) => Err(Error::Poisoned(msg.clone())),
            None => Ok(()),
        }
    }

    fn poison_on_err(&mut self, res: Result<()>) -> Result<()> {
        if let Err(e) = &res {
            tracing::error!(error = %e, "WAL failed; refusing further appends");
            self.poisoned = Some(format!("WAL: {e}"));
        }
        res
    }

    /// Close the active segment (already synced) and make the next one active.
    fn rotate(&mut self) -> Result<()> {
        let next_no = self.active_no + 1;
        let next_path = segment_path(&self.dir, next_no);
        let file = create_segment(&next_path)?;
        sync_dir(&self.dir)?;
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
            .field("poisoned", &self.poisoned)
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
            match fs::remove_file(&path) {
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
            sync_dir(&st.dir)?;
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

fn create_segment(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .ctx(|| format!("create WAL segment {}", path.display()))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx(|| format!("fsync WAL directory {}", dir.display()))
}

/// Where and why a segment stops being valid.
struct BadRecord {
    offset: u64,
    file_len: u64,
    reason: String,
}

struct SegmentScan {
    max_seqno: Option<SeqNo>,
    bad: Option<BadRecord>,
}

/// Read every valid record of one segment, pushing batches with seqno > `min_seqno`.
fn scan_segment(
    path: &Path,
    min_seqno: SeqNo,
    batches: &mut Vec<(SeqNo, WriteBatch)>,
) -> Result<SegmentScan> {
    let file = File::open(path).ctx(|| format!("open WAL segment {}", path.display()))?;
    let file_len = file
        .metadata()
        .ctx(|| format!("stat WAL segment {}", path.display()))?
        .len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut offset = 0u64;
    let mut max_seqno: Option<SeqNo> = None;
    let mut payload = Vec::new();
    let bad = |offset: u64, reason: String| BadRecord {
        offset,
        file_len,
        reason,
    };
    while offset < file_len {
        let left = file_len - offset;
        if left < RECORD_HEADER_LEN {
            return Ok(SegmentScan {
                max_seqno,
                bad: Some(bad(
                    offset,
                    format!("short record header: {left} bytes at end of segment"),
                )),
            });
        }
        let mut header = [0u8; RECORD_HEADER_LEN as usize];
        reader
            .read_exact(&mut header)
            .ctx(|| format!("read WAL segment {} at {offset}", path.display()))?;
        let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
        let len = u32::from_le_bytes([l0, l1, l2, l3]);
        let crc = u32::from_le_bytes([c0, c1, c2, c3]);
        let body_left = left - RECORD_HEADER_LEN;
        if u64::from(len) > body_left {
            return Ok(SegmentScan {
                max_seqno,
                bad: Some(bad(
                    offset,
                    format!("short payload: record says {len} bytes, {body_left} left in segment"),
                )),
            });
        }
        payload.clear();
        payload.resize(len as usize, 0);
        reader
            .read_exact(&mut payload)
            .ctx(|| format!("read WAL segment {} at {offset}", path.display()))?;
        let actual = crc32fast::hash(&payload);
        if actual != crc {
            return Ok(SegmentScan {
                max_seqno,
                bad: Some(bad(
                    offset,
                    format!("crc mismatch: stored {crc:#010x}, computed {actual:#010x}"),
                )),
            });
        }
        match decode_batch(&payload) {
            Ok((seqno, batch)) => {
                max_seqno = Some(max_seqno.map_or(seqno, |m| m.max(seqno)));
                if seqno > min_seqno {
                    batches.push((seqno, batch));
                }
            }
            Err(e) => {
                return Ok(SegmentScan {
                    max_seqno,
                    bad: Some(bad(offset, format!("undecodable payload: {e}"))),
                })
            }
        }
        offset += RECORD_HEADER_LEN + u64::from(len);
    }
    Ok(SegmentScan {
        max_seqno,
        bad: None,
    })
}

/// Truncate `path` at the bad record, delete the `later` segments, and describe the cut.
fn cut_log(path: &Path, bad: &BadRecord, later: &[(u64, PathBuf)]) -> Result<Truncation> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .ctx(|| format!("open WAL segment {} to truncate it", path.display()))?;
    file.set_len(bad.offset).ctx(|| {
        format!(
            "truncate WAL segment {} to {} bytes",
            path.display(),
            bad.offset
        )
    })?;
    file.sync_all()
        .ctx(|| format!("fsync truncated WAL segment {}", path.display()))?;

    let mut bytes_cut = bad.file_len - bad.offset;
    let mut removed = Vec::with_capacity(later.len());
    for (_, p) in later {
        let len = fs::metadata(p)
            .ctx(|| format!("stat WAL segment {}", p.display()))?
            .len();
        fs::remove_file(p)
            .ctx(|| format!("delete WAL segment {} after a bad record", p.display()))?;
        bytes_cut += len;
        removed.push(p.clone());
    }
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    tracing::warn!(
        segment = %path.display(),
        offset = bad.offset,
        bytes_cut,
        segments_removed = ?removed,
        reason = %bad.reason,
        "WAL replay stopped at a torn or corrupt record; cut the log there"
    );
    Ok(Truncation {
        segment: path.to_path_buf(),
        offset: bad.offset,
        bytes_cut,
        segments_removed: removed,
        reason: bad.reason.clone(),
    })
}
