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
    /// The temperature changed since the sample shown was drawn: the sample
    /// is from the temperature and seed it names, not the header's.
    SampleAt { temperature: f64, seed: u64 },
    /// Several seeds are being sampled.
    Resampling,
}

/// Everything the screen shows.
#[derive(Debug, Clone)]
pub struct LiveState {
    /// The input line's text.
    pub input: String,
    /// Where the input line's cursor is, in characters from its start.
    pub cursor: usize,
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
    /// The finished sample ran into the token limit (its length), so its
    /// text stops mid-way.
    pub cut_off: Option<usize>,
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
    /// Home or Ctrl-A: the input line's start.
    Home,
    /// End or Ctrl-E: the input line's end.
    End,
    /// Delete: the character under the cursor.
    Delete,
    /// Ctrl-U: delete from the line's start to the cursor.
    KillToStart,
    /// Ctrl-W: delete the word before the cursor.
    KillWord,
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
            cursor: 0,
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
            cut_off: None,
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
            let at = self.byte_at(self.cursor);
            return match key {
                Key::Char(c) => {
                    if self.input.chars().count() < crate::comparison::MAX_INPUT_CHARS {
                        self.input.insert(at, c);
                        self.cursor += 1;
                    }
                    Action::None
                }
                Key::Backspace if self.cursor > 0 => {
                    self.cursor -= 1;
                    let start = self.byte_at(self.cursor);
                    self.input.replace_range(start..at, "");
                    Action::None
                }
                Key::Delete if at < self.input.len() => {
                    let end = self.byte_at(self.cursor + 1);
                    self.input.replace_range(at..end, "");
                    Action::None
                }
                Key::Left => {
                    self.cursor = self.cursor.saturating_sub(1);
                    Action::None
                }
                Key::Right => {
                    self.cursor = (self.cursor + 1).min(self.input.chars().count());
                    Action::None
                }
                Key::Home => {
                    self.cursor = 0;
                    Action::None
                }
                Key::End => {
                    self.cursor = self.input.chars().count();
                    Action::None
                }
                Key::KillToStart => {
                    self.input.replace_range(..at, "");
                    self.cursor = 0;
                    Action::None
                }
                Key::KillWord => {
                    // Spaces before the cursor, then the word before them.
                    let before = &self.input[..at];
                    let trimmed = before.trim_end();
                    let start = trimmed.rfind(char::is_whitespace).map_or(0, |i| {
                        i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
                    });
                    self.cursor = self.input[..start].chars().count();
                    self.input.replace_range(start..at, "");
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
                // The sample on screen stays, named by its own settings.
                self.notice = match &self.last_run {
                    Some((_, t, seed, _)) if *t != next => Notice::SampleAt {
                        temperature: TEMPERATURES[*t],
                        seed: *seed,
                    },
                    _ => Notice::None,
                };
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

    /// A paste into the input line (while editing): its lines joined by
    /// spaces, control characters dropped, cut at the input limit.
    pub fn paste(&mut self, text: &str) {
        if !self.editing {
            return;
        }
        let room = crate::comparison::MAX_INPUT_CHARS.saturating_sub(self.input.chars().count());
        let pasted: String = text
            .chars()
            .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
            .filter(|c| !c.is_control())
            .take(room)
            .collect();
        let at = self.byte_at(self.cursor);
        self.input.insert_str(at, &pasted);
        self.cursor += pasted.chars().count();
    }

    /// The byte offset of the input line's `chars`-th character.
    pub(super) fn byte_at(&self, chars: usize) -> usize {
        self.input
            .char_indices()
            .nth(chars)
            .map_or(self.input.len(), |(i, _)| i)
    }

    /// The settings the sample on screen was drawn with: (temperature, seed).
    pub fn sample_settings(&self) -> Option<(f64, u64)> {
        self.last_run
            .as_ref()
            .map(|(_, t, seed, _)| (TEMPERATURES[*t], *seed))
    }

    /// Records a finished sample: its tokens, whether the token limit cut it
    /// (`cut_off`: its length), and whether it reproduced the last one when
    /// the settings were the same.
    pub fn finish_sample(
        &mut self,
        ids: Vec<u32>,
        tokens: Vec<ShownToken>,
        cut_off: Option<usize>,
    ) {
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
        self.cut_off = cut_off;
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
        state.finish_sample(vec![1, 2], vec![token("a"), token("b")], None);
        assert_eq!(state.notice, Notice::None);
        assert_eq!(state.press(Key::Char('s')), Action::Sample);
        state.finish_sample(vec![1, 2], vec![token("a"), token("b")], None);
        assert_eq!(state.notice, Notice::Reproduced);
        state.finish_sample(vec![1, 3], vec![token("a"), token("c")], None);
        assert_eq!(state.notice, Notice::Differed);
        assert_eq!(state.press(Key::Char('n')), Action::Sample);
        assert_eq!(state.notice, Notice::NewSeed(2));
        state.finish_sample(vec![1, 2], vec![], None);
        // Another seed: nothing to compare with.
        assert_eq!(state.notice, Notice::NewSeed(2));
        assert!(state.press(Key::Interrupt) == Action::None && state.quit);
    }

    #[test]
    fn the_input_line_edits_like_a_shell_line() {
        let mut state = typed("what is 2+2");
        state.press(Key::Home);
        state.press(Key::Delete);
        state.press(Key::Char('W'));
        assert_eq!(state.input, "What is 2+2");
        state.press(Key::End);
        state.press(Key::Left);
        state.press(Key::Left);
        state.press(Key::Char('3'));
        assert_eq!(state.input, "What is 23+2");
        // Ctrl-W deletes the word before the cursor, Ctrl-U the line to it.
        state.press(Key::End);
        state.press(Key::KillWord);
        assert_eq!(state.input, "What is ");
        state.press(Key::Char('是'));
        state.press(Key::Left);
        state.press(Key::KillToStart);
        assert_eq!((state.input.as_str(), state.cursor), ("是", 0));
        // Backspace at the start deletes nothing; arrows stop at the ends.
        state.press(Key::Backspace);
        state.press(Key::Right);
        state.press(Key::Right);
        state.press(Key::Backspace);
        assert_eq!((state.input.as_str(), state.cursor), ("", 0));
        // A paste longer than any input is cut at the input limit.
        for _ in 0..crate::comparison::MAX_INPUT_CHARS + 50 {
            state.press(Key::Char('x'));
        }
        assert_eq!(state.input.len(), crate::comparison::MAX_INPUT_CHARS);
        // A paste is one event: its lines joined, cut at the same limit.
        let mut state = typed("ab");
        state.press(Key::Left);
        state.paste("1\n2\u{1b}3");
        assert_eq!((state.input.as_str(), state.cursor), ("a1 23b", 5));
        state.paste(&"y".repeat(5000));
        assert_eq!(
            state.input.chars().count(),
            crate::comparison::MAX_INPUT_CHARS
        );
    }

    #[test]
    fn a_temperature_change_leaves_the_sample_named_by_its_own_settings() {
        let mut state = typed("hi");
        state.press(Key::Enter);
        state.finish_sample(vec![1, 2], vec![], Some(2));
        state.press(Key::Char('s'));
        state.finish_sample(vec![1, 2], vec![], Some(2));
        assert_eq!(state.notice, Notice::Reproduced);
        // → moves the header to T = 1; the sample shown is still T = 0.7's,
        // and "reproduced" no longer stands under it.
        assert_eq!(state.press(Key::Right), Action::Distribution);
        assert_eq!(
            state.notice,
            Notice::SampleAt {
                temperature: 0.7,
                seed: 1
            }
        );
        assert_eq!(state.sample_settings(), Some((0.7, 1)));
        assert_eq!(state.cut_off, Some(2));
        // Back at the sample's temperature, nothing needs saying.
        state.press(Key::Left);
        assert_eq!(state.notice, Notice::None);
    }
}
