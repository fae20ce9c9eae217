//! `strata vq FILE.vq` (file mode) and `strata vq` (the REPL), VQ.md §7.
//!
//! Exit codes (sysexits): 0 success; 64 the file is not a `.vq` file; 65 a parse error; 66 the
//! file cannot be read; 70 a runtime error. Opening the data directory can fail too: 75
//! (EX_TEMPFAIL) when another process — a running `strata serve` — holds it, 74 (EX_IOERR)
//! for any other failure. The REPL always exits 0.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::{Config, Db, Error};

use super::{parse, render, VqError, DEFAULT_DATABASE};

/// Success.
pub const EXIT_OK: u8 = 0;
/// The file is not a `.vq` file.
pub const EXIT_USAGE: u8 = 64;
/// The source does not parse.
pub const EXIT_DATAERR: u8 = 65;
/// The file cannot be read.
pub const EXIT_NOINPUT: u8 = 66;
/// A statement failed at run time.
pub const EXIT_SOFTWARE: u8 = 70;
/// The data directory could not be opened.
pub const EXIT_IOERR: u8 = 74;
/// Another process (a running daemon) holds the data directory.
pub const EXIT_TEMPFAIL: u8 = 75;

/// `strata vq [FILE.vq] [--data-dir DIR] [--db NAME]`.
#[derive(clap::Args, Debug, Clone)]
pub struct VqArgs {
    /// A `.vq` file to run; without one, the vq REPL reads statements from standard input.
    pub file: Option<PathBuf>,
    /// Data directory (the one `strata serve` uses).
    #[arg(long, env = "STRATA_DATA_DIR", default_value = "./strata-data")]
    pub data_dir: PathBuf,
    /// The database vq's tables live in.
    #[arg(long, default_value = DEFAULT_DATABASE)]
    pub db: String,
}

/// Run the command; the process exit code.
pub fn main(args: &VqArgs) -> u8 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let colour = stderr.is_terminal();
    let mut err = Errors {
        out: stderr.lock(),
        colour,
    };
    match &args.file {
        Some(path) => run_file(args, path, &mut stdout.lock(), &mut err),
        None => {
            let Some(db) = open(args, &mut err) else {
                return open_failed_code(args);
            };
            if std::io::stdin().is_terminal() {
                repl_terminal(&db, &args.db, &mut err)
            } else {
                let stdin = std::io::stdin();
                repl_lines(&db, &args.db, stdin.lock(), &mut stdout.lock(), &mut err)
            }
        }
    }
}

/// Where error lines go: stderr, in vkdb's bold green when it is a terminal.
pub struct Errors<W: Write> {
    pub out: W,
    pub colour: bool,
}

impl<W: Write> Errors<W> {
    fn line(&mut self, text: &str) {
        // Nothing useful can be done when stderr itself fails.
        let _ = if self.colour {
            writeln!(self.out, "\x1b[1;32m{text}\x1b[0m")
        } else {
            writeln!(self.out, "{text}")
        };
    }
}

fn open_failed_code(args: &VqArgs) -> u8 {
    match crate::db::lock_data_dir(&args.data_dir) {
        Err(Error::Locked { .. }) => EXIT_TEMPFAIL,
        _ => EXIT_IOERR,
    }
}

/// Open the data directory, or say why not (a daemon holding it is named as such).
fn open<W: Write>(args: &VqArgs, err: &mut Errors<W>) -> Option<Db> {
    match Db::open(&args.data_dir, Config::new()) {
        Ok(db) => Some(db),
        Err(Error::Locked { path }) => {
            err.line(&format!(
                "strata vq: the data directory {} is held by another process (a running \
                 `strata serve`?); one process owns a data directory: stop the daemon, or \
                 run the statements through it",
                path.display()
            ));
            None
        }
        Err(e) => {
            err.line(&format!(
                "strata vq: cannot open the data directory {}: {e}",
                args.data_dir.display()
            ));
            None
        }
    }
}

fn run_file<W: Write, E: Write>(
    args: &VqArgs,
    path: &Path,
    out: &mut W,
    err: &mut Errors<E>,
) -> u8 {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_string())
        .unwrap_or_default();
    if ext != "vq" {
        err.line(&format!(
            "File extension cannot be \"{}\", must be .vq.",
            if ext.is_empty() {
                String::new()
            } else {
                format!(".{ext}")
            }
        ));
        return EXIT_USAGE;
    }
    let source = match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        Err(_) => {
            err.line(&format!("Unable to open file \"{}\".", path.display()));
            return EXIT_NOINPUT;
        }
    };
    // Parse before opening anything: a source that does not parse runs nothing.
    let program = match parse(&source) {
        Ok(p) => p,
        Err(e) => {
            err.line(&e.to_string());
            return EXIT_DATAERR;
        }
    };
    let Some(db) = open(args, err) else {
        return open_failed_code(args);
    };
    let code = match super::exec::run_program(&db, &args.db, &program) {
        Ok(outputs) => {
            let _ = out.write_all(render(&outputs).as_bytes());
            EXIT_OK
        }
        Err(e) => {
            err.line(&e.to_string());
            exit_code(&e)
        }
    };
    let _ = out.flush();
    if let Err(e) = db.close() {
        err.line(&format!("strata vq: closing the data directory: {e}"));
        return EXIT_IOERR.max(code);
    }
    code
}

/// The file mode's exit code for an error.
pub fn exit_code(e: &VqError) -> u8 {
    if e.is_parse() {
        EXIT_DATAERR
    } else {
        EXIT_SOFTWARE
    }
}

/// One REPL line: a separate program. Results to `out`, an error to `err`.
fn repl_line<W: Write, E: Write>(
    db: &Db,
    database: &str,
    line: &str,
    out: &mut W,
    err: &mut Errors<E>,
) {
    match db.vq_in(database, line) {
        Ok(outputs) => {
            let _ = out.write_all(render(&outputs).as_bytes());
            let _ = out.flush();
        }
        Err(e) => err.line(&e.to_string()),
    }
}

/// The REPL on a stream that is not a terminal: no banner, no prompt; each line a program;
/// it ends at the end of input or at an empty line. Always exit code 0.
pub fn repl_lines<R: BufRead, W: Write, E: Write>(
    db: &Db,
    database: &str,
    input: R,
    out: &mut W,
    err: &mut Errors<E>,
) -> u8 {
    for line in input.lines() {
        let Ok(line) = line else { break };
        let line = line.strip_suffix('\r').unwrap_or(&line);
        if line.is_empty() {
            break;
        }
        repl_line(db, database, line, out, err);
    }
    EXIT_OK
}

/// The REPL on a terminal: banner, `(vq) >> ` prompt, line editing and history (rustyline,
/// kept in `$HOME/.strata_vq_history`).
fn repl_terminal<E: Write>(db: &Db, database: &str, err: &mut Errors<E>) -> u8 {
    println!("welcome to the vq repl! :)");
    println!("(on database '{database}')");
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            err.line(&format!(
                "strata vq: no line editor ({e}); reading plain lines"
            ));
            let stdin = std::io::stdin();
            let stdout = std::io::stdout();
            return repl_lines(db, database, stdin.lock(), &mut stdout.lock(), err);
        }
    };
    let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".strata_vq_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let stdout = std::io::stdout();
    loop {
        match editor.readline("(vq) >> ") {
            Ok(line) if line.is_empty() => break,
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                repl_line(db, database, &line, &mut stdout.lock(), err);
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    EXIT_OK
}
