//! `detprob probs`: the model's distribution over the next token — one column
//! per temperature, and, when filters are set, one per filter stage — so a
//! class sees the "sampling from a probability distribution" row happen.

use super::model_choice;
use crate::cli::ProbsArgs;
use crate::error::{invalid, InputError};
use crate::inspect::probs::report;
use crate::lm;
use crate::report::views::ProbsReport;

pub fn run(args: ProbsArgs) -> anyhow::Result<ProbsReport> {
    let temperatures = args.temperatures.0.clone();
    args.filters.sampling(1.0)?;
    if args.top == 0 {
        return Err(invalid("--top must be at least 1").into());
    }
    if args.prompt.trim().is_empty() {
        return Err(InputError::EmptyPrompt.into());
    }
    let mut loaded = lm::load(&model_choice(&args.model)?, args.model.engine)?;
    let report = report(
        &mut loaded,
        &args.prompt,
        args.raw,
        &temperatures,
        args.top,
        &args.filters.filters(),
    )?;
    Ok(report)
}
