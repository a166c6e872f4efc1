//! Rendering of classroom demos: large, plain headings for a projector, the
//! live run through the usual views, and the computed takeaway; or the same
//! as a Markdown handout. Every word comes from the catalogue (`words`).

use super::cells::tour_footer;
use super::style::TerminalStyle;
use super::Format;
use super::{emergence, experiments, markdown, terminal};
use crate::report::demo::DemoStep;
use crate::report::demo::{Facts, RuleAnswer, ViewResult};
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

fn run_terminal(result: &ViewResult, lang: Lang, style: &TerminalStyle) -> String {
    match result {
        ViewResult::Compare { reports } => reports
            .iter()
            .map(|r| terminal::compare_brief(r, lang, style))
            .collect(),
        ViewResult::Probs { reports, rules } => {
            let rules: String = rules.iter().map(|r| rule_line(r, lang) + "\n").collect();
            rules
                + &reports
                    .iter()
                    .map(|r| terminal::probs(r, lang, style))
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
        ViewResult::Metric { reports } => reports
            .iter()
            .map(|r| emergence::metric_tables(r, Format::Terminal, false, lang, style))
            .collect(),
        ViewResult::Ladder { report } => {
            super::ladder::body(report, Format::Terminal, false, lang, style, LADDER_TABLES)
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

/// A tour step's ladder shows exact match, multiple choice and per-digit
/// accuracy (the command shows every metric).
const LADDER_TABLES: usize = 3;

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
            LADDER_TABLES,
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

fn claim(s: &Scenario, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{} {}",
            s.claim.en,
            lang.fill("tour.source", &[("text", &s.claim.zh)])
        ),
        Lang::Zh => s.claim.zh.clone(),
    }
}

/// The step's heading: "3/13 · 开发方式 · Development", without repeating a
/// title that is the key itself (as the Chinese titles of the rows are).
fn heading(s: &Scenario, position: Option<(usize, usize)>, lang: Lang) -> String {
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
    let filled = textwrap::fill(&format!("{label}{}{text}", lang.sentence_gap()), width);
    filled.replacen(label, &style.bold(label), 1)
}

/// One step for the terminal; `position` is (step, of) in a tour. Compact,
/// for a projector: a rule, the heading, then claim, live run, what to point
/// out and the takeaway, each labelled in bold (no dimmed text).
pub fn step_terminal(
    step: &DemoStep,
    position: Option<(usize, usize)>,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let s = &step.scenario;
    let rule = "━".repeat((style.width as usize).clamp(20, 100));
    format!(
        "{rule}\n{}\n{}\n{}\n{}{}\n{}\n\n",
        style.bold(&heading(&step.scenario, position, lang)),
        labelled(
            lang.text("tour.claim_md"),
            &claim(&step.scenario, lang),
            lang,
            style
        ),
        style.bold(lang.text("tour.live_run")),
        run_terminal(&step.result, lang, style),
        labelled(
            lang.text("tour.point_out_md"),
            lang.pick(&s.point_out),
            lang,
            style
        ),
        labelled(
            lang.text("tour.takeaway_md"),
            lang.pick(&step.takeaway),
            lang,
            style
        ),
    )
}

/// A step's heading and claim alone: shown before the live run when the
/// class is asked to predict it.
pub fn step_claim(
    scenario: &Scenario,
    position: Option<(usize, usize)>,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let rule = "━".repeat((style.width as usize).clamp(20, 100));
    format!(
        "{rule}\n{}\n{}\n\n",
        style.bold(&heading(scenario, position, lang)),
        labelled(
            lang.text("tour.claim_md"),
            &claim(scenario, lang),
            lang,
            style
        ),
    )
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
            Some(step_terminal(step, Some(position), view.lang, &view.style))
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
