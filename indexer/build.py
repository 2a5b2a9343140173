"""Build or update an index: seeds → passages → embeddings → index folder."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import __version__
from .errors import IndexCorruptError, IndexNotFoundError, SeedsError
from .lexical import vocabulary
from .model import Embedder, load_embedder, recorded_model
from .parse import parse_document
from .passage import Passage
from .sentences import split_long
from .store import FORMAT, FORMAT_VERSION, IndexData, read_index, read_manifest, write_index

SUFFIXES = (".txt", ".md")
# Bump when parsing or splitting changes, so a rebuild re-parses files whose bytes did not change.
PARSER_VERSION = 2
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

    def line(self) -> str:
        docs = f"{self.documents} document{'s' * (self.documents != 1)}"
        text = (f"indexed {docs}, {self.passages} passages ({self.embedded} re-embedded) "
                f"in {self.seconds:.1f} s → {self.index_dir}")
        if self.removed:
            text += f"; dropped {len(self.removed)} deleted file(s)"
        if self.skipped:
            text += f"; skipped {len(self.skipped)} file(s)"
        return text

    def to_dict(self) -> dict:
        return asdict(self)


def discover(seeds_dir: Path) -> list[Path]:
    """Every .txt and .md file under `seeds_dir`, hidden files and folders excepted, in a stable order."""
    found = []
    for path in sorted(seeds_dir.rglob("*")):
        rel = path.relative_to(seeds_dir)
        if path.suffix.lower() in SUFFIXES and path.is_file() and not any(p.startswith(".") for p in rel.parts):
            found.append(path)
    return found


def read_source(path: Path) -> tuple[str, str]:
    """The decoded text (newlines untouched, so offsets match the file) and the SHA-256 of its bytes."""
    data = path.read_bytes()
    return data.decode("utf-8"), hashlib.sha256(data).hexdigest()


def _model_of(index_dir: Path) -> str | None:
    """The model an existing index was built with, if there is one and it can still be found."""
    try:
        return recorded_model(read_manifest(index_dir).get("model", {}))
    except (IndexNotFoundError, IndexCorruptError):
        return None


def _previous(index_dir: Path, embedder: Embedder, full: bool, notes: list[str]) -> IndexData | None:
    if full:
        return None
    try:
        prev = read_index(index_dir)
    except IndexNotFoundError:
        return None
    except IndexCorruptError as exc:
        notes.append(f"previous index unusable, rebuilding all: {exc}")
        return None
    if prev.manifest["model"].get("sha256") != embedder.sha256:
        notes.append(f"model changed from {prev.manifest['model'].get('name')}, re-embedding all")
        return None
    if prev.manifest.get("parser_version") != PARSER_VERSION:
        notes.append("parser changed, re-parsing all")
        return None
    return prev


def _reusable(prev: IndexData | None) -> dict[str, tuple[dict, list[int]]]:
    """document -> (manifest entry, row numbers of its passages) in the previous index."""
    if prev is None:
        return {}
    rows: dict[str, list[int]] = {}
    for i, p in enumerate(prev.passages):
        rows.setdefault(p.document, []).append(i)
    return {d["file"]: (d, rows.get(d["file"], [])) for d in prev.manifest.get("documents", [])}


def build_index(
    seeds_dir: Path | None = None,
    index_dir: Path | None = None,
    model: str | None = None,
    full: bool = False,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> BuildSummary:
    """Index every report under `seeds_dir` into `index_dir`, re-embedding only files that changed.

    Args:
        seeds_dir: folder of .txt/.md reports (default: `seeds/`).
        index_dir: where the index lives (default: `./index` or `$PEELQA_INDEX_DIR`).
        model: embedding model name or path (default: the registry's default).
        full: re-embed everything even if a file is unchanged.
        progress: called as `progress(done, total, message)` while embedding.
        embedder: an already loaded model (tests pass a fake one); overrides `model`.
    """
    began = time.perf_counter()
    seeds_dir = Path(seeds_dir) if seeds_dir else default_seeds_dir()
    index_dir = Path(index_dir) if index_dir else Path("index")
    if not seeds_dir.is_dir():
        raise SeedsError(f"seeds folder {seeds_dir} does not exist", fix="pass --seeds DIR")
    files = discover(seeds_dir)
    if not files:
        raise SeedsError(f"no .txt or .md reports in {seeds_dir}",
                         fix=f"add reports to {seeds_dir} or pass --seeds DIR")
    if embedder is None and model is None:
        model = _model_of(index_dir)  # a rebuild keeps the model the index was built with
    embedder = embedder or load_embedder(model)
    notes: list[str] = []
    prev = _previous(index_dir, embedder, full, notes)
    reuse = _reusable(prev)
    now = datetime.now(UTC).isoformat(timespec="seconds")

    documents, skipped = [], {}
    kept: list[tuple[str, list[Passage], list[int] | None]] = []  # (file, passages, old rows or None)
    for path in files:
        rel = path.relative_to(seeds_dir).as_posix()
        try:
            source, digest = read_source(path)
        except UnicodeDecodeError as exc:
            skipped[rel] = f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
            continue
        except OSError as exc:
            skipped[rel] = f"cannot read: {exc.strerror or exc}"
            continue
        old = reuse.get(rel)
        if old and old[0]["sha256"] == digest:
            entry, rows = old
            kept.append((rel, [prev.passages[i] for i in rows], rows))
            documents.append(entry)
            continue
        parsed = parse_document(source, rel)
        passages = [piece for p in parsed.passages
                    for piece in split_long(p, embedder.count_tokens, embedder.max_tokens)]
        if not passages:
            skipped[rel] = "no text to index"
            continue
        kept.append((rel, passages, None))
        documents.append({
            "file": rel, "sha256": digest, "bytes": len(source.encode("utf-8")), "passages": len(passages),
            "title": parsed.title, "force": parsed.force, "year": parsed.year, "pillar": parsed.pillar,
            "indexed_at": now,
        })
    if not documents:
        reasons = "; ".join(f"{f}: {r}" for f, r in skipped.items())
        raise SeedsError(f"no readable reports in {seeds_dir} ({reasons})", fix="add UTF-8 .txt or .md reports")

    fresh = [p for _, passages, rows in kept if rows is None for p in passages]
    fresh_vectors, fresh_sentences = _embed(fresh, embedder, progress)

    old_vectors = prev.passage_vectors() if prev is not None else None
    vectors, sentence_vectors, all_passages = [], [], []
    cursor = sentence_cursor = 0
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

    dim = embedder.dimension
    words = vocabulary(all_passages)
    word_vectors = _reuse_or_embed_words(words, prev, embedder)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "parser_version": PARSER_VERSION,
        "package_version": __version__,
        "built_at": now,
        "model": {"name": embedder.name, "path": str(getattr(embedder, "path", "")), "sha256": embedder.sha256,
                  "dimension": dim, "max_tokens": embedder.max_tokens},
        "metric": "inner_product_on_normalized",
        "seeds_dir": str(seeds_dir.resolve()),
        "passages": len(all_passages),
        "documents": documents,
    }
    write_index(
        index_dir, manifest, all_passages,
        np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32),
        np.concatenate(sentence_vectors) if sentence_vectors else np.zeros((0, dim), np.float32),
        words, word_vectors,
    )
    removed = sorted(set(reuse) - {d["file"] for d in documents} - set(skipped))
    return BuildSummary(
        index_dir=str(index_dir), documents=len(documents), passages=len(all_passages), embedded=len(fresh),
        seconds=time.perf_counter() - began, skipped=skipped, removed=removed, notes=notes,
    )


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



def _reuse_or_embed_words(words: list[str], prev: IndexData | None, embedder: Embedder) -> np.ndarray:
    """Word vectors, embedding only words the previous index did not have."""
    known = {w: i for i, w in enumerate(prev.words)} if prev is not None else {}
    new = [w for w in words if w not in known]
    fresh = dict(zip(new, embedder.encode(new), strict=True)) if new else {}
    if not words:
        return np.zeros((0, embedder.dimension), np.float32)
    return np.stack([fresh[w] if w in fresh else prev.word_vectors[known[w]] for w in words])
