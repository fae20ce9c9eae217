//! `strata import FILE…`: line protocol, vctsdb's CSV and JSON, and InfluxDB's
//! `influx_inspect export` files (gzip too), written in batches.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use strata::lineproto::Precision;
use strata::query::Epoch;

use super::progress::{self, Progress};
use super::target::{parse_precision, Target, TargetArgs};
use super::{CliError, Result};
use strata::ingest::{CsvLayout, JsonElements, RecordOptions};

/// Testing aid: stop the process (exit 3, as a crash would leave things) once this many batches
/// are written and their progress saved.
const STOP_AFTER_ENV: &str = "STRATA_TEST_IMPORT_STOP_AFTER_BATCHES";

/// Most bytes of line protocol one write carries (well under the daemon's body limit).
const MAX_BATCH_BYTES: usize = 4 << 20;

/// Longest line or record read (longer ones are rejected, not held).
const MAX_RECORD_BYTES: usize = 1 << 20;

/// An input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Line protocol (also `influx_inspect export` files: `# DDL`, `# DML`, `# CONTEXT-…`).
    Lp,
    /// vctsdb's CSV: a header with timestamp and value columns, series and tag columns.
    Csv,
    /// vctsdb's JSON: an object or an array of objects (timestamp, value, series).
    Json,
}

impl InputFormat {
    fn name(self) -> &'static str {
        match self {
            InputFormat::Lp => "lp",
            InputFormat::Csv => "csv",
            InputFormat::Json => "json",
        }
    }

    /// By extension (a `.gz` suffix is looked through): `.csv`, `.json`, else line protocol.
    pub fn of_path(p: &Path) -> InputFormat {
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".csv") {
            InputFormat::Csv
        } else if name.ends_with(".json") || name.ends_with(".ndjson") {
            InputFormat::Json
        } else {
            InputFormat::Lp
        }
    }
}

/// `strata import` arguments.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Files to import (`.gz` decompressed).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The database to write to (created if missing). Without it, an `influx_inspect export`
    /// file's `# CONTEXT-DATABASE:` lines choose.
    #[arg(long)]
    pub db: Option<String>,
    /// The input format [default: by extension: .csv, .json, else line protocol].
    #[arg(long, value_enum)]
    pub format: Option<InputFormat>,
    /// The unit of the input's timestamps.
    #[arg(long, default_value = "ns", value_parser = parse_precision)]
    pub precision: Precision,
    /// Lines or records per write.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// Skip what an earlier, interrupted import of the same file finished (FILE.strata-progress).
    #[arg(long)]
    pub resume: bool,
    /// JSON and CSV: the measurement of records without a series.
    #[arg(long)]
    pub measurement: Option<String>,
    /// CSV: the timestamp column.
    #[arg(long, default_value = "timestamp")]
    pub timestamp_column: String,
    /// CSV: the value column.
    #[arg(long, default_value = "value")]
    pub value_column: String,
    /// CSV: the column naming the measurement.
    #[arg(long, default_value = "series")]
    pub series_column: String,
    /// CSV: the delimiter (one byte).
    #[arg(long, default_value = ",")]
    pub delimiter: String,
    /// No progress bar (there is none anyway when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Import every file; the exit is [`CliError::Rejected`] if any line was refused.
