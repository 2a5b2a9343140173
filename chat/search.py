"""Load an index with the model it was built with, and rank passages for a question.

Two stages. Candidates: the passages nearest the question's vector, the best BM25 matches, and (when the
question asks for a grade or for what to improve) the nearest passages of that kind, each source searched
within the mask (the passages a filter or the question's scope allows), so a per-report comparison gets
candidates from every report. Rescoring: every signal computed on the candidates only, then one fusion.
Three scorers: `dense` (the passage's cosine blended with its best sentence's), `bm25` (section + text), and
`hybrid` (dense plus BM25 scaled to the best lexical match within the mask).
"""

from __future__ import annotations

from collections.abc import Sequence
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
    asks_nationally,
    correct_spelling,
    expected_answer,
    states_answer,
)
from .scope import SCOPE_WORDS

MODES = ("hybrid", "dense", "bm25")
# Word-to-word cosines (all-MiniLM-L6-v2): "cops"~"police" 0.93, "kids"~"children" 0.88, "guns"~"firearms"
# 0.87, while unrelated pairs ("budget"~"projects", "football"~"teams") stay near 0.5-0.6.
SYNONYM_FLOOR = 0.6
SYNONYM_FULL = 0.85
SYNONYM_CANDIDATES = 3  # report words nearest an unknown question word, checked for being in scope
DENSE_BLOCK = 50_000  # passages whose sentence vectors are gathered at once (~80 MB at 5 sentences each)
SCOPE_SLICE = 65_536  # postings checked at once for an allowed passage
TOP_STRIDE = 64  # every how many BM25 scores one is sampled to bound the best from below (`_above_floor`)


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
    # A question asking for a number ("how many firearms officers") or an office holder ("who is the chief
    # constable") whose quotes have no sentence stating one beside what is counted (or the office): a veto.
    quantity_penalty: float = 1.5
    # With no year named, a force's reports of every year compete; the latest gets this much more, the
    # earliest none, so recency only breaks near-ties.
    recency_weight: float = 0.03
    # A question naming a force: its own reports' passages are preferred to a national document's passage that
    # names it (an overview, a press release), which summarise what the report says in full. A question asked
    # nationally ("how many forces", "nationally") prefers national documents. Both break near-ties only.
    own_report_weight: float = 0.05
    national_weight: float = 0.05
    # Within a scope every passage is about the named force and year, so their names only pull towards
    # passages that happen to repeat them (press releases, introductions): they are left out of the search.
    names_out: bool = True
    # Candidates taken from each source (dense, BM25, and the passages of the kind asked for) before every
    # signal is computed on them; 0 scores every allowed passage. Masks allowing up to 4x this many are
    # scored whole. Measured with benchmarks/scale.py (held-out sentences of synthetic look-alike reports,
    # the hardest case: ten copies of each paragraph with other place names): the final top 5 equals the
    # exhaustive one for 194/200 questions at 100 and 200/200 at 400 on 10,000 passages, and for 96/100 at
    # 200 and 99/100 at 400 on 100,000. On the quality sets 50 is already exact (tests/test_quality.py).
    candidates: int = 400

    def to_dict(self) -> dict:
        return asdict(self)

    def calibrates_as(self, settings: dict | None) -> bool:
        """Whether a threshold calibrated with `settings` holds for these: they differ at most in how many
        candidates are rescored, which changes the speed and may reorder quotes, never the refusal decision in
        what was measured (tests/test_quality.py, docs/performance.md)."""
        if not isinstance(settings, dict):
            return False
        mine = {k: v for k, v in self.to_dict().items() if k != "candidates"}
        return mine == {k: v for k, v in settings.items() if k != "candidates"}

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
    """What is known about one question before any mask is applied; dense signals are computed for the rows
    a ranking asks about, once (a comparison ranks the same question within every report)."""

    question: str  # after spelling repair
    query: np.ndarray  # its vector
    lexical: np.ndarray  # BM25 score of every passage (from postings: the work is in the passages it matches)
    words: list[str]  # the question's content words that say what it is about
    unknown: list[str]  # those the reports lack entirely
    unknown_vectors: np.ndarray
    scoring: Scoring
    scoped: bool = False  # the question names forces, years or a pillar
    grade: float = 0.0  # structure bonus for grade passages
    improve: float = 0.0  # bonus (or, negative, penalty) for "Areas for improvement" passages
    own: float = 0.0  # bonus for a force's own reports (the question names a force)
    national: float = 0.0  # bonus for national documents (the question asks nationally)
    expects: tuple | None = None  # the kind of answer asked for and its words (intent.expected_answer)
    vectors: dict = field(default_factory=dict)  # word -> vector, and its nearest report words: computed once
    dense: dict = field(default_factory=dict)  # row -> dense score
    sentences: dict = field(default_factory=dict)  # row -> cosine of each of its sentences (an array)


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
        data.vectors.prepare()  # a remote backend's collection checked and loaded now, not at the first question
        self.data = data
        self.embedder = embedder
        stored = (data.manifest.get("retrieval") or {}).get("scoring")
        self.scoring = scoring or (Scoring.from_dict(stored) if stored else Scoring())
        self.columns = Columns(data.columns)
        self.forces = ForceRegistry.canonical().with_forces(
            ForceRegistry.from_json(data.manifest.get("forces", [])).forces)
        self._grade = data.columns.grade.astype(np.float32)
        self._improve = data.columns.improve.astype(np.float32)
        self._recency = _recency(data.columns)
        self._national = _national(data.columns, data.manifest.get("documents", []))

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
    def passages(self) -> Sequence[Passage]:
        return self.data.passages

    def correct(self, question: str, scoring: Scoring | None = None) -> str:
        """The question with misspelt words repaired to the reports' spelling (when the scoring says so)."""
        if not (scoring or self.scoring).spelling:
            return question
        return correct_spelling(question, self.data.words, self._misspelt, limit=LIMITS.repaired_words)

    def signals(self, question: str, scoring: Scoring | None = None, about: str | None = None,
                scoped: bool = False, forces: bool = False) -> Signals:
        """Embed `question` and score it lexically against every passage, once.

        Args:
            question: the user's words (spelling already repaired, see `correct`).
            scoring: override the searcher's scoring.
            about: the part of the question that says what it is about (the question without the forces and
                years it names); its words decide how well the reports cover it. Default: the question.
            scoped: the question names forces, years or a pillar (checked against what is indexed).
            forces: it names forces (their own reports are preferred to national documents naming them).
        """
        scoring = scoring or self.scoring
        words = [w for w in dict.fromkeys(content_words(about if about is not None else question))
                 if w not in SCOPE_WORDS and not w.isdigit()]
        unknown = [w for w in words if not self.data.lexical.knows(w)]
        # Past the limit, unknown words earn no synonym credit (bounds the work a long question costs). Words
        # are embedded apart from the question: in one batch each would be padded to the question's length.
        q = self.embedder.encode([fold(question)]).astype(np.float32)[0]
        word_vectors = self.embedder.encode(unknown[:LIMITS.unknown_words]).astype(np.float32)
        grade = improve = 0.0
        if scoring.mode != "bm25":
            grade = scoring.structure_weight * asks_for_grade(question)
            improve = (scoring.structure_weight * asks_for_improvement(question)
                       - scoring.recommendation_penalty * asks_for_facts(question))
        own = scoring.own_report_weight if forces else 0.0
        national = scoring.national_weight if not forces and asks_nationally(question) else 0.0
        return Signals(question, q, self.data.lexical.scores(question), words, unknown, word_vectors, scoring,
                       scoped=scoped, grade=grade, improve=improve, own=own, national=national,
                       expects=expected_answer(question))

    def candidates(self, s: Signals, mask: np.ndarray) -> np.ndarray:
        """The rows worth rescoring, ascending: every allowed row when there are few, else the best of each
        source within the mask."""
        n = s.scoring.candidates
        allowed = int(mask.sum())
        if not n or allowed <= 4 * n:
            return np.flatnonzero(mask)
        vectors = self.data.vectors
        own = vectors.candidates(s.query, s.question, n, mask)
        if own is not None:
            # Milvus: its hybrid search (dense and its own BM25), plus peelqa's best BM25 row, whose score is
            # the normaliser of the lexical signal (`rank`).
            found = [own, _top(s.lexical, 1, mask)]
        else:
            found = [vectors.top(s.query, n, mask)[0], _top(s.lexical, n, mask)]
        for bonus, column in ((s.grade, self._grade), (s.improve, self._improve)):
            if bonus > 0:  # the kind of passage asked for may sit just outside the nearest
                found.append(vectors.top(s.query, n, mask & (column > 0))[0])
        return np.unique(np.concatenate(found))

    def dense(self, s: Signals, rows: np.ndarray) -> np.ndarray:
        """The dense score of each row: its passage's cosine blended with its best sentence's."""
        need = np.array([r for r in rows.tolist() if r not in s.dense], dtype=np.int64)
        # In blocks: scoring every passage of a large index (candidates=0) would otherwise gather all of its
        # sentence vectors into memory at once (gigabytes at a million passages).
        for at in range(0, len(need), DENSE_BLOCK):
            self._dense_block(s, need[at:at + DENSE_BLOCK])
        return np.array([s.dense[r] for r in rows.tolist()], dtype=np.float32)

    def _dense_block(self, s: Signals, need: np.ndarray) -> None:
        passage = self.data.vectors.scores(s.query, need)
        starts, ends = self.data.sentence_rows[need], self.data.sentence_rows[need + 1]
        lengths = ends - starts  # at least 1: a passage with no sentence span is embedded whole
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        sentence_rows = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))
        cos = np.asarray(self.data.sentence_vectors[sentence_rows], dtype=np.float32) @ s.query
        best = np.maximum.reduceat(cos, offsets)
        w = s.scoring.sentence_weight
        s.dense.update(zip(need.tolist(), ((1 - w) * passage + w * best).tolist(), strict=True))
        # Views of one array; made into tuples only for the few rows quoted (`hit`).
        s.sentences.update((row, cos[o:o + n]) for row, o, n in zip(need.tolist(), offsets.tolist(),
                                                                    lengths.tolist(), strict=True))

    def rank(self, s: Signals, mask: np.ndarray, top_k: int, recency: bool = True) -> Retrieval:
        """The `top_k` best passages within `mask`, best first, with the evidence for refusing."""
        scoring = s.scoring
        coverage = self._coverage(s, mask)
        if not mask.any() or top_k <= 0:
            return Retrieval(s.question, [], 0.0, coverage)
        rows = self.candidates(s, mask)
        lexical = s.lexical[rows]
        # The rows hold every allowed row or the BM25 top of the mask, so this is its best score (no second
        # pass over a million scores).
        best_lexical = float(lexical.max(initial=0.0))
        lexical_norm = lexical / best_lexical if best_lexical > 0 else np.zeros_like(lexical)
        dense = self.dense(s, rows) if scoring.mode != "bm25" else np.zeros(len(rows), np.float32)
        if scoring.mode == "dense":
            fused = dense.copy()
        elif scoring.mode == "bm25":
            fused = lexical_norm
        elif scoring.fusion == "rrf":
            fused = _reciprocal_rank(dense) + _reciprocal_rank(lexical)
        else:
            fused = dense + scoring.lexical_weight * lexical_norm
        fused = fused + s.grade * self._grade[rows] + s.improve * self._improve[rows]
        if s.own or s.national:
            national = self._national[rows]
            fused = fused + s.own * ~national + s.national * national
        if recency and scoring.recency_weight:
            fused = fused + scoring.recency_weight * self._recency[rows]
        order = np.argsort(-fused, kind="stable")[:top_k]
        hits = [self.hit(s, int(rows[i]), float(fused[i])) for i in order]
        evidence = self._evidence(s, float(dense.max()), coverage, [h.passage for h in hits])
        return Retrieval(s.question, hits, evidence, coverage)

    def _evidence(self, s: Signals, best_dense: float, coverage: float, quoted: Sequence[Passage]) -> float:
        """How well the reports cover the question: the best dense score and the share of its words found."""
        scoring = s.scoring
        if scoring.mode == "bm25":
            evidence = coverage
        elif scoring.mode == "dense":
            evidence = best_dense
        else:
            weight = scoring.coverage_weight + scoring.short_query_bonus * (len(s.words) <= 2)
            evidence = best_dense + weight * coverage
        if s.expects and not any(states_answer(*s.expects, p.text, p.sentences) for p in quoted):
            evidence -= scoring.quantity_penalty
        return evidence

    def evidence_of(self, s: Signals, row: int) -> float:
        """The evidence were the passage at `row` the only one allowed: the same measure `rank` compares with
        the refusal threshold, for one quote on its own. Below the threshold, that quote alone would have been
        refused (it is "weak"), however it ranks: it shares too few of the question's words, or its meaning
        is too far from it. Comparing with the calibrated threshold needs no new constant. No model call: a
        word of the question the passage lacks earns synonym credit only if it was embedded already (a word
        the reports lack), so hiding weak quotes costs no extra embedding call per question."""
        dense = float(self.dense(s, np.array([row], dtype=np.int64))[0]) if s.scoring.mode != "bm25" else 0.0
        return self._evidence(s, dense, self._coverage(s, row, encode=False), [self.data.passages[row]])

    def hit(self, s: Signals, row: int, score: float) -> Hit:
        """The passage at `row` as a hit with `score`, its sentences scored against the question."""
        if row not in s.sentences:
            self.dense(s, np.array([row]))
        return Hit(self.data.passages[row], score, tuple(s.sentences[row].tolist()), row)

    def row_of(self, passage_id: str, document: str) -> int | None:
        """The row of a passage, found among its document's rows (grades name passages by id)."""
        for row in self.data.columns.rows_of(document).tolist():
            if self.data.passages[row].id == passage_id:
                return row
        return None

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

    def _in_scope(self, word: str, mask: np.ndarray | int, everywhere: bool) -> bool:
        if isinstance(mask, int):  # one passage: a binary search of the word's postings
            return self.data.lexical.holds(word, mask)
        if everywhere:
            return self.data.lexical.knows(word)
        rows = self.data.lexical.postings(word)
        # In slices: a common word ("crime") has most of a million passages, and one allowed is enough.
        return any(mask[rows[at:at + SCOPE_SLICE]].any() for at in range(0, len(rows), SCOPE_SLICE))

    def _coverage(self, s: Signals, mask: np.ndarray | int, encode: bool = True) -> float:
        """Share of the question's content words the allowed passages contain. A word they lack counts in
        part when a word they have means nearly the same ("kids" ~ "children"), so paraphrases are not
        refused; a word only other forces' reports contain counts for nothing. `mask` may be one row (a
        quote on its own). Without `encode`, only words already embedded (those the reports lack) can earn
        that credit: no model call."""
        if not s.words:
            # Nothing left once the forces, years and pillars it names are taken out ("How efficient is
            # Thornbury?"): the scope says it all, and the scope was checked against what is indexed.
            return 1.0 if s.scoped else 0.0
        everywhere = not isinstance(mask, int) and bool(mask.all())
        vectors = s.vectors
        if not vectors:
            vectors.update(zip(s.unknown, s.unknown_vectors, strict=False))
        unknown = set(s.unknown)
        missing = [w for w in s.words if w in unknown or not self._in_scope(w, mask, everywhere)]
        credit = float(len(s.words) - len(missing))
        need = [w for w in missing if w not in vectors][:LIMITS.unknown_words] if encode else []
        if need:  # known to the reports, but not to those allowed: how near is what they have?
            vectors.update(zip(need, self.embedder.encode(need), strict=True))
        for w in missing:
            if w not in vectors:
                continue
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


