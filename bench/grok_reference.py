#!/usr/bin/env python3
"""Training speed of `detprob emergence grok` against the same model, loss and
optimizer written in numpy (full batch, float32), alternating rounds, medians
and their ratio.

    cargo build --release
    python3 bench/grok_reference.py --rounds 3            # numpy from bench/.venv or the system
    python3 bench/grok_reference.py --check               # numpy also trains to the jump

PyTorch is the usual tool for this, but its Linux wheels from the package
index pull in the CUDA libraries (gigabytes) even for CPU use, so the
reference here is numpy, which the grokking papers' small MLPs were also
written in. Both sides: p = 97, 20 % of pairs, width 256, MSE on one-hot
targets, AdamW (lr 1e-2, betas 0.9/0.98, eps 1e-8, decoupled weight decay
0.3), 2 threads (OPENBLAS/OMP/MKL threads for numpy, RAYON for detprob).
Only the steps are timed on the numpy side; detprob's figure includes its
two evaluations (at the first and last step), which favours numpy slightly.
numpy runs in its fastest form of the same math: the embedding gradients are
one-hot matrices times the hidden gradient (two BLAS calls), not `np.add.at`
(`--add-at` measures that slower form; sorting the rows once and summing
them with `np.add.reduceat` is about as fast as the one-hot product at 1
thread — 1.10 vs 1.14 ms per embedding gradient, under 1 % of a step — and
slower at 2, 1.07 vs 0.59 ms, as it runs on one core). `--threads 1` or `2` sets both sides' threads.
`--engine candle` times detprob's reference path (candle's autograd and
candle-nn's AdamW) instead of its fused training step.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DETPROB = ROOT / "target" / "release" / "detprob"
THREADS = "2"  # replaced by --threads


def numpy_steps(steps, p=97, fraction=0.2, width=256, lr=1e-2, wd=0.3, seed=1, check=False, add_at=False):
    import numpy as np

    rng = np.random.default_rng(seed)
    pairs = np.array([(a, b) for a in range(p) for b in range(p)])
    rng.shuffle(pairs)
    cut = round(fraction * p * p)
    train, test = pairs[:cut], pairs[cut:]
    std = 0.5 / (2 * width) ** (1 / 3)
    params = [
        (rng.standard_normal((p, width)) * std).astype(np.float32),
        (rng.standard_normal((p, width)) * std).astype(np.float32),
        (rng.standard_normal((width, p)) * std).astype(np.float32),
    ]
    m = [np.zeros_like(x) for x in params]
    v = [np.zeros_like(x) for x in params]
    a, b = train[:, 0], train[:, 1]
    target = np.zeros((len(train), p), np.float32)
    target[np.arange(len(train)), (a + b) % p] = 1.0
    one_hot_a = np.zeros((len(train), p), np.float32)
    one_hot_a[np.arange(len(train)), a] = 1.0
    one_hot_b = np.zeros((len(train), p), np.float32)
    one_hot_b[np.arange(len(train)), b] = 1.0
    one_hot_a_t, one_hot_b_t = np.ascontiguousarray(one_hot_a.T), np.ascontiguousarray(one_hot_b.T)
    beta1, beta2, eps = 0.9, 0.98, 1e-8

    def accuracy(rows):
        h = params[0][rows[:, 0]] + params[1][rows[:, 1]]
        return float(((h * h) @ params[2]).argmax(1).__eq__((rows[:, 0] + rows[:, 1]) % p).mean())

    started = time.perf_counter()
    for t in range(1, steps + 1):
        h = params[0][a] + params[1][b]
        z = h * h
        out = z @ params[2]
        d_out = (2.0 / out.size) * (out - target)
        g2 = z.T @ d_out
        d_h = (d_out @ params[2].T) * (2.0 * h)
        if add_at:
            g0 = np.zeros_like(params[0])
            g1 = np.zeros_like(params[1])
            np.add.at(g0, a, d_h)
            np.add.at(g1, b, d_h)
        else:
            g0 = one_hot_a_t @ d_h
            g1 = one_hot_b_t @ d_h
        for i, g in enumerate((g0, g1, g2)):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat = m[i] / (1 - beta1**t)
            v_hat = v[i] / (1 - beta2**t)
            params[i] = params[i] * (1 - lr * wd) - lr * m_hat / (np.sqrt(v_hat) + eps)
        if check and t % 200 == 0:
            print(f"numpy step {t}: train {accuracy(train):.3f} test {accuracy(test):.3f}", file=sys.stderr)
    return steps / (time.perf_counter() - started)


def detprob_steps(steps, engine="detprob"):
    env = dict(os.environ, RAYON_NUM_THREADS=THREADS)
    out = subprocess.run(
        [str(DETPROB), "emergence", "grok", "--steps", str(steps), "--no-stop",
         "--log-every", str(steps), "--format", "json", "--engine", engine, "--no-log"],
        check=True, capture_output=True, text=True, env=env,
    ).stdout
    report = json.loads(out)
    return report["rows"][-1]["step"] / report["seconds"]


def cpu_flags():
    try:
        flags = next(l for l in open("/proc/cpuinfo") if l.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown"
    wanted = ["avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni"]
    return " ".join(f for f in wanted if f in flags)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--check", action="store_true", help="let numpy train 2,000 steps and print accuracies")
    parser.add_argument("--threads", choices=["1", "2"], default="2")
    parser.add_argument("--add-at", action="store_true", help="numpy's slower np.add.at form of the embedding gradients")
    parser.add_argument("--engine", choices=["detprob", "candle"], default="detprob",
                        help="detprob's fused training step (default) or candle's autograd reference")
    args = parser.parse_args()
    global THREADS
    THREADS = args.threads
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = THREADS
    if args.check:
        numpy_steps(2000, check=True, add_at=args.add_at)
        return
    if not DETPROB.exists():
        sys.exit("build first: cargo build --release")
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(detprob_steps(args.steps, args.engine))
        theirs.append(numpy_steps(args.steps, add_at=args.add_at))
    a, b = statistics.median(ours), statistics.median(theirs)
    form = "np.add.at" if args.add_at else "one-hot matmul"
    print(f"CPU flags: {cpu_flags()}; {THREADS} threads; {args.steps} steps, {args.rounds} alternating rounds; numpy's {form} form")
    print(f"detprob (engine {args.engine}) {a:.1f} steps/s   numpy {b:.1f} steps/s   ratio {a / b:.2f}")


if __name__ == "__main__":
    main()
