//! The classroom: one question at a time, the rule's single answer to it,
//! and every sample the class draws, counted by answer. A snapshot of the
//! room is plain data the pages render; every change bumps a version that
//! the pages' event stream follows.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

use crate::comparison::task_prompt_text;
use crate::generation::StopReason;
use crate::prompt::PromptFormat;
use crate::rules::{self, Rule};
use crate::tasks::Task;
use crate::words::{Bilingual, Lang};

/// Tokens per class sample at most, as `compare` (answers also stop at a newline).
pub const SAMPLE_TOKENS: usize = 32;
/// Longest question the room takes, in characters.
pub const MAX_QUESTION_CHARS: usize = 500;
/// Draws of one question whose seed and temperature are remembered.
const MAX_REMEMBERED_DRAWS: usize = 100_000;
/// Samples kept for the list under the histogram.
const RECENT: usize = 200;

/// The rule's side of the current question (in both languages: the
/// projector and each phone may show either).
#[derive(Debug, Clone, Serialize)]
pub struct RuleSide {
    /// The rule's name (e.g. `arithmetic`).
    pub name: &'static str,
    /// Its answer, or `None` when it refused.
    pub answer: Option<String>,
    /// Its answer or its explicit error.
    pub outcome: Bilingual,
    /// Every step it took.
    pub steps: Vec<Bilingual>,
}

/// What the histogram counts a sample as.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Label {
    /// The answer read from the text (for a question no rule claims, its first line).
    Answer(String),
    /// The token limit ended the text before an answer was whole.
    CutOff,
    /// No answer could be read.
    NoAnswer,
}

/// One answer and how many samples gave it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnswerCount {
    /// The answer as read from the samples.
    pub answer: Label,
    pub count: usize,
    /// Whether it is the rule's answer.
    pub rule: bool,
}

/// One sample someone in the class drew.
#[derive(Debug, Clone, Serialize)]
pub struct ClassSample {
    /// Its number in this question's round, from 1.
    pub number: usize,
    pub seed: u64,
    pub temperature: f64,
    /// What the model wrote (trimmed).
    pub text: String,
    /// The histogram's label for it.
    pub answer: Label,
    /// Whether the token limit cut it off before an answer was whole.
    pub cut_off: bool,
    /// Samples of this question with this answer so far, this one included
    /// (0 when it was not counted: a student's own question).
    pub count: usize,
    /// Set when this seed and temperature were drawn before for this
    /// question (the sample is then not counted again): whether the answer
    /// read is the one read then.
    pub repeat: Option<bool>,
    /// The command that draws this sample again on the command line.
    pub replay: String,
}

/// Everything the pages show about the room.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub version: u64,
    pub question: String,
    pub rule: Option<RuleSide>,
    /// Answers, most frequent first.
    pub answers: Vec<AnswerCount>,
    /// Samples drawn for this question.
    pub total: usize,
    /// The latest samples, newest first.
    pub recent: Vec<ClassSample>,
    /// The model the class samples.
    pub model: String,
    /// Whether students may ask their own questions.
    pub own_questions: bool,
    /// Whether students need the class code.
    pub code_required: bool,
}

/// The current question, prepared for the model.
#[derive(Debug, Clone)]
pub struct Question {
    pub text: String,
    /// The text the model is given (the task's prompt, in the chat template).
    pub prompt: String,
    task: Option<Task>,
}

impl Question {
    /// `text` asked of a model with `format`: through the prompt of the task
    /// of the rule that claims it (as `compare` asks), else as it is.
    pub fn new(text: &str, format: &PromptFormat) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the question is empty".into());
        }
        if text.chars().count() > MAX_QUESTION_CHARS {
            return Err(format!(
                "the question is longer than {MAX_QUESTION_CHARS} characters"
            ));
        }
        let rule = rules::pick(text);
        let (prompt, task) = match rule {
            Some(rule) => (
                task_prompt_text(format, rule.task(), text)
                    .map_err(|e| e.to_string())?
                    .1,
                Some(rule.task()),
            ),
            None => (format.render(text), None),
        };
        Ok(Self {
            text: text.to_string(),
            prompt,
            task,
        })
    }
}

struct State {
    version: u64,
    question: Question,
    rule: Option<RuleSide>,
    answers: Vec<AnswerCount>,
    total: usize,
    recent: VecDeque<ClassSample>,
    /// Each (seed, temperature) drawn for this question: drawing one again
    /// gives the same sample, which is shown but not counted twice.
    drawn: std::collections::HashMap<(u64, u64), Label>,
}

/// The room: its state behind a lock, and a signal on every change.
pub struct Room {
    state: Mutex<State>,
    changed: tokio::sync::watch::Sender<u64>,
    model: String,
    format: PromptFormat,
    pub own_questions: bool,
    code_required: bool,
}

