//! Drawing the classroom screen with ratatui: a title line, the input line,
//! the rule (left) beside the model (right), the next-token distribution at
//! the current temperature, what the last key did, and every key. Text
//! wraps; nothing is wider than the screen; every word comes from the
//! catalogue.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::state::{LiveState, Notice, TEMPERATURES};
use crate::rules::RuleOutcome;
use crate::words::Lang;

/// Tokens less likely than this are marked in the sample.
const UNLIKELY: f64 = 0.2;

/// Draws `state` on `frame`.
pub fn draw(frame: &mut Frame, state: &LiveState, lang: Lang) {
    let bars = state.bars.len().max(1) as u16 + 2;
    let [title, input, panels, distribution, notice, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Min(6),
        Constraint::Length(bars.min(10)),
        Constraint::Length(1),
        Constraint::Length(2),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(title_line(state, lang)), title);
    draw_input(frame, input, state, lang);
    if state.help {
        draw_help(frame, panels, lang);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)])
                .areas(panels);
        draw_rule(frame, left, state, lang);
        draw_model(frame, right, state, lang);
    }
    draw_bars(frame, distribution, state, lang);
    frame.render_widget(
        Paragraph::new(notice_line(state, lang)).wrap(Wrap { trim: true }),
        notice,
    );
    frame.render_widget(
        Paragraph::new(lang.text(if state.editing {
            "live.keys_editing"
        } else {
            "live.keys"
        }))
        .style(Style::new().fg(Color::DarkGray))
        .wrap(Wrap { trim: true }),
        keys,
    );
    shown_not_sent(frame);
}

/// Control characters a model's output or a typed question may carry (a
/// title-setting escape, a bell, a bidirectional override) are shown as `�`
/// in their cell, never sent to the terminal: the screen's only writer is
/// this drawing.
fn shown_not_sent(frame: &mut Frame) {
    for cell in frame.buffer_mut().content.iter_mut() {
        if cell
            .symbol()
            .chars()
            .any(crate::render::style::acts_on_display)
        {
            cell.set_symbol("�");
        }
    }
}

fn title_line(state: &LiveState, lang: Lang) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            lang.text("live.title").to_string(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            "  {}",
            lang.fill(
                "live.settings",
                &[
                    ("model", &state.model),
                    ("temperature", &state.temperature()),
                    ("seed", &state.seed),
                ],
            )
        )),
    ])
}

fn draw_input(frame: &mut Frame, area: Rect, state: &LiveState, lang: Lang) {
    let style = if state.editing {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new()
    };
    let text = if state.editing {
        let (before, after) = state.input.split_at(state.byte_at(state.cursor));
        format!("{before}▏{after}")
    } else {
        state.input.clone()
    };
    frame.render_widget(
        Paragraph::new(text).block(
            Block::bordered()
                .title(lang.text("live.input"))
                .border_style(style),
        ),
        area,
    );
}

