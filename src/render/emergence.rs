//! Rendering of `detprob emergence metric` and `subtasks`: the metric
//! tables and chart per model, the p^k curves with measured points, and
//! their takeaways, in every [`Format`]; charts as SVG for `--plot`.

use super::chart::{self, Chart, Level, Series};
use super::style::TerminalStyle;
use super::Format;
use super::{csv as csv_text, markdown, markup, terminal};
use crate::report::emergence::{
    ChanceLevels, MetricPoint, MetricReport, ModelMetrics, SubtasksReport,
};
use crate::stats::Interval;
use crate::takeaway;
use crate::words::numbers::{mean_with, percent, share_with, whole_percent};
use crate::words::Lang;

/// A metric's column header, with the chance level where it has one.
pub(super) fn header(lang: Lang, key: &str, chance: &ChanceLevels) -> String {
    lang.fill(
        &format!("emergence.header.{key}"),
        &[
            ("choice", &whole_percent(chance.multiple_choice)),
            ("digit", &whole_percent(chance.per_digit)),
            ("brier", &format!("{:.2}", chance.choice_brier)),
        ],
    )
}

/// The all-or-nothing metrics (and what independent places predict), one
/// row per length.
fn strict_table(model: &ModelMetrics, chance: &ChanceLevels, lang: Lang) -> Table {
    let headers = ["exact", "predicted", "choice"]
        .iter()
        .map(|h| header(lang, h, chance));
    let rows = model.points.iter().map(|p| {
        vec![
            p.k.to_string(),
            share_with(p.exact_match, &p.exact_match_interval),
            percent(p.predicted_exact_from_digits),
            p.choice().map_or_else(
                || super::cells::not_reported(lang),
                |(v, i)| share_with(v, &i),
            ),
        ]
    });
    Table {
        title: lang.text("emergence.table.strict").to_string(),
        headers: std::iter::once("k".to_string()).chain(headers).collect(),
        rows: rows.collect(),
    }
}

/// The partial-credit metrics, one row per length.
fn partial_table(model: &ModelMetrics, chance: &ChanceLevels, lang: Lang) -> Table {
    let headers = ["per_digit", "probability", "brier", "edit_distance"]
        .iter()
        .map(|h| header(lang, h, chance));
    let rows = model.points.iter().map(|p| {
        vec![
            p.k.to_string(),
            share_with(p.per_digit_accuracy, &p.per_digit_interval),
            p.probability().map_or_else(
                || super::cells::not_reported(lang),
                |(v, i)| share_with(v, &i),
            ),
            p.brier().map_or_else(
                || super::cells::not_reported(lang),
                |(v, i)| mean_with(v, &i),
            ),
            p.edit_distance().map_or_else(
                || super::cells::not_reported(lang),
                |(v, i)| mean_with(v, &i),
            ),
        ]
    });
    Table {
        title: lang.text("emergence.table.partial").to_string(),
        headers: std::iter::once("k".to_string()).chain(headers).collect(),
        rows: rows.collect(),
    }
}

/// A compact screen's one table: exact match and multiple choice beside
/// per-digit accuracy and the answer's probability, with their intervals
/// and chance levels (the handout has every metric).
fn compact_table(model: &ModelMetrics, chance: &ChanceLevels, lang: Lang) -> Vec<Vec<String>> {
    let headers = ["exact", "choice", "per_digit", "probability"]
        .iter()
        .map(|h| header(lang, h, chance));
    let mut rows = vec![std::iter::once("k".to_string()).chain(headers).collect()];
    rows.extend(model.points.iter().map(|p| {
        let or_not = |v: Option<(f64, _)>| {
            v.map_or_else(
                || super::cells::not_reported(lang),
                |(v, i)| share_with(v, &i),
            )
        };
        vec![
            p.k.to_string(),
            share_with(p.exact_match, &p.exact_match_interval),
            or_not(p.choice()),
            share_with(p.per_digit_accuracy, &p.per_digit_interval),
            or_not(p.probability()),
        ]
    }));
    rows
}

