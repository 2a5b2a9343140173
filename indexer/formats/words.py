"""Is it a word? For joining a word hyphenated across two lines of a PDF ("inves-tigation" is one word,
"well-being" keeps its hyphen). The vocabulary is the embedding model's own word list (30,000 word pieces,
shipped with it, no download), the words of the document itself, and common English suffixes on either."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_SUFFIXES = ("ing", "ed", "es", "s", "ly", "ment", "ments", "ness", "ation", "ations", "ion", "ions", "er", "ers",
             "ity", "ities", "al", "ally", "ive", "ively", "ised", "ising", "ise", "ized", "izing", "ize")


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    try:
        from ..model import resolve_model

        path = Path(resolve_model().path) / "vocab.txt"
        return frozenset(w for w in path.read_text(encoding="utf-8").split() if w.isalpha() and w.islower())
    except Exception:  # noqa: BLE001 - no model folder: fall back to the document's own words only
        return frozenset()


def is_word(word: str, document_words: frozenset[str] | set[str] = frozenset()) -> bool:
    """True when `word` (case aside) is an English word, or one the document uses, allowing common suffixes."""
    w = word.lower()
    known = _vocabulary()
    if w in known or w in document_words:
        return True
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            base = w[: -len(suffix)]
            if base in known or base + "e" in known or base in document_words:
                return True
    return False
