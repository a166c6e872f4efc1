//! The grokking network's training, by two engines that compute the same
//! math: [`CandleNetwork`] (candle's tensors, autograd and candle-nn's
//! `AdamW`: the reference) and [`FusedNetwork`] (the full-batch step
//! written out: three `gemm` products into buffers made once, the embedding
//! gradients as row sums, the element-wise work and the AdamW update each
//! one pass). Both start from the same weights; their curves agree to f32
//! rounding (a test holds them together), and each gives the same bits at
//! any thread count.
//!
//! The network: one learned vector per a and per b, summed, squared
//! element-wise and read out to p scores; the loss is the mean squared
//! error against the one-hot answer.

use candle_core::{Device, Tensor, Var};
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW};
use rayon::prelude::*;

/// Grokfast's EMA filter: the gradient's slow part, kept with weight α and
/// added back λ times (the paper's EMA defaults).
pub const GROKFAST_ALPHA: f64 = 0.98;
/// See [`GROKFAST_ALPHA`].
pub const GROKFAST_LAMBDA: f64 = 2.0;

/// AdamW's moment decay rates and ε (Gromov's and Nanda's choices).
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.98;
const EPS: f64 = 1e-8;

/// Pairs (a, b) and their answers (a + b) mod p.
#[derive(Debug, Clone)]
pub struct Pairs {
    /// The first operands.
    pub a: Vec<u32>,
    /// The second operands.
    pub b: Vec<u32>,
    /// The answers.
    pub labels: Vec<u32>,
}

impl Pairs {
    /// `pairs` with their answers mod `p`.
    pub fn new(pairs: &[(u32, u32)], p: usize) -> Self {
        Self {
            a: pairs.iter().map(|x| x.0).collect(),
            b: pairs.iter().map(|x| x.1).collect(),
            labels: pairs.iter().map(|x| (x.0 + x.1) % p as u32).collect(),
        }
    }

    fn len(&self) -> usize {
        self.labels.len()
    }
}

/// The table of (a, b) pairs split into training and test sets.
#[derive(Debug, Clone)]
pub struct Split {
    /// The pairs trained on.
    pub train: Pairs,
    /// The unseen pairs.
    pub test: Pairs,
}

/// Which part of the split to evaluate on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The pairs trained on.
    Train,
    /// The unseen pairs.
    Test,
}

impl Split {
    fn part(&self, part: Part) -> &Pairs {
        match part {
            Part::Train => &self.train,
            Part::Test => &self.test,
        }
    }
}

/// Starting weights: two embeddings (p × width) and the readout (width × p),
/// row-major.
#[derive(Debug, Clone)]
pub struct Weights {
    /// The modulus p.
    pub p: usize,
    /// The hidden width.
    pub width: usize,
    /// The vectors of a.
    pub embed_a: Vec<f32>,
    /// The vectors of b.
    pub embed_b: Vec<f32>,
    /// The readout.
    pub readout: Vec<f32>,
}

/// The optimizer's settings.
#[derive(Debug, Clone, Copy)]
pub struct Optimization {
    /// AdamW learning rate.
    pub lr: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Whether Grokfast's filter amplifies the slow gradient.
    pub grokfast: bool,
}

/// A network being trained on the training part of its split.
pub trait Trainer {
    /// Accuracy (share of argmax answers right) and mean squared error on
    /// one part of the split.
    fn evaluate(&mut self, part: Part) -> anyhow::Result<(f64, f64)>;
    /// One full-batch optimizer step on the training set.
    fn step(&mut self) -> anyhow::Result<()>;
    /// The vectors of a (p × width, row-major).
    fn embedding_a(&self) -> anyhow::Result<Vec<f32>>;
    /// The L2 norm of all weights.
    fn weight_norm(&self) -> anyhow::Result<f64>;
}