/// A compact screen's one table of several tasks asked of one model (a
/// tour step that sets tasks side by side): a row per task and length with
/// exact match, multiple choice and per-place accuracy, with intervals and
/// each task's chance levels in the headers, in the rows' order. `None`
/// unless every report holds the same one model.
pub fn tasks_compact(
    reports: &[MetricReport],
    lang: Lang,
    style: &TerminalStyle,
) -> Option<String> {
    let first = reports.first()?.models.first()?;
    let one_model = reports.len() > 1
        && reports
            .iter()
            .all(|r| r.models.len() == 1 && r.models[0].model == first.model);
    if !one_model {
        return None;
    }
    let heading = model_heading(first, None, lang);
    // One chance level when the tasks share it, else each in the rows' order.
    let chances = |level: fn(&ChanceLevels) -> f64| {
        let mut levels: Vec<String> = reports
            .iter()
            .map(|r| whole_percent(level(&r.chance)))
            .collect();
        levels.dedup();
        levels.join(" / ")
    };
    let headers = [
        lang.text("emergence.header.task_k").to_string(),
        lang.text("emergence.header.exact").to_string(),
        lang.fill(
            "emergence.header.choice",
            &[("choice", &chances(|c| c.multiple_choice))],
        ),
        lang.fill(
            "emergence.header.per_digit",
            &[("digit", &chances(|c| c.per_digit))],
        ),
    ];
    let rows: Vec<Vec<String>> = reports
        .iter()
        .flat_map(|r| {
            let task = lang.text(&format!("emergence.family_short.{}", r.family));
            r.models[0].points.iter().map(move |p| {
                vec![
                    lang.fill("emergence.metric.task_at", &[("task", &task), ("k", &p.k)]),
                    share_with(p.exact_match, &p.exact_match_interval),
                    p.choice().map_or_else(
                        || super::cells::not_reported(lang),
                        |(v, i)| share_with(v, &i),
                    ),
                    share_with(p.per_digit_accuracy, &p.per_digit_interval),
                ]
            })
        })
        .collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    Some(format!(
        "\n{}\n{}",
        style.bold(&heading),
        terminal::table(&headers, &rows, style)
    ))
}

/// A titled table.
struct Table {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn render(&self, format: Format, style: &TerminalStyle) -> String {
        let headers: Vec<&str> = self.headers.iter().map(String::as_str).collect();
        match format {
            Format::Terminal => format!(
                "{}\n{}",
                self.title,
                terminal::table(&headers, &self.rows, style)
            ),
            Format::Html => markup::title(&self.title) + &markup::table(&headers, &self.rows),
            _ => format!(
                "*{}*\n\n{}\n",
                self.title,
                markdown::table(&headers, &self.rows)
            ),
        }
    }
}

/// Catalogue entry `key` filled with what `report` measured: the task
/// (`family`), the problems per length and the seeds. Headings and chart
/// titles of metric and ladder runs say it alike.
pub fn measured(key: &str, report: &MetricReport, lang: Lang) -> String {
    let seeds: Vec<String> = report.seeds.iter().map(u64::to_string).collect();
    lang.fill(
        key,
        &[
            (
                "family",
                &lang.text(&format!("emergence.family.{}", report.family)),
            ),
            ("problems", &report.problems_per_length),
            ("seeds", &seeds.join(", ")),
        ],
    )
}

/// What a chart of `report` measured, for its title.
pub fn chart_about(report: &MetricReport, lang: Lang) -> String {
    measured("emergence.metric.chart_about", report, lang)
}

fn heading(report: &MetricReport, lang: Lang) -> String {
    measured("emergence.metric.heading", report, lang)
}

/// "model, family (how it was asked)"; without a family where the rows
/// name their tasks.
fn model_heading(model: &ModelMetrics, family: Option<&str>, lang: Lang) -> String {
    let style = lang.text(&format!("emergence.style.{}", model.prompt_style));
    let style = match &model.endpoint {
        Some(endpoint) => lang.fill(
            "emergence.style.on_server",
            &[("style", &style), ("endpoint", endpoint)],
        ),
        None => style.to_string(),
    };
    match family {
        Some(family) => lang.fill(
            "emergence.metric.model",
            &[
                ("model", &model.model),
                ("family", &family),
                ("style", &style),
            ],
        ),
        None => lang.fill(
            "emergence.metric.model_only",
            &[("model", &model.model), ("style", &style)],
        ),
    }
}

/// The chance levels drawn on a chart of shares: multiple choice's, then
/// per place's.
pub(super) fn chance_levels(chance: &ChanceLevels, lang: Lang) -> [Level; 2] {
    [
        Level {
            label: lang.fill(
                "emergence.series.chance_choice",
                &[("chance", &whole_percent(chance.multiple_choice))],
            ),
            y: chance.multiple_choice,
            color: (44, 160, 44),
        },
        Level {
            label: lang.fill(
                "emergence.series.chance_digit",
                &[("chance", &whole_percent(chance.per_digit))],
            ),
            y: chance.per_digit,
            color: (31, 119, 180),
        },
    ]
}

