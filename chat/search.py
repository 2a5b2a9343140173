"""Load an index with the model it was built with, and rank passages for a question.

Three scorers over the same passages: `dense` (the passage's cosine blended with its best sentence's),
`bm25` (bm25s over section + text), and `hybrid` (dense plus BM25 scaled to the best lexical match).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.errors import IndexModelMismatchError
from indexer.lexical import content_words
from indexer.limits import LIMITS
from indexer.model import Embedder, load_embedder, recorded_model
from indexer.passage import Passage
from indexer.store import IndexData, default_index_dir, read_index
from indexer.text import fold

from .intent import (
    asks_for_grade,
    asks_for_improvement,
    asks_for_quantity,
    correct_spelling,
    has_quantity,
    is_grade_passage,
    is_improvement_passage,
)

MODES = ("hybrid", "dense", "bm25")
# Word-to-word cosines (all-MiniLM-L6-v2): "cops"~"police" 0.93, "kids"~"children" 0.88, "guns"~"firearms"
# 0.87, while unrelated pairs ("budget"~"projects", "football"~"teams") stay near 0.5-0.6.
SYNONYM_FLOOR = 0.6
SYNONYM_FULL = 0.85


@dataclass(frozen=True)
class Scoring:
    """How scores are combined; the defaults are the measured best (see docs/quality.md)."""

    mode: str = "hybrid"
    fusion: str = "weighted"  # "weighted" (measured best) or "rrf" (reciprocal rank fusion, k=60)
    sentence_weight: float = 0.5  # dense = (1 - w) * passage cosine + w * best sentence cosine
    lexical_weight: float = 0.3  # hybrid = dense + w * bm25 / best bm25
    coverage_weight: float = 1.6  # evidence = best dense + w * share of question terms found in the reports
    # Keyword queries ("kids hub", "firearms") have low cosines with whole paragraphs; when their one or two
    # words are in the reports, coverage counts for more.
    short_query_bonus: float = 0.55
    structure_weight: float = 0.2  # bonus for grade / "Areas for improvement" passages when asked for
    spelling: bool = True  # repair words the reports lack to a close spelling they have
    quantity_penalty: float = 1.5  # a "how many / how much" question whose passages hold no number: a veto


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    sentence_scores: tuple[float, ...]  # cosine of each sentence of the passage to the question


@dataclass(frozen=True)
class Retrieval:
    question: str
    hits: list[Hit]
    evidence: float  # how well the reports cover the question; compared with the refusal threshold
    coverage: float  # share of the question's content words that occur in the indexed reports


def _reciprocal_rank(scores: np.ndarray, k: int = 60) -> np.ndarray:
    ranks = np.empty(len(scores))
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return 1.0 / (k + ranks)


def embedder_for(manifest: dict) -> Embedder:
    """The model an index was built with, verified against the checksum the index recorded."""
    model = manifest.get("model", {})
    # Neither name nor folder found: load by name anyway, so the error names the missing model.
    return load_embedder(recorded_model(model) or model.get("name"), expected_sha256=model.get("sha256"))


class Searcher:
    """Retrieval over one loaded index. Read-only after construction: swap whole Searchers to reload."""

    def __init__(self, data: IndexData, embedder: Embedder, scoring: Scoring | None = None):
        built_with = data.manifest.get("model", {})
        if built_with.get("sha256") != embedder.sha256:
            raise IndexModelMismatchError(
                f"index at {data.directory} was built with model {built_with.get('name')!r}, "
                f"not {embedder.name!r}",
                fix=f"peelqa index --full --model {embedder.name}",
            )
        self.data = data
        self.embedder = embedder
        self.scoring = scoring or Scoring()
        # A PEEL report states its grade in the paragraph that opens each question, so only an opening
        # paragraph with a grade sentence counts ("generally good at ..." later on is a finding, not the grade).
        seen: set[tuple[str, tuple[str, ...]]] = set()
        opening = []
        for passage in data.passages:
            key = (passage.document, passage.section)
            opening.append(key not in seen)
            seen.add(key)
        self._grade = np.array([first and is_grade_passage(p) for first, p in zip(opening, data.passages, strict=True)],
                               dtype=np.float32)
        self._improve = np.array([is_improvement_passage(p) for p in data.passages], dtype=np.float32)

    @classmethod
    def open(cls, index_dir: Path | None = None, embedder: Embedder | None = None,
             scoring: Scoring | None = None) -> Searcher:
        """Load and validate the index at `index_dir`, and the model recorded in its manifest."""
        data = read_index(Path(index_dir) if index_dir else default_index_dir())
        return cls(data, embedder or embedder_for(data.manifest), scoring)

    @property
    def manifest(self) -> dict:
        return self.data.manifest

    @property
    def passages(self) -> list[Passage]:
        return self.data.passages

    def _dense(self, q: np.ndarray, sentence_weight: float) -> tuple[np.ndarray, np.ndarray]:
        """(blended dense score per passage, cosine per sentence)."""
        n = self.data.vectors.ntotal
        passage_cos = np.zeros(n, dtype=np.float32)
        sims, ids = self.data.vectors.search(q[None, :], n)
        passage_cos[ids[0]] = sims[0]
        sentence_cos = self.data.sentence_vectors @ q
        best_sentence = np.maximum.reduceat(sentence_cos, self.data.sentence_rows[:-1])
        w = sentence_weight
        return (1 - w) * passage_cos + w * best_sentence, sentence_cos

    def retrieve(
        self,
        question: str,
        top_k: int = 5,
        where: Callable[[Passage], bool] | None = None,
        scoring: Scoring | None = None,
    ) -> Retrieval:
        """The `top_k` passages that best answer `question`, best first, with the evidence for refusing.

        Args:
            question: the user's words.
            top_k: how many results.
            where: keep only passages for which this returns True (filters by report, section...).
            scoring: override the searcher's scoring (used to compare modes).
        """
        scoring = scoring or self.scoring
        n = len(self.data.passages)
        if scoring.spelling:
            question = correct_spelling(question, self.data.words, self._misspelt, limit=LIMITS.repaired_words)
        words = list(dict.fromkeys(content_words(question)))
        unknown = [w for w in words if not self.data.lexical.knows(w)]
        # Past the limit, unknown words earn no synonym credit (bounds the work a long question costs).
        vectors = self.embedder.encode([fold(question), *unknown[:LIMITS.unknown_words]]).astype(np.float32)
        q = vectors[0]
        coverage = self._coverage(len(words), len(unknown), vectors[1:])
        if n == 0 or top_k <= 0:
            return Retrieval(question, [], 0.0, coverage)
        dense, sentence_cos = self._dense(q, scoring.sentence_weight)
        lexical = self.data.lexical.scores(question)
        mask = np.array([where(p) for p in self.data.passages]) if where else np.ones(n, dtype=bool)
        if not mask.any():
            return Retrieval(question, [], 0.0, coverage)
        best_lexical = float(lexical[mask].max())
        lexical_norm = lexical / best_lexical if best_lexical > 0 else np.zeros_like(lexical)
        if scoring.mode == "dense":
            fused = dense
        elif scoring.mode == "bm25":
            fused = lexical_norm
        elif scoring.fusion == "rrf":
            fused = _reciprocal_rank(dense) + _reciprocal_rank(lexical)
        else:
            fused = dense + scoring.lexical_weight * lexical_norm
        if scoring.mode != "bm25" and scoring.structure_weight:
            fused = fused + scoring.structure_weight * (
                asks_for_grade(question) * self._grade + asks_for_improvement(question) * self._improve)
        fused = np.where(mask, fused, -np.inf)
        order = np.argsort(-fused, kind="stable")[: min(top_k, int(mask.sum()))]
        rows = self.data.sentence_rows
        hits = [
            Hit(self.data.passages[i], float(fused[i]), tuple(float(x) for x in sentence_cos[rows[i]:rows[i + 1]]))
            for i in order
        ]
        if scoring.mode == "bm25":
            evidence = coverage
        elif scoring.mode == "dense":
            evidence = float(dense[mask].max())
        else:
            weight = scoring.coverage_weight + scoring.short_query_bonus * (len(words) <= 2)
            evidence = float(dense[mask].max()) + weight * coverage
        if asks_for_quantity(question) and not any(has_quantity(h.passage.text) for h in hits):
            evidence -= scoring.quantity_penalty
        return Retrieval(question, hits, evidence, coverage)

    def _misspelt(self, word: str) -> bool:
        """A word the reports lack and the model's vocabulary lacks too (so not an everyday word)."""
        return not self.data.lexical.knows(word) and self.embedder.count_tokens(word) > 3

    def _coverage(self, n_words: int, n_unknown: int, unknown_vectors: np.ndarray) -> float:
        """Share of the question's content words the reports contain: a word they lack counts in part
        when a word they have means nearly the same ("kids" ~ "children"), so paraphrases are not refused."""
        if n_words == 0:
            return 0.0
        credit = float(n_words - n_unknown)
        if len(unknown_vectors) and len(self.data.words):
            nearest = (unknown_vectors @ self.data.word_vectors.T).max(axis=1)
            credit += float(np.clip((nearest - SYNONYM_FLOOR) / (SYNONYM_FULL - SYNONYM_FLOOR), 0, 1).sum())
        return credit / n_words

    def search(self, question: str, top_k: int = 5, where: Callable[[Passage], bool] | None = None) -> list[Hit]:
        return self.retrieve(question, top_k, where).hits
