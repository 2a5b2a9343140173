"""Measure retrieval on labelled questions, and calibrate the refusal threshold."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from indexer.errors import PeelqaError
from indexer.model import registry, registry_path

from .answer import compose_answer
from .search import Scoring, Searcher


def load_questions(path: Path) -> list[dict]:
    """Question lines: {"id", "question", "gold": [...], "answerable": bool (default true)}."""
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
    return any(g in text for g in gold)


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

    @property
    def refusal_accuracy(self) -> float:
        total = self.answerable + self.unanswerable
        return (self.unanswerable_refused + self.answerable - self.answerable_refused) / total if total else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "refusal_accuracy": round(self.refusal_accuracy, 4)}

    def text(self) -> str:
        return "\n".join([
            f"answerable questions   {self.answerable}",
            f"hit@1                  {self.hit_at_1:.3f}",
            f"hit@3                  {self.hit_at_3:.3f}",
            f"hit@5                  {self.hit_at_5:.3f}",
            f"MRR@5                  {self.mrr_at_5:.3f}",
            f"highlight accuracy     {self.highlight_accuracy:.3f}",
            f"unanswerable refused   {self.unanswerable_refused}/{self.unanswerable}",
            f"answerable refused     {self.answerable_refused}/{self.answerable}",
        ])


def evaluate(searcher: Searcher, questions: list[dict], threshold: float | None,
             scoring: Scoring | None = None) -> tuple[Metrics, list[dict]]:
    """Metrics over `questions`, and one row per question (rank of first hit, evidence, refused)."""
    rows = []
    for q in questions:
        r = searcher.retrieve(q["question"], 5, scoring=scoring)
        answer = compose_answer(q["question"], [(h.passage, h.score, h.sentence_scores) for h in r.hits],
                                r.evidence, threshold)
        rank = next((i for i, quote in enumerate(answer.quotes, 1) if contains_gold(quote.passage.text, q["gold"])),
                    None)
        top = answer.quotes[0] if answer.quotes else None
        highlighted = " … ".join(top.passage.text[s:e] for s, e in top.highlights) if top else ""
        rows.append({"id": q.get("id"), "question": q["question"], "answerable": q["answerable"], "rank": rank,
                     "evidence": round(r.evidence, 4), "refused": not answer.answered,
                     "highlight_hit": bool(rank == 1 and contains_gold(highlighted, q["gold"]))})
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    n = max(len(ans), 1)
    at1 = [r for r in ans if r["rank"] == 1]
    metrics = Metrics(
        answerable=len(ans),
        hit_at_1=len(at1) / n,
        hit_at_3=sum(1 for r in ans if r["rank"] and r["rank"] <= 3) / n,
        hit_at_5=sum(1 for r in ans if r["rank"]) / n,
        mrr_at_5=sum(1 / r["rank"] for r in ans if r["rank"]) / n,
        unanswerable=len(una),
        unanswerable_refused=sum(r["refused"] for r in una),
        answerable_refused=sum(r["refused"] for r in ans),
        highlight_accuracy=sum(r["highlight_hit"] for r in at1) / len(at1) if at1 else 0.0,
    )
    return metrics, rows


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


def threshold_for(model_name: str, mode: str) -> float | None:
    """The calibrated refusal threshold for a model and scoring mode, from models/models.json."""
    entry = registry().get("models", {}).get(model_name, {})
    value = entry.get("relevance_threshold", {}).get(mode)
    return float(value) if value is not None else None


def save_threshold(model_name: str, mode: str, value: float, calibrated_on: str) -> Path:
    """Record a calibrated threshold in models/models.json."""
    path = registry_path()
    reg = registry()
    entry = reg.setdefault("models", {}).setdefault(model_name, {})
    entry.setdefault("relevance_threshold", {})[mode] = value
    entry.setdefault("calibrated_on", {})[mode] = calibrated_on
    path.write_text(json.dumps(reg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
