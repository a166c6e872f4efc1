//! `detprob emergence metric|ladder|subtasks|scale|grok`: plan (flags →
//! problems, models or training settings, output paths checked) → run →
//! a report, rendered once.

use std::path::Path;

use crate::cli::{
    EmergenceCommand, EmergenceGrokArgs, EmergenceLadderArgs, EmergenceMetricArgs,
    EmergenceScaleArgs, EmergenceSubtasksArgs, PlotArgs,
};
use crate::emergence::grok::{self, GrokSettings};
use crate::emergence::metric::{self, MetricPlan};
use crate::emergence::{findings, ladder, problems, subtasks};
use crate::error::{invalid, InputError};
use crate::files::{self, Overwrite};
use crate::lm;
use crate::progress;
use crate::render::{
    self, chart, style::TerminalStyle, GrokSweepView, GrokView, Render, SharesView, View,
};
use crate::report::emergence::{
    GrokSweepReport, LadderReport, MetricReport, ScaleReport, ShownPrompt, SubtasksReport,
};
use crate::store::{catalog, ModelChoice};
use crate::words::Lang;

pub fn run(command: EmergenceCommand, view: &View) -> anyhow::Result<Box<dyn Render>> {
    Ok(match command {
        EmergenceCommand::Metric(args) => {
            let log_y = args.log_y;
            Box::new(SharesView {
                report: run_metric(args, view.lang)?,
                log_y,
            })
        }
        EmergenceCommand::Ladder(args) => {
            let log_y = args.log_y;
            Box::new(SharesView {
                report: run_ladder(args, view.lang)?,
                log_y,
            })
        }
        EmergenceCommand::Subtasks(args) => Box::new(run_subtasks(args, view.lang)?),
        EmergenceCommand::Grok(args) => run_grok(args, view)?,
        EmergenceCommand::Scale(args) => Box::new(run_scale(args, view.lang)?),
    })
}

/// The `--plot` path and whether it may replace a file, checked before any
/// work: its directory must exist and take a file.
fn plot_target(args: &PlotArgs) -> Result<Option<(&Path, Overwrite)>, InputError> {
    let Some(path) = args.plot.as_deref() else {
        return Ok(None);
    };
    let overwrite = Overwrite::forced(args.force);
    files::check_output_target(path, "--plot", overwrite)?;
    Ok(Some((path, overwrite)))
}

fn write_plot(target: Option<(&Path, Overwrite)>, charts: &[chart::Chart]) -> anyhow::Result<()> {
    if let Some((path, overwrite)) = target {
        let svg = chart::svg(charts).map_err(|e| anyhow::anyhow!("drawing the chart: {e}"))?;
        files::write_whole(path, "--plot", overwrite, svg.as_bytes())?;
    }
    Ok(())
}

/// Loads each model in turn and runs `plan` on it, with a progress bar per
/// model; `prompt_of` sees each loaded model first (to show its prompt).
fn measure_models(
    choices: &[ModelChoice],
    engine: lm::Engine,
    plan: &MetricPlan,
    lang: Lang,
    prompt_of: &mut dyn FnMut(&lm::LoadedModel),
) -> anyhow::Result<Vec<crate::report::emergence::ModelMetrics>> {
    let mut models = Vec::new();
    for choice in choices {
        let mut loaded = lm::load(choice, engine)?;
        prompt_of(&loaded);
        let bar = progress::bar(
            &lang.fill("emergence.progress", &[("model", &loaded.info.label())]),
            (plan.lengths.len() * plan.seeds.len()) as u64,
        );
        let measured = metric::measure(&mut loaded, plan, &|done, _| bar.set_position(done as u64));
        bar.finish_and_clear();
        models.push(measured?);
    }
    Ok(models)
}

fn resolve_aliases(aliases: &[impl AsRef<str>]) -> Result<Vec<ModelChoice>, InputError> {
    aliases
        .iter()
        .map(|alias| ModelChoice::resolve(Some(alias.as_ref()), None, None))
        .collect()
}

