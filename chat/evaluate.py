"""Measure retrieval on labelled questions, and calibrate the refusal threshold.

A result is a hit when its passage contains a gold string and is at most `MAX_HIT_CHARS` long (a quote that
long is one a reader can check; a whole report containing the gold would "hit" every question). For a
comparison, row recall is the share of expected reports present in the by-report answer with a hit.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.errors import PeelqaError
from indexer.model import registry, writable_registry_path

MAX_HIT_CHARS = 1200


def load_questions(path: Path) -> list[dict]:
    """Question lines: {"id", "question", "gold": [...], "answerable": bool (default true), "kind", "rows"}."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PeelqaError(f"cannot read questions file {path}: {exc}") from exc
    questions = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except ValueError as exc:
            raise PeelqaError(f"{path}:{n}: not JSON ({exc.msg})") from exc
        if not isinstance(q, dict) or not isinstance(q.get("question"), str) or not q["question"].strip():
            raise PeelqaError(f"{path}:{n}: each line needs a non-empty \"question\"")
        q.setdefault("gold", [])
        q.setdefault("answerable", True)
        if q["answerable"] and not q["gold"]:
            raise PeelqaError(f"{path}:{n}: an answerable question needs \"gold\" strings")
        questions.append(q)
    if not questions:
        raise PeelqaError(f"{path} holds no questions")
    return questions


def contains_gold(text: str, gold: list[str]) -> bool:
    return len(text) <= MAX_HIT_CHARS and any(g in text for g in gold)


@dataclass
class Metrics:
    answerable: int
    hit_at_1: float
    hit_at_3: float
    hit_at_5: float
    mrr_at_5: float
    unanswerable: int
    unanswerable_refused: int
    answerable_refused: int
    highlight_accuracy: float
    rows_expected: int = 0
    rows_found: int = 0
    by_kind: dict = field(default_factory=dict)  # kind -> {"n", "hit_at_1"}

    @property
    def refusal_accuracy(self) -> float:
        total = self.answerable + self.unanswerable
        return (self.unanswerable_refused + self.answerable - self.answerable_refused) / total if total else 0.0

    @property
    def row_recall(self) -> float | None:
        return self.rows_found / self.rows_expected if self.rows_expected else None

    def to_dict(self) -> dict:
        return {**asdict(self), "refusal_accuracy": round(self.refusal_accuracy, 4), "row_recall": self.row_recall}

    def text(self) -> str:
        lines = [
            f"answerable questions   {self.answerable}",
            f"hit@1                  {self.hit_at_1:.3f}",
            f"hit@3                  {self.hit_at_3:.3f}",
            f"hit@5                  {self.hit_at_5:.3f}",
            f"MRR@5                  {self.mrr_at_5:.3f}",
            f"highlight accuracy     {self.highlight_accuracy:.3f}",
            f"unanswerable refused   {self.unanswerable_refused}/{self.unanswerable}",
            f"answerable refused     {self.answerable_refused}/{self.answerable}",
        ]
        if self.rows_expected:
            lines.append(f"comparison row recall  {self.rows_found}/{self.rows_expected} ({self.row_recall:.3f})")
        for kind, k in sorted(self.by_kind.items()):
            lines.append(f"  {kind:20} {k['n']:3} questions, hit@1 {k['hit_at_1']:.3f}")
        return "\n".join(lines)


def evaluate(qa, questions: list[dict], scoring=None) -> tuple[Metrics, list[dict]]:
    """Metrics over `questions` answered by `qa` (a chat.qa.QA), and one row per question."""
    rows = []
    for q in questions:
        answer = qa.ask(q["question"], 5, scoring=scoring, by_report=bool(q.get("rows")) and q.get("kind") ==
                        "comparative")
        rank = next((i for i, quote in enumerate(answer.quotes, 1) if contains_gold(quote.passage.text, q["gold"])),
                    None)
        top = answer.quotes[0] if answer.quotes else None
        highlighted = " … ".join(top.passage.text[s:e] for s, e in top.highlights) if top else ""
        found = 0
        if q.get("kind") == "comparative" and answer.by_report is not None:
            got = {r.document: r.quote.passage.text for r in answer.by_report if r.quote is not None}
            found = sum(1 for doc in q.get("rows", []) if doc in got and contains_gold(got[doc], q["gold"]))
        rows.append({"id": q.get("id"), "question": q["question"], "kind": q.get("kind"),
                     "answerable": q["answerable"], "rank": rank, "evidence": round(answer.evidence, 4),
                     "refused": not answer.answered, "reason": answer.reason,
                     "rows_expected": len(q.get("rows", [])) if q.get("kind") == "comparative" else 0,
                     "rows_found": found,
                     "highlight_hit": bool(rank == 1 and any(g in highlighted for g in q["gold"]))})
    return summarise(rows), rows


