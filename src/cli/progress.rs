//! The progress of an import, kept beside its input file (`FILE.strata-progress`) so
//! `strata import --resume` can skip what an interrupted run finished. Written crash-safely:
//! a temporary file, fsync, rename, directory fsync.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{CliError, Result};

/// What an import of one file has done so far.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Progress {
    /// The input's size and modification time (ns): another file is not resumed.
    pub size: u64,
    pub mtime_ns: i64,
    /// The database and format it was imported with.
    pub db: String,
    pub format: String,
    /// Input units (lines; CSV records; JSON elements) whose writes were acknowledged.
    pub done: u64,
    /// Points written and lines or records rejected so far.
    pub points: u64,
    pub rejected: u64,
}

const MAGIC: &str = "strata-import-progress 1";

/// Where the progress of `input` is kept.
pub fn path_for(input: &Path) -> PathBuf {
    let mut name = input.file_name().unwrap_or_default().to_os_string();
    name.push(".strata-progress");
    input.with_file_name(name)
}

impl Progress {
    /// The identity of `input` (size, mtime) with nothing done.
    pub fn start(input: &Path, db: &str, format: &str) -> Result<Progress> {
        let md = fs::metadata(input)
            .map_err(|e| CliError::io(format!("stat {}", input.display()), e))?;
        let mtime_ns = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        Ok(Progress {
            size: md.len(),
            mtime_ns,
            db: db.to_string(),
            format: format.to_string(),
            ..Progress::default()
        })
    }

    /// Whether `saved` is an earlier run over the same file, database and format.
    pub fn same_import(&self, saved: &Progress) -> bool {
        (self.size, self.mtime_ns, &self.db, &self.format)
            == (saved.size, saved.mtime_ns, &saved.db, &saved.format)
    }

    fn render(&self) -> String {
        format!(
            "{MAGIC}\nsize={}\nmtime_ns={}\ndb={}\nformat={}\ndone={}\npoints={}\nrejected={}\n",
            self.size, self.mtime_ns, self.db, self.format, self.done, self.points, self.rejected
        )
    }

    fn parse(text: &str) -> Option<Progress> {
        let mut lines = text.lines();
        if lines.next()? != MAGIC {
            return None;
        }
        let mut p = Progress::default();
        for l in lines {
            let (k, v) = l.split_once('=')?;
            match k {
                "size" => p.size = v.parse().ok()?,
                "mtime_ns" => p.mtime_ns = v.parse().ok()?,
                "db" => p.db = v.to_string(),
                "format" => p.format = v.to_string(),
                "done" => p.done = v.parse().ok()?,
                "points" => p.points = v.parse().ok()?,
                "rejected" => p.rejected = v.parse().ok()?,
                _ => return None,
            }
        }
        Some(p)
    }

    /// The saved progress at `path`, if any.
    pub fn load(path: &Path) -> Result<Option<Progress>> {
        match fs::read_to_string(path) {
            Ok(text) => Progress::parse(&text).map(Some).ok_or_else(|| {
                CliError::Usage(format!(
                    "{} is not an import progress file: remove it to import from the start",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError::io(format!("read {}", path.display()), e)),
        }
    }

    /// Replace the file at `path` with this progress, crash-safely.
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |what: &str, e| CliError::io(format!("{what} {}", path.display()), e);
        let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(".tmp");
        let tmp = path.with_file_name(tmp_name);
        let mut f = fs::File::create(&tmp).map_err(|e| io("create", e))?;
        f.write_all(self.render().as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| io("write", e))?;
        fs::rename(&tmp, path).map_err(|e| io("rename into", e))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("fsync the directory of", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_round_trips_and_identifies_its_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("data.lp");
        fs::write(&input, "cpu v=1 1\n").expect("write");
        let mut p = Progress::start(&input, "db", "lp").expect("start");
        p.done = 7;
        p.points = 6;
        p.rejected = 1;
        let at = path_for(&input);
        assert_eq!(at, dir.path().join("data.lp.strata-progress"));
        p.save(&at).expect("save");
        let back = Progress::load(&at).expect("load").expect("saved");
        assert_eq!(back, p);
        assert!(Progress::start(&input, "db", "lp")
            .expect("again")
            .same_import(&back));
        assert!(!Progress::start(&input, "other", "lp")
            .expect("other")
            .same_import(&back));
        fs::write(&at, "garbage").expect("write");
        assert!(Progress::load(&at).is_err());
        assert_eq!(
            Progress::load(&dir.path().join("none")).expect("none"),
            None
        );
    }
}