fn run_metric(args: EmergenceMetricArgs, lang: Lang) -> anyhow::Result<MetricReport> {
    let remote = super::remote_endpoint_beside(
        &args.remote,
        !args.model.is_empty() || args.model_file.is_some(),
    )?;
    // The local models, resolved before any work (none with --endpoint).
    let choices: Vec<ModelChoice> = if remote.is_some() {
        Vec::new()
    } else if args.model_file.is_some() {
        vec![ModelChoice::resolve(
            None,
            args.model_file.as_deref(),
            args.sha256.as_deref(),
        )?]
    } else if args.model.is_empty() {
        resolve_aliases(catalog::DEFAULT_COMPARED)?
    } else {
        resolve_aliases(&args.model)?
    };
    let plot = plot_target(&args.output.plot)?;
    let plan = MetricPlan::checked(
        args.family,
        &args.digits.0,
        args.problems,
        &args.seeds.seeds,
    )?;
    let models = match &remote {
        Some(endpoint) => {
            let model =
                endpoint.model_or_first(args.remote.remote_model.clone(), "--remote-model")?;
            let bar = progress::bar(
                &lang.fill("emergence.progress", &[("model", &model)]),
                (plan.lengths.len() * plan.seeds.len()) as u64,
            );
            let measured = metric::measure_remote(
                endpoint,
                &model,
                args.raw,
                args.remote.parallel,
                &plan,
                &|done, _| bar.set_position(done as u64),
            );
            bar.finish_and_clear();
            vec![measured?]
        }
        None => measure_models(&choices, args.engine, &plan, lang, &mut |_| {})?,
    };
    let report = findings::report(
        plan.family,
        &plan.seeds,
        plan.problems,
        plan.lengths,
        models,
    );
    let charts: Vec<chart::Chart> = report
        .models
        .iter()
        .map(|m| chart::Chart {
            log_y: args.log_y,
            ..render::emergence::metric_chart(&report, m, lang)
        })
        .collect();
    write_plot(plot, &charts)?;
    Ok(report)
}

fn run_ladder(args: EmergenceLadderArgs, lang: Lang) -> anyhow::Result<LadderReport> {
    let aliases: Vec<String> = if args.models.is_empty() {
        catalog::MODELS
            .iter()
            .map(|m| m.alias.to_string())
            .collect()
    } else {
        args.models.clone()
    };
    if aliases.len() < 2 {
        return Err(invalid("--models: a ladder needs at least two models").into());
    }
    if let Some(twice) = aliases
        .iter()
        .enumerate()
        .find(|(i, a)| aliases[..*i].contains(a))
        .map(|(_, a)| a)
    {
        return Err(invalid(format!("--models: {twice} is named twice")).into());
    }
    let choices = resolve_aliases(&aliases)?;
    let plot = plot_target(&args.output.plot)?;
    let plan = MetricPlan::checked(
        args.family,
        &args.digits.0,
        args.problems,
        &args.seeds.seeds,
    )?;
    let first_question = problems::generate(
        plan.family,
        plan.lengths[0],
        1,
        plan.seeds[0],
        &metric::example_questions(plan.family),
    )
    .first()
    .map(|p| p.question.clone())
    .unwrap_or_default();
    let mut prompts = Vec::new();
    let models = measure_models(&choices, args.engine, &plan, lang, &mut |loaded| {
        if args.show_prompts {
            let asked = metric::ask(plan.family, &loaded.prompt_format, &first_question);
            prompts.push(ShownPrompt {
                model: loaded.info.label(),
                style: asked.style.to_string(),
                prompt: asked.prompt,
            });
        }
    })?;
    let report = ladder::report(
        findings::report(
            plan.family,
            &plan.seeds,
            plan.problems,
            plan.lengths.clone(),
            models,
        ),
        prompts,
    );
    let charts: Vec<chart::Chart> = render::ladder::charts(&report, lang)
        .into_iter()
        .map(|c| chart::Chart {
            log_y: args.log_y,
            ..c
        })
        .collect();
    write_plot(plot, &charts)?;
    Ok(report)
}

