#!/usr/bin/env python3
"""detprob against llama.cpp on the same GGUF file, side by side.

    python3 bench/versus_llama_cpp.py --install      # once: builds llama-cpp-python (~10 min)
    python3 bench/versus_llama_cpp.py                # both models, 5 alternating rounds
    python3 bench/versus_llama_cpp.py --models smollm2-135m --rounds 3
    python3 bench/versus_llama_cpp.py --isa avx2 --install  # llama.cpp for AVX2 + FMA only
    python3 bench/versus_llama_cpp.py --isa avx2            # both sides limited to AVX2 + FMA

The reference is llama.cpp through llama-cpp-python, installed into
bench/.venv (the script re-runs itself there). `--isa avx2` measures what a
machine with AVX2 + FMA and no AVX-512 would see: llama.cpp built for AVX2,
FMA and F16C only (into bench/.venv-avx2) against detprob forced to its AVX2
kernels (DETPROB_KERNEL=avx2). detprob is the release build
in target/release (built first with `cargo build --release`).

Each round runs detprob, then llama.cpp, with 2 threads and the same prompt
token ids, and measures:

- load: reading the cached model (detprob: its own `load_seconds`, which
  includes building the tokenizer; llama.cpp: constructing `Llama`);
- first token: process start to first token for detprob (`generate
  --max-tokens 1`, whole process wall time, including a small Python
  launcher's start-up);
- prefill tokens/s over the ~100-token prompt;
- decode tokens/s over 48 tokens (llama.cpp is fed the tokens detprob chose,
  one `eval` per token, so both do the same work; its Python loop adds a few
  microseconds per token);
- grid: 32 completions (4 temperatures x 8 seeds) x 48 tokens after the
  prompt. detprob: one `detprob sweep` process (load, sampling and writing
  its file included). llama.cpp, two ways: one after another (the prompt is
  evaluated once, its state saved, and each completion restores that state
  and evaluates 48 tokens, no sampling cost counted), and batched as its
  `batched` example does (the prompt's KV cache copied to 32 sequences,
  one `llama_decode` of all 32 per step, greedy picks in C);
- detprob's peak RSS during `generate` (from the kernel, for a process
  started by a fresh, small interpreter).

It prints medians over the rounds and the ratio detprob / llama.cpp.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".venv"
ISA = "native"
DETPROB = ROOT / "target" / "release" / "detprob"
LLAMA_CPP_PYTHON = "llama-cpp-python==0.3.36"
THREADS = 2
NEW_TOKENS = 48
GRID_TEMPERATURES = "0.3,0.7,1.0,1.3"
GRID_SEEDS = "1..8"
PROMPT = (
    "A teacher explains to a class how a conventional program differs from a "
    "large language model. A conventional program follows rules written by "
    "hand: the same input always gives the same output, and every step can be "
    "traced to a line of code. A language model learns patterns from data and "
    "samples each next token from a probability distribution, so its answers "
    "can change from run to run. Write the next paragraph of the lesson, about "
    "why that matters when you need an exact answer."
)


def venv_dir() -> Path:
    return VENV if ISA == "native" else VENV.with_name(".venv-" + ISA)


def venv_python() -> Path:
    return venv_dir() / "bin" / "python"


def cmake_args() -> str:
    """llama.cpp's build flags for this CPU. A native build uses AMX where the
    CPU lists it, but a virtual machine may not enable AMX state (the first
    tile load dies with "Illegal instruction"): there, build for the listed
    vector extensions without AMX."""
    flags = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        return ""
    if ISA == "avx2":
        return "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    if not any(f.startswith("amx") for f in flags):
        return ""
    wanted = {
        "avx": "GGML_AVX", "avx2": "GGML_AVX2", "fma": "GGML_FMA", "f16c": "GGML_F16C",
        "avx512f": "GGML_AVX512", "avx512_vnni": "GGML_AVX512_VNNI",
        "avx512vbmi": "GGML_AVX512_VBMI", "avx512_bf16": "GGML_AVX512_BF16",
        "avx_vnni": "GGML_AVX_VNNI",
    }
    return " ".join(["-DGGML_NATIVE=OFF"] + [f"-D{v}=ON" for f, v in wanted.items() if f in flags])


def install() -> None:
    if not venv_python().exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv_dir())], check=True)
    env = dict(os.environ)
    if cmake_args():
        env["CMAKE_ARGS"] = cmake_args()
    subprocess.run(
        # --no-cache-dir: build for this machine's CPU. A wheel cached from a
        # machine with other instruction sets dies with "Illegal instruction".
        [str(venv_python()), "-m", "pip", "install", "--no-cache-dir", LLAMA_CPP_PYTHON],
        check=True,
        env=env,
    )


# Starts a command from a small, fresh interpreter and prints the command's
# peak RSS: a child forked from this (large) process would be charged for
# this process's pages before it execs.
RSS_PROBE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def run_child(args: list[str], env: dict) -> tuple[str, float, int]:
    """Runs a command; returns stdout, wall seconds and peak RSS in bytes."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-S", "-c", RSS_PROBE, *args],
                          capture_output=True, env=env)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}: {proc.stderr.decode()[-300:]}")
    rss_kib = int(proc.stderr.decode().strip().splitlines()[-1])
    return proc.stdout.decode(), wall, rss_kib * 1024


