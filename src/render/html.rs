//! The tour as one self-contained HTML handout: no external files, styles
//! inline, each distribution drawn as bars in CSS so the charts travel with
//! the page. Every word comes from the catalogue; inputs and model output are
//! escaped.

use std::fmt::Write;

use super::markup::escape;
use crate::comparison::{shorten, temperature_label};
use crate::report::compare::CompareReport;
use crate::report::demo::DemoStep;
use crate::report::demo::ViewResult;
use crate::report::experiments::RepeatReport;
use crate::report::views::{ProbsReport, TraceReport};
use crate::words::numbers::group_digits;
use crate::words::Lang;

const STYLE: &str = "body{font-family:system-ui,-apple-system,\"Segoe UI\",\"Noto Sans CJK SC\",\"Noto Sans SC\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111}\
section{border-top:3px solid #333;margin-top:2.5rem;padding-top:.5rem}\
blockquote{margin:0;padding:.5rem 1rem;background:#f4f4f4;border-left:4px solid #888}\
table{border-collapse:collapse;margin:.5rem 0;display:block;max-width:100%;overflow-x:auto}td,th{border:1px solid #bbb;padding:.2rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
svg{display:block;max-width:100%;height:auto}svg text{font-family:inherit}pre{white-space:pre-wrap;overflow-wrap:anywhere}\
.right{color:#1a7f37}.wrong{color:#b42318}.takeaway{background:#fff8db;padding:.5rem 1rem;border-left:4px solid #d4a72c}\
.bar{background:#4f7cff;height:.8rem;display:inline-block;vertical-align:middle}.small{font-size:.9rem}";

/// The page's start: title and model.
pub fn head(model: &str, lang: Lang) -> String {
    let title = escape(lang.text("tour.title"));
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n<p>{} {}</p>\n",
        match lang {
            Lang::En => "en",
            Lang::Zh => "zh",
        },
        escape(lang.text("tour.model")),
        escape(model)
    )
}

/// The page's end, with the tour's total time.
pub fn foot(steps: usize, seconds: f64, lang: Lang) -> String {
    format!(
        "<p class=\"small\">{}</p>\n</body></html>\n",
        escape(&super::cells::tour_footer(steps, seconds, lang))
    )
}

fn class(correct: Option<bool>) -> &'static str {
    match correct {
        Some(true) => "right",
        Some(false) => "wrong",
        None => "",
    }
}