/// The reference: candle tensors, autograd, candle-nn's `AdamW`.
pub struct CandleNetwork {
    embed_a: Var,
    embed_b: Var,
    readout: Var,
    /// The training and test parts as tensors, made once.
    train: CandleSet,
    test: CandleSet,
    optimizer: AdamW,
    grokfast: bool,
    slow: Vec<Option<Tensor>>,
}

/// Pairs as candle tensors: the operands, the one-hot answers, and the
/// answers themselves (to count right guesses).
struct CandleSet {
    a: Tensor,
    b: Tensor,
    one_hot: Tensor,
    labels: Vec<u32>,
}

impl CandleSet {
    fn new(set: &Pairs, p: usize) -> candle_core::Result<Self> {
        let n = set.len();
        let mut one_hot = vec![0f32; n * p];
        for (i, &l) in set.labels.iter().enumerate() {
            one_hot[i * p + l as usize] = 1.0;
        }
        Ok(Self {
            a: Tensor::from_vec(set.a.clone(), n, &Device::Cpu)?,
            b: Tensor::from_vec(set.b.clone(), n, &Device::Cpu)?,
            one_hot: Tensor::from_vec(one_hot, (n, p), &Device::Cpu)?,
            labels: set.labels.clone(),
        })
    }
}

impl CandleNetwork {
    /// A network starting at `weights`, to be trained on `split`'s training part.
    pub fn new(weights: &Weights, split: &Split, opt: Optimization) -> anyhow::Result<Self> {
        let (p, w) = (weights.p, weights.width);
        let var = |values: &[f32], shape: (usize, usize)| {
            Var::from_tensor(&Tensor::from_vec(values.to_vec(), shape, &Device::Cpu)?)
        };
        let embed_a = var(&weights.embed_a, (p, w))?;
        let embed_b = var(&weights.embed_b, (p, w))?;
        let readout = var(&weights.readout, (w, p))?;
        let optimizer = AdamW::new(
            vec![embed_a.clone(), embed_b.clone(), readout.clone()],
            ParamsAdamW {
                lr: opt.lr,
                beta1: BETA1,
                beta2: BETA2,
                eps: EPS,
                weight_decay: opt.weight_decay,
            },
        )?;
        Ok(Self {
            embed_a,
            embed_b,
            readout,
            train: CandleSet::new(&split.train, p)?,
            test: CandleSet::new(&split.test, p)?,
            optimizer,
            grokfast: opt.grokfast,
            slow: vec![None; 3],
        })
    }

    fn scores(&self, a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
        let hidden = (self.embed_a.index_select(a, 0)? + self.embed_b.index_select(b, 0)?)?;
        hidden.sqr()?.matmul(self.readout.as_tensor())
    }

    fn vars(&self) -> [&Var; 3] {
        [&self.embed_a, &self.embed_b, &self.readout]
    }
}

impl Trainer for CandleNetwork {
    fn evaluate(&mut self, part: Part) -> anyhow::Result<(f64, f64)> {
        let set = match part {
            Part::Train => &self.train,
            Part::Test => &self.test,
        };
        let scores = self.scores(&set.a, &set.b)?;
        let loss = (&scores - &set.one_hot)?
            .sqr()?
            .mean_all()?
            .to_scalar::<f32>()? as f64;
        let guesses: Vec<u32> = scores.argmax(1)?.to_vec1()?;
        let right = guesses
            .iter()
            .zip(&set.labels)
            .filter(|(g, l)| g == l)
            .count();
        Ok((right as f64 / set.labels.len() as f64, loss))
    }

