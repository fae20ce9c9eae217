//! The one door the engine's file writes go through: [`FileIo`].
//!
//! Every durable change the engine makes — WAL segments, SSTables, manifests, the retention file —
//! is a create, write, sync, truncate, rename, directory sync or remove through a `FileIo`
//! (reads go straight to the file). [`RealFileIo`] is the operating system. [`FaultInjector`]
//! wraps it for tests: it records every operation and fails a chosen one (with `ENOSPC`, `EIO`
//! or a short write), once or until cleared, so a test can fail each step of a flush, a
//! compaction, a manifest rewrite or a WAL rotation in turn ([`Config::file_io`]).
//!
//! [`Config::file_io`]: crate::Config::file_io

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The file operations the engine's writes use.
pub trait FileIo: Send + Sync + fmt::Debug {
    /// Create `path` for writing: with `exclusive` it must not exist, else it is truncated.
    fn create(&self, path: &Path, exclusive: bool) -> io::Result<File>;
    /// Write all of `buf` at the file's position.
    fn write(&self, file: &mut File, path: &Path, buf: &[u8]) -> io::Result<()>;
    /// Make the file's data (and, unless `data_only`, its metadata) durable.
    fn sync(&self, file: &File, path: &Path, data_only: bool) -> io::Result<()>;
    /// Cut the file to `len` bytes.
    fn truncate(&self, file: &File, path: &Path, len: u64) -> io::Result<()>;
    /// Rename `from` to `to` (replacing `to`).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Make the creations, renames and removals in `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Remove a file.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Create a directory and its missing parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
}

/// The operating system's files.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFileIo;

impl FileIo for RealFileIo {
    fn create(&self, path: &Path, exclusive: bool) -> io::Result<File> {
        let mut o = OpenOptions::new();
        o.write(true);
        if exclusive {
            o.create_new(true);
        } else {
            o.create(true).truncate(true);
        }
        o.open(path)
    }
    fn write(&self, file: &mut File, _path: &Path, buf: &[u8]) -> io::Result<()> {
        file.write_all(buf)
    }
    fn sync(&self, file: &File, _path: &Path, data_only: bool) -> io::Result<()> {
        if data_only {
            file.sync_data()
        } else {
            file.sync_all()
        }
    }
    fn truncate(&self, file: &File, _path: &Path, len: u64) -> io::Result<()> {
        file.set_len(len)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir).and_then(|d| d.sync_all())
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }
}

/// The default [`FileIo`]: the operating system's.
pub fn real() -> Arc<dyn FileIo> {
    Arc::new(RealFileIo)
}

/// A file being written through a [`FileIo`], as a [`std::io::Write`] (for a `BufWriter`).
#[derive(Debug)]
pub struct IoFile {
    io: Arc<dyn FileIo>,
    file: File,
    path: PathBuf,
}

impl IoFile {
    /// Create `path` through `io` ([`FileIo::create`]).
    pub fn create(io: Arc<dyn FileIo>, path: &Path, exclusive: bool) -> io::Result<IoFile> {
        let file = io.create(path, exclusive)?;
        Ok(IoFile {
            io,
            file,
            path: path.to_path_buf(),
        })
    }

    /// Make its data and metadata durable.
    pub fn sync_all(&self) -> io::Result<()> {
        self.io.sync(&self.file, &self.path, false)
    }

    /// Make its data durable.
    pub fn sync_data(&self) -> io::Result<()> {
        self.io.sync(&self.file, &self.path, true)
    }

    /// Cut it to `len` bytes and move the write position there.
    pub fn truncate(&mut self, len: u64) -> io::Result<()> {
        use std::io::Seek;
        self.io.truncate(&self.file, &self.path, len)?;
        self.file.seek(io::SeekFrom::Start(len)).map(|_| ())
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its length on disk.
    pub fn len(&self) -> io::Result<u64> {
        self.file.metadata().map(|m| m.len())
    }

    /// Whether it is empty on disk.
    pub fn is_empty(&self) -> io::Result<bool> {
        self.len().map(|l| l == 0)
    }
}

impl Write for IoFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io.write(&mut self.file, &self.path, buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A kind of file operation, as [`FaultInjector`] records and matches them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Create,
    Write,
    Sync,
    Truncate,
    Rename,
    SyncDir,
    Remove,
    CreateDir,
}

/// The error a fault produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `ENOSPC`: the disk is full.
    NoSpace,
    /// `EIO`: the device failed.
    DeviceError,
    /// A write that stores only the first half of its bytes, then fails with `ENOSPC` (a
    /// write that fails with another operation's kind behaves like `NoSpace`).
    ShortWrite,
}

/// A planned failure: the `nth` (0-based) operation from now that matches `op` and
/// `path_contains` fails with `kind`; with `sticky`, so does every matching one after it until
/// [`FaultInjector::clear`] (a disk that stays full).
#[derive(Debug, Clone)]
pub struct Fault {
    pub op: Option<Op>,
    pub path_contains: Option<String>,
    pub nth: usize,
    pub kind: FaultKind,
    pub sticky: bool,
}

#[derive(Debug, Default)]
struct InjectorState {
    fault: Option<Fault>,
    /// Matching operations seen since the fault was planned.
    seen: usize,
    /// Whether the fault has fired (a sticky one keeps firing).
    fired: bool,
    /// Every operation, in order.
    log: Vec<(Op, PathBuf)>,
}

/// A [`FileIo`] for tests: the real one, plus a record of every operation and one planned
/// [`Fault`].
#[derive(Debug, Default)]
pub struct FaultInjector {
    state: Mutex<InjectorState>,
}