impl Room {
    /// A room asking `question` of `model`.
    pub fn new(
        question: &str,
        model: String,
        format: PromptFormat,
        own_questions: bool,
        code_required: bool,
    ) -> Result<Self, String> {
        let question = Question::new(question, &format)?;
        let rule = rule_side(&question.text);
        Ok(Self {
            state: Mutex::new(State {
                version: 1,
                question,
                rule,
                answers: Vec::new(),
                total: 0,
                recent: VecDeque::new(),
                drawn: Default::default(),
            }),
            changed: tokio::sync::watch::channel(1).0,
            model,
            format,
            own_questions,
            code_required,
        })
    }

    /// Follows the room's changes (the version after each).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the counts half-written (each
        // change is made whole under the lock), so a poisoned lock is used.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self, state: &mut State) {
        state.version += 1;
        self.changed.send_replace(state.version);
    }

    /// The room as the pages show it.
    pub fn snapshot(&self) -> Snapshot {
        let state = self.lock();
        Snapshot {
            version: state.version,
            question: state.question.text.clone(),
            rule: state.rule.clone(),
            answers: state.answers.clone(),
            total: state.total,
            recent: state.recent.iter().take(20).cloned().collect(),
            model: self.model.clone(),
            own_questions: self.own_questions,
            code_required: self.code_required,
        }
    }

    /// The current question.
    pub fn question(&self) -> Question {
        self.lock().question.clone()
    }

    /// `text` prepared as a question for this room's model (not asked yet).
    pub fn prepare(&self, text: &str) -> Result<Question, String> {
        Question::new(text, &self.format)
    }

    /// Asks a new question: the rule answers it, the counts start again.
    pub fn ask(&self, text: &str) -> Result<(), String> {
        let question = self.prepare(text)?;
        let rule = rule_side(&question.text);
        let mut state = self.lock();
        state.question = question;
        state.rule = rule;
        state.answers.clear();
        state.total = 0;
        state.recent.clear();
        state.drawn.clear();
        self.bump(&mut state);
        Ok(())
    }

    /// Clears the counts of the current question.
    pub fn reset(&self) {
        let mut state = self.lock();
        state.answers.clear();
        state.total = 0;
        state.recent.clear();
        state.drawn.clear();
        self.bump(&mut state);
    }

    /// A sample of `question` as the room would count it, without counting
    /// it (a student's own question).
    pub fn preview(
        &self,
        question: &Question,
        text: &str,
        stop: Option<StopReason>,
        seed: u64,
        temperature: f64,
    ) -> ClassSample {
        let (answer, cut_off) = self.label(question, text, stop);
        ClassSample {
            number: 0,
            seed,
            temperature,
            text: text.trim().to_string(),
            answer,
            cut_off,
            count: 0,
            repeat: None,
            replay: replay_command(&self.model, &question.text, temperature, seed),
        }
    }

    /// Counts a sample of `question` (not when the room has moved on to
    /// another question meanwhile).
    pub fn record(
        &self,
        question: &Question,
        text: &str,
        stop: Option<StopReason>,
        seed: u64,
        temperature: f64,
    ) -> ClassSample {
        let mut sample = self.preview(question, text, stop, seed, temperature);
        let mut state = self.lock();
        if state.question.text != question.text {
            return sample;
        }
        let key = (seed, temperature.to_bits());
        if let Some(before) = state.drawn.get(&key) {
            sample.repeat = Some(before == &sample.answer);
            sample.count = state
                .answers
                .iter()
                .find(|a| a.answer == sample.answer)
                .map_or(0, |a| a.count);
            sample.number = state.total;
            return sample;
        }
        // Bounded: past this many draws of one question (a script, not a
        // class), a repeat is no longer recognised and counts again.
        if state.drawn.len() < MAX_REMEMBERED_DRAWS {
            state.drawn.insert(key, sample.answer.clone());
        }
        state.total += 1;
        sample.number = state.total;
        let rule_answer = state.rule.as_ref().and_then(|r| r.answer.clone());
        let is_rule = match (question.task, &rule_answer) {
            (Some(task), Some(truth)) => {
                matches!(&sample.answer, Label::Answer(a) if task.matches(a, truth))
            }
            _ => false,
        };
        sample.count = match state.answers.iter_mut().find(|a| a.answer == sample.answer) {
            Some(entry) => {
                entry.count += 1;
                entry.count
            }
            None => {
                state.answers.push(AnswerCount {
                    answer: sample.answer.clone(),
                    count: 1,
                    rule: is_rule,
                });
                1
            }
        };
        state
            .answers
            .sort_by(|a, b| b.count.cmp(&a.count).then(a.answer.cmp(&b.answer)));
        state.recent.push_front(sample.clone());
        state.recent.truncate(RECENT);
        self.bump(&mut state);
        sample
    }

    /// The histogram's label for a sample: the answer the task reads from
    /// it (as `compare` reads it), cut off when the token limit ended it
    /// before an answer was whole, or no answer; for a question no rule
    /// claims, the first line of the text itself.
    fn label(&self, question: &Question, text: &str, stop: Option<StopReason>) -> (Label, bool) {
        let text = text.trim();
        match question.task {
            Some(task) => {
                let stop = stop.unwrap_or(StopReason::EndOfText);
                match task.read(&question.text, text, stop) {
                    (Some(a), _) => (Label::Answer(a), false),
                    (None, true) => (Label::CutOff, true),
                    (None, false) => (Label::NoAnswer, false),
                }
            }
            None => {
                let Some(line) = Task::Open.extract(&question.text, text) else {
                    return (Label::NoAnswer, false);
                };
                let cut = matches!(stop, Some(StopReason::MaxTokens | StopReason::ContextFull));
                (Label::Answer(line.chars().take(40).collect()), cut)
            }
        }
    }
}

