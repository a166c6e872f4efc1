//! Classroom scenarios: the TOML files in `demos/`, parsed and checked, with
//! errors that name the file, the line and the field.

use crate::sampler::Temperature;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{invalid, InputError};
use crate::options::parse_seeds;
use crate::rules::{self, Rule};

// `BUILTIN`: every numbered scenario in `demos/`, listed by the build script.
include!(concat!(env!("OUT_DIR"), "/scenarios.rs"));

pub use crate::words::Bilingual;

/// Which detprob view a scenario shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// Rule and model side by side over temperatures × seeds.
    Compare,
    /// The next-token distribution per temperature.
    Probs,
    /// Generation step by step; where seeds branch.
    Trace,
    /// Run both sides N times and count distinct outputs.
    Repeat,
    /// The rule's code size against the model's parameters, from its metadata.
    Facts,
    /// Part 0: strict and smooth metrics on problems of growing length.
    Metric,
    /// Part 0: the same problems asked of the scenario's models, by size.
    Ladder,
    /// Part 0: the composition law p^k (with measured points when
    /// `problems` > 0).
    Subtasks,
    /// Part 0: tiny models of growing width trained on 3-digit addition.
    Scale,
    /// Part 0: grokking (a + b) mod p, trained live.
    Grok,
    /// Part 0: grokking's phase diagram, train fraction × weight decay.
    Phase,
}

impl View {
    /// Whether the view runs on inputs (part 1) rather than generated
    /// problems (part 0).
    pub fn needs_inputs(self) -> bool {
        !matches!(
            self,
            View::Facts
                | View::Metric
                | View::Ladder
                | View::Subtasks
                | View::Scale
                | View::Grok
                | View::Phase
        )
    }
}

/// How an input is put to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Template {
    /// The rule's task template (e.g. "Answer with just the number").
    Task,
    /// The input as the user's message in the model's chat template.
    Chat,
    /// The input as is.
    Raw,
}

/// One input as written: plain text, or a table that also names the
/// correct answer and the rule for this input.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum InputEntry {
    Text(String),
    Detailed {
        text: String,
        /// The same question in Chinese, asked instead under `--lang zh`.
        zh: Option<String>,
        truth: Option<String>,
        rule: Option<String>,
        /// The model this input is asked of (an alias).
        model: Option<String>,
    },
}

/// One checked input of a scenario.
#[derive(Clone, Serialize)]
pub struct ScenarioInput {
    /// The input text.
    pub text: String,
    /// The same question in Chinese (it goes to the same rule), asked
    /// instead under `--lang zh`.
    pub zh: Option<String>,
    /// The model this input is asked of, by alias (`None`: the scenario's,
    /// else the demo's).
    pub model: Option<String>,
    /// The correct answer, when the file gives it (scores both sides).
    pub truth: Option<String>,
    /// The rule this input goes to: its own, else the scenario's when that
    /// rule's domain fits the input, else the rule whose domain fits best,
    /// else the scenario's (`None` when no rule applies).
    #[serde(serialize_with = "rule_name")]
    pub rule: Option<&'static dyn Rule>,
}

/// A scenario file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    /// Position in the tour.
    order: u32,
    /// Part 1: a row of the source table (`row`) or a summary point
    /// (`summary`); part 0: `definition`, `cause` or `misconception`.
    kind: Spanned<String>,
    /// The row's or point's name in the source (e.g. 输出结果).
    key: String,
    title: Bilingual,
    /// The claim, quoted from the source (zh) and in English.
    claim: Bilingual,
    view: View,
    rule: Option<Spanned<String>>,
    /// The model every input is asked of unless it names its own (an alias;
    /// default: the demo's model).
    model: Option<Spanned<String>>,
    #[serde(default = "no_inputs")]
    inputs: Spanned<Vec<InputEntry>>,
    template: Option<Template>,
    /// Part 0: the task families asked (`addition`, `reverse`).
    #[serde(default = "default_families")]
    families: Vec<crate::emergence::problems::Family>,
    /// Part 0: the lengths k (`1..4` or `1,2,4`).
    #[serde(default = "default_lengths")]
    lengths: Spanned<String>,
    /// Part 0: problems per length (0: no measurement, curves only).
    #[serde(default = "default_problems")]
    problems: usize,
    /// Part 0: the models to ask (aliases; default: the demo's model).
    #[serde(default)]
    models: Vec<Spanned<String>>,
    /// Part 0, scale: the widths to train (default: the command's).
    #[serde(default)]
    widths: Vec<usize>,
    /// Part 0, scale and grok: the step budget (default: the command's).
    train_steps: Option<usize>,
    /// Part 0, phase: the train fractions (rows).
    #[serde(default)]
    train_fractions: Vec<f64>,
    /// Part 0, phase: the weight decays (columns).
    #[serde(default)]
    weight_decays: Vec<f64>,
    #[serde(default = "default_temperatures")]
    temperatures: Spanned<Vec<f64>>,
    #[serde(default = "default_seeds")]
    seeds: Spanned<String>,
    #[serde(default = "default_runs")]
    runs: usize,
    #[serde(default = "default_max_tokens")]
    max_tokens: usize,
    point_out: Bilingual,
}

