//! Rendering of classroom demos: large, plain headings for a projector, the
//! live run through the usual views, and the computed takeaway; or the same
//! as a Markdown handout. Every word comes from the catalogue (`words`).

use super::cells::tour_footer;
use super::style::TerminalStyle;
use super::Format;
use super::{emergence, experiments, markdown, terminal};
use crate::report::compare::CompareReport;
use crate::report::demo::DemoStep;
use crate::report::demo::{Facts, RuleAnswer, SoFar, ViewResult};
use crate::scenario::Scenario;
use crate::words::numbers::group_digits;
use crate::words::Lang;

/// `detprob demo --list`.
pub fn list(scenarios: &[Scenario], lang: Lang) -> String {
    let rows: Vec<Vec<String>> = scenarios
        .iter()
        .map(|s| {
            vec![
                s.order.to_string(),
                s.name.clone(),
                s.key.clone(),
                lang.pick(&s.title).to_string(),
                format!("{:?}", s.view).to_lowercase(),
            ]
        })
        .collect();
    terminal::table(
        &[
            "#",
            lang.text("demo.list.scenario"),
            lang.text("demo.list.source_row"),
            lang.text("demo.list.title"),
            lang.text("demo.list.view"),
        ],
        &rows,
        &TerminalStyle::detect(),
    )
}

fn facts_rows(facts: &Facts, lang: Lang) -> Vec<Vec<String>> {
    vec![
        vec![
            lang.text("facts.rules").to_string(),
            lang.fill(
                "facts.rules_line",
                &[
                    ("count", &facts.rules.len()),
                    ("names", &facts.rules.join(", ")),
                    ("code", &facts.rule_code_lines),
                    ("data", &facts.rule_data_lines),
                ],
            ),
        ],
        vec![
            facts.model.clone(),
            lang.fill(
                "facts.model_line",
                &[
                    ("params", &group_digits(facts.parameters)),
                    ("size", &facts.size_label.as_deref().unwrap_or("-")),
                    ("layers", &facts.layers),
                    ("vocab", &group_digits(facts.vocab_size as u64)),
                ],
            ),
        ],
    ]
}

fn facts_headers(lang: Lang) -> [&'static str; 2] {
    [lang.text("facts.side"), lang.text("facts.made_of")]
}

/// Several inputs share one table; one input keeps its panel.
fn compare_body(reports: &[CompareReport], lang: Lang, style: &TerminalStyle) -> String {
    (reports.len() > 1)
        .then(|| terminal::compare_rows(reports, lang, style))
        .flatten()
        .unwrap_or_else(|| {
            reports
                .iter()
                .map(|r| terminal::compare_brief(r, lang, style))
                .collect()
        })
}

fn run_terminal(result: &ViewResult, lang: Lang, style: &TerminalStyle) -> String {
    match result {
        ViewResult::Compare { reports } => compare_body(reports, lang, style),
        ViewResult::Probs { reports, rules } => {
            let rule_lines: String = rules.iter().map(|r| rule_line(r, lang) + "\n").collect();
            rule_lines
                + &reports
                    .iter()
                    .map(|r| {
                        // The rule's line already quotes the prompt.
                        if rules.iter().any(|rule| rule.input == r.prompt) {
                            terminal::probs_tables(r, lang, style)
                        } else {
                            terminal::probs(r, lang, style)
                        }
                    })
                    .collect::<String>()
        }
        ViewResult::Trace { reports } => reports
            .iter()
            .map(|r| terminal::trace(r, lang, style))
            .collect(),
        ViewResult::Repeat { reports } => reports
            .iter()
            .map(|r| experiments::repeat_terminal(r, lang, style))
            .collect(),
        ViewResult::Facts { facts } => {
            terminal::table(&facts_headers(lang), &facts_rows(facts, lang), style)
        }
        ViewResult::Metric { reports } => style
            .compact
            .then(|| emergence::tasks_compact(reports, lang, style))
            .flatten()
            .unwrap_or_else(|| {
                reports
                    .iter()
                    .map(|r| emergence::metric_tables(r, Format::Terminal, false, lang, style))
                    .collect()
            }),
        ViewResult::Ladder { report } => {
            super::ladder::body(report, Format::Terminal, false, lang, style, &LADDER_SCREEN)
        }
        ViewResult::Subtasks { report } => {
            emergence::subtasks_body(report, Format::Terminal, lang, style)
        }
        ViewResult::Scale { report } => super::scale::body(report, Format::Terminal, lang, style),
        ViewResult::Grok { report } => {
            super::grok::body(report, Format::Terminal, true, lang, style)
        }
        ViewResult::Phase { report } => {
            super::grok::phase_body(report, Format::Terminal, lang, style)
        }
    }
}