/// A metric report read back from a file is bounded and checked like flags:
/// shares in [0, 1], lengths and counts of a size a run could have made.
fn check_measured(report: &MetricReport, path: &Path) -> Result<(), InputError> {
    let bad = |what: String| {
        invalid(format!(
            "{}: {what}; it is not a report detprob emergence metric wrote",
            path.display()
        ))
    };
    if report.models.len() > 64 {
        return Err(bad(format!("{} models", report.models.len())));
    }
    for model in &report.models {
        if model.points.len() > 64 {
            return Err(bad(format!(
                "{} points for {}",
                model.points.len(),
                model.model
            )));
        }
        for point in &model.points {
            for (name, share) in [
                ("exact_match", point.exact_match),
                ("per_digit_accuracy", point.per_digit_accuracy),
                (
                    "predicted_exact_from_digits",
                    point.predicted_exact_from_digits,
                ),
            ] {
                if !(0.0..=1.0).contains(&share) {
                    return Err(bad(format!("{name} {share} is not a share from 0 to 1")));
                }
            }
            if !(1..=64).contains(&point.k) || !(0.0..=1e4).contains(&point.answer_symbols) {
                return Err(bad(format!(
                    "length {} with {} answer symbols",
                    point.k, point.answer_symbols
                )));
            }
        }
    }
    Ok(())
}

fn run_subtasks(args: EmergenceSubtasksArgs, lang: Lang) -> anyhow::Result<SubtasksReport> {
    if let Some(k) = args.counts.iter().find(|&&k| !(1..=64).contains(&k)) {
        return Err(invalid(format!("--counts: {k} is outside 1..64")).into());
    }
    let measured: Option<MetricReport> = args
        .from
        .as_deref()
        .map(|path| {
            let text = files::read_text(path, "metric report", files::DATA_LIMIT)?;
            serde_json::from_str(&text).map_err(|e| {
                invalid(format!(
                    "{} is not a report of `detprob emergence metric --format json`: {e}",
                    path.display()
                ))
            })
        })
        .transpose()?;
    if let (Some(report), Some(path)) = (&measured, &args.from) {
        check_measured(report, path)?;
    }
    let plot = plot_target(&args.output.plot)?;
    let report = subtasks::report(&args.counts, measured.as_ref());
    write_plot(plot, &[render::emergence::subtasks_chart(&report, lang)])?;
    Ok(report)
}

fn run_grok(args: EmergenceGrokArgs, view: &View) -> anyhow::Result<Box<dyn Render>> {
    let base = GrokSettings {
        modulus: args.modulus,
        train_fraction: args.train_fraction,
        width: args.width,
        lr: args.lr,
        weight_decay: args.weight_decay,
        steps: args.steps,
        seed: args.seed,
        grokfast: args.grokfast,
        log_every: args.log_every,
        stop_when_generalized: !args.no_stop,
        engine: args.engine,
    };
    if args.phase {
        return Ok(Box::new(run_phase(&args, &base, view.lang)?));
    }
    let fractions = if args.train_fractions.is_empty() {
        vec![args.train_fraction]
    } else {
        args.train_fractions.clone()
    };
    if fractions.len() > 12 {
        return Err(invalid("--train-fractions: at most 12 fractions").into());
    }
    let runs: Vec<GrokSettings> = fractions
        .iter()
        .map(|&train_fraction| GrokSettings {
            train_fraction,
            ..base.clone()
        })
        .collect();
    for settings in &runs {
        settings.check()?;
    }
    let plot = plot_target(&args.output.plot)?;
    let (lang, style) = (view.lang, &view.style);
    let log_steps = !args.linear_steps;
    let live = view.live();
    let mut reports = Vec::new();
    for (i, settings) in runs.iter().enumerate() {
        let mut screen = LiveScreen::new(live);
        let mut last_draw = std::time::Instant::now();
        let report = grok::train(settings, &mut |rows| {
            if screen.enabled && last_draw.elapsed().as_millis() >= 200 {
                last_draw = std::time::Instant::now();
                let mut text = render::grok::live(rows, log_steps, lang, style);
                if runs.len() > 1 {
                    text = format!("({}/{}) {text}", i + 1, runs.len());
                }
                screen.show(&text);
            }
        })?;
        screen.clear();
        reports.push(report);
    }
    if reports.len() == 1 {
        let report = reports.remove(0);
        let title = lang.text("grok.svg_title");
        write_plot(
            plot,
            &render::grok::charts(&report.rows, title, log_steps, lang),
        )?;
        Ok(Box::new(GrokView { report, log_steps }))
    } else {
        let sweep = GrokSweepReport::new(reports);
        write_plot(plot, &[render::grok::sweep_chart(&sweep, log_steps, lang)])?;
        Ok(Box::new(GrokSweepView { sweep, log_steps }))
    }
}

