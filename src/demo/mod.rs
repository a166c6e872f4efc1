//! Classroom demos: run a scenario's view on the loaded model and compute its
//! takeaway from what happened in that run (never canned: if the model is
//! right, the takeaway says so).

pub mod scenario;

use serde::Serialize;

use crate::commands::{ProbsReport, RepeatReport, TraceReport};
use crate::comparison::{compare, CompareInput, CompareReport, SampleGrid};
use crate::lm::LoadedModel;
use crate::rules;
use crate::sampler::Sampling;
pub use scenario::{Bilingual, Scenario, Template, View};

/// The language of labels and takeaways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// `zh` when the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`) is Chinese, else `en`.
    pub fn from_env() -> Self {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        if locale.to_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// Picks the text in this language.
    pub fn pick(self, text: &Bilingual) -> &str {
        match self {
            Lang::En => &text.en,
            Lang::Zh => &text.zh,
        }
    }
}

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

/// What a view produced.
#[derive(Clone, Serialize)]
#[serde(tag = "view", rename_all = "lowercase")]
pub enum ViewResult {
    Compare { reports: Vec<CompareReport> },
    Probs { reports: Vec<ProbsReport> },
    Trace { reports: Vec<TraceReport> },
    Repeat { reports: Vec<RepeatReport> },
    Facts { facts: Facts },
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

/// Overrides for a quicker run (tests, rehearsals).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub seeds: Option<Vec<u64>>,
    pub runs: Option<usize>,
}

