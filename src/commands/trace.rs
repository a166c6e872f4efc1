//! `detprob trace`: generation step by step — the chosen token, its
//! probability, the alternatives, the running probability of the sequence —
//! and, over several seeds, where the samples branch apart. With `--rule`,
//! the rule's own explicit steps sit beside the model's.

use super::model_choice;
use crate::cli::TraceArgs;
use crate::error::{invalid, InputError};
use crate::inspect::trace::{report, TraceRequest};
use crate::lm;
use crate::report::views::TraceReport;
use crate::rules;

pub fn run(args: TraceArgs) -> anyhow::Result<TraceReport> {
    let sampling = args.filters.sampling(args.temperature)?;
    let seeds = args.seeds.0.clone();
    if seeds.len() > 64 {
        return Err(invalid("trace shows at most 64 seeds").into());
    }
    if !(0.0..=1.0).contains(&args.low) {
        return Err(invalid(format!("--low must be in [0, 1], got {}", args.low)).into());
    }
    if args.prompt.trim().is_empty() {
        return Err(InputError::EmptyPrompt.into());
    }
    let rule = args.rule.as_deref().map(rules::by_name).transpose()?;
    let mut loaded = lm::load(&model_choice(&args.model)?, args.model.engine)?;
    let report = report(
        &mut loaded,
        &TraceRequest {
            prompt: &args.prompt,
            rule,
            sampling,
            seeds: &seeds,
            max_tokens: args.max_tokens,
            alternatives: args.alternatives,
            low: args.low,
            raw: args.raw,
        },
    )?;
    Ok(report)
}
