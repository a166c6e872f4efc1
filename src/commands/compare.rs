//! `detprob compare` and the showcase: validate every flag and input before
//! loading the model, run the comparisons, render them.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::model_choice;
use crate::cli::{CompareArgs, GridArgs, ReportFormat, ShowcaseArgs};
use crate::comparison::{compare, CompareInput, CompareReport, SampleGrid, SummaryReport};
use crate::error::{invalid, InputError};
use crate::experiments::manifest::Manifest;
use crate::files::Overwrite;
use crate::lm;
use crate::render::terminal::Verdicts;
use crate::render::{self, style::TerminalStyle};
use crate::rules::{self, Rule};
use crate::words::Lang;

/// One showcase input with the reason it was chosen.
#[derive(Debug, Clone, Serialize)]
pub struct ShowcaseItem {
    /// What this input demonstrates.
    pub why: String,
    /// The comparison.
    pub comparison: CompareReport,
}

/// The showcase run.
#[derive(Debug, Clone, Serialize)]
pub struct ShowcaseReport {
    /// The inputs, in order.
    pub items: Vec<ShowcaseItem>,
    /// Wall time of the whole run, in seconds (model load included).
    pub seconds: f64,
}

#[derive(Deserialize)]
struct ShowcaseFile {
    inputs: Vec<ShowcaseEntry>,
}

#[derive(Deserialize)]
struct ShowcaseEntry {
    text: String,
    why: String,
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

/// Seeds `compare` samples when `--seeds` is not given.
const COMPARE_SEEDS: &str = "1..5";
/// Seeds the showcase samples when `--seeds` is not given.
const SHOWCASE_SEEDS: &str = "1..5";

/// Loads the model and compares every plan; with `record`, writes a manifest.
fn run_all(
    grid: &SampleGrid,
    grid_args: &GridArgs,
    plans: &[Planned],
    record: Option<(&Path, Overwrite)>,
) -> anyhow::Result<(Vec<CompareReport>, String)> {
    let choice = model_choice(&grid_args.model)?;
    let mut loaded = lm::load(&choice, grid_args.model.engine)?;
    let reports = plans
        .iter()
        .map(|p| compare(&mut loaded, p.rule, &p.input, grid))
        .collect::<anyhow::Result<Vec<_>>>()?;
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

pub fn run(args: CompareArgs) -> anyhow::Result<String> {
    // Everything the user typed is checked before the model is loaded.
    let grid = SampleGrid::parse(
        &args.grid.temperatures,
        args.grid.seeds_or(COMPARE_SEEDS),
        args.grid.max_tokens,
    )?;
    let forced = args.rule.as_deref().map(rules::by_name).transpose()?;
    let style = TerminalStyle::detect();
    match (&args.inputs, &args.input) {
        (Some(path), _) => {
            let plans = read_inputs(path)?
                .into_iter()
                .map(|(text, truth)| plan(&text, truth, forced))
                .collect::<Result<Vec<_>, _>>()?;
            let (reports, model) = run_all(&grid, &args.grid, &plans, args.record.target()?)?;
            let summary = SummaryReport::new(model, grid, reports);
            Ok(match args.grid.format {
                ReportFormat::Terminal => render::terminal::summary_table(&summary, &style),
                ReportFormat::Markdown => render::markdown::summary(&summary),
                ReportFormat::Json => render::to_json(&summary),
                ReportFormat::Csv => render::csv::summary(&summary),
            })
        }
        (None, Some(text)) => {
            let plans = [plan(text, args.truth.clone(), forced)?];
            let (reports, _) = run_all(&grid, &args.grid, &plans, args.record.target()?)?;
            let report = &reports[0];
            Ok(match args.grid.format {
                ReportFormat::Terminal => {
                    render::terminal::compare_panel(report, Lang::En, Verdicts::Shown, &style)
                }
                ReportFormat::Markdown => render::markdown::compare(report),
                ReportFormat::Json => render::to_json(report),
                ReportFormat::Csv => render::csv::samples(&[report]),
            })
        }
        (None, None) => Err(invalid("give an INPUT or --inputs FILE").into()),
    }
}

/// The showcase, with the default grid when `args` is `None`.
pub fn showcase(args: Option<ShowcaseArgs>) -> anyhow::Result<String> {
    let started = Instant::now();
    let grid_args = match args {
        Some(args) => args.grid,
        None => {
            use clap::FromArgMatches;
            let matches =
                <ShowcaseArgs as clap::Args>::augment_args(clap::Command::new("showcase"))
                    .get_matches_from(["showcase"]);
            ShowcaseArgs::from_arg_matches(&matches)?.grid
        }
    };
    let grid = SampleGrid::parse(
        &grid_args.temperatures,
        grid_args.seeds_or(SHOWCASE_SEEDS),
        grid_args.max_tokens,
    )?;
    let file: ShowcaseFile =
        toml::from_str(include_str!("../../demos/showcase.toml")).expect("showcase.toml parses");
    let plans = file
        .inputs
        .iter()
        .map(|e| plan(&e.text, None, None))
        .collect::<Result<Vec<_>, _>>()?;
    let (reports, _) = run_all(&grid, &grid_args, &plans, None)?;
    let report = ShowcaseReport {
        items: file
            .inputs
            .into_iter()
            .zip(reports)
            .map(|(e, comparison)| ShowcaseItem {
                why: e.why,
                comparison,
            })
            .collect(),
        seconds: started.elapsed().as_secs_f64(),
    };
    let style = TerminalStyle::detect();
    Ok(match grid_args.format {
        ReportFormat::Terminal => {
            let mut out = String::new();
            for (i, item) in report.items.iter().enumerate() {
                out.push_str(&format!(
                    "{}\n",
                    style.bold(&format!(
                        "── {}/{} ── {}",
                        i + 1,
                        report.items.len(),
                        item.why
                    ))
                ));
                out.push_str(&render::terminal::compare_panel(
                    &item.comparison,
                    Lang::En,
                    Verdicts::Shown,
                    &style,
                ));
                out.push('\n');
            }
            out.push_str(&style.dim(&format!("showcase ran in {:.1} s\n", report.seconds)));
            out
        }
        ReportFormat::Markdown => report
            .items
            .iter()
            .map(|item| {
                format!(
                    "## {}\n\n{}",
                    item.why,
                    render::markdown::compare(&item.comparison)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        ReportFormat::Json => render::to_json(&report),
        ReportFormat::Csv => {
            let comparisons: Vec<&CompareReport> =
                report.items.iter().map(|i| &i.comparison).collect();
            render::csv::samples(&comparisons)
        }
    })
}
