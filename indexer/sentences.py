"""Sentence spans (indexer/fastsplit.py: rules, no downloaded data; pysbd was 150 times slower) and splitting
of over-long passages."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from . import fastsplit
from .limits import LIMITS
from .passage import Passage

# Text longer than this many passages' worth is first cut at spaces into blocks (only pathological input: a
# report paragraph is rarely over 2,000 characters).
_BLOCK_FACTOR = 4


def _trimmed(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def word_chunks(text: str, s: int, e: int, limit: int) -> list[tuple[int, int]]:
    """Cut `text[s:e]` into trimmed spans of at most `limit` characters, at spaces where there are any."""
    out = []
    s, e = _trimmed(text, s, e)
    while s < e:
        if e - s <= limit:
            out.append((s, e))
            break
        cut = text.rfind(" ", s + 1, s + limit + 1)
        cut = cut if cut > s else s + limit
        out.append(_trimmed(text, s, cut))
        s, _ = _trimmed(text, cut, e)
    return [span for span in out if span[0] < span[1]]


def sentence_spans(text: str, max_chars: int = LIMITS.passage_chars) -> list[tuple[int, int]]:
    """`(start, end)` of each sentence in `text`, trimmed of surrounding whitespace.

    A "sentence" longer than `max_chars` (text with no sentence breaks) is cut at spaces, so no span is
    ever longer than `max_chars`.
    """
    if len(text) > _BLOCK_FACTOR * max_chars:
        blocks = word_chunks(text, 0, len(text), _BLOCK_FACTOR * max_chars)
    else:
        blocks = [(0, len(text))]
    spans = []
    for s, e in blocks:
        for a, b in fastsplit.spans(text[s:e]):
            a, b = a + s, b + s
            spans.extend(word_chunks(text, a, b, max_chars) if b - a > max_chars else [(a, b)])
    return spans


def cap_sentences(spans: tuple[tuple[int, int], ...], limit: int) -> tuple[tuple[int, int], ...]:
    """At most `limit` spans, neighbours joined evenly (each is embedded: the cost of a passage is bounded)."""
    if len(spans) <= limit:
        return spans
    size = -(-len(spans) // limit)
    return tuple((spans[i][0], spans[min(i + size, len(spans)) - 1][1]) for i in range(0, len(spans), size))


def with_sentences(passage: Passage, max_chars: int = LIMITS.passage_chars) -> Passage:
    return dataclasses.replace(passage, sentences=tuple(sentence_spans(passage.text, max_chars)))


def split_long(passage: Passage, count_tokens: Callable[[str], int], max_tokens: int,
               max_chars: int = LIMITS.passage_chars) -> list[Passage]:
    """Split a passage whose embedded text exceeds `max_tokens`, or whose text exceeds `max_chars`, at
    sentence boundaries.

    Pieces keep the paragraph number (they cite the same paragraph) and get ids `<id>.<k>`. A single
    sentence longer than the token budget but within `max_chars` stays whole: its text is kept, only the
    model sees it truncated.
    """
    passage = passage if passage.sentences else with_sentences(passage, max_chars)
    too_long = len(passage.text) > max_chars
    if len(passage.sentences) < 2 or (not too_long and count_tokens(passage.embed_text) <= max_tokens):
        return [_capped(passage)]
    heading_cost = count_tokens(passage.embed_text) - count_tokens(passage.text)
    budget = max(max_tokens - heading_cost, 1)
    groups: list[list[tuple[int, int]]] = [[]]
    used = 0
    for s, e in passage.sentences:
        cost = count_tokens(passage.text[s:e])
        if groups[-1] and (used + cost > budget or e - groups[-1][0][0] > max_chars):
            groups.append([])
            used = 0
        groups[-1].append((s, e))
        used += cost
    if len(groups) == 1:
        return [_capped(passage)]
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
                sentences=cap_sentences(tuple((a - s, b - s) for a, b in group), LIMITS.sentences_per_passage),
            )
        )
    return pieces


def _capped(passage: Passage) -> Passage:
    return dataclasses.replace(passage, sentences=cap_sentences(passage.sentences, LIMITS.sentences_per_passage))