/// Runs `scenario` on `loaded`.
pub fn run(
    loaded: &mut LoadedModel,
    scenario: &Scenario,
    overrides: &Overrides,
) -> anyhow::Result<DemoStep> {
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
            for input in &scenario.inputs {
                let rule = scenario
                    .rule_for(input)
                    .expect("checked when the scenario was parsed");
                let input = CompareInput {
                    text: input.clone(),
                    truth: None,
                };
                reports.push(compare(loaded, rule, &input, &grid)?);
            }
            ViewResult::Compare { reports }
        }
        View::Probs => {
            let mut reports = Vec::new();
            for input in &scenario.inputs {
                let filters = crate::cli::FilterArgs {
                    top_k: None,
                    top_p: None,
                    min_p: None,
                };
                reports.push(crate::commands::probs_report(
                    loaded,
                    input,
                    raw,
                    &scenario.temperatures,
                    6,
                    &filters,
                )?);
            }
            ViewResult::Probs { reports }
        }
        View::Trace => {
            let temperature = scenario.temperatures[0];
            let mut reports = Vec::new();
            for input in &scenario.inputs {
                reports.push(crate::commands::trace_report(
                    loaded,
                    &crate::commands::TraceRequest {
                        prompt: input,
                        rule: scenario.rule,
                        sampling: Sampling::from_settings(temperature, None, None, None)?,
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
            for input in &scenario.inputs {
                let rule = scenario
                    .rule_for(input)
                    .expect("checked when the scenario was parsed");
                reports.push(crate::commands::repeat_report(
                    loaded,
                    rule,
                    input,
                    &crate::commands::RepeatSettings {
                        runs: overrides.runs.unwrap_or(scenario.runs),
                        temperatures: &scenario.temperatures,
                        seed: seeds[0],
                        max_tokens: scenario.max_tokens,
                    },
                )?);
            }
            ViewResult::Repeat { reports }
        }
        View::Facts => ViewResult::Facts {
            facts: facts(loaded),
        },
    };
    let takeaway = takeaway(&result);
    Ok(DemoStep {
        scenario: scenario.clone(),
        result,
        takeaway,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The rules' source and data, compiled in so the count is of this build.
const RULE_SOURCES: [&str; 7] = [
    include_str!("../rules/mod.rs"),
    include_str!("../rules/arithmetic.rs"),
    include_str!("../rules/capitals.rs"),
    include_str!("../rules/sentiment.rs"),
    include_str!("../rules/units.rs"),
    include_str!("../rules/leap_year.rs"),
    include_str!("../rules/leap_year_buggy.rs"),
];
const RULE_DATA: [&str; 2] = [
    include_str!("../rules/capitals.tsv"),
    include_str!("../rules/sentiment_lexicon.txt"),
];

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

fn both(en: String, zh: String) -> Bilingual {
    Bilingual { en, zh }
}

/// The takeaway of a run, computed from its numbers.
pub fn takeaway(result: &ViewResult) -> Bilingual {
    let mut en = Vec::new();
    let mut zh = Vec::new();
    match result {
        ViewResult::Compare { reports } => {
            for r in reports {
                let rule = &r.rule;
                let samples = r.model.samples.len();
                let right = r
                    .model
                    .samples
                    .iter()
                    .filter(|s| s.correct == Some(true))
                    .count();
                let known = r.truth.is_some();
                let rule_state_en = match (rule.outcome.answer(), rule.correct) {
                    (None, _) => "stopped with an explicit error".to_string(),
                    (Some(a), Some(true)) => format!("answered '{a}' (right)"),
                    (Some(a), Some(false)) => format!("answered '{a}' (wrong)"),
                    (Some(a), None) => format!("answered '{a}'"),
                };
                let rule_state_zh = match (rule.outcome.answer(), rule.correct) {
                    (None, _) => "明确报错并停止".to_string(),
                    (Some(a), Some(true)) => format!("答 “{a}”,正确"),
                    (Some(a), Some(false)) => format!("答 “{a}”,错误"),
                    (Some(a), None) => format!("答 “{a}”"),
                };
                let spread: Vec<String> = r
                    .model
                    .temperatures
                    .iter()
                    .map(|t| format!("{} at T={}", t.distinct_texts, t.temperature))
                    .collect();
                let spread_zh: Vec<String> = r
                    .model
                    .temperatures
                    .iter()
                    .map(|t| format!("T={} 时 {} 种", t.temperature, t.distinct_texts))
                    .collect();
                let model_en = if known {
                    format!("the model was right in {right} of {samples} samples")
                } else {
                    format!(
                        "the model answered in all {samples} samples (no truth to score against)"
                    )
                };
                let model_zh = if known {
                    format!("模型在 {samples} 次采样中答对 {right} 次")
                } else {
                    format!("模型 {samples} 次采样都给出了回答(没有标准答案可评分)")
                };
                en.push(format!(
                    "“{}”: the rule {} in all {} runs ({} distinct output); {model_en}, with distinct texts {}.",
                    r.input,
                    rule_state_en,
                    rule.runs,
                    rule.distinct_outputs,
                    spread.join(", ")
                ));
                zh.push(format!(
                    "“{}”:规则 {} 次运行都{}(输出 {} 种);{model_zh},不同文本数:{}。",
                    r.input,
                    rule.runs,
                    rule_state_zh,
                    rule.distinct_outputs,
                    spread_zh.join(",")
                ));
            }
        }
        ViewResult::Probs { reports } => {
            for r in reports {
                for column in &r.temperatures {
                    if let Some(top) = column.top.first() {
                        en.push(format!(
                            "At T={} the most likely next token is {:?} with probability {:.1}% (entropy {:.2} bits over {} candidates).",
                            column.temperature,
                            top.piece,
                            100.0 * top.probability,
                            column.entropy_bits,
                            column.candidates
                        ));
                        zh.push(format!(
                            "T={} 时最可能的下一个词元是 {:?},概率 {:.1}%(熵 {:.2} 比特,候选 {} 个)。",
                            column.temperature,
                            top.piece,
                            100.0 * top.probability,
                            column.entropy_bits,
                            column.candidates
                        ));
                    }
                }
            }
        }
        ViewResult::Trace { reports } => {
            for r in reports {
                let samples = &r.model.samples;
                let distinct = samples
                    .iter()
                    .map(|s| &s.text)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                match r
                    .model
                    .divergence
                    .as_ref()
                    .and_then(|d| d.branches.first().map(|b| (d, b)))
                {
                    Some((d, b)) => {
                        en.push(format!(
                            "{} seeds gave {distinct} distinct texts; they shared {} tokens, then seed {} drew {:?} (p = {:.2}) where seed {} drew {:?} (p = {:.2}).",
                            samples.len(), d.shared_steps, b.seed, b.piece, b.probability, b.from_seed, b.other_piece, b.other_probability
                        ));
                        zh.push(format!(
                            "{} 个种子得到 {distinct} 种不同文本;前 {} 个词元相同,随后种子 {} 抽到 {:?}(p = {:.2}),而种子 {} 抽到 {:?}(p = {:.2})。",
                            samples.len(), d.shared_steps, b.seed, b.piece, b.probability, b.from_seed, b.other_piece, b.other_probability
                        ));
                    }
                    None => {
                        en.push(format!("{} seed(s) gave {distinct} distinct text(s): no branching in this run.", samples.len()));
                        zh.push(format!(
                            "{} 个种子得到 {distinct} 种文本:这次运行没有出现分叉。",
                            samples.len()
                        ));
                    }
                }
                if let Some(rule) = &r.rule {
                    let sourced = rule.steps.iter().filter(|s| !s.source.is_empty()).count();
                    en.push(format!(
                        "The rule '{}' took {} steps, {sourced} of them pointing at a source line, and gave {}.",
                        rule.rule, rule.steps.len(), rule.output
                    ));
                    zh.push(format!(
                        "规则 '{}' 走了 {} 步,其中 {sourced} 步指向具体源代码行,结果为 {}。",
                        rule.rule,
                        rule.steps.len(),
                        rule.output
                    ));
                }
            }
        }
        ViewResult::Repeat { reports } => {
            for r in reports {
                for row in &r.rows {
                    en.push(format!(
                        "{} — {}: {} distinct output(s) in {} runs.",
                        row.side, row.setting, row.distinct, row.runs
                    ));
                    let side = if row.side == "rule" {
                        "规则"
                    } else {
                        "模型"
                    };
                    zh.push(format!(
                        "{side}({}):{} 次运行得到 {} 种输出。",
                        row.setting, row.runs, row.distinct
                    ));
                }
            }
        }
        ViewResult::Facts { facts } => {
            en.push(format!(
                "{} rules in {} lines of code and {} lines of data, each written by hand; {} has {} parameters in {} layers and a {}-token vocabulary, all learned from data. The file does not record its training data.",
                facts.rules.len(), facts.rule_code_lines, facts.rule_data_lines, facts.model,
                group_digits(facts.parameters), facts.layers, facts.vocab_size
            ));
            zh.push(format!(
                "{} 条规则共 {} 行代码、{} 行数据,全部由人手写;{} 有 {} 个参数、{} 层、{} 个词元的词表,全部从数据中学得。模型文件没有记录其训练数据。",
                facts.rules.len(), facts.rule_code_lines, facts.rule_data_lines, facts.model,
                group_digits(facts.parameters), facts.layers, facts.vocab_size
            ));
        }
    }
    both(en.join(" "), zh.join(""))
}

/// 134515008 → "134,515,008".
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_in_threes() {
        assert_eq!(group_digits(134_515_008), "134,515,008");
        assert_eq!(group_digits(999), "999");
    }

    #[test]
    fn rule_code_is_counted_without_tests_or_comments() {
        assert_eq!(
            code_lines("// c\nfn a() {}\n\nfn b() {}\n#[cfg(test)]\nmod t {}\n"),
            2
        );
    }
}
