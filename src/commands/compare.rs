//! `detprob compare` and the showcase: validate every flag and input before
//! loading the model, run the comparisons, render them.

use std::path::Path;
use std::time::Instant;

use serde::Deserialize;

use indicatif::ProgressBar;

use super::model_choice;
use crate::cli::{CompareArgs, GridArgs, ShowcaseArgs};
use crate::comparison::{compare, shorten, CompareInput, CompareReport, SampleGrid, SummaryReport};
use crate::error::{invalid, InputError};
use crate::experiments::manifest::Manifest;
use crate::files::Overwrite;
use crate::lm;
use crate::progress;
use crate::render::terminal::{self, Verdicts};
use crate::render::{Printed, Render, View};
use crate::report::compare::{ShowcaseItem, ShowcaseReport};
use crate::rules::{self, Rule};
use crate::words::{Bilingual, Lang};

#[derive(Deserialize)]
struct ShowcaseFile {
    inputs: Vec<ShowcaseEntry>,
}

#[derive(Deserialize)]
struct ShowcaseEntry {
    text: String,
    why: Bilingual,
}

/// An input, the rule chosen for it, and its truth if given.
pub(super) struct Planned {
    pub(super) input: CompareInput,
    pub(super) rule: &'static dyn Rule,
}

pub(super) fn plan(
    text: &str,
    truth: Option<String>,
    forced: Option<&'static dyn Rule>,
) -> Result<Planned, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::EmptyPrompt);
    }
    let rule = match forced {
        Some(rule) => rule,
        None => rules::pick(text).ok_or_else(|| {
            invalid(format!(
                "no rule's domain fits {text:?}; choose one with --rule ({})",
                rules::names()
            ))
        })?,
    };
    Ok(Planned {
        input: CompareInput {
            text: text.to_string(),
            truth,
        },
        rule,
    })
}

/// Reads an inputs file: UTF-8, one input per line, `INPUT<TAB>TRUTH`
/// optional, blank lines and `#` comments skipped.
pub(super) fn read_inputs(path: &Path) -> Result<Vec<(String, Option<String>)>, InputError> {
    let bytes = crate::files::read_bytes(path, "inputs file", crate::files::TEXT_LIMIT)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        invalid(format!(
            "inputs file {} is not UTF-8 (line {line})",
            path.display()
        ))
    })?;
    let inputs: Vec<(String, Option<String>)> = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| match l.split_once('\t') {
            Some((input, truth)) => (
                input.to_string(),
                Some(truth.trim().to_string()).filter(|t| !t.is_empty()),
            ),
            None => (l.to_string(), None),
        })
        .collect();
    if inputs.is_empty() {
        return Err(invalid(format!(
            "inputs file {} has no inputs",
            path.display()
        )));
    }
    Ok(inputs)
}

/// Seeds `compare` and the showcase sample when `--seeds` is not given.
const DEFAULT_SEEDS: std::ops::RangeInclusive<u64> = 1..=5;

/// Loads the model (a spinner while it loads) and compares every plan in
/// turn, with a progress line on a terminal, handing each report to `done`
/// as soon as it is complete; with `record`, writes a manifest.
fn run_all(
    grid: &SampleGrid,
    grid_args: &GridArgs,
    plans: &[Planned],
    record: Option<(&Path, Overwrite)>,
    lang: Lang,
    done: &mut dyn FnMut(usize, &CompareReport, &ProgressBar) -> anyhow::Result<()>,
) -> anyhow::Result<(Vec<CompareReport>, String)> {
    let choice = model_choice(&grid_args.model)?;
    let loading = progress::spinner(&lang.fill("compare.loading", &[("model", &choice.label())]));
    let loaded = lm::load(&choice, grid_args.model.engine);
    loading.finish_and_clear();
    let mut loaded = loaded?;
    let bar = progress::bar("", plans.len() as u64);
    let mut reports = Vec::with_capacity(plans.len());
    for (i, p) in plans.iter().enumerate() {
        progress::relabel(
            &bar,
            &lang.fill(
                "compare.progress",
                &[
                    ("n", &(i + 1)),
                    ("count", &plans.len()),
                    ("input", &shorten(&p.input.text, 40)),
                ],
            ),
        );
        let report = compare(&mut loaded, p.rule, &p.input, grid)?;
        bar.inc(1);
        done(i, &report, &bar)?;
        reports.push(report);
    }
    bar.finish_and_clear();
    if let Some((path, overwrite)) = record {
        let mut manifest = Manifest::new("compare", &loaded, &choice)?;
        for report in &reports {
            manifest.comparison(report, &loaded.tokenizer, grid.max_tokens)?;
        }
        manifest.save(path, overwrite)?;
    }
    let model = loaded.info.label();
    Ok((reports, model))
}

