//! Rendering of `detprob emergence`: the metric table and chart per model,
//! the p^k curves, and takeaways computed from the numbers, in every
//! [`Format`]; charts as SVG for `--plot`.

use super::chart::{self, Chart, Series};
use super::style::TerminalStyle;
use super::{csv as csv_text, markdown, terminal};
use crate::report::emergence::{MetricReport, ModelMetrics, ScaleReport, SubtasksReport};
use crate::report::Format;
use crate::words::Lang;

/// A share as a percentage with one decimal.
pub(super) fn percent(share: f64) -> String {
    format!("{:.1}%", 100.0 * share)
}

fn headers(lang: Lang) -> Vec<&'static str> {
    [
        "k",
        "exact",
        "per_digit",
        "predicted",
        "choice",
        "probability",
        "probability_whole",
        "edit_distance",
    ]
    .iter()
    .map(|h| {
        if *h == "k" {
            "k"
        } else {
            lang.text(&format!("emergence.header.{h}"))
        }
    })
    .collect()
}

fn rows(model: &ModelMetrics) -> Vec<Vec<String>> {
    model
        .points
        .iter()
        .map(|p| {
            vec![
                p.k.to_string(),
                percent(p.exact_match),
                percent(p.per_digit_accuracy),
                percent(p.predicted_exact_from_digits),
                percent(p.multiple_choice_accuracy),
                percent(p.answer_probability),
                percent(p.answer_probability_whole),
                format!("{:.2}", p.token_edit_distance),
            ]
        })
        .collect()
}

fn heading(report: &MetricReport, lang: Lang) -> String {
    lang.fill(
        "emergence.metric.heading",
        &[
            (
                "family",
                &lang.text(&format!("emergence.family.{}", report.family)),
            ),
            ("problems", &report.problems_per_length),
            ("seed", &report.seed),
        ],
    )
}

fn model_heading(model: &ModelMetrics, family: &str, lang: Lang) -> String {
    lang.fill(
        "emergence.metric.model",
        &[
            ("model", &model.model),
            ("family", &family),
            (
                "style",
                &lang.text(&format!("emergence.style.{}", model.prompt_style)),
            ),
        ],
    )
}

/// The chart of one model's metrics against k.
pub fn metric_chart(model: &ModelMetrics, lang: Lang) -> Chart {
    let line = |key: &str,
                marker: char,
                color,
                value: fn(&crate::report::emergence::MetricPoint) -> f64| Series {
        label: lang.text(&format!("emergence.series.{key}")).to_string(),
        marker,
        color,
        points: model
            .points
            .iter()
            .map(|p| (p.k as f64, value(p)))
            .collect(),
        joined: true,
    };
    Chart {
        title: model.model.clone(),
        x_label: lang.text("emergence.axis.k").to_string(),
        log_x: false,
        series: vec![
            line("per_digit", 'd', (31, 119, 180), |p| p.per_digit_accuracy),
            line("choice", 'c', (44, 160, 44), |p| p.multiple_choice_accuracy),
            line("probability", 'p', (148, 103, 189), |p| {
                p.answer_probability
            }),
            line("predicted", '^', (255, 127, 14), |p| {
                p.predicted_exact_from_digits
            }),
            line("exact", 'E', (214, 39, 40), |p| p.exact_match),
        ],
        ticks: Vec::new(),
    }
}

/// What the run showed, per model, from its numbers.
pub fn metric_takeaways(report: &MetricReport, lang: Lang) -> Vec<String> {
    let family = lang.text(&format!("emergence.family.{}", report.family));
    report
        .models
        .iter()
        .filter_map(|m| {
            let (first, last) = (m.points.first()?, m.points.last()?);
            let keep = |a: f64, b: f64| {
                if a > 0.0 {
                    format!("{:.0}%", 100.0 * b / a)
                } else {
                    "—".to_string()
                }
            };
            let mut text = lang.fill(
                "emergence.takeaway.metric",
                &[
                    ("model", &m.model),
                    ("family", &family),
                    ("k1", &first.k),
                    ("k2", &last.k),
                    ("exact1", &percent(first.exact_match)),
                    ("exact2", &percent(last.exact_match)),
                    ("digit1", &percent(first.per_digit_accuracy)),
                    ("digit2", &percent(last.per_digit_accuracy)),
                    ("prob1", &percent(first.answer_probability)),
                    ("prob2", &percent(last.answer_probability)),
                    ("exact_kept", &keep(first.exact_match, last.exact_match)),
                    (
                        "digit_kept",
                        &keep(first.per_digit_accuracy, last.per_digit_accuracy),
                    ),
                ],
            );
            let gaps: Vec<f64> = m
                .points
                .iter()
                .map(|p| (p.predicted_exact_from_digits - p.exact_match).abs())
                .collect();
            let (worst, gap) =
                gaps.iter().enumerate().fold(
                    (0, 0.0f64),
                    |(wi, w), (i, &g)| if g > w { (i, g) } else { (wi, w) },
                );
            let mean_gap = gaps.iter().sum::<f64>() / gaps.len() as f64;
            text.push_str(lang.sentence_gap());
            text.push_str(&lang.fill(
                "emergence.takeaway.predicted",
                &[
                    ("mean_gap", &format!("{:.1}", 100.0 * mean_gap)),
                    ("gap", &format!("{:.1}", 100.0 * gap)),
                    ("k", &m.points[worst].k),
                    (
                        "predicted",
                        &percent(m.points[worst].predicted_exact_from_digits),
                    ),
                    ("measured", &percent(m.points[worst].exact_match)),
                ],
            ));
            Some(text)
        })
        .collect()
}

