//! Where a command's statements and writes go: the daemon that owns the data directory (through
//! its Unix socket) or, when none runs, the data directory opened embedded.

use std::path::{Path, PathBuf};

use clap::Args;
use strata::lineproto::Precision;
use strata::query::Epoch;
use strata::{Config, Db};

use super::format::Answer;
use super::http::{self, Client, Credentials};
use super::{CliError, Result};

/// The default socket and data directory: the ones `strata serve` uses.
pub const DEFAULT_SOCKET: &str = "./strata.sock";
/// See [`DEFAULT_SOCKET`].
pub const DEFAULT_DATA_DIR: &str = "./strata-data";

/// How a command reaches the data: `--socket`, `--data-dir`, credentials.
#[derive(Args, Clone, Debug, Default)]
pub struct TargetArgs {
    /// The daemon's Unix socket [default: ./strata.sock, as `strata serve`]. Given: the daemon
    /// must answer there. Not given: the default socket is used if a daemon answers on it,
    /// else the data directory is opened embedded.
    #[arg(long, global = true)]
    pub socket: Option<PathBuf>,
    /// The data directory to open embedded when no daemon runs [default: ./strata-data, as
    /// `strata serve`]. Given without --socket: always opened embedded.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// User name, when the daemon has authentication on.
    #[arg(long, env = "STRATA_USERNAME", global = true)]
    pub username: Option<String>,
    /// Password, when the daemon has authentication on.
    #[arg(long, env = "STRATA_PASSWORD", global = true, hide_env_values = true)]
    pub password: Option<String>,
}

/// A choice made from [`TargetArgs`], before anything is opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// The daemon at this socket only.
    Daemon(PathBuf),
    /// The daemon at this socket if it answers, else this directory embedded.
    DaemonOrEmbedded(PathBuf, PathBuf),
    /// This directory embedded only.
    Embedded(PathBuf),
}

impl TargetArgs {
    /// Which target the flags ask for.
    pub fn plan(&self) -> Plan {
        match (&self.socket, &self.data_dir) {
            (Some(s), _) => Plan::Daemon(s.clone()),
            (None, Some(d)) => Plan::Embedded(d.clone()),
            (None, None) => Plan::DaemonOrEmbedded(
                PathBuf::from(DEFAULT_SOCKET),
                PathBuf::from(DEFAULT_DATA_DIR),
            ),
        }
    }

    fn credentials(&self) -> Option<Credentials> {
        match (&self.username, &self.password) {
            (None, None) => None,
            (u, p) => Some(Credentials {
                username: u.clone().unwrap_or_default(),
                password: p.clone().unwrap_or_default(),
            }),
        }
    }
}

/// What a write did: the lines refused (messages naming their line in the body sent) and how
/// many were dropped.
#[derive(Debug, Default, PartialEq)]
pub struct WriteOutcome {
    /// One message per problem, as the engine reports them (`line N: reason`).
    pub messages: Vec<String>,
    /// Lines dropped.
    pub dropped: usize,
}

/// An opened target.
pub enum Target {
    Daemon(Client),
    Embedded(Box<Db>),
}

impl Target {
    /// Open what `args` ask for (see [`TargetArgs::plan`]).
    pub fn open(args: &TargetArgs) -> Result<Target> {
        let auth = args.credentials();
        match args.plan() {
            Plan::Daemon(socket) => {
                let c = Client::new(&socket, auth);
                c.ping()?;
                Ok(Target::Daemon(c))
            }
            Plan::DaemonOrEmbedded(socket, dir) => {
                let c = Client::new(&socket, auth);
                if socket.exists() && c.ping().is_ok() {
                    return Ok(Target::Daemon(c));
                }
                Target::embedded(&dir)
            }
            Plan::Embedded(dir) => Target::embedded(&dir),
        }
    }

    fn embedded(dir: &Path) -> Result<Target> {
        let db = Db::open(dir, Config::new()).map_err(CliError::from_strata)?;
        Ok(Target::Embedded(Box::new(db)))
    }