pub fn run(args: CompareArgs, view: &View) -> anyhow::Result<Box<dyn Render>> {
    // Everything the user typed is checked before the model is loaded.
    let grid = args.grid.grid(DEFAULT_SEEDS)?;
    let forced = args.rule.as_deref().map(rules::by_name).transpose()?;
    let record = args.record.target()?;
    match (&args.inputs, &args.input) {
        (Some(path), _) => {
            let plans = read_inputs(path)?
                .into_iter()
                .map(|(text, truth)| plan(&text, truth, forced))
                .collect::<Result<Vec<_>, _>>()?;
            let (reports, model) = run_all(
                &grid,
                &args.grid,
                &plans,
                record,
                view.lang,
                &mut |_, _, _| Ok(()),
            )?;
            Ok(Box::new(SummaryReport::new(model, grid, reports)))
        }
        (None, Some(text)) => {
            let plans = [plan(text, args.truth.clone(), forced)?];
            let (mut reports, _) = run_all(
                &grid,
                &args.grid,
                &plans,
                record,
                view.lang,
                &mut |_, _, _| Ok(()),
            )?;
            Ok(Box::new(reports.remove(0)))
        }
        (None, None) => Err(invalid("give an INPUT or --inputs FILE").into()),
    }
}

/// The showcase, with the default grid when `args` is `None`. On a
/// terminal each panel is printed as soon as it is computed.
pub fn showcase(args: Option<ShowcaseArgs>, view: &View) -> anyhow::Result<Box<dyn Render>> {
    let started = Instant::now();
    let grid_args = match args {
        Some(args) => args.grid,
        None => {
            use clap::Parser;
            crate::cli::ShowcaseDefaults::parse_from(["showcase"]).grid
        }
    };
    let grid = grid_args.grid(DEFAULT_SEEDS)?;
    let file: ShowcaseFile =
        toml::from_str(include_str!("../../demos/showcase.toml")).expect("showcase.toml parses");
    let plans = file
        .inputs
        .iter()
        .map(|e| plan(&e.text, None, None))
        .collect::<Result<Vec<_>, _>>()?;
    let live = view.live();
    let count = plans.len();
    let (lang, style) = (view.lang, &view.style);
    let whys: Vec<Bilingual> = file.inputs.iter().map(|e| e.why.clone()).collect();
    let (reports, _) = run_all(
        &grid,
        &grid_args,
        &plans,
        None,
        lang,
        &mut |i, report, bar| {
            if live {
                let text = terminal::showcase_heading(i, count, lang.pick(&whys[i]), lang, style)
                    + &terminal::compare_panel(report, lang, Verdicts::Shown, style)
                    + "\n";
                bar.suspend(|| print_now(&text))?;
            }
            Ok(())
        },
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if live {
        return Ok(Box::new(Printed(terminal::showcase_footer(
            seconds, lang, style,
        ))));
    }
    Ok(Box::new(ShowcaseReport {
        items: file
            .inputs
            .into_iter()
            .zip(reports)
            .map(|(e, comparison)| ShowcaseItem {
                why: e.why,
                comparison,
            })
            .collect(),
        seconds,
    }))
}

/// Writes `text` to stdout at once (a panel that is ready while others compute).
fn print_now(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(crate::render::style::terminal_safe(text).as_bytes())?;
    out.flush()?;
    Ok(())
}
