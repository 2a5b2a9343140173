"""Speed on the seed, for this checkout and others side by side: the figures a user of one report feels.

    python benchmarks/seed_speed.py [--root CHECKOUT ...] [--rounds 3]

For each checkout (default: this one), in turn and `--rounds` times over, it prints: a first build of the
seed, a rebuild with nothing changed, a cold `peelqa ask` (process start to answer), the warm per-question
time of `peelqa ask -` over the seed's 102 questions and of `QA.ask` in process, and `peelqa serve`'s
start-up time and RSS at rest. (The version before needs `pip install pysbd`, which it split sentences with.)
Rounds alternate the checkouts so a noisy machine weighs on each alike; medians are printed last.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale import ENV, latency, peelqa, serve, timed  # noqa: E402


def questions() -> list[str]:
    out = []
    for name in ("dev_questions.jsonl", "questions.jsonl"):
        path = ROOT / "tests" / "data" / name
        out += [json.loads(x)["question"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return out


IN_PROCESS = """
import json, statistics, sys, time
from chat.qa import QA
from chat.search import Searcher
qa = QA(Searcher.open(sys.argv[1]))
questions = json.loads(sys.stdin.read())
times = []
for q in questions:
    t = time.perf_counter()
    qa.ask(q, 5)
    times.append(time.perf_counter() - t)
warm = sorted(times[len(questions) // 2:])
print(json.dumps({"in_process_p50_ms": round(statistics.median(warm) * 1000, 1),
                  "in_process_p95_ms": round(warm[int(0.95 * (len(warm) - 1))] * 1000, 1)}))
"""


def in_process(root: Path, index: Path) -> dict:
    """The answer alone (`QA.ask` in one process, every question asked twice, the second pass timed)."""
    proc = subprocess.run([sys.executable, "-c", IN_PROCESS, str(index)], cwd=root, env=ENV, check=True,
                          input=json.dumps(questions() * 2), capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(root: Path, work: Path) -> dict:
    index = work / "index"
    shutil.rmtree(index, ignore_errors=True)
    seeds = ROOT / "seeds"
    first, _, _ = timed([*peelqa(root), "index", "--seeds", str(seeds), "--index-dir", str(index)], root)
    again, _, _ = timed([*peelqa(root), "index", "--seeds", str(seeds), "--index-dir", str(index)], root)
    began = time.perf_counter()
    subprocess.run([*peelqa(root), "ask", "Is there a children's hub?", "--index-dir", str(index)], cwd=root,
                   env=ENV, capture_output=True, check=True)
    cold = time.perf_counter() - began
    row = {"build_s": round(first, 2), "rebuild_unchanged_s": round(again, 2), "cold_ask_s": round(cold, 2)}
    row.update(latency(root, index, questions() * 2))
    row.update(in_process(root, index))
    row.update(serve(root, index))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, nargs="*", default=[ROOT])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for root in args.root:
                row = measure(root.resolve(), Path(tmp))
                rows.setdefault(str(root), []).append(row)
                print(json.dumps({"root": str(root), **row}), flush=True)
    for root, runs in rows.items():
        keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
        print(json.dumps({"root": root, "median_of": len(runs),
                          **{k: round(statistics.median(r[k] for r in runs), 2) for k in keys}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