/// `grok --phase`: the grid of train fractions × weight decays (× Grokfast).
fn run_phase(
    args: &EmergenceGrokArgs,
    base: &GrokSettings,
    lang: Lang,
) -> anyhow::Result<crate::report::emergence::GrokPhaseReport> {
    let fractions = if args.train_fractions.is_empty() {
        vec![0.1, 0.2, 0.3, 0.5]
    } else {
        args.train_fractions.clone()
    };
    let decays = if args.weight_decays.is_empty() {
        vec![0.0, 0.1, 0.3, 1.0]
    } else {
        args.weight_decays.clone()
    };
    let grokfast = if args.grokfast_both {
        vec![false, true]
    } else {
        vec![args.grokfast]
    };
    if fractions.len() * decays.len() * grokfast.len() > 64 {
        return Err(
            invalid("--phase: at most 64 cells (fractions × weight decays × Grokfast)").into(),
        );
    }
    let plot = plot_target(&args.output.plot)?;
    let bar = progress::bar(
        lang.text("grok.phase.progress"),
        (fractions.len() * decays.len() * grokfast.len()) as u64,
    );
    let report = grok::phase(base, &fractions, &decays, &grokfast, &|done, _| {
        bar.set_position(done as u64)
    });
    bar.finish_and_clear();
    let report = report?;
    if let Some((path, overwrite)) = plot {
        let svg = render::grok::phase_svg(&report, lang)
            .map_err(|e| anyhow::anyhow!("drawing the chart: {e}"))?;
        files::write_whole(path, "--plot", overwrite, svg.as_bytes())?;
    }
    Ok(report)
}

/// How many terminal rows `text` takes: long lines wrap at the terminal's width.
fn rows_on_screen(text: &str) -> usize {
    let columns = TerminalStyle::detect().width.max(1) as usize;
    text.lines()
        .map(|l| textwrap::core::display_width(l).div_ceil(columns).max(1))
        .sum()
}

/// A region of the terminal redrawn in place while something runs: each
/// [`LiveScreen::show`] replaces what the previous one drew.
struct LiveScreen {
    enabled: bool,
    lines: usize,
}

impl LiveScreen {
    fn new(enabled: bool) -> Self {
        Self { enabled, lines: 0 }
    }

    fn show(&mut self, text: &str) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{}{}", Self::erase(self.lines), text);
        let _ = out.flush();
        self.lines = rows_on_screen(text);
    }

    fn clear(&mut self) {
        use std::io::Write;
        if self.lines > 0 {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{}", Self::erase(self.lines));
            let _ = out.flush();
            self.lines = 0;
        }
    }

    /// Moves up `lines` lines and erases from there to the end of the screen.
    fn erase(lines: usize) -> String {
        if lines == 0 {
            String::new()
        } else {
            format!("\x1b[{lines}F\x1b[J")
        }
    }
}

fn run_scale(args: EmergenceScaleArgs, lang: Lang) -> anyhow::Result<ScaleReport> {
    let settings = crate::emergence::scale::ScaleSettings {
        widths: args.widths.clone(),
        steps: args.steps,
        lr: args.lr,
        seeds: problems::check_seeds(&args.seeds.seeds)?,
        ..Default::default()
    };
    settings.check()?;
    let plot = plot_target(&args.output.plot)?;
    let bar = progress::bar(
        lang.text("scale.progress"),
        (settings.widths.len() * settings.seeds.len()) as u64,
    );
    let report = crate::emergence::scale::run(&settings, &|done, _| bar.set_position(done as u64));
    bar.finish_and_clear();
    let report = report?;
    write_plot(plot, &[render::scale::chart(&report, lang)])?;
    Ok(report)
}
