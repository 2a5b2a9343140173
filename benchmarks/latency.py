"""Warm per-question latency of `peelqa ask -`: one process, model loaded once, questions fed one by one.

    python benchmarks/latency.py [--index-dir DIR] [--rounds N] [--questions FILE ...]

With --index-dir pointing at an index of tests/data/corpus, pass --questions tests/data/multi_questions.jsonl.

Prints the start-up time (process start to first answer) and median / p95 / max of the following answers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default=None)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the question files")
    parser.add_argument("--questions", nargs="*", type=Path, help="question files (default: the seed's two)")
    args = parser.parse_args()
    questions = []
    for path in args.questions or [ROOT / "tests" / "data" / n for n in ("dev_questions.jsonl", "questions.jsonl")]:
        if path.exists():
            questions += [json.loads(x)["question"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    exe = shutil.which("peelqa") or str(Path(sys.executable).with_name("peelqa"))
    cmd = [exe, "ask", "-", "--json"] + (["--index-dir", args.index_dir] if args.index_dir else [])
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, cwd=ROOT)
    times = []
    startup = None
    for i, q in enumerate(questions * args.rounds):
        t = time.perf_counter()
        proc.stdin.write(q + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            print("peelqa exited early", file=sys.stderr)
            return 1
        json.loads(line)
        if i == 0:
            startup = time.perf_counter() - began
        else:
            times.append((time.perf_counter() - t) * 1000)
    proc.stdin.close()
    proc.wait()
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"questions answered: {len(times) + 1} ({len(questions)} distinct x {args.rounds})")
    print(f"start-up to first answer: {startup:.2f} s")
    print(f"warm per question: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