    fn step(&mut self) -> anyhow::Result<()> {
        let scores = self.scores(&self.train.a, &self.train.b)?;
        let loss = (&scores - &self.train.one_hot)?.sqr()?.mean_all()?;
        let mut grads = loss.backward()?;
        if self.grokfast {
            let vars = [&self.embed_a, &self.embed_b, &self.readout];
            for (var, slow) in vars.into_iter().zip(self.slow.iter_mut()) {
                let Some(g) = grads.get(var.as_tensor()).cloned() else {
                    continue;
                };
                let ema = match slow.take() {
                    Some(previous) => {
                        ((previous * GROKFAST_ALPHA)? + (&g * (1.0 - GROKFAST_ALPHA))?)?
                    }
                    None => g.clone(),
                };
                grads.insert(var.as_tensor(), (&g + (&ema * GROKFAST_LAMBDA)?)?);
                *slow = Some(ema);
            }
        }
        self.optimizer.step(&grads)?;
        Ok(())
    }

    fn embedding_a(&self) -> anyhow::Result<Vec<f32>> {
        Ok(self.embed_a.as_tensor().flatten_all()?.to_vec1()?)
    }

    fn weight_norm(&self) -> anyhow::Result<f64> {
        let mut sum = 0f64;
        for var in self.vars() {
            sum += var.as_tensor().sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
        }
        Ok(sum.sqrt())
    }
}

/// One weight matrix with its gradient, AdamW moments and Grokfast filter.
struct Parameter {
    value: Vec<f32>,
    grad: Vec<f32>,
    first: Vec<f32>,
    second: Vec<f32>,
    slow: Option<Vec<f32>>,
}

impl Parameter {
    fn new(value: &[f32]) -> Self {
        Self {
            value: value.to_vec(),
            grad: vec![0.0; value.len()],
            first: vec![0.0; value.len()],
            second: vec![0.0; value.len()],
            slow: None,
        }
    }

    /// Grokfast's filter on the gradient: slow ← α·slow + (1 − α)·g (g at
    /// the first step), g ← g + λ·slow.
    fn filter(&mut self) {
        let (alpha, lambda) = (GROKFAST_ALPHA as f32, GROKFAST_LAMBDA as f32);
        match &mut self.slow {
            None => {
                let slow = self.grad.clone();
                for (g, s) in self.grad.iter_mut().zip(&slow) {
                    *g += *s * lambda;
                }
                self.slow = Some(slow);
            }
            Some(slow) => {
                self.grad
                    .par_chunks_mut(CHUNK)
                    .zip(slow.par_chunks_mut(CHUNK))
                    .for_each(|(g, s)| {
                        for (g, s) in g.iter_mut().zip(s) {
                            *s = *s * alpha + *g * (1.0 - alpha);
                            *g += *s * lambda;
                        }
                    });
            }
        }
    }

    /// AdamW with decoupled weight decay, as candle-nn writes it, at step `t`.
    fn update(&mut self, opt: &Optimization, t: i32) {
        let (b1, b2) = (BETA1 as f32, BETA2 as f32);
        let scale_m = (1.0 / (1.0 - BETA1.powi(t))) as f32;
        let scale_v = (1.0 / (1.0 - BETA2.powi(t))) as f32;
        let decay = (1.0 - opt.lr * opt.weight_decay) as f32;
        let (lr, eps) = (opt.lr as f32, EPS as f32);
        self.value
            .par_chunks_mut(CHUNK)
            .zip(self.grad.par_chunks(CHUNK))
            .zip(self.first.par_chunks_mut(CHUNK))
            .zip(self.second.par_chunks_mut(CHUNK))
            .for_each(|(((x, g), m), v)| {
                for (((x, &g), m), v) in x.iter_mut().zip(g).zip(m).zip(v) {
                    *m = *m * b1 + g * (1.0 - b1);
                    *v = *v * b2 + g * g * (1.0 - b2);
                    let step = (*m * scale_m) / ((*v * scale_v).sqrt() + eps);
                    *x = *x * decay - step * lr;
                }
            });
    }
}

/// Element-wise work is split into chunks of this many values.
const CHUNK: usize = 16 * 1024;

/// detprob's own step: the same math with no tensor allocated per step.
pub struct FusedNetwork {
    p: usize,
    width: usize,
    embed_a: Parameter,
    embed_b: Parameter,
    readout: Parameter,
    split: Split,
    opt: Optimization,
    steps: i32,
    buffers: Buffers,
}

