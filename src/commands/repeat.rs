//! `detprob repeat`: the reproducibility row of the table, counted. The rule
//! runs N times; the model runs N times at each temperature with one fixed
//! seed, and N times with a fresh random seed each run — on the local model,
//! or with `--endpoint` on any OpenAI-compatible server.

use super::model_choice;
use crate::cli::RepeatArgs;
use crate::comparison::{plan, shorten, ModelSource, RemoteSource};
use crate::experiments::repeat::{local, report, RepeatSettings};
use crate::generation::GenerationSettings;
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
    // One step per row of the model's side: greedy, then fixed and fresh
    // seeds at each temperature above 0.
    let steps = temperatures
        .iter()
        .map(|&t| if t.value() == 0.0 { 1 } else { 2 })
        .sum();
    // Shown once the model is loaded (or the server found).
    let progress_bar = || {
        progress::bar(
            &lang.fill(
                "repeat.progress",
                &[
                    ("input", &lang.quote(&shorten(&args.input, 40))),
                    ("runs", &args.runs),
                ],
            ),
            steps,
        )
    };
    let repeat_settings = RepeatSettings {
        runs: args.runs,
        temperatures: &temperatures,
        seed: args.seed,
        max_tokens: args.max_tokens,
    };
    let rule = planned.rule;
    let input = &planned.input.text;
    let report = match super::remote_endpoint(&args.remote, &args.model)? {
        Some(endpoint) => {
            let model =
                endpoint.model_or_first(args.remote.remote_model.clone(), "--remote-model")?;
            let mut source = RemoteSource {
                endpoint: &endpoint,
                model: model.clone(),
                parallel: args.remote.parallel,
            };
            let prompt = source.prompt(rule.task(), input)?;
            let mut sample = |cells: &[GenerationSettings]| -> anyhow::Result<Vec<String>> {
                Ok(source
                    .draw(&prompt, cells)?
                    .into_iter()
                    .map(|drawn| drawn.text.trim().to_string())
                    .collect())
            };
            let bar = progress_bar();
            let report = report(
                model.clone(),
                &mut sample,
                rule,
                input,
                &repeat_settings,
                &bar,
            );
            bar.finish_and_clear();
            report
        }
        None => {
            let mut loaded = lm::load(&model_choice(&args.model)?, args.model.engine)?;
            let bar = progress_bar();
            let report = local(&mut loaded, rule, input, &repeat_settings, &bar);
            bar.finish_and_clear();
            report
        }
    }?;
    Ok(report)
}