/// `report` in `format`, with its takeaways.
pub fn metric(report: &MetricReport, format: Format, lang: Lang, style: &TerminalStyle) -> String {
    let takeaways = metric_takeaways(report, lang);
    match format {
        Format::Json => super::to_json(report),
        Format::Csv => metric_csv(report),
        Format::Markdown => {
            let mut out = format!("# {}\n\n", heading(report, lang));
            out.push_str(&metric_tables(report, format, lang, style));
            out.push_str(&format!("{}\n\n", lang.text("emergence.takeaway.title")));
            for t in takeaways {
                out.push_str(&format!("- {t}\n"));
            }
            out
        }
        Format::Terminal | Format::Html => {
            let mut out = format!("{}\n", style.bold(&heading(report, lang)));
            out.push_str(&metric_tables(report, format, lang, style));
            out.push_str(&format!(
                "\n{}\n",
                style.bold(lang.text("emergence.takeaway.title"))
            ));
            for t in takeaways {
                out.push_str(&format!(
                    "{}\n",
                    textwrap::fill(&t, usize::from(style.width.max(40)))
                ));
            }
            out
        }
    }
}

/// Each model's table (and, on a terminal, its chart), under a heading
/// naming the family: the body a tour step shows.
pub fn metric_tables(
    report: &MetricReport,
    format: Format,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let family = lang.text(&format!("emergence.family.{}", report.family));
    match format {
        Format::Terminal => {
            let mut out = String::new();
            for m in &report.models {
                out.push_str(&format!(
                    "\n{}\n{}",
                    style.bold(&model_heading(m, family, lang)),
                    terminal::table(&headers(lang), &rows(m), style)
                ));
                let width = chart::fit_width(style, 60);
                out.push_str(&chart::text(&metric_chart(m, lang), width, 11));
            }
            out
        }
        _ => report
            .models
            .iter()
            .map(|m| {
                format!(
                    "**{}**\n\n{}\n",
                    model_heading(m, family, lang),
                    markdown::table(&headers(lang), &rows(m))
                )
            })
            .collect(),
    }
}

fn metric_csv(report: &MetricReport) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "model",
        "prompt_style",
        "family",
        "k",
        "problems",
        "exact_match",
        "per_digit_accuracy",
        "predicted_exact_from_digits",
        "multiple_choice_accuracy",
        "answer_probability",
        "answer_probability_whole",
        "token_edit_distance",
    ];
    writer.write_record(header).expect("writing to memory");
    for m in &report.models {
        for p in &m.points {
            writer
                .write_record([
                    m.model.clone(),
                    m.prompt_style.clone(),
                    report.family.clone(),
                    p.k.to_string(),
                    p.problems.to_string(),
                    p.exact_match.to_string(),
                    p.per_digit_accuracy.to_string(),
                    p.predicted_exact_from_digits.to_string(),
                    p.multiple_choice_accuracy.to_string(),
                    p.answer_probability.to_string(),
                    p.answer_probability_whole.to_string(),
                    p.token_edit_distance.to_string(),
                ])
                .expect("writing to memory");
        }
    }
    csv_text::finish(writer)
}

