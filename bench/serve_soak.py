#!/usr/bin/env python3
"""Memory of `detprob serve` over a long class: repeated rounds for
MINUTES minutes, each round a new question, 32 students sampling it at once
(new seeds every round), a few repeated seeds, next-token bars at three
temperatures, and a burst of API requests (chat and completions, streamed
and not). The server's resident memory (VmRSS) is read after a warm-up
round and then after every round; the report gives each minute's median
and the growth of the last minute's median over the first minute's.

    python3 bench/serve_soak.py --minutes 10
"""

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DETPROB = ROOT / "target" / "release" / "detprob"
QUESTIONS = ["What is 17 * 23?", "What is the capital of France?", "Is 1900 a leap year?",
             "Convert 5 km to miles.", "What is 48 * 52?", "What is the capital of Bhutan?"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, path, body, read=True):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read() if read else None
    return r.status, data


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read()


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def round_(port, n, errors):
    status, _ = post(port, "/class/question", {"question": QUESTIONS[n % len(QUESTIONS)]})
    errors += status != 200
    def student(i):
        seed = n * 1000 + i if i < 28 else n * 1000  # a few repeat a seed
        s, _ = post(port, "/class/sample", {"temperature": 0.3 + 0.1 * (i % 10), "seed": seed})
        results.append(s)
    results = []
    threads = [threading.Thread(target=student, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for t in (0, 0.7, 1.5):
        results.append(get(port, f"/class/next?temperature={t}")[0])
    api = [
        ("/v1/completions", {"prompt": f"Story {n}:", "max_tokens": 24, "seed": n, "n": 2, "logprobs": 3}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": f"Count to {n % 9 + 2}."}],
                                  "max_tokens": 24, "seed": n, "stream": True}),
        ("/v1/completions", {"prompt": "x" * 50, "max_tokens": 0}),  # refused
    ]
    for path, body in api:
        results.append(post(port, path, body)[0])
    post(port, "/class/reset", {})
    return sum(1 for s in results[:-1] if s != 200) + (results[-1] != 400)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([str(DETPROB), "serve", "--port", str(port), "--model", "smollm2-135m", "--no-log"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                if get(port, "/v1/models")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        errors = round_(port, 0, 0)  # warm-up
        readings = [(0.0, rss_kib(server.pid))]
        started = time.time()
        n = 1
        while time.time() - started < args.minutes * 60:
            errors += round_(port, n, 0)
            readings.append((time.time() - started, rss_kib(server.pid)))
            n += 1
        print(f"rounds: {n - 1} in {time.time() - started:.0f} s; errors: {errors}")
        # RSS per minute (median of the readings after each round in that
        # minute: a reading taken while 32 samples decode is higher than one
        # taken between rounds), and whether it levels off.
        minutes = {}
        for t, kib in readings[1:]:
            minutes.setdefault(int(t // 60), []).append(kib)
        medians = [statistics.median(v) / 1024 for _, v in sorted(minutes.items())]
        for i, m in enumerate(medians):
            print(f"  minute {i + 1:2}: median RSS {m:6.1f} MiB over {len(minutes[i])} rounds")
        peak = max(k for _, k in readings) / 1024
        print(f"RSS after one warm-up round {readings[0][1] / 1024:.1f} MiB; peak {peak:.1f} MiB")
        print(f"growth, last minute's median over the first minute's: {100 * (medians[-1] - medians[0]) / medians[0]:+.1f}%")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
