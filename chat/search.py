"""Load an index with the model it was built with, and rank passages for a question.

Signals are computed once per question over the index (`Signals`), then fused and ranked within a mask (the
passages a filter or the question's scope allows). Three scorers: `dense` (the passage's cosine blended with
its best sentence's), `bm25` (bm25s over section + text), and `hybrid` (dense plus BM25 scaled to the best
lexical match within the mask).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from indexer.errors import IndexCorruptError, IndexModelMismatchError
from indexer.forces import ForceRegistry
from indexer.lexical import content_words
from indexer.limits import LIMITS
from indexer.model import Embedder, load_embedder, recorded_model
from indexer.passage import Passage
from indexer.store import IndexData, default_index_dir, read_index
from indexer.text import fold

from .filters import Columns, Filter
from .intent import (
    asks_for_facts,
    asks_for_grade,
    asks_for_improvement,
    asks_for_quantity,
    correct_spelling,
    has_quantity,
    is_grade_passage,
    is_improvement_passage,
)
from .scope import SCOPE_WORDS

MODES = ("hybrid", "dense", "bm25")
# Word-to-word cosines (all-MiniLM-L6-v2): "cops"~"police" 0.93, "kids"~"children" 0.88, "guns"~"firearms"
# 0.87, while unrelated pairs ("budget"~"projects", "football"~"teams") stay near 0.5-0.6.
SYNONYM_FLOOR = 0.6
SYNONYM_FULL = 0.85
SYNONYM_CANDIDATES = 3  # report words nearest an unknown question word, checked for being in scope


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
    # A recommendation repeats the words of the finding it follows; unless the question asks what should
    # improve, the finding is the answer.
    recommendation_penalty: float = 0.1
    spelling: bool = True  # repair words the reports lack to a close spelling they have
    quantity_penalty: float = 1.5  # a "how many / how much" question whose passages hold no number: a veto
    # With no year named, a force's reports of every year compete; the latest gets this much more, the
    # earliest none, so recency only breaks near-ties.
    recency_weight: float = 0.03
    # Within a scope every passage is about the named force and year, so their names only pull towards
    # passages that happen to repeat them (press releases, introductions): they are left out of the search.
    names_out: bool = True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Scoring:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise IndexCorruptError(f"the index's retrieval settings name {', '.join(unknown)}, which this peelqa "
                                    "does not know", fix="peelqa index")
        return cls(**d)


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    sentence_scores: tuple[float, ...]  # cosine of each sentence of the passage to the question
    row: int = -1  # the passage's row in the index


@dataclass(frozen=True)
class Retrieval:
    question: str
    hits: list[Hit]
    evidence: float  # how well the reports cover the question; compared with the refusal threshold
    coverage: float  # share of the question's content words that occur in the allowed passages


@dataclass
class Signals:
    """Everything about one question that does not depend on which passages are allowed."""

    question: str  # after spelling repair
    dense: np.ndarray
    sentence_cos: np.ndarray
    lexical: np.ndarray
    structure: np.ndarray
    words: list[str]  # the question's content words that say what it is about
    unknown: list[str]  # those the reports lack entirely
    unknown_vectors: np.ndarray
    scoring: Scoring
    scoped: bool = False  # the question names forces, years or a pillar
    vectors: dict = field(default_factory=dict)  # word -> vector, and its nearest report words: computed once


def _reciprocal_rank(scores: np.ndarray, k: int = 60) -> np.ndarray:
    ranks = np.empty(len(scores))
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return 1.0 / (k + ranks)


def embedder_for(manifest: dict, folder: Path | None = None) -> Embedder:
    """The model that embeds questions for an index: its ONNX export when the index has one (no torch), else
    the model it was built with, verified against the checksum the index recorded."""
    model = manifest.get("model", {})
    record = manifest.get("query_model") or {}
    if folder is not None and record.get("exported"):
        from indexer.onnx_model import OnnxEmbedder

        return OnnxEmbedder(Path(folder), record, model.get("name"), model.get("sha256"))
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
        stored = (data.manifest.get("retrieval") or {}).get("scoring")
        self.scoring = scoring or (Scoring.from_dict(stored) if stored else Scoring())
        self.columns = Columns(data.passages)
        self.forces = ForceRegistry.canonical().with_forces(
            ForceRegistry.from_json(data.manifest.get("forces", [])).forces)
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
        self._recency = _recency(data.passages)

    @classmethod
    def open(cls, index_dir: Path | None = None, embedder: Embedder | None = None,
             scoring: Scoring | None = None) -> Searcher:
        """Load and validate the index at `index_dir`, and the model recorded in its manifest."""
        data = read_index(Path(index_dir) if index_dir else default_index_dir())
        return cls(data, embedder or embedder_for(data.manifest, data.directory), scoring)

    @property
    def manifest(self) -> dict:
        return self.data.manifest

    @property
    def passages(self) -> list[Passage]:
        return self.data.passages

    def correct(self, question: str, scoring: Scoring | None = None) -> str:
        """The question with misspelt words repaired to the reports' spelling (when the scoring says so)."""
        if not (scoring or self.scoring).spelling:
            return question
        return correct_spelling(question, self.data.words, self._misspelt, limit=LIMITS.repaired_words)

    def signals(self, question: str, scoring: Scoring | None = None, about: str | None = None,
                scoped: bool = False) -> Signals:
        """Embed and score `question` against every passage, once.

        Args:
            question: the user's words (spelling already repaired, see `correct`).
            scoring: override the searcher's scoring.
            about: the part of the question that says what it is about (the question without the forces and
                years it names); its words decide how well the reports cover it. Default: the question.
            scoped: the question names forces, years or a pillar (checked against what is indexed).
        """
        scoring = scoring or self.scoring
        words = [w for w in dict.fromkeys(content_words(about if about is not None else question))
                 if w not in SCOPE_WORDS and not w.isdigit()]
        unknown = [w for w in words if not self.data.lexical.knows(w)]
        # Past the limit, unknown words earn no synonym credit (bounds the work a long question costs). Words
        # are embedded apart from the question: in one batch each would be padded to the question's length.
        q = self.embedder.encode([fold(question)]).astype(np.float32)[0]
        word_vectors = self.embedder.encode(unknown[:LIMITS.unknown_words]).astype(np.float32)
        n = self.data.vectors.ntotal
        passage_cos = np.zeros(n, dtype=np.float32)
        if n:
            sims, ids = self.data.vectors.search(q[None, :], n)
            passage_cos[ids[0]] = sims[0]
        sentence_cos = self.data.sentence_vectors @ q
        best_sentence = (np.maximum.reduceat(sentence_cos, self.data.sentence_rows[:-1]) if n
                         else np.zeros(0, np.float32))
        w = scoring.sentence_weight
        structure = np.zeros(n, dtype=np.float32)
        if scoring.mode != "bm25":
            improve = asks_for_improvement(question)
            structure = (scoring.structure_weight * (asks_for_grade(question) * self._grade + improve * self._improve)
                         - asks_for_facts(question) * scoring.recommendation_penalty * self._improve)
        return Signals(question, (1 - w) * passage_cos + w * best_sentence, sentence_cos,
                       self.data.lexical.scores(question), structure, words, unknown, word_vectors, scoring,
                       scoped=scoped)

    def rank(self, s: Signals, mask: np.ndarray, top_k: int, recency: bool = True) -> Retrieval:
        """The `top_k` best passages within `mask`, best first, with the evidence for refusing."""
        scoring = s.scoring
        coverage = self._coverage(s, mask)
        if not mask.any() or top_k <= 0:
            return Retrieval(s.question, [], 0.0, coverage)
        best_lexical = float(s.lexical[mask].max())
        lexical_norm = s.lexical / best_lexical if best_lexical > 0 else np.zeros_like(s.lexical)
        if scoring.mode == "dense":
            fused = s.dense.copy()
        elif scoring.mode == "bm25":
            fused = lexical_norm
        elif scoring.fusion == "rrf":
            fused = _reciprocal_rank(s.dense) + _reciprocal_rank(s.lexical)
        else:
            fused = s.dense + scoring.lexical_weight * lexical_norm
        fused = fused + s.structure
        if recency and scoring.recency_weight:
            fused = fused + scoring.recency_weight * self._recency
        fused = np.where(mask, fused, -np.inf)
        order = np.argsort(-fused, kind="stable")[: min(top_k, int(mask.sum()))]
        hits = [self.hit(s, int(i), float(fused[i])) for i in order]
        if scoring.mode == "bm25":
            evidence = coverage
        elif scoring.mode == "dense":
            evidence = float(s.dense[mask].max())
        else:
            weight = scoring.coverage_weight + scoring.short_query_bonus * (len(s.words) <= 2)
            evidence = float(s.dense[mask].max()) + weight * coverage
        if asks_for_quantity(s.question) and not any(has_quantity(h.passage.text) for h in hits):
            evidence -= scoring.quantity_penalty
        return Retrieval(s.question, hits, evidence, coverage)

    def hit(self, s: Signals, row: int, score: float) -> Hit:
        """The passage at `row` as a hit with `score`, its sentences scored against the question."""
        bounds = self.data.sentence_rows
        return Hit(self.data.passages[row], score,
                   tuple(float(x) for x in s.sentence_cos[bounds[row]:bounds[row + 1]]), row)

    def retrieve(self, question: str, top_k: int = 5, where: Filter | None = None,
                 scoring: Scoring | None = None) -> Retrieval:
        """The `top_k` passages that best answer `question`, best first, with the evidence for refusing.

        Args:
            question: the user's words.
            top_k: how many results.
            where: only passages this filter lets through (a report, force, year, section...).
            scoring: override the searcher's scoring (used to compare modes).
        """
        question = self.correct(question, scoring)
        return self.rank(self.signals(question, scoring), self.columns.mask(where), top_k)

    def search(self, question: str, top_k: int = 5, where: Filter | None = None) -> list[Hit]:
        return self.retrieve(question, top_k, where).hits

    def _misspelt(self, word: str) -> bool:
        """A word the reports lack and the model's vocabulary lacks too (so not an everyday word)."""
        return not self.data.lexical.knows(word) and self.embedder.count_tokens(word) > 3

    def _in_scope(self, word: str, mask: np.ndarray, everywhere: bool) -> bool:
        if everywhere:
            return self.data.lexical.knows(word)
        rows = self.data.lexical.passages_with(word)
        return bool(len(rows) and mask[rows].any())

    def _coverage(self, s: Signals, mask: np.ndarray) -> float:
        """Share of the question's content words the allowed passages contain. A word they lack counts in
        part when a word they have means nearly the same ("kids" ~ "children"), so paraphrases are not
        refused; a word only other forces' reports contain counts for nothing."""
        if not s.words:
            # Nothing left once the forces, years and pillars it names are taken out ("How efficient is
            # Thornbury?"): the scope says it all, and the scope was checked against what is indexed.
            return 1.0 if s.scoped else 0.0
        everywhere = bool(mask.all())
        vectors = s.vectors
        if not vectors:
            vectors.update(zip(s.unknown, s.unknown_vectors, strict=False))
        unknown = set(s.unknown)
        missing = [w for w in s.words if w in unknown or not self._in_scope(w, mask, everywhere)]
        credit = float(len(s.words) - len(missing))
        need = [w for w in missing if w not in vectors][:LIMITS.unknown_words]
        if need:  # known to the reports, but not to those allowed: how near is what they have?
            vectors.update(zip(need, self.embedder.encode(need), strict=True))
        for w in missing:
            for word, sim in self._neighbours(s, w):
                if word != w and self._in_scope(word, mask, everywhere):
                    credit += float(np.clip((sim - SYNONYM_FLOOR) / (SYNONYM_FULL - SYNONYM_FLOOR), 0, 1))
                    break
        return credit / len(s.words)

    def _neighbours(self, s: Signals, word: str) -> list[tuple[str, float]]:
        """The report words nearest `word` (computed once per question: comparisons ask for every report)."""
        key = ("neighbours", word)
        if key not in s.vectors:
            v = s.vectors.get(word)
            n = len(self.data.words)
            if v is None or not n:
                s.vectors[key] = []
            else:
                sims = self.data.word_vectors @ v
                k = min(SYNONYM_CANDIDATES + 1, n)
                top = np.argpartition(-sims, k - 1)[:k]
                s.vectors[key] = [(self.data.words[i], float(sims[i])) for i in top[np.argsort(-sims[top])]]
        return s.vectors[key]


def _recency(passages: list[Passage]) -> np.ndarray:
    """0 for a force's earliest report year, 1 for its latest (0 where it has one year, or no force)."""
    spans: dict[str, tuple[int, int]] = {}
    for p in passages:
        if p.force and p.year:
            lo, hi = spans.get(p.force, (p.year, p.year))
            spans[p.force] = (min(lo, p.year), max(hi, p.year))
    out = np.zeros(len(passages), dtype=np.float32)
    for i, p in enumerate(passages):
        if p.force and p.year and p.force in spans:
            lo, hi = spans[p.force]
            out[i] = (p.year - lo) / (hi - lo) if hi > lo else 0.0
    return out