/// What one pass over a block of rows computes.
struct Buffers {
    /// Per row: the hidden sum h.
    hidden: Vec<f32>,
    /// Per row: h², the readout's input; in the backward pass, the
    /// gradient at h.
    squared: Vec<f32>,
    /// Per row: the p scores; in the backward pass, the loss's gradient at
    /// them.
    scores: Vec<f32>,
}

/// `dst (m × n) = lhs (m × k) · rhs (k × n)`, each given by its row and
/// column strides, on the rayon pool's threads (gemm splits the output, so
/// every value is summed in the same order at any thread count).
fn product(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
) {
    assert!(dst.len() >= m * n);
    assert!(lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs);
    assert!(rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs);
    let threads = rayon::current_num_threads();
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the asserts above keep every index gemm reads or writes
    // inside the three slices; dst does not overlap the inputs (it is a
    // distinct &mut).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

impl FusedNetwork {
    /// A network starting at `weights`, to be trained on `split`'s training part.
    pub fn new(weights: &Weights, split: &Split, opt: Optimization) -> Self {
        let (p, w, n) = (weights.p, weights.width, split.train.len());
        Self {
            p,
            width: w,
            embed_a: Parameter::new(&weights.embed_a),
            embed_b: Parameter::new(&weights.embed_b),
            readout: Parameter::new(&weights.readout),
            split: split.clone(),
            opt,
            steps: 0,
            buffers: Buffers {
                hidden: vec![0.0; n * w],
                squared: vec![0.0; n * w],
                scores: vec![0.0; n * p],
            },
        }
    }
}

/// The forward pass of the network with weights `[a's, b's, readout]` over
/// `rows` of `set` into `buffers`: h, h² and the scores.
fn forward(
    buffers: &mut Buffers,
    [ea, eb, readout]: [&[f32]; 3],
    (p, w): (usize, usize),
    set: &Pairs,
    rows: std::ops::Range<usize>,
) {
    let n = rows.len();
    let (a, b) = (&set.a[rows.clone()], &set.b[rows]);
    buffers.hidden[..n * w]
        .par_chunks_mut(w)
        .zip(buffers.squared[..n * w].par_chunks_mut(w))
        .zip(a.par_iter().zip(b.par_iter()))
        .for_each(|((h, z), (&a, &b))| {
            let (ra, rb) = (a as usize * w, b as usize * w);
            for (((h, z), x), y) in h
                .iter_mut()
                .zip(z.iter_mut())
                .zip(&ea[ra..ra + w])
                .zip(&eb[rb..rb + w])
            {
                *h = x + y;
                *z = *h * *h;
            }
        });
    product(
        (n, p, w),
        &mut buffers.scores,
        &buffers.squared,
        (w, 1),
        readout,
        (p, 1),
    );
}

/// Adds row i of `d` (rows of `width`) to row `ids[i]` of `grad`, rows in
/// order, after clearing it.
fn add_rows(grad: &mut [f32], d: &[f32], ids: &[u32], width: usize) {
    grad.fill(0.0);
    for (row, &id) in d.chunks(width).zip(ids) {
        let at = id as usize * width;
        for (x, y) in grad[at..at + width].iter_mut().zip(row) {
            *x += y;
        }
    }
}

/// Rows evaluated at once (bounds the buffers for a large test set).
const EVALUATION_ROWS: usize = 4096;

impl Trainer for FusedNetwork {
    fn evaluate(&mut self, part: Part) -> anyhow::Result<(f64, f64)> {
        let (p, w) = (self.p, self.width);
        let set = self.split.part(part);
        let block = EVALUATION_ROWS.max(self.split.train.len());
        let buffers = &mut self.buffers;
        if buffers.scores.len() < block * p {
            buffers.hidden.resize(block * w, 0.0);
            buffers.squared.resize(block * w, 0.0);
            buffers.scores.resize(block * p, 0.0);
        }
        let (mut right, mut squares) = (0usize, 0f64);
        for start in (0..set.len()).step_by(block) {
            let rows = start..(start + block).min(set.len());
            let n = rows.len();
            forward(
                buffers,
                [
                    &self.embed_a.value,
                    &self.embed_b.value,
                    &self.readout.value,
                ],
                (p, w),
                set,
                rows.clone(),
            );
            let labels = &set.labels[rows];
            let per_row: Vec<(bool, f64)> = buffers.scores[..n * p]
                .par_chunks(p)
                .zip(labels.par_iter())
                .map(|(scores, &label)| {
                    let mut best = 0;
                    let mut sum = 0f64;
                    for (j, &s) in scores.iter().enumerate() {
                        if s > scores[best] {
                            best = j;
                        }
                        let d = s - f32::from(j == label as usize);
                        sum += f64::from(d * d);
                    }
                    (best == label as usize, sum)
                })
                .collect();
            right += per_row.iter().filter(|r| r.0).count();
            squares += per_row.iter().map(|r| r.1).sum::<f64>();
        }
        Ok((
            right as f64 / set.len() as f64,
            squares / (set.len() * p) as f64,
        ))
    }

    fn step(&mut self) -> anyhow::Result<()> {
        let (p, w, n) = (self.p, self.width, self.split.train.len());
        let train = &self.split.train;
        let buffers = &mut self.buffers;
        forward(
            buffers,
            [
                &self.embed_a.value,
                &self.embed_b.value,
                &self.readout.value,
            ],
            (p, w),
            train,
            0..n,
        );
        // d loss / d score = 2 (score − one-hot) / (n · p), in place.
        let scale = 2.0 / (n * p) as f32;
        buffers.scores[..n * p]
            .par_chunks_mut(p)
            .zip(train.labels.par_iter())
            .for_each(|(row, &label)| {
                row[label as usize] -= 1.0;
                for s in row.iter_mut() {
                    *s *= scale;
                }
            });
        // The readout's gradient: (h²)ᵀ · d scores.
        product(
            (w, p, n),
            &mut self.readout.grad,
            &buffers.squared,
            (1, w),
            &buffers.scores,
            (p, 1),
        );
        // The gradient at h², then at h (× 2h), kept in `squared`.
        product(
            (n, w, p),
            &mut buffers.squared,
            &buffers.scores,
            (p, 1),
            &self.readout.value,
            (1, p),
        );
        buffers.squared[..n * w]
            .par_chunks_mut(CHUNK)
            .zip(buffers.hidden[..n * w].par_chunks(CHUNK))
            .for_each(|(d, h)| {
                for (d, h) in d.iter_mut().zip(h) {
                    *d *= 2.0 * h;
                }
            });
        // The embeddings' gradients: each row's gradient added to its a's
        // and its b's vector (one thread each, rows in order).
        let d = &buffers.squared[..n * w];
        rayon::join(
            || add_rows(&mut self.embed_a.grad, d, &train.a, w),
            || add_rows(&mut self.embed_b.grad, d, &train.b, w),
        );
        self.steps += 1;
        for param in [&mut self.embed_a, &mut self.embed_b, &mut self.readout] {
            if self.opt.grokfast {
                param.filter();
            }
            param.update(&self.opt, self.steps);
        }
        Ok(())
    }

    fn embedding_a(&self) -> anyhow::Result<Vec<f32>> {
        Ok(self.embed_a.value.clone())
    }

    fn weight_norm(&self) -> anyhow::Result<f64> {
        // Summed per chunk, then in chunk order: the same at any thread count.
        let sum = |v: &[f32]| -> f64 {
            let chunks: Vec<f64> = v
                .par_chunks(CHUNK)
                .map(|c| c.iter().map(|&x| f64::from(x * x)).sum::<f64>())
                .collect();
            chunks.iter().sum()
        };
        let [a, b, r] = [&self.embed_a, &self.embed_b, &self.readout].map(|x| sum(&x.value));
        Ok((a + b + r).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small network's weights and training set, from a fixed formula.
    fn problem(p: usize, width: usize) -> (Weights, Split) {
        let value =
            |i: usize, salt: usize| ((i * 7919 + salt * 104_729) % 1000) as f32 / 4000.0 - 0.125;
        let weights = Weights {
            p,
            width,
            embed_a: (0..p * width).map(|i| value(i, 1)).collect(),
            embed_b: (0..p * width).map(|i| value(i, 2)).collect(),
            readout: (0..width * p).map(|i| value(i, 3)).collect(),
        };
        let pairs: Vec<(u32, u32)> = (0..p as u32)
            .flat_map(|a| (0..p as u32).map(move |b| (a, b)))
            .collect();
        let (train, test): (Vec<_>, Vec<_>) = pairs.iter().partition(|(a, b)| (a * 3 + b) % 4 == 0);
        let split = Split {
            train: Pairs::new(&train, p),
            test: Pairs::new(&test, p),
        };
        (weights, split)
    }

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1e-12)
    }

    #[test]
    fn the_fused_step_follows_candles_autograd_and_adamw() {
        for grokfast in [false, true] {
            let (weights, split) = problem(13, 24);
            let opt = Optimization {
                lr: 1e-2,
                weight_decay: 0.3,
                grokfast,
            };
            let mut reference = CandleNetwork::new(&weights, &split, opt).unwrap();
            let mut fused = FusedNetwork::new(&weights, &split, opt);
            for step in 0..30 {
                for part in [Part::Train, Part::Test] {
                    let (ra, rl) = reference.evaluate(part).unwrap();
                    let (fa, fl) = fused.evaluate(part).unwrap();
                    let set = split.part(part);
                    assert!(close(rl, fl, 1e-4), "step {step}: loss {rl} vs {fl}");
                    assert!(
                        (ra - fa).abs() <= 1.0 / set.labels.len() as f64,
                        "step {step}"
                    );
                }
                let (rn, fnorm) = (
                    reference.weight_norm().unwrap(),
                    fused.weight_norm().unwrap(),
                );
                assert!(close(rn, fnorm, 1e-5), "step {step}: norm {rn} vs {fnorm}");
                reference.step().unwrap();
                fused.step().unwrap();
            }
            let (r, f) = (
                reference.embedding_a().unwrap(),
                fused.embedding_a().unwrap(),
            );
            let largest = r
                .iter()
                .zip(&f)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(
                largest < 1e-4,
                "grokfast {grokfast}: weights apart by {largest}"
            );
            // Training moved the weights (the comparison is not of two idle
            // networks).
            let moved = r
                .iter()
                .zip(&weights.embed_a)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(moved > 1e-2, "moved {moved}");
        }
    }

    #[test]
    fn a_test_set_larger_than_one_block_is_evaluated_whole() {
        // 4,096 rows per block: 71² = 5,041 test pairs take two blocks.
        let (weights, mut split) = problem(71, 8);
        let all: Vec<(u32, u32)> = (0..71u32)
            .flat_map(|a| (0..71u32).map(move |b| (a, b)))
            .collect();
        split.test = Pairs::new(&all, 71);
        let opt = Optimization {
            lr: 1e-2,
            weight_decay: 0.0,
            grokfast: false,
        };
        let (ra, rl) = CandleNetwork::new(&weights, &split, opt)
            .unwrap()
            .evaluate(Part::Test)
            .unwrap();
        let (fa, fl) = FusedNetwork::new(&weights, &split, opt)
            .evaluate(Part::Test)
            .unwrap();
        // candle sums the squares in f32, detprob in f64.
        assert!(close(rl, fl, 1e-4), "{rl} vs {fl}");
        assert!((ra - fa).abs() <= 1.0 / 5041.0, "{ra} vs {fa}");
    }
}
