"""Lexical retrieval: BM25 (bm25s's tokenizer, stemmer and Lucene scoring) over postings that a rebuild updates.

bm25s folds the corpus-wide IDF and average length into every stored score, so adding one report means
re-tokenising and re-scoring every passage (at 100,000 passages: 6 s tokenising, 3 s scoring, on each build).
Here the index keeps what does not depend on the rest of the corpus:

    bm25/vocab.json        the stemmed tokens, in id order
    bm25/term_ptr.npy      postings of token t are term_ptr[t]:term_ptr[t+1] of the two arrays below
    bm25/term_rows.npy     the passage rows holding the token (int32, ascending within a token)
    bm25/term_tf.npy       how often it occurs there (uint16)
    bm25/doc_len.npy       tokens per passage
    bm25/weight.npy        tf / (tf + k1 (1 - b + b len / mean len)) per posting: the score less the IDF

A rebuild tokenises only new and changed reports, keeps the other reports' postings (renumbering their
rows), and recomputes the weights; a query multiplies each of its tokens' weights by the token's IDF.
`tests/test_lexical.py` checks the scores against bm25s's own.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import REPAIR, IndexCorruptError
from .passage import Passage
from .text import fold

FOLDER = "bm25"
K1, B = 1.5, 0.75  # bm25s's defaults
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


def words_of(passages: list[Passage]) -> set[str]:
    """Distinct content words of the passages, for judging how much of a question the reports cover."""
    return {w for p in passages for w in content_words(lexical_text(p)) if not w.isdigit()}


def vocabulary(passages: list[Passage]) -> list[str]:
    return sorted(words_of(passages))


def lexical_text(passage: Passage) -> str:
    return fold(f"{passage.section_label} {passage.text}")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stemmed, stop-worded tokens (bm25s's tokenizer)."""
    import bm25s

    if not texts:
        return []
    return bm25s.tokenize([fold(t) for t in texts], stopwords=list(stopwords()), stemmer=_stemmer(),
                          return_ids=False, show_progress=False)


