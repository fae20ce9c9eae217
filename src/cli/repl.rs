//! `strata repl`: an InfluxQL shell in the manner of the `influx` CLI.
//!
//! A statement runs when Enter completes it: when the text typed so far ends with `;` or
//! parses as whole statements. An unfinished statement (`SELECT mean(v)` then `FROM cpu`)
//! continues on the next line under the prompt `...`; an empty line runs what was typed.
//! `:vq` switches to vq (vkdb's language, `(vq) >> ` prompt): each line is one vq program, run
//! on the current database (`vq` until `use` names one); `:influxql` switches back. Tab
//! completes commands, keywords, functions and names (`completion.rs`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use rustyline::error::ReadlineError;
use strata::query::Epoch;

use super::completion::ReplHelper;
use super::format::Format;
use super::target::{parse_epoch, Target, TargetArgs};
use super::{CliError, Result};

/// `strata repl` arguments.
#[derive(Args, Debug)]
pub struct ReplArgs {
    /// The database to start in (`USE db` changes it).
    #[arg(long, default_value = "")]
    pub db: String,
    /// Output format (`format table|csv|json` changes it).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// How times are printed (`precision` changes it): rfc3339, h, m, s, ms, u or ns.
    #[arg(long, default_value = "rfc3339", value_parser = parse_epoch)]
    pub precision: Epoch,
    /// The history file [default: ~/.strata_history].
    #[arg(long, env = "STRATA_HISTORY")]
    pub history: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
}

const HELP: &str = "\
Enter InfluxQL statements; one runs when its line completes it (or ends with ';'),
an unfinished one continues on the next line ('...'), an empty line runs it.
Commands:
  use <db>                  set the database of the following statements
  format table|csv|json     how answers are printed
  precision rfc3339|h|m|s|ms|u|ns
                            how times are printed
  timing (or \\timing)       print how long each statement took (toggle)
  Tab                       complete a command, keyword, function, database or measurement
  help                      this text
  exit, quit, Ctrl-D        leave
:vq                       speak vq (vkdb's language): each line is a vq program
:influxql                 speak InfluxQL again";

/// The shell's settings.
struct Session {
    db: String,
    format: Format,
    precision: Epoch,
    timing: bool,
    /// Lines are vq programs (`:vq`), not InfluxQL.
    vq: bool,
}

/// What one complete input asks for.
#[derive(Debug, PartialEq)]
enum Input {
    Exit,
    Say(String),
    Statement(String),
    /// A line of vq: one program.
    Vq(String),
}

impl Session {
    /// Handle a command (`use`, `format`, ...); `None` if the line is not one.
    fn command(&mut self, line: &str) -> Option<Input> {
        let t = line.trim().trim_end_matches(';').trim();
        let (word, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        let rest = rest.trim();
        Some(match word.to_ascii_lowercase().as_str() {
            "exit" | "quit" if rest.is_empty() => Input::Exit,
            "help" if rest.is_empty() => Input::Say(HELP.to_string()),
            "use" if !rest.is_empty() => {
                self.db = rest.trim_matches('"').to_string();
                Input::Say(format!("Using database {}", self.db))
            }
            "format" if !rest.is_empty() => match Format::parse(rest) {
                Some(f) => {
                    self.format = f;
                    Input::Say(format!("Format: {}", rest.to_ascii_lowercase()))
                }
                None => Input::Say(format!(
                    "ERR: unknown format {rest:?}: use table, csv or json"
                )),
            },
            "precision" if !rest.is_empty() => match parse_epoch(rest) {
                Ok(p) => {
                    self.precision = p;
                    Input::Say(format!("Precision: {}", rest.to_ascii_lowercase()))
                }
                Err(e) => Input::Say(format!("ERR: {e}")),
            },
            "timing" | "\\timing" if rest.is_empty() => {
                self.timing = !self.timing;
                Input::Say(format!(
                    "Timing is {}",
                    if self.timing { "on" } else { "off" }
                ))
            }
            ":vq" if rest.is_empty() => {
                self.vq = true;
                Input::Say("Language: vq".into())
            }
            ":influxql" if rest.is_empty() => {
                self.vq = false;
                Input::Say("Language: InfluxQL".into())
            }
            _ => return None,
        })
    }
}

/// Whether `text` is an unfinished statement (more lines should follow).
fn unfinished(text: &str) -> bool {
    let t = text.trim_end();
    if t.ends_with(';') {
        return false;
    }
    match strata::query::influxql::parse(t) {
        Err(strata::Error::Parse { message, .. }) => {
            message.contains("found EOF") || message.contains("unterminated")
        }
        _ => false,
    }
}

fn default_history() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".strata_history"))
}

