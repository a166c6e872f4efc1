//! Which renderer writes each report in each format: one [`Render`] impl per
//! report, each delegating to its family's renderers (as hyperfine's
//! exporters do). A new report gets its line here and nowhere else.

use super::style::TerminalStyle;
use super::terminal::Verdicts;
use super::{
    csv, demo, emergence, experiments, grok, html, ladder, markdown, score, terminal, text,
};
use super::{Format, Render};
use crate::report::compare::ShowcaseReport;
use crate::report::compare::{CompareReport, SummaryReport};
use crate::report::demo::{DemoRun, ScenarioList, TourReport};
use crate::report::emergence::{
    GrokPhaseReport, GrokReport, GrokSweepReport, LadderReport, MetricReport, ScaleReport,
    SubtasksReport,
};
use crate::report::experiments::RepeatReport;
use crate::report::experiments::ReplayReport;
use crate::report::experiments::SweepSummary;
use crate::report::model::{GenerateReport, ModelListReport, RemoteGenerateReport, TokenizeReport};
use crate::report::views::{ProbsReport, ScoreReport, TraceReport};
use crate::words::Lang;

impl Render for CompareReport {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        terminal::compare_panel(self, lang, Verdicts::Shown, style)
    }
    fn markdown(&self, lang: Lang) -> String {
        markdown::compare(self, lang)
    }
    fn csv(&self) -> Option<String> {
        Some(csv::samples(&[self]))
    }
}

impl Render for SummaryReport {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        terminal::summary_table(self, lang, style)
    }
    fn markdown(&self, lang: Lang) -> String {
        markdown::summary(self, lang)
    }
    fn csv(&self) -> Option<String> {
        Some(csv::summary(self))
    }
}

impl Render for ShowcaseReport {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        let count = self.items.len();
        let mut out: String = self
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                terminal::showcase_item((i, count), &item.why, &item.comparison, lang, style)
            })
            .collect();
        out.push_str(&terminal::showcase_footer(self.seconds, lang, style));
        out
    }
    fn markdown(&self, lang: Lang) -> String {
        self.items
            .iter()
            .map(|item| {
                format!(
                    "## {}\n\n{}",
                    lang.pick(&item.why),
                    markdown::compare(&item.comparison, lang)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
    fn csv(&self) -> Option<String> {
        let comparisons: Vec<&CompareReport> = self.items.iter().map(|i| &i.comparison).collect();
        Some(csv::samples(&comparisons))
    }
}

impl Render for RemoteGenerateReport {
    fn terminal(&self, lang: Lang, _: &TerminalStyle) -> String {
        text::remote_generate(self, lang)
    }
    fn markdown(&self, lang: Lang) -> String {
        text::remote_generate_markdown(self, lang)
    }
}

impl Render for GenerateReport {
    fn terminal(&self, lang: Lang, _: &TerminalStyle) -> String {
        text::generate(self, lang)
    }
    fn markdown(&self, lang: Lang) -> String {
        text::generate_markdown(self, lang)
    }
}

impl Render for TokenizeReport {
    fn terminal(&self, lang: Lang, _: &TerminalStyle) -> String {
        text::tokenize(self, lang)
    }
    fn markdown(&self, lang: Lang) -> String {
        text::tokenize_markdown(self, lang)
    }
}

impl Render for ModelListReport {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        text::model_list(self, lang, style)
    }
    fn markdown(&self, lang: Lang) -> String {
        text::model_list_markdown(self, lang)
    }
}

impl Render for ReplayReport {
    fn terminal(&self, lang: Lang, _: &TerminalStyle) -> String {
        text::replay(self, lang)
    }
    fn markdown(&self, lang: Lang) -> String {
        text::replay(self, lang)
    }
}

impl Render for ProbsReport {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        terminal::probs(self, lang, style)
    }
    fn markdown(&self, lang: Lang) -> String {
        markdown::probs(self, lang)
    }
}

impl Render for TraceReport {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        terminal::trace(self, lang, style)
    }
    fn markdown(&self, lang: Lang) -> String {
        markdown::trace(self, lang)
    }
}

impl Render for RepeatReport {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        experiments::repeat_terminal(self, lang, style)
    }
    fn markdown(&self, lang: Lang) -> String {
        experiments::repeat_markdown(self, lang)
    }
}

impl Render for SweepSummary {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        experiments::sweep_terminal(self, lang, style)
    }
    fn markdown(&self, lang: Lang) -> String {
        experiments::sweep_markdown(self, lang)
    }
}

impl Render for ScoreReport {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        score::terminal(self, lang, style)
    }
    fn markdown(&self, lang: Lang) -> String {
        score::markdown(self, lang)
    }
}

/// Not a report: the list is for reading (`demo --list`).
impl super::AsJson for ScenarioList {
    fn json(&self) -> String {
        super::to_json(&self.0)
    }
}

impl Render for ScenarioList {
    fn terminal(&self, lang: Lang, _: &TerminalStyle) -> String {
        demo::list(&self.0, lang)
    }
    fn markdown(&self, lang: Lang) -> String {
        demo::list(&self.0, lang)
    }
}