fn compare(r: &CompareReport, lang: Lang) -> String {
    let mut out = String::new();
    let truth = super::cells::truth_label(r, lang);
    let _ = writeln!(
        out,
        "<p><b>{}</b></p><table>",
        escape(&lang.fill(
            "panel.input_line",
            &[("input", &r.input), ("truth", &truth)]
        ))
    );
    let outcome = super::cells::rule_outcome_text(&r.rule, lang);
    let _ = writeln!(
        out,
        "<tr><th>{} {}</th><td class=\"{}\">{}</td></tr>",
        escape(lang.text("side.rule")),
        escape(r.rule.name),
        class(r.rule.correct),
        escape(&lang.fill(
            "panel.outcome_brief",
            &[
                ("outcome", &outcome),
                ("same", &(r.rule.runs - r.rule.distinct_outputs + 1)),
                ("runs", &r.rule.runs)
            ]
        ))
    );
    for t in &r.model.temperatures {
        let answers: Vec<String> = t
            .answers
            .iter()
            .map(|a| {
                format!(
                    "<span class=\"{}\">{}</span>",
                    class(a.correct),
                    escape(&super::cells::answer_text(a, 40, lang))
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<tr><th>{} {}</th><td>{}</td></tr>",
            escape(lang.text("side.model")),
            temperature_label(t.temperature),
            answers.join(" &nbsp; ")
        );
    }
    out.push_str("</table>\n");
    out
}

fn probs(r: &ProbsReport) -> String {
    let mut out = format!("<p>{}</p><table><tr>", escape(&r.prompt));
    for column in &r.temperatures {
        let _ = write!(out, "<th>{}</th>", escape(&column.label));
    }
    out.push_str("</tr><tr>");
    for column in &r.temperatures {
        out.push_str("<td>");
        for token in &column.top {
            let width = (token.probability * 100.0).round();
            let _ = write!(
                out,
                "<div><code>{}</code> {:.1}% <span class=\"bar\" style=\"width:{width}px\"></span></div>",
                escape(&token.piece),
                100.0 * token.probability
            );
        }
        out.push_str("</td>");
    }
    out.push_str("</tr></table>\n");
    out
}

fn trace(r: &TraceReport, lang: Lang) -> String {
    let mut out = String::new();
    if let Some(rule) = &r.rule {
        let _ = writeln!(
            out,
            "<p><b>{}</b>: {}</p><ol>",
            escape(rule.rule),
            escape(&rule.output.text(lang))
        );
        for step in &rule.steps {
            let _ = writeln!(
                out,
                "<li>{} <code class=\"small\">{}</code></li>",
                escape(&super::cells::step_text(step, lang)),
                escape(&step.source)
            );
        }
        out.push_str("</ol>\n");
    }
    for sample in &r.model.samples {
        let tokens: Vec<String> = sample
            .steps
            .iter()
            .map(|s| {
                format!(
                    "<span title=\"p = {:.3}\" style=\"opacity:{:.2}\">{}</span>",
                    s.probability,
                    0.35 + 0.65 * s.probability,
                    escape(&s.piece)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<p>{}</p>",
            lang.fill(
                "trace.seed",
                &[("seed", &sample.seed), ("text", &tokens.join(" "))]
            )
        );
    }
    out
}

fn repeat(r: &RepeatReport, lang: Lang) -> String {
    let mut out = format!(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
        escape(lang.text("repeat.header.side")),
        escape(lang.text("repeat.header.setting")),
        escape(lang.text("repeat.header.runs")),
        escape(lang.text("repeat.header.distinct")),
        escape(lang.text("repeat.header.most_common")),
    );
    for row in &r.rows {
        let side = if row.temperature.is_none() {
            "side.rule"
        } else {
            "side.model"
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ×{}</td></tr>",
            escape(lang.text(side)),
            escape(&row.setting.text(lang)),
            row.runs,
            row.distinct,
            escape(&shorten(&row.most_common, 60)),
            row.most_common_count
        );
    }
    out.push_str("</table>\n");
    out
}

/// One tour step as a section.
pub fn step(step: &DemoStep, position: (usize, usize), lang: Lang) -> String {
    let s = &step.scenario;
    let run = match &step.result {
        ViewResult::Compare { reports } => reports.iter().map(|r| compare(r, lang)).collect(),
        ViewResult::Probs { reports, rules } => {
            let rules: String = rules
                .iter()
                .map(|r| {
                    format!(
                        "<p>{}</p>",
                        escape(&lang.fill(
                            "tour.rule_answer",
                            &[
                                ("rule", &r.rule),
                                ("input", &lang.quote(&r.input)),
                                ("output", &lang.quote(&r.output)),
                            ],
                        ))
                    )
                })
                .collect();
            rules + &reports.iter().map(probs).collect::<String>()
        }
        ViewResult::Trace { reports } => reports.iter().map(|r| trace(r, lang)).collect(),
        ViewResult::Repeat { reports } => reports.iter().map(|r| repeat(r, lang)).collect(),
        ViewResult::Metric { reports } => reports
            .iter()
            .map(|r| {
                let charts: Vec<super::chart::Chart> = r
                    .models
                    .iter()
                    .map(|m| super::emergence::metric_chart(r, m, lang))
                    .collect();
                (super::emergence::metric_tables(
                    r,
                    crate::render::Format::Html,
                    false,
                    lang,
                    &super::style::TerminalStyle::plain(),
                )) + &super::chart::svg(&charts).unwrap_or_default()
            })
            .collect(),
        ViewResult::Ladder { report } => {
            (super::ladder::body(
                report,
                crate::render::Format::Html,
                false,
                lang,
                &super::style::TerminalStyle::plain(),
                &super::demo::LADDER_HANDOUT,
            )) + &super::chart::svg(&super::ladder::charts(report, lang)).unwrap_or_default()
        }
        ViewResult::Subtasks { report } => {
            (super::emergence::subtasks_body(
                report,
                crate::render::Format::Html,
                lang,
                &super::style::TerminalStyle::plain(),
            )) + &super::chart::svg(&[super::emergence::subtasks_chart(report, lang)])
                .unwrap_or_default()
        }
        ViewResult::Scale { report } => {
            (super::scale::body(
                report,
                crate::render::Format::Html,
                lang,
                &super::style::TerminalStyle::plain(),
            )) + &super::chart::svg(&[super::scale::chart(report, lang)]).unwrap_or_default()
        }
        ViewResult::Phase { report } => {
            (super::grok::phase_body(
                report,
                crate::render::Format::Html,
                lang,
                &super::style::TerminalStyle::plain(),
            )) + &super::grok::phase_svg(report, lang).unwrap_or_default()
        }
        ViewResult::Grok { report } => {
            (super::grok::body(
                report,
                crate::render::Format::Html,
                true,
                lang,
                &super::style::TerminalStyle::plain(),
            )) + &super::chart::svg(&super::grok::charts(
                &report.rows,
                lang.text("grok.svg_title"),
                true,
                lang,
            ))
            .unwrap_or_default()
        }
        ViewResult::Facts { facts } => format!(
            "<table><tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr></table>",
            escape(lang.text("facts.rules")),
            escape(&lang.fill(
                "facts.rules_line",
                &[
                    ("count", &facts.rules.len()),
                    ("names", &facts.rules.join(", ")),
                    ("code", &facts.rule_code_lines),
                    ("data", &facts.rule_data_lines),
                ],
            )),
            escape(&facts.model),
            escape(&lang.fill(
                "facts.model_line",
                &[
                    ("params", &group_digits(facts.parameters)),
                    ("size", &facts.size_label.as_deref().unwrap_or("-")),
                    ("layers", &facts.layers),
                    ("vocab", &group_digits(facts.vocab_size as u64)),
                ],
            ))
        ),
    };
    let heading = super::demo::heading(s, Some(position), lang);
    let claim = super::demo::claim(s, lang);
    format!(
        "<section>\n<h2>{}</h2>\n<h3>{}</h3><blockquote>{}</blockquote>\n<h3>{}</h3>\n{run}<h3>{}</h3><p>{}</p>\n<h3>{}</h3><p class=\"takeaway\">{}</p>\n</section>\n",
        escape(&heading),
        escape(lang.text("tour.claim")),
        escape(&claim),
        escape(lang.text("tour.live_run")),
        escape(lang.text("tour.point_out")),
        escape(lang.pick(&s.point_out)),
        escape(lang.text("tour.takeaway")),
        escape(lang.pick(&step.takeaway)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_control_characters_shown() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(escape("a\u{1b}]0;x\u{7}"), "a\\x1b]0;x\\x07");
        assert_eq!(escape("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn a_page_has_one_title_and_closes() {
        let page = head("fake", Lang::Zh) + &foot(0, 1.0, Lang::Zh);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>普通程序与大语言模型：导览</title>"));
        assert!(page.trim_end().ends_with("</html>"));
    }
}
