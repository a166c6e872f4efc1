//! `detprob live`: the classroom screen. The teacher types a question; the
//! rule that fits answers on the left with its steps, the model's sample
//! streams on the right, and keys change the temperature (the next-token
//! bars move at once), draw a new seed, replay the same seed ("reproduced:
//! identical"), resample several seeds, or switch the model. The model is
//! loaded once for the whole lesson.
//!
//! State → update (keys, [`state`]) → draw ([`draw`], ratatui); this module
//! owns the terminal and runs the model work a key asks for, through the
//! same `generation`, `sampler` and `rules` code as the commands.

pub mod draw;
pub mod state;

use std::io::IsTerminal;

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::DefaultTerminal;

use crate::error::{invalid, InputError};
use crate::generation::{GenerationSettings, Prefilled};
use crate::lm::{self, Engine, LoadedModel};
use crate::rules;
use crate::sampler::{tempered_top, Sampling};
use crate::store::{catalog, ModelChoice};
use crate::words::Lang;
use state::{Action, Bar, Key, LiveState, Notice, ShownToken, RESAMPLE_SEEDS};

/// The smallest screen the layout fits.
pub const MIN_SIZE: (u16, u16) = (60, 20);

/// Tokens a sample may run to.
const MAX_TOKENS: usize = 48;

/// Bars in the distribution.
const BARS: usize = 6;

/// Runs the screen until the teacher quits.
pub fn run(choice: ModelChoice, engine: Engine, lang: Lang) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(invalid(
            "detprob live needs a terminal; without one use `detprob compare`, `detprob generate` or `detprob tour`",
        )
        .into());
    }
    let (columns, rows) = ratatui::crossterm::terminal::size()
        .map_err(|e| invalid(format!("cannot read the terminal's size: {e}")))?;
    if columns < MIN_SIZE.0 || rows < MIN_SIZE.1 {
        return Err(invalid(format!(
            "the terminal is {columns}×{rows}; detprob live needs at least {}×{} (or use `detprob compare`)",
            MIN_SIZE.0, MIN_SIZE.1
        ))
        .into());
    }
    let loaded = lm::load(&choice, engine)?;
    let mut session = Session {
        state: LiveState::new(loaded.info.label()),
        loaded,
        prefilled: None,
        opening: None,
        engine,
        lang,
    };
    session.opening = Some(session.open()?);
    let mut terminal = ratatui::init();
    // A paste arrives as one event, not as thousands of key presses.
    let _ = ratatui::crossterm::execute!(
        std::io::stdout(),
        ratatui::crossterm::event::EnableBracketedPaste
    );
    let result = session.event_loop(&mut terminal);
    let _ = ratatui::crossterm::execute!(
        std::io::stdout(),
        ratatui::crossterm::event::DisableBracketedPaste
    );
    ratatui::restore();
    result.map(|()| String::new())
}

/// The screen's state with the model and the prompt's prefilled state.
struct Session {
    state: LiveState,
    loaded: LoadedModel,
    /// The current prompt run through the model once.
    prefilled: Option<Prefilled>,
    /// The chat template's opening (system prompt and the user turn's
    /// start), run once per model: each question continues from it.
    opening: Option<Prefilled>,
    engine: Engine,
    lang: Lang,
}

impl Session {
    fn event_loop(&mut self, terminal: &mut DefaultTerminal) -> anyhow::Result<()> {
        while !self.state.quit {
            terminal.draw(|frame| draw::draw(frame, &self.state, self.lang))?;
            let key = match event::read()? {
                Event::Key(key) => key,
                Event::Paste(text) => {
                    self.state.paste(&text);
                    continue;
                }
                _ => continue,
            };
            if key.kind != KeyEventKind::Press {
                continue;
            }
            let key = match key.code {
                KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => match c {
                    'c' => Key::Interrupt,
                    'u' => Key::KillToStart,
                    'w' => Key::KillWord,
                    'a' => Key::Home,
                    'e' => Key::End,
                    _ => continue,
                },
                KeyCode::Home => Key::Home,
                KeyCode::End => Key::End,
                KeyCode::Delete => Key::Delete,
                KeyCode::Char(c) => Key::Char(c),
                KeyCode::Enter => Key::Enter,
                KeyCode::Backspace => Key::Backspace,
                KeyCode::Esc => Key::Escape,
                KeyCode::Left => Key::Left,
                KeyCode::Right => Key::Right,
                KeyCode::Up | KeyCode::PageUp => Key::Up,
                KeyCode::Down | KeyCode::PageDown => Key::Down,
                _ => continue,
            };
            let action = self.state.press(key);
            self.perform(action, terminal)?;
        }
        Ok(())
    }

    fn perform(&mut self, action: Action, terminal: &mut DefaultTerminal) -> anyhow::Result<()> {
        match action {
            Action::None => {}
            Action::Run => {
                self.run_rule();
                self.prefill()?;
                self.sample(terminal)?;
            }
            Action::Distribution => self.bars(),
            Action::Sample => self.sample(terminal)?,
            Action::Resample => {
                self.state.notice = Notice::Resampling;
                terminal.draw(|frame| draw::draw(frame, &self.state, self.lang))?;
                self.resample()?;
            }
            Action::SwitchModel => {
                let current = self.loaded.info.alias.clone();
                let next = catalog::next_after(current.as_deref());
                self.state.notice = Notice::Switched(next.alias.to_string());
                terminal.draw(|frame| draw::draw(frame, &self.state, self.lang))?;
                self.loaded = lm::load(&ModelChoice::Alias(next), self.engine)?;
                self.opening = None;
                self.state.model = self.loaded.info.label();
                self.state.last_run = None;
                if self.state.prompt.is_some() {
                    self.prefill()?;
                    self.sample(terminal)?;
                }
            }
        }
        Ok(())
    }

