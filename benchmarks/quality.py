"""Side-by-side retrieval quality on every question set: the default and the variants it was chosen over.

    python benchmarks/quality.py [--sets dev,ours,multi,shared] [--variants default,dense,...]

Sets: `dev` (the seed's dev questions, kept for checking), `ours` (our user-style questions on the seed),
`multi` (our 36-report fictional corpus, tests/data/corpus, and its 133 questions), `shared` (the 16-report
set in ../shared/eval/multi, when present; checking only, never tuned on). Each variant's refusal threshold is
calibrated on our own two sets (ours + multi) and applied unchanged to the others. A hit is a passage of at
most 1,200 characters containing a gold string; row recall is the share of a comparison's expected reports
present in its by-report answer with a hit.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chat.evaluate import best_threshold, evaluate, load_questions, summarise  # noqa: E402
from chat.qa import QA  # noqa: E402
from chat.search import Scoring, Searcher  # noqa: E402
from indexer.build import build_index  # noqa: E402
from indexer.model import load_embedder  # noqa: E402

SHARED = ROOT.parent / "shared" / "eval" / "multi"
SETS = {
    "dev": (ROOT / "seeds", ROOT / "tests" / "data" / "dev_questions.jsonl"),
    "ours": (ROOT / "seeds", ROOT / "tests" / "data" / "questions.jsonl"),
    "multi": (ROOT / "tests" / "data" / "corpus", ROOT / "tests" / "data" / "multi_questions.jsonl"),
    "shared": (SHARED / "corpus", SHARED / "questions.jsonl"),
}
CALIBRATE_ON = ("ours", "multi")
BASE = Scoring()
VARIANTS = {
    "dense only": Scoring(mode="dense", structure_weight=0.0, recommendation_penalty=0.0),
    "BM25 only": Scoring(mode="bm25"),
    "hybrid RRF": dataclasses.replace(BASE, fusion="rrf"),
    "names kept in the search": dataclasses.replace(BASE, names_out=False),
    "no recency tie-break": dataclasses.replace(BASE, recency_weight=0.0),
    "no recommendation penalty": dataclasses.replace(BASE, recommendation_penalty=0.0),
    "no own-report or national preference": dataclasses.replace(BASE, own_report_weight=0.0, national_weight=0.0),
    "default": BASE,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    names = [n for n in args.sets.split(",") if SETS[n][0].is_dir()]
    embedder = load_embedder()
    work = Path(tempfile.mkdtemp(prefix="peelqa-quality-"))
    indexes = {}
    for corpus in {SETS[n][0] for n in names}:
        folder = work / corpus.name
        build_index(corpus, folder, embedder=embedder)
        indexes[corpus] = Searcher.open(folder, embedder=embedder)
    questions = {n: load_questions(SETS[n][1]) for n in names}
    print("| retrieval | set | hit@1 | hit@3 | MRR@5 | unanswerable refused | answerable refused | row recall |")
    print("|---" * 8 + "|")
    for label in args.variants.split(","):
        scoring = VARIANTS[label]
        runs = {}
        for n in names:
            qa = QA(indexes[SETS[n][0]], threshold=0.0)
            runs[n] = evaluate(qa, questions[n], scoring=scoring)[1]
        points = [(r["evidence"], r["answerable"]) for n in CALIBRATE_ON if n in runs for r in runs[n]
                  if not r["reason"]]
        threshold = best_threshold(points) if points else None
        for n in names:
            rows = [{**r, "refused": bool(r["reason"]) or (threshold is not None and r["evidence"] < threshold)}
                    for r in runs[n]]
            m = summarise(rows)
            recall = f"{m.rows_found}/{m.rows_expected}" if m.rows_expected else "–"
            bold = "**" if label == "default" else ""
            print(f"| {bold}{label}{bold} | {n} | {m.hit_at_1:.3f} | {m.hit_at_3:.3f} | {m.mrr_at_5:.3f} | "
                  f"{m.unanswerable_refused}/{m.unanswerable} | {m.answerable_refused}/{m.answerable} | {recall} |")
        print(f"<!-- {label}: threshold {threshold} -->")
    return 0


if __name__ == "__main__":
    sys.exit(main())