fn no_inputs() -> Spanned<Vec<InputEntry>> {
    Spanned::new(0..0, Vec::new())
}
fn default_families() -> Vec<crate::emergence::problems::Family> {
    vec![crate::emergence::problems::Family::Addition]
}
fn default_lengths() -> Spanned<String> {
    Spanned::new(0..0, "1..3".into())
}
fn default_problems() -> usize {
    6
}
fn default_temperatures() -> Spanned<Vec<f64>> {
    Spanned::new(0..0, vec![0.0, 0.7, 1.2])
}
fn default_seeds() -> Spanned<String> {
    Spanned::new(0..0, "1..5".into())
}
fn default_runs() -> usize {
    5
}
fn default_max_tokens() -> usize {
    32
}

/// What a step stands for in the source note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Part 1: a row of the comparison table.
    Row,
    /// Part 1: a summary point.
    Summary,
    /// Part 0: what emergence is.
    Definition,
    /// Part 0: a cause of apparent emergence.
    Cause,
    /// Part 0: a misconception about it.
    Misconception,
}

impl Kind {
    /// The note's part: 1 (LLM vs ordinary program) or 0 (emergence).
    pub fn part(self) -> u8 {
        match self {
            Kind::Row | Kind::Summary => 1,
            Kind::Definition | Kind::Cause | Kind::Misconception => 0,
        }
    }
}

/// A checked scenario.
#[derive(Clone, Serialize)]
pub struct Scenario {
    /// File name without `.toml`.
    pub name: String,
    pub order: u32,
    /// What the step stands for in the note.
    pub kind: Kind,
    pub key: String,
    pub title: Bilingual,
    pub claim: Bilingual,
    pub view: View,
    /// The rule (`None` when the view needs none and none was named).
    #[serde(serialize_with = "rule_name")]
    pub rule: Option<&'static dyn Rule>,
    pub inputs: Vec<ScenarioInput>,
    /// The model the inputs are asked of unless one names its own (`None`:
    /// the demo's model).
    pub model: Option<String>,
    pub template: Template,
    pub temperatures: Vec<Temperature>,
    pub seeds: Vec<u64>,
    pub runs: usize,
    pub max_tokens: usize,
    pub point_out: Bilingual,
    /// The note's part: 0 (emergent abilities) or 1 (LLM vs ordinary program).
    pub part: u8,
    /// Part 0: the families, lengths and problems per length to ask.
    pub families: Vec<crate::emergence::problems::Family>,
    pub lengths: Vec<usize>,
    pub problems: usize,
    /// Part 0: the models to ask, by alias (empty: the demo's model).
    pub models: Vec<String>,
    /// Part 0, scale: the widths to train (empty: the command's).
    pub widths: Vec<usize>,
    /// Part 0, phase: the train fractions (rows).
    pub train_fractions: Vec<f64>,
    /// Part 0, phase: the weight decays (columns).
    pub weight_decays: Vec<f64>,
    /// Part 0, scale and grok: the step budget.
    pub train_steps: Option<usize>,
}

fn rule_name<S: serde::Serializer>(
    rule: &Option<&'static dyn Rule>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(rule.map_or("", |r| r.name()))
}

/// The rule for `input`: its own (`named`), else the scenario's when its
/// domain fits the input, else the best fit, else the scenario's.
fn route(
    named: Option<&'static dyn Rule>,
    scenario: Option<&'static dyn Rule>,
    input: &str,
) -> Option<&'static dyn Rule> {
    named
        .or_else(|| scenario.filter(|r| r.affinity(input) > 0))
        .or_else(|| rules::pick(input))
        .or(scenario)
}

