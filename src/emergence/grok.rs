//! `detprob emergence grok`: the note's third cause, grokking, trained live.
//! A Gromov-style network learns (a + b) mod p from part of the table: one
//! learned vector per a and per b, summed, squared element-wise, and read
//! out to p scores; full-batch AdamW with weight decay on the mean squared
//! error against the one-hot answer. With scarce data it first memorizes
//! the training pairs, then, much later, suddenly gets the unseen pairs
//! right. The share of the embedding's energy in its strongest Fourier
//! frequencies rises before that jump: a smooth precursor.
//!
//! Training runs on either engine of [`super::trainer`] (detprob's own
//! fused step by default, candle's autograd as the reference); weights and
//! the train/test split come from a ChaCha20 stream, so the same settings
//! give the same curve.

use std::time::Instant;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::trainer::{
    CandleNetwork, FusedNetwork, Optimization, Pairs, Part, Split, Trainer, Weights,
};
use crate::error::{invalid, InputError};
use crate::lm::Engine;
use crate::report::emergence::{
    CellInTraining, GrokPhaseReport, GrokReport, GrokRow, GrokSettingsRecord, PhaseCell,
    PhaseThreshold,
};

/// How many of each unit's strongest frequencies the Fourier measure counts.
pub const KEY_FREQUENCIES: usize = 1;

/// What to train and how.
#[derive(Debug, Clone, PartialEq)]
pub struct GrokSettings {
    /// The modulus p (a prime).
    pub modulus: usize,
    /// Share of the p² pairs used for training.
    pub train_fraction: f64,
    /// Hidden width.
    pub width: usize,
    /// AdamW learning rate.
    pub lr: f64,
    /// AdamW (decoupled) weight decay.
    pub weight_decay: f64,
    /// Most optimizer steps.
    pub steps: usize,
    /// Seed of the initialization and the split.
    pub seed: u64,
    /// Amplify the slow part of the gradient (Grokfast's EMA filter,
    /// α = 0.98, λ = 2, the paper's EMA defaults).
    pub grokfast: bool,
    /// Evaluate every this many steps.
    pub log_every: usize,
    /// Stop once test accuracy reaches 99 %.
    pub stop_when_generalized: bool,
    /// Which code trains the network.
    pub engine: Engine,
}

impl Default for GrokSettings {
    fn default() -> Self {
        Self {
            modulus: 97,
            train_fraction: 0.2,
            width: 256,
            lr: 1e-2,
            weight_decay: 0.3,
            steps: 3000,
            seed: 1,
            grokfast: false,
            log_every: 10,
            stop_when_generalized: true,
            engine: Engine::Detprob,
        }
    }
}

impl GrokSettings {
    /// Checks every setting; the message names the flag.
    pub fn check(&self) -> Result<(), InputError> {
        let p = self.modulus;
        if !(3..=257).contains(&p)
            || !(2..p)
                .take_while(|d| d * d <= p)
                .all(|d| !p.is_multiple_of(d))
        {
            return Err(invalid(format!(
                "--modulus must be a prime from 3 to 257 (the Fourier picture of (a + b) mod p needs a prime), not {p}"
            )));
        }
        if !(self.train_fraction > 0.0 && self.train_fraction < 1.0) {
            return Err(invalid(format!(
                "--train-fraction must be between 0 and 1 (exclusive), not {}",
                self.train_fraction
            )));
        }
        let train = (self.train_fraction * (p * p) as f64).round() as usize;
        if train == 0 || train == p * p {
            return Err(invalid(format!(
                "--train-fraction {} leaves no training or no test pairs for p = {p}",
                self.train_fraction
            )));
        }
        if !(1..=4096).contains(&self.width) {
            return Err(invalid(format!(
                "--width must be from 1 to 4096, not {}",
                self.width
            )));
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 10.0) {
            return Err(invalid(format!("--lr must be in (0, 10], not {}", self.lr)));
        }
        if !(self.weight_decay.is_finite() && (0.0..=100.0).contains(&self.weight_decay)) {
            return Err(invalid(format!(
                "--weight-decay must be from 0 to 100, not {}",
                self.weight_decay
            )));
        }
        if !(1..=200_000).contains(&self.steps) {
            return Err(invalid(format!(
                "--steps must be from 1 to 200000, not {}",
                self.steps
            )));
        }
        if self.log_every == 0 {
            return Err(invalid("--log-every must be at least 1"));
        }
        Ok(())
    }
}