pub fn run(a: &ImportArgs) -> Result<()> {
    let delimiter = match a.delimiter.as_bytes() {
        [d] => *d,
        _ => {
            return Err(CliError::Usage(format!(
                "--delimiter {:?}: expected one byte",
                a.delimiter
            )))
        }
    };
    let opts = RecordOptions {
        measurement: a.measurement.clone(),
        timestamp_column: a.timestamp_column.clone(),
        value_column: a.value_column.clone(),
        series_column: a.series_column.clone(),
        delimiter,
    };
    let stop_after = match std::env::var(STOP_AFTER_ENV) {
        Ok(v) => Some(
            v.trim()
                .parse::<u64>()
                .map_err(|_| CliError::Usage(format!("{STOP_AFTER_ENV}={v:?} is not a number")))?,
        ),
        Err(_) => None,
    };
    let target = Target::open(&a.target)?;
    let mut created = HashSet::new();
    let (mut written, mut rejected, mut failed) = (0u64, 0u64, None);
    for file in &a.files {
        let mut imp = Importer {
            target: &target,
            args: a,
            opts: &opts,
            file: file.clone(),
            created: &mut created,
            batch: Batch::default(),
            db: a.db.clone(),
            progress: Progress::default(),
            progress_path: progress::path_for(file),
            batches: 0,
            stop_after,
            bar: None,
            bytes_read: Arc::new(AtomicU64::new(0)),
            started: Instant::now(),
        };
        let r = imp.import();
        written += imp.progress.points;
        rejected += imp.progress.rejected;
        if let Some(bar) = &imp.bar {
            bar.finish_and_clear();
        }
        let secs = imp.started.elapsed().as_secs_f64();
        println!(
            "{}: {} points written, {} lines or records rejected, {:.1} s",
            file.display(),
            imp.progress.points,
            imp.progress.rejected,
            secs
        );
        if let Err(e) = r {
            eprintln!("{}: {e}", file.display());
            failed = Some(e);
        }
    }
    if a.files.len() > 1 {
        println!("total: {written} points written, {rejected} lines or records rejected");
    }
    let closed = target.close();
    if let Some(e) = failed {
        return Err(e);
    }
    closed?;
    if rejected > 0 {
        return Err(CliError::Rejected(rejected as usize));
    }
    Ok(())
}

/// Lines waiting to be written, with where each came from.
#[derive(Default)]
struct Batch {
    lines: Vec<String>,
    /// Per line: its line in the input and a label (`record 3`, `element 0`) if any.
    origins: Vec<(usize, Option<String>)>,
    bytes: usize,
    /// The last input unit in the batch.
    last_unit: u64,
}

struct Importer<'a> {
    target: &'a Target,
    args: &'a ImportArgs,
    opts: &'a RecordOptions,
    file: PathBuf,
    created: &'a mut HashSet<String>,
    batch: Batch,
    /// The database lines go to (`--db`, or the file's `# CONTEXT-DATABASE:`).
    db: Option<String>,
    progress: Progress,
    progress_path: PathBuf,
    batches: u64,
    stop_after: Option<u64>,
    bar: Option<indicatif::ProgressBar>,
    bytes_read: Arc<AtomicU64>,
    started: Instant,
}

/// Counts the bytes read from the file (for the progress bar).
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The CSV reader's input: a read that would take more than [`MAX_RECORD_BYTES`] (plus the
/// reader's read-ahead) since the current record began fails, so an unclosed quote cannot make
/// one record of the whole file.
struct RecordBound<R> {
    inner: R,
    since_record: Arc<AtomicU64>,
}

impl<R: Read> Read for RecordBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.since_record.load(Ordering::Relaxed) > (MAX_RECORD_BYTES + (64 << 10)) as u64 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!("a CSV record longer than {MAX_RECORD_BYTES} bytes (an unclosed quote?)"),
            ));
        }
        let n = self.inner.read(buf)?;
        self.since_record.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Read one line (without its `\n`) into `buf`, keeping at most `max` bytes: `None` at the end,
/// else whether the line was longer.
fn read_line_bounded(
    r: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let (mut any, mut long) = (false, false);
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(any.then_some(long));
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i, true),
            None => (avail.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if take > room {
            long = true;
        }
        buf.extend_from_slice(&avail[..take.min(room)]);
        r.consume(take + usize::from(done));
        if done {
            return Ok(Some(long));
        }
    }
}