/// Line number (1-based) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The key written on the line of `offset` (`key = value`), if any.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('#')).then(|| key.to_string())
}

impl Scenario {
    /// Parses and checks scenario `text` from `file` (used in messages).
    pub fn parse(file: &str, text: &str) -> Result<Self, InputError> {
        // The file's own text (a key, a value the parser quotes) is quoted
        // short: a 200,000-character key is no 400,000-character error.
        let at = |offset: usize, field: &str, message: &str| {
            invalid(format!(
                "{file}:{}: field `{}`: {}",
                line_of(text, offset),
                crate::comparison::shorten(field, 40),
                crate::comparison::shorten(message, 160)
            ))
        };
        let raw: ScenarioFile = toml::from_str(text).map_err(|e| {
            let message = e.message().lines().next().unwrap_or("invalid").to_string();
            let offset = e.span().map_or(0, |s| s.start);
            let field = message
                .strip_prefix("missing field `")
                .and_then(|m| m.split('`').next())
                .map(str::to_string)
                .or_else(|| key_on_line(text, offset))
                .unwrap_or_else(|| "?".to_string());
            at(offset, &field, &message)
        })?;
        let kind = match raw.kind.get_ref().as_str() {
            "row" => Kind::Row,
            "summary" => Kind::Summary,
            "definition" => Kind::Definition,
            "cause" => Kind::Cause,
            "misconception" => Kind::Misconception,
            _ => {
                return Err(at(
                    raw.kind.span().start,
                    "kind",
                    "must be \"row\" or \"summary\" (part 1), or \"definition\", \"cause\" or \"misconception\" (part 0)",
                ))
            }
        };
        let lengths: crate::options::Lengths = raw
            .lengths
            .get_ref()
            .parse()
            .map_err(|e: String| at(raw.lengths.span().start, "lengths", &e))?;
        if raw.problems > crate::emergence::problems::MAX_PROBLEMS
            || (raw.problems == 0 && matches!(raw.view, View::Metric | View::Ladder))
        {
            return Err(invalid(format!(
                "{file}: field `problems` must be from 1 to {} (0 only for the subtasks view)",
                crate::emergence::problems::MAX_PROBLEMS
            )));
        }
        if raw.train_steps.is_some_and(|n| !(1..=100_000).contains(&n)) {
            return Err(invalid(format!(
                "{file}: field `train_steps` must be from 1 to 100000"
            )));
        }
        if raw.view == View::Phase
            && (raw.train_fractions.is_empty()
                || raw.weight_decays.is_empty()
                || raw.train_fractions.len() * raw.weight_decays.len() > 16)
        {
            return Err(invalid(format!(
                "{file}: the phase view needs `train_fractions` and `weight_decays` (at most 16 cells)"
            )));
        }
        if raw.widths.iter().any(|w| !(1..=2048).contains(w)) || raw.widths.len() > 12 {
            return Err(invalid(format!(
                "{file}: field `widths` takes 1 to 12 widths from 1 to 2048"
            )));
        }
        for alias in &raw.models {
            crate::store::catalog::find(alias.get_ref())
                .map_err(|e| at(alias.span().start, "models", &e.to_string()))?;
        }
        if raw.families.is_empty() {
            return Err(invalid(format!("{file}: field `families` is empty")));
        }
        let rule = match &raw.rule {
            Some(name) => Some(
                rules::by_name(name.get_ref())
                    .map_err(|e| at(name.span().start, "rule", &e.to_string()))?,
            ),
            None => None,
        };
        let inputs_at = raw.inputs.span().start;
        let mut inputs = Vec::new();
        let check_model = |alias: &str, at_offset: usize, field: &str| {
            crate::store::catalog::find(alias)
                .map(|_| alias.to_string())
                .map_err(|e| at(at_offset, field, &e.to_string()))
        };
        let model = raw
            .model
            .as_ref()
            .map(|m| check_model(m.get_ref(), m.span().start, "model"))
            .transpose()?;
        for entry in raw.inputs.into_inner() {
            let (text, zh, truth, named, input_model) = match entry {
                InputEntry::Text(text) => (text, None, None, None, None),
                InputEntry::Detailed {
                    text,
                    zh,
                    truth,
                    rule,
                    model,
                } => (text, zh, truth, rule, model),
            };
            let input_model = input_model
                .map(|m| check_model(&m, inputs_at, "inputs"))
                .transpose()?;
            let named = named
                .map(|n| rules::by_name(&n))
                .transpose()
                .map_err(|e| at(inputs_at, "inputs", &e.to_string()))?;
            if text.trim().is_empty() || truth.as_deref().is_some_and(|t| t.trim().is_empty()) {
                return Err(at(
                    inputs_at,
                    "inputs",
                    "needs non-empty texts (and non-empty truths where given)",
                ));
            }
            for text in std::iter::once(&text).chain(zh.as_ref()) {
                crate::comparison::check_length(text)
                    .map_err(|e| at(inputs_at, "inputs", &e.to_string()))?;
            }
            if zh.as_deref().is_some_and(|z| z.trim().is_empty()) {
                return Err(at(
                    inputs_at,
                    "inputs",
                    "needs a non-empty `zh` where given",
                ));
            }
            let routed = route(named, rule, &text);
            // Where a view runs each input's rule, the Chinese question must
            // go to the same rule, so both languages show the same comparison.
            if let (Some(zh), View::Compare | View::Repeat) = (&zh, raw.view) {
                let routed_zh = route(named, rule, zh);
                if routed_zh.map(|r| r.name()) != routed.map(|r| r.name()) {
                    return Err(at(
                        inputs_at,
                        "inputs",
                        &format!(
                            "{zh:?} goes to rule {} but {text:?} to {}",
                            routed_zh.map_or("none", |r| r.name()),
                            routed.map_or("none", |r| r.name())
                        ),
                    ));
                }
            }
            // Views that run a rule need one for every input.
            if routed.is_none() && matches!(raw.view, View::Compare | View::Repeat) {
                return Err(at(
                    inputs_at,
                    "inputs",
                    &format!("no rule fits {text:?}; name one with `rule`"),
                ));
            }
            inputs.push(ScenarioInput {
                text,
                zh,
                model: input_model,
                truth,
                rule: routed,
            });
        }
        if inputs.is_empty() && raw.view.needs_inputs() {
            return Err(at(
                inputs_at,
                "inputs",
                "needs at least one non-empty input",
            ));
        }
        let temperatures: Vec<Temperature> = raw
            .temperatures
            .get_ref()
            .iter()
            .map(|&t| Temperature::new(t))
            .collect::<Result<_, _>>()
            .ok()
            .filter(|t: &Vec<Temperature>| {
                (1..=crate::options::MAX_TEMPERATURES).contains(&t.len())
            })
            .ok_or_else(|| {
                at(
                    raw.temperatures.span().start,
                    "temperatures",
                    &format!(
                        "needs 1 to {} temperatures, each 0 or from 0.0001 to 10000",
                        crate::options::MAX_TEMPERATURES
                    ),
                )
            })?;
        let seeds = parse_seeds(raw.seeds.get_ref())
            .map_err(|e| at(raw.seeds.span().start, "seeds", &e.to_string()))?;
        crate::options::check_runs(raw.runs, "field `runs`")
            .map_err(|e| invalid(format!("{file}: {e}")))?;
        if raw.max_tokens == 0 {
            return Err(invalid(format!(
                "{file}: field `max_tokens` must be at least 1"
            )));
        }
        let template = raw.template.unwrap_or(if rule.is_some() {
            Template::Task
        } else {
            Template::Chat
        });
        if template == Template::Task && rule.is_none() {
            return Err(invalid(format!(
                "{file}: field `template`: \"task\" needs a `rule`"
            )));
        }
        Ok(Self {
            name: Path::new(file)
                .file_stem()
                .map_or(file.to_string(), |s| s.to_string_lossy().into_owned()),
            order: raw.order,
            kind,
            key: raw.key,
            title: raw.title,
            claim: raw.claim,
            view: raw.view,
            rule,
            inputs,
            model,
            template,
            temperatures,
            seeds,
            runs: raw.runs,
            max_tokens: raw.max_tokens,
            point_out: raw.point_out,
            part: kind.part(),
            families: raw.families,
            lengths: lengths.0,
            problems: raw.problems,
            models: raw.models.into_iter().map(Spanned::into_inner).collect(),
            widths: raw.widths,
            train_fractions: raw.train_fractions,
            weight_decays: raw.weight_decays,
            train_steps: raw.train_steps,
        })
    }