class LexicalIndex:
    """BM25 over the passages. With no token at all (only stop words, numbers, one-letter words) every
    lexical score is 0."""

    def __init__(self, vocab: list[str], term_ptr: np.ndarray, term_rows: np.ndarray, term_tf: np.ndarray,
                 doc_len: np.ndarray, weight: np.ndarray | None = None):
        self.vocab = vocab
        self.ids = {t: i for i, t in enumerate(vocab)}
        self.term_ptr, self.term_rows, self.term_tf, self.doc_len = term_ptr, term_rows, term_tf, doc_len
        self.size = len(doc_len)
        self.weight = weight if weight is not None else self._weights()
        self._checked: set[int] = set()  # tokens whose postings were checked (`_check`)

    @property
    def empty(self) -> bool:
        return not self.size or not self.vocab

    def _weights(self) -> np.ndarray:
        if not len(self.term_rows):
            return np.zeros(0, np.float32)
        mean = float(self.doc_len.mean()) or 1.0
        norm = (K1 * (1 - B + B * self.doc_len / mean)).astype(np.float32)
        tf = self.term_tf.astype(np.float32)
        return tf / (tf + norm[self.term_rows])

    # ---- building ---------------------------------------------------------------------------------

    @classmethod
    def build(cls, passages: list[Passage]) -> LexicalIndex:
        return cls.assemble([passages], None)

    @classmethod
    def assemble(cls, parts: list[list[Passage] | np.ndarray], previous: LexicalIndex | None) -> LexicalIndex:
        """An index over `parts` in order: each a list of new passages (tokenised now) or an array of rows of
        `previous` whose postings are kept."""
        vocab = list(previous.vocab) if previous is not None else []
        ids = dict(previous.ids) if previous is not None else {}
        rows, terms, tfs, lengths = [], [], [], []
        new_row = np.full(previous.size if previous is not None else 0, -1, dtype=np.int64)
        at = 0
        for part in parts:
            if isinstance(part, np.ndarray):
                new_row[part] = np.arange(at, at + len(part))
                lengths.append(previous.doc_len[part])
                at += len(part)
                continue
            for tokens in tokenize([lexical_text(p) for p in part]):
                counts = Counter(tokens)
                for token in counts:
                    if token not in ids:
                        ids[token] = len(vocab)
                        vocab.append(token)
                terms.append(np.fromiter((ids[t] for t in counts), dtype=np.int64, count=len(counts)))
                tfs.append(np.fromiter(counts.values(), dtype=np.int64, count=len(counts)))
                rows.append(np.full(len(counts), at, dtype=np.int64))
                lengths.append(np.array([len(tokens)], dtype=np.float32))
                at += 1
        if previous is not None and len(previous.term_rows):
            old_terms = np.repeat(np.arange(len(previous.vocab)), np.diff(previous.term_ptr))
            moved = new_row[previous.term_rows]
            keep = moved >= 0
            terms.insert(0, old_terms[keep])
            rows.insert(0, moved[keep])
            tfs.insert(0, previous.term_tf[keep].astype(np.int64))
        return cls._from_triples(vocab, _cat(terms), _cat(rows), _cat(tfs),
                                 np.concatenate(lengths).astype(np.float32) if lengths else np.zeros(0, np.float32))

    @classmethod
    def _from_triples(cls, vocab: list[str], terms: np.ndarray, rows: np.ndarray, tfs: np.ndarray,
                      doc_len: np.ndarray) -> LexicalIndex:
        # Tokens no passage holds any more (their reports were removed) leave the vocabulary.
        df = np.bincount(terms, minlength=len(vocab))
        live = np.flatnonzero(df)
        renumber = np.full(len(vocab), -1, dtype=np.int64)
        renumber[live] = np.arange(len(live))
        terms = renumber[terms]
        order = np.lexsort((rows, terms))
        ptr = np.concatenate([[0], np.cumsum(df[live])]).astype(np.int64)
        return cls([vocab[i] for i in live], ptr, rows[order].astype(np.int32),
                   np.minimum(tfs[order], np.iinfo(np.uint16).max).astype(np.uint16), doc_len)

    def save(self, index_folder: Path) -> None:
        folder = Path(index_folder) / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        for name in ("term_ptr", "term_rows", "term_tf", "doc_len", "weight"):
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, index_folder: Path, size: int) -> LexicalIndex:
        folder = Path(index_folder) / FOLDER
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        # Mapped, seen as plain arrays: slicing a memmap object costs microseconds a slice in Python, and a
        # question slices postings hundreds of times.
        arrays = {name: np.asarray(np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False))
                  for name in ("term_ptr", "term_rows", "term_tf", "doc_len", "weight")}
        index = cls(vocab, **arrays)
        # Scores are added up in float32 by scipy's loop, which takes float32 weights only.
        if (arrays["weight"].dtype != np.float32 or arrays["term_rows"].dtype.kind != "i"
                or not isinstance(vocab, list) or len(index.term_ptr) != len(vocab) + 1 or index.size != size
                or int(index.term_ptr[-1]) != len(index.term_rows) or len(index.weight) != len(index.term_rows)
                or len(index.term_tf) != len(index.term_rows)
                or (len(index.term_ptr) and int(index.term_ptr[0]) != 0) or np.any(np.diff(index.term_ptr) < 0)):
            raise ValueError(f"{FOLDER}: its arrays do not agree with each other or with {size} passages")
        return index

    # ---- searching --------------------------------------------------------------------------------

    def knows(self, word: str) -> bool:
        return stem(word) in self.ids

    def postings(self, word: str) -> np.ndarray:
        """Rows of the passages containing `word` (stemmed, as BM25 sees it), ascending, as stored (int32)."""
        token = self.ids.get(stem(word))
        if token is None:
            return np.zeros(0, dtype=np.int32)
        return self.term_rows[self.term_ptr[token]:self.term_ptr[token + 1]]

    def passages_with(self, word: str) -> np.ndarray:
        """Row numbers of the passages containing `word` (stemmed, as BM25 sees it)."""
        return np.asarray(self.postings(word), dtype=np.int64)

    def holds(self, word: str, row: int) -> bool:
        """Whether the passage at `row` contains `word` (stemmed): a binary search of its postings."""
        token = self.ids.get(stem(word))
        if token is None:
            return False
        postings = self.term_rows[self.term_ptr[token]:self.term_ptr[token + 1]]
        # The key in the postings' own type: another type makes numpy convert the whole array first (a million
        # postings: 170 µs instead of 2).
        at = int(np.searchsorted(postings, postings.dtype.type(row)))
        return at < len(postings) and int(postings[at]) == row

    def query_ids(self, question: str) -> list[int]:
        """The question's tokens the index holds (repeats count again, as in bm25s)."""
        return [self.ids[t] for t in tokenize([question])[0] if t in self.ids] if question.strip() else []

    def _idf(self, t: int) -> float:
        df = int(self.term_ptr[t + 1]) - int(self.term_ptr[t])
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage, in row order: each of the question's tokens adds its postings' weights
        times its IDF (repeats again, as in bm25s), in C, reading the postings where they are stored."""
        ids = self.query_ids(question)
        out = np.zeros(self.size, dtype=np.float32)
        for t in ids:
            a, b = int(self.term_ptr[t]), int(self.term_ptr[t + 1])
            if b > a:
                self._check(t, a, b)
                _scatter(self.size, self.term_rows[a:b], self.weight[a:b], self._idf(t), out)
        return out

    def _check(self, token: int, a: int, b: int) -> None:
        """A garbled postings file would otherwise write outside the score array: each token's postings are
        checked the first time a question uses them (a million passages: ~1 ms a common token, once)."""
        if token in self._checked:
            return
        rows = self.term_rows[a:b]
        if int(rows.min()) < 0 or int(rows.max()) >= self.size:
            raise IndexCorruptError(f"the index is damaged ({FOLDER}: a posting names a passage past the last one)",
                                    fix=REPAIR)
        self._checked.add(token)


def _scatter(size: int, rows: np.ndarray, weights: np.ndarray, idf: float, out: np.ndarray) -> None:
    """out[rows] += weights * idf, rows unique. scipy's sparse matrix-vector product, called on the stored
    postings as a one-column matrix: selecting the rows of a scipy matrix first copied them (2.7 of 7 ms a
    question at a million passages). The same sums in the same order as the matrix product it replaces."""
    matvec = _csc_matvec()
    if matvec is None:  # a scipy that moved or changed it: numpy's (slower) scatter, the same sums
        out[rows] += weights * np.float32(idf)
        return
    matvec(size, 1, np.array([0, len(rows)], dtype=rows.dtype), rows, weights,
           np.array([idf], dtype=np.float32), out)


@lru_cache(maxsize=1)
def _csc_matvec():
    """scipy's C loop behind its sparse products, checked on a tiny product; private, so a scipy that moved
    or changed it gets None. Imported on first use: builds that change nothing never load scipy."""
    try:
        from scipy.sparse._sparsetools import csc_matvec

        out = np.zeros(3, np.float32)  # a scipy whose private loop changed must not break every question
        csc_matvec(3, 1, np.array([0, 2], np.int32), np.array([0, 2], np.int32), np.array([1, 2], np.float32),
                   np.array([0.5], np.float32), out)
        if out.tolist() != [0.5, 0.0, 1.0]:
            return None
    except Exception:  # noqa: BLE001 - moved or changed: numpy's scatter gives the same sums
        return None
    return csc_matvec


def _cat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