def detprob_env() -> dict:
    env = dict(os.environ)
    env["RAYON_NUM_THREADS"] = str(THREADS)
    if ISA != "native":
        env["DETPROB_KERNEL"] = ISA
    return env


def model_path(alias: str) -> str:
    out, _, _ = run_child([str(DETPROB), "model", "path", alias], detprob_env())
    return out.strip().split("\t")[-1]


def detprob_round(alias: str) -> dict:
    env = detprob_env()
    gen = [str(DETPROB), "generate", "-m", alias, "--temperature", "0", "--raw",
           "--ignore-eos", "-f", "json"]
    out, _, rss = run_child(gen + ["--max-tokens", str(NEW_TOKENS), PROMPT], env)
    report = json.loads(out)
    completion = report["completion"]
    _, first_token_wall, _ = run_child(gen + ["--max-tokens", "1", PROMPT], env)
    with tempfile.TemporaryDirectory() as scratch:
        grid_out = Path(scratch) / "grid.csv"
        started = time.perf_counter()
        run_child([str(DETPROB), "sweep", "-m", alias, "--prompt", PROMPT, "--raw",
                   "--temperatures", GRID_TEMPERATURES, "--seeds", GRID_SEEDS,
                   "--max-tokens", str(NEW_TOKENS), "--ignore-eos",
                   "--output", str(grid_out), "--quiet"], env)
        grid_seconds = time.perf_counter() - started
    return {
        "prompt_ids": report["prompt_ids"],
        "tokens": completion["tokens"],
        "load": report["model"]["load_seconds"],
        "first_token": first_token_wall,
        "prefill": len(report["prompt_ids"]) / completion["prefill_seconds"],
        "decode": completion["decoded_tokens"] / completion["decode_seconds"],
        "grid": grid_seconds,
        "rss_mb": rss / 1e6,
    }


def llama_round(path: str, prompt_ids: list[int], tokens: list[int]) -> dict:
    import llama_cpp

    started = time.perf_counter()
    llm = llama_cpp.Llama(model_path=path, n_ctx=1024, n_threads=THREADS,
                          n_threads_batch=THREADS, n_batch=512, verbose=False)
    load = time.perf_counter() - started
    fed = tokens[:-1]

    llm.reset()
    started = time.perf_counter()
    llm.eval(prompt_ids)
    prefill = len(prompt_ids) / (time.perf_counter() - started)
    state = llm.save_state()
    started = time.perf_counter()
    for token in fed:
        llm.eval([token])
    decode = len(fed) / (time.perf_counter() - started)

    llm.reset()
    started = time.perf_counter()
    llm.eval(prompt_ids)
    state = llm.save_state()
    for _ in range(32):
        llm.load_state(state)
        for token in fed:
            llm.eval([token])
    grid = time.perf_counter() - started
    del llm
    return {"load": load, "prefill": prefill, "decode": decode, "grid": grid,
            "grid_batched": llama_batched_grid(path, prompt_ids)}


QUIET = None


