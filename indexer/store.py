"""The index on disk: a folder of plain files, written atomically, validated on load.

    manifest.json     format version, model and checksum, dimension, sources with SHA-256, build time,
                      and the size and SHA-256 of every other file here (integrity)
    passages.jsonl    one Passage per line, in vector order
    passages.faiss    IndexFlatIP over L2-normalised passage vectors (inner product = cosine)
    sentences.npy     one normalised vector per sentence, in passage order (for highlights)
    bm25/             bm25s's lexical index over the same passages (numpy arrays + JSON)
    words.json        the reports' distinct content words, and words.npy their vectors (for coverage)
    grades.jsonl      every PEEL grade the reports state, with its sentence's offsets
    texts/            each document's text as indexed (what passages quote), and a PDF's page map

One build at a time per index (a lock file beside it); every build first removes what killed builds left.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import BusyError, IndexCorruptError, IndexNotFoundError, PeelqaError
from .lexical import FOLDER as BM25_FOLDER
from .lexical import LexicalIndex
from .limits import LIMITS
from .passage import Passage

FORMAT = "peelqa-index"
FORMAT_VERSION = 2  # 2: the manifest records every file's size and SHA-256
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
VECTORS = "passages.faiss"
SENTENCES = "sentences.npy"
WORDS = "words.json"
WORD_VECTORS = "words.npy"
GRADES = "grades.jsonl"
# What a damaged file costs to repair: these hold embeddings of every passage; the rest is cheap to rebuild.
EMBEDDING_FILES = (VECTORS, SENTENCES)
REPAIR = "peelqa index --repair"
# Vectors are unit length (or zero); anything else was not written by peelqa (garbled bytes read as floats).
_NORM_TOLERANCE = 1e-3
_NORM_SAMPLE = 100_000


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
    grades: list[dict] = field(default_factory=list)

    def text_of(self, entry: dict) -> tuple[str, np.ndarray | None]:
        """A document's stored text (what its passages quote) and, for a PDF, its page map."""
        path = self.directory / entry["text"]
        runs_path = path.with_suffix(".runs.npy")
        try:
            text = path.read_text(encoding="utf-8")
            runs = np.load(runs_path, allow_pickle=False) if runs_path.exists() else None
        except (OSError, ValueError, EOFError) as exc:
            raise _corrupt(self.directory, [f"{entry['text']}: {exc}"]) from exc
        return text, runs

    def passage_vectors(self) -> np.ndarray:
        n = self.vectors.ntotal
        return self.vectors.reconstruct_n(0, n) if n else np.zeros((0, self.vectors.d), np.float32)


def sentence_rows(passages: list[Passage]) -> np.ndarray:
    counts = [len(p.sentences) or 1 for p in passages]
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


# ---- one build at a time, and what killed builds leave behind ---------------------------------------

