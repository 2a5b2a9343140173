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
    highlights: tuple[tuple[int, int], ...]  # offsets within passage.text: its own best sentence(s)
    # Of those, the ones near the best sentence of the whole answer: what the chat sets in bold, so bold means
    # "this sentence answers you" rather than "the least bad sentence of a weaker quote".
    emphasis: tuple[tuple[int, int], ...] = ()
    weak: bool = False  # on its own it would not clear the refusal threshold (see Searcher.evidence_of)

    def to_dict(self) -> dict:
        p = self.passage
        return {
            "rank": self.rank,
            "score": round(self.score, 4),
            "text": p.text,
            "document": p.document,
            "title": p.title,
            "force": p.force,
            "year": p.year,
            "period": p.period,
            "pillar": p.pillar,
            "section": p.section_label,
            "paragraph": p.paragraph,
            "start": p.start,
            "end": p.end,
            "highlights": [list(h) for h in self.highlights],
            "citation": p.citation,
            "weak": self.weak,
        }


@dataclass(frozen=True)
class ReportRow:
    """One report's line in a comparison: its best quote, or "not covered"."""

    document: str
    report: str  # its citation label: "Durham Constabulary · PEEL 2016 · Effectiveness"
    force: str | None
    year: int | None
    pillar: str | None
    covered: bool
    quote: Quote | None
    grade: str | None = None  # the grade it states for the area asked about, where the question asks one

    def to_dict(self) -> dict:
        return {"document": self.document, "report": self.report, "force": self.force, "year": self.year,
                "pillar": self.pillar, "covered": self.covered, "grade": self.grade,
                "result": self.quote.to_dict() if self.quote else None}


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    quotes: tuple[Quote, ...]
    evidence: float = 0.0
    context: str | None = None  # the earlier question a follow-up was read with, if any
    reason: str | None = None  # why it is not answered, when the reports it names are not indexed
    scope: str | None = None  # "From Durham Constabulary, PEEL 2016": the reports it was answered from
    by_report: tuple[ReportRow, ...] | None = None  # one row per report, for comparisons
    grades: tuple[dict, ...] = ()  # for a grade question: the grade in each year, most recent first

    def to_dict(self) -> dict:
        out = {"question": self.question, "answered": self.answered, "results": [q.to_dict() for q in self.quotes]}
        if self.reason:
            out["reason"] = self.reason
        if self.scope:
            out["scope"] = self.scope
        if self.by_report is not None:
            out["by_report"] = [r.to_dict() for r in self.by_report]
        if self.grades:
            out["grades"] = list(self.grades)
        return out


def choose_highlights(
    sentences: Sequence[tuple[int, int]], scores: Sequence[float], margin: float = 0.08, limit: int = 2,
    best: float | None = None,
) -> tuple[tuple[int, int], ...]:
    """The sentence(s) that best answer the question: the best one, plus any within `margin` of it; with
    `best` (the best sentence score of a whole answer), only those within `margin` of that, maybe none."""
    if not sentences or len(scores) != len(sentences):
        return ()
    best = max(scores) if best is None else best
    ranked = sorted(range(len(sentences)), key=lambda i: -scores[i])
    chosen = [i for i in ranked if scores[i] >= best - margin][:limit]
    return tuple(sentences[i] for i in sorted(chosen))


def make_quote(rank: int, passage: Passage, score: float, sentence_scores: Sequence[float],
               best: float | None = None, weak: bool = False) -> Quote:
    """A quote; `best` is the best sentence score of the answer it is part of (its emphasis is measured
    against it), default its own."""
    sentences, scores = passage.sentences or ((0, len(passage.text)),), list(sentence_scores)
    return Quote(rank, float(score), passage, choose_highlights(sentences, scores),
                 choose_highlights(sentences, scores, best=best), weak)


def compose_answer(
    question: str,
    hits: Sequence[tuple[Passage, float, Sequence[float]]],
    evidence: float,
    threshold: float | None,
    context: str | None = None,
    quote_evidence: Sequence[float] | None = None,
) -> Answer:
    """Quotes in rank order; `answered` is False when the evidence is below the refusal threshold.

    Args:
        question: what the user asked.
        hits: (passage, score, per-sentence scores) best first.
        evidence: the retriever's measure of how well the reports cover the question.
        threshold: below it the answer is "not covered"; None never refuses (uncalibrated model).
        context: the earlier question a follow-up was combined with.
        quote_evidence: each hit's evidence on its own (Searcher.evidence_of); below `threshold` it is weak.
    """
    best = max((s for _, _, scores in hits for s in scores), default=None)
    own = list(quote_evidence) if quote_evidence is not None else [None] * len(hits)
    quotes = tuple(make_quote(rank, passage, score, sentence_scores, best,
                              weak=threshold is not None and e is not None and e < threshold)
                   for rank, ((passage, score, sentence_scores), e) in enumerate(zip(hits, own, strict=True), start=1))
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
    if answer.reason:
        lines.append(answer.reason)
    elif not answer.quotes:
        lines.append("No passages match.")
    elif not answer.answered:
        lines.append(NOT_COVERED)
    if answer.scope:
        lines.append(answer.scope)
    for g in answer.grades:
        lines.append(f"Grade, PEEL {g['period'] or g['year']}: {g['grade']} ({g['area_label']})")
    for q in answer.quotes:
        quote = "".join(f"{mark[0]}{t}{mark[1]}" if hot else t for t, hot in segments(q.passage.text, q.highlights))
        lines += ["", f"[{q.rank}] {q.passage.citation} (score {q.score:.2f})", f"“{quote}”"]
    if answer.by_report is not None:
        lines += ["", "By report:"]
        for row in answer.by_report:
            head = f"- {row.report}" + (f" [{row.grade}]" if row.grade else "")
            lines.append(f"{head}: not covered" if not row.covered or row.quote is None
                         else f"{head}: “{row.quote.passage.text}” ({row.quote.passage.citation})")
    return "\n".join(lines)