impl FaultInjector {
    /// No fault planned; every operation is recorded.
    pub fn new() -> Arc<FaultInjector> {
        Arc::new(FaultInjector::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InjectorState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Plan `fault` (replacing any other), counting matching operations from now.
    pub fn plan(&self, fault: Fault) {
        let mut st = self.lock();
        st.fault = Some(fault);
        st.seen = 0;
        st.fired = false;
    }

    /// No more faults: the disk has room again.
    pub fn clear(&self) {
        let mut st = self.lock();
        st.fault = None;
    }

    /// Whether the planned fault has fired.
    pub fn fired(&self) -> bool {
        self.lock().fired
    }

    /// Every operation so far, in order.
    pub fn log(&self) -> Vec<(Op, PathBuf)> {
        self.lock().log.clone()
    }

    /// Record `op` on `path`; the error to return if the planned fault hits it.
    fn check(&self, op: Op, path: &Path) -> Option<FaultKind> {
        let mut st = self.lock();
        st.log.push((op, path.to_path_buf()));
        let fault = st.fault.clone()?;
        let matches = fault.op.is_none_or(|o| o == op)
            && fault
                .path_contains
                .as_deref()
                .is_none_or(|s| path.to_string_lossy().contains(s));
        if !matches {
            return None;
        }
        if st.fired {
            return fault.sticky.then_some(fault.kind);
        }
        if st.seen == fault.nth {
            st.fired = true;
            return Some(fault.kind);
        }
        st.seen += 1;
        None
    }
}

fn fault_error(kind: FaultKind, op: Op, path: &Path) -> io::Error {
    let (raw, what) = match kind {
        FaultKind::DeviceError => (libc::EIO, "EIO"),
        FaultKind::NoSpace | FaultKind::ShortWrite => (libc::ENOSPC, "ENOSPC"),
    };
    let os = io::Error::from_raw_os_error(raw);
    io::Error::new(
        os.kind(),
        format!("{os} (injected {what} on {op:?} of {})", path.display()),
    )
}

impl FileIo for FaultInjector {
    fn create(&self, path: &Path, exclusive: bool) -> io::Result<File> {
        match self.check(Op::Create, path) {
            Some(k) => Err(fault_error(k, Op::Create, path)),
            None => RealFileIo.create(path, exclusive),
        }
    }
    fn write(&self, file: &mut File, path: &Path, buf: &[u8]) -> io::Result<()> {
        match self.check(Op::Write, path) {
            Some(FaultKind::ShortWrite) => {
                file.write_all(&buf[..buf.len() / 2])?;
                Err(fault_error(FaultKind::ShortWrite, Op::Write, path))
            }
            Some(k) => Err(fault_error(k, Op::Write, path)),
            None => RealFileIo.write(file, path, buf),
        }
    }
    fn sync(&self, file: &File, path: &Path, data_only: bool) -> io::Result<()> {
        match self.check(Op::Sync, path) {
            Some(k) => Err(fault_error(k, Op::Sync, path)),
            None => RealFileIo.sync(file, path, data_only),
        }
    }
    fn truncate(&self, file: &File, path: &Path, len: u64) -> io::Result<()> {
        match self.check(Op::Truncate, path) {
            Some(k) => Err(fault_error(k, Op::Truncate, path)),
            None => RealFileIo.truncate(file, path, len),
        }
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        match self.check(Op::Rename, from) {
            Some(k) => Err(fault_error(k, Op::Rename, from)),
            None => RealFileIo.rename(from, to),
        }
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        match self.check(Op::SyncDir, dir) {
            Some(k) => Err(fault_error(k, Op::SyncDir, dir)),
            None => RealFileIo.sync_dir(dir),
        }
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        match self.check(Op::Remove, path) {
            Some(k) => Err(fault_error(k, Op::Remove, path)),
            None => RealFileIo.remove(path),
        }
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        match self.check(Op::CreateDir, dir) {
            Some(k) => Err(fault_error(k, Op::CreateDir, dir)),
            None => RealFileIo.create_dir_all(dir),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nth_matching_operation_fails_and_sticky_faults_persist() {
        let dir = tempfile::tempdir().unwrap();
        let io = FaultInjector::new();
        io.plan(Fault {
            op: Some(Op::Sync),
            path_contains: Some("bravo".into()),
            nth: 1,
            kind: FaultKind::NoSpace,
            sticky: true,
        });
        let dyn_io: Arc<dyn FileIo> = io.clone();
        let a = IoFile::create(dyn_io.clone(), &dir.path().join("alpha"), true).unwrap();
        let b = IoFile::create(dyn_io.clone(), &dir.path().join("bravo"), true).unwrap();
        a.sync_all().unwrap();
        b.sync_all().unwrap(); // the 0th matching sync
        let e = b.sync_all().unwrap_err();
        assert_eq!(e.raw_os_error(), None);
        assert_eq!(e.kind(), io::Error::from_raw_os_error(libc::ENOSPC).kind());
        assert!(e.to_string().contains("injected ENOSPC"), "{e}");
        assert!(b.sync_all().is_err(), "sticky");
        a.sync_all().unwrap();
        io.clear();
        b.sync_all().unwrap();
        assert!(io.fired());
        assert_eq!(io.log().len(), 8);
    }

    #[test]
    fn a_short_write_stores_half_and_fails() {
        let dir = tempfile::tempdir().unwrap();
        let io = FaultInjector::new();
        io.plan(Fault {
            op: Some(Op::Write),
            path_contains: None,
            nth: 0,
            kind: FaultKind::ShortWrite,
            sticky: false,
        });
        let mut f = IoFile::create(io.clone(), &dir.path().join("f"), true).unwrap();
        assert!(f.write_all(b"0123456789").is_err());
        assert_eq!(f.len().unwrap(), 5);
        f.truncate(0).unwrap();
        f.write_all(b"ab").unwrap();
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"ab");
    }
}
