//! Rendering of `detprob emergence scale`: tiny networks of growing width
//! trained in class — the table of measures against width, the chart on a
//! log axis, and the takeaways, in every format.

use super::chart::{self, Chart, Series};
use super::style::TerminalStyle;
use super::Format;
use super::{csv as csv_text, markdown, markup, terminal};
use crate::report::emergence::ScaleReport;
use crate::takeaway;
use crate::words::numbers::percent;
use crate::words::Lang;

/// The scale sweep's metrics against width (log scale).
pub fn chart(report: &ScaleReport, lang: Lang) -> Chart {
    let line =
        |key: &str,
         marker,
         color,
         value: fn(&crate::report::emergence::ScalePoint) -> (f64, Option<[f64; 2]>)| {
            Series {
                label: lang.text(&format!("emergence.series.{key}")).to_string(),
                marker,
                color,
                points: report
                    .points
                    .iter()
                    .map(|p| (p.width as f64, value(p).0))
                    .collect(),
                joined: true,
                intervals: if report.runs.len() > 1 {
                    report
                        .points
                        .iter()
                        .filter_map(|p| value(p).1.map(|[low, high]| (low, high)))
                        .collect()
                } else {
                    Vec::new()
                },
            }
        };
    Chart {
        title: lang.text("scale.title").to_string(),
        x_label: lang.text("scale.axis").to_string(),
        log_x: true,
        log_y: false,
        series: vec![
            line("per_digit", 'd', (31, 119, 180), |p| {
                (p.per_digit_accuracy, Some(p.per_digit_range))
            }),
            line("probability", 'p', (148, 103, 189), |p| {
                (p.answer_probability, None)
            }),
            line("predicted", '^', (255, 127, 14), |p| {
                (p.predicted_exact_from_digits, None)
            }),
            line("exact", 'E', (214, 39, 40), |p| {
                (p.exact_match, Some(p.exact_match_range))
            }),
        ],
        ticks: report.points.iter().map(|p| p.width as f64).collect(),
        levels: Vec::new(),
    }
}

/// `report` in `format`, with its takeaway.
pub fn report(report: &ScaleReport, format: Format, lang: Lang, style: &TerminalStyle) -> String {
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
            let mut out = format!("# {heading}\n\n{}\n", body(report, format, lang, style));
            for t in takeaway::emergence::scale(report, lang) {
                out.push_str(&format!("- {t}\n"));
            }
            out
        }
        Format::Terminal | Format::Html => {
            let mut out = format!(
                "{}\n{}",
                style.bold(&heading),
                body(report, format, lang, style)
            );
            for t in takeaway::emergence::scale(report, lang) {
                out.push_str(&format!("{}\n", super::style::fill_prose(&t, style)));
            }
            out
        }
    }
}

/// The table per width and, on a terminal, the chart: the body a tour step shows.
pub fn body(report: &ScaleReport, format: Format, lang: Lang, style: &TerminalStyle) -> String {
    let headers = [
        lang.text("scale.width"),
        lang.text("scale.parameters"),
        lang.text("emergence.header.exact"),
        lang.text("scale.per_digit"),
        lang.text("emergence.header.predicted"),
        lang.text("emergence.header.probability"),
    ];
    // With several seeds, each mean shows the least and most of the runs.
    let with_range = |value: f64, [low, high]: [f64; 2]| {
        if report.runs.len() > 1 {
            format!(
                "{} ({:.0}–{:.0})",
                percent(value),
                100.0 * low,
                100.0 * high
            )
        } else {
            percent(value)
        }
    };
    let rows: Vec<Vec<String>> = report
        .points
        .iter()
        .map(|p| {
            vec![
                p.width.to_string(),
                p.parameters.to_string(),
                with_range(p.exact_match, p.exact_match_range),
                with_range(p.per_digit_accuracy, p.per_digit_range),
                percent(p.predicted_exact_from_digits),
                percent(p.answer_probability),
            ]
        })
        .collect();
    match format {
        // A compact screen has the numbers in the table only, and sizes by
        // width alone (the parameter count grows with it).
        Format::Terminal if style.compact => terminal::table_without(&headers, &rows, 1, style),
        Format::Terminal => {
            let width = chart::fit_width(style, 60);
            terminal::table(&headers, &rows, style) + &chart::text(&chart(report, lang), width, 11)
        }
        Format::Html => markup::table(&headers, &rows),
        _ => markdown::table(&headers, &rows),
    }
}
