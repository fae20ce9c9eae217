//! The command line for people at a terminal: `strata query`, `import`, `export` and `repl`.
//!
//! Every command reaches a data directory through [`target::Target`]: the running daemon's Unix
//! socket when one answers, else the directory opened embedded (one process owns a data
//! directory: a directory a daemon holds is never opened a second time).

pub mod completion;
pub mod export;
pub mod format;
pub mod http;
pub mod import;
pub mod progress;
pub mod query;
pub mod repl;
pub mod target;

use std::path::PathBuf;

/// A command-line failure, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An error of the embedded database.
    #[error("{0}")]
    Strata(#[from] strata::Error),
    /// The data directory is held by another process (a daemon).
    #[error(
        "the data directory {} is in use by another process (a running `strata serve`?): \
         reach it through the daemon's socket with --socket PATH",
        path.display()
    )]
    Locked { path: PathBuf },
    /// The socket named by --socket does not answer.
    #[error(
        "cannot reach a strata daemon at {}: {source} (start `strata serve`, or leave out \
         --socket to open the data directory itself)",
        path.display()
    )]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file or socket operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// The daemon answered with an error status.
    #[error("{message}")]
    Http { status: u16, message: String },
    /// A malformed answer from the daemon.
    #[error("bad answer from the daemon: {0}")]
    Protocol(String),
    /// A bad argument or input that stops the command.
    #[error("{0}")]
    Usage(String),
    /// An import rejected this many lines or records (each already reported).
    #[error("{0} line(s) or record(s) rejected")]
    Rejected(usize),
    /// A query answered with statement errors (already printed).
    #[error("{0} statement(s) failed")]
    StatementsFailed(usize),
}

impl CliError {
    /// An [`CliError::Io`] with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> CliError {
        CliError::Io {
            context: context.into(),
            source,
        }
    }

    /// An embedded database error, with the lock turned into [`CliError::Locked`].
    pub fn from_strata(e: strata::Error) -> CliError {
        match e {
            strata::Error::Locked { path } => CliError::Locked { path },
            e => CliError::Strata(e),
        }
    }
}

/// Result of the command-line code.
pub type Result<T> = std::result::Result<T, CliError>;

/// Quote an InfluxQL identifier (`"cpu"`, `"a \"b\""`).
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Quote an InfluxQL string literal (`'a'`, `'it\'s'`).
pub fn quote_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The process exit code of a command's result, printing the error on stderr: 0 done, 1 failed
/// (statement errors were printed already), 2 an import that rejected some lines.
pub fn exit_code(command: &str, r: Result<()>) -> std::process::ExitCode {
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(CliError::StatementsFailed(_)) => std::process::ExitCode::FAILURE,
        Err(CliError::Rejected(n)) => {
            eprintln!(
                "strata {command}: {n} line(s) or record(s) rejected (the others were written)"
            );
            std::process::ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("strata {command}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("cpu"), "\"cpu\"");
        assert_eq!(quote_ident("a\"b"), "\"a\\\"b\"");
        assert_eq!(quote_string("it's"), "'it\\'s'");
        assert_eq!(quote_string("a\\b"), "'a\\\\b'");
    }

    #[test]
    fn the_lock_message_points_to_the_socket() {
        let e = CliError::from_strata(strata::Error::Locked {
            path: PathBuf::from("/d"),
        });
        assert!(e.to_string().contains("--socket"), "{e}");
    }
}
