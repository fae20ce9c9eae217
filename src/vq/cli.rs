//! `strata vq FILE.vq` (file mode) and `strata vq` (the REPL), VQ.md §7.
//!
//! Exit codes (sysexits): 0 success; 64 the file is not a `.vq` file; 65 a parse error; 66 the
//! file cannot be read; 70 a runtime error. Opening the data directory can fail too: 75
//! (EX_TEMPFAIL) when another process — a running `strata serve` — holds it, 74 (EX_IOERR)
//! for any other failure. With `--socket PATH` the text goes to that daemon (`POST /vq`)
//! instead; 69 (EX_UNAVAILABLE) when it cannot be reached or refuses. The REPL always exits 0.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::{Config, Db, Error};

use super::ast::Program;
use super::client::{run_remote, Credentials};
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
/// The daemon named by `--socket` cannot be reached or refused the request.
pub const EXIT_UNAVAILABLE: u8 = 69;
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
    /// Run through the daemon listening on this Unix socket (`strata serve --socket`) instead
    /// of opening the data directory.
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// User name for a daemon with authentication on.
    #[arg(long, env = "STRATA_USERNAME")]
    pub username: Option<String>,
    /// Password for a daemon with authentication on.
    #[arg(long, env = "STRATA_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

/// Where vq runs: an embedded `Db` on the data directory, or a daemon's socket.
enum Backend {
    Local(Db),
    Remote { socket: PathBuf, creds: Credentials },
}

impl Backend {
    fn new<W: Write>(args: &VqArgs, err: &mut Errors<W>) -> Result<Backend, u8> {
        match &args.socket {
            Some(socket) => Ok(Backend::Remote {
                socket: socket.clone(),
                creds: Credentials {
                    username: args.username.clone(),
                    password: args.password.clone(),
                },
            }),
            None => open(args, err).map(Backend::Local),
        }
    }

    /// Run a parsed source: what to print on stdout, or the error line and its exit code.
    fn run(&self, database: &str, program: &Program, source: &str) -> Result<String, (String, u8)> {
        match self {
            Backend::Local(db) => super::exec::run_program(db, database, program)
                .map(|outputs| render(&outputs))
                .map_err(|e| (e.to_string(), exit_code(&e))),
            Backend::Remote { socket, creds } => {
                match run_remote(socket, database, source, creds) {
                    Ok(remote) => match remote.error {
                        None => Ok(remote.output),
                        Some(failed) => Err(failed),
                    },
                    Err(why) => Err((format!("strata vq: {why}"), EXIT_UNAVAILABLE)),
                }
            }
        }
    }

    /// Close an embedded data directory (everything is already durable; this drains the
    /// actors).
    fn close(self) -> Result<(), Error> {
        match self {
            Backend::Local(db) => db.close(),
            Backend::Remote { .. } => Ok(()),
        }
    }
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
            let backend = match Backend::new(args, &mut err) {
                Ok(b) => b,
                Err(code) => return code,
            };
            let code = if std::io::stdin().is_terminal() {
                repl_terminal(&backend, &args.db, &mut err)
            } else {
                let stdin = std::io::stdin();
                repl_lines(
                    &backend,
                    &args.db,
                    stdin.lock(),
                    &mut stdout.lock(),
                    &mut err,
                )
            };
            if let Err(e) = backend.close() {
                err.line(&format!("strata vq: closing the data directory: {e}"));
            }
            code
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

/// Open the data directory, or say why not (a daemon holding it is named as such) and give
/// the exit code.
fn open<W: Write>(args: &VqArgs, err: &mut Errors<W>) -> Result<Db, u8> {
    match Db::open(&args.data_dir, Config::new()) {
        Ok(db) => Ok(db),
        Err(Error::Locked { path }) => {
            err.line(&format!(
                "strata vq: the data directory {} is held by another process (a running \
                 `strata serve`?); one process owns a data directory: run vq through the \
                 daemon with --socket PATH (its socket), or stop it",
                path.display()
            ));
            Err(EXIT_TEMPFAIL)
        }
        Err(e) => {
            err.line(&format!(
                "strata vq: cannot open the data directory {}: {e}",
                args.data_dir.display()
            ));
            Err(EXIT_IOERR)
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
    let backend = match Backend::new(args, err) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let code = match backend.run(&args.db, &program, &source) {
        Ok(text) => {
            let _ = out.write_all(text.as_bytes());
            EXIT_OK
        }
        Err((line, code)) => {
            err.line(&line);
            code
        }
    };
    let _ = out.flush();
    if let Err(e) = backend.close() {
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
    backend: &Backend,
    database: &str,
    line: &str,
    out: &mut W,
    err: &mut Errors<E>,
) {
    let ran = parse(line)
        .map_err(|e| (e.to_string(), EXIT_DATAERR))
        .and_then(|program| backend.run(database, &program, line));
    match ran {
        Ok(text) => {
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
        Err((message, _)) => err.line(&message),
    }
}

/// The REPL on a stream that is not a terminal: no banner, no prompt; each line a program;
/// it ends at the end of input or at an empty line. Always exit code 0.
fn repl_lines<R: BufRead, W: Write, E: Write>(
    backend: &Backend,
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
        repl_line(backend, database, line, out, err);
    }
    EXIT_OK
}

/// The REPL on a terminal: banner, `(vq) >> ` prompt, line editing and history (rustyline,
/// kept in `$HOME/.strata_vq_history`).
fn repl_terminal<E: Write>(backend: &Backend, database: &str, err: &mut Errors<E>) -> u8 {
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
            return repl_lines(backend, database, stdin.lock(), &mut stdout.lock(), err);
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
                repl_line(backend, database, &line, &mut stdout.lock(), err);
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