/// The rule that claims `question`, and what it does with it.
fn rule_side(question: &str) -> Option<RuleSide> {
    let rule: &dyn Rule = rules::pick(question)?;
    let run = rule.apply(question);
    let both = |text: &dyn Fn(Lang) -> String| Bilingual {
        en: text(Lang::En),
        zh: text(Lang::Zh),
    };
    Some(RuleSide {
        name: rule.name(),
        answer: run.outcome.answer().map(str::to_string),
        outcome: both(&|lang| run.outcome.phrase().text(lang)),
        steps: run
            .trace
            .iter()
            .map(|s| {
                both(&|lang| {
                    let colon = lang.text("colon");
                    format!("{}{colon}{}", s.rule.text(lang), s.detail.text(lang))
                })
            })
            .collect(),
    })
}

/// The `detprob compare` line that draws the same sample (same prompt,
/// settings and seed) on the command line.
fn replay_command(model: &str, question: &str, temperature: f64, seed: u64) -> String {
    let quoted = format!("'{}'", question.replace('\'', r"'\''"));
    format!(
        "detprob compare --model {model} {quoted} --temperatures {temperature} --seeds {seed} --max-tokens {SAMPLE_TOKENS}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> Room {
        let format = PromptFormat::ChatMl {
            default_system: None,
        };
        Room::new("What is 17 * 23?", "m".into(), format, false, false).unwrap()
    }

    #[test]
    fn samples_are_counted_by_the_answer_read_and_the_rules_answer_is_marked() {
        let room = room();
        let q = room.question();
        assert_eq!(room.snapshot().rule.unwrap().answer.as_deref(), Some("391"));
        room.record(&q, "17 * 23 = 391", Some(StopReason::EndOfText), 1, 0.7);
        room.record(
            &q,
            "The answer is 391.",
            Some(StopReason::EndOfText),
            2,
            0.7,
        );
        room.record(&q, "It is 401.", Some(StopReason::EndOfText), 3, 0.7);
        let cut = room.record(
            &q,
            "Let me think about 17 times",
            Some(StopReason::MaxTokens),
            4,
            1.2,
        );
        assert!(cut.cut_off);
        let snap = room.snapshot();
        assert_eq!(snap.total, 4);
        let counts: Vec<(Label, usize, bool)> = snap
            .answers
            .iter()
            .map(|a| (a.answer.clone(), a.count, a.rule))
            .collect();
        let answer = |a: &str| Label::Answer(a.to_string());
        assert_eq!(counts[0], (answer("391"), 2, true));
        assert!(counts.contains(&(answer("401"), 1, false)));
        assert!(counts.contains(&(Label::CutOff, 1, false)));
        assert_eq!(snap.recent[0].seed, 4);
        assert!(snap.recent[0].replay.contains("--seeds 4"));
        // The same seed and temperature again is the same sample: shown, not counted twice.
        let again = room.record(
            &q,
            "The answer is 391.",
            Some(StopReason::EndOfText),
            2,
            0.7,
        );
        assert_eq!(again.repeat, Some(true));
        assert_eq!(again.count, 2);
        assert_eq!(room.snapshot().total, 4);
        // The same seed at another temperature is another sample.
        let other = room.record(&q, "391", Some(StopReason::EndOfText), 2, 1.0);
        assert_eq!(other.repeat, None);
        assert_eq!(room.snapshot().total, 5);
    }

    #[test]
    fn a_new_question_starts_the_count_again_and_late_samples_of_the_old_one_are_not_counted() {
        let room = room();
        let old = room.question();
        let before = room.snapshot().version;
        room.ask("What is the capital of France?").unwrap();
        assert!(room.snapshot().version > before);
        room.record(&old, "391", Some(StopReason::EndOfText), 1, 0.7);
        assert_eq!(room.snapshot().total, 0);
        assert_eq!(room.snapshot().rule.unwrap().name, "capitals");
        assert!(room.ask("   ").is_err());
        assert!(room.ask(&"x".repeat(MAX_QUESTION_CHARS + 1)).is_err());
    }
}