/// A tour handout's ladder shows exact match, multiple choice and per-digit
/// accuracy (the command shows every metric); a screen shows the two its
/// takeaway quotes, exact match (charted) and per-digit accuracy.
pub(super) const LADDER_HANDOUT: [&str; 3] = ["exact", "choice", "per_digit"];
const LADDER_SCREEN: [&str; 2] = ["exact", "per_digit"];

fn run_markdown(result: &ViewResult, lang: Lang) -> String {
    match result {
        ViewResult::Compare { reports } => reports
            .iter()
            .map(|r| markdown::compare(r, lang))
            .collect::<Vec<_>>()
            .join("\n"),
        ViewResult::Probs { reports, rules } => {
            let rules: String = rules.iter().map(|r| rule_line(r, lang) + "\n\n").collect();
            rules
                + &reports
                    .iter()
                    .map(|r| markdown::probs(r, lang))
                    .collect::<String>()
        }
        ViewResult::Trace { reports } => reports.iter().map(|r| markdown::trace(r, lang)).collect(),
        ViewResult::Repeat { reports } => reports
            .iter()
            .map(|r| experiments::repeat_markdown(r, lang))
            .collect(),
        ViewResult::Facts { facts } => {
            markdown::table(&facts_headers(lang), &facts_rows(facts, lang))
        }
        ViewResult::Metric { reports } => reports
            .iter()
            .map(|r| {
                emergence::metric_tables(r, Format::Markdown, false, lang, &TerminalStyle::plain())
            })
            .collect(),
        ViewResult::Ladder { report } => super::ladder::body(
            report,
            Format::Markdown,
            false,
            lang,
            &TerminalStyle::plain(),
            &LADDER_HANDOUT,
        ),
        ViewResult::Subtasks { report } => {
            emergence::subtasks_body(report, Format::Markdown, lang, &TerminalStyle::plain())
        }
        ViewResult::Scale { report } => {
            super::scale::body(report, Format::Markdown, lang, &TerminalStyle::plain())
        }
        ViewResult::Grok { report } => super::grok::body(
            report,
            Format::Markdown,
            true,
            lang,
            &TerminalStyle::plain(),
        ),
        ViewResult::Phase { report } => {
            super::grok::phase_body(report, Format::Markdown, lang, &TerminalStyle::plain())
        }
    }
}

/// "The rule leap-year answers “no” to “…”."
fn rule_line(rule: &RuleAnswer, lang: Lang) -> String {
    lang.fill(
        "tour.rule_answer",
        &[
            ("rule", &rule.rule),
            ("input", &lang.quote(&rule.input)),
            ("output", &lang.quote(&rule.output)),
        ],
    )
}

/// The step's claim: the note's words (in English, with the Chinese source).
pub(super) fn claim(s: &Scenario, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{} {}",
            s.claim.en,
            lang.fill("tour.source", &[("text", &s.claim.zh)])
        ),
        Lang::Zh => s.claim.zh.clone(),
    }
}

/// The claim in the class's language alone: an English screen too short
/// for the Chinese source beside it (the heading keeps the note's term).
fn claim_alone(s: &Scenario, lang: Lang) -> &str {
    match lang {
        Lang::En => &s.claim.en,
        Lang::Zh => &s.claim.zh,
    }
}

