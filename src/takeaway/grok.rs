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
    out.extend(weight_norm(report, lang));
    if report.stopped_early {
        out.push(lang.text("grok.takeaway.precursor_stopped").to_string());
    } else if let (Some(f), Some(first), Some(last)) =
        (report.precursor_at, report.rows.first(), report.rows.last())
    {
        let key = match report.rise_started_at {
            Some(_) if report.precursor_leads && report.generalized_at.is_none() => {
                "grok.takeaway.precursor_before_no_jump"
            }
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

/// What the weight norm did: where it was highest, and whether it then fell
/// by more than 1 % (weight decay's pull, which the grokking papers tie to
/// the generalizing circuit replacing the memorized one).
fn weight_norm(report: &GrokReport, lang: Lang) -> Option<String> {
    let (first, last) = (report.rows.first()?, report.rows.last()?);
    let peak = report.rows.iter().fold(first, |top, r| {
        if r.weight_norm > top.weight_norm {
            r
        } else {
            top
        }
    });
    let drop = 1.0 - last.weight_norm / peak.weight_norm;
    let norm = |r: &crate::report::emergence::GrokRow| format!("{:.1}", r.weight_norm);
    Some(if peak.step == last.step {
        lang.fill(
            "grok.takeaway.norm_growing",
            &[
                ("start", &norm(first)),
                ("end", &norm(last)),
                ("e", &last.step),
            ],
        )
    } else if drop > 0.01 {
        lang.fill(
            "grok.takeaway.norm_fell",
            &[
                ("start", &norm(first)),
                ("peak", &norm(peak)),
                ("s", &peak.step),
                ("acc", &percent(peak.test_accuracy)),
                ("end", &norm(last)),
                ("e", &last.step),
                ("drop", &percent(drop)),
            ],
        )
    } else {
        lang.fill(
            "grok.takeaway.norm_level",
            &[
                ("start", &norm(first)),
                ("peak", &norm(peak)),
                ("s", &peak.step),
                ("e", &last.step),
            ],
        )
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::emergence::tests::settings;
    use crate::report::emergence::GrokRow;

    /// Rows every 10 steps to 100: memorized at 10, the Fourier share
    /// half-way at 20, test accuracy rising from 60 to `top`, the weight
    /// norm from `norm`.
    fn report(top: f64, norm: &dyn Fn(usize) -> f64) -> GrokReport {
        let rows = (0..=100)
            .step_by(10)
            .map(|step| GrokRow {
                step,
                train_accuracy: if step >= 10 { 1.0 } else { 0.0 },
                test_accuracy: if step >= 60 {
                    0.1 + (top - 0.1) * (step - 60) as f64 / 40.0
                } else {
                    0.01
                },
                train_loss: 1.0,
                test_loss: 1.0,
                weight_norm: norm(step),
                fourier_share: if step >= 20 { 0.9 } else { 0.1 },
                seconds: step as f64,
            })
            .collect();
        GrokReport::new(settings(), rows, false, 1.0)
    }

    fn said(report: &GrokReport, what: &str) -> String {
        training(report, Lang::En)
            .into_iter()
            .find(|t| t.contains(what))
            .unwrap_or_else(|| panic!("no takeaway about {what}: {:?}", training(report, Lang::En)))
    }

    #[test]
    fn the_weight_norm_is_said_to_fall_only_when_it_fell() {
        // Highest (20) at step 50, then down to 18 at step 100: 10 % lower.
        let fell = report(1.0, &|s| if s <= 50 { 10.0 + s as f64 / 5.0 } else { 18.0 });
        let text = said(&fell, "weight norm");
        assert!(text.contains("its highest, 20.0, at step 50"), "{text}");
        assert!(
            text.contains("fell to 18.0 by step 100 (10.0% lower)"),
            "{text}"
        );
        // Still rising at the last step.
        let growing = report(1.0, &|s| 10.0 + s as f64);
        let text = said(&growing, "weight norm");
        assert!(
            text.contains("from 10.0 to 110.0") && text.contains("still at its highest"),
            "{text}"
        );
        // Down by less than 1 %: level, not fallen.
        let level = report(1.0, &|s| if s <= 50 { 10.0 + s as f64 / 5.0 } else { 19.9 });
        let text = said(&level, "weight norm");
        assert!(
            text.contains("stayed within 1%") && !text.contains("fell"),
            "{text}"
        );
    }

    #[test]
    fn a_leading_precursor_is_called_one_only_where_the_jump_happened() {
        let jumped = report(1.0, &|_| 1.0);
        assert_eq!(jumped.generalized_at, Some(100));
        assert!(jumped.precursor_leads);
        assert!(said(&jumped, "Fourier").contains("the jump had a smooth precursor"));
        // Test accuracy rose to 40 % only: no jump to precede.
        let partial = report(0.4, &|_| 1.0);
        assert_eq!(partial.generalized_at, None);
        let text = said(&partial, "Fourier");
        assert!(
            text.contains("never reached 95%") && !text.contains("had a smooth precursor"),
            "{text}"
        );
    }
}
