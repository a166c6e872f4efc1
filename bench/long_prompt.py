#!/usr/bin/env python3
"""Prefill of a long prompt: detprob against llama.cpp on the same GGUF and
the same prompt token ids, alternating rounds, medians and their ratio.

    cargo build --release
    python3 bench/versus_llama_cpp.py --install      # once: llama.cpp in bench/.venv
    python3 bench/long_prompt.py --tokens 3600 --rounds 3
    python3 bench/long_prompt.py --isa avx2   # both sides held to AVX2 + FMA (see versus_llama_cpp.py)

The prompt is a seeded run of common English words, tokenized by detprob;
detprob reads it with `generate --raw -n 1` (its reported prefill time),
llama.cpp with one `eval` of the same ids (n_batch 512), both on 2 threads.
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import time

import versus_llama_cpp
from versus_llama_cpp import DETPROB, THREADS, cpu_summary, detprob_env, model_path, venv_python

WORDS = ("the of and to in is that it was for on are as with his they at be this from have or "
         "by one had not but what all were when we there can an your which their said if do will "
         "each about how up out them then she many some so these would other into has more her two "
         "like him see time could no make than first been its who now people my made over did down "
         "only way find use may water long little very after words called just where most know").split()

LLAMA = """
import json, sys, time
import llama_cpp
path, ids, threads = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
llm = llama_cpp.Llama(model_path=path, n_ctx=8192, n_threads=threads,
                      n_threads_batch=threads, n_batch=512, verbose=False)
started = time.perf_counter()
llm.eval(ids)
print(time.perf_counter() - started)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--tokens", type=int, default=3600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--isa", choices=["native", "avx2"], default="native",
                        help="native: each side uses what this CPU has; avx2: both limited to AVX2 + FMA")
    args = parser.parse_args()
    versus_llama_cpp.ISA = args.isa
    if not venv_python().exists():
        raise SystemExit(f"llama.cpp is not installed: run python3 bench/versus_llama_cpp.py --isa {args.isa} --install")
    rng = random.Random(1)
    text = " ".join(rng.choice(WORDS) for _ in range(args.tokens))
    env = detprob_env()
    out = subprocess.run([str(DETPROB), "tokenize", "--model", args.model, "-f", "json", text],
                         capture_output=True, check=True, env=env).stdout
    ids = [t["id"] for t in json.loads(out)["tokens"]]
    path = model_path(args.model)
    ours, theirs = [], []
    for _ in range(args.rounds):
        out = subprocess.run([str(DETPROB), "generate", "--model", args.model, "--raw", "-t", "0",
                              "-n", "1", "-f", "json", text],
                             capture_output=True, check=True, env=env).stdout
        ours.append(json.loads(out)["completion"]["prefill_seconds"])
        out = subprocess.run([str(venv_python()), "-c", LLAMA, path, json.dumps(ids), str(THREADS)],
                             capture_output=True, check=True).stdout
        theirs.append(float(out.decode().strip()))
    a, b = statistics.median(ours), statistics.median(theirs)
    limited = "" if args.isa == "native" else "; both sides limited to AVX2 + FMA kernels"
    print(cpu_summary() + limited)
    print(f"{args.model}, {len(ids)}-token prompt, {THREADS} threads, medians of {args.rounds} alternating rounds")
    print(f"detprob prefill   {a:7.2f} s  ({len(ids) / a:6.1f} tokens/s)")
    print(f"llama.cpp prefill {b:7.2f} s  ({len(ids) / b:6.1f} tokens/s)")
    print(f"speed ratio (llama.cpp's time / detprob's; above 1: detprob is faster): {b / a:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
