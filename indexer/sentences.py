"""Sentence spans (pysbd, rule-based, needs no downloaded data) and splitting of over-long passages."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import lru_cache

from .passage import Passage


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """`(start, end)` of each sentence in `text`, trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in _segmenter().segment(text) if text.strip() else []:
        piece = piece.strip()
        if not piece:
            continue
        # pysbd returns strings; locate each in order so offsets stay exact even for repeated sentences.
        at = text.find(piece, cursor)
        if at < 0:
            return [_trimmed(text, 0, len(text))] if text.strip() else []
        spans.append((at, at + len(piece)))
        cursor = at + len(piece)
    return spans


def _trimmed(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def with_sentences(passage: Passage) -> Passage:
    return dataclasses.replace(passage, sentences=tuple(sentence_spans(passage.text)))


def split_long(passage: Passage, count_tokens: Callable[[str], int], max_tokens: int) -> list[Passage]:
    """Split a passage whose embedded text exceeds `max_tokens` at sentence boundaries.

    Pieces keep the paragraph number (they cite the same paragraph) and get ids `<id>.<k>`. A single
    sentence longer than the budget stays whole: its text is kept, only the model sees it truncated.
    """
    passage = passage if passage.sentences else with_sentences(passage)
    if count_tokens(passage.embed_text) <= max_tokens or len(passage.sentences) < 2:
        return [passage]
    heading_cost = count_tokens(passage.embed_text) - count_tokens(passage.text)
    budget = max(max_tokens - heading_cost, 1)
    groups: list[list[tuple[int, int]]] = [[]]
    used = 0
    for s, e in passage.sentences:
        cost = count_tokens(passage.text[s:e])
        if groups[-1] and used + cost > budget:
            groups.append([])
            used = 0
        groups[-1].append((s, e))
        used += cost
    if len(groups) == 1:
        return [passage]
    pieces = []
    for k, group in enumerate(groups, start=1):
        s, e = group[0][0], group[-1][1]
        pieces.append(
            dataclasses.replace(
                passage,
                id=f"{passage.id}.{k}",
                start=passage.start + s,
                end=passage.start + e,
                text=passage.text[s:e],
                sentences=tuple((a - s, b - s) for a, b in group),
            )
        )
    return pieces
