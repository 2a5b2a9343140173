"""Text folding for matching only: what the model and BM25 see. Quoted text is never folded."""

from __future__ import annotations

import unicodedata

# Users type ASCII quotes and hyphens; reports use typographic ones ("children’s hub").
FOLD_TABLE = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00a0": " ", "\u200b": "", "\ufeff": "",
})


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(FOLD_TABLE)


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word, with "…": for labels (titles, headings, metadata
    fields), never for quoted text."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"
