//! `strata query 'STATEMENTS'`: one-shot and scriptable.

use clap::Args;

use super::format::Format;
use super::target::{parse_epoch, Target, TargetArgs};
use super::{CliError, Result};

/// `strata query` arguments.
#[derive(Args, Debug)]
pub struct QueryArgs {
    /// One or more `;`-separated InfluxQL statements.
    pub statements: String,
    /// The database statements without `ON db` / a qualified FROM run against.
    #[arg(long, default_value = "")]
    pub db: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// How times are printed: rfc3339, or an integer epoch in h, m, s, ms, u or ns.
    #[arg(long, default_value = "rfc3339", value_parser = parse_epoch)]
    pub precision: strata::query::Epoch,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Run the statements and print the answer; any failed statement makes it an error (after the
/// other statements' answers are printed).
pub fn run(a: &QueryArgs) -> Result<()> {
    let target = Target::open(&a.target)?;
    let r = target.query(&a.db, &a.statements, a.precision);
    let closed = target.close();
    let answer = r?;
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    answer.print(a.format, &mut stdout.lock(), &mut stderr.lock())?;
    closed?;
    match answer.errors().len() {
        0 => Ok(()),
        n => Err(CliError::StatementsFailed(n)),
    }
}
