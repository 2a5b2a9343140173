"""Latency of the chat app's `/ask` endpoint through gradio_client, over N questions on a launched server.

    python benchmarks/api_latency.py [--index-dir DIR] [-n 50]

Launches the app in-process on a free local port (model and index loaded once), warms it with one call,
then times N calls (cycling through the question files) and prints median, p95 and max.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default=None)
    parser.add_argument("-n", type=int, default=50)
    args = parser.parse_args()
    from gradio_client import Client

    from chat.app import CSS, build_app
    from chat.service import ChatService

    questions = []
    for name in ("dev_questions.jsonl", "questions.jsonl"):
        path = ROOT / "tests" / "data" / name
        questions += [json.loads(x)["question"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    demo = build_app(ChatService(args.index_dir))
    demo.queue()
    _, url, _ = demo.launch(prevent_thread_lock=True, server_port=None, server_name="127.0.0.1", quiet=True,
                            share=False, ssr_mode=False, css=CSS)
    try:
        client = Client(url, verbose=False)
        client.predict("warm-up question", 5, api_name="/ask")
        times = []
        for i in range(args.n):
            t = time.perf_counter()
            client.predict(questions[i % len(questions)], 5, api_name="/ask")
            times.append((time.perf_counter() - t) * 1000)
    finally:
        demo.close()
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    print(f"/ask via gradio_client, {len(times)} questions: median {statistics.median(times):.1f} ms, "
          f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
