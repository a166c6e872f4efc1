//! Terminal rendering of part 1's reports: a comparison's side-by-side panel
//! (rule left, model right) with the verdicts under it, the summary table,
//! the next-token distributions of `probs` and the steps of `trace`, and the
//! plain table every terminal renderer uses. Fitted to the given width;
//! coloured only when the style allows.

use super::cells::{
    answer_text, rule_outcome_beside_input, rule_outcome_text, step_text, truth_label,
};
use super::style::mark;
use std::fmt::Write;

use comfy_table::{
    presets::UTF8_FULL_CONDENSED, ContentArrangement, ContentLineStyle, LineStyle, Table,
    TableStyle,
};

use super::style::TerminalStyle;
use crate::comparison::{shorten, temperature_label};
use crate::report::compare::{
    AnswerCount, CompareReport, RuleSide, SummaryReport, TemperatureSummary,
};
use crate::rules::RuleOutcome;
use crate::words::Lang;

/// [`UTF8_FULL_CONDENSED`] without the outer frame: the header's rule and
/// the column lines only, two lines shorter, for a compact screen.
const UTF8_OPEN_CONDENSED: TableStyle = TableStyle::new()
    .header_lines(ContentLineStyle::none().junction('┆'))
    .header_separator(LineStyle::none().fill('═').junction('╪'))
    .content_lines(ContentLineStyle::none().junction('┆'));

/// An empty table in detprob's style, fitted to the width, plain unless the
/// style allows colour; open at the sides on a compact screen.
fn new_table(style: &TerminalStyle) -> Table {
    let mut table = Table::new();
    table
        .load_style(if style.compact {
            UTF8_OPEN_CONDENSED
        } else {
            UTF8_FULL_CONDENSED
        })
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width);
    if !style.color {
        table.force_no_tty();
    }
    table
}

/// A plain table of `headers` and `rows` in detprob's style.
pub fn table(headers: &[&str], rows: &[Vec<String>], style: &TerminalStyle) -> String {
    let mut table = new_table(style);
    table.set_header(headers.to_vec());
    for row in rows {
        table.add_row(row.clone());
    }
    format!("{table}\n")
}

/// [`table`] without column `left_out` (of the headers and of every row).
pub fn table_without(
    headers: &[&str],
    rows: &[Vec<String>],
    left_out: usize,
    style: &TerminalStyle,
) -> String {
    let keep = |i: &usize| *i != left_out;
    let headers: Vec<&str> = (0..headers.len())
        .filter(keep)
        .map(|i| headers[i])
        .collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            (0..row.len())
                .filter(keep)
                .map(|i| row[i].clone())
                .collect()
        })
        .collect();
    table(&headers, &rows, style)
}

/// `text` wrapped to the style's width, its first line after `first` and
/// the others after `rest`.
fn hanging(text: &str, style: &TerminalStyle, first: &str, rest: &str) -> String {
    let options = super::style::wrap_options(style.width as usize)
        .initial_indent(first)
        .subsequent_indent(rest);
    textwrap::fill(text, options)
}

/// `text` coloured by whether it was right.
fn paint(correct: Option<bool>, text: &str, style: &TerminalStyle) -> String {
    match correct {
        Some(true) => style.good(text),
        Some(false) => style.bad(text),
        None => text.to_string(),
    }
}

/// `text` about the rule's outcome, coloured: an explicit error as wrong.
fn paint_rule(rule: &RuleSide, text: &str, style: &TerminalStyle) -> String {
    match rule.outcome {
        RuleOutcome::Error { .. } => style.bad(text),
        RuleOutcome::Answer { .. } => paint(rule.correct, text, style),
    }
}

/// Whether a compare panel carries its verdict paragraphs (a demo step folds
/// them into its one computed takeaway).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdicts {
    Shown,
    Folded,
}

