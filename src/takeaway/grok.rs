//! Takeaways of grokking runs — one run, a sweep over data fractions, the
//! phase diagram — worded from the findings their reports carry.

use crate::report::emergence::{GrokPhaseReport, GrokReport, GrokSweepReport};
use crate::words::numbers::{percent, whole_percent};
use crate::words::Lang;

pub fn step_text(step: Option<usize>, lang: Lang) -> String {
    step.map_or_else(|| lang.text("grok.never").to_string(), |s| s.to_string())
}

pub fn with_grokfast(grokfast: bool, lang: Lang) -> String {
    if grokfast {
        lang.text("grok.phase.with_grokfast").to_string()
    } else {
        String::new()
    }
}

/// What the run did, from its summary steps.
pub fn training(report: &GrokReport, lang: Lang) -> Vec<String> {
    let last = report.rows.last();
    let time_at = |step: usize| {
        report
            .rows
            .iter()
            .find(|r| r.step == step)
            .map_or(0.0, |r| r.seconds)
    };
    let mut out = Vec::new();
    match (report.memorized_at, report.generalized_at) {
        (Some(m), Some(g)) => {
            let [low, high] = report.delay_ratio_bounds.unwrap_or([0.0, 0.0]);
            let key = if low >= 5.0 {
                "grok.takeaway.grokked"
            } else {
                "grok.takeaway.grokked_soon"
            };
            out.push(lang.fill(
                key,
                &[
                    ("m", &m),
                    ("m_seconds", &format!("{:.1}", time_at(m))),
                    ("g", &g),
                    ("g_seconds", &format!("{:.1}", time_at(g))),
                    ("low", &format!("{low:.0}")),
                    ("high", &format!("{high:.0}")),
                    ("every", &report.log_interval),
                ],
            ))
        }
        (Some(m), None) => out.push(lang.fill(
            "grok.takeaway.memorized_only",
            &[
                ("m", &m),
                ("steps", &last.map_or(0, |r| r.step)),
                ("test", &percent(last.map_or(0.0, |r| r.test_accuracy))),
            ],
        )),
        (None, Some(g)) => out.push(lang.fill("grok.takeaway.generalized_first", &[("g", &g)])),
        (None, None) => out.push(lang.fill(
            "grok.takeaway.nothing",
            &[
                ("steps", &last.map_or(0, |r| r.step)),
                ("train", &percent(last.map_or(0.0, |r| r.train_accuracy))),
                ("test", &percent(last.map_or(0.0, |r| r.test_accuracy))),
            ],
        )),
    }
    let rise = step_text(report.rise_started_at, lang);
    if let Some(t) = report.test_loss_turned_at {
        let key = if report.test_loss_leads {
            "grok.takeaway.test_loss_leads"
        } else {
            "grok.takeaway.test_loss_not_before"
        };
        out.push(lang.fill(key, &[("t", &t), ("r", &rise)]));
    }
    if report.stopped_early {
        out.push(lang.text("grok.takeaway.precursor_stopped").to_string());
    } else if let (Some(f), Some(first), Some(last)) =
        (report.precursor_at, report.rows.first(), report.rows.last())
    {
        let key = match report.rise_started_at {
            Some(_) if report.precursor_leads => "grok.takeaway.precursor_before",
            Some(_) => "grok.takeaway.precursor_not_before",
            None => "grok.takeaway.precursor_no_jump",
        };
        out.push(lang.fill(
            key,
            &[
                ("f", &f),
                ("from", &percent(first.fourier_share)),
                ("to", &percent(last.fourier_share)),
                ("r", &rise),
                ("margin", &report.lead_margin),
            ],
        ));
    }
    out.push(lang.fill(
        "grok.takeaway.speed",
        &[
            ("rate", &format!("{:.0}", report.steps_per_second)),
            ("seconds", &format!("{:.1}", report.seconds)),
            ("threads", &report.settings.threads),
        ],
    ));
    out
}

/// What the sweep showed: the smallest fraction that generalized.
pub fn sweep(sweep: &GrokSweepReport, lang: Lang) -> Vec<String> {
    vec![match sweep.least_data_generalized {
        Some((least, g)) => lang.fill(
            "grok.takeaway.sweep",
            &[
                ("fraction", &whole_percent(least)),
                ("g", &g),
                (
                    "failed",
                    &if sweep.never_generalized.is_empty() {
                        lang.text("grok.none").to_string()
                    } else {
                        let failed: Vec<String> = sweep
                            .never_generalized
                            .iter()
                            .map(|&f| whole_percent(f))
                            .collect();
                        failed.join(lang.list_gap())
                    },
                ),
            ],
        ),
        None => lang.text("grok.takeaway.sweep_none").to_string(),
    }]
}

/// What the phase diagram showed: each strategy's data threshold, and the
/// levers (more data, weight decay, Grokfast) as the cells measured them.
pub fn phase(report: &GrokPhaseReport, lang: Lang) -> Vec<String> {
    let budget = report.settings.steps;
    report
        .thresholds
        .iter()
        .map(|t| match (t.smallest_fraction, t.at_step, t.fastest) {
            (Some(f), Some(g), Some((fast_f, fast_g))) => lang.fill(
                if report.train_fractions.iter().any(|&x| x < f) {
                    "grok.phase.threshold"
                } else {
                    "grok.phase.threshold_below"
                },
                &[
                    ("wd", &t.weight_decay),
                    ("grokfast", &with_grokfast(t.grokfast, lang)),
                    ("fraction", &whole_percent(f)),
                    ("g", &g),
                    ("fast_fraction", &whole_percent(fast_f)),
                    ("fast_g", &fast_g),
                    ("budget", &budget),
                ],
            ),
            _ => lang.fill(
                "grok.phase.never",
                &[
                    ("wd", &t.weight_decay),
                    ("grokfast", &with_grokfast(t.grokfast, lang)),
                    ("budget", &budget),
                ],
            ),
        })
        .collect()
}
