"""Latency and throughput of `POST /api/ask` (plain HTTP) and of `/ask` through gradio_client, at 1, 4, 16 and
64 concurrent clients, against `peelqa serve` in a process of its own.

    python benchmarks/api_latency.py [--index-dir DIR] [-n 200] [--gradio-n 100] [--clients 1,4,16,64]

The server runs as `python -m chat serve` with PEELQA_API_RATE=0 (every client is 127.0.0.1: the per-client
rate limit would measure itself) and no token. Each client is a thread with its own connection (HTTP keep-alive;
a gradio_client Client each), cycling through the question files; each count is warmed first. Prints a markdown
table: questions/s over the whole run, p50 and p95 of each question's time, and the load average before and after.
"""

from __future__ import annotations

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load_questions() -> list[str]:
    questions = []
    for name in ("dev_questions.jsonl", "questions.jsonl"):
        path = ROOT / "tests" / "data" / name
        questions += [json.loads(x)["question"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return questions


def launch(index_dir: str | None) -> tuple[subprocess.Popen, int]:
    """`peelqa serve` on a free port; returns once it says it is ready."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PEELQA_API_RATE": "0"}
    env.pop("PEELQA_API_TOKEN", None)
    command = [sys.executable, "-m", "chat", "serve", "--port", str(port)]
    command += ["--index-dir", index_dir] if index_dir else []
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if "chat ready" in line:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # never let its pipe fill
            return proc, port
    raise SystemExit(f"peelqa serve exited ({proc.wait()}) before it was ready")


class HttpAsker:
    """One client of POST /api/ask over one keep-alive connection."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def __call__(self, question: str) -> None:
        self.conn.request("POST", "/api/ask", json.dumps({"question": question, "top_k": 5}),
                          {"Content-Type": "application/json"})
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"POST /api/ask: {response.status} {body[:200]!r}")


class GradioAsker:
    """One gradio_client Client calling /ask."""

    def __init__(self, port: int):
        from gradio_client import Client

        self.client = Client(f"http://127.0.0.1:{port}/", verbose=False)

    def __call__(self, question: str) -> None:
        self.client.predict(question, 5, api_name="/ask")


def run(make, clients: int, total: int, questions: list[str]) -> dict:
    """`total` questions shared among `clients` threads, each with its own client; times each question."""
    with ThreadPoolExecutor(clients) as pool:
        askers = list(pool.map(lambda _: make(), range(clients)))
    for asker in askers:
        asker(questions[0])  # warm: connections open, the server's threads started
    times: list[float] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        for i in range(k, total, clients):
            began = time.perf_counter()
            askers[k](questions[i % len(questions)])
            with lock:
                times.append(time.perf_counter() - began)

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    wall = time.perf_counter() - began
    times.sort()
    return {"n": len(times), "rate": len(times) / wall, "p50": 1000 * statistics.median(times),
            "p95": 1000 * times[max(0, round(0.95 * len(times)) - 1)]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default=None)
    parser.add_argument("-n", type=int, default=200, help="questions per client count, POST /api/ask")
    parser.add_argument("--gradio-n", type=int, default=100, help="questions per client count, gradio_client")
    parser.add_argument("--clients", default="1,4,16,64")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    questions = load_questions()
    load_before = os.getloadavg()
    proc, port = launch(args.index_dir)
    rows = []
    try:
        for name, make, n in (("POST /api/ask", lambda: HttpAsker(port), args.n),
                              ("gradio_client /ask", lambda: GradioAsker(port), args.gradio_n)):
            for clients in counts:
                r = run(make, clients, max(n, 2 * clients), questions)
                rows.append(f"| {name} | {clients} | {r['n']} | {r['rate']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} |")
                print(rows[-1], file=sys.stderr, flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print("| endpoint | clients | questions | questions/s | p50 ms | p95 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))
    print(f"\nload average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
