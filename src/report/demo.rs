//! Classroom runs: one step (its scenario, what its view produced — the
//! reports of compare, probs, trace, repeat, the rule's size beside the
//! model's, part 0's measured and trained views — and its takeaway), a demo
//! run, a whole tour, and the list of shipped scenarios.

use serde::Serialize;

use crate::scenario::{Bilingual, Scenario};

use super::compare::CompareReport;
use super::emergence::{
    GrokPhaseReport, GrokReport, LadderReport, MetricReport, ScaleReport, SubtasksReport,
};
use super::experiments::RepeatReport;
use super::views::{ProbsReport, TraceReport};

/// The rule's size, counted from its source, against the model's.
#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    pub rules: Vec<&'static str>,
    /// Non-blank lines of the rules' Rust source and data tables.
    pub rule_code_lines: usize,
    pub rule_data_lines: usize,
    pub model: String,
    pub parameters: u64,
    pub layers: usize,
    pub vocab_size: usize,
    /// The file's `general.size_label`, if any.
    pub size_label: Option<String>,
    /// Whether the file records its training data (neither shipped model does).
    pub training_data_recorded: bool,
}

/// A rule's output on one input, shown beside the model's distribution.
#[derive(Debug, Clone, Serialize)]
pub struct RuleAnswer {
    /// The rule.
    pub rule: &'static str,
    /// The input.
    pub input: String,
    /// Its answer, or its explicit error.
    pub output: String,
}

/// What a step has done while it still runs, for a screen to show: the
/// comparisons finished so far, a training run's logged rows, or a view of
/// the models measured so far.
#[derive(Clone, Copy)]
pub enum SoFar<'a> {
    Compared(&'a [CompareReport]),
    Training(&'a [super::emergence::GrokRow]),
    Measured(&'a ViewResult),
}

/// What a view produced.
#[derive(Clone, Serialize)]
#[serde(tag = "view", rename_all = "lowercase")]
pub enum ViewResult {
    Compare {
        reports: Vec<CompareReport>,
    },
    Probs {
        reports: Vec<ProbsReport>,
        /// The rule's answer to each input, when the scenario names a rule.
        rules: Vec<RuleAnswer>,
    },
    Trace {
        reports: Vec<TraceReport>,
    },
    Repeat {
        reports: Vec<RepeatReport>,
    },
    Facts {
        facts: Facts,
    },
    /// Part 0: one metric report per family, on the tour's model.
    Metric {
        reports: Vec<MetricReport>,
    },
    /// Part 0: the scenario's models by size, on the same problems.
    Ladder {
        report: LadderReport,
    },
    /// Part 0: the p^k curves, with the tour model's measured points.
    Subtasks {
        report: SubtasksReport,
    },
    /// Part 0: tiny models of growing width, trained in class.
    Scale {
        report: ScaleReport,
    },
    /// Part 0: grokking, trained in class.
    Grok {
        report: GrokReport,
    },
    /// Part 0: grokking's phase diagram, trained in class.
    Phase {
        report: GrokPhaseReport,
    },
}

/// The shipped scenarios, for `demo --list`.
pub struct ScenarioList(pub Vec<Scenario>);

/// One scenario run by `detprob demo`, with where it stands in the tour.
#[derive(Serialize)]
pub struct DemoRun {
    /// The step.
    #[serde(flatten)]
    pub step: DemoStep,
    /// The model that ran it.
    #[serde(skip)]
    pub model: String,
    /// Its step number and the tour's length.
    #[serde(skip)]
    pub position: (usize, usize),
}

/// A whole tour run with `--format json`.
#[derive(Serialize)]
pub struct TourReport {
    /// Each step, in order.
    pub steps: Vec<DemoStep>,
    /// Wall time of the whole tour, in seconds.
    pub seconds: f64,
}

/// One step of a demo or the tour.
#[derive(Clone, Serialize)]
pub struct DemoStep {
    pub scenario: Scenario,
    pub result: ViewResult,
    /// Computed from `result`.
    pub takeaway: Bilingual,
    pub seconds: f64,
}
