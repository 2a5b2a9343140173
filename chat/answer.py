"""Compose answers from retrieved passages. Pure functions: no model, no index, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from indexer.passage import Passage

NOT_COVERED = "The indexed reports do not appear to cover this question. Closest matches:"


@dataclass(frozen=True)
class Quote:
    rank: int
    score: float
    passage: Passage
    highlights: tuple[tuple[int, int], ...]  # offsets within passage.text

    def to_dict(self) -> dict:
        p = self.passage
        return {
            "rank": self.rank,
            "score": round(self.score, 4),
            "text": p.text,
            "document": p.document,
            "title": p.title,
            "section": p.section_label,
            "paragraph": p.paragraph,
            "start": p.start,
            "end": p.end,
            "highlights": [list(h) for h in self.highlights],
            "citation": p.citation,
        }


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    quotes: tuple[Quote, ...]
    evidence: float = 0.0
    context: str | None = None  # the earlier question a follow-up was read with, if any

    def to_dict(self) -> dict:
        return {"question": self.question, "answered": self.answered,
                "results": [q.to_dict() for q in self.quotes]}


def choose_highlights(
    sentences: Sequence[tuple[int, int]], scores: Sequence[float], margin: float = 0.08, limit: int = 2
) -> tuple[tuple[int, int], ...]:
    """The sentence(s) that best answer the question: the best one, plus any within `margin` of it."""
    if not sentences or len(scores) != len(sentences):
        return ()
    best = max(scores)
    ranked = sorted(range(len(sentences)), key=lambda i: -scores[i])
    chosen = [i for i in ranked if scores[i] >= best - margin][:limit]
    return tuple(sentences[i] for i in sorted(chosen))


def compose_answer(
    question: str,
    hits: Sequence[tuple[Passage, float, Sequence[float]]],
    evidence: float,
    threshold: float | None,
    context: str | None = None,
) -> Answer:
    """Quotes in rank order; `answered` is False when the evidence is below the refusal threshold.

    Args:
        question: what the user asked.
        hits: (passage, score, per-sentence scores) best first.
        evidence: the retriever's measure of how well the reports cover the question.
        threshold: below it the answer is "not covered"; None never refuses (uncalibrated model).
        context: the earlier question a follow-up was combined with.
    """
    quotes = tuple(
        Quote(rank, float(score), passage, choose_highlights(passage.sentences or ((0, len(passage.text)),),
                                                             list(sentence_scores)))
        for rank, (passage, score, sentence_scores) in enumerate(hits, start=1)
    )
    answered = bool(quotes) and (threshold is None or evidence >= threshold)
    return Answer(question, answered, quotes, evidence, context)


def segments(text: str, highlights: Sequence[Sequence[int]]) -> list[tuple[str, bool]]:
    """Split `text` into (piece, emphasised) runs, in order, covering it exactly."""
    out, cursor = [], 0
    for s, e in sorted((max(0, s), min(len(text), e)) for s, e in highlights):
        if s < cursor or s >= e:
            continue
        if s > cursor:
            out.append((text[cursor:s], False))
        out.append((text[s:e], True))
        cursor = e
    if cursor < len(text):
        out.append((text[cursor:], False))
    return out


def render_plain(answer: Answer, mark: tuple[str, str] = ("**", "**")) -> str:
    """The answer for a terminal or a log: each quote, its citation, the key sentence(s) marked."""
    lines = []
    if not answer.quotes:
        lines.append("No passages match.")
    elif not answer.answered:
        lines.append(NOT_COVERED)
    for q in answer.quotes:
        quote = "".join(f"{mark[0]}{t}{mark[1]}" if hot else t for t, hot in segments(q.passage.text, q.highlights))
        lines += ["", f"[{q.rank}] {q.passage.citation} (score {q.score:.2f})", f"“{quote}”"]
    return "\n".join(lines)
