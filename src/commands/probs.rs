//! `detprob probs`: the model's distribution over the next token — one column
//! per temperature, and, when filters are set, one per filter stage — so a
//! class sees the "sampling from a probability distribution" row happen;
//! with `--endpoint`, from the alternatives a server reports.

use super::model_choice;
use crate::cli::ProbsArgs;
use crate::error::{invalid, InputError};
use crate::inspect::probs::{remote_report, report};
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
    if let Some(endpoint) = super::remote_endpoint(&args.remote, &args.model)? {
        let filters = &args.filters;
        if filters.top_k.is_some() || filters.top_p.is_some() || filters.min_p.is_some() {
            return Err(invalid(
                "--top-k, --top-p and --min-p need the whole distribution; with --endpoint a server reports only its most likely tokens",
            )
            .into());
        }
        let model = endpoint.model_or_first(args.remote.remote_model.clone(), "--remote-model")?;
        return remote_report(
            &endpoint,
            model,
            &args.prompt,
            args.raw,
            &temperatures,
            args.top,
        );
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