def llama_batched_grid(path: str, prompt_ids: list[int], sequences: int = 32) -> float:
    """llama.cpp's own way to run many completions of one prompt (its
    `batched` example): the prompt is evaluated once, its KV cache copied to
    every sequence (`llama_memory_seq_cp`), and each step decodes one token
    of all sequences in a single `llama_decode` batch, picked by llama.cpp's
    greedy sampler in C. Seconds from the prompt to the last token (the
    model already loaded)."""
    import llama_cpp as L

    global QUIET
    if QUIET is None:  # llama.cpp's load messages would fill the table's output
        QUIET = L.llama_log_callback(lambda level, text, user_data: None)
        L.llama_log_set(QUIET, None)
    model = L.llama_model_load_from_file(path.encode(), L.llama_model_default_params())
    params = L.llama_context_default_params()
    params.n_ctx = sequences * (len(prompt_ids) + NEW_TOKENS) + 64
    params.n_batch = params.n_ubatch = max(len(prompt_ids), sequences)
    params.n_seq_max = sequences
    params.n_threads = params.n_threads_batch = THREADS
    params.kv_unified = True
    ctx = L.llama_init_from_model(model, params)
    batch = L.llama_batch_init(max(len(prompt_ids), sequences), 0, sequences)
    greedy = L.llama_sampler_init_greedy()

    def fill(rows):
        batch.n_tokens = len(rows)
        for i, (token, position, sequence, wants_logits) in enumerate(rows):
            batch.token[i] = token
            batch.pos[i] = position
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = sequence
            batch.logits[i] = wants_logits
        if L.llama_decode(ctx, batch) != 0:
            raise SystemExit("llama_decode failed")

    started = time.perf_counter()
    last = len(prompt_ids) - 1
    fill([(t, i, 0, i == last) for i, t in enumerate(prompt_ids)])
    first = L.llama_sampler_sample(greedy, ctx, last)
    memory = L.llama_get_memory(ctx)
    for sequence in range(1, sequences):
        L.llama_memory_seq_cp(memory, 0, sequence, -1, -1)
    tokens = [first] * sequences
    for step in range(NEW_TOKENS - 1):
        fill([(tokens[s], len(prompt_ids) + step, s, True) for s in range(sequences)])
        tokens = [L.llama_sampler_sample(greedy, ctx, s) for s in range(sequences)]
    seconds = time.perf_counter() - started
    L.llama_sampler_free(greedy)
    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(model)
    return seconds


def cpu_summary() -> str:
    model, flags = "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model == "unknown CPU":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    shown = [f for f in ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx_vnni", "avx512_vnni") if f in flags]
    return f"{model}, {os.cpu_count()} logical cores, flags: {' '.join(shown) or 'none'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--install", action="store_true",
                        help=f"install {LLAMA_CPP_PYTHON} into bench/.venv (or .venv-ISA) and exit")
    parser.add_argument("--isa", choices=["native", "avx2"], default="native",
                        help="native: each side uses what this CPU has; avx2: both limited to AVX2 + FMA")
    parser.add_argument("--models", default="smollm2-135m,gemma3-270m")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", default="1,2",
                        help="thread counts to measure, comma-separated (both sides get the same)")
    args = parser.parse_args()
    global ISA
    ISA = args.isa
    if args.install:
        install()
        return
    if Path(sys.prefix).resolve() != venv_dir().resolve():
        if not venv_python().exists():
            raise SystemExit(f"llama.cpp is not installed: run python3 bench/versus_llama_cpp.py --isa {ISA} --install")
        os.execv(str(venv_python()), [str(venv_python()), __file__, *sys.argv[1:]])
    if not DETPROB.exists():
        raise SystemExit("build detprob first: cargo build --release")

    global THREADS
    limited = "" if ISA == "native" else f"; both sides limited to {ISA.upper()} + FMA kernels"
    print(f"machine: {cpu_summary()}{limited}; medians of {args.rounds} alternating rounds")
    rows = []
    for threads, alias in [(int(t), a) for t in args.threads.split(",") for a in args.models.split(",")]:
        THREADS = threads
        path = model_path(alias)
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(detprob_round(alias))
            theirs.append(llama_round(path, ours[-1]["prompt_ids"], ours[-1]["tokens"]))
        med = lambda runs, key: statistics.median(r[key] for r in runs)
        prompt_tokens = len(ours[0]["prompt_ids"])
        for key, label, higher_is_better in [
            ("decode", "decode tokens/s", True),
            ("prefill", f"prefill tokens/s ({prompt_tokens}-token prompt)", True),
            ("grid", "grid 32 x 48 tokens, seconds (llama.cpp: one completion after another)", False),
            ("grid_batched", "grid 32 x 48 tokens, seconds (llama.cpp: batched, all 32 in one decode per step)", False),
            ("load", "load, seconds", False),
        ]:
            a, b = med(ours, "grid" if key == "grid_batched" else key), med(theirs, key)
            ratio = a / b if higher_is_better else b / a
            rows.append((threads, alias, label, a, b, ratio))
        rows.append((threads, alias, "detprob process start to first token, seconds",
                     med(ours, "first_token"), None, None))
        rows.append((threads, alias, "detprob peak RSS, MB", med(ours, "rss_mb"), None, None))

    print("| threads | model | measure | detprob | llama.cpp | speed ratio (x llama.cpp) |")
    print("| ---: | --- | --- | ---: | ---: | ---: |")
    for threads, alias, label, a, b, ratio in rows:
        fmt = lambda v: "" if v is None else f"{v:.3g}" if v < 10 else f"{v:.1f}"
        print(f"| {threads} | {alias} | {label} | {fmt(a)} | {fmt(b)} | {'' if ratio is None else f'{ratio:.2f}'} |")
    print("speed ratio > 1 means detprob is faster (for times: llama.cpp's time / detprob's).")


if __name__ == "__main__":
    main()