/// The side-by-side panel (and verdicts) for one comparison.
pub fn compare_panel(
    report: &CompareReport,
    lang: Lang,
    verdicts: Verdicts,
    style: &TerminalStyle,
) -> String {
    let mut out = String::new();
    let truth = truth_label(report, lang);
    let _ = writeln!(
        out,
        "{} {}   {}",
        style.bold(lang.text("panel.input")),
        report.input,
        truth
    );

    let mut left = String::new();
    let rule = &report.rule;
    let _ = writeln!(left, "{}", rule.summary.text(lang));
    let outcome = match &rule.outcome {
        RuleOutcome::Error { .. } => {
            lang.fill("panel.error", &[("error", &rule_outcome_text(rule, lang))])
        }
        RuleOutcome::Answer { .. } => rule_outcome_text(rule, lang),
    };
    let _ = writeln!(left, "\n{}\n", paint_rule(rule, &outcome, style));
    let _ = writeln!(left, "{}", style.bold(lang.text("panel.trace")));
    for (i, step) in rule.trace.iter().enumerate() {
        let _ = writeln!(left, "{}. {}", i + 1, step_text(step, lang));
    }
    let _ = write!(
        left,
        "\n{}",
        lang.fill(
            "panel.same_output",
            &[
                ("same", &(rule.runs - rule.distinct_outputs + 1)),
                ("runs", &rule.runs)
            ]
        )
    );

    let mut right = String::new();
    let model = &report.model;
    let _ = writeln!(
        right,
        "{}",
        match (&model.endpoint, model.prompt_tokens) {
            (Some(endpoint), _) => lang.fill(
                "panel.samples_remote",
                &[("samples", &model.samples.len()), ("endpoint", endpoint)]
            ),
            (None, tokens) => lang.fill(
                "panel.samples",
                &[
                    ("samples", &model.samples.len()),
                    ("tokens", &tokens.unwrap_or_default())
                ]
            ),
        }
    );
    for t in &model.temperatures {
        let score = t
            .correct
            .map(|c| lang.fill("panel.right", &[("right", &c)]))
            .unwrap_or_default();
        let _ = writeln!(
            right,
            "\n{}{score}",
            lang.fill(
                "panel.temperature",
                &[
                    ("t", &style.bold(&temperature_label(t.temperature))),
                    ("distinct", &t.distinct_texts),
                    ("samples", &t.samples)
                ]
            ),
        );
        for a in &t.answers {
            let line = paint(a.correct, &answer_text(a, usize::MAX, lang), style);
            let _ = writeln!(
                right,
                "{line}  {}",
                lang.fill(
                    "panel.answer_probability",
                    &[("p", &super::cells::probability(a.probability, 3, lang))]
                )
            );
            // A quote that would only repeat the answer (an open question's
            // one-line reply) is left out.
            if a.answer.as_deref() != Some(a.example.trim()) {
                let _ = writeln!(right, "↳ \"{}\"", shorten(&a.example, 48));
            }
        }
    }

    let mut table = new_table(style);
    table
        .set_header(vec![
            style.bold(&lang.fill("panel.rule", &[("name", &rule.name)])),
            style.bold(&lang.fill("panel.model", &[("name", &model.model)])),
        ])
        .add_row(vec![left, right.trim_end().to_string()]);
    let _ = writeln!(out, "{table}");
    if verdicts == Verdicts::Folded {
        return out;
    }
    for (name, verdict) in [
        ("verdict.reproducibility", &report.verdicts.reproducibility),
        ("verdict.generalization", &report.verdicts.generalization),
        ("verdict.error_type", &report.verdicts.error_type),
    ] {
        let wrap = |text: &str, indent: &str| hanging(text, style, indent, "  ");
        let heading = format!("{}{}", lang.text(name), lang.text("colon"));
        let body = wrap(&format!("{heading}{}", verdict.text.text(lang)), "");
        let body = body.replacen(&heading, &style.bold(&heading), 1);
        let _ = writeln!(out, "{body}");
        let _ = writeln!(
            out,
            "{}",
            style.dim(&wrap(
                &lang.fill("verdict.table_row", &[("row", &verdict.row.text(lang))]),
                "  "
            ))
        );
    }
    out
}