/// The chart of one model's metrics against k, with 95 % intervals as
/// error bars and the chance levels dashed.
pub fn metric_chart(report: &MetricReport, model: &ModelMetrics, lang: Lang) -> Chart {
    let chance = &report.chance;
    // A measure's value and interval at a point (`None`: not measured).
    type Pick = fn(&MetricPoint) -> Option<(f64, Option<Interval>)>;
    fn some((value, interval): (f64, Interval)) -> (f64, Option<Interval>) {
        (value, Some(interval))
    }
    let line = |key: &str, marker: char, color, value: Pick| Series {
        label: lang.text(&format!("emergence.series.{key}")).to_string(),
        marker,
        color,
        points: model
            .points
            .iter()
            .filter_map(|p| Some((p.k as f64, value(p)?.0)))
            .collect(),
        joined: true,
        intervals: model
            .points
            .iter()
            .filter_map(|p| value(p)?.1.map(|i| (i.low, i.high)))
            .collect(),
    };
    Chart {
        title: lang.fill(
            "emergence.metric.chart_title",
            &[
                ("model", &model.model),
                ("about", &chart_about(report, lang)),
            ],
        ),
        x_label: lang.text("emergence.axis.k").to_string(),
        log_x: false,
        log_y: false,
        series: vec![
            line("per_digit", 'd', (31, 119, 180), |p| {
                Some(some(p.per_digit()))
            }),
            line("choice", 'c', (44, 160, 44), |p| p.choice().map(some)),
            line("probability", 'p', (148, 103, 189), |p| {
                p.probability().map(some)
            }),
            line("predicted", '^', (255, 127, 14), |p| {
                Some((p.predicted_exact_from_digits, None))
            }),
            line("exact", 'E', (214, 39, 40), |p| Some(some(p.exact()))),
        ]
        .into_iter()
        // A measure not taken (a model on a server) is no line at all.
        .filter(|s| !s.points.is_empty())
        .collect(),
        ticks: Vec::new(),
        // Multiple choice's chance level only beside its line.
        levels: chance_levels(chance, lang)
            .into_iter()
            .skip(usize::from(
                model.points.iter().any(|p| p.choice().is_none()),
            ))
            .collect(),
    }
}

/// `report` in `format`, with its takeaways; `log_y` draws the terminal
/// charts' shares on a log scale.
pub fn metric(
    report: &MetricReport,
    format: Format,
    log_y: bool,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let takeaways = takeaway::emergence::metric(report, lang);
    match format {
        Format::Json => super::to_json(report),
        Format::Csv => metric_csv(report),
        Format::Markdown => {
            let mut out = format!("# {}\n\n", heading(report, lang));
            out.push_str(&metric_tables(report, format, log_y, lang, style));
            out.push_str(&format!("{}\n\n", lang.text("emergence.takeaway.title")));
            for t in takeaways {
                out.push_str(&format!("- {t}\n"));
            }
            out
        }
        Format::Terminal | Format::Html => {
            let mut out = format!("{}\n", style.bold(&heading(report, lang)));
            out.push_str(&metric_tables(report, format, log_y, lang, style));
            out.push_str(&format!(
                "\n{}\n",
                style.bold(lang.text("emergence.takeaway.title"))
            ));
            for t in takeaways {
                out.push_str(&format!("{}\n", super::style::fill_prose(&t, style)));
            }
            out
        }
    }
}

/// Each model's two tables (and, on a terminal, its chart, shares on a log
/// scale with `log_y`), under a heading naming the family: the body a tour
/// step shows.
pub fn metric_tables(
    report: &MetricReport,
    format: Format,
    log_y: bool,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let family = lang.text(&format!("emergence.family.{}", report.family));
    let mut out = String::new();
    for m in &report.models {
        let heading = model_heading(m, Some(family), lang);
        let tables = [
            strict_table(m, &report.chance, lang),
            partial_table(m, &report.chance, lang),
        ];
        match format {
            Format::Terminal if style.compact => {
                let mut rows = compact_table(m, &report.chance, lang);
                let headers = rows.remove(0);
                let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
                out.push_str(&format!("\n{}\n", style.bold(&heading)));
                out.push_str(&terminal::table(&headers, &rows, style));
            }
            Format::Terminal => {
                out.push_str(&format!("\n{}\n", style.bold(&heading)));
                for table in &tables {
                    out.push_str(&table.render(format, style));
                }
                let width = chart::fit_width(style, 60);
                let chart = Chart {
                    log_y,
                    ..metric_chart(report, m, lang)
                };
                out.push_str(&chart::text(&chart, width, 11));
            }
            Format::Html => {
                out.push_str(&markup::title(&heading));
                for table in &tables {
                    out.push_str(&table.render(format, style));
                }
            }
            _ => {
                out.push_str(&format!("**{heading}**\n\n"));
                for table in &tables {
                    out.push_str(&table.render(format, style));
                    out.push('\n');
                }
            }
        }
    }
    out
}

