"""Lexical retrieval with bm25s, saved inside the index folder as bm25s's own plain files (no pickle)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from .passage import Passage
from .text import fold

FOLDER = "bm25"
# Question words carry no topic; without them "How does the force..." matches every "how" in a report.
_QUESTION_WORDS = (
    "how what which who whom whose when where why does do did is are was were can could should would will "
    "many much about say says said tell report reports there their its it any"
).split()


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def stopwords() -> tuple[str, ...]:
    from bm25s.stopwords import STOPWORDS_EN

    return tuple(sorted(set(STOPWORDS_EN) | set(_QUESTION_WORDS)))


# The split bm25s uses: words of two or more word characters.
WORD = re.compile(r"(?u)\b\w\w+\b")


def content_words(text: str) -> list[str]:
    """Lower-cased words of `text` that carry topic (the same split bm25s uses), unstemmed, in order."""
    stop = set(stopwords())
    return [w for w in WORD.findall(fold(text).lower()) if w not in stop]


def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def vocabulary(passages: list[Passage]) -> list[str]:
    """Distinct content words of the passages, for judging how much of a question the reports cover."""
    return sorted({w for p in passages for w in content_words(lexical_text(p)) if not w.isdigit()})


def lexical_text(passage: Passage) -> str:
    return fold(f"{passage.section_label} {passage.text}")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stemmed, stop-worded tokens."""
    import bm25s

    return bm25s.tokenize([fold(t) for t in texts], stopwords=list(stopwords()), stemmer=_stemmer(),
                          return_ids=False, show_progress=False)


class LexicalIndex:
    """bm25s over the passages. Passages with no word bm25s keeps (only stop words, numbers, one letter) leave it
    with no vocabulary at all: then there is no BM25 folder and every lexical score is 0."""

    def __init__(self, retriever, size: int):
        self.retriever = retriever
        self.size = size

    @property
    def empty(self) -> bool:
        return not self.size or not (getattr(self.retriever, "vocab_dict", None) or {})

    @classmethod
    def build(cls, passages: list[Passage]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        if passages:
            tokens = bm25s.tokenize([lexical_text(p) for p in passages], stopwords=list(stopwords()),
                                    stemmer=_stemmer(), show_progress=False)
            if any(tokens.ids):
                retriever.index(tokens, show_progress=False)
        return cls(retriever, len(passages))

    def save(self, index_folder: Path) -> None:
        if not self.empty:
            self.retriever.save(str(Path(index_folder) / FOLDER), show_progress=False)

    @classmethod
    def load(cls, index_folder: Path, size: int) -> LexicalIndex:
        import bm25s

        if not size or not (Path(index_folder) / FOLDER).is_dir():
            return cls(bm25s.BM25(), size)
        retriever = bm25s.BM25.load(str(Path(index_folder) / FOLDER), show_progress=False, verbosity=0)
        return cls(retriever, size)

    def knows(self, word: str) -> bool:
        return stem(word) in (getattr(self.retriever, "vocab_dict", None) or {})

    def passages_with(self, word: str) -> np.ndarray:
        """Row numbers of the passages containing `word` (stemmed, as BM25 sees it)."""
        token = (getattr(self.retriever, "vocab_dict", None) or {}).get(stem(word))
        if token is None or self.empty:
            return np.zeros(0, dtype=np.int64)
        indptr, indices = self.retriever.scores["indptr"], self.retriever.scores["indices"]
        return np.asarray(indices[indptr[token]:indptr[token + 1]], dtype=np.int64)

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage, in passage order."""
        vocab = getattr(self.retriever, "vocab_dict", None) or {}
        known = [t for t in tokenize([question])[0] if t in vocab]
        if not known or self.empty:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)
