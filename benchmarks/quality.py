"""Side-by-side retrieval quality: dense only, BM25 only, and the hybrid variants, on each question set.

    python benchmarks/quality.py [--index-dir DIR] [--markdown]

Each mode's refusal threshold is calibrated on our own question set (tests/data/questions.jsonl) and then
applied unchanged to the dev questions, which are kept for checking.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chat.evaluate import best_threshold, evaluate, load_questions  # noqa: E402
from chat.search import Scoring, Searcher  # noqa: E402

SETS = {"dev": ROOT / "tests" / "data" / "dev_questions.jsonl", "ours": ROOT / "tests" / "data" / "questions.jsonl"}
BASE = Scoring()
VARIANTS = {
    "dense only": Scoring(mode="dense", structure_weight=0.0),
    "BM25 only": Scoring(mode="bm25"),
    "hybrid, RRF": dataclasses.replace(BASE, fusion="rrf"),
    "hybrid, weighted, no structure/spelling": dataclasses.replace(BASE, structure_weight=0.0, spelling=False),
    "hybrid, weighted, passage only (no sentence)": dataclasses.replace(BASE, sentence_weight=0.0),
    "hybrid (default)": BASE,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default=None)
    args = parser.parse_args()
    searcher = Searcher.open(args.index_dir)
    questions = {name: load_questions(path) for name, path in SETS.items()}
    header = ("| retrieval | set | hit@1 | hit@3 | MRR@5 | refusal accuracy | unanswerable refused | "
              "answerable refused | highlight accuracy |")
    print(header)
    print("|---" * 9 + "|")
    for label, scoring in VARIANTS.items():
        _, rows = evaluate(searcher, questions["ours"], None, scoring)
        threshold = best_threshold([(r["evidence"], r["answerable"]) for r in rows])
        for name in ("dev", "ours"):
            m, _ = evaluate(searcher, questions[name], threshold, scoring)
            print(f"| {label} | {name} | {m.hit_at_1:.3f} | {m.hit_at_3:.3f} | {m.mrr_at_5:.3f} | "
                  f"{m.refusal_accuracy:.3f} | {m.unanswerable_refused}/{m.unanswerable} | "
                  f"{m.answerable_refused}/{m.answerable} | {m.highlight_accuracy:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
