//! Rendering of `detprob emergence grok`: the training curves as a chart
//! (redrawn live on a terminal), the summary steps and a takeaway computed
//! from them; the fraction sweep as a table and one test curve per fraction.

use super::chart::{self, Chart, Series};
use super::style::TerminalStyle;
use super::Format;
use super::{csv as csv_text, markdown, markup, terminal};
use crate::report::emergence::{GrokPhaseReport, GrokReport, GrokRow, GrokSweepReport};
use crate::takeaway::{
    self,
    grok::{step_text, with_grokfast},
};
use crate::words::numbers::{percent, whole_percent};
use crate::words::Lang;

/// The charts of `rows`: accuracies, the Fourier share and the weight norm
/// (relative to its highest value); then training and test loss, each
/// relative to its highest value, on a log scale (as Nanda et al. draw
/// them: a loss falls over orders of magnitude).
pub fn charts(rows: &[GrokRow], title: &str, log_steps: bool, lang: Lang) -> [Chart; 2] {
    let max = |f: fn(&GrokRow) -> f64| rows.iter().map(f).fold(f64::MIN_POSITIVE, f64::max);
    let (norm_max, loss_max, test_loss_max) = (
        max(|r| r.weight_norm),
        max(|r| r.train_loss),
        max(|r| r.test_loss),
    );
    let x = |r: &GrokRow| {
        if log_steps {
            r.step.max(1) as f64
        } else {
            r.step as f64
        }
    };
    let line = |key: &str, marker, color, value: &dyn Fn(&GrokRow) -> f64| Series {
        label: lang.text(&format!("grok.series.{key}")).to_string(),
        marker,
        color,
        points: rows.iter().map(|r| (x(r), value(r))).collect(),
        joined: true,
        intervals: Vec::new(),
    };
    let chart = |title: String, log_y, series| Chart {
        title,
        x_label: lang.text("grok.axis.step").to_string(),
        log_x: log_steps,
        log_y,
        series,
        ticks: Vec::new(),
        levels: Vec::new(),
    };
    [
        chart(
            title.to_string(),
            false,
            vec![
                line("norm", 'w', (148, 103, 189), &|r| r.weight_norm / norm_max),
                line("fourier", 'F', (44, 160, 44), &|r| r.fourier_share),
                line("train", 'T', (31, 119, 180), &|r| r.train_accuracy),
                line("test", 'V', (214, 39, 40), &|r| r.test_accuracy),
            ],
        ),
        chart(
            lang.text("grok.loss_title").to_string(),
            true,
            vec![
                line("loss", 'l', (127, 127, 127), &|r| r.train_loss / loss_max),
                line("test_loss", 'L', (255, 127, 14), &|r| {
                    r.test_loss / test_loss_max
                }),
            ],
        ),
    ]
}

/// Both charts as text, `heights` rows each.
fn charts_text(charts: &[Chart; 2], width: usize, heights: [usize; 2]) -> String {
    charts
        .iter()
        .zip(heights)
        .map(|(c, h)| chart::text(c, width, h))
        .collect()
}

fn title(report: &GrokReport, lang: Lang) -> String {
    let s = &report.settings;
    lang.fill(
        "grok.title",
        &[
            ("p", &s.modulus),
            ("fraction", &whole_percent(s.train_fraction)),
            ("width", &s.width),
            ("lr", &s.lr),
            ("decay", &s.weight_decay),
            (
                "grokfast",
                &if s.grokfast {
                    lang.text("grok.with_grokfast")
                } else {
                    ""
                },
            ),
        ],
    )
}

fn summary_rows(report: &GrokReport, lang: Lang) -> Vec<Vec<String>> {
    vec![
        vec![
            lang.text("grok.summary.memorized").to_string(),
            step_text(report.memorized_at, lang),
        ],
        vec![
            lang.text("grok.summary.generalized").to_string(),
            step_text(report.generalized_at, lang),
        ],
        vec![
            lang.text("grok.summary.rise").to_string(),
            step_text(report.rise_started_at, lang),
        ],
        vec![
            lang.text("grok.summary.test_loss").to_string(),
            step_text(report.test_loss_turned_at, lang),
        ],
        vec![
            lang.text("grok.summary.precursor").to_string(),
            if report.stopped_early {
                lang.text("grok.summary.not_measured").to_string()
            } else {
                step_text(report.precursor_at, lang)
            },
        ],
    ]
}

