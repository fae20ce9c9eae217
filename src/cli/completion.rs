//! Tab completion in `strata repl`: the shell's commands, InfluxQL's keywords and functions
//! (vq's keywords after `:vq`), and the names in the data: databases after `use` and `ON`, the
//! current database's measurements (vq: its tables) after `FROM` and anywhere a name may go.
//! Names are asked of the target (daemon or embedded) when Tab is pressed, so they are never
//! stale; a target that cannot answer completes keywords only.

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};
use strata::query::Epoch;

use super::target::Target;

/// The shell's own commands (`help` lists them).
const COMMANDS: &[&str] = &[
    "use",
    "format",
    "precision",
    "timing",
    "help",
    "exit",
    "quit",
    ":vq",
    ":influxql",
];

/// The InfluxQL keywords a statement starts with.
const STATEMENT_STARTS: &[&str] = &[
    "ALTER", "CREATE", "DELETE", "DROP", "EXPLAIN", "GRANT", "KILL", "REVOKE", "SELECT", "SET",
    "SHOW",
];

/// Completes the word before the cursor; knows the session's database and language.
pub struct ReplHelper<'t> {
    target: &'t Target,
    /// The database `use` chose ("" for none).
    pub db: String,
    /// Lines are vq programs.
    pub vq: bool,
}

impl<'t> ReplHelper<'t> {
    pub fn new(target: &'t Target) -> ReplHelper<'t> {
        ReplHelper {
            target,
            db: String::new(),
            vq: false,
        }
    }

    /// The first column of every row `q` answers on `db` (empty if it fails).
    fn names(&self, db: &str, q: &str) -> Vec<String> {
        let Ok(answer) = self.target.query(db, q, Epoch::Rfc3339) else {
            return Vec::new();
        };
        answer
            .results
            .iter()
            .flat_map(|r| &r.series)
            .flat_map(|s| &s.values)
            .filter_map(|row| row.first()?.as_str().map(str::to_string))
            .collect()
    }

    fn databases(&self) -> Vec<String> {
        self.names("", "SHOW DATABASES")
    }

    /// The current database's measurements, or in vq its tables.
    fn measurements(&self) -> Vec<String> {
        if self.vq {
            return match self.target.vq(&self.db, "TABLES;") {
                Ok(Ok(line)) => line.split_whitespace().map(str::to_string).collect(),
                _ => Vec::new(),
            };
        }
        if self.db.is_empty() {
            return Vec::new();
        }
        self.names(&self.db, "SHOW MEASUREMENTS")
    }

    /// What may complete `word`, typed after `before` on the line.
    fn candidates(&self, before: &str, word: &str) -> Vec<String> {
        let words: Vec<&str> = before.split_whitespace().collect();
        let previous = words.last().map(|w| w.to_ascii_uppercase());
        let names_only = |names: Vec<String>| starting_with(names, word);
        match (words.as_slice(), previous.as_deref()) {
            ([], _) => {
                let mut all: Vec<String> = COMMANDS.iter().map(|c| c.to_string()).collect();
                if self.vq {
                    all.extend(strata::vq::keywords().map(str::to_string));
                    return starting_with(all, word);
                }
                all.extend(keywords(STATEMENT_STARTS.iter().copied(), word));
                starting_with_any_case(all, word)
            }
            ([first], _) if first.eq_ignore_ascii_case("use") => names_only(self.databases()),
            ([first], _) if first.eq_ignore_ascii_case("format") => {
                names_only(vec!["table".into(), "csv".into(), "json".into()])
            }
            ([first], _) if first.eq_ignore_ascii_case("precision") => names_only(
                ["rfc3339", "h", "m", "s", "ms", "u", "ns"]
                    .iter()
                    .map(|p| p.to_string())
                    .collect(),
            ),
            (_, Some("ON")) if !self.vq => names_only(self.databases()),
            (_, Some("FROM" | "INTO" | "MEASUREMENT" | "TABLE")) => names_only(self.measurements()),
            _ if self.vq => {
                let mut all: Vec<String> = strata::vq::keywords().map(str::to_string).collect();
                all.extend(self.measurements());
                starting_with(all, word)
            }
            _ => {
                let mut all = keywords(
                    strata::query::influxql::lexer::KEYWORDS.iter().copied(),
                    word,
                );
                all.extend(
                    strata::query::plan::AggFn::ALL
                        .iter()
                        .map(|f| f.name().to_string()),
                );
                all.extend(
                    strata::query::math::MathFn::ALL
                        .iter()
                        .map(|f| f.name().to_string()),
                );
                all = starting_with_any_case(all, word);
                all.extend(names_only(self.measurements()));
                all
            }
        }
    }
}

/// `keywords` spelt as `word` is: lower case when it is typed in lower case, else upper.
fn keywords<'k>(keywords: impl Iterator<Item = &'k str>, word: &str) -> Vec<String> {
    let lower = !word.is_empty() && !word.bytes().any(|b| b.is_ascii_uppercase());
    keywords
        .map(|k| {
            if lower {
                k.to_ascii_lowercase()
            } else {
                k.to_string()
            }
        })
        .collect()
}