/// The step's heading: "3/13 · 开发方式 · Development", without repeating a
/// title that is the key itself (as the Chinese titles of the rows are).
pub(super) fn heading(s: &Scenario, position: Option<(usize, usize)>, lang: Lang) -> String {
    let counter = position.map_or(String::new(), |(i, n)| format!("{i}/{n} · "));
    let title = lang.pick(&s.title);
    if title.contains(&s.key) {
        // The title already names the note's term (Chinese titles quote it).
        format!("{counter}{title}")
    } else {
        format!("{counter}{} · {title}", s.key)
    }
}

/// `label` in bold, then `text`, wrapped to the width as one paragraph.
fn labelled(label: &str, text: &str, lang: Lang, style: &TerminalStyle) -> String {
    let width = (style.width as usize).clamp(40, 100);
    let filled = textwrap::fill(
        &format!("{label}{}{text}", lang.sentence_gap()),
        super::style::wrap_options(width),
    );
    filled.replacen(label, &style.bold(label), 1)
}

/// The step's top line: its heading on a rule ("━━ 7/22 · 错误类型 ━━━━"),
/// with the page ("2/3") when the step is paged; wrapped when wider than
/// the screen.
fn top_line(
    s: &Scenario,
    position: Option<(usize, usize)>,
    page: Option<(usize, usize)>,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let width = (style.width as usize).clamp(20, 100);
    let mut title = heading(s, position, lang);
    if let Some((page, pages)) = page {
        title.push_str(&lang.fill("tour.page", &[("page", &page), ("pages", &pages)]));
    }
    let mut lines: Vec<String> = textwrap::wrap(&title, super::style::wrap_options(width - 3))
        .into_iter()
        .map(|l| l.into_owned())
        .collect();
    let last = lines.len() - 1;
    let room = width.saturating_sub(textwrap::core::display_width(&lines[last]) + 4);
    for (i, line) in lines.iter_mut().enumerate() {
        let lead = if i == 0 { "━━ " } else { "   " };
        let tail = if i == last && room > 0 {
            format!(" {}", "━".repeat(room))
        } else {
            String::new()
        };
        *line = format!("{lead}{}{tail}", style.bold(line));
    }
    lines.join("\n")
}

/// Whether a terminal line is plain text (no table border or chart axis).
fn is_plain(line: &str) -> bool {
    !line.contains(['│', '┆', '┌', '└', '╞', '├', '┤', '┬', '┴'])
}

/// The lines of `body`, plain lines wider than `width` wrapped (tables and
/// charts are drawn to the width already).
fn wrap_plain(body: &str, width: usize) -> Vec<String> {
    body.lines()
        .flat_map(|line| {
            if is_plain(line) && textwrap::core::display_width(line) > width {
                textwrap::wrap(line, super::style::wrap_options(width))
                    .into_iter()
                    .map(|l| l.into_owned())
                    .collect()
            } else {
                vec![line.to_string()]
            }
        })
        .collect()
}

/// The body of a step cut into units a page may not split: a table with
/// the title lines over it, a chart with its ticks and legend (indented), a
/// paragraph. A unit starts after a blank line, after a table's bottom
/// border, or at a line of text at the margin that follows a table, a chart
/// or its indented ticks and legend.
/// Plain lines wider than `width` are wrapped (tables and charts are
/// drawn to the width already).
fn units(body: &str, width: usize) -> Vec<Vec<String>> {
    let mut units: Vec<Vec<String>> = Vec::new();
    let mut previous: Option<&str> = None;
    let wrapped = wrap_plain(body, width);
    for line in wrapped.iter().map(String::as_str) {
        if line.trim().is_empty() {
            units.push(Vec::new());
            previous = None;
            continue;
        }
        let after_table = previous.is_some_and(|p| p.starts_with('└'));
        let text_after_figure = is_plain(line)
            && !line.starts_with(' ')
            && previous.is_some_and(|p| !is_plain(p) || p.starts_with(' '));
        match units.last_mut() {
            Some(unit) if !unit.is_empty() && !after_table && !text_after_figure => {
                unit.push(line.to_string())
            }
            _ => units.push(vec![line.to_string()]),
        }
        previous = Some(line);
    }
    units.retain(|u| !u.is_empty());
    units
}

