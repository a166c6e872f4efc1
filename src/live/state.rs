//! The classroom screen's state and how keys change it. Pure data and pure
//! updates: the model work a key asks for comes back as an [`Action`] for
//! the loop to run, so every key is testable without a terminal or a model.

use crate::rules::RuleOutcome;

/// The temperatures the screen steps through.
pub const TEMPERATURES: [f64; 7] = [0.0, 0.3, 0.5, 0.7, 1.0, 1.2, 1.5];

/// How many seeds the resample key draws.
pub const RESAMPLE_SEEDS: u64 = 8;

/// One token of a finished sample, with the probability it was drawn with.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownToken {
    /// Its visible text.
    pub text: String,
    /// The probability of this token in the distribution sampled from.
    pub probability: f64,
}

/// One candidate of the next-token distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The token, shown visibly.
    pub piece: String,
    /// Its probability at the current temperature.
    pub probability: f64,
}

/// What the rule did with the input.
#[derive(Debug, Clone, PartialEq)]
pub struct RulePanel {
    /// The rule's name (`None`: no rule's grammar fits the input).
    pub rule: Option<&'static str>,
    /// Its answer or explicit error.
    pub outcome: Option<RuleOutcome>,
    /// Its steps, one line each.
    pub trace: Vec<String>,
}

/// A line under the panels: what the last key did.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Nothing to say.
    None,
    /// The same prompt, temperature and seed gave the same tokens again.
    Reproduced,
    /// The same settings gave different tokens (must never happen).
    Differed,
    /// A new seed was drawn.
    NewSeed(u64),
    /// The distinct answers of a resample, most frequent first.
    Resampled(Vec<(String, usize)>),
    /// A model was loaded.
    Switched(String),
    /// Several seeds are being sampled.
    Resampling,
}

/// Everything the screen shows.
#[derive(Debug, Clone)]
pub struct LiveState {
    /// The input line's text.
    pub input: String,
    /// Whether keys go to the input line.
    pub editing: bool,
    /// The prompt last run (`None` before the first).
    pub prompt: Option<String>,
    /// Index into [`TEMPERATURES`].
    pub temperature: usize,
    /// The sampler's seed.
    pub seed: u64,
    /// The model's label.
    pub model: String,
    /// The rule's side.
    pub rule: RulePanel,
    /// The sample's text so far (while it streams).
    pub streaming: String,
    /// The finished sample's tokens.
    pub tokens: Vec<ShownToken>,
    /// The token ids of the last finished sample and its settings
    /// (prompt, temperature index, seed): what "same seed" compares with.
    pub last_run: Option<(String, usize, u64, Vec<u32>)>,
    /// The first step's distribution at the current temperature.
    pub bars: Vec<Bar>,
    /// Show the finished sample token by token.
    pub trace: bool,
    /// Show the key list.
    pub help: bool,
    /// What the last key did.
    pub notice: Notice,
    /// Whether the loop should end.
    pub quit: bool,
    /// How many rows the model panel is scrolled back from the end of the
    /// sample (0 follows the text as it streams).
    pub scroll_back: u16,
}

/// Model work a key asks the loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing.
    None,
    /// Run the rule and sample the model on the input (a new prompt).
    Run,
    /// Sample again with the current settings.
    Sample,
    /// Recompute the next-token bars at the new temperature (no sampling).
    Distribution,
    /// Sample [`RESAMPLE_SEEDS`] seeds and count the distinct answers.
    Resample,
    /// Load the other model.
    SwitchModel,
}

/// A key, as the screen understands it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Enter.
    Enter,
    /// Backspace.
    Backspace,
    /// Escape.
    Escape,
    /// Left arrow.
    Left,
    /// Right arrow.
    Right,
    /// Up arrow or Page Up: scroll the sample back.
    Up,
    /// Down arrow or Page Down: scroll the sample forward.
    Down,
    /// Ctrl-C.
    Interrupt,
}

impl LiveState {
    /// A fresh screen for `model`, editing the input line.
    pub fn new(model: String) -> Self {
        Self {
            input: String::new(),
            editing: true,
            prompt: None,
            temperature: 3,
            seed: 1,
            model,
            rule: RulePanel {
                rule: None,
                outcome: None,
                trace: Vec::new(),
            },
            streaming: String::new(),
            tokens: Vec::new(),
            last_run: None,
            bars: Vec::new(),
            trace: false,
            help: false,
            notice: Notice::None,
            quit: false,
            scroll_back: 0,
        }
    }

    /// The current temperature.
    pub fn temperature(&self) -> f64 {
        TEMPERATURES[self.temperature]
    }

