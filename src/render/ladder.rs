//! Rendering of `detprob emergence ladder`: the models in order of size,
//! one table per metric (models down, lengths across, 95 % intervals), the
//! metrics against parameter count on a log axis (terminal text and SVG),
//! the prompts when asked, and takeaways worded from the report's steps.

use super::chart::{self, Chart, Level, Series, PALETTE};
use super::emergence::{chance_levels, header, metric_csv};
use super::style::TerminalStyle;
use super::Format;
use super::{markdown, markup, terminal};
use crate::report::emergence::{LadderReport, MetricPoint, ModelMetrics};
use crate::stats::Interval;
use crate::takeaway;
use crate::words::numbers::{mean_with, parameter_count, share_with};
use crate::words::Lang;

/// A metric of the ladder: its catalogue key, how to read it from a point,
/// and whether it is a share (else a mean).
struct Measure {
    key: &'static str,
    /// The measure at a point (`None`: not measured there).
    value: fn(&MetricPoint) -> Option<(f64, Interval)>,
    share: bool,
}

const MEASURES: [Measure; 6] = [
    Measure {
        key: "exact",
        value: |p| Some(p.exact()),
        share: true,
    },
    Measure {
        key: "choice",
        value: MetricPoint::choice,
        share: true,
    },
    Measure {
        key: "per_digit",
        value: |p| Some(p.per_digit()),
        share: true,
    },
    Measure {
        key: "probability",
        value: MetricPoint::probability,
        share: true,
    },
    Measure {
        key: "brier",
        value: MetricPoint::brier,
        share: false,
    },
    Measure {
        key: "edit_distance",
        value: MetricPoint::edit_distance,
        share: false,
    },
];

fn measure_name(measure: &Measure, report: &LadderReport, lang: Lang) -> String {
    header(lang, measure.key, &report.metric.chance)
}

fn heading(report: &LadderReport, lang: Lang) -> String {
    super::emergence::measured("ladder.heading", &report.metric, lang)
}

fn models_table(report: &LadderReport, lang: Lang) -> (Vec<String>, Vec<Vec<String>>) {
    let headers = ["model", "parameters", "architecture", "style"]
        .iter()
        .map(|h| lang.text(&format!("ladder.header.{h}")).to_string())
        .collect();
    let rows = report
        .metric
        .models
        .iter()
        .map(|m| {
            vec![
                m.model.clone(),
                parameter_count(m.parameters.unwrap_or_default()),
                m.architecture.clone(),
                lang.text(&format!("ladder.style.{}", m.prompt_style))
                    .to_string(),
            ]
        })
        .collect();
    (headers, rows)
}

fn measure_table(report: &LadderReport, measure: &Measure) -> (Vec<String>, Vec<Vec<String>>) {
    let lengths = &report.metric.lengths;
    let headers = std::iter::once(String::new())
        .chain(lengths.iter().map(|k| format!("k = {k}")))
        .collect();
    let rows = report
        .metric
        .models
        .iter()
        .map(|m| {
            let cells = lengths.iter().map(|&k| {
                // A length not measured yet (a ladder still filling in) is
                // "…"; a measure the model's run did not report, blank.
                let Some(point) = m.points.iter().find(|p| p.k == k) else {
                    return "…".to_string();
                };
                (measure.value)(point)
                    .map(|(value, interval)| {
                        if measure.share {
                            share_with(value, &interval)
                        } else {
                            mean_with(value, &interval)
                        }
                    })
                    .unwrap_or_default()
            });
            std::iter::once(format!(
                "{} ({})",
                m.model,
                parameter_count(m.parameters.unwrap_or_default())
            ))
            .chain(cells)
            .collect()
        })
        .collect();
    (headers, rows)
}

/// One chart per share metric: the metric against parameter count (log
/// axis), one line per length, with error bars and chance levels. The means
/// that are not shares (Brier score, token edits) are in the tables only.
pub fn charts(report: &LadderReport, lang: Lang) -> Vec<Chart> {
    let models: &[ModelMetrics] = &report.metric.models;
    let chance = &report.metric.chance;
    let millions = |m: &ModelMetrics| {
        (m.parameters.unwrap_or_default() as f64 / 1e6)
            .round()
            .max(1.0)
    };
    MEASURES
        .iter()
        .filter(|m| m.share)
        .map(|measure| {
            let series = report
                .metric
                .lengths
                .iter()
                .enumerate()
                .map(|(i, &k)| {
                    let points: Vec<(f64, (f64, Interval))> = models
                        .iter()
                        .filter_map(|m| {
                            let p = m.points.iter().find(|p| p.k == k)?;
                            Some((millions(m), (measure.value)(p)?))
                        })
                        .collect();
                    Series {
                        label: lang.fill("emergence.series.curve", &[("k", &k)]),
                        marker: char::from_digit((k % 10) as u32, 10).unwrap_or('*'),
                        color: PALETTE[i % PALETTE.len()],
                        points: points.iter().map(|(x, (y, _))| (*x, *y)).collect(),
                        joined: true,
                        intervals: points.iter().map(|(_, (_, i))| (i.low, i.high)).collect(),
                    }
                })
                .collect();
            // The chance line of the metric that has one, grey beside the
            // lengths' coloured lines.
            let [choice, digit] = chance_levels(chance, lang);
            let grey = |level: Level| Level {
                color: (120, 120, 120),
                ..level
            };
            let levels = match measure.key {
                "choice" => vec![grey(choice)],
                "per_digit" => vec![grey(digit)],
                _ => Vec::new(),
            };
            Chart {
                title: lang.fill(
                    "ladder.chart_title",
                    &[
                        ("metric", &measure_name(measure, report, lang)),
                        (
                            "about",
                            &super::emergence::chart_about(&report.metric, lang),
                        ),
                    ],
                ),
                x_label: lang.text("ladder.axis").to_string(),
                log_x: true,
                log_y: false,
                series,
                ticks: models.iter().map(millions).collect(),
                levels,
            }
        })
        .collect()
}