/// One step for the terminal; `position` is (step, of) in a tour. Compact,
/// for a projector: the heading on a rule, the claim, the live run, what to
/// point out and the takeaway, labelled in bold (no dimmed text). On a
/// screen of `style.height` lines (one kept for the prompt under it) a step
/// too long for one screen is paged: every page repeats the heading and the
/// claim (its first line after the first page), and the run, the point-out
/// and the takeaway follow in order. Each page ends with a blank line.
pub fn step_screens(
    step: &DemoStep,
    position: Option<(usize, usize)>,
    lang: Lang,
    style: &TerminalStyle,
) -> Vec<String> {
    let s = &step.scenario;
    let mut claim = claim_block(s, lang, style);
    let width = (style.width as usize).clamp(20, 100);
    let notes: Vec<Vec<String>> = [
        ("tour.point_out_md", lang.pick(&s.point_out)),
        ("tour.takeaway_md", lang.pick(&step.takeaway)),
    ]
    .into_iter()
    .map(|(label, text)| {
        let text = labelled(lang.text(label), text, lang, style);
        text.lines().map(str::to_string).collect()
    })
    .collect();
    let mut body = units(&run_terminal(&step.result, lang, style), width);
    body.extend(notes.clone());
    let whole = |claim: &str, body: &[Vec<String>]| {
        let mut lines = vec![top_line(s, position, None, lang, style), claim.to_string()];
        lines.extend(body.iter().flatten().cloned());
        lines.join("\n") + "\n\n"
    };
    let Some(height) = style.height else {
        return vec![whole(&claim, &body)];
    };
    let screen = usize::from(height).saturating_sub(1);
    let count = |text: &str| text.lines().count();
    let heading = count(&top_line(s, position, Some((1, 1)), lang, style));
    let run = body.iter().map(Vec::len).sum::<usize>();
    if heading + count(&claim) + run <= screen {
        return vec![whole(&claim, &body)];
    }
    // Too tall: the claim without its Chinese source, and the run drawn
    // compact (shorter charts, each measure once); on one screen if that is
    // enough, else on every page.
    claim = labelled(
        lang.text("tour.claim_md"),
        claim_alone(s, lang),
        lang,
        style,
    );
    let compact = TerminalStyle {
        compact: true,
        ..*style
    };
    let mut body = units(&run_terminal(&step.result, lang, &compact), width);
    body.extend(notes);
    let run = body.iter().map(Vec::len).sum::<usize>();
    if heading + count(&claim) + run <= screen {
        return vec![whole(&claim, &body)];
    }
    let head = heading + count(&claim);
    // Pack the units into pages: the first under the heading and the whole
    // claim, the others under the heading and the claim's first line (cut
    // with "…"), so a long English claim does not eat every page. A unit
    // taller than a page is cut into page-sized pieces.
    let claim_lines: Vec<&str> = claim.lines().collect();
    let reminder = match claim_lines.as_slice() {
        [one] => one.to_string(),
        [first, ..] => super::style::cut_to_width(&format!("{}…", first.trim_end()), width),
        [] => String::new(),
    };
    let first_room = screen.saturating_sub(head).max(4);
    let later_room = screen.saturating_sub(heading + 1).max(4);
    let mut pages: Vec<Vec<String>> = vec![Vec::new()];
    for unit in body {
        for piece in unit.chunks(first_room) {
            let room = if pages.len() == 1 {
                first_room
            } else {
                later_room
            };
            let page = pages.last_mut().expect("one page at least");
            if !page.is_empty() && page.len() + piece.len() > room {
                pages.push(piece.to_vec());
            } else {
                page.extend_from_slice(piece);
            }
        }
    }
    let total = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(i, lines)| {
            let pinned = if i == 0 { &claim } else { &reminder };
            format!(
                "{}\n{pinned}\n{}\n\n",
                top_line(s, position, Some((i + 1, total)), lang, style),
                lines.join("\n")
            )
        })
        .collect()
}