    /// Applies `key`; returns the model work it asks for.
    pub fn press(&mut self, key: Key) -> Action {
        if key == Key::Interrupt {
            self.quit = true;
            return Action::None;
        }
        if self.editing {
            return match key {
                Key::Char(c) => {
                    self.input.push(c);
                    Action::None
                }
                Key::Backspace => {
                    self.input.pop();
                    Action::None
                }
                Key::Enter if !self.input.trim().is_empty() => {
                    self.editing = false;
                    self.prompt = Some(self.input.trim().to_string());
                    self.notice = Notice::None;
                    Action::Run
                }
                Key::Escape => {
                    self.editing = false;
                    Action::None
                }
                _ => Action::None,
            };
        }
        let has_prompt = self.prompt.is_some();
        match key {
            Key::Char('q') => {
                self.quit = true;
                Action::None
            }
            Key::Char('e') | Key::Char('i') | Key::Enter => {
                self.editing = true;
                Action::None
            }
            Key::Char('?') | Key::Char('h') => {
                self.help = !self.help;
                Action::None
            }
            Key::Char('t') => {
                self.trace = !self.trace;
                Action::None
            }
            Key::Char('+') | Key::Char('=') | Key::Right | Key::Char('-') | Key::Left => {
                let up = matches!(key, Key::Char('+') | Key::Char('=') | Key::Right);
                let next = if up {
                    (self.temperature + 1).min(TEMPERATURES.len() - 1)
                } else {
                    self.temperature.saturating_sub(1)
                };
                if next == self.temperature || !has_prompt {
                    self.temperature = next;
                    return Action::None;
                }
                self.temperature = next;
                Action::Distribution
            }
            Key::Char('n') if has_prompt => {
                self.seed += 1;
                self.notice = Notice::NewSeed(self.seed);
                Action::Sample
            }
            Key::Char('s') if has_prompt => {
                self.notice = Notice::None;
                Action::Sample
            }
            Key::Char('r') if has_prompt => Action::Resample,
            Key::Char('m') => Action::SwitchModel,
            Key::Up => {
                self.scroll_back = self.scroll_back.saturating_add(3);
                Action::None
            }
            Key::Down => {
                self.scroll_back = self.scroll_back.saturating_sub(3);
                Action::None
            }
            _ => Action::None,
        }
    }

    /// Records a finished sample: its tokens, and whether it reproduced the
    /// last one when the settings were the same.
    pub fn finish_sample(&mut self, ids: Vec<u32>, tokens: Vec<ShownToken>) {
        let prompt = self.prompt.clone().unwrap_or_default();
        let key = (prompt, self.temperature, self.seed);
        if let Some((p, t, s, previous)) = &self.last_run {
            if (p, *t, *s) == (&key.0, key.1, key.2) {
                self.notice = if *previous == ids {
                    Notice::Reproduced
                } else {
                    Notice::Differed
                };
            }
        }
        self.last_run = Some((key.0, key.1, key.2, ids));
        self.tokens = tokens;
        self.streaming.clear();
        self.scroll_back = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> LiveState {
        let mut state = LiveState::new("m".into());
        for c in text.chars() {
            assert_eq!(state.press(Key::Char(c)), Action::None);
        }
        state
    }

    #[test]
    fn typing_then_enter_runs_the_prompt_and_leaves_the_input_line() {
        let mut state = typed("2+2");
        assert!(state.editing);
        assert_eq!(state.press(Key::Backspace), Action::None);
        assert_eq!(state.input, "2+");
        state.press(Key::Char('3'));
        assert_eq!(state.press(Key::Enter), Action::Run);
        assert_eq!(state.prompt.as_deref(), Some("2+3"));
        assert!(!state.editing);
        // Letters are now keys: q quits.
        assert_eq!(state.press(Key::Char('q')), Action::None);
        assert!(state.quit);
    }

    #[test]
    fn an_empty_input_does_not_run_and_escape_leaves_the_line() {
        let mut state = typed("   ");
        assert_eq!(state.press(Key::Enter), Action::None);
        assert_eq!(state.press(Key::Escape), Action::None);
        assert!(!state.editing);
        // No prompt yet: sampling keys do nothing.
        assert_eq!(state.press(Key::Char('n')), Action::None);
        assert_eq!(state.press(Key::Char('s')), Action::None);
    }

    #[test]
    fn temperature_keys_step_and_stop_at_the_ends() {
        let mut state = typed("hi");
        state.press(Key::Enter);
        assert_eq!(state.temperature(), 0.7);
        assert_eq!(state.press(Key::Right), Action::Distribution);
        assert_eq!(state.temperature(), 1.0);
        for _ in 0..10 {
            state.press(Key::Left);
        }
        assert_eq!(state.temperature(), 0.0);
        assert_eq!(state.press(Key::Char('-')), Action::None);
    }

    #[test]
    fn the_same_seed_again_says_reproduced_and_a_new_seed_says_which() {
        let mut state = typed("hi");
        state.press(Key::Enter);
        let token = |t: &str| ShownToken {
            text: t.into(),
            probability: 0.5,
        };
        state.finish_sample(vec![1, 2], vec![token("a"), token("b")]);
        assert_eq!(state.notice, Notice::None);
        assert_eq!(state.press(Key::Char('s')), Action::Sample);
        state.finish_sample(vec![1, 2], vec![token("a"), token("b")]);
        assert_eq!(state.notice, Notice::Reproduced);
        state.finish_sample(vec![1, 3], vec![token("a"), token("c")]);
        assert_eq!(state.notice, Notice::Differed);
        assert_eq!(state.press(Key::Char('n')), Action::Sample);
        assert_eq!(state.notice, Notice::NewSeed(2));
        state.finish_sample(vec![1, 2], vec![]);
        // Another seed: nothing to compare with.
        assert_eq!(state.notice, Notice::NewSeed(2));
        assert!(state.press(Key::Interrupt) == Action::None && state.quit);
    }
}
