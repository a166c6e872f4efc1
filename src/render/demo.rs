//! Rendering of classroom demos: large, plain headings for a projector, the
//! live run through the usual views, and the computed takeaway; or the same
//! as a Markdown handout.

use super::style::TerminalStyle;
use super::{experiments, markdown, terminal};
use crate::demo::{group_digits, DemoStep, Facts, Lang, Scenario, ViewResult};

fn label(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// `detprob demo --list`.
pub fn list(scenarios: &[Scenario], lang: Lang) -> String {
    let rows: Vec<Vec<String>> = scenarios
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.key.clone(),
                lang.pick(&s.title).to_string(),
                format!("{:?}", s.view).to_lowercase(),
            ]
        })
        .collect();
    terminal::table(
        &[
            label(lang, "scenario", "场景"),
            label(lang, "source row", "原文条目"),
            label(lang, "title", "标题"),
            label(lang, "view", "视图"),
        ],
        &rows,
        &TerminalStyle::detect(),
    )
}

fn facts_rows(facts: &Facts, lang: Lang) -> Vec<Vec<String>> {
    vec![
        vec![
            label(lang, "rules", "规则").to_string(),
            format!(
                "{} ({}): {} {}, {} {}",
                facts.rules.len(),
                facts.rules.join(", "),
                facts.rule_code_lines,
                label(lang, "lines of code", "行代码"),
                facts.rule_data_lines,
                label(lang, "lines of data", "行数据")
            ),
        ],
        vec![
            facts.model.clone(),
            format!(
                "{} {} ({}), {} {}, {} {}; {}",
                group_digits(facts.parameters),
                label(lang, "parameters", "个参数"),
                facts.size_label.as_deref().unwrap_or("-"),
                facts.layers,
                label(lang, "layers", "层"),
                facts.vocab_size,
                label(lang, "tokens in the vocabulary", "个词元"),
                label(
                    lang,
                    "training data: not recorded in the file",
                    "训练数据:文件中未记录"
                )
            ),
        ],
    ]
}

fn run_terminal(result: &ViewResult, lang: Lang, style: &TerminalStyle) -> String {
    match result {
        ViewResult::Compare { reports } => reports
            .iter()
            .map(|r| terminal::compare_panel(r, style))
            .collect::<Vec<_>>()
            .join("\n"),
        ViewResult::Probs { reports } => {
            reports.iter().map(|r| terminal::probs(r, style)).collect()
        }
        ViewResult::Trace { reports } => {
            reports.iter().map(|r| terminal::trace(r, style)).collect()
        }
        ViewResult::Repeat { reports } => reports
            .iter()
            .map(|r| experiments::repeat_terminal(r, style))
            .collect(),
        ViewResult::Facts { facts } => terminal::table(
            &[
                label(lang, "side", "一方"),
                label(lang, "what it is made of", "构成"),
            ],
            &facts_rows(facts, lang),
            style,
        ),
    }
}

fn run_markdown(result: &ViewResult, lang: Lang) -> String {
    match result {
        ViewResult::Compare { reports } => reports
            .iter()
            .map(markdown::compare)
            .collect::<Vec<_>>()
            .join("\n"),
        ViewResult::Probs { reports } => reports.iter().map(markdown::probs).collect(),
        ViewResult::Trace { reports } => reports.iter().map(markdown::trace).collect(),
        ViewResult::Repeat { reports } => {
            reports.iter().map(experiments::repeat_markdown).collect()
        }
        ViewResult::Facts { facts } => markdown::table(
            &[
                label(lang, "side", "一方"),
                label(lang, "what it is made of", "构成"),
            ],
            &facts_rows(facts, lang),
        ),
    }
}

fn claim(step: &DemoStep, lang: Lang) -> String {
    let s = &step.scenario;
    match lang {
        Lang::En => format!("{}\n  (原文: {})", s.claim.en, s.claim.zh),
        Lang::Zh => s.claim.zh.clone(),
    }
}

/// One step for the terminal; `position` is (step, of) in a tour.
pub fn step_terminal(
    step: &DemoStep,
    position: Option<(usize, usize)>,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let s = &step.scenario;
    let counter = position.map_or(String::new(), |(i, n)| format!("{i}/{n} · "));
    let rule = "━".repeat((style.width as usize).clamp(20, 100));
    let wrap = |text: &str| textwrap::fill(text, (style.width as usize).clamp(40, 100));
    format!(
        "{rule}\n{}\n{rule}\n\n{}\n{}\n\n{}\n{}\n\n{}\n{}\n\n{}\n{}\n\n",
        style.bold(&format!("{counter}{} · {}", s.key, lang.pick(&s.title))),
        style.bold(label(lang, "CLAIM", "原文观点")),
        wrap(&claim(step, lang)),
        style.bold(label(lang, "LIVE RUN", "现场运行")),
        run_terminal(&step.result, lang, style),
        style.bold(label(lang, "POINT OUT", "请注意")),
        wrap(lang.pick(&s.point_out)),
        style.bold(label(
            lang,
            "TAKEAWAY (computed from this run)",
            "结论(根据本次运行计算)"
        )),
        wrap(lang.pick(&step.takeaway)),
    )
}

/// One step as a Markdown section.
pub fn step_markdown(step: &DemoStep, lang: Lang) -> String {
    let s = &step.scenario;
    format!(
        "## {} · {}\n\n**{}** {}\n\n{}\n\n**{}** {}\n\n**{}** {}\n\n",
        s.key,
        lang.pick(&s.title),
        label(lang, "Claim:", "原文观点:"),
        claim(step, lang).replace('\n', " "),
        run_markdown(&step.result, lang),
        label(lang, "Point out:", "请注意:"),
        lang.pick(&s.point_out),
        label(
            lang,
            "Takeaway (computed from this run):",
            "结论(根据本次运行计算):"
        ),
        lang.pick(&step.takeaway),
    )
}

/// The handout's title.
pub fn tour_markdown_heading(model: &str, lang: Lang) -> String {
    format!(
        "# {}\n\n{} {model}\n\n",
        label(
            lang,
            "Programs and language models: a guided tour",
            "普通程序与大语言模型:导览"
        ),
        label(lang, "Model:", "模型:")
    )
}

/// The prompt between tour steps.
pub fn press_enter(lang: Lang) -> &'static str {
    label(
        lang,
        "Press Enter for the next step… ",
        "按回车进入下一步… ",
    )
}

/// The tour's last line.
pub fn tour_footer(steps: usize, seconds: f64, lang: Lang) -> String {
    match lang {
        Lang::En => format!("Tour finished: {steps} steps in {seconds:.1} s."),
        Lang::Zh => format!("导览结束:共 {steps} 步,用时 {seconds:.1} 秒。"),
    }
}