/// One comparison in a few lines, for a projector: the rule's outcome, then
/// the model's answers with their counts at each temperature.
pub fn compare_brief(report: &CompareReport, lang: Lang, style: &TerminalStyle) -> String {
    let truth = truth_label(report, lang);
    let rule = &report.rule;
    let outcome = paint_rule(rule, &rule_outcome_text(rule, lang), style);
    let mut table = new_table(style);
    table.add_row(vec![
        format!("{} {}", lang.text("side.rule"), rule.name),
        lang.fill(
            "panel.outcome_brief",
            &[
                ("outcome", &outcome),
                ("same", &(rule.runs - rule.distinct_outputs + 1)),
                ("runs", &rule.runs),
            ],
        ),
    ]);
    for t in &report.model.temperatures {
        let answers: Vec<String> = t
            .answers
            .iter()
            .map(|a| paint(a.correct, &answer_text(a, 32, lang), style))
            .collect();
        table.add_row(vec![
            format!(
                "{} {} {}",
                lang.text("side.model"),
                report.model.model,
                temperature_label(t.temperature)
            ),
            answers.join("   "),
        ]);
    }
    format!(
        "{}\n{table}\n",
        style.bold(&lang.fill(
            "panel.input_line",
            &[("input", &report.input), ("truth", &truth)]
        ))
    )
}

/// A step's comparisons as one table, for a projector: a row per input
/// (its right answer under it), the rule's outcome, and the model's answers
/// with their counts at each temperature; a caption names the model and the
/// run counts. `None` when the inputs were sampled at different temperatures
/// (the panels are shown one by one then).
pub fn compare_rows(
    reports: &[CompareReport],
    lang: Lang,
    style: &TerminalStyle,
) -> Option<String> {
    let first = reports.first()?;
    let temperatures: Vec<_> = first
        .model
        .temperatures
        .iter()
        .map(|t| t.temperature)
        .collect();
    let same_grid = reports.iter().all(|r| {
        r.model.temperatures.len() == temperatures.len()
            && r.model
                .temperatures
                .iter()
                .zip(&temperatures)
                .all(|(t, want)| {
                    t.temperature == *want && t.samples == first.model.temperatures[0].samples
                })
            && r.rule.runs == first.rule.runs
    });
    if !same_grid || temperatures.is_empty() {
        return None;
    }
    let mut table = new_table(style);
    let mut header = vec![
        style.bold(lang.text("tour.rows.input")),
        style.bold(lang.text("tour.rows.rule")),
    ];
    header.extend(
        temperatures
            .iter()
            .map(|&t| style.bold(&temperature_label(t))),
    );
    table.set_header(header);
    for r in reports {
        let truth = r
            .truth
            .as_ref()
            .map_or("?".into(), |t| crate::tasks::answer_in(&t.answer, lang));
        // The truth follows the input on its line (held to its arrow), as
        // the header reads.
        let mut input = format!(
            "{} {}",
            r.input,
            lang.fill("tour.rows.truth", &[("truth", &truth)])
        );
        if r.model.model != first.model.model {
            input.push_str(&lang.fill("tour.rows.asked", &[("model", &r.model.model)]));
        }
        let rule = &r.rule;
        // An error quoting a long input is cut: the input is in its column.
        let mut outcome = paint_rule(
            rule,
            &shorten(&rule_outcome_beside_input(rule, lang), 24),
            style,
        );
        if rule.distinct_outputs == 1 {
            outcome.push_str(&format!(" ×{}", rule.runs));
        } else {
            outcome.push_str(&lang.fill(
                "tour.rows.rule_varied",
                &[("distinct", &rule.distinct_outputs)],
            ));
        }
        let mut row = vec![input, format!("{}\n{outcome}", rule.name)];
        row.extend(
            r.model
                .temperatures
                .iter()
                .map(|t| answers_cell(t, lang, style)),
        );
        table.add_row(row);
    }
    let caption = lang.fill(
        "tour.rows.caption",
        &[
            ("model", &first.model.model),
            ("samples", &first.model.temperatures[0].samples),
            ("runs", &first.rule.runs),
        ],
    );
    Some(format!("{}\n{table}\n", style.bold(&caption)))
}

