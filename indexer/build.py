"""Build or update an index: seeds → passages → embeddings → index folder."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import __version__, milvus
from . import vectors as vector_store
from .documents import read_all
from .embedding import ModelHandle, clear_cache, embed_documents, word_vectors
from .errors import BadInputError, IndexCorruptError, IndexNotFoundError, PeelqaError, SeedsError
from .grades import extract_grades
from .lexical import LexicalIndex, words_of
from .limits import LIMITS
from .model import Embedder, calibration, recorded_model
from .onnx_model import export
from .passage import Passage
from .reports import indexed_forces
from .sources import SUFFIXES, discover
from .store import (
    EMBEDDING_FILES,
    FORMAT,
    FORMAT_VERSION,
    HEADS,
    MANIFEST,
    PASSAGE_FILES,
    WORD_VECTORS,
    WORDS,
    IndexData,
    build_lock,
    damaged_files,
    default_index_dir,
    indexed_bytes,
    listed,
    load_parts,
    read_heads,
    read_manifest,
    steps,
    write_index,
)

# Bump when parsing or splitting changes, so a rebuild re-parses files whose bytes did not change.
PARSER_VERSION = 7

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
    timings: dict[str, float] = field(default_factory=dict)  # seconds: read (and parse), embed, assemble, write

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


def _milvus_target(index_dir: Path, backend: str | None, uri: str | None) -> tuple[milvus.Target | None, dict]:
    """Where the candidates of the index being built live: a Milvus target, or None for the embedded FAISS and
    BM25 files; and the previous index's vector record. With no backend named, a rebuild keeps the previous
    index's (its URI unless another is given, and its collections' id)."""
    if backend not in (None, "faiss", "milvus"):
        raise BadInputError(f"unknown backend {backend!r}", fix="--backend faiss or --backend milvus")
    if backend == "faiss" and uri:
        raise BadInputError("--milvus-uri is for the Milvus backend", fix="--backend milvus, or leave out --milvus-uri")
    try:
        record = read_manifest(index_dir).get("vectors") or {}
    except (IndexNotFoundError, IndexCorruptError):
        record = {}
    if backend is None:
        backend = "milvus" if record.get("backend") == "milvus" or uri else "faiss"
    if backend == "faiss":
        return None, record
    uri = uri or os.environ.get("PEELQA_MILVUS_URI") or record.get("uri") or milvus.default_uri(index_dir)
    uri = uri if "://" in uri else str(Path(uri).expanduser().resolve())  # a Lite file, wherever serve runs
    return milvus.Target(uri, record.get("index_id") or milvus.new_id()), record


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
    heads_intact: bool = True  # set by rows()

    def rows(self) -> dict[str, tuple[dict, list[int]]]:
        """document -> (manifest entry, row numbers of its passages), when its vectors can be reused."""
        if self.data is None or any(f in self.damaged for f in EMBEDDING_FILES):
            return {}
        rows: dict[str, list[int]] = {}
        if self.data.columns is not None:
            for code, d in enumerate(self.data.columns.tables["document"]):
                rows[d] = np.flatnonzero(self.data.columns.document == code).tolist()
        else:  # the columns were damaged: read the records (they are checked as they are read)
            for i, p in enumerate(self.data.passages):
                rows.setdefault(p.document, []).append(i)
        heads = read_heads(self.data.directory, self.data.manifest)
        # Otherwise each reused report's first lines are found again in its text, and the index is rewritten.
        self.heads_intact = all(d["file"] in heads for d in self.data.manifest.get("documents", []))
        return {d["file"]: ({**d, "head": heads[d["file"]]} if d["file"] in heads else d, rows.get(d["file"], []))
                for d in self.data.manifest.get("documents", [])}

    def lexical(self) -> LexicalIndex | None:
        return self.data.lexical if self.data is not None else None

    def word_vectors(self) -> dict[str, np.ndarray]:
        if self.data is None or {WORDS, WORD_VECTORS} & set(self.damaged):
            return {}
        return dict(zip(self.data.words, self.data.word_vectors, strict=True))


def _previous(index_dir: Path, model_sha256: str, full: bool, notes: list[str], verify: bool | None) -> _Previous:
    """The previous index, checked: a damaged part is rebuilt, never reused. Every file's checksum when
    `verify`, or when it is None and the index is small; else sizes, vector norms and quoted text (records are
    checked as they are read), as when the index is loaded to answer."""
    try:
        manifest = read_manifest(index_dir)
    except IndexNotFoundError:
        return _Previous()
    except IndexCorruptError as exc:
        notes.append(f"previous index unusable, rebuilding all: {exc}")
        return _Previous(damaged={MANIFEST: str(exc)})
    folder = Path(manifest.pop("_directory"))
    if verify is None:
        verify = indexed_bytes(manifest) <= LIMITS.full_check_bytes
    damaged = damaged_files(folder, manifest, full="all" if verify else "text")
    if full:
        return _Previous(damaged=damaged)
    if manifest["model"].get("sha256") != model_sha256:
        notes.append(f"model changed from {manifest['model'].get('name')}, re-embedding all")
        return _Previous(damaged=damaged)
    if manifest.get("parser_version") != PARSER_VERSION:
        notes.append("parser changed, re-parsing all")
        return _Previous(damaged=damaged)
    if damaged:
        notes.append("damaged index files rebuilt: " + "; ".join(f"{k}: {v}" for k, v in damaged.items()))
    if MANIFEST in damaged or set(PASSAGE_FILES) & set(damaged):
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
    verify: bool | None = None,
    backend: str | None = None,
    milvus_uri: str | None = None,
) -> BuildSummary:
    """Index every report under `seeds_dir` into `index_dir`, re-embedding only files that changed.

    Damaged index files (checked against the manifest's checksums) are rebuilt; one build runs at a time
    per index (BusyError otherwise).

    Args:
        seeds_dir: folder of .txt/.md reports (default: `seeds/`).
        index_dir: where the index lives (default: `$PEELQA_INDEX_DIR` or `./index`).
        model: embedding model name or path (default: the registry's default).
        full: re-embed everything even if a file is unchanged.
        progress: called as `progress(done, total, message)` while reading, embedding, assembling and writing.
        embedder: an already loaded model (tests pass a fake one); overrides `model`.
        verify: check every file of the previous index against its checksum before reusing it (True), or only
            when it is small (None; see `_previous`).
        backend: "faiss" (the embedded FAISS and BM25 files) or "milvus" (candidates from a Milvus collection
            written by this build); None keeps the previous index's.
        milvus_uri: the Milvus to write to (default: the previous index's, else a Milvus Lite file beside it).
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
        handle = ModelHandle(model, embedder)
        target, was = _milvus_target(index_dir, backend, milvus_uri)
        notes: list[str] = []
        prev = _previous(index_dir, handle.sha256, full, notes, verify)
        reuse = prev.rows()
        if prev.data is not None and not prev.heads_intact and HEADS not in prev.damaged:
            notes.append(f"{HEADS} missing or not as recorded (an index of an older peelqa?): each report's first "
                         "lines found again in its stored text, and the index written again")
        clock = _Clock()
        reads, registry = read_all(files, seeds_dir, reuse, prev.data, handle.tokens(), handle.max_tokens, skipped,
                                   progress)
        documents = [r.entry for r in reads]
        if not documents:
            raise SeedsError(f"no readable reports in {seeds_dir}" + _reasons(skipped),
                             fix="add reports (" + ", ".join(SUFFIXES) + ")")
        removed = sorted(set(reuse) - {d["file"] for d in documents} - set(skipped))
        forces = registry_rows([p for r in reads for p in r.passages], registry)
        cache = index_dir.parent / f".{index_dir.name}.cache"
        if _up_to_date(prev, reads, documents, forces, handle, removed, target):
            clear_cache(cache)  # a killed build's vectors, for reports that are now indexed or gone
            return BuildSummary(index_dir=str(index_dir), documents=len(documents), passages=prev.data.manifest[
                "passages"], embedded=0, seconds=time.perf_counter() - began, skipped=skipped,
                notes=[*notes, "the index is up to date"])
        clock.lap("read")
        embedded = embed_documents(reads, handle, cache, progress)
        clock.lap("embed")
        step = steps(progress, "assembling the index", 3)  # minutes at a million passages: say so
        all_passages, vectors, sentence_vectors = _assemble(reads, prev.data)
        step()
        dimension = next((v.shape[1] for v in vectors if len(v)), None) or (
            int(prev.data.manifest["model"]["dimension"]) if prev.data is not None else handle.embedder.dimension)
        old = prev.lexical()  # None when damaged: then every passage is tokenised again
        lexical = LexicalIndex.assemble(
            [np.asarray(r.rows, dtype=np.int64) if r.rows is not None and old is not None else r.passages
             for r in reads], old)
        step()
        words = _words(reads, prev, lexical)
        vocabulary_vectors = word_vectors(words, prev.word_vectors(), handle, dimension)
        step()
        extra, query_model = _query_model(prev, handle, index_dir)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "parser_version": PARSER_VERSION,
            "package_version": __version__,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "model": {"name": handle.name, "path": str(handle.spec.path if handle.spec else ""),
                      "sha256": handle.sha256, "dimension": dimension, "max_tokens": handle.max_tokens},
            "metric": "inner_product_on_normalized",
            "seeds_dir": str(seeds_dir.resolve()),
            "passages": len(all_passages),
            "documents": documents,
            "forces": forces,
            # The retrieval settings searches use, with the refusal threshold calibrated for exactly them.
            "retrieval": calibration(handle.name),
            "query_model": query_model,
        }
        scopes = {d["file"]: d.get("scope", "force") for d in documents}
        grades = [g.to_dict() for r in reads for g in extract_grades(r.passages, scopes[r.entry["file"]], registry)]
        texts = {r.entry["text"]: (r.text, r.runs) for r in reads}
        clock.lap("assemble")
        write_index(index_dir, manifest, all_passages, vectors, sentence_vectors, words, vocabulary_vectors, grades,
                    texts, extra, lexical, milvus=target, progress=progress)
        if target is None and was.get("backend") == "milvus" and was.get("index_id"):
            # Back to FAISS: the index's collections go, but the last, which replicas read until they switch.
            milvus.retire(milvus.Target(was["uri"], was["index_id"]), keep=1)
            notes.append(f"Milvus collection {was['collection']} at {was['uri']} left for replicas still reading "
                         "it; drop it once they have switched")
        clock.lap("write")
        clear_cache(cache)
        shutil.rmtree(index_dir.parent / f".{index_dir.name}.tmp-export", ignore_errors=True)
    return BuildSummary(
        index_dir=str(index_dir), documents=len(documents), passages=len(all_passages), embedded=embedded,
        seconds=time.perf_counter() - began, skipped=skipped, removed=removed, notes=notes,
        repaired=sorted(prev.damaged), timings=clock.laps,
    )


class _Clock:
    def __init__(self):
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now


def _up_to_date(prev: _Previous, reads, documents: list[dict], forces: list[dict], handle, removed,
                target: milvus.Target | None) -> bool:
    """Nothing to write: every report unchanged and reused, nothing damaged or removed, the same metadata and
    backend (a Milvus collection that is still there)."""
    if prev.data is None or prev.damaged or removed or not prev.heads_intact or any(r.rows is None for r in reads):
        return False
    m = prev.data.manifest
    record = m.get("vectors") or {}
    if (record.get("backend") == "milvus") != (target is not None) or (
            target is not None and (record.get("uri") != target.uri or not milvus.exists(record))):
        return False
    return (m.get("documents") == [listed(d) for d in documents] and m.get("forces") == forces
            and m.get("retrieval") == calibration(handle.name)
            and (m.get("query_model") or {}).get("exported") is (handle.spec is not None))


def _query_model(prev: _Previous, handle, index_dir: Path) -> tuple[dict[str, Path], dict]:
    """The ONNX export queries run with: the previous index's if it is intact, else a fresh export."""
    if handle.spec is None:  # a model given as an object (tests' fake model): queries use it directly
        return {}, {"exported": False, "why": "built with a model object, not a model folder"}
    record = (prev.data.manifest.get("query_model") or {}) if prev.data is not None else {}
    names = [record.get("file"), record.get("tokenizer")]
    if record.get("exported") and all(n and n not in prev.damaged for n in names):
        return {n: prev.data.directory / n for n in names}, record
    export_dir = index_dir.parent / f".{index_dir.name}.tmp-export"
    record = export(handle.embedder, export_dir)
    if not record.get("exported"):
        return {}, record
    return {n: export_dir / n for n in (record["file"], record["tokenizer"])}, record


def _reasons(skipped: dict[str, str]) -> str:
    return f" ({'; '.join(f'{f}: {r}' for f, r in skipped.items())})" if skipped else ""


def _assemble(reads, prev: IndexData | None):
    """All passages in file order, with their passage and sentence vectors as blocks (fresh, or from the
    previous index's memory-mapped files one report at a time: views when its rows are in one run)."""
    vectors, sentence_vectors, all_passages = [], [], []
    if prev is not None and prev.vectors is not None and prev.sentence_vectors is not None:
        vector_store.read_in_order(prev.vectors.vectors)
        vector_store.read_in_order(prev.sentence_vectors)
    for r in reads:
        all_passages.extend(r.passages)
        if r.rows is None:
            vectors.append(r.vectors)
            sentence_vectors.append(r.sentence_vectors)
        elif len(r.rows):
            rows = np.asarray(r.rows)
            bounds = prev.sentence_rows
            if rows[-1] - rows[0] + 1 == len(rows):
                # A report's rows, in one run: views of the maps, read only as they are written (copies
                # of every reused vector held 6.6 GB at a million passages).
                vectors.append(prev.vectors.vectors[rows[0]:rows[-1] + 1])
                sentence_vectors.append(prev.sentence_vectors[bounds[rows[0]]:bounds[rows[-1] + 1]])
                continue
            vectors.append(prev.vectors.vectors[rows])
            spans = [np.arange(bounds[i], bounds[i + 1]) for i in rows]
            sentence_vectors.append(prev.sentence_vectors[np.concatenate(spans)])
    return all_passages, vectors, sentence_vectors


def _words(reads, prev: _Previous, lexical: LexicalIndex) -> list[str]:
    """The reports' distinct content words: the previous index's (less those no passage holds any more) and
    the new reports' (a rebuild reads only what changed)."""
    kept = set(prev.data.words) if prev.data is not None and not {WORDS, WORD_VECTORS} & set(prev.damaged) else None
    if kept is None:
        return sorted(words_of([p for r in reads for p in r.passages]))
    fresh = words_of([p for r in reads if r.rows is None for p in r.passages])
    return sorted({w for w in kept if lexical.knows(w)} | fresh)


def registry_rows(passages: list[Passage], registry) -> list[dict]:
    """The forces the index holds passages about, with the aliases the corpus taught (for scoping questions)."""
    return [{"name": f.name, "aliases": list(f.aliases)} for f in indexed_forces(passages, registry)]