/// The live view while training: the chart of the rows so far.
pub fn live(rows: &[GrokRow], log_steps: bool, lang: Lang, style: &TerminalStyle) -> String {
    let width = chart::fit_width(style, 70);
    let step = rows.last().map_or(0, |r| r.step);
    let title = lang.fill("grok.live", &[("step", &step)]);
    charts_text(&charts(rows, &title, log_steps, lang), width, [8, 6])
}

/// The chart (on a terminal) and the table of summary steps: the body a
/// tour step shows.
pub fn body(
    report: &GrokReport,
    format: Format,
    log_steps: bool,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let headers = [
        lang.text("grok.summary.what"),
        lang.text("grok.summary.step"),
    ];
    match format {
        Format::Terminal => {
            let width = chart::fit_width(style, 70);
            charts_text(
                &charts(&report.rows, &title(report, lang), log_steps, lang),
                width,
                [style.chart_rows(11), if style.compact { 5 } else { 8 }],
            ) + &terminal::table(&headers, &summary_rows(report, lang), style)
        }
        Format::Html => {
            markup::title(&title(report, lang))
                + &markup::table(&headers, &summary_rows(report, lang))
        }
        _ => format!(
            "**{}**\n\n{}",
            title(report, lang),
            markdown::table(&headers, &summary_rows(report, lang))
        ),
    }
}

/// `report` in `format`.
pub fn report(
    report: &GrokReport,
    format: Format,
    log_steps: bool,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    match format {
        Format::Json => super::to_json(report),
        Format::Csv => rows_csv(std::slice::from_ref(report)),
        Format::Markdown => {
            let mut out = format!("{}\n", body(report, format, log_steps, lang, style));
            for t in takeaway::grok::training(report, lang) {
                out.push_str(&format!("- {t}\n"));
            }
            out
        }
        Format::Terminal | Format::Html => {
            let mut out = body(report, format, log_steps, lang, style);
            for t in takeaway::grok::training(report, lang) {
                out.push_str(&format!("{}\n", super::style::fill_prose(&t, style)));
            }
            out
        }
    }
}

fn rows_csv(reports: &[GrokReport]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "train_fraction",
            "weight_decay",
            "step",
            "train_accuracy",
            "test_accuracy",
            "train_loss",
            "test_loss",
            "weight_norm",
            "fourier_share",
            "seconds",
        ])
        .expect("writing to memory");
    for report in reports {
        for r in &report.rows {
            writer
                .write_record([
                    report.settings.train_fraction.to_string(),
                    report.settings.weight_decay.to_string(),
                    r.step.to_string(),
                    r.train_accuracy.to_string(),
                    r.test_accuracy.to_string(),
                    r.train_loss.to_string(),
                    r.test_loss.to_string(),
                    r.weight_norm.to_string(),
                    r.fourier_share.to_string(),
                    format!("{:.3}", r.seconds),
                ])
                .expect("writing to memory");
        }
    }
    csv_text::finish(writer)
}

/// One test-accuracy curve per fraction.
pub fn sweep_chart(sweep: &GrokSweepReport, log_steps: bool, lang: Lang) -> Chart {
    let markers = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    Chart {
        title: lang.text("grok.sweep.title").to_string(),
        x_label: lang.text("grok.axis.step").to_string(),
        log_x: log_steps,
        log_y: false,
        series: sweep
            .runs
            .iter()
            .enumerate()
            .map(|(i, run)| Series {
                label: lang.fill(
                    "grok.sweep.series",
                    &[("fraction", &whole_percent(run.settings.train_fraction))],
                ),
                marker: markers[i % markers.len()],
                color: chart::PALETTE[i % chart::PALETTE.len()],
                points: run
                    .rows
                    .iter()
                    .map(|r| {
                        let x = if log_steps { r.step.max(1) } else { r.step };
                        (x as f64, r.test_accuracy)
                    })
                    .collect(),
                joined: true,
                intervals: Vec::new(),
            })
            .collect(),
        ticks: Vec::new(),
        levels: Vec::new(),
    }
}