impl Render for DemoRun {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        demo::step_screens(&self.step, None, lang, style).concat()
    }
    fn markdown(&self, lang: Lang) -> String {
        demo::step_markdown(&self.step, lang)
    }
    fn html(&self, lang: Lang) -> Option<String> {
        Some(
            html::head(&self.model, lang)
                + &html::step(&self.step, self.position, lang)
                + &html::foot(1, self.step.seconds, lang),
        )
    }
}

impl Render for TourReport {
    fn terminal(&self, lang: Lang, _: &TerminalStyle) -> String {
        super::cells::tour_footer(self.steps.len(), self.seconds, lang) + "\n"
    }
    fn markdown(&self, lang: Lang) -> String {
        self.steps
            .iter()
            .map(|s| demo::step_markdown(s, lang))
            .collect()
    }
}

/// The emergence renderers take the format themselves (their tables, charts
/// and takeaways are shared between formats).
macro_rules! emergence_render {
    ($report:ty, $render:path) => {
        impl Render for $report {
            fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
                $render(self, Format::Terminal, lang, style)
            }
            fn markdown(&self, lang: Lang) -> String {
                $render(self, Format::Markdown, lang, &TerminalStyle::plain())
            }
            fn csv(&self) -> Option<String> {
                Some($render(
                    self,
                    Format::Csv,
                    Lang::En,
                    &TerminalStyle::plain(),
                ))
            }
        }
    };
}

emergence_render!(GrokPhaseReport, grok::phase);
emergence_render!(SubtasksReport, emergence::subtasks);
emergence_render!(ScaleReport, super::scale::report);

/// A metric or ladder run with the scale of its charts' shares: linear, or
/// log₁₀ from 0.1 % (`--log-y`, Schaeffer et al.'s view of exact match).
pub struct SharesView<R> {
    /// The run.
    pub report: R,
    /// Shares on a log scale.
    pub log_y: bool,
}

impl<R: ChartedRun> super::AsJson for SharesView<R> {
    fn json(&self) -> String {
        super::to_json(&self.report)
    }
}

/// A run `SharesView` can draw: its renderer, taking the share scale.
pub trait ChartedRun: serde::Serialize {
    /// `self` in `format`, shares on a log scale with `log_y`.
    fn render(&self, format: Format, log_y: bool, lang: Lang, style: &TerminalStyle) -> String;
}

impl ChartedRun for MetricReport {
    fn render(&self, format: Format, log_y: bool, lang: Lang, style: &TerminalStyle) -> String {
        emergence::metric(self, format, log_y, lang, style)
    }
}

impl ChartedRun for LadderReport {
    fn render(&self, format: Format, log_y: bool, lang: Lang, style: &TerminalStyle) -> String {
        ladder::ladder(self, format, log_y, lang, style)
    }
}

impl<R: ChartedRun> Render for SharesView<R> {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        self.report
            .render(Format::Terminal, self.log_y, lang, style)
    }
    fn markdown(&self, lang: Lang) -> String {
        let plain = TerminalStyle::plain();
        self.report
            .render(Format::Markdown, self.log_y, lang, &plain)
    }
    fn csv(&self) -> Option<String> {
        let plain = TerminalStyle::plain();
        Some(
            self.report
                .render(Format::Csv, self.log_y, Lang::En, &plain),
        )
    }
}
/// One grokking run, with the step axis the flags ask for.
pub struct GrokView {
    /// The run.
    pub report: GrokReport,
    /// Steps on a logarithmic axis.
    pub log_steps: bool,
}

impl super::AsJson for GrokView {
    fn json(&self) -> String {
        super::to_json(&self.report)
    }
}

impl Render for GrokView {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        grok::report(&self.report, Format::Terminal, self.log_steps, lang, style)
    }
    fn markdown(&self, lang: Lang) -> String {
        let plain = TerminalStyle::plain();
        grok::report(&self.report, Format::Markdown, self.log_steps, lang, &plain)
    }
    fn csv(&self) -> Option<String> {
        let plain = TerminalStyle::plain();
        Some(grok::report(
            &self.report,
            Format::Csv,
            self.log_steps,
            Lang::En,
            &plain,
        ))
    }
}

/// A sweep of grokking runs, with the step axis the flags ask for.
pub struct GrokSweepView {
    /// The runs.
    pub sweep: GrokSweepReport,
    /// Steps on a logarithmic axis.
    pub log_steps: bool,
}

impl super::AsJson for GrokSweepView {
    fn json(&self) -> String {
        super::to_json(&self.sweep)
    }
}

impl Render for GrokSweepView {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        grok::sweep(&self.sweep, Format::Terminal, self.log_steps, lang, style)
    }
    fn markdown(&self, lang: Lang) -> String {
        let plain = TerminalStyle::plain();
        grok::sweep(&self.sweep, Format::Markdown, self.log_steps, lang, &plain)
    }
    fn csv(&self) -> Option<String> {
        let plain = TerminalStyle::plain();
        Some(grok::sweep(
            &self.sweep,
            Format::Csv,
            self.log_steps,
            Lang::En,
            &plain,
        ))
    }
}