    /// The rule that fits the input answers, with its steps.
    fn run_rule(&mut self) {
        let lang = self.lang;
        let prompt = self.state.prompt.clone().unwrap_or_default();
        self.state.rule = match rules::pick(&prompt) {
            Some(rule) => {
                let run = rule.apply(&prompt);
                state::RulePanel {
                    rule: Some(rule.name()),
                    outcome: Some(run.outcome),
                    trace: run
                        .trace
                        .iter()
                        .map(|s| crate::render::cells::step_text(s, lang))
                        .collect(),
                }
            }
            None => state::RulePanel {
                rule: None,
                outcome: None,
                trace: Vec::new(),
            },
        };
    }

    /// Runs the prompt through the model once (its chat template applied).
    fn prefill(&mut self) -> anyhow::Result<()> {
        let prompt = self.state.prompt.clone().unwrap_or_default();
        let text = self.loaded.prompt_format.prepare(&prompt, false);
        let ids = self.loaded.tokenizer.encode_prompt(&text);
        if ids.len() >= self.loaded.model.context_length() {
            return Err(InputError::PromptTooLong {
                tokens: ids.len(),
                context: self.loaded.model.context_length(),
            }
            .into());
        }
        if self.opening.is_none() {
            self.opening = Some(self.open()?);
        }
        let opening = self.opening.as_ref().expect("set above");
        self.prefilled = Some(opening.extend(&mut self.loaded, &ids)?);
        self.bars();
        Ok(())
    }

    /// The tokens every question's prompt begins with (the chat template
    /// around an empty question, up to where the two templates part),
    /// prefilled.
    fn open(&mut self) -> anyhow::Result<Prefilled> {
        let format = &self.loaded.prompt_format;
        let (a, b) = (format.prepare("a", false), format.prepare("b", false));
        let (a, b) = (
            self.loaded.tokenizer.encode_prompt(&a),
            self.loaded.tokenizer.encode_prompt(&b),
        );
        let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        // Keep the last shared token out: a question may merge with it.
        let ids = &a[..common.saturating_sub(1).max(1)];
        Prefilled::new(&mut self.loaded, ids)
    }

    /// The first step's most likely tokens at the current temperature.
    fn bars(&mut self) {
        let Some(prefilled) = &self.prefilled else {
            return;
        };
        let top = tempered_top(prefilled.logits(), self.state.temperature(), BARS);
        self.state.bars = top
            .into_iter()
            .map(|(token, probability)| Bar {
                piece: self.loaded.tokenizer.visible_piece(token),
                probability,
            })
            .collect();
    }

    fn settings(&self, seed: u64) -> anyhow::Result<GenerationSettings> {
        Ok(GenerationSettings {
            sampling: Sampling::from_settings(self.state.temperature(), None, None, None)?,
            seed,
            max_tokens: MAX_TOKENS,
            ignore_eos: false,
            alternatives: 0,
            stop_at_newline: false,
        })
    }

    /// One sample, streamed onto the screen as it comes.
    fn sample(&mut self, terminal: &mut DefaultTerminal) -> anyhow::Result<()> {
        let settings = self.settings(self.state.seed)?;
        let Some(prefilled) = &self.prefilled else {
            return Ok(());
        };
        self.state.tokens.clear();
        self.state.streaming.clear();
        let (state, lang) = (&mut self.state, self.lang);
        let completion = prefilled.complete_streaming(&self.loaded, &settings, &mut |piece| {
            state.streaming.push_str(piece);
            let _ = terminal.draw(|frame| draw::draw(frame, state, lang));
        })?;
        let tokens = completion
            .steps
            .iter()
            .filter(|s| !self.loaded.tokenizer.is_control(s.token))
            .map(|s| ShownToken {
                text: s.piece.clone(),
                probability: s.probability,
            })
            .collect();
        let cut_off = (completion.stop_reason == crate::generation::StopReason::MaxTokens)
            .then_some(completion.tokens.len());
        self.state.finish_sample(completion.tokens, tokens, cut_off);
        Ok(())
    }

    /// [`RESAMPLE_SEEDS`] seeds at once; the distinct answers counted.
    fn resample(&mut self) -> anyhow::Result<()> {
        let Some(prefilled) = &self.prefilled else {
            return Ok(());
        };
        let settings: Vec<GenerationSettings> = (1..=RESAMPLE_SEEDS)
            .map(|seed| self.settings(seed))
            .collect::<anyhow::Result<_>>()?;
        let completions = prefilled.complete_many(&self.loaded, &settings)?;
        // Where a rule's task fits the question, its answers are what the
        // task reads from each text (eight phrasings of "no" are one answer);
        // elsewhere each text's first line.
        let prompt = self.state.prompt.clone().unwrap_or_default();
        let task = rules::pick(&prompt).map(|rule| rule.task());
        let mut counts: Vec<(String, usize)> = Vec::new();
        for c in completions {
            let text = c.text.trim();
            let answer = match task {
                Some(task) => match task.read(&prompt, text, c.stop_reason) {
                    (Some(answer), _) => answer,
                    (None, true) => self
                        .lang
                        .fill("panel.cut_off", &[("tokens", &c.tokens.len())]),
                    (None, false) => self.lang.text("panel.no_answer").to_string(),
                },
                None => text.lines().next().unwrap_or("").trim().to_string(),
            };
            match counts.iter_mut().find(|(a, _)| *a == answer) {
                Some(entry) => entry.1 += 1,
                None => counts.push((answer, 1)),
            }
        }
        counts.sort_by_key(|c| std::cmp::Reverse(c.1));
        self.state.notice = Notice::Resampled(counts);
        Ok(())
    }
}