/// `sweep` in `format`.
pub fn sweep(
    sweep: &GrokSweepReport,
    format: Format,
    log_steps: bool,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let headers = [
        lang.text("grok.sweep.fraction"),
        lang.text("grok.summary.memorized"),
        lang.text("grok.summary.generalized"),
        lang.text("grok.sweep.final_test"),
    ];
    let rows: Vec<Vec<String>> = sweep
        .runs
        .iter()
        .map(|r| {
            vec![
                whole_percent(r.settings.train_fraction),
                step_text(r.memorized_at, lang),
                step_text(r.generalized_at, lang),
                percent(r.rows.last().map_or(0.0, |x| x.test_accuracy)),
            ]
        })
        .collect();
    match format {
        Format::Json => super::to_json(sweep),
        Format::Csv => rows_csv(&sweep.runs),
        Format::Markdown => {
            let mut out = format!(
                "# {}\n\n{}\n",
                lang.text("grok.sweep.title"),
                markdown::table(&headers, &rows)
            );
            for t in takeaway::grok::sweep(sweep, lang) {
                out.push_str(&format!("- {t}\n"));
            }
            out
        }
        Format::Terminal | Format::Html => {
            let width = chart::fit_width(style, 70);
            let mut out = chart::text(&sweep_chart(sweep, log_steps, lang), width, 13);
            out.push_str(&terminal::table(&headers, &rows, style));
            for t in takeaway::grok::sweep(sweep, lang) {
                out.push_str(&format!("{}\n", super::style::fill_prose(&t, style)));
            }
            out
        }
    }
}

/// A cell's shade by how soon it generalized within the budget: sooner is
/// darker; never is a dot.
fn shade(step: Option<usize>, budget: usize) -> char {
    match step {
        None => '·',
        Some(s) if s * 4 < budget => '█',
        Some(s) if s * 2 < budget => '▓',
        Some(s) if s * 4 < budget * 3 => '▒',
        Some(_) => '░',
    }
}

fn phase_grid(
    report: &GrokPhaseReport,
    grokfast: bool,
    lang: Lang,
) -> (Vec<String>, Vec<Vec<String>>) {
    let headers = std::iter::once(lang.text("grok.phase.fraction").to_string())
        .chain(
            report
                .weight_decays
                .iter()
                .map(|wd| lang.fill("grok.phase.decay", &[("wd", wd)])),
        )
        .collect();
    let budget = report.settings.steps;
    let rows = report
        .train_fractions
        .iter()
        .map(|&f| {
            std::iter::once(whole_percent(f))
                .chain(report.weight_decays.iter().map(|&wd| {
                    let training = report.in_training.as_ref().filter(|t| {
                        (t.grokfast, t.weight_decay, t.train_fraction) == (grokfast, wd, f)
                    });
                    match (report.cell(grokfast, wd, f), training) {
                        // Training now: how far it has got.
                        (None, Some(t)) => lang.fill(
                            "grok.phase.in_training",
                            &[("step", &t.step), ("test", &whole_percent(t.test_accuracy))],
                        ),
                        // Not trained yet (a diagram still filling in).
                        (None, None) => lang.text("grok.phase.pending").to_string(),
                        (Some(cell), _) => {
                            let step = cell.generalized_at;
                            format!("{} {}", shade(step, budget), step_text(step, lang))
                        }
                    }
                }))
                .collect()
        })
        .collect();
    (headers, rows)
}