/// The names that start with `word` exactly (data names are case-sensitive), sorted, once.
fn starting_with(mut names: Vec<String>, word: &str) -> Vec<String> {
    names.retain(|n| n.starts_with(word));
    names.sort();
    names.dedup();
    names
}

/// The words that start with `word` in any case (keywords, functions, commands), sorted, once.
fn starting_with_any_case(mut words: Vec<String>, word: &str) -> Vec<String> {
    let lower = word.to_ascii_lowercase();
    words.retain(|w| w.to_ascii_lowercase().starts_with(&lower));
    words.sort();
    words.dedup();
    words
}

/// Where the word ending at `pos` starts: after the last space or punctuation that cannot be
/// part of a name or keyword.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || "(),;=<>!+-*/'\"".contains(*c))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

impl Completer for ReplHelper<'_> {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let pos = pos.min(line.len());
        if !line.is_char_boundary(pos) {
            return Ok((pos, Vec::new()));
        }
        let start = word_start(line, pos);
        Ok((start, self.candidates(&line[..start], &line[start..pos])))
    }
}

impl Hinter for ReplHelper<'_> {
    type Hint = String;
}

impl Highlighter for ReplHelper<'_> {}

impl Validator for ReplHelper<'_> {}

impl Helper for ReplHelper<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_end_at_spaces_and_punctuation() {
        assert_eq!(word_start("SELECT mean(us", 14), 12);
        assert_eq!(word_start("SEL", 3), 0);
        assert_eq!(word_start("use de", 6), 4);
        assert_eq!(word_start("x ", 2), 2);
        assert_eq!(word_start(":v", 2), 0);
    }

    #[test]
    fn names_come_from_the_target() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = strata::Db::open(dir.path(), strata::Config::new()).expect("open");
        db.create_database("demo").expect("create");
        db.write_lines("demo", "cpu,host=a usage=1 1\nmem,host=a used=2 1\n")
            .expect("write");
        db.vq("CREATE TABLE weather TAGS city; CREATE TABLE wind TAGS city;")
            .expect("vq");
        let target = Target::Embedded(Box::new(db));
        let mut h = ReplHelper::new(&target);
        let complete = |h: &ReplHelper<'_>, line: &str| {
            let start = word_start(line, line.len());
            h.candidates(&line[..start], &line[start..])
        };
        assert_eq!(complete(&h, "us"), ["use"]);
        assert_eq!(complete(&h, "use d"), ["demo"]);
        assert_eq!(complete(&h, "format c"), ["csv"]);
        assert_eq!(complete(&h, "precision m"), ["m", "ms"]);
        assert_eq!(complete(&h, "SHOW MEASUREMENTS ON v"), ["vq"]);
        // No database chosen: no measurements.
        assert!(complete(&h, "SELECT * FROM ").is_empty());
        h.db = "demo".into();
        assert_eq!(complete(&h, "SELECT * FROM "), ["cpu", "mem"]);
        assert_eq!(complete(&h, "SELECT mean(usage) FROM c"), ["cpu"]);
        assert_eq!(
            complete(&h, "SELECT me"),
            ["mean", "measurement", "measurements", "median", "mem"]
        );
        assert_eq!(complete(&h, "select count(usage) fr"), ["from"]);
        assert_eq!(
            complete(&h, "SELECT non_negative_d"),
            ["non_negative_derivative", "non_negative_difference"]
        );
        // Math functions too.
        assert_eq!(complete(&h, "SELECT ro"), ["round"]);
        assert_eq!(complete(&h, "SELECT lo"), ["log", "log10", "log2"]);
        // vq: its keywords (upper case only) and tables.
        h.vq = true;
        h.db = String::new();
        assert_eq!(complete(&h, "SEL"), ["SELECT"]);
        assert!(
            complete(&h, "sel").is_empty(),
            "vq keywords are case-sensitive"
        );
        assert_eq!(complete(&h, "SELECT DATA temp FROM w"), ["weather", "wind"]);
        assert_eq!(complete(&h, ":in"), [":influxql"]);
        drop(h);
        target.close().expect("close");
    }

    #[test]
    fn keywords_follow_the_case_typed() {
        let k = |word: &str| {
            starting_with_any_case(keywords(STATEMENT_STARTS.iter().copied(), word), word)
        };
        assert_eq!(k("sel"), ["select"]);
        assert_eq!(k("Sh"), ["SHOW"]);
        assert_eq!(k("D"), ["DELETE", "DROP"]);
        assert_eq!(
            starting_with(vec!["cpu".into(), "Cpu".into(), "cpu".into()], "c"),
            ["cpu"]
        );
    }
}