/// The p^k curves with the measured points, as a chart.
pub fn subtasks_chart(report: &SubtasksReport, lang: Lang) -> Chart {
    let mut series: Vec<Series> = report
        .curves
        .iter()
        .enumerate()
        .map(|(i, c)| Series {
            label: lang.fill("emergence.series.curve", &[("k", &c.k)]),
            marker: match c.k {
                k @ 1..=9 => char::from_digit(k as u32, 10).unwrap_or('*'),
                _ => ['x', 'y', 'z', 'w'][i % 4],
            },
            color: chart::PALETTE[i % chart::PALETTE.len()],
            points: report
                .accuracies
                .iter()
                .copied()
                .zip(c.success.iter().copied())
                .collect(),
            joined: true,
        })
        .collect();
    let mut models: Vec<&str> = Vec::new();
    for point in &report.measured {
        if !models.contains(&point.model.as_str()) {
            models.push(&point.model);
        }
    }
    for (i, model) in models.iter().enumerate() {
        series.push(Series {
            label: lang.fill("emergence.series.measured", &[("model", model)]),
            marker: ['●', '○', '■', '□'][i % 4],
            color: [(0, 0, 0), (127, 127, 127)][i % 2],
            points: report
                .measured
                .iter()
                .filter(|p| p.model == *model)
                .map(|p| (p.accuracy, p.exact_match))
                .collect(),
            joined: false,
        });
    }
    Chart {
        title: lang.text("emergence.subtasks.title").to_string(),
        x_label: lang.text("emergence.axis.p").to_string(),
        log_x: false,
        series,
        ticks: report
            .accuracies
            .iter()
            .copied()
            .filter(|p| (p * 10.0).fract().abs() < 1e-9)
            .collect(),
    }
}

/// What the curves show, computed from them.
pub fn subtasks_takeaways(report: &SubtasksReport, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(first), Some(last)) = (report.curves.first(), report.curves.last()) {
        out.push(lang.fill(
            "emergence.takeaway.subtasks",
            &[
                ("k", &last.k),
                ("at80", &percent(last.success_at_80)),
                ("at95", &percent(last.success_at_95)),
                ("k1", &first.k),
                ("one80", &percent(first.success_at_80)),
                ("one95", &percent(first.success_at_95)),
                ("half", &format!("{:.2}", last.half_success_at)),
                ("half1", &format!("{:.2}", first.half_success_at)),
            ],
        ));
    }
    if !report.measured.is_empty() {
        let gap = report
            .measured
            .iter()
            .map(|m| (m.predicted - m.exact_match).abs())
            .sum::<f64>()
            / report.measured.len() as f64;
        out.push(lang.fill(
            "emergence.takeaway.measured",
            &[
                ("points", &report.measured.len()),
                ("gap", &format!("{:.1}", 100.0 * gap)),
            ],
        ));
    }
    out
}

/// `report` in `format`, with its takeaways.
pub fn subtasks(
    report: &SubtasksReport,
    format: Format,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let title = lang.text("emergence.subtasks.title");
    let takeaways = subtasks_takeaways(report, lang);
    match format {
        Format::Json => super::to_json(report),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer
                .write_record(["p", "k", "success"])
                .expect("writing to memory");
            for c in &report.curves {
                for (p, s) in report.accuracies.iter().zip(&c.success) {
                    writer
                        .write_record([p.to_string(), c.k.to_string(), s.to_string()])
                        .expect("writing to memory");
                }
            }
            csv_text::finish(writer)
        }
        Format::Markdown => {
            let mut out = format!(
                "# {title}\n\n{}\n",
                subtasks_body(report, format, lang, style)
            );
            for t in takeaways {
                out.push_str(&format!("- {t}\n"));
            }
            out
        }
        Format::Terminal | Format::Html => {
            let mut out = format!(
                "{}\n{}\n",
                style.bold(title),
                subtasks_body(report, format, lang, style)
            );
            for t in takeaways {
                out.push_str(&format!(
                    "{}\n",
                    textwrap::fill(&t, usize::from(style.width.max(40)))
                ));
            }
            out
        }
    }
}

/// The table of p^k (p in steps of 0.1) and, on a terminal, the chart:
/// the body a tour step shows.
pub fn subtasks_body(
    report: &SubtasksReport,
    format: Format,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let mut headers = vec![lang.text("emergence.axis.p").to_string()];
    headers.extend(report.curves.iter().map(|c| format!("k={}", c.k)));
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = report
        .accuracies
        .iter()
        .enumerate()
        .filter(|(_, p)| (*p * 10.0).fract().abs() < 1e-9 || **p >= 0.949)
        .map(|(i, p)| {
            std::iter::once(format!("{p:.2}"))
                .chain(report.curves.iter().map(|c| percent(c.success[i])))
                .collect()
        })
        .collect();
    match format {
        Format::Terminal => {
            let width = chart::fit_width(style, 60);
            let chart = chart::text(&subtasks_chart(report, lang), width, 13);
            // The chart's title repeats the heading: leave it out.
            format!(
                "{}{}",
                terminal::table(&header_refs, &rows, style),
                chart.split_once('\n').map_or("", |x| x.1)
            )
        }
        _ => markdown::table(&header_refs, &rows),
    }
}

