//! Commands: each turns validated flags into a report (plain, serializable
//! data) and hands it to a renderer. Nothing here prints.

mod compare;
mod demo;
mod emergence;
mod generate;
mod model;
mod probs;
mod repeat;
mod replay;
mod score;
mod sweep;
mod tokenize;
mod trace;

pub use compare::{ShowcaseItem, ShowcaseReport};
pub use generate::GenerateReport;
pub use model::{ModelEntry, ModelListReport};
pub use probs::report as probs_report;
pub use probs::{DistributionColumn, ProbsReport, TokenProbability};
pub use repeat::{report as repeat_report, RepeatReport, RepeatRow, RepeatSettings};
pub use score::{report as score_report, ScoreReport, ScoredToken};
pub use tokenize::{TokenPiece, TokenizeReport};
pub use trace::{report as trace_report, TraceRequest};
pub use trace::{Divergence, ModelTrace, RuleTrace, TraceReport, TracedSample, TracedStep};

use crate::cli::{Cli, Command, ModelArgs};
use crate::error::InputError;
use crate::store::ModelChoice;

/// Runs the command and returns what to print on stdout.
pub fn run(cli: Cli) -> anyhow::Result<String> {
    match cli.command {
        None => compare::showcase(None),
        Some(Command::Showcase(args)) => compare::showcase(Some(args)),
        Some(Command::Compare(args)) => compare::run(args),
        Some(Command::Generate(args)) => generate::run(args),
        Some(Command::Probs(args)) => probs::run(args),
        Some(Command::Trace(args)) => trace::run(args),
        Some(Command::Demo(args)) => demo::run(args),
        Some(Command::Tour(args)) => demo::tour(args),
        Some(Command::Sweep(args)) => sweep::run(args),
        Some(Command::Replay(args)) => replay::run(args),
        Some(Command::Repeat(args)) => repeat::run(args),
        Some(Command::Score(args)) => score::run(args),
        Some(Command::Tokenize(args)) => tokenize::run(args),
        Some(Command::Emergence(command)) => emergence::run(command),
        Some(Command::Live(args)) => crate::live::run(
            model_choice(&args.model)?,
            args.model.engine,
            args.lang.unwrap_or_else(crate::words::Lang::from_env),
        ),
        Some(Command::Model(command)) => model::run(command),
    }
}

/// The model the `--model` / `--model-file` flags select.
fn model_choice(args: &ModelArgs) -> Result<ModelChoice, InputError> {
    ModelChoice::resolve(
        args.model.as_deref(),
        args.model_file.as_deref(),
        args.sha256.as_deref(),
    )
}
