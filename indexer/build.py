"""Build or update an index: seeds → passages → embeddings → index folder."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import __version__
from .documents import read_all
from .errors import IndexCorruptError, IndexNotFoundError, PeelqaError, SeedsError
from .grades import extract_grades
from .lexical import vocabulary
from .model import Embedder, calibration, load_embedder, recorded_model
from .passage import Passage
from .reports import indexed_forces
from .sources import SUFFIXES, discover
from .store import (
    EMBEDDING_FILES,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    PASSAGES,
    WORD_VECTORS,
    WORDS,
    IndexData,
    build_lock,
    damaged_files,
    default_index_dir,
    load_parts,
    read_manifest,
    write_index,
)

# Bump when parsing or splitting changes, so a rebuild re-parses files whose bytes did not change.
PARSER_VERSION = 5
BATCH = 32

Progress = Callable[[int, int, str], None]


def default_seeds_dir() -> Path:
    env = os.environ.get("PEELQA_SEEDS_DIR")
    if env:
        return Path(env)
    local = Path("seeds")
    return local if local.is_dir() else Path(__file__).resolve().parent.parent / "seeds"


@dataclass
class BuildSummary:
    index_dir: str
    documents: int
    passages: int
    embedded: int
    seconds: float
    skipped: dict[str, str] = field(default_factory=dict)  # file -> reason
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # damaged index files that were rebuilt

    def line(self) -> str:
        docs = f"{self.documents} document{'s' * (self.documents != 1)}"
        text = (f"indexed {docs}, {self.passages} passages ({self.embedded} re-embedded) "
                f"in {self.seconds:.1f} s → {self.index_dir}")
        if self.removed:
            text += f"; dropped {len(self.removed)} deleted file(s)"
        if self.skipped:
            text += f"; skipped {len(self.skipped)} file(s)"
        if self.repaired:
            text += f"; repaired {', '.join(self.repaired)}"
        return text

    def to_dict(self) -> dict:
        return asdict(self)


def _model_of(index_dir: Path) -> str | None:
    """The model an existing index was built with, if there is one and it can still be found."""
    try:
        return recorded_model(read_manifest(index_dir).get("model", {}))
    except (IndexNotFoundError, IndexCorruptError):
        return None


@dataclass
class _Previous:
    """What a rebuild can reuse from the index it replaces, and what was found damaged in it."""

    data: IndexData | None = None
    damaged: dict[str, str] = field(default_factory=dict)

    def rows(self) -> dict[str, tuple[dict, list[int]]]:
        """document -> (manifest entry, row numbers of its passages), when its vectors can be reused."""
        if self.data is None or any(f in self.damaged for f in EMBEDDING_FILES):
            return {}
        rows: dict[str, list[int]] = {}
        for i, p in enumerate(self.data.passages):
            rows.setdefault(p.document, []).append(i)
        return {d["file"]: (d, rows.get(d["file"], [])) for d in self.data.manifest.get("documents", [])}

    def word_vectors(self) -> dict[str, np.ndarray]:
        if self.data is None or {WORDS, WORD_VECTORS} & set(self.damaged):
            return {}
        return dict(zip(self.data.words, self.data.word_vectors, strict=True))


def _previous(index_dir: Path, embedder: Embedder, full: bool, notes: list[str]) -> _Previous:
    """The previous index, every file checked against its checksum: a damaged part is rebuilt, never reused."""
    try:
        manifest = read_manifest(index_dir)
    except IndexNotFoundError:
        return _Previous()
    except IndexCorruptError as exc:
        notes.append(f"previous index unusable, rebuilding all: {exc}")
        return _Previous(damaged={MANIFEST: str(exc)})
    folder = Path(manifest.pop("_directory"))
    damaged = damaged_files(folder, manifest, full=True)
    if full:
        return _Previous(damaged=damaged)
    if manifest["model"].get("sha256") != embedder.sha256:
        notes.append(f"model changed from {manifest['model'].get('name')}, re-embedding all")
        return _Previous(damaged=damaged)
    if manifest.get("parser_version") != PARSER_VERSION:
        notes.append("parser changed, re-parsing all")
        return _Previous(damaged=damaged)
    if damaged:
        notes.append("damaged index files rebuilt: " + "; ".join(f"{k}: {v}" for k, v in damaged.items()))
    if PASSAGES in damaged or MANIFEST in damaged:
        return _Previous(damaged=damaged)
    try:
        # Checksums were just verified file by file; damaged files are left out and rebuilt.
        data = load_parts(folder, manifest, skip=set(damaged))
    except IndexCorruptError as exc:
        notes.append(f"previous index unusable, rebuilding all: {exc}")
        return _Previous(damaged={**damaged, MANIFEST: str(exc)})
    return _Previous(data, damaged)


def build_index(
    seeds_dir: Path | None = None,
    index_dir: Path | None = None,
    model: str | None = None,
    full: bool = False,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> BuildSummary:
    """Index every report under `seeds_dir` into `index_dir`, re-embedding only files that changed.

    Damaged index files (checked against the manifest's checksums) are rebuilt; one build runs at a time
    per index (BusyError otherwise).

    Args:
        seeds_dir: folder of .txt/.md reports (default: `seeds/`).
        index_dir: where the index lives (default: `$PEELQA_INDEX_DIR` or `./index`).
        model: embedding model name or path (default: the registry's default).
        full: re-embed everything even if a file is unchanged.
        progress: called as `progress(done, total, message)` while reading and embedding.
        embedder: an already loaded model (tests pass a fake one); overrides `model`.
    """
    began = time.perf_counter()
    seeds_dir = Path(seeds_dir) if seeds_dir else default_seeds_dir()
    index_dir = Path(index_dir) if index_dir else default_index_dir()
    if not seeds_dir.is_dir():
        raise SeedsError(f"seeds folder {seeds_dir} does not exist", fix="pass --seeds DIR")
    if index_dir.exists() and not index_dir.is_dir():
        raise PeelqaError(f"{index_dir} is a file, not an index folder", fix="pass --index-dir FOLDER")
    files, skipped = discover(seeds_dir)
    if not files:
        raise SeedsError(f"no reports ({', '.join(SUFFIXES)}) in {seeds_dir}" + _reasons(skipped),
                         fix=f"add reports to {seeds_dir} or pass --seeds DIR")
    with build_lock(index_dir):
        if embedder is None and model is None:
            model = _model_of(index_dir)  # a rebuild keeps the model the index was built with
        embedder = embedder or load_embedder(model)
        notes: list[str] = []
        prev = _previous(index_dir, embedder, full, notes)
        reuse = prev.rows()
        reads, registry = read_all(files, seeds_dir, reuse, prev.data, embedder.count_tokens, embedder.max_tokens,
                                   skipped, progress)
        documents = [r.entry for r in reads]
        kept = [(r.entry["file"], r.passages, r.rows) for r in reads]
        if not documents:
            raise SeedsError(f"no readable reports in {seeds_dir}" + _reasons(skipped),
                             fix="add reports (" + ", ".join(SUFFIXES) + ")")
        fresh = [p for _, passages, rows in kept if rows is None for p in passages]
        fresh_vectors, fresh_sentences = _embed(fresh, embedder, progress)
        all_passages, vectors, sentence_vectors = _assemble(kept, prev.data, fresh_vectors, fresh_sentences)
        words = vocabulary(all_passages)
        word_vectors = _reuse_or_embed_words(words, prev.word_vectors(), embedder)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "parser_version": PARSER_VERSION,
            "package_version": __version__,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "model": {"name": embedder.name, "path": str(getattr(embedder, "path", "")), "sha256": embedder.sha256,
                      "dimension": embedder.dimension, "max_tokens": embedder.max_tokens},
            "metric": "inner_product_on_normalized",
            "seeds_dir": str(seeds_dir.resolve()),
            "passages": len(all_passages),
            "documents": documents,
            "forces": registry_rows(all_passages, registry),
            # The retrieval settings searches use, with the refusal threshold calibrated for exactly them.
            "retrieval": calibration(embedder.name),
        }
        scopes = {d["file"]: d.get("scope", "force") for d in documents}
        grades = [g.to_dict() for rel, passages, _ in kept for g in extract_grades(passages, scopes[rel], registry)]
        texts = {r.entry["text"]: (r.text, r.runs) for r in reads}
        write_index(index_dir, manifest, all_passages, vectors, sentence_vectors, words, word_vectors, grades, texts)
    removed = sorted(set(reuse) - {d["file"] for d in documents} - set(skipped))
    return BuildSummary(
        index_dir=str(index_dir), documents=len(documents), passages=len(all_passages), embedded=len(fresh),
        seconds=time.perf_counter() - began, skipped=skipped, removed=removed, notes=notes,
        repaired=sorted(prev.damaged),
    )


def _reasons(skipped: dict[str, str]) -> str:
    return f" ({'; '.join(f'{f}: {r}' for f, r in skipped.items())})" if skipped else ""


def _assemble(kept, prev: IndexData | None, fresh_vectors: np.ndarray, fresh_sentences: np.ndarray):
    """All passages in file order, with their passage and sentence vectors, fresh or reused."""
    old_vectors = prev.passage_vectors() if prev is not None and prev.vectors is not None else None
    vectors, sentence_vectors, all_passages = [], [], []
    cursor = sentence_cursor = 0
    dim = fresh_vectors.shape[1]
    for _, passages, rows in kept:
        all_passages.extend(passages)
        if rows is None:
            n_sent = sum(len(p.sentences) or 1 for p in passages)
            vectors.append(fresh_vectors[cursor:cursor + len(passages)])
            sentence_vectors.append(fresh_sentences[sentence_cursor:sentence_cursor + n_sent])
            cursor += len(passages)
            sentence_cursor += n_sent
        else:
            vectors.append(old_vectors[rows])
            bounds = prev.sentence_rows
            sentence_vectors.extend(prev.sentence_vectors[bounds[i]:bounds[i + 1]] for i in rows)
    return (all_passages,
            np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32),
            np.concatenate(sentence_vectors) if sentence_vectors else np.zeros((0, dim), np.float32))


def _embed(passages: list[Passage], embedder: Embedder, progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    """Vectors for each passage (heading + text) and for each of its sentences (the sentence alone)."""
    sentences = [s for p in passages for s in p.sentence_texts()]
    jobs = [("passages", [p.embed_text for p in passages]), ("sentences", sentences)]
    total, done = len(passages) + len(sentences), 0
    out = []
    for label, texts in jobs:
        parts = []
        for i in range(0, len(texts), BATCH):
            parts.append(embedder.encode(texts[i:i + BATCH]))
            done += len(texts[i:i + BATCH])
            if progress:
                progress(done, total, f"embedding {label}")
        out.append(np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), np.float32))
    return out[0], out[1]


def _reuse_or_embed_words(words: list[str], known: dict[str, np.ndarray], embedder: Embedder) -> np.ndarray:
    """Word vectors, embedding only words the previous index did not have."""
    new = [w for w in words if w not in known]
    fresh = dict(zip(new, embedder.encode(new), strict=True)) if new else {}
    if not words:
        return np.zeros((0, embedder.dimension), np.float32)
    return np.stack([fresh[w] if w in fresh else known[w] for w in words])


def registry_rows(passages: list[Passage], registry) -> list[dict]:
    """The forces the index holds passages about, with the aliases the corpus taught (for scoping questions)."""
    return [{"name": f.name, "aliases": list(f.aliases)} for f in indexed_forces(passages, registry)]