/// One temperature's answers in a table cell: two classes, or the most
/// frequent and every right one with the rest counted on one line; one
/// class without an answer quotes what the model wrote instead.
fn answers_cell(t: &TemperatureSummary, lang: Lang, style: &TerminalStyle) -> String {
    let (mut shown, mut hidden): (Vec<&AnswerCount>, Vec<&AnswerCount>) = (Vec::new(), Vec::new());
    let keep = if t.answers.len() > 2 { 1 } else { 2 };
    for a in &t.answers {
        if shown.len() < keep || a.correct == Some(true) {
            shown.push(a);
        } else {
            hidden.push(a);
        }
    }
    let mut quoted = false;
    let mut lines: Vec<String> = Vec::new();
    for a in shown {
        // A long answer is cut; why there is none is said whole.
        // (The takeaway says at how many tokens.)
        let text = match (&a.answer, a.cut_off_at) {
            (None, Some(_)) => format!(
                "{} {} ×{}",
                mark(a.correct),
                lang.text("tour.rows.cut_off"),
                a.count
            ),
            (None, None) => answer_text(a, 40, lang),
            (Some(_), _) => answer_text(a, 14, lang),
        };
        let mut cell = paint(a.correct, &text, style);
        if a.answer.is_none() && !a.example.trim().is_empty() && !quoted {
            let wrote = a.example.trim().lines().next().unwrap_or_default();
            cell.push_str(&format!("\n↳ \"{}\"", shorten(wrote, 11)));
            quoted = true;
        }
        lines.push(cell);
    }
    if !hidden.is_empty() {
        let more = lang.fill(
            "tour.rows.more",
            &[
                ("classes", &hidden.len()),
                ("count", &hidden.iter().map(|a| a.count).sum::<usize>()),
            ],
        );
        lines.push(paint(
            Some(false),
            &format!("{} {more}", mark(Some(false))),
            style,
        ));
    }
    lines.join("\n")
}

/// Showcase item `i` of `count`: its heading (n/m and why it was chosen)
/// and its panel.
pub fn showcase_item(
    (i, count): (usize, usize),
    why: &crate::words::Bilingual,
    comparison: &CompareReport,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let heading = lang.fill(
        "showcase.heading",
        &[("n", &(i + 1)), ("count", &count), ("why", &lang.pick(why))],
    );
    format!(
        "{}\n{}\n",
        style.bold(&heading),
        compare_panel(comparison, lang, Verdicts::Shown, style)
    )
}

/// The showcase's last line: how long it took.
pub fn showcase_footer(seconds: f64, lang: Lang, style: &TerminalStyle) -> String {
    style.dim(&lang.fill("showcase.ran_in", &[("seconds", &format!("{seconds:.1}"))])) + "\n"
}

/// The summary table over many inputs.
pub fn summary_table(report: &SummaryReport, lang: Lang, style: &TerminalStyle) -> String {
    let mut table = new_table(style);
    table.set_header(super::cells::summary_headers(report, lang));
    for row in &report.rows {
        table.add_row(super::cells::summary_cells(row, 40, lang));
    }
    format!("{table}\n{}", super::cells::summary_totals(report, lang))
}

/// A horizontal bar of `width` cells for probability `p`, in eighths.
fn bar(p: f64, width: usize) -> String {
    const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let eighths = (p.clamp(0.0, 1.0) * (width * 8) as f64).round() as usize;
    let mut out = "█".repeat(eighths / 8);
    out.push_str(EIGHTHS[eighths % 8]);
    let used = out.chars().count();
    out.push_str(&" ".repeat(width.saturating_sub(used)));
    out
}