fn split(settings: &GrokSettings, rng: &mut ChaCha20Rng) -> Split {
    let p = settings.modulus;
    let mut pairs: Vec<(u32, u32)> = (0..p as u32)
        .flat_map(|a| (0..p as u32).map(move |b| (a, b)))
        .collect();
    // Fisher–Yates, drawing from the seeded stream.
    for i in (1..pairs.len()).rev() {
        let j = ((rng.next_u64() as u128 * (i as u128 + 1)) >> 64) as usize;
        pairs.swap(i, j);
    }
    let cut = (settings.train_fraction * (p * p) as f64).round() as usize;
    Split {
        train: Pairs::new(&pairs[..cut], p),
        test: Pairs::new(&pairs[cut..], p),
    }
}

/// A standard normal draw (Box–Muller on two uniforms from the stream);
/// every tiny network detprob trains is initialized from it.
pub(crate) fn normal(rng: &mut ChaCha20Rng) -> f64 {
    let uniform =
        |rng: &mut ChaCha20Rng| ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let (u, v) = (uniform(rng), uniform(rng));
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn init(rows: usize, cols: usize, std: f64, rng: &mut ChaCha20Rng) -> Vec<f32> {
    (0..rows * cols)
        .map(|_| (std * normal(rng)) as f32)
        .collect()
}

/// How much of each hidden unit's embedding lives in its `top` strongest
/// Fourier frequencies over the residues 0..p, pooled over units (weighted
/// by their energy; the mean, frequency 0, left out). A network that has
/// grokked (a + b) mod p gives each unit a few clean frequencies, so this
/// share rises from its random start (a few frequencies out of p/2) towards
/// 1. `embedding` is p rows of `width` values; f and p − f count as one.
pub fn fourier_share(embedding: &[f32], p: usize, width: usize, top: usize) -> f64 {
    let (cos, sin): (Vec<f64>, Vec<f64>) = (0..p)
        .map(|i| {
            let angle = std::f64::consts::TAU * i as f64 / p as f64;
            (angle.cos(), angle.sin())
        })
        .unzip();
    let (mut kept, mut total) = (0f64, 0f64);
    let mut power = vec![0f64; p / 2];
    for w in 0..width {
        for (f, slot) in (1..=p / 2).zip(power.iter_mut()) {
            let (mut re, mut im) = (0f64, 0f64);
            for a in 0..p {
                let x = embedding[a * width + w] as f64;
                let i = (f * a) % p;
                re += x * cos[i];
                im -= x * sin[i];
            }
            *slot = re * re + im * im;
        }
        let unit: f64 = power.iter().sum();
        power.sort_by(|x, y| y.total_cmp(x));
        kept += power.iter().take(top).sum::<f64>();
        total += unit;
    }
    // Parseval: all frequencies together hold p·Σx²; rounding noise alone
    // (a constant embedding) is no structure.
    let energy: f64 = embedding.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() * p as f64;
    if total == 0.0 || total <= 1e-9 * energy {
        return 0.0;
    }
    kept / total
}

/// Trains with `settings`, calling `on_log` with each logged row (and all
/// rows so far) as it comes.
pub fn train(
    settings: &GrokSettings,
    on_log: &mut dyn FnMut(&[GrokRow]),
) -> anyhow::Result<GrokReport> {
    settings.check()?;
    let started = Instant::now();
    let p = settings.modulus;
    let mut rng = ChaCha20Rng::seed_from_u64(settings.seed);
    let data = split(settings, &mut rng);
    // Gromov's initialization scale: √0.25 / (2·width)^(1/3).
    let std = 0.5 / (2.0 * settings.width as f64).cbrt();
    let weights = Weights {
        p,
        width: settings.width,
        embed_a: init(p, settings.width, std, &mut rng),
        embed_b: init(p, settings.width, std, &mut rng),
        readout: init(settings.width, p, std, &mut rng),
    };
    let optimization = Optimization {
        lr: settings.lr,
        weight_decay: settings.weight_decay,
        grokfast: settings.grokfast,
    };
    let mut net: Box<dyn Trainer> = match settings.engine {
        Engine::Detprob => Box::new(FusedNetwork::new(&weights, &data, optimization)),
        Engine::Candle => Box::new(CandleNetwork::new(&weights, &data, optimization)?),
    };
    let mut rows: Vec<GrokRow> = Vec::new();
    let mut stopped_early = false;
    for step in 0..=settings.steps {
        if step % settings.log_every == 0 || step == settings.steps {
            let (train_accuracy, train_loss) = net.evaluate(Part::Train)?;
            let (test_accuracy, test_loss) = net.evaluate(Part::Test)?;
            let embedding = net.embedding_a()?;
            rows.push(GrokRow {
                step,
                train_accuracy,
                test_accuracy,
                train_loss,
                test_loss,
                weight_norm: net.weight_norm()?,
                fourier_share: fourier_share(&embedding, p, settings.width, KEY_FREQUENCIES),
                seconds: started.elapsed().as_secs_f64(),
            });
            on_log(&rows);
            if settings.stop_when_generalized && test_accuracy >= 0.99 && step < settings.steps {
                stopped_early = true;
                break;
            }
        }
        if step == settings.steps {
            break;
        }
        net.step()?;
    }
    Ok(GrokReport::new(
        settings_record(settings),
        rows,
        stopped_early,
        started.elapsed().as_secs_f64(),
    ))
}

fn settings_record(s: &GrokSettings) -> crate::report::emergence::GrokSettingsRecord {
    crate::report::emergence::GrokSettingsRecord {
        modulus: s.modulus,
        train_fraction: s.train_fraction,
        width: s.width,
        lr: s.lr,
        weight_decay: s.weight_decay,
        steps: s.steps,
        seed: s.seed,
        grokfast: s.grokfast,
        threads: rayon::current_num_threads(),
        engine: s.engine,
    }
}

/// The phase diagram: `base` trained once per train fraction × weight
/// decay × Grokfast setting (stopping when it generalizes), with each
/// strategy's data threshold. `progress(done, total)` after each cell.
pub fn phase(
    base: &GrokSettings,
    fractions: &[f64],
    weight_decays: &[f64],
    grokfast: &[bool],
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<GrokPhaseReport> {
    phase_watched(base, fractions, weight_decays, grokfast, progress, &|_| {})
}

/// [`phase`], with `watch` given the diagram of the cells trained so far
/// after each cell but the last (a cell not yet trained is absent from
/// `cells`, so a screen can tell it from one that never generalized), and
/// while a cell trains (at its first logged step, then at most twice a
/// second) with that cell's last logged step and test accuracy.
pub fn phase_watched(
    base: &GrokSettings,
    fractions: &[f64],
    weight_decays: &[f64],
    grokfast: &[bool],
    progress: &dyn Fn(usize, usize),
    watch: &dyn Fn(&GrokPhaseReport),
) -> anyhow::Result<GrokPhaseReport> {
    let started = Instant::now();
    let cell_settings: Vec<GrokSettings> = grokfast
        .iter()
        .flat_map(|&g| {
            weight_decays.iter().flat_map(move |&wd| {
                fractions.iter().map(move |&f| GrokSettings {
                    train_fraction: f,
                    weight_decay: wd,
                    grokfast: g,
                    stop_when_generalized: true,
                    ..base.clone()
                })
            })
        })
        .collect();
    for settings in &cell_settings {
        settings.check()?;
    }
    // The most data first: those cells tend to generalize soonest, so a
    // screen has a result within seconds; the report keeps the cells in
    // their own order (Grokfast, weight decay, fraction).
    let mut order: Vec<usize> = (0..cell_settings.len()).collect();
    order.sort_by(|&a, &b| {
        cell_settings[b]
            .train_fraction
            .total_cmp(&cell_settings[a].train_fraction)
    });
    let mut cells: Vec<Option<PhaseCell>> = vec![None; cell_settings.len()];
    let report_of = |cells: &[Option<PhaseCell>]| {
        let trained = cells.iter().flatten().cloned().collect();
        phase_report(base, fractions, weight_decays, grokfast, trained, started)
    };
    for (done, &i) in order.iter().enumerate() {
        let settings = &cell_settings[i];
        let so_far = report_of(&cells);
        // The cell's first logged step, then at most twice a second.
        let mut shown: Option<Instant> = None;
        let report = train(settings, &mut |rows| {
            let Some(last) = rows.last() else { return };
            if shown.is_some_and(|at| at.elapsed().as_secs_f64() < 0.5) {
                return;
            }
            shown = Some(Instant::now());
            watch(&GrokPhaseReport {
                in_training: Some(CellInTraining {
                    train_fraction: settings.train_fraction,
                    weight_decay: settings.weight_decay,
                    grokfast: settings.grokfast,
                    step: last.step,
                    test_accuracy: last.test_accuracy,
                }),
                seconds: started.elapsed().as_secs_f64(),
                ..so_far.clone()
            });
        })?;
        cells[i] = Some(PhaseCell {
            train_fraction: settings.train_fraction,
            weight_decay: settings.weight_decay,
            grokfast: settings.grokfast,
            memorized_at: report.memorized_at,
            generalized_at: report.generalized_at,
        });
        progress(done + 1, cell_settings.len());
        if done + 1 < cell_settings.len() {
            watch(&report_of(&cells));
        }
    }
    Ok(report_of(&cells))
}

/// The phase diagram of `cells`, with each setting's threshold.
fn phase_report(
    base: &GrokSettings,
    fractions: &[f64],
    weight_decays: &[f64],
    grokfast: &[bool],
    cells: Vec<PhaseCell>,
    started: Instant,
) -> GrokPhaseReport {
    let thresholds = grokfast
        .iter()
        .flat_map(|&g| weight_decays.iter().map(move |&wd| (g, wd)))
        .map(|(g, wd)| {
            let generalized: Vec<(f64, usize)> = cells
                .iter()
                .filter(|c| c.grokfast == g && c.weight_decay == wd)
                .filter_map(|c| Some((c.train_fraction, c.generalized_at?)))
                .collect();
            let smallest = generalized
                .iter()
                .copied()
                .min_by(|a, b| a.0.total_cmp(&b.0));
            PhaseThreshold {
                weight_decay: wd,
                grokfast: g,
                smallest_fraction: smallest.map(|s| s.0),
                at_step: smallest.map(|s| s.1),
                fastest: generalized.iter().copied().min_by_key(|&(_, step)| step),
            }
        })
        .collect();
    GrokPhaseReport {
        settings: GrokSettingsRecord {
            grokfast: grokfast.iter().any(|&g| g),
            ..settings_record(base)
        },
        train_fractions: fractions.to_vec(),
        weight_decays: weight_decays.to_vec(),
        grokfast: grokfast.to_vec(),
        cells,
        thresholds,
        in_training: None,
        seconds: started.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fourier_share_is_exact_on_hand_made_embeddings() {
        let p = 11;
        let width = 3;
        // Every column a cosine of frequency 3: all energy in one frequency.
        let pure: Vec<f32> = (0..p)
            .flat_map(|a| {
                (0..width).map(move |w| {
                    ((std::f64::consts::TAU * 3.0 * a as f64 / p as f64) + w as f64).cos() as f32
                })
            })
            .collect();
        assert!((fourier_share(&pure, p, width, 1) - 1.0).abs() < 1e-6);
        // Two frequencies of equal amplitude in one unit: half each.
        let two: Vec<f32> = (0..p)
            .map(|a| {
                let x = std::f64::consts::TAU * a as f64 / p as f64;
                ((2.0 * x).cos() + (5.0 * x).sin()) as f32
            })
            .collect();
        assert!((fourier_share(&two, p, 1, 1) - 0.5).abs() < 1e-6);
        assert!((fourier_share(&two, p, 1, 2) - 1.0).abs() < 1e-6);
        // Units of different clean frequencies: each is one frequency.
        let mixed: Vec<f32> = (0..p)
            .flat_map(|a| {
                let x = std::f64::consts::TAU * a as f64 / p as f64;
                [(2.0 * x).cos() as f32, (4.0 * x).sin() as f32 * 3.0]
            })
            .collect();
        assert!((fourier_share(&mixed, p, 2, 1) - 1.0).abs() < 1e-6);
        // A constant has no energy outside frequency 0.
        assert_eq!(fourier_share(&[1.0; 11], p, 1, 1), 0.0);
    }

    #[test]
    fn bad_settings_name_their_flag() {
        let check = |edit: fn(&mut GrokSettings)| {
            let mut s = GrokSettings::default();
            edit(&mut s);
            s.check().unwrap_err().to_string()
        };
        assert!(check(|s| s.modulus = 2).contains("--modulus"));
        assert!(check(|s| s.modulus = 91).contains("prime"));
        assert!(check(|s| s.train_fraction = 1.0).contains("--train-fraction"));
        assert!(check(|s| s.train_fraction = 0.0).contains("--train-fraction"));
        assert!(check(|s| s.width = 0).contains("--width"));
        assert!(check(|s| s.steps = 0).contains("--steps"));
        assert!(check(|s| s.lr = 0.0).contains("--lr"));
        assert!(check(|s| s.lr = -1.0).contains("--lr"));
        assert!(GrokSettings::default().check().is_ok());
    }

    #[test]
    fn a_short_run_is_bit_identical_when_repeated() {
        let settings = GrokSettings {
            modulus: 23,
            width: 32,
            steps: 60,
            log_every: 20,
            ..GrokSettings::default()
        };
        let strip = |r: GrokReport| -> Vec<GrokRow> {
            r.rows
                .into_iter()
                .map(|row| GrokRow {
                    seconds: 0.0,
                    ..row
                })
                .collect()
        };
        let first = strip(train(&settings, &mut |_| {}).unwrap());
        let second = strip(train(&settings, &mut |_| {}).unwrap());
        assert_eq!(first, second);
        assert_eq!(first.len(), 4);
        assert_eq!(first[0].step, 0);
        // Training moved the training loss down.
        assert!(first[3].train_loss < first[0].train_loss);
    }

    #[test]
    fn a_phase_diagram_fills_in_cell_by_cell_and_pending_cells_are_not_never() {
        let base = GrokSettings {
            modulus: 23,
            width: 32,
            steps: 40,
            log_every: 20,
            ..GrokSettings::default()
        };
        let seen = std::cell::RefCell::new(Vec::new());
        let report = phase_watched(
            &base,
            &[0.3, 0.5],
            &[0.0, 0.3],
            &[false],
            &|_, _| {},
            &|r| seen.borrow_mut().push(r.clone()),
        )
        .unwrap();
        let (training, seen): (Vec<_>, Vec<_>) = seen
            .into_inner()
            .into_iter()
            .partition(|r| r.in_training.is_some());
        assert_eq!(
            seen.iter().map(|r| r.cells.len()).collect::<Vec<_>>(),
            [1, 2, 3],
            "after every cell but the last"
        );
        // While each cell trains: the cells done before it, and how far it
        // has got (its first logged step at least).
        let mut started: Vec<(usize, f64, f64)> = training
            .iter()
            .map(|r| {
                let t = r.in_training.as_ref().unwrap();
                assert!(r
                    .cell(t.grokfast, t.weight_decay, t.train_fraction)
                    .is_none());
                (r.cells.len(), t.weight_decay, t.train_fraction)
            })
            .collect();
        started.dedup_by_key(|c| c.0);
        assert_eq!(
            started,
            [(0, 0.0, 0.5), (1, 0.3, 0.5), (2, 0.0, 0.3), (3, 0.3, 0.3)]
        );
        assert!(report.in_training.is_none());
        // The most data first (0.5 at both decays), then the rest.
        let first: Vec<(f64, f64)> = seen[1]
            .cells
            .iter()
            .map(|c| (c.weight_decay, c.train_fraction))
            .collect();
        assert_eq!(first, [(0.0, 0.5), (0.3, 0.5)]);
        let canonical: Vec<(f64, f64)> = report
            .cells
            .iter()
            .map(|c| (c.weight_decay, c.train_fraction))
            .collect();
        assert_eq!(canonical, [(0.0, 0.3), (0.0, 0.5), (0.3, 0.3), (0.3, 0.5)]);
        let whole = phase(&base, &[0.3, 0.5], &[0.0, 0.3], &[false], &|_, _| {}).unwrap();
        assert_eq!(whole.cells, report.cells, "watching changes nothing");
        // Drawn, the cell not yet trained reads as pending, never as "never".
        let lang = crate::words::Lang::En;
        let style = crate::render::style::TerminalStyle::plain();
        let partial = crate::render::grok::phase_body(
            &seen[2],
            crate::render::Format::Terminal,
            lang,
            &style,
        );
        assert_eq!(partial.matches("training…").count(), 1, "{partial}");
        // The cell in training shows its step and test accuracy so far.
        let now = training.last().unwrap();
        let t = now.in_training.as_ref().unwrap();
        let drawn =
            crate::render::grok::phase_body(now, crate::render::Format::Terminal, lang, &style);
        let cell = format!(
            "step {}: {}…",
            t.step,
            crate::words::numbers::whole_percent(t.test_accuracy)
        );
        assert!(drawn.contains(&cell), "{cell} in:\n{drawn}");
        assert!(!drawn.contains("training…"), "{drawn}");
        let full =
            crate::render::grok::phase_body(&report, crate::render::Format::Terminal, lang, &style);
        assert!(!full.contains("training…"), "{full}");
    }
}