fn draw_rule(frame: &mut Frame, area: Rect, state: &LiveState, lang: Lang) {
    let panel = &state.rule;
    let mut lines: Vec<Line> = Vec::new();
    match (state.prompt.as_ref(), panel.rule) {
        (None, _) => lines.push(Line::from(lang.text("live.waiting").to_string())),
        (Some(_), None) => lines.push(Line::from(lang.text("live.no_rule").to_string())),
        (Some(_), Some(rule)) => {
            lines.push(Line::from(Span::styled(
                lang.fill("live.rule_name", &[("rule", &rule)]),
                Style::new().add_modifier(Modifier::BOLD),
            )));
            match &panel.outcome {
                Some(RuleOutcome::Answer { value }) => lines.push(Line::from(Span::styled(
                    lang.fill("live.rule_answer", &[("answer", value)]),
                    Style::new().fg(Color::Green),
                ))),
                Some(RuleOutcome::Error { error }) => lines.push(Line::from(Span::styled(
                    error.describe(lang),
                    Style::new().fg(Color::Red),
                ))),
                None => {}
            }
            lines.push(Line::from(""));
            lines.extend(panel.trace.iter().map(|t| Line::from(format!("· {t}"))));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(lang.text("live.rule_side")))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_model(frame: &mut Frame, area: Rect, state: &LiveState, lang: Lang) {
    let lines: Vec<Line> = if !state.streaming.is_empty() {
        state
            .streaming
            .lines()
            .map(|l| Line::from(l.to_string()))
            .collect()
    } else if state.trace {
        // Each token's probability in the distribution it was drawn from:
        // after the sample's temperature, which the header names.
        let header = Line::from(lang.fill(
            "live.trace_header",
            &[(
                "temperature",
                &state.sample_settings().map_or(0.0, |(t, _)| t),
            )],
        ))
        .style(Style::new().add_modifier(Modifier::BOLD));
        std::iter::once(header)
            .chain(state.tokens.iter().enumerate().map(|(i, t)| {
                Line::from(format!(
                    "{:>3}  {:<16} {:>6.1}%",
                    i + 1,
                    format!("{:?}", t.text),
                    100.0 * t.probability
                ))
                .style(token_style(t.probability))
            }))
            .collect()
    } else if state.tokens.is_empty() {
        vec![Line::from(lang.text("live.no_sample").to_string())]
    } else {
        // The sample's tokens, unlikely ones marked; newlines start lines.
        let mut lines = vec![Line::default()];
        for t in &state.tokens {
            let mut parts = t.text.split('\n');
            if let Some(first) = parts.next() {
                lines
                    .last_mut()
                    .expect("one line")
                    .push_span(Span::styled(first.to_string(), token_style(t.probability)));
            }
            for part in parts {
                lines.push(Line::from(Span::styled(
                    part.to_string(),
                    token_style(t.probability),
                )));
            }
        }
        if let Some(tokens) = state.cut_off {
            lines.push(Line::from(Span::styled(
                format!("…{}", lang.fill("panel.cut_off", &[("tokens", &tokens)])),
                Style::new().add_modifier(Modifier::DIM | Modifier::ITALIC),
            )));
        }
        lines
    };
    let mut area = area;
    if state.streaming.is_empty() && !state.tokens.is_empty() {
        // The key to the marks, on its own line under the box: always in
        // view however long the sample is.
        let [boxed, note] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                lang.fill(
                    "live.unlikely",
                    &[("percent", &format!("{:.0}", 100.0 * UNLIKELY))],
                ),
                Style::new()
                    .fg(Color::Red)
                    .add_modifier(Modifier::UNDERLINED),
            ))),
            note,
        );
        area = boxed;
    }
    // The panel names the settings its sample was drawn with, which the
    // header's may have left behind (← / → move the temperature at once).
    let title = match state.sample_settings() {
        Some((temperature, seed)) if state.streaming.is_empty() => lang.fill(
            "live.model_side_at",
            &[("temperature", &temperature), ("seed", &seed)],
        ),
        _ => lang.text("live.model_side").to_string(),
    };
    let paragraph = Paragraph::new(lines)
        .block(Block::bordered().title(title))
        .wrap(Wrap { trim: false });
    // The end of the sample stays in view (a long one streams upwards);
    // ↑/↓ scroll back from there.
    let rows = paragraph.line_count(area.width) as u16;
    let top = rows
        .saturating_sub(area.height)
        .saturating_sub(state.scroll_back);
    frame.render_widget(paragraph.scroll((top, 0)), area);
}

fn token_style(probability: f64) -> Style {
    if probability < UNLIKELY {
        Style::new()
            .fg(Color::Red)
            .add_modifier(Modifier::UNDERLINED)
    } else {
        Style::new()
    }
}

fn draw_bars(frame: &mut Frame, area: Rect, state: &LiveState, lang: Lang) {
    let width = area.width.saturating_sub(24).max(4) as f64;
    let lines: Vec<Line> = if state.bars.is_empty() {
        vec![Line::from(lang.text("live.no_distribution").to_string())]
    } else {
        state
            .bars
            .iter()
            .map(|b| {
                let cells = (b.probability * width).round() as usize;
                Line::from(vec![
                    Span::raw(crate::render::style::pad_to_width(
                        &shorten(&format!("{:?}", b.piece), 12),
                        13,
                    )),
                    Span::styled("█".repeat(cells), Style::new().fg(Color::Cyan)),
                    Span::raw(format!(" {:.1}%", 100.0 * b.probability)),
                ])
            })
            .collect()
    };
    let title = lang.fill(
        "live.distribution",
        &[("temperature", &TEMPERATURES[state.temperature])],
    );
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
    );
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

fn notice_line(state: &LiveState, lang: Lang) -> Line<'static> {
    match &state.notice {
        Notice::None => Line::from(""),
        Notice::Reproduced => Line::from(Span::styled(
            lang.text("live.reproduced").to_string(),
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        )),
        Notice::Differed => Line::from(Span::styled(
            lang.text("live.differed").to_string(),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )),
        Notice::NewSeed(seed) => Line::from(lang.fill("live.new_seed", &[("seed", seed)])),
        Notice::Resampled(answers) => {
            let list: Vec<String> = answers
                .iter()
                .map(|(a, n)| format!("{} ×{n}", lang.quote(&shorten(a, 24))))
                .collect();
            Line::from(lang.fill(
                "live.resampled",
                &[
                    ("seeds", &super::state::RESAMPLE_SEEDS),
                    ("distinct", &answers.len()),
                    ("answers", &list.join(lang.list_gap())),
                ],
            ))
        }
        Notice::Switched(model) => Line::from(lang.fill("live.switched", &[("model", model)])),
        Notice::SampleAt { temperature, seed } => Line::from(lang.fill(
            "live.sample_at",
            &[
                ("temperature", temperature),
                ("seed", seed),
                ("now", &TEMPERATURES[state.temperature]),
            ],
        )),
        Notice::Resampling => Line::from(lang.fill(
            "live.resampling",
            &[("seeds", &super::state::RESAMPLE_SEEDS)],
        )),
    }
}