/// Every measure's key, in the order the tables show them.
pub fn every_measure() -> Vec<&'static str> {
    MEASURES.iter().map(|m| m.key).collect()
}

/// The ladder's tables (models, then each metric in `measures`, by key)
/// and, on a terminal, the charts of the first two of them that are shares:
/// the body a tour step shows.
pub fn body(
    report: &LadderReport,
    format: Format,
    log_y: bool,
    lang: Lang,
    style: &TerminalStyle,
    measures: &[&str],
) -> String {
    let table = |title: &str, headers: &[String], rows: &[Vec<String>]| {
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        match format {
            Format::Terminal => format!(
                "{}\n{}",
                style.bold(title),
                terminal::table(&headers, rows, style)
            ),
            Format::Html => markup::title(title) + &markup::table(&headers, rows),
            _ => format!("*{title}*\n\n{}\n", markdown::table(&headers, rows)),
        }
    };
    // A compact screen names each model's size in the measure tables' rows.
    let mut out = String::new();
    if !(format == Format::Terminal && style.compact) {
        let (headers, rows) = models_table(report, lang);
        out = table(lang.text("ladder.models_title"), &headers, &rows);
    }
    for measure in MEASURES.iter().filter(|m| measures.contains(&m.key)) {
        let (headers, rows) = measure_table(report, measure);
        out.push_str(&table(
            &measure_name(measure, report, lang),
            &headers,
            &rows,
        ));
    }
    if format == Format::Terminal {
        let width = chart::fit_width(style, 60);
        let charted = MEASURES.iter().filter(|m| m.share);
        let shown = charted
            .zip(charts(report, lang))
            .filter(|(m, _)| measures.contains(&m.key))
            .map(|(_, chart)| chart)
            .take(if style.compact { 1 } else { 2 });
        for chart in shown {
            out.push_str(&chart::text(
                &Chart { log_y, ..chart },
                width,
                style.chart_rows(11),
            ));
        }
    }
    for shown in &report.prompts {
        let style_words = lang.text(&format!("ladder.style.{}", shown.style));
        out.push_str(&match format {
            Format::Terminal => format!(
                "\n{} ({style_words})\n{}\n",
                style.bold(&shown.model),
                shown.prompt
            ),
            Format::Html => format!(
                "{}<pre>{}</pre>\n",
                markup::title(&format!("{} ({style_words})", shown.model)),
                markup::escape(&shown.prompt)
            ),
            _ => format!(
                "*{}* ({style_words})\n\n```\n{}\n```\n\n",
                shown.model, shown.prompt
            ),
        });
    }
    out
}

/// `report` in `format`; `log_y` draws the terminal charts' shares on a log
/// scale.
pub fn ladder(
    report: &LadderReport,
    format: Format,
    log_y: bool,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    match format {
        Format::Json => super::to_json(report),
        Format::Csv => metric_csv(&report.metric),
        Format::Markdown => {
            let mut out = format!("# {}\n\n", heading(report, lang));
            out.push_str(&body(report, format, log_y, lang, style, &every_measure()));
            out.push_str(&format!("{}\n\n", lang.text("emergence.takeaway.title")));
            for t in takeaway::emergence::ladder(report, lang) {
                out.push_str(&format!("- {t}\n"));
            }
            out
        }
        Format::Terminal | Format::Html => {
            let mut out = format!("{}\n", style.bold(&heading(report, lang)));
            out.push_str(&body(
                report,
                Format::Terminal,
                log_y,
                lang,
                style,
                &every_measure(),
            ));
            out.push_str(&format!(
                "\n{}\n",
                style.bold(lang.text("emergence.takeaway.title"))
            ));
            for t in takeaway::emergence::ladder(report, lang) {
                out.push_str(&format!("{}\n", super::style::fill_prose(&t, style)));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_counts_read_as_people_say_them() {
        assert_eq!(parameter_count(134_515_008), "135M");
        assert_eq!(parameter_count(1_543_714_304), "1.54B");
        assert_eq!(parameter_count(900), "900");
    }
}