/// The phase diagram as an SVG heatmap (one panel per Grokfast setting):
/// darker cells generalized sooner, grey cells never did.
pub fn phase_svg(report: &GrokPhaseReport, lang: Lang) -> Result<String, String> {
    use plotters::prelude::*;
    let panels = report.grokfast.len().max(1);
    let mut out = String::new();
    {
        let root =
            SVGBackend::with_string(&mut out, (480 * panels as u32, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let areas = root.split_evenly((1, panels));
        for (&grokfast, area) in report.grokfast.iter().zip(areas) {
            let (cols, rows) = (report.weight_decays.len(), report.train_fractions.len());
            let title = lang.fill(
                "grok.phase.svg_title",
                &[("grokfast", &with_grokfast(grokfast, lang))],
            );
            let mut chart = ChartBuilder::on(&area)
                .caption(title, ("sans-serif", 16))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..cols as f64, 0f64..rows as f64)
                .map_err(|e| e.to_string())?;
            let decays = report.weight_decays.clone();
            let fractions = report.train_fractions.clone();
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(lang.text("grok.phase.decay_axis"))
                .y_desc(lang.text("grok.phase.fraction"))
                .x_labels(cols)
                .y_labels(rows)
                .x_label_formatter(&|x| {
                    decays
                        .get(x.floor() as usize)
                        .map_or(String::new(), |wd| wd.to_string())
                })
                .y_label_formatter(&|y| {
                    fractions
                        .get(y.floor() as usize)
                        .map_or(String::new(), |&f| whole_percent(f))
                })
                .draw()
                .map_err(|e| e.to_string())?;
            let budget = report.settings.steps.max(1) as f64;
            for (r, &f) in report.train_fractions.iter().enumerate() {
                for (c, &wd) in report.weight_decays.iter().enumerate() {
                    let step = report.generalized_at(grokfast, wd, f);
                    let color = match step {
                        None => RGBColor(220, 220, 220),
                        Some(s) => {
                            let t = 1.0 - (s as f64 / budget).clamp(0.0, 1.0);
                            let v = (230.0 - 190.0 * t) as u8;
                            RGBColor(v, v, 255)
                        }
                    };
                    let (x, y) = (c as f64, r as f64);
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x + 0.02, y + 0.02), (x + 0.98, y + 0.98)],
                            color.filled(),
                        )))
                        .map_err(|e| e.to_string())?;
                    chart
                        .draw_series(std::iter::once(Text::new(
                            step_text(step, lang),
                            (x + 0.35, y + 0.55),
                            ("sans-serif", 14),
                        )))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The phase diagram's grids and legend: the body a tour step shows.
pub fn phase_body(
    report: &GrokPhaseReport,
    format: Format,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let mut out = String::new();
    for &grokfast in &report.grokfast {
        let (headers, rows) = phase_grid(report, grokfast, lang);
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let title = lang.fill(
            "grok.phase.grid",
            &[("grokfast", &with_grokfast(grokfast, lang))],
        );
        if format == Format::Terminal {
            out.push_str(&format!(
                "{title}\n{}",
                terminal::table(&headers, &rows, style)
            ));
        } else if format == Format::Html {
            out.push_str(&(markup::title(&title) + &markup::table(&headers, &rows)));
        } else {
            out.push_str(&format!(
                "*{title}*\n\n{}\n",
                markdown::table(&headers, &rows)
            ));
        }
    }
    let mut legend = lang.text("grok.phase.legend").to_string();
    if report.in_training.is_some() {
        legend.push_str(lang.text("grok.phase.legend_in_training"));
    }
    out.push_str(&if format == Format::Html {
        markup::title(&legend)
    } else {
        format!("{legend}\n")
    });
    out
}

/// `report` (the phase diagram) in `format`.
pub fn phase(
    report: &GrokPhaseReport,
    format: Format,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let s = &report.settings;
    let heading = lang.fill(
        "grok.phase.heading",
        &[
            ("p", &s.modulus),
            ("width", &s.width),
            ("lr", &s.lr),
            ("steps", &s.steps),
            ("seconds", &format!("{:.0}", report.seconds)),
        ],
    );
    match format {
        Format::Json => super::to_json(report),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer
                .write_record([
                    "train_fraction",
                    "weight_decay",
                    "grokfast",
                    "memorized_at",
                    "generalized_at",
                ])
                .expect("writing to memory");
            let step = |s: Option<usize>| s.map_or(String::new(), |s| s.to_string());
            for c in &report.cells {
                writer
                    .write_record([
                        c.train_fraction.to_string(),
                        c.weight_decay.to_string(),
                        c.grokfast.to_string(),
                        step(c.memorized_at),
                        step(c.generalized_at),
                    ])
                    .expect("writing to memory");
            }
            csv_text::finish(writer)
        }
        _ => {
            let markdown_out = format == Format::Markdown;
            let mut out = if markdown_out {
                format!("# {heading}\n\n")
            } else {
                format!("{}\n", style.bold(&heading))
            };
            out.push_str(&phase_body(report, format, lang, style));
            for t in takeaway::grok::phase(report, lang) {
                if markdown_out {
                    out.push_str(&format!("- {t}\n"));
                } else {
                    out.push_str(&format!("{}\n", super::style::fill_prose(&t, style)));
                }
            }
            out
        }
    }
}
