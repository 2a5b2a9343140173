"""Before/after on the multi-report sets with one scoring rule for any version of peelqa.

    python benchmarks/compare_versions.py [--code DIR] [--sets multi,shared,dev]

Imports peelqa from DIR (default: this checkout), so the same script measures an older commit too:
`git worktree add /tmp/old <commit> && python benchmarks/compare_versions.py --code /tmp/old`. It uses only
what every version has (`QA(Searcher.open(...)).ask(question, 5)` with `.quotes` and `.answered`): a hit is a
quote of at most 1,200 characters containing a gold string; comparison row recall is counted from the flat
top 5 (older versions have no by-report answer), so it is a lower bound for versions that do.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
SETS = {"multi": ("tests/data/corpus", "tests/data/multi_questions.jsonl"),
        "shared": ("../shared/eval/multi/corpus", "../shared/eval/multi/questions.jsonl"),
        "dev": ("seeds", "tests/data/dev_questions.jsonl")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=HERE)
    parser.add_argument("--sets", default="multi,shared,dev")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    from chat.qa import QA
    from chat.search import Searcher
    from indexer.build import build_index
    from indexer.model import load_embedder

    embedder = load_embedder()
    for name in args.sets.split(","):
        corpus, qfile = (HERE / p for p in SETS[name])
        if not corpus.is_dir():
            continue
        index = Path(tempfile.mkdtemp()) / "index"
        build_index(corpus, index, embedder=embedder)
        qa = QA(Searcher.open(index, embedder=embedder))
        questions = [json.loads(x) for x in qfile.read_text(encoding="utf-8").splitlines() if x.strip()]
        ranks, refused_un, refused_ans, n_un, found, expected = [], 0, 0, 0, 0, 0
        for q in questions:
            answer = qa.ask(q["question"], 5)

            def hit(text: str, gold=q["gold"]) -> bool:
                return len(text) <= 1200 and any(g in text for g in gold)

            if not q.get("answerable", True):
                n_un += 1
                refused_un += not answer.answered
                continue
            refused_ans += not answer.answered
            ranks.append(next((i for i, x in enumerate(answer.quotes, 1) if hit(x.passage.text)), None))
            if q.get("kind") == "comparative":
                expected += len(q["rows"])
                found += sum(any(x.passage.document == row and hit(x.passage.text) for x in answer.quotes)
                             for row in q["rows"])
        n = len(ranks)
        at3 = sum(bool(r) and r <= 3 for r in ranks) / n
        line = (f"{name}: hit@1 {sum(r == 1 for r in ranks) / n:.3f}, hit@3 {at3:.3f}, "
                f"MRR@5 {sum(1 / r for r in ranks if r) / n:.3f}, unanswerable refused {refused_un}/{n_un}, "
                f"answerable refused {refused_ans}/{n}")
        print(line + (f", rows in the top 5 {found}/{expected}" if expected else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
