//! `detprob compare` and the showcase: validate every flag and input before
//! loading the model, run the comparisons, render them.

use std::path::Path;
use std::time::Instant;

use serde::Deserialize;

use indicatif::ProgressBar;

use super::model_choice;
use crate::cli::{CompareArgs, GridArgs, ShowcaseArgs};
use crate::comparison::{
    compare_with, plan, read_inputs, shorten, ModelSource, Planned, RemoteSource,
};
use crate::error::invalid;
use crate::experiments::manifest::Manifest;
use crate::files::Overwrite;
use crate::lm;
use crate::progress;
use crate::render::terminal;
use crate::render::{Printed, Render, View};
use crate::report::compare::{CompareReport, SampleGrid, SummaryReport};
use crate::report::compare::{ShowcaseItem, ShowcaseReport};
use crate::rules;
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

/// Seeds `compare` and the showcase sample when `--seeds` is not given.
const DEFAULT_SEEDS: std::ops::RangeInclusive<u64> = 1..=5;

/// What hears of each comparison as soon as it is complete.
type OnReport<'a> = dyn FnMut(usize, &CompareReport, &ProgressBar) -> anyhow::Result<()> + 'a;

/// Loads the model (a spinner while it loads), or finds the server's with
/// `--endpoint`, and compares every plan in turn, with a progress line on a
/// terminal, handing each report to `done` as soon as it is complete; with
/// `record`, writes a manifest (local runs).
fn run_all(
    grid: &SampleGrid,
    grid_args: &GridArgs,
    plans: &[Planned],
    record: Option<(&Path, Overwrite)>,
    lang: Lang,
    done: &mut OnReport,
) -> anyhow::Result<(Vec<CompareReport>, String)> {
    if let Some(endpoint) = super::remote_endpoint(&grid_args.remote, &grid_args.model)? {
        let model =
            endpoint.model_or_first(grid_args.remote.remote_model.clone(), "--remote-model")?;
        let mut source = RemoteSource {
            endpoint: &endpoint,
            model,
            parallel: grid_args.remote.parallel,
        };
        let reports = compare_all(&mut source, grid, plans, lang, done)?;
        if super::wants_manifest(record) {
            let mut manifest = Manifest::remote("compare", &endpoint.base, &source.model, true);
            for report in &reports {
                manifest.comparison(report, &[], grid.max_tokens);
            }
            super::keep_manifest(&manifest, record)?;
        }
        return Ok((reports, source.label()));
    }
    let choice = model_choice(&grid_args.model)?;
    let loading = progress::spinner(&lang.fill("compare.loading", &[("model", &choice.label())]));
    let loaded = lm::load(&choice, grid_args.model.engine);
    loading.finish_and_clear();
    let mut loaded = loaded?;
    let reports = compare_all(&mut loaded, grid, plans, lang, done)?;
    if super::wants_manifest(record) {
        let mut manifest = Manifest::new("compare", &loaded, &choice)?;
        for report in &reports {
            let ids = loaded
                .tokenizer
                .encode_prompt(&report.model.formatted_prompt);
            manifest.comparison(report, &ids, grid.max_tokens);
        }
        super::keep_manifest(&manifest, record)?;
    }
    let model = loaded.info.label();
    Ok((reports, model))
}

/// Compares every plan in turn on `source`, with a progress line on a
/// terminal, handing each report to `done` as soon as it is complete.
fn compare_all(
    source: &mut dyn ModelSource,
    grid: &SampleGrid,
    plans: &[Planned],
    lang: Lang,
    done: &mut OnReport,
) -> anyhow::Result<Vec<CompareReport>> {
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
        let report = compare_with(source, p.rule, &p.input, grid);
        if report.is_err() {
            bar.finish_and_clear();
        }
        let report = report?;
        bar.inc(1);
        done(i, &report, &bar)?;
        reports.push(report);
    }
    bar.finish_and_clear();
    Ok(reports)
}

pub fn run(args: CompareArgs, view: &View) -> anyhow::Result<Box<dyn Render>> {
    // Everything the user typed is checked before the model is loaded.
    let grid = args.grid.grid(DEFAULT_SEEDS)?;
    let forced = args.rule.as_deref().map(rules::by_name).transpose()?;
    let record = super::record_target(&args.record)?;
    let plans = match (&args.inputs, &args.input) {
        (Some(path), _) => read_inputs(path)?
            .into_iter()
            .map(|(text, truth)| plan(&text, truth, forced))
            .collect::<Result<Vec<_>, _>>()?,
        (None, Some(text)) => vec![plan(text, args.truth.clone(), forced)?],
        (None, None) => return Err(invalid("give an INPUT or --inputs FILE").into()),
    };
    let (mut reports, model) = run_all(
        &grid,
        &args.grid,
        &plans,
        record,
        view.lang,
        &mut |_, _, _| Ok(()),
    )?;
    Ok(match args.inputs {
        // An inputs file gets the summary over all its inputs.
        Some(_) => Box::new(SummaryReport::new(model, grid, reports)),
        None => Box::new(reports.remove(0)),
    })
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
                let text = terminal::showcase_item((i, count), &whys[i], report, lang, style);
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