/// A step's heading and claim alone: shown before the live run when the
/// class is asked to predict it, and while the run computes.
pub fn step_claim(
    scenario: &Scenario,
    position: Option<(usize, usize)>,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    format!(
        "{}\n{}\n\n",
        top_line(scenario, position, None, lang, style),
        claim_block(scenario, lang, style),
    )
}

/// A step while it still computes: its heading and claim, then what is done
/// so far (a comparison's finished rows, a training chart), cut to leave the
/// screen's last two lines to the progress bar.
pub fn step_so_far(
    scenario: &Scenario,
    position: Option<(usize, usize)>,
    so_far: SoFar,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let run = match so_far {
        SoFar::Compared(reports) => compare_body(reports, lang, style),
        // The tour's training chart has a log step axis, as its result has.
        SoFar::Training(rows) => super::grok::live(rows, true, lang, style),
        // Compact: the tables first, cut at the screen's foot.
        SoFar::Measured(result) => run_terminal(
            result,
            lang,
            &TerminalStyle {
                compact: true,
                ..*style
            },
        ),
    };
    let text = step_claim(scenario, position, lang, style) + run.trim_start_matches('\n');
    let lines = wrap_plain(&text, usize::from(style.width));
    let room = style
        .height
        .map_or(usize::MAX, |height| usize::from(height).saturating_sub(2));
    lines
        .iter()
        .take(room)
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The claim as a screen shows it: labelled in bold, wrapped to the width.
fn claim_block(s: &Scenario, lang: Lang, style: &TerminalStyle) -> String {
    labelled(lang.text("tour.claim_md"), &claim(s, lang), lang, style)
}

/// What the class sees before a live run under `--predict`: the step's
/// heading and claim, then the questions the run will ask (in the class's
/// language), so there is something to predict.
pub fn predict_screen(
    scenario: &Scenario,
    position: Option<(usize, usize)>,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let mut text = step_claim(scenario, position, lang, style);
    let asked = scenario.in_language(lang);
    if !asked.inputs.is_empty() {
        text.push_str(&style.bold(lang.text("tour.predict_inputs")));
        text.push('\n');
        for input in &asked.inputs {
            text.push_str(&format!("  • {}\n", input.text));
        }
        text.push('\n');
    }
    text
}

/// The question put to the class before a live run.
pub fn predict(lang: Lang) -> &'static str {
    lang.text("tour.predict")
}

/// One step as a Markdown section.
pub fn step_markdown(step: &DemoStep, lang: Lang) -> String {
    let s = &step.scenario;
    format!(
        "## {}\n\n**{}** {}\n\n{}\n\n**{}** {}\n\n**{}** {}\n\n",
        heading(&step.scenario, None, lang),
        lang.text("tour.claim_md"),
        claim(&step.scenario, lang).replace('\n', " "),
        run_markdown(&step.result, lang),
        lang.text("tour.point_out_md"),
        lang.pick(&s.point_out),
        lang.text("tour.takeaway_md"),
        lang.pick(&step.takeaway),
    )
}

/// What the tour writes before its first step: a handout's title or page head.
pub fn tour_head(model: &str, view: &super::View) -> String {
    match view.format {
        super::Format::Markdown => tour_markdown_heading(model, view.lang),
        super::Format::Html => super::html::head(model, view.lang),
        _ => String::new(),
    }
}