pub(super) fn metric_csv(report: &MetricReport) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let measures = [
        "exact_match",
        "per_digit_accuracy",
        "multiple_choice_accuracy",
        "choice_brier",
        "answer_probability",
        "token_edit_distance",
    ];
    let mut header: Vec<String> = [
        "model",
        "parameters",
        "prompt_style",
        "family",
        "k",
        "problems",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for m in measures {
        header.extend([m.to_string(), format!("{m}_low"), format!("{m}_high")]);
    }
    header.extend(["predicted_exact_from_digits", "answer_probability_whole"].map(String::from));
    writer.write_record(&header).expect("writing to memory");
    for m in &report.models {
        for p in &m.points {
            let mut row = vec![
                m.model.clone(),
                m.parameters.map_or_else(String::new, |p| p.to_string()),
                m.prompt_style.clone(),
                report.family.clone(),
                p.k.to_string(),
                p.problems.to_string(),
            ];
            for measured in [
                Some(p.exact()),
                Some(p.per_digit()),
                p.choice(),
                p.brier(),
                p.probability(),
                p.edit_distance(),
            ] {
                // A measure not taken leaves its three cells empty.
                row.extend(match measured {
                    Some((value, interval)) => {
                        [value, interval.low, interval.high].map(|v| v.to_string())
                    }
                    None => [String::new(), String::new(), String::new()],
                });
            }
            row.push(p.predicted_exact_from_digits.to_string());
            row.push(
                p.scored
                    .as_ref()
                    .map_or_else(String::new, |s| s.answer_probability_whole.to_string()),
            );
            writer.write_record(&row).expect("writing to memory");
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
            intervals: Vec::new(),
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
            intervals: Vec::new(),
        });
    }
    Chart {
        title: lang.text("emergence.subtasks.title").to_string(),
        x_label: lang.text("emergence.axis.p").to_string(),
        log_x: false,
        log_y: false,
        series,
        ticks: report
            .accuracies
            .iter()
            .copied()
            .filter(|p| (p * 10.0).fract().abs() < 1e-9)
            .collect(),
        levels: Vec::new(),
    }
}

/// `report` in `format`, with its takeaways.
pub fn subtasks(
    report: &SubtasksReport,
    format: Format,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let title = lang.text("emergence.subtasks.title");
    let takeaways = takeaway::emergence::subtasks(report, lang);
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
                out.push_str(&format!("{}\n", super::style::fill_prose(&t, style)));
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
            let chart = chart::text(&subtasks_chart(report, lang), width, style.chart_rows(13));
            // The chart's title repeats the heading: leave it out. A compact
            // screen shows the curves alone (p^k is the table's arithmetic).
            let table = if style.compact {
                String::new()
            } else {
                terminal::table(&header_refs, &rows, style)
            };
            format!("{table}{}", chart.split_once('\n').map_or("", |x| x.1))
        }
        Format::Html => markup::table(&header_refs, &rows),
        _ => markdown::table(&header_refs, &rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emergence::findings;
    use crate::emergence::metric::{point_from_results, tests::result};
    use crate::emergence::problems::Family;

    fn one_model(name: &str, family: Family, right: [usize; 2]) -> MetricReport {
        let points = [1, 2]
            .into_iter()
            .zip(right)
            .map(|(k, right)| {
                point_from_results(
                    k,
                    (0..20)
                        .map(|i| result(&i.to_string(), if i < right { k } else { 0 }, k))
                        .collect(),
                )
            })
            .collect();
        let model = ModelMetrics {
            model: name.into(),
            parameters: Some(270),
            architecture: "gemma3".into(),
            tokenizer: "gemma3-vocab".into(),
            endpoint: None,
            prompt_style: "few_shot".into(),
            points,
            seconds: 0.0,
        };
        findings::report(family, &[1], 20, vec![1, 2], vec![model])
    }

    #[test]
    fn tasks_of_one_model_share_one_compact_table_with_each_chance_level() {
        let style = TerminalStyle {
            width: 80,
            ..TerminalStyle::plain()
        };
        let addition = one_model("m", Family::Addition, [12, 1]);
        let reverse = one_model("m", Family::Reverse, [0, 1]);
        let table = tasks_compact(&[addition.clone(), reverse.clone()], Lang::En, &style).unwrap();
        for row in [
            "addition, k = 1",
            "addition, k = 2",
            "reversal, k = 1",
            "reversal, k = 2",
        ] {
            assert_eq!(table.matches(row).count(), 1, "{row}:\n{table}");
        }
        // Exact match of addition at k = 1: 12 of 20.
        assert!(table.contains("60.0% ["), "{table}");
        assert!(
            table.contains("(chance 10% /") && table.contains("4%)"),
            "each task's chance per place, in the rows' order:\n{table}"
        );
        assert!(table
            .lines()
            .all(|l| textwrap::core::display_width(l) <= 80));
        // One task, or two models, keep their own tables.
        assert!(tasks_compact(std::slice::from_ref(&addition), Lang::En, &style).is_none());
        let other = one_model("n", Family::Reverse, [0, 1]);
        assert!(tasks_compact(&[addition, other], Lang::En, &style).is_none());
    }
}
