//! `detprob repeat`: the reproducibility row of the table, counted. The rule
//! runs N times; the model runs N times at each temperature with one fixed
//! seed, and N times with a fresh random seed each run.

use super::model_choice;
use crate::cli::RepeatArgs;
use crate::comparison::{plan, shorten};
use crate::experiments::repeat::{report, RepeatSettings};
use crate::lm;
use crate::progress;
use crate::report::experiments::RepeatReport;
use crate::rules;
use crate::words::Lang;

pub fn run(args: RepeatArgs, lang: Lang) -> anyhow::Result<RepeatReport> {
    crate::options::check_runs(args.runs, "--runs")?;
    let temperatures = args.temperatures.0.clone();
    let forced = args.rule.as_deref().map(rules::by_name).transpose()?;
    let planned = plan(&args.input, None, forced)?;
    let mut loaded = lm::load(&model_choice(&args.model)?, args.model.engine)?;
    // One step per row of the model's side: greedy, then fixed and fresh
    // seeds at each temperature above 0.
    let steps = temperatures
        .iter()
        .map(|&t| if t.value() == 0.0 { 1 } else { 2 })
        .sum();
    let bar = progress::bar(
        &lang.fill(
            "repeat.progress",
            &[
                ("input", &lang.quote(&shorten(&args.input, 40))),
                ("runs", &args.runs),
            ],
        ),
        steps,
    );
    let report = report(
        &mut loaded,
        planned.rule,
        &planned.input.text,
        &RepeatSettings {
            runs: args.runs,
            temperatures: &temperatures,
            seed: args.seed,
            max_tokens: args.max_tokens,
        },
        &bar,
    )?;
    bar.finish_and_clear();
    Ok(report)
}