    /// Where the data is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Target::Daemon(c) => format!("the daemon at {}", c.socket().display()),
            Target::Embedded(db) => format!("{} (embedded)", db.path().display()),
        }
    }

    /// Run `q` against `db`; times rendered per `epoch`. A statement's error is in its result;
    /// a failure of the whole request (syntax, database, auth) is an error.
    pub fn query(&self, db: &str, q: &str, epoch: Epoch) -> Result<Answer> {
        let json = match self {
            Target::Daemon(c) => {
                let mut path = format!("/query?db={}", http::encode(db));
                if let Some(e) = epoch_param(epoch) {
                    path.push_str(&format!("&epoch={e}"));
                }
                let body = format!("q={}", http::encode(q));
                let r = c.request(
                    "POST",
                    &path,
                    Some("application/x-www-form-urlencoded"),
                    body.as_bytes(),
                )?;
                if r.status != 200 {
                    return Err(CliError::Http {
                        status: r.status,
                        message: http::error_message(&r.body),
                    });
                }
                String::from_utf8(r.body)
                    .map_err(|_| CliError::Protocol("the answer is not UTF-8".into()))?
            }
            Target::Embedded(d) => d.query(db, q)?.to_json_epoch(epoch),
        };
        Answer::from_json(json)
    }

    /// Run vq text (vkdb's language) on `db` (`vq` when empty): what `strata vq` prints on
    /// stdout, or the §6.2 error line of a parse or runtime error.
    pub fn vq(&self, db: &str, text: &str) -> Result<std::result::Result<String, String>> {
        let db = if db.is_empty() {
            strata::vq::DEFAULT_DATABASE
        } else {
            db
        };
        match self {
            Target::Daemon(c) => {
                let creds = strata::vq::client::Credentials {
                    username: c.credentials().map(|a| a.username.clone()),
                    password: c.credentials().map(|a| a.password.clone()),
                };
                let remote = strata::vq::client::run_remote(c.socket(), db, text, &creds)
                    .map_err(CliError::Protocol)?;
                Ok(match remote.error {
                    None => Ok(remote.output),
                    Some((line, _)) => Err(line),
                })
            }
            Target::Embedded(d) => Ok(d
                .vq_in(db, text)
                .map(|outputs| strata::vq::render(&outputs))
                .map_err(|e| e.to_string())),
        }
    }

    /// Write line protocol to `db`. Refused lines are in the outcome (the others are written);
    /// anything else that fails is an error.
    pub fn write(&self, db: &str, lines: &str, precision: Precision) -> Result<WriteOutcome> {
        match self {
            Target::Daemon(c) => {
                let path = format!(
                    "/write?db={}&precision={}",
                    http::encode(db),
                    precision_param(precision)
                );
                let r = c.request("POST", &path, Some("text/plain"), lines.as_bytes())?;
                match r.status {
                    204 => Ok(WriteOutcome::default()),
                    400 => {
                        let msg = http::error_message(&r.body);
                        partial_write(&msg).ok_or(CliError::Http {
                            status: 400,
                            message: msg,
                        })
                    }
                    status => Err(CliError::Http {
                        status,
                        message: http::error_message(&r.body),
                    }),
                }
            }
            Target::Embedded(d) => match d.write_lines_with(db, lines, precision) {
                Ok(_) => Ok(WriteOutcome::default()),
                Err(strata::Error::PartialWrite { message, dropped }) => Ok(WriteOutcome {
                    messages: message.lines().map(str::to_string).collect(),
                    dropped,
                }),
                Err(e) => Err(e.into()),
            },
        }
    }

    /// `CREATE DATABASE name` (nothing if it exists).
    pub fn create_database(&self, name: &str) -> Result<()> {
        let q = format!("CREATE DATABASE {}", super::quote_ident(name));
        self.query("", &q, Epoch::Nanosecond)?.check()
    }

    /// Close an embedded database (flushing it); nothing for a daemon.
    pub fn close(self) -> Result<()> {
        match self {
            Target::Daemon(_) => Ok(()),
            Target::Embedded(db) => Ok(db.close()?),
        }
    }
}

/// A `partial write: MESSAGE dropped=N` error as the daemon sends it.
fn partial_write(msg: &str) -> Option<WriteOutcome> {
    let rest = msg.strip_prefix("partial write: ")?;
    let (message, dropped) = rest.rsplit_once(" dropped=")?;
    Some(WriteOutcome {
        messages: message.lines().map(str::to_string).collect(),
        dropped: dropped.trim().parse().ok()?,
    })
}

/// The `/query` `epoch=` value of an [`Epoch`] (none for RFC3339).
pub fn epoch_param(e: Epoch) -> Option<&'static str> {
    Some(match e {
        Epoch::Rfc3339 => return None,
        Epoch::Nanosecond => "ns",
        Epoch::Microsecond => "u",
        Epoch::Millisecond => "ms",
        Epoch::Second => "s",
        Epoch::Minute => "m",
        Epoch::Hour => "h",
    })
}

/// The `/write` `precision=` value of a [`Precision`].
pub fn precision_param(p: Precision) -> &'static str {
    match p {
        Precision::Nanosecond => "ns",
        Precision::Microsecond => "u",
        Precision::Millisecond => "ms",
        Precision::Second => "s",
        Precision::Minute => "m",
        Precision::Hour => "h",
    }
}

/// Parse the output precision of `query` and `repl`: `rfc3339` or an epoch unit.
pub fn parse_epoch(s: &str) -> std::result::Result<Epoch, String> {
    if s.eq_ignore_ascii_case("rfc3339") {
        return Ok(Epoch::Rfc3339);
    }
    match Epoch::parse(s) {
        Some(e) if !s.is_empty() => Ok(e),
        _ => Err(format!(
            "unknown precision {s:?}: use rfc3339, h, m, s, ms, u or ns"
        )),
    }
}

/// Parse a write precision (`ns`, `u`, `ms`, `s`, `m`, `h`).
pub fn parse_precision(s: &str) -> std::result::Result<Precision, String> {
    Precision::parse(s).ok_or_else(|| format!("unknown precision {s:?}: use h, m, s, ms, u or ns"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans() {
        let mut a = TargetArgs::default();
        assert!(matches!(a.plan(), Plan::DaemonOrEmbedded(..)));
        a.data_dir = Some("/d".into());
        assert_eq!(a.plan(), Plan::Embedded("/d".into()));
        a.socket = Some("/s".into());
        assert_eq!(a.plan(), Plan::Daemon("/s".into()));
    }

    #[test]
    fn partial_writes_parse() {
        let o =
            partial_write("partial write: line 2: bad\nline 5: worse dropped=2").expect("parse");
        assert_eq!(o.messages, vec!["line 2: bad", "line 5: worse"]);
        assert_eq!(o.dropped, 2);
        assert!(partial_write("database not found").is_none());
    }

    #[test]
    fn precisions() {
        assert_eq!(parse_epoch("rfc3339"), Ok(Epoch::Rfc3339));
        assert_eq!(parse_epoch("ms"), Ok(Epoch::Millisecond));
        assert!(parse_epoch("").is_err());
        assert!(parse_epoch("days").is_err());
        assert_eq!(parse_precision("s"), Ok(Precision::Second));
        assert!(parse_precision("x").is_err());
    }
}
