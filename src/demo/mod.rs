//! Classroom demos: run a scenario's view on the loaded model into a
//! [`DemoStep`], its takeaway worded from what happened in that run (never
//! canned: if the model is right, the takeaway says so).

use crate::comparison::{compare, CompareInput};
use crate::lm::LoadedModel;
use crate::report::compare::SampleGrid;
use crate::report::demo::{DemoStep, Facts, RuleAnswer, SoFar, ViewResult};
use crate::report::emergence::MetricReport;
use crate::rules;
use crate::sampler::Sampling;
use crate::scenario::{Bilingual, Scenario, Template, View};

pub use crate::words::Lang;

/// The step of `scenario` that produced `result`, its takeaway computed in
/// both languages, timed from `started`.
fn step(scenario: &Scenario, result: ViewResult, started: std::time::Instant) -> DemoStep {
    let takeaway = Bilingual {
        en: crate::takeaway::takeaway(&result, Lang::En),
        zh: crate::takeaway::takeaway(&result, Lang::Zh),
    };
    DemoStep {
        scenario: scenario.clone(),
        result,
        takeaway,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Overrides for a quicker run (tests, rehearsals).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub seeds: Option<Vec<u64>>,
    pub runs: Option<usize>,
}

/// The models a demo or the tour runs on: the one chosen for it, and any
/// other that a part-0 scenario names (loaded on first use, then kept).
pub struct Models {
    /// The demo's model.
    pub main: LoadedModel,
    others: Vec<LoadedModel>,
    engine: crate::lm::Engine,
    /// The user named the model: every step uses it, whatever a scenario names.
    fixed: bool,
}

impl Models {
    /// `main`, plus whatever scenarios name unless the user `fixed` the model.
    pub fn new(main: LoadedModel, engine: crate::lm::Engine, fixed: bool) -> Self {
        Self {
            main,
            others: Vec::new(),
            engine,
            fixed,
        }
    }

    /// The model named by `alias`, or the demo's model for `None`.
    fn named_or_main(&mut self, alias: Option<&str>) -> anyhow::Result<&mut LoadedModel> {
        match alias {
            Some(alias) => self.get(alias),
            None => Ok(&mut self.main),
        }
    }

    /// The model a scenario names by `alias`.
    fn get(&mut self, alias: &str) -> anyhow::Result<&mut LoadedModel> {
        if self.fixed || self.main.info.alias.as_deref() == Some(alias) {
            return Ok(&mut self.main);
        }
        let index = match self
            .others
            .iter()
            .position(|m| m.info.alias.as_deref() == Some(alias))
        {
            Some(i) => i,
            None => {
                let choice = crate::store::ModelChoice::resolve(Some(alias), None, None)?;
                self.others.push(crate::lm::load(&choice, self.engine)?);
                self.others.len() - 1
            }
        };
        Ok(&mut self.others[index])
    }
}

/// How far a step's run is: `(what, done, of)`, where `what` names the part
/// being worked on in the user's words (an input, a model) or is empty.
pub type Progress<'a> = &'a dyn Fn(&str, usize, usize);

/// What a step has done so far (a comparison's finished inputs, a training
/// run's rows), so a screen can show it as it grows.
pub type Partial<'a> = &'a dyn Fn(SoFar);

/// Runs `scenario` on `models`, telling `progress` after each input, model
/// or stretch of training, and `partial` the comparisons done so far while
/// more remain.
pub fn run(
    models: &mut Models,
    scenario: &Scenario,
    overrides: &Overrides,
    progress: Progress,
    partial: Partial,
) -> anyhow::Result<DemoStep> {
    if matches!(
        scenario.view,
        View::Metric | View::Ladder | View::Subtasks | View::Scale | View::Grok | View::Phase
    ) {
        return run_emergence(models, scenario, progress, partial);
    }
    let inputs = scenario.inputs.len();
    let asked = |i: usize| progress(&scenario.inputs[i].text, i, inputs);
    let started = std::time::Instant::now();
    let seeds = overrides
        .seeds
        .clone()
        .unwrap_or_else(|| scenario.seeds.clone());
    let raw = scenario.template == Template::Raw;
    let result = match scenario.view {
        View::Compare => {
            let grid = SampleGrid {
                temperatures: scenario.temperatures.clone(),
                seeds,
                max_tokens: scenario.max_tokens,
            };
            let mut reports = Vec::new();
            for (i, input) in scenario.inputs.iter().enumerate() {
                asked(i);
                let rule = input.rule.expect("checked when the scenario was parsed");
                let loaded = models.named_or_main(scenario.model_for(input))?;
                let input = CompareInput {
                    text: input.text.clone(),
                    truth: input.truth.clone(),
                };
                reports.push(compare(loaded, rule, &input, &grid)?);
                if reports.len() < inputs {
                    partial(SoFar::Compared(&reports));
                }
            }
            ViewResult::Compare { reports }
        }
        View::Probs => {
            let mut reports = Vec::new();
            let mut rules = Vec::new();
            for (i, input) in scenario.inputs.iter().enumerate() {
                asked(i);
                let loaded = models.named_or_main(scenario.model_for(input))?;
                if let Some(rule) = scenario.rule {
                    rules.push(RuleAnswer {
                        rule: rule.name(),
                        input: input.text.clone(),
                        output: rule.apply(&input.text).outcome.display(),
                    });
                }
                let filters = crate::sampler::Filters::default();
                reports.push(crate::inspect::probs::report(
                    loaded,
                    &input.text,
                    raw,
                    &scenario.temperatures,
                    // Four tokens and the tail keep a step on one screen.
                    4,
                    &filters,
                )?);
            }
            ViewResult::Probs { reports, rules }
        }
        View::Trace => {
            let temperature = scenario.temperatures[0];
            let mut reports = Vec::new();
            for (i, input) in scenario.inputs.iter().enumerate() {
                asked(i);
                let loaded = models.named_or_main(scenario.model_for(input))?;
                reports.push(crate::inspect::trace::report(
                    loaded,
                    &crate::inspect::trace::TraceRequest {
                        prompt: &input.text,
                        rule: scenario.rule,
                        sampling: Sampling::at(temperature),
                        seeds: &seeds,
                        max_tokens: scenario.max_tokens,
                        alternatives: 3,
                        low: 0.5,
                        raw,
                    },
                )?);
            }
            ViewResult::Trace { reports }
        }
        View::Repeat => {
            let mut reports = Vec::new();
            for (i, input) in scenario.inputs.iter().enumerate() {
                asked(i);
                let rule = input.rule.expect("checked when the scenario was parsed");
                let loaded = models.named_or_main(scenario.model_for(input))?;
                reports.push(crate::experiments::repeat::local(
                    loaded,
                    rule,
                    &input.text,
                    &crate::experiments::repeat::RepeatSettings {
                        runs: overrides.runs.unwrap_or(scenario.runs),
                        temperatures: &scenario.temperatures,
                        seed: seeds[0],
                        max_tokens: scenario.max_tokens,
                    },
                    &indicatif::ProgressBar::hidden(),
                )?);
            }
            ViewResult::Repeat { reports }
        }
        View::Facts => ViewResult::Facts {
            facts: facts(models.named_or_main(scenario.model.as_deref())?),
        },
        View::Metric | View::Ladder | View::Subtasks | View::Scale | View::Grok | View::Phase => {
            unreachable!("part-0 views run in run_emergence")
        }
    };
    Ok(step(scenario, result, started))
}

/// The grokking command's settings, with the scenario's step budget.
fn grok_settings(scenario: &Scenario) -> crate::emergence::grok::GrokSettings {
    let defaults = crate::emergence::grok::GrokSettings::default();
    crate::emergence::grok::GrokSettings {
        steps: scenario.train_steps.unwrap_or(defaults.steps),
        ..defaults
    }
}

/// Runs a part-0 scenario: its problems asked of each model it names (or
/// of the demo's model), then the metric tables or the p^k curves.
fn run_emergence(
    models: &mut Models,
    scenario: &Scenario,
    progress: Progress,
    partial: Partial,
) -> anyhow::Result<DemoStep> {
    let started = std::time::Instant::now();
    // A ladder is about size: it asks its own models even when the tour was
    // given one model.
    let every_model = scenario.view == View::Ladder;
    let measure = |models: &mut Models, family| -> anyhow::Result<MetricReport> {
        let plan = crate::emergence::metric::MetricPlan {
            family,
            lengths: scenario.lengths.clone(),
            problems: scenario.problems,
            seeds: vec![scenario.seeds.first().copied().unwrap_or(1)],
        };
        let measured = std::cell::RefCell::new(Vec::new());
        // The report of the lengths and models measured so far.
        let report_of = |lengths: &[usize], models: Vec<_>| {
            crate::emergence::findings::report(
                family,
                &plan.seeds,
                plan.problems,
                lengths.to_vec(),
                models,
            )
        };
        // A ladder's rows so far: the models measured, then `so_far`.
        let ladder_so_far = |so_far: Option<&crate::report::emergence::ModelMetrics>| {
            let mut models = measured.borrow().clone();
            models.extend(so_far.cloned());
            partial(SoFar::Measured(&ViewResult::Ladder {
                report: crate::emergence::ladder::report(
                    report_of(&plan.lengths, models),
                    Vec::new(),
                ),
            }));
        };
        // A metric step's rows appear length by length (a sub-task step's
        // too); a ladder's, model by model and, within a model, length by
        // length.
        let watch = |so_far: &crate::report::emergence::ModelMetrics| match scenario.view {
            View::Metric => {
                let lengths = &plan.lengths[..so_far.points.len()];
                partial(SoFar::Measured(&ViewResult::Metric {
                    reports: vec![report_of(lengths, vec![so_far.clone()])],
                }));
            }
            View::Ladder => ladder_so_far(Some(so_far)),
            View::Subtasks => {
                let lengths = &plan.lengths[..so_far.points.len()];
                partial(SoFar::Measured(&ViewResult::Subtasks {
                    report: crate::emergence::subtasks::report(
                        &crate::emergence::subtasks::COUNTS,
                        Some(&report_of(lengths, vec![so_far.clone()])),
                    ),
                }));
            }
            _ => {}
        };
        if scenario.models.is_empty() || (models.fixed && !every_model) {
            let model = models.main.info.label();
            let one = crate::emergence::metric::measure_watched(
                &mut models.main,
                &plan,
                &|done, of| progress(&model, done, of),
                &watch,
            )?;
            measured.borrow_mut().push(one);
        } else {
            for (n, alias) in scenario.models.iter().enumerate() {
                progress(alias, 0, 1);
                let loaded = models.get(alias)?;
                let one = crate::emergence::metric::measure_watched(
                    loaded,
                    &plan,
                    &|done, of| progress(alias, done, of),
                    &watch,
                )?;
                measured.borrow_mut().push(one);
                // A model's last length shows before the next model loads.
                if scenario.view == View::Ladder && n + 1 < scenario.models.len() {
                    ladder_so_far(None);
                }
            }
        }
        Ok(report_of(&plan.lengths, measured.into_inner()))
    };
    let result = match scenario.view {
        View::Ladder => ViewResult::Ladder {
            report: crate::emergence::ladder::report(
                measure(models, scenario.families[0])?,
                Vec::new(),
            ),
        },
        View::Metric => ViewResult::Metric {
            reports: scenario
                .families
                .iter()
                .map(|&family| measure(models, family))
                .collect::<anyhow::Result<_>>()?,
        },
        View::Scale => {
            let mut settings = crate::emergence::scale::ScaleSettings::default();
            if !scenario.widths.is_empty() {
                settings.widths = scenario.widths.clone();
            }
            if let Some(steps) = scenario.train_steps {
                settings.steps = steps;
            }
            settings.seeds = crate::emergence::problems::check_seeds(&scenario.seeds)?;
            // The table fills in width by width.
            ViewResult::Scale {
                report: crate::emergence::scale::run_watched(
                    &settings,
                    &|done, of| progress("", done, of),
                    &|so_far| {
                        partial(SoFar::Measured(&ViewResult::Scale {
                            report: so_far.clone(),
                        }))
                    },
                )?,
            }
        }
        View::Grok => ViewResult::Grok {
            report: {
                let settings = grok_settings(scenario);
                // The chart grows on screen, redrawn five times a second.
                let mut drawn = std::time::Instant::now();
                crate::emergence::grok::train(&settings, &mut |rows| {
                    if let Some(row) = rows.last() {
                        progress("", row.step, settings.steps);
                    }
                    if drawn.elapsed().as_millis() >= 200 {
                        drawn = std::time::Instant::now();
                        partial(SoFar::Training(rows));
                    }
                })?
            },
        },
        // The diagram fills in cell by cell.
        View::Phase => ViewResult::Phase {
            report: crate::emergence::grok::phase_watched(
                &grok_settings(scenario),
                &scenario.train_fractions,
                &scenario.weight_decays,
                &[false],
                &|done, of| progress("", done, of),
                &|so_far| {
                    partial(SoFar::Measured(&ViewResult::Phase {
                        report: so_far.clone(),
                    }))
                },
            )?,
        },
        _ => {
            let measured = (scenario.problems > 0)
                .then(|| measure(models, scenario.families[0]))
                .transpose()?;
            ViewResult::Subtasks {
                report: crate::emergence::subtasks::report(
                    &crate::emergence::subtasks::COUNTS,
                    measured.as_ref(),
                ),
            }
        }
    };
    Ok(step(scenario, result, started))
}

// The rules' source and data (`RULE_SOURCES`, `RULE_DATA`): every file of
// `src/rules/`, listed by the build script and compiled in, so the count is
// of this build.
include!(concat!(env!("OUT_DIR"), "/rule_sources.rs"));

fn code_lines(text: &str) -> usize {
    // Lines before the unit tests, without blanks and comments.
    text.split("#[cfg(test)]")
        .next()
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .count()
}

fn facts(loaded: &LoadedModel) -> Facts {
    Facts {
        rules: rules::all().iter().map(|r| r.name()).collect(),
        rule_code_lines: RULE_SOURCES.iter().map(|s| code_lines(s)).sum(),
        rule_data_lines: RULE_DATA
            .iter()
            .flat_map(|d| d.lines())
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count(),
        model: loaded.info.label(),
        parameters: loaded.info.parameters,
        layers: loaded.info.layers,
        vocab_size: loaded.info.vocab_size,
        size_label: loaded.info.size_label.clone(),
        training_data_recorded: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_code_is_counted_without_tests_or_comments() {
        assert_eq!(
            code_lines("// c\nfn a() {}\n\nfn b() {}\n#[cfg(test)]\nmod t {}\n"),
            2
        );
    }
}