/// Run the shell until `exit` or end of input.
pub fn run(a: &ReplArgs) -> Result<()> {
    let target = Target::open(&a.target)?;
    let mut s = Session {
        db: a.db.clone(),
        format: a.format,
        precision: a.precision,
        timing: false,
        vq: false,
    };
    let mut rl: rustyline::Editor<ReplHelper<'_>, rustyline::history::DefaultHistory> =
        rustyline::Editor::new()
            .map_err(|e| CliError::Usage(format!("cannot start line editing: {e}")))?;
    let mut helper = ReplHelper::new(&target);
    helper.db = s.db.clone();
    rl.set_helper(Some(helper));
    let history = a.history.clone().or_else(default_history);
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    if std::io::stdin().is_terminal() {
        println!(
            "strata shell: InfluxQL on {}. Type help for the commands.",
            target.describe()
        );
    }
    let mut buffer = String::new();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    loop {
        let prompt = match (s.vq, buffer.is_empty()) {
            (true, _) => "(vq) >> ",
            (false, true) => "> ",
            (false, false) => "... ",
        };
        let line = match rl.readline(prompt) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                let _ = target.close();
                return Err(CliError::Usage(format!("read a line: {e}")));
            }
        };
        let input = if buffer.is_empty() {
            if line.trim().is_empty() {
                continue;
            }
            match s.command(&line) {
                Some(i) => {
                    let _ = rl.add_history_entry(line.trim());
                    i
                }
                None if s.vq => Input::Vq(line),
                None => {
                    buffer = line;
                    if unfinished(&buffer) {
                        continue;
                    }
                    Input::Statement(std::mem::take(&mut buffer))
                }
            }
        } else {
            let done = line.trim().is_empty();
            buffer.push('\n');
            buffer.push_str(&line);
            if !done && unfinished(&buffer) {
                continue;
            }
            Input::Statement(std::mem::take(&mut buffer))
        };
        if let Some(helper) = rl.helper_mut() {
            // What Tab completes follows `use` and `:vq`.
            helper.db.clone_from(&s.db);
            helper.vq = s.vq;
        }
        match input {
            Input::Exit => break,
            Input::Say(msg) => println!("{msg}"),
            Input::Vq(program) => {
                let _ = rl.add_history_entry(program.trim());
                let started = Instant::now();
                match target.vq(&s.db, &program) {
                    Ok(Ok(output)) => print!("{output}"),
                    Ok(Err(line)) => eprintln!("{line}"),
                    Err(e) => eprintln!("ERR: {e}"),
                }
                if s.timing {
                    println!("elapsed: {:.3} ms", started.elapsed().as_secs_f64() * 1e3);
                }
            }
            Input::Statement(q) => {
                let one_line: Vec<&str> = q.split_whitespace().collect();
                let _ = rl.add_history_entry(one_line.join(" "));
                let started = Instant::now();
                match target.query(&s.db, &q, s.precision) {
                    Ok(answer) => {
                        if let Err(e) =
                            answer.print(s.format, &mut stdout.lock(), &mut stderr.lock())
                        {
                            eprintln!("ERR: {e}");
                        }
                    }
                    Err(e) => eprintln!("ERR: {e}"),
                }
                if s.timing {
                    println!("elapsed: {:.3} ms", started.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
        let _ = stdout.lock().flush();
        if let Some(h) = &history {
            if let Err(e) = rl.save_history(h) {
                eprintln!("warning: cannot save the history to {}: {e}", h.display());
            }
        }
    }
    if let Some(h) = &history {
        let _ = rl.save_history(h);
    }
    target.close()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            db: String::new(),
            format: Format::Table,
            precision: Epoch::Rfc3339,
            timing: false,
            vq: false,
        }
    }

    #[test]
    fn commands() {
        let mut s = session();
        assert_eq!(s.command("exit"), Some(Input::Exit));
        assert_eq!(s.command("QUIT;"), Some(Input::Exit));
        assert!(s.command("use demo;").is_some());
        assert_eq!(s.db, "demo");
        assert!(s.command("format csv").is_some());
        assert_eq!(s.format, Format::Csv);
        assert!(s.command("precision s").is_some());
        assert_eq!(s.precision, Epoch::Second);
        assert!(s.command("\\timing").is_some());
        assert!(s.timing);
        assert_eq!(s.command("SELECT * FROM cpu"), None);
        assert_eq!(s.command("use"), None, "USE alone is not a command");
        assert!(matches!(s.command("format xml"), Some(Input::Say(m)) if m.starts_with("ERR")));
        assert!(s.command(":vq").is_some());
        assert!(s.vq);
        assert!(s.command(":influxql").is_some());
        assert!(!s.vq);
    }

    #[test]
    fn statements_continue_until_complete() {
        assert!(unfinished("SELECT mean(v)"));
        assert!(unfinished("SELECT mean(v)\nFROM"));
        assert!(!unfinished("SELECT mean(v)\nFROM cpu"));
        assert!(!unfinished("SELECT mean(v);"));
        assert!(
            !unfinished("SELEKT 1"),
            "a plain syntax error runs (and is shown)"
        );
    }
}
