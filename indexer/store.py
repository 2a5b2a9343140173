"""The index on disk: a folder of plain files, written atomically, validated on load.

    manifest.json     format version, model and checksum, dimension, sources with SHA-256, build time
    passages.jsonl    one Passage per line, in vector order
    passages.faiss    IndexFlatIP over L2-normalised passage vectors (inner product = cosine)
    sentences.npy     one normalised vector per sentence, in passage order (for highlights)
    bm25/             bm25s's lexical index over the same passages (numpy arrays + JSON)
    words.json        the reports' distinct content words, and words.npy their vectors (for coverage)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexCorruptError, IndexNotFoundError, PeelqaError
from .lexical import LexicalIndex
from .passage import Passage

FORMAT = "peelqa-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
VECTORS = "passages.faiss"
SENTENCES = "sentences.npy"
WORDS = "words.json"
WORD_VECTORS = "words.npy"


def default_index_dir() -> Path:
    return Path(os.environ.get("PEELQA_INDEX_DIR") or "index")


@dataclass
class IndexData:
    """A loaded, validated index."""

    directory: Path
    manifest: dict
    passages: list[Passage]
    vectors: object  # faiss.Index
    sentence_vectors: np.ndarray
    sentence_rows: np.ndarray  # sentence_rows[i]:sentence_rows[i+1] are passage i's sentence vectors
    lexical: LexicalIndex
    words: list[str]
    word_vectors: np.ndarray

    def passage_vectors(self) -> np.ndarray:
        n = self.vectors.ntotal
        return self.vectors.reconstruct_n(0, n) if n else np.zeros((0, self.vectors.d), np.float32)


def sentence_rows(passages: list[Passage]) -> np.ndarray:
    counts = [len(p.sentences) or 1 for p in passages]
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def write_index(
    directory: Path,
    manifest: dict,
    passages: list[Passage],
    vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    words: list[str],
    word_vectors: np.ndarray,
) -> None:
    """Write a complete index beside `directory`, then swap it in, so readers never see half an index."""
    import faiss

    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()) and not (directory / MANIFEST).exists():
        raise PeelqaError(
            f"{directory} exists and is not a peelqa index; refusing to replace it",
            fix="choose another --index-dir",
        )
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; an index is as readable as its sources
        with open(tmp / PASSAGES, "w", encoding="utf-8", newline="\n") as f:
            for p in passages:
                f.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        index = faiss.IndexFlatIP(int(manifest["model"]["dimension"]))
        if len(passages):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(index, str(tmp / VECTORS))
        np.save(tmp / SENTENCES, np.ascontiguousarray(sentence_vectors, dtype=np.float32), allow_pickle=False)
        LexicalIndex.build(passages).save(tmp)
        (tmp / WORDS).write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        np.save(tmp / WORD_VECTORS, np.ascontiguousarray(word_vectors, dtype=np.float32), allow_pickle=False)
        # The manifest goes last: a folder without one is never taken for an index.
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _swap_in(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(new: Path, target: Path) -> None:
    if not target.exists():
        os.rename(new, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _recoverable(directory: Path) -> Path | None:
    """If a swap was cut between its two renames, the previous index waits under a `.NAME.old-*` name."""
    olds = sorted(directory.parent.glob(f".{directory.name}.old-*"), key=lambda p: p.stat().st_mtime)
    return next((p for p in reversed(olds) if (p / MANIFEST).exists()), None)


def read_manifest(directory: Path) -> dict:
    directory = Path(directory)
    if not (directory / MANIFEST).exists():
        if not directory.exists() and (old := _recoverable(directory)):
            directory = old
        elif not directory.exists() or not any(directory.iterdir()):
            raise IndexNotFoundError(f"no index at {directory}", fix="peelqa index")
        else:
            raise IndexCorruptError(f"{directory} has no {MANIFEST}", fix="peelqa index --full")
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"cannot read {directory / MANIFEST}: {exc}", fix="peelqa index --full") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexCorruptError(f"{directory / MANIFEST} is not a peelqa manifest", fix="peelqa index --full")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorruptError(
            f"index at {directory} has format version {manifest.get('format_version')}, this peelqa reads "
            f"{FORMAT_VERSION}",
            fix="peelqa index --full",
        )
    manifest["_directory"] = str(directory)
    return manifest


def read_index(directory: Path) -> IndexData:
    """Load and validate an index; raises IndexNotFoundError or IndexCorruptError."""
    import faiss

    manifest = read_manifest(directory)
    folder = Path(manifest.pop("_directory"))
    fix = "peelqa index --full"
    try:
        with open(folder / PASSAGES, encoding="utf-8") as f:
            passages = [Passage.from_dict(json.loads(line)) for line in f if line.strip()]
        vectors = faiss.read_index(str(folder / VECTORS))
        sentence_vectors = np.load(folder / SENTENCES, allow_pickle=False)
        lexical = LexicalIndex.load(folder, len(passages))
        words = json.loads((folder / WORDS).read_text(encoding="utf-8"))
        word_vectors = np.load(folder / WORD_VECTORS, allow_pickle=False)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexCorruptError(f"index at {folder} is damaged: {exc}", fix=fix) from exc
    rows = sentence_rows(passages)
    dim = manifest.get("model", {}).get("dimension")
    problems = []
    if len(passages) != manifest.get("passages"):
        problems.append(f"{len(passages)} passages but the manifest says {manifest.get('passages')}")
    if vectors.ntotal != len(passages):
        problems.append(f"{vectors.ntotal} vectors for {len(passages)} passages")
    if vectors.d != dim or (len(sentence_vectors) and sentence_vectors.shape[1] != dim):
        problems.append(f"vector dimension differs from the manifest's {dim}")
    if len(sentence_vectors) != rows[-1]:
        problems.append(f"{len(sentence_vectors)} sentence vectors for {rows[-1]} sentences")
    if len(words) != len(word_vectors):
        problems.append(f"{len(word_vectors)} word vectors for {len(words)} words")
    if problems:
        raise IndexCorruptError(f"index at {folder} is inconsistent: {'; '.join(problems)}", fix=fix)
    return IndexData(folder, manifest, passages, vectors, sentence_vectors, rows, lexical, words, word_vectors)