/// `text` on one line in exactly `columns` terminal columns: cut with `…`
/// where it is wider, padded with spaces where it is narrower. Counts display
/// width, so a piece of two-column CJK characters lines up like ASCII.
fn fit_columns(text: &str, columns: usize) -> String {
    let one_line = text.replace('\n', " ");
    super::style::pad_to_width(&super::style::cut_to_width(&one_line, columns), columns)
}

/// Percent with one decimal, `<0.1%`, or `100%`: at most five columns.
fn percent(p: f64) -> String {
    if p > 0.0 && p < 0.0005 {
        "<0.1%".into()
    } else if p >= 0.9995 {
        "100%".into()
    } else {
        format!("{:.1}%", p * 100.0)
    }
}

fn distribution_cell(column: &crate::report::views::DistributionColumn, lang: Lang) -> String {
    let mut cell = String::new();
    // Sixteen columns a row: piece, bar, percent (four columns fit 80).
    for entry in &column.top {
        let _ = writeln!(
            cell,
            "{} {} {:>5}",
            fit_columns(&entry.piece, 6),
            bar(entry.probability, 3),
            percent(entry.probability)
        );
    }
    let _ = writeln!(
        cell,
        "{}     {:>5}",
        fit_columns(lang.text("probs.tail"), 6),
        percent(column.tail)
    );
    let entropy = match column.entropy_bits {
        Some(bits) => lang.fill("probs.entropy", &[("bits", &format!("{bits:.2}"))]),
        None => lang.text("probs.entropy_unknown").to_string(),
    };
    let _ = write!(cell, "{entropy}");
    cell
}

/// `probs`: columns of next-token distributions, as many per row as fit.
pub fn probs(
    report: &crate::report::views::ProbsReport,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let room = (style.width as usize).saturating_sub(18);
    let heading = style.bold(&lang.fill(
        "probs.heading",
        &[("prompt", &shorten(&report.prompt, room))],
    ));
    format!("{heading}\n{}", probs_tables(report, lang, style))
}

/// `probs` under its heading: the model line, then the distribution
/// tables (a tour step whose rule line already quotes the prompt shows
/// only these).
pub fn probs_tables(
    report: &crate::report::views::ProbsReport,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let mut out = String::new();
    let model_line = match (&report.endpoint, report.reported) {
        (Some(endpoint), Some(count)) => lang.fill(
            "probs.model_remote",
            &[
                ("model", &report.model),
                ("endpoint", endpoint),
                ("count", &count),
            ],
        ),
        _ => lang.fill(
            "probs.model",
            &[
                ("model", &report.model),
                ("tokens", &report.prompt_tokens.unwrap_or_default()),
            ],
        ),
    };
    let per_row = ((style.width as usize).saturating_sub(1) / 19).max(1);
    let mut sections = Vec::new();
    let (filters_title, temperatures_title) = match report.reported {
        Some(count) => (
            lang.text("probs.reported").to_string(),
            lang.fill("probs.temperatures_reported", &[("count", &count)]),
        ),
        None => (
            lang.text("probs.filters").to_string(),
            lang.text("probs.temperatures").to_string(),
        ),
    };
    if !report.filters.is_empty() {
        sections.push((filters_title, &report.filters));
    }
    sections.push((temperatures_title, &report.temperatures));
    // One section's title shares the model's line.
    if let [(title, _)] = sections.as_mut_slice() {
        *title = format!("{model_line}{}{title}", lang.text("list.clause_separator"));
    } else {
        let _ = writeln!(out, "{model_line}");
    }
    for (title, columns) in sections {
        let _ = writeln!(out, "{}", style.bold(&title));
        for chunk in columns.chunks(per_row) {
            let mut table = new_table(style);
            table
                .set_header(
                    chunk
                        .iter()
                        .map(|c| style.bold(&c.label))
                        .collect::<Vec<_>>(),
                )
                .add_row(
                    chunk
                        .iter()
                        .map(|c| distribution_cell(c, lang))
                        .collect::<Vec<_>>(),
                );
            let _ = writeln!(out, "{table}");
        }
    }
    out
}