@contextmanager
def build_lock(directory: Path) -> Iterator[None]:
    """Hold the index's build lock; raises BusyError at once if another process or thread holds it."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    path = directory.parent / f".{directory.name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
            raise BusyError(f"another build of the index at {directory} is running (pid {holder})",
                            fix="wait for it to finish") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        clean_stale(directory)
        yield
    finally:
        os.close(fd)  # closing releases the lock; a killed process's lock is released by the kernel


def clean_stale(directory: Path) -> list[str]:
    """Under the build lock: put back an index a swap was cut from, then remove every temp folder."""
    directory = Path(directory)
    if not directory.exists() and (old := _recoverable(directory)):
        os.rename(old, directory)
    removed = []
    prefixes = (f".{directory.name}.tmp-", f".{directory.name}.old-")
    for leftover in directory.parent.glob(f".{directory.name}.*-*"):
        if leftover.is_dir() and leftover.name.startswith(prefixes):
            shutil.rmtree(leftover, ignore_errors=True)
            removed.append(leftover.name)
    return removed


def _recoverable(directory: Path) -> Path | None:
    """If a swap was cut between its two renames, the previous index waits under a `.NAME.old-*` name."""
    olds = sorted(directory.parent.glob(f".{directory.name}.old-*"), key=lambda p: p.stat().st_mtime)
    return next((p for p in reversed(olds) if (p / MANIFEST).exists()), None)


# ---- integrity -------------------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_records(folder: Path) -> dict[str, dict]:
    """Size and SHA-256 of every file in an index folder but the manifest, by relative path."""
    records = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            records[path.relative_to(folder).as_posix()] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    return records


def damaged_files(folder: Path, manifest: dict, full: bool | str) -> dict[str, str]:
    """{file: what is wrong} for the index's files. Sizes always; checksums of every file with `full="all"`;
    with `full=True` of all but the query model (its output is checked against a probe on every load instead);
    with `full="text"` of the files that hold quoted text (passages, texts, grades, words)."""
    records = manifest.get("files")
    if not isinstance(records, dict) or not records:
        return {MANIFEST: "it lists no files"}
    damaged = {}
    for name, record in records.items():
        path = Path(folder) / name
        if not path.is_file():
            damaged[name] = "missing"
        elif path.stat().st_size != record.get("bytes"):
            damaged[name] = f"{path.stat().st_size} bytes, the manifest says {record.get('bytes')}"
        elif _checked(name, full) and _sha256(path) != record.get("sha256"):
            damaged[name] = "its SHA-256 differs from the manifest's"
    return damaged


def _checked(name: str, full: bool | str) -> bool:
    if full == "all":
        return True
    if full is True:
        return name not in PROBED
    return full == "text" and is_text_file(name)


def is_text_file(name: str) -> bool:
    """Files whose bytes are quoted or cited: checked in full on every load, whatever the index's size."""
    return name.endswith((".jsonl", ".json", ".txt")) and not name.startswith(BM25_FOLDER + "/")


def indexed_bytes(manifest: dict) -> int:
    """The size of what a full check hashes (the query model is checked by its output instead)."""
    return sum(int(r.get("bytes", 0)) for name, r in (manifest.get("files") or {}).items() if name not in PROBED)


def _corrupt(folder: Path, problems: dict[str, str] | list[str]) -> IndexCorruptError:
    items = [f"{k}: {v}" for k, v in problems.items()] if isinstance(problems, dict) else problems
    return IndexCorruptError(f"index at {folder} is damaged ({'; '.join(items)})", fix=REPAIR)


# ---- writing ---------------------------------------------------------------------------------------

TEXTS = "texts"
QUERY_MODEL = ("model.onnx", "tokenizer.json")  # see indexer/onnx_model.py
PROBED = {"model.onnx"}  # checked by its output on a probe sentence when loaded, not by hashing 90 MB
_INDEX_NAMES = {MANIFEST, PASSAGES, VECTORS, SENTENCES, WORDS, WORD_VECTORS, GRADES, BM25_FOLDER, TEXTS, *QUERY_MODEL}


def _is_index_folder(directory: Path) -> bool:
    """Empty, or holding only files an index has (so a lost manifest can still be rebuilt in place)."""
    return all(entry.name in _INDEX_NAMES for entry in directory.iterdir())