fn draw_help(frame: &mut Frame, area: Rect, lang: Lang) {
    let lines: Vec<Line> = lang
        .text("live.help")
        .lines()
        .map(|l| Line::from(l.to_string()))
        .collect();
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(lang.text("live.help_title")))
            .wrap(Wrap { trim: false }),
        area,
    );
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use super::*;
    use crate::live::state::{Bar, Key, ShownToken};

    /// The screen `state` draws on an 80×24 terminal, one string per row.
    fn screen(state: &LiveState, lang: Lang) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal.draw(|frame| draw(frame, state, lang)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        // A wide (CJK) character fills two cells; the second holds nothing to show.
        (0..24)
            .map(|y| {
                let mut row = String::new();
                let mut x = 0;
                while x < 80 {
                    let symbol = buffer[(x, y)].symbol();
                    row.push_str(symbol);
                    x += textwrap::core::display_width(symbol).max(1) as u16;
                }
                row
            })
            .collect()
    }

    fn after_a_run() -> LiveState {
        let mut state = LiveState::new("smollm2-135m".into());
        for c in "What is 17 + 25?".chars() {
            state.press(Key::Char(c));
        }
        state.press(Key::Enter);
        state.rule = RulePanel {
            rule: Some("arithmetic"),
            outcome: Some(RuleOutcome::Answer { value: "42".into() }),
            trace: vec!["parse: 17 + 25".into()],
        };
        state.bars = vec![
            Bar {
                piece: "42".into(),
                probability: 0.61,
            },
            Bar {
                piece: "The".into(),
                probability: 0.2,
            },
        ];
        let token = |text: &str, probability| ShownToken {
            text: text.into(),
            probability,
        };
        state.finish_sample(vec![1, 2], vec![token("4", 0.9), token("3", 0.05)], None);
        state
    }

    use super::super::state::RulePanel;

    #[test]
    fn the_first_screen_asks_for_a_question_and_lists_the_keys() {
        let rows = screen(&LiveState::new("smollm2-135m".into()), Lang::En);
        let text = rows.join("\n");
        assert!(rows[0].starts_with("detprob live  model smollm2-135m · T = 0.7 · seed 1"));
        assert!(text.contains("Type a question and press"), "{text}");
        assert!(
            text.contains("Enter run · Esc leave the line · Ctrl-C quit"),
            "{text}"
        );
    }

    #[test]
    fn a_run_shows_the_rule_the_sample_and_the_bars_in_both_languages() {
        let mut state = after_a_run();
        let text = screen(&state, Lang::En).join("\n");
        for expected in [
            "Rule: arithmetic",
            "Answer: 42 (the same every",
            "· parse: 17 + 25",
            "43",
            "Next token at T = 0.7",
            "61.0%",
            "red, underlined: drawn with p < 20%",
            "q quit",
        ] {
            assert!(text.contains(expected), "{expected:?} missing:\n{text}");
        }
        state.press(Key::Char('s'));
        state.finish_sample(vec![1, 2], vec![], None);
        let zh = screen(&state, Lang::Zh).join("\n");
        for expected in ["规则：arithmetic", "答案：42", "已复现：完全相同", "退出"]
        {
            assert!(zh.contains(expected), "{expected:?} missing:\n{zh}");
        }
        assert!(!zh.contains("Answer") && !zh.contains("Reproduced"), "{zh}");
    }

    /// The main states, pinned: the first screen, a run, the same seed
    /// replayed (in Chinese), and the help.
    #[test]
    fn the_token_view_and_a_cut_off_sample_say_what_they_show() {
        let mut state = after_a_run();
        state.cut_off = Some(2);
        let text = screen(&state, Lang::En).join("\n");
        assert!(text.contains("…(cut off at 2 tokens)"), "{text}");
        assert!(text.contains("sampled at T = 0.7, seed 1"), "{text}");
        state.press(Key::Char('t'));
        let text = screen(&state, Lang::En).join("\n");
        assert!(text.contains("p at T = 0.7"), "{text}");
        assert!(text.contains("90.0%"), "{text}");
    }

    #[test]
    fn the_main_screens_are_pinned_in_english_and_chinese() {
        let plain = |state: &LiveState, lang| {
            screen(state, lang)
                .iter()
                .map(|row| row.trim_end().to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let first = LiveState::new("smollm2-135m".into());
        insta::assert_snapshot!("live_first_en", plain(&first, Lang::En));
        insta::assert_snapshot!("live_first_zh", plain(&first, Lang::Zh));
        let mut state = after_a_run();
        insta::assert_snapshot!("live_run_en", plain(&state, Lang::En));
        state.press(Key::Char('s'));
        state.finish_sample(vec![1, 2], vec![], None);
        insta::assert_snapshot!("live_reproduced_zh", plain(&state, Lang::Zh));
        state.press(Key::Char('?'));
        insta::assert_snapshot!("live_help_en", plain(&state, Lang::En));
        insta::assert_snapshot!("live_help_zh", plain(&state, Lang::Zh));
    }

    #[test]
    fn a_long_sample_shows_its_end_and_scrolls_back_with_the_arrows() {
        let mut state = LiveState::new("m".into());
        for c in "count".chars() {
            state.press(Key::Char(c));
        }
        state.press(Key::Enter);
        let tokens: Vec<ShownToken> = (1..=40)
            .map(|i| ShownToken {
                text: format!("line {i}\n"),
                probability: 0.9,
            })
            .collect();
        state.finish_sample((0..40).collect(), tokens, None);
        let text = screen(&state, Lang::En).join("\n");
        assert!(
            text.contains("line 40") && !text.contains("line 1 "),
            "{text}"
        );
        for _ in 0..10 {
            state.press(Key::Up);
        }
        let text = screen(&state, Lang::En).join("\n");
        assert!(!text.contains("line 40"), "{text}");
        for _ in 0..10 {
            state.press(Key::Down);
        }
        assert_eq!(state.scroll_back, 0);
        assert!(screen(&state, Lang::En).join("\n").contains("line 40"));
    }

    #[test]
    fn help_replaces_the_panels_and_lists_every_key() {
        let mut state = after_a_run();
        state.press(Key::Char('?'));
        let text = screen(&state, Lang::En).join("\n");
        for key in [
            "same seed again",
            "resample 8 seeds",
            "switch the model",
            "Ctrl-C",
        ] {
            assert!(text.contains(key), "{key:?} missing:\n{text}");
        }
        assert!(!text.contains("Rule: arithmetic"));
    }
}
#[cfg(test)]
mod overflow_tests {
    use super::*;
    use crate::live::state::{Key, ShownToken};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    #[test]
    fn the_note_under_a_long_sample_stays_in_view() {
        let mut state = LiveState::new("m".into());
        for c in "hi".chars() {
            state.press(Key::Char(c));
        }
        state.press(Key::Enter);
        let tokens: Vec<ShownToken> = (0..48)
            .map(|i| ShownToken {
                text: if i % 3 == 0 {
                    "\n\n".into()
                } else {
                    "What is".into()
                },
                probability: 0.5,
            })
            .collect();
        state.finish_sample((0..48).collect(), tokens, None);
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal
            .draw(|frame| draw(frame, &state, Lang::En))
            .unwrap();
        let text = format!("{:?}", terminal.backend().buffer());
        assert!(text.contains("red, underlined"), "{text}");
    }

    #[test]
    fn escape_sequences_in_a_sample_are_shown_not_sent() {
        let mut state = LiveState::new("m".into());
        for c in "hi\u{1b}]0;PWNED\u{7}".chars() {
            state.press(Key::Char(c));
        }
        state.press(Key::Enter);
        let tokens = vec![ShownToken {
            text: "ok \u{1b}]0;PWNED\u{7}\u{1b}[2J done".into(),
            probability: 0.5,
        }];
        state.finish_sample(vec![1], tokens, None);
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal
            .draw(|frame| draw(frame, &state, Lang::En))
            .unwrap();
        let buffer = terminal.backend().buffer();
        let symbols: String = buffer.content.iter().map(|c| c.symbol()).collect();
        assert!(!symbols.chars().any(|c| c.is_control()), "{symbols:?}");
        assert!(symbols.contains("PWNED"), "{symbols:?}");
        // Whatever a widget lets through into a cell, the last pass of the
        // drawing shows instead of sending.
        terminal
            .draw(|frame| {
                frame.buffer_mut().content[3].set_symbol("\u{1b}]0;PWNED\u{7}");
                frame.buffer_mut().content[4].set_symbol("a\u{9b}");
                frame.buffer_mut().content[5].set_symbol("\u{202e}");
                frame.buffer_mut().content[6].set_symbol("ب");
                shown_not_sent(frame);
            })
            .unwrap();
        let cells = &terminal.backend().buffer().content;
        assert_eq!(
            [3, 4, 5, 6].map(|i| cells[i].symbol()),
            ["�", "�", "�", "ب"],
            "controls and overrides hidden, right-to-left script kept"
        );
    }
}