/// `trace`: the rule's steps, then the model's steps or branch points.
pub fn trace(
    report: &crate::report::views::TraceReport,
    lang: Lang,
    style: &TerminalStyle,
) -> String {
    let mut out = String::new();
    if let Some(rule) = &report.rule {
        let _ = writeln!(
            out,
            "{}",
            style.bold(&lang.fill(
                "trace.rule",
                &[
                    ("rule", &rule.rule),
                    ("input", &lang.quote(&report.input)),
                    ("output", &rule.output.text(lang))
                ]
            ))
        );
        for (i, step) in rule.steps.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {}. {}  {}",
                i + 1,
                step_text(step, lang),
                style.dim(&step.source)
            );
        }
        let _ = writeln!(out);
    }
    let model = &report.model;
    let settings = match &model.sampling {
        crate::sampler::Sampling::Greedy => lang.text("trace.greedy").to_string(),
        crate::sampler::Sampling::Random { temperature, .. } => format!("T={temperature}"),
    };
    let _ = writeln!(
        out,
        "{}",
        style.bold(&lang.fill(
            "trace.model",
            &[("model", &model.model), ("settings", &settings)]
        ))
    );
    if let [sample] = model.samples.as_slice() {
        let _ = writeln!(
            out,
            "{}",
            lang.fill(
                "trace.seed",
                &[
                    ("seed", &sample.seed),
                    ("text", &format!("{:?}", shorten(&sample.text, 200)))
                ]
            )
        );
        let mut table = new_table(style);
        table.set_header(vec![
            "#",
            lang.text("trace.header.token"),
            "p",
            lang.text("trace.header.model_p"),
            lang.text("trace.header.path_p"),
            lang.text("trace.header.alternatives"),
        ]);
        for step in &sample.steps {
            let flag = if step.low {
                style.bad(&format!("⚑ {}", step.piece))
            } else {
                step.piece.clone()
            };
            let alternatives = step
                .alternatives
                .iter()
                .map(|a| format!("{} {}", a.piece, percent(a.probability)))
                .collect::<Vec<_>>()
                .join("  ");
            table.add_row(vec![
                step.step.to_string(),
                flag,
                percent(step.probability),
                percent(step.model_probability),
                format!("{:.2e}", step.running_probability),
                alternatives,
            ]);
        }
        let _ = writeln!(out, "{table}");
        let low = sample.steps.iter().filter(|s| s.low).count();
        let why = lang.text(match model.sampling {
            crate::sampler::Sampling::Greedy => "trace.low_greedy",
            crate::sampler::Sampling::Random { .. } => "trace.low_random",
        });
        let note = if low == 0 {
            lang.text("trace.no_low").to_string()
        } else {
            lang.fill("trace.low", &[("count", &low), ("why", &why)])
        };
        let _ = writeln!(out, "{note}");
    } else {
        for sample in &model.samples {
            let _ = writeln!(
                out,
                "  {}",
                lang.fill(
                    "trace.seed",
                    &[
                        ("seed", &format!("{:>3}", sample.seed)),
                        (
                            "text",
                            &format!("{:?}", shorten(&sample.text, style.width as usize - 16))
                        )
                    ]
                )
            );
        }
        if let Some(d) = &model.divergence {
            let _ = writeln!(
                out,
                "\n{}",
                lang.fill(
                    "trace.shared",
                    &[
                        ("steps", &d.shared_steps),
                        ("text", &format!("{:?}", d.shared_text))
                    ]
                )
            );
            for b in &d.branches {
                // Wrapped under its own branch mark: the probabilities make
                // the line long.
                let _ = writeln!(
                    out,
                    "{}",
                    hanging(
                        &lang.fill(
                            "trace.branch",
                            &[
                                ("seed", &b.seed),
                                ("other_seed", &b.from_seed),
                                ("step", &b.step),
                                ("piece", &style.bold(&b.piece)),
                                ("p", &percent(b.probability)),
                                ("model_p", &percent(b.model_probability)),
                                ("t", &model.sampling.temperature()),
                                ("other_piece", &b.other_piece),
                                ("other_p", &percent(b.other_probability)),
                                ("other_model_p", &percent(b.other_model_probability)),
                            ]
                        ),
                        style,
                        "  └ ",
                        "    "
                    )
                );
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn pieces_fill_the_same_columns_whatever_their_script() {
        let width = |s: &str| textwrap::core::display_width(s);
        for piece in ["a", "巴黎", "首都是哪里呢", "␣Paris", "abcdefghijk"] {
            assert_eq!(width(&fit_columns(piece, 8)), 8, "{piece:?}");
        }
        assert_eq!(fit_columns("巴黎", 8), "巴黎    ");
        assert_eq!(fit_columns("首都是哪里呢", 8), "首都是… ");
        assert_eq!(fit_columns("abcdefghijk", 8), "abcdefg…");
    }
    use crate::comparison::testing::fake_compare;

    fn answer(text: Option<&str>, count: usize, correct: bool, cut: Option<usize>) -> AnswerCount {
        AnswerCount {
            answer: text.map(str::to_string),
            count,
            correct: Some(correct),
            cut_off_at: cut,
            probability: None,
            example: "To calculate 987654321 × 123456789 we".into(),
        }
    }

    #[test]
    fn a_table_cell_shows_two_classes_or_the_first_and_the_right_ones_and_counts_the_rest() {
        let cell = |answers: Vec<AnswerCount>| {
            let samples = answers.iter().map(|a| a.count).sum();
            let t = TemperatureSummary {
                temperature: crate::sampler::Temperature::new(0.7).unwrap(),
                samples,
                distinct_texts: samples,
                answers,
                correct: None,
            };
            answers_cell(&t, Lang::En, &TerminalStyle::plain())
        };
        // Two classes: both, the one without an answer with what was written.
        assert_eq!(
            cell(vec![
                answer(Some("2416"), 3, false, None),
                answer(None, 1, false, Some(48))
            ]),
            "✗ 2416 ×3\n✗ (cut off) ×1\n↳ \"To calcula…\""
        );
        // Four classes: the most frequent, the right one, the rest counted.
        assert_eq!(
            cell(vec![
                answer(Some("2056"), 2, false, None),
                answer(Some("2016"), 1, false, None),
                answer(Some("2496"), 1, true, None),
                answer(None, 1, false, None),
            ]),
            "✗ 2056 ×2\n✓ 2496 ×1\n✗ 2 others ×2"
        );
    }

    /// The leap-year question through the buggy rule, against a fake model
    /// that answers "No." (p = 0.6) or "Yes, it is." (p = 0.4).
    pub(crate) fn leap_year_report() -> CompareReport {
        let script = [("No.", 0.6), ("Yes, it is.", 0.4)];
        fake_compare(
            &script,
            "leap-year-buggy",
            "Is 1900 a leap year?",
            None,
            "0,1.2",
            "1..4",
        )
    }

    /// `text` with each source line number (`file.rs:45`) replaced by
    /// `[line]`, so a snapshot survives an edit of the rule's source.
    pub(crate) fn without_line_numbers(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find(".rs:") {
            out.push_str(&rest[..i + 4]);
            rest = &rest[i + 4..];
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 {
                out.push_str("[line]");
                rest = &rest[digits..];
            }
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn the_compare_panel_in_english_and_chinese() {
        let report = leap_year_report();
        let style = TerminalStyle::plain();
        let panel =
            |lang| without_line_numbers(&compare_panel(&report, lang, Verdicts::Shown, &style));
        insta::assert_snapshot!("compare_panel_en", panel(Lang::En));
        insta::assert_snapshot!("compare_panel_zh", panel(Lang::Zh));
        insta::assert_snapshot!(
            "compare_brief_zh",
            without_line_numbers(&compare_brief(&report, Lang::Zh, &style))
        );
    }
}