/// Tour step `position` (number, of how many) as the tour prints it, or
/// `None` when the format collects the steps into one report (JSON).
pub fn tour_step(step: &DemoStep, position: (usize, usize), view: &super::View) -> Option<String> {
    match view.format {
        super::Format::Terminal => {
            Some(step_screens(step, Some(position), view.lang, &view.style).concat())
        }
        super::Format::Markdown => Some(step_markdown(step, view.lang)),
        super::Format::Html => Some(super::html::step(step, position, view.lang)),
        super::Format::Json | super::Format::Csv => None,
    }
}

/// What the tour writes after its last step.
pub fn tour_foot(steps: usize, seconds: f64, view: &super::View) -> String {
    match view.format {
        super::Format::Html => super::html::foot(steps, seconds, view.lang),
        _ => format!("{}\n", tour_footer(steps, seconds, view.lang)),
    }
}

/// The handout's title.
fn tour_markdown_heading(model: &str, lang: Lang) -> String {
    format!(
        "# {}\n\n{} {model}\n\n",
        lang.text("tour.title"),
        lang.text("tour.model")
    )
}

/// The prompt between tour steps.
pub fn press_enter(lang: Lang) -> &'static str {
    lang.text("tour.press_enter")
}

#[cfg(test)]
mod heading_tests {
    use super::*;

    #[test]
    fn the_predict_screen_shows_the_questions_in_the_class_language() {
        let all = Scenario::builtin();
        let errors = all.iter().find(|s| s.name == "07-error-types").unwrap();
        let style = TerminalStyle::plain();
        let zh = predict_screen(errors, Some((7, 21)), Lang::Zh, &style);
        assert!(zh.contains("要问的问题："), "{zh}");
        assert!(
            zh.contains("  • 1900年是闰年吗？") && zh.contains("  • 这部电影不好看。"),
            "{zh}"
        );
        let en = predict_screen(errors, Some((7, 21)), Lang::En, &style);
        assert!(en.contains("  • Is 1900 a leap year?"), "{en}");
        assert!(!en.contains("闰年吗"), "{en}");
    }

    #[test]
    fn a_training_step_shows_its_chart_so_far_under_the_claim_within_the_screen() {
        let all = Scenario::builtin();
        let grok = all.iter().find(|s| s.name == "18-grokking").unwrap();
        let rows: Vec<crate::report::emergence::GrokRow> = (1..=40)
            .map(|i| crate::report::emergence::GrokRow {
                step: i * 10,
                train_accuracy: (i as f64 / 10.0).min(1.0),
                test_accuracy: 0.01 * i as f64,
                train_loss: 1.0 / i as f64,
                test_loss: 1.0,
                weight_norm: 10.0 + i as f64,
                fourier_share: 0.1,
                seconds: 0.1 * i as f64,
            })
            .collect();
        let style = TerminalStyle {
            width: 80,
            height: Some(24),
            ..TerminalStyle::plain()
        };
        let screen = step_so_far(
            grok,
            Some((18, 22)),
            SoFar::Training(&rows),
            Lang::En,
            &style,
        );
        assert!(screen.starts_with("━━ 18/22 · "), "{screen}");
        assert!(screen.contains("Claim: For some task T"), "{screen}");
        assert!(screen.contains("Training… step 400"), "{screen}");
        assert!(
            screen.lines().count() <= 22,
            "two lines stay for the bar:\n{screen}"
        );
    }

    #[test]
    fn a_heading_names_the_notes_term_once() {
        let all = Scenario::builtin();
        let grok = all.iter().find(|s| s.name == "18-grokking").unwrap();
        assert_eq!(
            heading(grok, Some((18, 21)), Lang::Zh),
            "18/21 · 原因三：Grokking（顿悟）现象"
        );
        assert_eq!(
            heading(grok, None, Lang::En),
            "Grokking（顿悟）现象 · Cause 3: grokking"
        );
        let definition = all.iter().find(|s| s.name == "01-definition").unwrap();
        assert_eq!(heading(definition, None, Lang::Zh), "定义");
    }
}
