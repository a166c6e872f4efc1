//! `detprob score PROMPT ANSWER`: the probability the model gives a stated
//! answer, token by token, with the answer's tokens fed in (teacher forcing),
//! and each token's rank among all the model's candidates at that step. It
//! shows that a right answer can hold real probability even where greedy
//! decoding picked something else. With `--endpoint`, a server that scores
//! a prompt's tokens (`echo` with `logprobs`) does the same.

use super::model_choice;
use crate::cli::ScoreArgs;
use crate::error::invalid;
use crate::inspect::score::{remote_report, report};
use crate::lm;
use crate::report::views::ScoreReport;
use crate::rules;

pub fn run(args: ScoreArgs) -> anyhow::Result<ScoreReport> {
    if args.answer.trim().is_empty() {
        return Err(invalid("the answer to score is empty").into());
    }
    let rule = args.rule.as_deref().map(rules::by_name).transpose()?;
    if let Some(endpoint) = super::remote_endpoint(&args.remote, &args.model)? {
        if args.raw {
            return Err(invalid(
                "with --endpoint the prompt is sent as plain text already; --raw is for a local model's chat template",
            )
            .into());
        }
        let model = endpoint.model_or_first(args.remote.remote_model.clone(), "--remote-model")?;
        return remote_report(&endpoint, model, &args.prompt, &args.answer, rule);
    }
    let mut loaded = lm::load(&model_choice(&args.model)?, args.model.engine)?;
    let report = report(&mut loaded, &args.prompt, &args.answer, rule, args.raw)?;
    Ok(report)
}