/// The scale sweep's metrics against width (log scale).
pub fn scale_chart(report: &ScaleReport, lang: Lang) -> Chart {
    let line = |key: &str,
                marker,
                color,
                value: fn(&crate::report::emergence::ScalePoint) -> f64| Series {
        label: lang.text(&format!("emergence.series.{key}")).to_string(),
        marker,
        color,
        points: report
            .points
            .iter()
            .map(|p| (p.width as f64, value(p)))
            .collect(),
        joined: true,
    };
    Chart {
        title: lang.text("scale.title").to_string(),
        x_label: lang.text("scale.axis").to_string(),
        log_x: true,
        series: vec![
            line("per_digit", 'd', (31, 119, 180), |p| p.per_digit_accuracy),
            line("probability", 'p', (148, 103, 189), |p| {
                p.answer_probability
            }),
            line("predicted", '^', (255, 127, 14), |p| {
                p.predicted_exact_from_digits
            }),
            line("exact", 'E', (214, 39, 40), |p| p.exact_match),
        ],
        ticks: report.points.iter().map(|p| p.width as f64).collect(),
    }
}

/// What the sweep showed, from its numbers.
pub fn scale_takeaways(report: &ScaleReport, lang: Lang) -> Vec<String> {
    let (Some(first), Some(last)) = (report.points.first(), report.points.last()) else {
        return Vec::new();
    };
    let half = report
        .points
        .iter()
        .find(|p| p.exact_match >= 0.5)
        .map_or_else(
            || lang.text("grok.never").to_string(),
            |p| p.width.to_string(),
        );
    let digits_half = report
        .points
        .iter()
        .find(|p| p.per_digit_accuracy >= 0.5)
        .map_or_else(
            || lang.text("grok.never").to_string(),
            |p| p.width.to_string(),
        );
    vec![lang.fill(
        "scale.takeaway",
        &[
            ("w1", &first.width),
            ("w2", &last.width),
            ("digit1", &percent(first.per_digit_accuracy)),
            ("digit2", &percent(last.per_digit_accuracy)),
            ("exact1", &percent(first.exact_match)),
            ("exact2", &percent(last.exact_match)),
            ("digits_half", &digits_half),
            ("half", &half),
        ],
    )]
}

/// `report` in `format`, with its takeaway.
pub fn scale(report: &ScaleReport, format: Format, lang: Lang, style: &TerminalStyle) -> String {
    let heading = lang.fill(
        "scale.heading",
        &[
            ("steps", &report.steps),
            ("train", &report.train_pairs),
            ("test", &report.test_pairs),
            ("seconds", &format!("{:.1}", report.seconds)),
        ],
    );
    match format {
        Format::Json => super::to_json(report),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer
                .write_record([
                    "width",
                    "parameters",
                    "exact_match",
                    "per_digit_accuracy",
                    "predicted_exact_from_digits",
                    "answer_probability",
                    "answer_probability_whole",
                    "seconds",
                ])
                .expect("writing to memory");
            for p in &report.points {
                writer
                    .write_record([
                        p.width.to_string(),
                        p.parameters.to_string(),
                        p.exact_match.to_string(),
                        p.per_digit_accuracy.to_string(),
                        p.predicted_exact_from_digits.to_string(),
                        p.answer_probability.to_string(),
                        p.answer_probability_whole.to_string(),
                        format!("{:.3}", p.seconds),
                    ])
                    .expect("writing to memory");
            }
            csv_text::finish(writer)
        }
        Format::Markdown => {
            let mut out = format!(
                "# {heading}\n\n{}\n",
                scale_body(report, format, lang, style)
            );
            for t in scale_takeaways(report, lang) {
                out.push_str(&format!("- {t}\n"));
            }
            out
        }
        Format::Terminal | Format::Html => {
            let mut out = format!(
                "{}\n{}",
                style.bold(&heading),
                scale_body(report, format, lang, style)
            );
            for t in scale_takeaways(report, lang) {
                out.push_str(&format!(
                    "{}\n",
                    textwrap::fill(&t, usize::from(style.width.max(40)))
                ));
            }
            out
        }
    }
}

/// The table per width and, on a terminal, the chart: the body a tour step shows.
pub fn scale_body(
    report: &ScaleReport,
    format: Format,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let headers = [
        lang.text("scale.width"),
        lang.text("scale.parameters"),
        lang.text("emergence.header.exact"),
        lang.text("emergence.header.per_digit"),
        lang.text("emergence.header.predicted"),
        lang.text("emergence.header.probability"),
    ];
    let rows: Vec<Vec<String>> = report
        .points
        .iter()
        .map(|p| {
            vec![
                p.width.to_string(),
                p.parameters.to_string(),
                percent(p.exact_match),
                percent(p.per_digit_accuracy),
                percent(p.predicted_exact_from_digits),
                percent(p.answer_probability),
            ]
        })
        .collect();
    match format {
        Format::Terminal => {
            let width = chart::fit_width(style, 60);
            terminal::table(&headers, &rows, style)
                + &chart::text(&scale_chart(report, lang), width, 11)
        }
        _ => markdown::table(&headers, &rows),
    }
}
