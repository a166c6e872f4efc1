//! `detprob score PROMPT ANSWER`: the probability the model gives a stated
//! answer, token by token, with the answer's tokens fed in (teacher forcing),
//! and each token's rank among all the model's candidates at that step. It
//! shows that a right answer can hold real probability even where greedy
//! decoding picked something else.

use super::model_choice;
use crate::cli::ScoreArgs;
use crate::error::invalid;
use crate::inspect::score::report;
use crate::lm;
use crate::report::views::ScoreReport;
use crate::rules;

pub fn run(args: ScoreArgs) -> anyhow::Result<ScoreReport> {
    if args.answer.trim().is_empty() {
        return Err(invalid("the answer to score is empty").into());
    }
    let rule = args.rule.as_deref().map(rules::by_name).transpose()?;
    let mut loaded = lm::load(&model_choice(&args.model)?, args.model.engine)?;
    let report = report(&mut loaded, &args.prompt, &args.answer, rule, args.raw)?;
    Ok(report)
}