impl Importer<'_> {
    fn import(&mut self) -> Result<()> {
        let format = self
            .args
            .format
            .unwrap_or_else(|| InputFormat::of_path(&self.file));
        let db_label = self.args.db.clone().unwrap_or_default();
        let current = Progress::start(&self.file, &db_label, format.name())?;
        let saved = Progress::load(&self.progress_path)?;
        self.progress = current.clone();
        match (self.args.resume, saved) {
            (true, Some(saved)) if current.same_import(&saved) => {
                eprintln!(
                    "{}: resuming after {} lines or records finished earlier",
                    self.file.display(),
                    saved.done
                );
                self.progress = saved;
            }
            (true, Some(_)) => {
                return Err(CliError::Usage(format!(
                    "{} records an import of another file, database or format: remove it, or \
                     import without --resume",
                    self.progress_path.display()
                )))
            }
            (true, None) => eprintln!(
                "{}: no earlier import to resume ({} is missing): importing from the start",
                self.file.display(),
                self.progress_path.display()
            ),
            (false, Some(_)) => eprintln!(
                "{}: an earlier import was interrupted ({}): importing from the start (use \
                 --resume to continue it)",
                self.file.display(),
                self.progress_path.display()
            ),
            (false, None) => {}
        }
        let f = File::open(&self.file)
            .map_err(|e| CliError::io(format!("open {}", self.file.display()), e))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        let mut counted = BufReader::new(Counting {
            inner: f,
            count: self.bytes_read.clone(),
        });
        let gz = counted
            .fill_buf()
            .map_err(|e| CliError::io(format!("read {}", self.file.display()), e))?
            .starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead> = if gz {
            Box::new(BufReader::with_capacity(
                256 << 10,
                flate2::bufread::MultiGzDecoder::new(counted),
            ))
        } else {
            Box::new(counted)
        };
        if !self.args.no_progress && std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(size);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{wide_bar} {bytes}/{total_bytes} {msg} ETA {eta}",
            ) {
                bar.set_style(style);
            }
            self.bar = Some(bar);
        }
        if let Some(db) = self.args.db.clone() {
            self.ensure_database(&db)?;
        }
        match format {
            InputFormat::Lp => self.lines(reader)?,
            InputFormat::Csv => self.csv(reader)?,
            InputFormat::Json => self.json(reader)?,
        }
        self.flush()?;
        // Done: nothing to resume.
        match std::fs::remove_file(&self.progress_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CliError::io(
                format!("remove {}", self.progress_path.display()),
                e,
            )),
            _ => Ok(()),
        }
    }

    fn read_err(&self, e: std::io::Error) -> CliError {
        CliError::io(format!("read {}", self.file.display()), e)
    }

    fn ensure_database(&mut self, db: &str) -> Result<()> {
        if self.created.insert(db.to_string()) {
            self.target.create_database(db)?;
        }
        Ok(())
    }

    fn reject(&mut self, line: usize, label: Option<&str>, reason: &str) {
        self.progress.rejected += 1;
        let label = label.map(|l| format!("{l}: ")).unwrap_or_default();
        self.say(&format!("{}:{line}: {label}{reason}", self.file.display()));
    }

    fn say(&self, msg: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{msg}")),
            None => eprintln!("{msg}"),
        }
    }

    /// Whether `unit` was finished by the run being resumed.
    fn skipped(&self, unit: u64) -> bool {
        unit <= self.progress.done
    }

    fn push(&mut self, unit: u64, line: usize, label: Option<String>, lp: String) -> Result<()> {
        self.batch.bytes += lp.len() + 1;
        self.batch.lines.push(lp);
        self.batch.origins.push((line, label));
        self.batch.last_unit = unit;
        if self.batch.lines.len() as u64 >= self.args.batch || self.batch.bytes >= MAX_BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Write the batch; report what was refused by its line in the input; save the progress.
    fn flush(&mut self) -> Result<()> {
        let batch = std::mem::take(&mut self.batch);
        if batch.lines.is_empty() {
            if batch.last_unit > self.progress.done {
                self.progress.done = batch.last_unit;
            }
            return Ok(());
        }
        let Some(db) = self.db.clone() else {
            return Err(CliError::Usage(
                "no database to write to: give --db NAME".into(),
            ));
        };
        self.ensure_database(&db)?;
        // Refused here with the engine's own parser, so the report names the input's line
        // and only good lines travel.
        let mut body = batch.lines.join("\n");
        let parsed = strata::lineproto::parse(&body, self.args.precision, 0, MAX_RECORD_BYTES);
        let mut sent: Vec<usize> = (0..batch.lines.len()).collect();
        if !parsed.errors.is_empty() {
            let bad: HashSet<usize> = parsed.errors.iter().map(|e| e.line - 1).collect();
            for e in &parsed.errors {
                let reason = format!("unable to parse '{}': {}", e.text, e.message);
                match e.line.checked_sub(1).and_then(|i| batch.origins.get(i)) {
                    Some((line, label)) => self.reject(*line, label.as_deref(), &reason),
                    None => self.reject(0, None, &reason),
                }
            }
            sent.retain(|i| !bad.contains(i));
            body = sent
                .iter()
                .map(|&i| batch.lines[i].as_str())
                .collect::<Vec<_>>()
                .join("\n");
        }
        let outcome = if sent.is_empty() {
            Default::default()
        } else {
            self.target.write(&db, &body, self.args.precision)?
        };
        let mut named = 0;
        for m in &outcome.messages {
            let at = m
                .strip_prefix("line ")
                .and_then(|r| r.split_once(": "))
                .and_then(|(n, reason)| Some((n.parse::<usize>().ok()?, reason)));
            match at.and_then(|(n, reason)| Some((sent.get(n.checked_sub(1)?)?, reason))) {
                Some((&i, reason)) => {
                    let (line, label) = batch.origins.get(i).cloned().unwrap_or((0, None));
                    self.reject(line, label.as_deref(), reason);
                    named += 1;
                }
                None => self.say(&format!("{}: {m}", self.file.display())),
            }
        }
        // Dropped lines no message names (a cardinality limit reports its reason once).
        self.progress.rejected += outcome.dropped.saturating_sub(named) as u64;
        self.progress.points += (sent.len() - outcome.dropped.min(sent.len())) as u64;
        self.progress.done = batch.last_unit;
        if let Err(e) = self.progress.save(&self.progress_path) {
            self.say(&format!(
                "warning: {e} (--resume will not know about this batch)"
            ));
        }
        self.batches += 1;
        if let Some(bar) = &self.bar {
            bar.set_position(self.bytes_read.load(Ordering::Relaxed));
            let rate = self.progress.points as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{rate:.0} points/s"));
        }
        if self.stop_after == Some(self.batches) {
            self.say(&format!(
                "{STOP_AFTER_ENV}: stopping after {} batches",
                self.batches
            ));
            std::process::exit(3);
        }
        Ok(())
    }

    /// Line protocol, with `influx_inspect export`'s sections and context lines.
    fn lines(&mut self, mut r: Box<dyn BufRead>) -> Result<()> {
        let mut buf = Vec::new();
        let (mut line_no, mut in_ddl) = (0usize, false);
        while let Some(long) =
            read_line_bounded(&mut r, &mut buf, MAX_RECORD_BYTES).map_err(|e| self.read_err(e))?
        {
            line_no += 1;
            let unit = line_no as u64;
            if long {
                if !self.skipped(unit) {
                    self.reject(
                        line_no,
                        None,
                        &format!("line longer than {MAX_RECORD_BYTES} bytes"),
                    );
                }
                continue;
            }
            let text = match std::str::from_utf8(&buf) {
                Ok(t) => t.trim_end_matches('\r').to_string(),
                Err(_) => {
                    if !self.skipped(unit) {
                        self.reject(line_no, None, "not UTF-8");
                    }
                    continue;
                }
            };
            let trimmed = text.trim();
            if let Some(comment) = trimmed.strip_prefix('#') {
                let c = comment.trim();
                if c == "DDL" {
                    in_ddl = true;
                } else if c == "DML" {
                    in_ddl = false;
                } else if let Some(db) = c.strip_prefix("CONTEXT-DATABASE:") {
                    if self.args.db.is_none() {
                        self.flush()?;
                        self.db = Some(db.trim().to_string());
                    }
                }
                // CONTEXT-RETENTION-POLICY: strata has one policy per database.
                continue;
            }
            if trimmed.is_empty() {
                continue;
            }
            if in_ddl {
                // With --db everything goes there: the file's CREATE DATABASE lines are moot.
                if self.args.db.is_none() {
                    self.ddl(line_no, trimmed)?;
                }
                continue;
            }
            if self.skipped(unit) {
                continue;
            }
            self.push(unit, line_no, None, text)?;
        }
        Ok(())
    }

    /// A `# DDL` statement (`CREATE DATABASE name WITH NAME rp`): the database is created.
    fn ddl(&mut self, line: usize, stmt: &str) -> Result<()> {
        let r = self
            .target
            .query("", stmt, Epoch::Nanosecond)
            .and_then(|a| a.check());
        if let Err(e) = r {
            // 1.x's `WITH NAME autogen` alone may not parse here: the database is what counts.
            let words: Vec<&str> = stmt.split_whitespace().collect();
            match words.as_slice() {
                [c, d, name, ..]
                    if c.eq_ignore_ascii_case("CREATE") && d.eq_ignore_ascii_case("DATABASE") =>
                {
                    self.ensure_database(name.trim_matches('"'))?;
                }
                _ => self.reject(line, None, &format!("DDL statement failed: {e}")),
            }
        }
        Ok(())
    }

    fn csv(&mut self, r: Box<dyn BufRead>) -> Result<()> {
        let since_record = Arc::new(AtomicU64::new(0));
        let mut rd = csv::ReaderBuilder::new()
            .delimiter(self.opts.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(RecordBound {
                inner: r,
                since_record: since_record.clone(),
            });
        let mut rec = csv::StringRecord::new();
        let header = match rd.read_record(&mut rec) {
            Ok(true) => rec.clone(),
            Ok(false) => return Ok(()),
            Err(e) => return Err(CliError::Usage(format!("line 1: bad CSV header: {e}"))),
        };
        let layout = CsvLayout::new(header.iter(), self.opts)
            .map_err(|e| CliError::Usage(format!("line 1: {e}")))?;
        let mut number = 0u64;
        loop {
            since_record.store(0, Ordering::Relaxed);
            let starts_at = rd.position().line() as usize;
            let r = rd.read_record(&mut rec);
            let line = rd.position().line() as usize;
            match r {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    number += 1;
                    if self.skipped(number) {
                        continue;
                    }
                    let line = rec.position().map_or(line, |p| p.line() as usize);
                    let label = format!("record {number}");
                    match layout.line(rec.iter(), self.opts) {
                        Ok(lp) => self.push(number, line, Some(label), lp)?,
                        Err(reason) => self.reject(line, Some(&label), &reason),
                    }
                }
                Err(e) => {
                    if let csv::ErrorKind::Io(io) = e.kind() {
                        if io.kind() != std::io::ErrorKind::FileTooLarge {
                            return Err(CliError::Usage(format!("read: {e}")));
                        }
                        let msg = format!("{io}; the rest of the file is not read");
                        self.reject(starts_at, Some(&format!("record {}", number + 1)), &msg);
                        return Ok(());
                    }
                    number += 1;
                    if !self.skipped(number) {
                        let line = e.position().map_or(line, |p| p.line() as usize);
                        self.reject(line, Some(&format!("record {number}")), &e.to_string());
                    }
                }
            }
        }
    }

    fn json(&mut self, r: Box<dyn BufRead>) -> Result<()> {
        let mut elements = JsonElements::new(r, MAX_RECORD_BYTES);
        loop {
            let e = match elements.next_element() {
                Ok(Some(e)) => e,
                Ok(None) => return Ok(()),
                Err(msg) => {
                    let line = elements.line();
                    self.reject(
                        line,
                        None,
                        &format!("{msg}; the rest of the file is not read"),
                    );
                    return Ok(());
                }
            };
            let unit = e.index as u64 + 1;
            if self.skipped(unit) {
                continue;
            }
            let label = format!("element {}", e.index);
            let parsed = e.bytes.and_then(|b| {
                serde_json::from_slice::<serde_json::Value>(&b)
                    .map_err(|e| format!("invalid JSON: {e}"))
            });
            match parsed.and_then(|v| strata::ingest::json_line(&v, self.opts)) {
                Ok(lp) => self.push(unit, e.line, Some(label), lp)?,
                Err(reason) => self.reject(e.line, Some(&label), &reason),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(InputFormat::of_path(Path::new("a.csv")), InputFormat::Csv);
        assert_eq!(
            InputFormat::of_path(Path::new("a.JSON.gz")),
            InputFormat::Json
        );
        assert_eq!(InputFormat::of_path(Path::new("a.lp.gz")), InputFormat::Lp);
        assert_eq!(InputFormat::of_path(Path::new("export")), InputFormat::Lp);
    }

    #[test]
    fn lines_are_read_within_a_bound() {
        let mut r = BufReader::with_capacity(4, &b"ab\r\nlonger line\nlast"[..]);
        let mut buf = Vec::new();
        assert_eq!(
            read_line_bounded(&mut r, &mut buf, 5).expect("read"),
            Some(false)
        );
        assert_eq!(buf, b"ab\r");
        assert_eq!(
            read_line_bounded(&mut r, &mut buf, 5).expect("read"),
            Some(true)
        );
        assert_eq!(buf, b"longe");
        assert_eq!(
            read_line_bounded(&mut r, &mut buf, 5).expect("read"),
            Some(false)
        );
        assert_eq!(buf, b"last");
        assert_eq!(read_line_bounded(&mut r, &mut buf, 5).expect("read"), None);
    }
}
