//! The audit's report as text: one row per prompt, mode and concurrency,
//! then the verdicts.

use super::style::TerminalStyle;
use super::{markdown, terminal, Render};
use crate::comparison::shorten;
use crate::report::audit::{AuditCase, AuditLevel, AuditMode, AuditReport};
use crate::words::Lang;

fn mode(case: &AuditCase, lang: Lang) -> String {
    match case.mode {
        AuditMode::Greedy => lang.text("audit.greedy").to_string(),
        AuditMode::Seeded => lang.fill(
            "audit.seeded",
            &[
                ("seed", &case.seed.unwrap_or_default()),
                ("t", &case.temperature),
            ],
        ),
    }
}

fn logprob(p: Option<f64>) -> String {
    p.map_or_else(|| "?".into(), |p| format!("{p:.3}"))
}

fn divergence(level: &AuditLevel, lang: Lang) -> String {
    let Some(d) = &level.first_divergence else {
        return "—".into();
    };
    match (d.token_index, &d.reference, &d.divergent) {
        (Some(i), Some(a), Some(b)) => lang.fill(
            "audit.token_divergence",
            &[
                ("request", &(d.request + 1)),
                ("token", &(i + 1)),
                ("a", &lang.quote(&a.text)),
                ("pa", &logprob(a.logprob)),
                ("b", &lang.quote(&b.text)),
                ("pb", &logprob(b.logprob)),
            ],
        ),
        _ => lang.fill(
            "audit.text_divergence",
            &[
                ("request", &(d.request + 1)),
                ("char", &(d.char_index + 1)),
                ("a", &lang.quote(&shorten(&d.reference_text, 30))),
                ("b", &lang.quote(&shorten(&d.divergent_text, 30))),
            ],
        ),
    }
}

fn rows(report: &AuditReport, lang: Lang) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for case in &report.cases {
        for level in &case.levels {
            rows.push(vec![
                shorten(&case.prompt, 28),
                mode(case, lang),
                level.concurrency.to_string(),
                format!("{}/{}", level.answered, level.answered + level.failed),
                level.distinct.to_string(),
                format!("{}/{}", level.identical_to_reference, level.answered),
                divergence(level, lang),
            ]);
        }
    }
    rows
}

fn headers(lang: Lang) -> Vec<&'static str> {
    [
        "prompt",
        "mode",
        "concurrency",
        "answered",
        "distinct",
        "identical",
        "divergence",
    ]
    .iter()
    .map(|k| lang.text(&format!("audit.{k}")))
    .collect()
}

fn heading(report: &AuditReport, lang: Lang) -> String {
    let mut out = lang.fill(
        "audit.heading",
        &[
            (
                "endpoint",
                &if report.local {
                    lang.fill("audit.local_endpoint", &[("endpoint", &report.endpoint)])
                } else {
                    report.endpoint.clone()
                },
            ),
            ("model", &report.model),
            ("runs", &report.runs),
            ("tokens", &report.max_tokens),
        ],
    );
    if !report.fingerprints.is_empty() {
        out.push('\n');
        out.push_str(&lang.fill(
            "audit.fingerprints",
            &[("list", &report.fingerprints.join(lang.list_gap()))],
        ));
    }
    out
}

fn verdicts(report: &AuditReport, lang: Lang) -> String {
    let yes_no = |b: bool| lang.text(if b { "audit.yes" } else { "audit.no" });
    let mut lines = vec![
        lang.fill(
            "audit.alone",
            &[("answer", &yes_no(report.reproducible_alone))],
        ),
        lang.fill(
            "audit.under_load",
            &[("answer", &yes_no(report.reproducible_under_load))],
        ),
        match report.seed_honoured {
            Some(b) => lang.fill("audit.seed", &[("answer", &yes_no(b))]),
            None => lang.text("audit.seed_untested").to_string(),
        },
    ];
    let differing: usize = report
        .cases
        .iter()
        .flat_map(|c| &c.levels)
        .map(|l| l.answered - l.identical_to_reference)
        .sum();
    let answered: usize = report
        .cases
        .iter()
        .flat_map(|c| &c.levels)
        .map(|l| l.answered)
        .sum();
    lines.push(lang.fill(
        "audit.differing",
        &[("n", &differing), ("total", &answered)],
    ));
    if report.failed > 0 {
        lines.push(lang.fill("audit.failed", &[("n", &report.failed)]));
    }
    lines.join("\n") + "\n"
}

impl Render for AuditReport {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        format!(
            "{}\n{}{}",
            heading(self, lang),
            terminal::table(&headers(lang), &rows(self, lang), style),
            verdicts(self, lang)
        )
    }
    fn markdown(&self, lang: Lang) -> String {
        format!(
            "{}\n\n{}\n{}",
            heading(self, lang),
            markdown::table(&headers(lang), &rows(self, lang)),
            verdicts(self, lang)
        )
    }
}
