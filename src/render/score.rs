//! Rendering of `detprob score`: the answer's tokens with their probability
//! and rank, then the whole answer's probability.

use super::style::TerminalStyle;
use super::{markdown, terminal};
use crate::report::views::ScoreReport;
use crate::words::Lang;

fn headers(lang: Lang) -> [&'static str; 5] {
    [
        lang.text("score.header.step"),
        lang.text("score.header.token"),
        lang.text("score.header.probability"),
        lang.text("score.header.rank"),
        lang.text("score.header.top"),
    ]
}

fn rows(report: &ScoreReport) -> Vec<Vec<String>> {
    // Below the alternatives a server reported, only a bound is known.
    let rank = |rank: Option<usize>| match (rank, report.reported) {
        (Some(rank), _) => rank.to_string(),
        (None, Some(reported)) => format!("> {reported}"),
        (None, None) => "?".to_string(),
    };
    report
        .tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            vec![
                (i + 1).to_string(),
                format!("{:?}", t.piece),
                format!("{:.1}%", 100.0 * t.probability),
                rank(t.rank),
                format!("{:?} {:.1}%", t.top_piece, 100.0 * t.top_probability),
            ]
        })
        .collect()
}

fn heading(report: &ScoreReport, lang: Lang) -> String {
    let heading = lang.fill(
        "score.heading",
        &[
            ("answer", &lang.quote(&report.answer)),
            ("prompt", &lang.quote(&report.prompt)),
            ("model", &report.model),
        ],
    );
    match (&report.endpoint, report.reported) {
        (Some(endpoint), Some(count)) => format!(
            "{heading}\n{}",
            lang.fill("score.remote", &[("endpoint", endpoint), ("count", &count)])
        ),
        _ => heading,
    }
}

fn summary(report: &ScoreReport, lang: Lang) -> String {
    let key = if report.greedy_would_write_it {
        "score.summary_greedy"
    } else {
        "score.summary_missed"
    };
    lang.fill(
        key,
        &[
            ("percent", &format!("{:.3}", 100.0 * report.probability)),
            (
                "mean",
                &format!("{:.1}", 100.0 * report.mean_token_probability),
            ),
            ("tokens", &report.tokens.len()),
        ],
    )
}

/// The score as terminal text.
pub fn terminal(report: &ScoreReport, lang: Lang, style: &TerminalStyle) -> String {
    format!(
        "{}\n{}{}\n",
        style.bold(&heading(report, lang)),
        terminal::table(&headers(lang), &rows(report), style),
        summary(report, lang)
    )
}

/// The score as Markdown.
pub fn markdown(report: &ScoreReport, lang: Lang) -> String {
    format!(
        "{}\n\n{}\n{}\n",
        heading(report, lang),
        markdown::table(&headers(lang), &rows(report)),
        summary(report, lang)
    )
}
