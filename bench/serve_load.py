#!/usr/bin/env python3
"""`detprob serve` against llama.cpp's own server, under a class's load.

    python3 bench/serve_load.py                 # 3 alternating rounds
    python3 bench/serve_load.py --rounds 5 --clients 32 --tokens 48

Both servers load the same GGUF (SmolLM2-135M-Instruct Q4_1 from detprob's
cache) with 2 threads, and get the same requests: CLIENTS streaming
`/v1/completions` requests sent at once (prompt "Once upon a time", 48
tokens at most, temperature 0.8, seed = client number), then a single
request alone, five times, each with a prompt not seen before (so its
prefill counts; the class's requests share one prompt, which detprob
prefills once and llama.cpp's server reuses as its cached prefix). llama.cpp's server is llama-cpp-python's
(`python -m llama_cpp.server`, in bench/.venv; `--install` adds its server
packages). Reported, medians over the rounds: errors, aggregate throughput
(generated tokens / wall time from the first request sent to the last
stream closed), first-token latency p50 / p99 under load, and a single
request's first-token latency.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".venv"
DETPROB = ROOT / "target" / "release" / "detprob"
PROMPT = "Once upon a time"


def reexec_in_venv():
    """Runs the calling script again in bench/.venv (where llama.cpp is)."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() != VENV.resolve() and python.exists():
        script = os.path.abspath(sys.argv[0])
        os.execv(str(python), [str(python), script, *sys.argv[1:]])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port, process, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/v1/models")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not come up")


def start(kind, model_path):
    port = free_port()
    env = dict(os.environ, RAYON_NUM_THREADS="2")
    if kind == "detprob":
        cmd = [str(DETPROB), "serve", "--port", str(port), "--model", "smollm2-135m"]
    else:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
               "--n_threads", "2", "--n_threads_batch", "2", "--n_ctx", "2048",
               "--interrupt_requests", "False", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_up(port, process)
    return port, process


def one(port, seed, tokens, results, index, start_gate, prompt=PROMPT):
    body = json.dumps({"model": "smollm2-135m", "prompt": prompt, "max_tokens": tokens,
                       "temperature": 0.8, "seed": seed, "stream": True})
    start_gate.wait()
    sent = time.perf_counter()
    first, count, error = None, 0, None
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        if r.status != 200:
            error = f"HTTP {r.status}"
        else:
            for raw in r:
                line = raw.decode().strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                choices = chunk.get("choices") or []
                if choices and choices[0].get("text"):
                    count += 1
                    if first is None:
                        first = time.perf_counter() - sent
    except Exception as e:  # noqa: BLE001 - every failure is counted
        error = repr(e)
    results[index] = {"first": first, "tokens": count, "error": error, "end": time.perf_counter()}


def crowd(port, clients, tokens):
    results = [None] * clients
    gate = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=one, args=(port, i + 1, tokens, results, i, gate)) for i in range(clients)]
    for t in threads:
        t.start()
    gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = max(r["end"] for r in results) - began
    firsts = sorted(r["first"] for r in results if r["first"] is not None)
    return {
        "errors": sum(1 for r in results if r["error"] or r["tokens"] == 0),
        "tokens": sum(r["tokens"] for r in results),
        "wall": wall,
        "throughput": sum(r["tokens"] for r in results) / wall,
        "first_p50": statistics.median(firsts) if firsts else float("nan"),
        "first_p99": firsts[min(len(firsts) - 1, int(0.99 * len(firsts)))] if firsts else float("nan"),
    }


def single(port, tokens):
    firsts = []
    for seed in range(5):
        results = [None]
        gate = threading.Barrier(1)
        # A new prompt each time: its prefill is part of the latency.
        one(port, 100 + seed, tokens, results, 0, gate, f"{PROMPT} in year {1900 + seed},")
        firsts.append(results[0]["first"])
    return statistics.median(firsts)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--install", action="store_true")
    args = parser.parse_args()
    if args.install:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "uvicorn", "fastapi",
                               "sse-starlette", "starlette-context", "pydantic-settings"])
        return
    model_path = subprocess.check_output([str(DETPROB), "model", "path", "smollm2-135m"], text=True).strip()
    flags = [l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")][0]
    wanted = [f for f in ("avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni") if f in flags]
    print(f"CPU flags: {' '.join(wanted)}; {args.clients} clients x {args.tokens} tokens, {args.rounds} rounds")
    runs = {"detprob": [], "llama.cpp": []}
    for round_ in range(args.rounds):
        for kind in ("detprob", "llama.cpp"):
            port, process = start(kind, model_path)
            try:
                single(port, 4)  # warm up
                result = crowd(port, args.clients, args.tokens)
                result["single_first"] = single(port, args.tokens)
            finally:
                process.terminate()
                process.wait()
            runs[kind].append(result)
            print(f"round {round_ + 1} {kind:9}: {result['errors']} errors, {result['tokens']} tokens in "
                  f"{result['wall']:.2f} s = {result['throughput']:.1f} tok/s; first token p50 "
                  f"{result['first_p50']:.2f} s, p99 {result['first_p99']:.2f} s; alone {result['single_first']:.3f} s",
                  flush=True)
    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in runs.items()}
    d, l = med["detprob"], med["llama.cpp"]
    print()
    print("| server | errors | tokens/s | first token p50 | p99 | alone |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, m in (("detprob serve", d), ("llama-cpp-python server", l)):
        print(f"| {name} | {m['errors']:.0f} | {m['throughput']:.1f} | {m['first_p50']:.2f} s | "
              f"{m['first_p99']:.2f} s | {m['single_first']:.3f} s |")
    print(f"\nthroughput ratio detprob / llama.cpp: {d['throughput'] / l['throughput']:.2f}x")


if __name__ == "__main__":
    reexec_in_venv()
    main()