def write_index(
    directory: Path,
    manifest: dict,
    passages: list[Passage],
    vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    words: list[str],
    word_vectors: np.ndarray,
    grades: list[dict] | None = None,
    texts: dict[str, tuple[str, np.ndarray | None]] | None = None,
    extra: dict[str, Path] | None = None,
) -> None:
    """Write a complete index beside `directory`, then swap it in, so readers never see half an index.
    Call it under `build_lock(directory)`."""
    import faiss

    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise PeelqaError(f"{directory} is a file, not an index folder", fix="pass --index-dir FOLDER")
    if directory.exists() and not _is_index_folder(directory):
        raise PeelqaError(
            f"{directory} exists and is not a peelqa index; refusing to replace it",
            fix="choose another --index-dir",
        )
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; an index is as readable as its sources
        _write_lines(tmp / PASSAGES, [p.to_dict() for p in passages])
        index = faiss.IndexFlatIP(int(manifest["model"]["dimension"]))
        if len(passages):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(index, str(tmp / VECTORS))
        np.save(tmp / SENTENCES, np.ascontiguousarray(sentence_vectors, dtype=np.float32), allow_pickle=False)
        LexicalIndex.build(passages).save(tmp)
        (tmp / WORDS).write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        np.save(tmp / WORD_VECTORS, np.ascontiguousarray(word_vectors, dtype=np.float32), allow_pickle=False)
        _write_lines(tmp / GRADES, grades or [])
        for name, (text, runs) in (texts or {}).items():
            path = tmp / name
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
            if runs is not None:
                np.save(path.with_suffix(".runs.npy"), np.ascontiguousarray(runs, dtype=np.int64), allow_pickle=False)
        for name, source in (extra or {}).items():  # the query model, copied from its export or the old index
            shutil.copyfile(source, tmp / name)
        manifest = {**manifest, "files": file_records(tmp)}
        # The manifest goes last: a folder without one is never taken for an index.
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _swap_in(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_lines(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_lines(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


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


# ---- reading ---------------------------------------------------------------------------------------

def read_manifest(directory: Path) -> dict:
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise IndexNotFoundError(f"{directory} is a file, not an index folder", fix="pass --index-dir FOLDER")
    if not (directory / MANIFEST).exists():
        if not directory.exists() and (old := _recoverable(directory)):
            directory = old
        elif not directory.exists() or not any(directory.iterdir()):
            raise IndexNotFoundError(f"no index at {directory}", fix="peelqa index")
        else:
            raise IndexCorruptError(f"{directory} has no {MANIFEST}", fix=REPAIR)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"cannot read {directory / MANIFEST}: {exc}", fix=REPAIR) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexCorruptError(f"{directory / MANIFEST} is not a peelqa manifest", fix=REPAIR)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorruptError(
            f"index at {directory} has format version {manifest.get('format_version')}, this peelqa reads "
            f"{FORMAT_VERSION}",
            fix="peelqa index",
        )
    if problem := _manifest_problem(manifest):
        raise IndexCorruptError(f"{directory / MANIFEST} is damaged: {problem}", fix=REPAIR)
    manifest["_directory"] = str(directory)
    return manifest


def _manifest_problem(m: dict) -> str | None:
    """What is wrong with the manifest's fields, if anything (it is valid JSON, but is it a manifest?)."""
    model = m.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("sha256"), str) or not isinstance(
            model.get("dimension"), int) or isinstance(model.get("dimension"), bool) or model["dimension"] <= 0:
        return "its model record is not a name, checksum and dimension"
    if not isinstance(m.get("passages"), int) or isinstance(m.get("passages"), bool):
        return "its passage count is not a number"
    files = m.get("files")
    if not isinstance(files, dict) or not all(
            isinstance(r, dict) and isinstance(r.get("bytes"), int) and isinstance(r.get("sha256"), str)
            for r in files.values()):
        return "its file list is not a size and checksum for each file"
    documents = m.get("documents")
    if not isinstance(documents, list) or not all(
            isinstance(d, dict) and isinstance(d.get("file"), str) and isinstance(d.get("sha256"), str)
            and isinstance(d.get("passages"), int) for d in documents):
        return "its document list is not a file, checksum and passage count for each report"
    return None


def _unit_length(vectors: np.ndarray) -> bool:
    if not len(vectors):
        return True
    step = max(1, len(vectors) // _NORM_SAMPLE)
    norms = np.linalg.norm(np.asarray(vectors[::step], dtype=np.float32), axis=1)
    # 0 is allowed: a text with nothing to embed (a fake test model gives it a zero vector).
    return bool(np.all((np.abs(norms - 1) < _NORM_TOLERANCE) | (norms == 0)))


def load_parts(folder: Path, manifest: dict, skip: set[str] | frozenset[str] = frozenset()) -> IndexData:
    """Load an index's files as they are, leaving out those in `skip` (None or empty in the result).

    Raises IndexCorruptError when a file cannot be parsed, or what is loaded does not agree with itself.
    """
    import faiss

    folder = Path(folder)
    dim = manifest.get("model", {}).get("dimension")
    empty = np.zeros((0, dim or 0), np.float32)
    try:
        passages = [Passage.from_dict(row) for row in _read_lines(folder / PASSAGES)]
        grades = _read_lines(folder / GRADES) if GRADES not in skip else []
        vectors = faiss.read_index(str(folder / VECTORS)) if VECTORS not in skip else None
        sentence_vectors = np.load(folder / SENTENCES, allow_pickle=False) if SENTENCES not in skip else None
        bm25_damaged = any(name.startswith(BM25_FOLDER + "/") for name in skip)
        lexical = LexicalIndex.load(folder, len(passages)) if not bm25_damaged else None
        words, word_vectors = [], empty
        if not {WORDS, WORD_VECTORS} & set(skip):
            words = json.loads((folder / WORDS).read_text(encoding="utf-8"))
            word_vectors = np.load(folder / WORD_VECTORS, allow_pickle=False)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError, EOFError) as exc:
        raise _corrupt(folder, [f"cannot load it: {exc}"]) from exc
    data = IndexData(folder, manifest, passages, vectors, sentence_vectors, sentence_rows(passages), lexical,
                     words, word_vectors, grades)
    if problems := _inconsistencies(data, dim):
        raise _corrupt(folder, problems)
    return data


def _inconsistencies(data: IndexData, dim: int | None) -> list[str]:
    n, rows = len(data.passages), data.sentence_rows
    if n != data.manifest.get("passages"):
        return [f"{n} passages but the manifest says {data.manifest.get('passages')}"]
    problems = []
    if data.vectors is not None:
        if data.vectors.ntotal != n:
            problems.append(f"{data.vectors.ntotal} vectors for {n} passages")
        elif data.vectors.d != dim:
            problems.append(f"{VECTORS}: dimension {data.vectors.d}, the manifest says {dim}")
        elif not _unit_length(data.passage_vectors()):
            problems.append(f"{VECTORS}: vectors are not unit length")
    for name, array, want in ((SENTENCES, data.sentence_vectors, rows[-1]),
                              (WORD_VECTORS, data.word_vectors, len(data.words))):
        if array is None:
            continue
        if array.ndim != 2 or (len(array) and array.shape[1] != dim) or array.dtype != np.float32:
            problems.append(f"{name}: shape {array.shape} {array.dtype}, expected (N, {dim}) float32")
        elif len(array) != want:
            problems.append(f"{name}: {len(array)} vectors for {want} rows")
        elif not _unit_length(array):
            problems.append(f"{name}: vectors are not unit length")
    return problems


def read_index(directory: Path, full_check: bool | None = None) -> IndexData:
    """Load and validate an index; raises IndexNotFoundError or IndexCorruptError.

    Sizes, headers, counts and vector norms are always checked, and the checksum of every file holding text
    that is quoted (so a changed byte can never be quoted); every checksum too when `full_check` is True, or
    when it is None and the index is small (LIMITS.full_check_bytes). A build that swapped a new index in
    while this one was being read is noticed (the manifest changed) and the new one is read instead.
    """
    for attempt in range(3):
        manifest = read_manifest(directory)
        folder = Path(manifest.pop("_directory"))
        full = full_check if full_check is not None else (indexed_bytes(manifest) <= LIMITS.full_check_bytes)
        try:
            if damaged := damaged_files(folder, manifest, full or "text"):
                raise _corrupt(folder, damaged)
            data = load_parts(folder, manifest)
        except IndexCorruptError:
            if attempt < 2 and _swapped(folder, manifest):
                continue
            raise
        if not _swapped(folder, manifest):
            return data
    raise IndexCorruptError(f"index at {directory} kept changing while it was read", fix="try again")


def _swapped(folder: Path, manifest: dict) -> bool:
    """Whether the manifest in `folder` is no longer the one read (a rebuild replaced the index meanwhile)."""
    try:
        now = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    return now.get("built_at") != manifest.get("built_at") or now.get("files") != manifest.get("files")


def verify_index(directory: Path | None = None) -> dict:
    """Check everything: every file's checksum, then load it and check counts and vectors (`peelqa check`)."""
    import time

    began = time.perf_counter()
    directory = Path(directory) if directory else default_index_dir()
    manifest = read_manifest(directory)
    folder = Path(manifest.pop("_directory"))
    damaged = damaged_files(folder, manifest, full="all")
    problems = [f"{k}: {v}" for k, v in damaged.items()]
    if not damaged:
        try:
            load_parts(folder, manifest)
        except IndexCorruptError as exc:
            problems.append(str(exc))
    return {"index_dir": str(folder), "ok": not problems, "problems": problems,
            "files": len(manifest.get("files") or {}), "bytes": indexed_bytes(manifest),
            "seconds": round(time.perf_counter() - began, 3)}
