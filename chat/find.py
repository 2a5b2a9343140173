"""Every mention of a phrase: an exhaustive scan of every passage of every report, with exact offsets, so a
user can show where a report says something, and that a report never mentions it. Pure functions.

Matching folds case, typographic quotes and dashes, and runs of spaces; with `stem`, each word matches any
word of the same stem ("inspect" finds "inspected", "inspections"), in order and adjacent.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from indexer.lexical import WORD, stem
from indexer.passage import Passage
from indexer.text import FOLD_TABLE

# Typographic quotes and dashes as ASCII, one character for one, so match offsets index the original text.
_SAME_LENGTH = {k: (v if len(v) == 1 else " ") for k, v in ((chr(k), v) for k, v in FOLD_TABLE.items())}


def fold(text: str) -> str:
    return text.translate(str.maketrans(_SAME_LENGTH))


@dataclass(frozen=True)
class Mention:
    passage: Passage
    start: int  # offsets of the match within passage.text
    end: int

    def to_dict(self) -> dict:
        p = self.passage
        return {"document": p.document, "citation": p.citation, "force": p.force, "year": p.year,
                "paragraph": p.paragraph, "start": p.start + self.start, "end": p.start + self.end,
                "match": p.text[self.start:self.end], "text": p.text}


@dataclass(frozen=True)
class Mentions:
    phrase: str
    stemmed: bool
    mentions: tuple[Mention, ...]
    reports: tuple[tuple[str, str, int], ...]  # (document, report label, count) for every report searched

    def to_dict(self) -> dict:
        return {"phrase": self.phrase, "stemmed": self.stemmed, "total": len(self.mentions),
                "reports": [{"document": d, "report": r, "count": c} for d, r, c in self.reports],
                "mentions": [m.to_dict() for m in self.mentions]}


def _pattern(phrase: str) -> re.Pattern:
    words = fold(phrase).split()
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE)


def _stem_spans(text: str, stems: list[str]) -> list[tuple[int, int]]:
    tokens = [(m.start(), m.end(), stem(m.group(0).lower())) for m in WORD.finditer(fold(text))]
    out = []
    for i in range(len(tokens) - len(stems) + 1):
        if all(tokens[i + k][2] == s for k, s in enumerate(stems)):
            out.append((tokens[i][0], tokens[i + len(stems) - 1][1]))
    return out


def find_mentions(passages, phrase: str, stemmed: bool = False, rows=None,
                  reports: list[tuple[str, str]] | None = None) -> Mentions:
    """Every occurrence of `phrase` in `passages`, in index order, and the count in each report.

    Offsets index the passage text (matching folds one character into one, never changing lengths).
    `rows`: only these rows can hold it (a narrowing by the index's postings; default every row). `reports`:
    (document, label) of every report searched (default: those of `passages`).
    """
    phrase = " ".join(phrase.split())
    found: list[Mention] = []
    if phrase:
        stems = [stem(w.lower()) for w in WORD.findall(fold(phrase))]
        pattern = _pattern(phrase)
        for p in (passages if rows is None else (passages[int(r)] for r in rows)):
            text = p.text
            if stemmed and stems:
                spans = _stem_spans(text, stems)
            else:
                spans = [m.span() for m in pattern.finditer(fold(text))]
            found.extend(Mention(p, s, e) for s, e in spans)
    counts = Counter(m.passage.document for m in found)
    if reports is None:
        reports = list({p.document: p.report or p.title for p in passages}.items())
    return Mentions(phrase, stemmed, tuple(found), tuple((d, r, counts.get(d, 0)) for d, r in reports))


def find_in_index(data, phrase: str, stemmed: bool = False) -> Mentions:
    """`find_mentions` over an index, reading only the passages whose postings hold every word of the
    phrase that BM25 indexes (at a million passages, a scan of every record takes minutes)."""
    from indexer.lexical import content_words

    rows = None
    for word in content_words(phrase):
        held = data.lexical.passages_with(word)
        rows = held if rows is None else np.intersect1d(rows, held)
    firsts = [(d, data.passages[int(data.columns.rows_of(d)[0])]) for d in data.columns.tables["document"]]
    return find_mentions(data.passages, phrase, stemmed, rows, [(d, p.report or p.title) for d, p in firsts])
