#!/usr/bin/env python3
"""`detprob audit` against llama.cpp's server and against `detprob serve`,
same GGUF (SmolLM2-135M-Instruct Q4_1 from detprob's cache), 2 threads each.

    python3 bench/audit_servers.py [--runs 20] [--concurrency 1,8]

llama.cpp's server is llama-cpp-python's (`python -m llama_cpp.server` in
bench/.venv, with `--interrupt_requests False` so that a new request does
not cut the running one off). Prints both audits as Markdown.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_load import DETPROB, free_port, reexec_in_venv, wait_up  # noqa: E402


def start(kind, model_path):
    port = free_port()
    env = dict(os.environ, RAYON_NUM_THREADS="2")
    if kind == "detprob":
        cmd = [str(DETPROB), "serve", "--port", str(port), "--model", "smollm2-135m", "--no-log"]
    else:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", model_path, "--n_threads", "2",
               "--n_threads_batch", "2", "--n_ctx", "2048", "--interrupt_requests", "False",
               "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_up(port, process)
    return port, process


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", default="20")
    parser.add_argument("--concurrency", default="1,8")
    args = parser.parse_args()
    model_path = subprocess.check_output([str(DETPROB), "model", "path", "smollm2-135m"], text=True).strip()
    for kind in ("llama.cpp", "detprob"):
        port, process = start(kind, model_path)
        try:
            print(f"## {kind}\n", flush=True)
            subprocess.run([str(DETPROB), "audit", "--endpoint", f"http://127.0.0.1:{port}",
                            "--model", "smollm2-135m", "--runs", args.runs, "--concurrency",
                            args.concurrency, "--format", "markdown", "--no-log"], check=False)
            print(flush=True)
        finally:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    reexec_in_venv()
    main()