def _top(scores: np.ndarray, k: int, mask: np.ndarray) -> np.ndarray:
    """Rows of the `k` highest positive scores within `mask`, in no particular order."""
    allowed = _above_floor(scores, k, mask)
    rows = np.flatnonzero((scores > 0) & mask if allowed is None else allowed)
    if len(rows) > k:
        rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
    return rows


def _above_floor(scores: np.ndarray, k: int, mask: np.ndarray) -> np.ndarray | None:
    """The allowed rows at or above a positive score that at least `k` of them reach, read from every
    TOP_STRIDE-th row: no row below it can be among the `k` best, so only those above are sorted (at a million
    scores, ~800,000 rows to partition become a few thousand). None when the index is small or the sample
    cannot tell."""
    if len(scores) < 4 * TOP_STRIDE * k:
        return None
    sample = scores[::TOP_STRIDE][mask[::TOP_STRIDE]]
    need = 2 * k // TOP_STRIDE + 1  # twice what the sample should hold, so the floor is nearly always enough
    if len(sample) <= need:
        return None
    floor = float(np.partition(sample, len(sample) - need)[len(sample) - need])
    if floor <= 0:
        return None
    above = (scores >= floor) & mask
    return above if np.count_nonzero(above) >= k else None


def _national(columns, documents: list[dict]) -> np.ndarray:
    """True for the passages of national and multi-force documents (overviews, press releases)."""
    wide = {d["file"] for d in documents if d.get("scope", "force") != "force"}
    codes = [i for i, name in enumerate(columns.tables["document"]) if name in wide]
    return np.isin(columns.document, codes)


def _recency(columns) -> np.ndarray:
    """0 for a force's earliest report year, 1 for its latest (0 where it has one year, or no force)."""
    force, year = columns.force, columns.first_year
    none = columns.tables["force"].index(None) if None in columns.tables["force"] else -1
    out = np.zeros(len(force), dtype=np.float32)
    known = (force != none) & (year > 0)
    if not known.any():
        return out
    forces = int(force.max()) + 1
    lo = np.full(forces, np.iinfo(np.int32).max)
    hi = np.full(forces, -1)
    np.minimum.at(lo, force[known], year[known])
    np.maximum.at(hi, force[known], year[known])
    span = (hi - lo)[force[known]]
    out[known] = np.where(span > 0, (year[known] - lo[force[known]]) / np.maximum(span, 1), 0.0)
    return out