def summarise(rows: list[dict]) -> Metrics:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    n = max(len(ans), 1)
    at1 = [r for r in ans if r["rank"] == 1]
    kinds: dict[str, list] = {}
    for r in ans:
        kinds.setdefault(r.get("kind") or "-", []).append(r)
    return Metrics(
        answerable=len(ans),
        hit_at_1=len(at1) / n,
        hit_at_3=sum(1 for r in ans if r["rank"] and r["rank"] <= 3) / n,
        hit_at_5=sum(1 for r in ans if r["rank"]) / n,
        mrr_at_5=sum(1 / r["rank"] for r in ans if r["rank"]) / n,
        unanswerable=len(una),
        unanswerable_refused=sum(r["refused"] for r in una),
        answerable_refused=sum(r["refused"] for r in ans),
        highlight_accuracy=sum(r["highlight_hit"] for r in at1) / len(at1) if at1 else 0.0,
        rows_expected=sum(r.get("rows_expected", 0) for r in rows),
        rows_found=sum(r.get("rows_found", 0) for r in rows),
        by_kind={k: {"n": len(v), "hit_at_1": sum(r["rank"] == 1 for r in v) / len(v)} for k, v in kinds.items()}
        if len(kinds) > 1 else {},
    )


def best_threshold(points: list[tuple[float, bool]]) -> float:
    """The threshold that classifies most (evidence, answerable) points right, centred in its gap.

    Among equally accurate cut points, the widest gap wins, so the threshold sits as far as possible
    from both the weakest answerable and the strongest unanswerable question.
    """
    if not points:
        raise ValueError("no points to calibrate on")
    values = sorted({e for e, _ in points})
    cuts = [values[0] - 0.05] + [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)] + [values[-1] + 0.05]

    def correct(t: float) -> int:
        return sum((e >= t) == answerable for e, answerable in points)

    def gap(t: float) -> float:
        below = [e for e in values if e < t]
        above = [e for e in values if e >= t]
        return (min(above) if above else t + 1) - (max(below) if below else t - 1)

    return round(max(cuts, key=lambda t: (correct(t), gap(t))), 4)


def threshold_for(model_name: str, scoring) -> float | None:
    """The refusal threshold calibrated for a model with exactly these retrieval settings, if any."""
    entry = registry().get("models", {}).get(model_name, {}).get("retrieval", {}).get(scoring.mode)
    if entry and scoring.calibrates_as(entry.get("scoring")) and entry.get("threshold") is not None:
        return float(entry["threshold"])
    return None


def save_threshold(model_name: str, scoring, value: float, calibrated_on: str, index_dir: Path | None = None) -> Path:
    """Record a calibrated threshold with the settings it was calibrated for: in the model registry (new
    indexes take it from there) and in the manifest of the index it was measured on."""
    path = writable_registry_path()
    reg = registry()
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"scoring": scoring.to_dict(), "threshold": value, "calibrated_on": calibrated_on}
    reg.setdefault("models", {}).setdefault(model_name, {}).setdefault("retrieval", {})[scoring.mode] = record
    path.write_text(json.dumps(reg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if index_dir is not None and scoring.mode == "hybrid":
        from indexer.store import MANIFEST, write_manifest

        manifest = json.loads((Path(index_dir) / MANIFEST).read_text(encoding="utf-8"))
        manifest["retrieval"] = record
        write_manifest(Path(index_dir), manifest)  # signed again: the calibration is a legitimate edit
    return path