    /// This scenario as asked in `lang`: under Chinese, every input that
    /// has a Chinese question asks it instead of the English one.
    pub fn in_language(&self, lang: crate::words::Lang) -> Self {
        let mut scenario = self.clone();
        if lang == crate::words::Lang::Zh {
            for input in &mut scenario.inputs {
                if let Some(zh) = &input.zh {
                    input.text = zh.clone();
                }
            }
        }
        scenario
    }

    /// The model `input` is asked of, by alias: its own, else the
    /// scenario's (`None`: the demo's).
    pub fn model_for<'a>(&'a self, input: &'a ScenarioInput) -> Option<&'a str> {
        input.model.as_deref().or(self.model.as_deref())
    }

    /// Reads a scenario file from disk.
    pub fn from_file(path: &Path) -> Result<Self, InputError> {
        let text = crate::files::read_text(path, "scenario", crate::files::TEXT_LIMIT)?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// The shipped scenarios, in tour order.
    pub fn builtin() -> Vec<Self> {
        let mut all: Vec<Self> = BUILTIN
            .iter()
            .map(|(file, text)| Self::parse(file, text).expect("shipped scenarios parse"))
            .collect();
        all.sort_by_key(|s| s.order);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_scenario_parses_and_the_table_is_covered() {
        let all = Scenario::builtin();
        let rows: Vec<&str> = all
            .iter()
            .filter(|s| s.kind == Kind::Row)
            .map(|s| s.key.as_str())
            .collect();
        assert_eq!(
            rows,
            [
                "定义",
                "逻辑控制",
                "开发方式",
                "输入处理",
                "输出结果",
                "扩展性",
                "错误类型",
                "执行机制",
                "适用场景"
            ]
        );
        assert_eq!(all.iter().filter(|s| s.kind == Kind::Summary).count(), 4);
        let part0: Vec<&str> = all
            .iter()
            .filter(|s| s.part == 0)
            .map(|s| s.key.as_str())
            .collect();
        assert_eq!(
            part0,
            [
                "涌现能力的定义",
                "评价指标不够平滑",
                "复杂任务由多个子任务构成",
                "随模型规模增长而出现",
                "Grokking（顿悟）现象",
                "误区1",
                "误区2",
                "误区3",
                "Grokking 是否能被人为调控？"
            ]
        );
        let orders: Vec<u32> = all.iter().map(|s| s.order).collect();
        assert_eq!(orders, (1..=BUILTIN.len() as u32).collect::<Vec<_>>());
    }

    fn rules_of(scenario: &Scenario) -> Vec<&'static str> {
        scenario
            .inputs
            .iter()
            .map(|i| i.rule.map_or("-", |r| r.name()))
            .collect()
    }

    #[test]
    fn each_input_goes_to_its_own_fitting_rule() {
        let all = Scenario::builtin();
        let step = |n: u32| all.iter().find(|s| s.order == n).unwrap();
        // The scenario's rule where it fits, the best fit elsewhere.
        assert_eq!(
            rules_of(step(7)),
            ["leap-year-buggy", "capitals", "sentiment", "sentiment"]
        );
        assert_eq!(rules_of(step(9)), ["arithmetic", "sentiment"]);
        // No rule's domain fits: the scenario's own rule still runs.
        assert_eq!(rules_of(step(13)), ["sentiment", "sentiment"]);
        // An input may name its rule.
        let text = BUILTIN[0].1.replacen(
            "inputs = [{ text = \"What is 123456789 × 987654321?\", zh = \"123456789 × 987654321 等于多少？\" }]",
            "inputs = [{ text = \"Is 2000 a leap year?\", rule = \"leap-year-buggy\" }, \"Is 2000 a leap year?\"]",
            1,
        );
        let s = Scenario::parse("x.toml", &text).unwrap();
        assert_eq!(rules_of(&s), ["leap-year-buggy", "leap-year"]);
    }

    #[test]
    fn every_shipped_input_a_rule_runs_on_has_a_right_answer() {
        use crate::comparison::{find_truth, CompareInput};
        for s in Scenario::builtin() {
            if !matches!(s.view, View::Compare | View::Repeat) {
                continue;
            }
            for input in &s.inputs {
                let rule = input.rule.unwrap();
                for text in [Some(&input.text), input.zh.as_ref()].into_iter().flatten() {
                    let outcome = rule.apply(text).outcome;
                    let truth = find_truth(
                        rule,
                        &outcome,
                        &CompareInput {
                            text: text.clone(),
                            truth: input.truth.clone(),
                        },
                    );
                    assert!(truth.is_some(), "{}: {:?} has no truth", s.name, text);
                }
            }
        }
    }

    #[test]
    fn a_chinese_class_is_asked_in_chinese_wherever_a_rule_reads_chinese() {
        use crate::words::Lang;
        for s in Scenario::builtin().iter().filter(|s| s.part == 1) {
            let zh = s.in_language(Lang::Zh);
            for (input, asked) in s.inputs.iter().zip(&zh.inputs) {
                match (&input.zh, input.rule) {
                    (Some(chinese), _) => assert_eq!(&asked.text, chinese),
                    // Inputs a rule answers are all given in Chinese.
                    (None, Some(_)) if matches!(s.view, View::Compare | View::Repeat) => {
                        panic!("{}: {:?} has no Chinese question", s.name, input.text)
                    }
                    _ => assert_eq!(asked.text, input.text),
                }
            }
            assert_eq!(
                s.in_language(Lang::En)
                    .inputs
                    .iter()
                    .map(|i| &i.text)
                    .collect::<Vec<_>>(),
                s.inputs.iter().map(|i| &i.text).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_chinese_question_for_another_rule_or_an_unknown_model_is_refused() {
        let base = BUILTIN[0].1;
        let line = base.lines().find(|l| l.starts_with("inputs")).unwrap();
        let with = |inputs: &str| base.replacen(line, inputs, 1);
        let error = Scenario::parse(
            "x.toml",
            &with("inputs = [{ text = \"What is 2 + 2?\", zh = \"1900年是闰年吗？\" }]"),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(error.contains("goes to rule leap-year but"), "{error}");
        let error = Scenario::parse(
            "x.toml",
            &with("inputs = [{ text = \"What is 2 + 2?\", model = \"gpt-9\" }]"),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(error.contains("unknown model 'gpt-9'"), "{error}");
        let s = Scenario::parse(
            "x.toml",
            &with("inputs = [{ text = \"What is 2 + 2?\", model = \"qwen2.5-coder-1.5b\" }, \"What is 3 + 3?\"]"),
        )
        .unwrap();
        assert_eq!(s.model_for(&s.inputs[0]), Some("qwen2.5-coder-1.5b"));
        assert_eq!(s.model_for(&s.inputs[1]), None);
    }

    #[test]
    fn chinese_text_in_the_scenarios_uses_full_width_punctuation() {
        for s in Scenario::builtin() {
            for text in [&s.claim.zh, &s.point_out.zh, &s.title.zh] {
                let chars: Vec<char> = text.chars().collect();
                for pair in chars.windows(2) {
                    let cjk = ('\u{4e00}'..='\u{9fff}').contains(&pair[0]);
                    assert!(
                        !(cjk && matches!(pair[1], ',' | ';' | ':' | '(' | ')' | '!' | '?')),
                        "{}: half-width {:?} in {text}",
                        s.name,
                        pair[1]
                    );
                }
            }
        }
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let good = BUILTIN[0].1;
        let cases = [
            (
                good.replacen("view = \"compare\"", "view = \"slides\"", 1),
                "field `view`",
            ),
            (
                good.replacen("seeds = \"1..5\"", "seeds = \"5..1\"", 1),
                "field `seeds`",
            ),
            (
                good.replacen("rule = \"arithmetic\"", "rule = \"abacus\"", 1),
                "field `rule`",
            ),
            (good.replacen("order = 1\n", "", 1), "field `order`"),
            (
                good.replacen("kind = \"row\"", "kind = \"row\"\ncolour = \"red\"", 1),
                "colour",
            ),
        ];
        for (text, needle) in cases {
            assert_ne!(text, good, "the case must change the file");
            let error = Scenario::parse("demos/x.toml", &text)
                .err()
                .expect("must fail")
                .to_string();
            assert!(error.starts_with("demos/x.toml:"), "{error}");
            assert!(error.contains(needle), "{needle}: {error}");
            assert_eq!(error.lines().count(), 1, "{error}");
        }
        let error = Scenario::parse(
            "x.toml",
            &good.replacen("seeds = \"1..5\"", "seeds = \"5..1\"", 1),
        )
        .err()
        .expect("must fail")
        .to_string();
        let line = good.lines().position(|l| l.starts_with("seeds")).unwrap() + 1;
        assert!(error.starts_with(&format!("x.toml:{line}:")), "{error}");
    }
}
