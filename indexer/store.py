"""The index on disk: a folder of plain files, written atomically, validated on load.

    manifest.json         format version, model and checksum, dimension, sources with SHA-256, build time,
                          the vector backend, and the size and SHA-256 of every other file here (integrity)
    passages.jsonl        one Passage per line, in vector order, read by row (indexer/passages.py)
    passages.offsets.npy  where each line starts; passages.crc.npy, each line's CRC-32 (checked on read)
    vectors.npy           L2-normalised passage vectors (inner product = cosine), memory-mapped;
                          ann.faiss, an HNSW graph over them for large indexes (indexer/vectors.py)
    sentences.npy         one normalised vector per sentence, in passage order, memory-mapped; rows
                          sentence_rows[i]:sentence_rows[i + 1] (sentence_rows.npy) are passage i's
    bm25/                 postings for BM25 (indexer/lexical.py)
    columns/              per-passage values filters and ranking use (indexer/columns.py)
    words.json            the reports' distinct content words, and words.npy their vectors (for coverage)
    grades.jsonl          every PEEL grade the reports state, with its sentence's offsets
    heads.jsonl           each report's first lines, which builds read to detect its metadata again
    texts/                each document's text as indexed (what passages quote), and a PDF's page map

One build at a time per index (a lock file beside it); every build first removes what killed builds left.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import columns as column_store
from . import milvus as milvus_store
from . import passages as passage_store
from . import vectors as vector_store
from .columns import ColumnData
from .errors import REPAIR, BusyError, IndexCorruptError, IndexNotFoundError, PeelqaError
from .lexical import FOLDER as BM25_FOLDER
from .lexical import LexicalIndex
from .limits import LIMITS
from .passage import Passage
from .passages import PassageStore
from .vectors import VectorIndex

FORMAT = "peelqa-index"
# 2: the manifest records every file's size and SHA-256; 3: records, vectors and sentences read by row
# (memory-mapped), BM25 postings updated per report, per-passage columns, an HNSW graph for large indexes;
# 4: the manifest ends with a SHA-256 of itself, so an edit to it (a threshold, a mode) is seen
FORMAT_VERSION = 4
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest_sha256"
PASSAGES = passage_store.PASSAGES
VECTORS = vector_store.VECTORS
SENTENCES = "sentences.npy"
SENTENCE_ROWS = "sentence_rows.npy"
WORDS = "words.json"
WORD_VECTORS = "words.npy"
GRADES = "grades.jsonl"
# Each report's first lines, whose contents only builds read (to detect metadata again): kept out of the manifest,
# which every start reads. They were 87% of it at 100,000 passages (23 of 27 MB, 0.9 s to load).
HEADS = "heads.jsonl"
# Files whose loss means re-reading passages or re-embedding: the rest is recomputed from them cheaply.
PASSAGE_FILES = (PASSAGES, passage_store.OFFSETS, passage_store.CRC)
EMBEDDING_FILES = (VECTORS, SENTENCES, SENTENCE_ROWS)
# Vectors are unit length (or zero); anything else was not written by peelqa (garbled bytes read as floats).
# A load reads this many rows spread over each file (all of a small file), and the last rows (where a
# truncated write would show), without paging in gigabytes.
_NORM_TOLERANCE = 1e-3
_NORM_SAMPLE = 4096


def default_index_dir() -> Path:
    return Path(os.environ.get("PEELQA_INDEX_DIR") or "index")


@dataclass
class IndexData:
    """A loaded, validated index. Passages, vectors and postings stay on disk and are read by row."""

    directory: Path
    manifest: dict
    passages: PassageStore | list[Passage]
    vectors: VectorIndex | None
    sentence_vectors: np.ndarray | None  # memory-mapped
    sentence_rows: np.ndarray  # sentence_rows[i]:sentence_rows[i+1] are passage i's sentence vectors
    lexical: LexicalIndex | None
    words: list[str]
    word_vectors: np.ndarray
    grades: list[dict] = field(default_factory=list)
    columns: ColumnData | None = None

    def text_of(self, entry: dict) -> tuple[str, np.ndarray | None]:
        """A document's stored text (what its passages quote) and, for a PDF, its page map; checked against
        the manifest's checksum here (a large index is not hashed whole on load)."""
        path = self.directory / entry["text"]
        runs_path = path.with_suffix(".runs.npy")
        record = (self.manifest.get("files") or {}).get(entry["text"], {})
        try:
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != record.get("sha256"):
                raise ValueError("its SHA-256 differs from the manifest's")
            text = data.decode("utf-8")
            runs = np.load(runs_path, allow_pickle=False) if runs_path.exists() else None
        except (OSError, ValueError, EOFError) as exc:
            raise _corrupt(self.directory, [f"{entry['text']}: {exc}"]) from exc
        return text, runs

    def passage_vectors(self) -> np.ndarray:
        return self.vectors.all() if self.vectors is not None else np.zeros((0, 0), np.float32)

    def sentences_of(self, row: int) -> np.ndarray:
        return self.sentence_vectors[self.sentence_rows[row]:self.sentence_rows[row + 1]]


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


def building(directory: Path) -> bool:
    """Whether a build of the index at `directory` holds its lock now (this process's or another's)."""
    path = Path(directory).parent / f".{Path(directory).name}.lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


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
    """{file: what is wrong} for the index's files. Sizes always; checksums of every file with `full=True` or
    `"all"` (the same now that the query model is always hashed); with `full="text"` of the files that hold
    quoted text (passages, texts, grades, words) and the query model (its probe sentence is checked on load as
    well)."""
    records = manifest.get("files")
    if not isinstance(records, dict) or not records:
        return {MANIFEST: "it lists no files"}
    damaged = {}
    for name, record in records.items():
        path = Path(folder) / name
        try:
            st = os.stat(path)  # one call a file: an index of a million passages holds 50,000 report texts
        except OSError:
            st = None
        if st is None or not stat.S_ISREG(st.st_mode):
            damaged[name] = "missing"
        elif st.st_size != record.get("bytes"):
            damaged[name] = f"{st.st_size} bytes, the manifest says {record.get('bytes')}"
        elif _checked(name, full) and _sha256(path) != record.get("sha256"):
            damaged[name] = "its SHA-256 differs from the manifest's"
    return damaged


def _checked(name: str, full: bool | str) -> bool:
    # The query model is hashed on every load too (90 MB in ~0.06 s here): damage to a token's row of its
    # embedding table changes only questions with that token, which its probe sentence cannot see.
    return full is True or full == "all" or name in QUERY_MODEL or (full == "text" and is_text_file(name))


def is_text_file(name: str) -> bool:
    """Small files holding quoted text or deciding what is quoted: hashed on every load, whatever the index's
    size. Passage records (a CRC-32 each) and document texts (their SHA-256) are checked as they are read."""
    return name in (GRADES, WORDS, f"{column_store.FOLDER}/tables.json")


def indexed_bytes(manifest: dict) -> int:
    """The size that decides whether a load hashes every file (the query model is hashed whatever it is)."""
    return sum(int(r.get("bytes", 0)) for name, r in (manifest.get("files") or {}).items() if name not in PROBED)


def _corrupt(folder: Path, problems: dict[str, str] | list[str]) -> IndexCorruptError:
    items = [f"{k}: {v}" for k, v in problems.items()] if isinstance(problems, dict) else problems
    return IndexCorruptError(f"index at {folder} is damaged ({'; '.join(items)})", fix=REPAIR)


# ---- writing ---------------------------------------------------------------------------------------

TEXTS = "texts"
QUERY_MODEL = ("model.onnx", "tokenizer.json")  # see indexer/onnx_model.py
PROBED = {"model.onnx"}  # hashed on every load, but not counted in the size that decides a full check
_INDEX_NAMES = {MANIFEST, *PASSAGE_FILES, *EMBEDDING_FILES, vector_store.ANN, WORDS, WORD_VECTORS, GRADES, HEADS,
                BM25_FOLDER, column_store.FOLDER, TEXTS, *QUERY_MODEL,
                "passages.faiss"}  # format 2's vectors: a folder of an older peelqa is still an index folder


def _is_index_folder(directory: Path) -> bool:
    """Empty, or holding only files an index has (so a lost manifest can still be rebuilt in place)."""
    return all(entry.name in _INDEX_NAMES for entry in directory.iterdir())


def write_index(
    directory: Path,
    manifest: dict,
    passages: list[Passage],
    vectors: np.ndarray | list[np.ndarray],
    sentence_vectors: np.ndarray | list[np.ndarray],
    words: list[str],
    word_vectors: np.ndarray,
    grades: list[dict] | None = None,
    texts: dict[str, tuple[str, np.ndarray | None]] | None = None,
    extra: dict[str, Path] | None = None,
    lexical: LexicalIndex | None = None,
    milvus: milvus_store.Target | None = None,
    progress=None,
) -> None:
    """Write a complete index beside `directory`, then swap it in, so readers never see half an index.
    `vectors` and `sentence_vectors` may be lists of blocks (a rebuild's reused and new rows), written one
    after another without joining them in memory. With `milvus`, the candidates come from a new Milvus
    collection written there (indexer/milvus.py), its progress reported to `progress(done, total, message)`.
    Call it under `build_lock(directory)`."""
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
    dim = int(manifest["model"]["dimension"])
    record: dict = {}
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; an index is as readable as its sources
        step = steps(progress, "writing the index", 6)  # minutes at a million passages: the parts written so far
        passage_store.write(tmp, passages)
        step()
        # With Milvus, its collection gives the candidates: no local graph.
        record = vector_store.write(tmp, vectors, dim, ann_min=len(passages) + 1 if milvus else None)
        if milvus:
            record = milvus_store.publish(milvus, passages, vector_store.open_map(tmp / VECTORS), progress)
        step()
        vector_store.save_blocks(tmp / SENTENCES, sentence_vectors, dim)
        np.save(tmp / SENTENCE_ROWS, sentence_rows(passages), allow_pickle=False)
        step()
        (lexical or LexicalIndex.build(passages)).save(tmp)
        column_store.save(tmp, column_store.build(passages))
        step()
        (tmp / WORDS).write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        np.save(tmp / WORD_VECTORS, np.ascontiguousarray(word_vectors, dtype=np.float32), allow_pickle=False)
        _write_lines(tmp / GRADES, grades or [])
        for name, (text, runs) in (texts or {}).items():
            path = tmp / name
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
            if runs is not None:
                np.save(path.with_suffix(".runs.npy"), np.ascontiguousarray(runs, dtype=np.int64), allow_pickle=False)
        step()
        for name, source in (extra or {}).items():  # the query model, copied from its export or the old index
            shutil.copyfile(source, tmp / name)
        documents = manifest.get("documents", [])
        _write_lines(tmp / HEADS, [{"file": d["file"], "head": d.get("head", [])} for d in documents])
        manifest = {**manifest, "documents": [listed(d) for d in documents], "vectors": record,
                    "files": file_records(tmp)}
        # The manifest goes last: a folder without one is never taken for an index.
        write_manifest(tmp, manifest)
        step()
        _swap_in(tmp, directory)  # nothing after it may fail: the new index (and its collection) is live
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if record.get("backend") == "milvus":  # written for an index that never came to be
            milvus_store.discard(milvus.uri, record["collection"])
        raise
    if milvus:
        milvus_store.retire(milvus)


def steps(progress, message: str, total: int):
    """Reports `message` at step 0 of `total` now (to `progress(done, total, message)`, if any), and one step
    more at each call of the function it returns."""
    done = [0]
    if progress:
        progress(0, total, message)

    def step() -> None:
        done[0] += 1
        if progress:
            progress(done[0], total, message)
    return step


def listed(document: dict) -> dict:
    """A report's entry as the manifest lists it: without its first lines (HEADS)."""
    return {k: v for k, v in document.items() if k != "head"}


def read_heads(directory: Path, manifest: dict) -> dict[str, list[str]]:
    """Each report's first lines as the build that wrote `directory` read them; {} when the file is missing or
    is not what the manifest recorded (the build then finds them again in the reports' texts)."""
    path = Path(directory) / HEADS
    record = (manifest.get("files") or {}).get(HEADS)
    try:
        if not record or _sha256(path) != record.get("sha256"):
            return {}
        rows = _read_lines(path)
    except (OSError, ValueError):
        return {}
    return {r["file"]: r["head"] for r in rows if isinstance(r, dict) and isinstance(r.get("file"), str)
            and isinstance(r.get("head"), list)}


def manifest_bytes(manifest: dict) -> bytes:
    """The manifest as written: indented JSON whose last field is the SHA-256 of all that comes before it
    (the same text closed without it). Checking it hashes the file's bytes, with no second JSON pass."""
    body = json.dumps({k: v for k, v in manifest.items() if k != MANIFEST_SUM}, indent=2, ensure_ascii=False)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return (body[:-2] + f',\n  "{MANIFEST_SUM}": "{digest}"\n}}\n').encode("utf-8")


def write_manifest(directory: Path, manifest: dict) -> None:
    """Write `manifest` into the index folder `directory` with its own checksum (a build, a calibration)."""
    (Path(directory) / MANIFEST).write_bytes(manifest_bytes(manifest))


def _manifest_intact(raw: bytes) -> bool:
    tail = f',\n  "{MANIFEST_SUM}": "'.encode()
    cut = raw.rfind(tail)
    digest = raw[cut + len(tail):cut + len(tail) + 64]
    if cut <= 0 or raw[cut + len(tail) + 64:] != b'"\n}\n':
        return False
    h = hashlib.sha256(memoryview(raw)[:cut])  # no copy: at a million passages the manifest is hundreds of MB
    h.update(b"\n}")
    return h.hexdigest().encode() == digest


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
        raw = (directory / MANIFEST).read_bytes()
        manifest = json.loads(raw.decode("utf-8"))
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
    if not _manifest_intact(raw):
        raise IndexCorruptError(f"{directory / MANIFEST} is damaged: it was changed after it was written (its "
                                f"own checksum, {MANIFEST_SUM}, differs)", fix=REPAIR)
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
    picks = np.unique(np.concatenate([np.arange(0, len(vectors), step),
                                      np.arange(max(0, len(vectors) - 64), len(vectors))]))
    norms = np.linalg.norm(vector_store.read_rows(vectors, picks), axis=1)
    # 0 is allowed: a text with nothing to embed (a fake test model gives it a zero vector).
    return bool(np.all((np.abs(norms - 1) < _NORM_TOLERANCE) | (norms == 0)))


def load_parts(folder: Path, manifest: dict, skip: set[str] | frozenset[str] = frozenset()) -> IndexData:
    """Load an index's files as they are, leaving out those in `skip` (None or empty in the result).

    Raises IndexCorruptError when a file cannot be parsed, or what is loaded does not agree with itself.
    """
    folder = Path(folder)
    dim = manifest.get("model", {}).get("dimension")
    empty = np.zeros((0, dim or 0), np.float32)

    def wanted(*names: str) -> bool:
        return not any(n in skip or any(s.startswith(n + "/") for s in skip) for n in names)

    try:
        passages = PassageStore(folder)
        n = len(passages)
        grades = _read_lines(folder / GRADES) if wanted(GRADES) else []
        vectors = (vector_store.load(folder, manifest.get("vectors"), skip_ann=not wanted(vector_store.ANN))
                   if wanted(VECTORS) else None)
        sentence_vectors = sentence_rows_ = None
        if wanted(SENTENCES, SENTENCE_ROWS):
            sentence_vectors = vector_store.open_map(folder / SENTENCES)
            sentence_rows_ = np.load(folder / SENTENCE_ROWS, allow_pickle=False)
        lexical = LexicalIndex.load(folder, n) if wanted(BM25_FOLDER) else None
        columns = column_store.load(folder) if wanted(column_store.FOLDER) else None
        words, word_vectors = [], empty
        if wanted(WORDS, WORD_VECTORS):
            words = json.loads((folder / WORDS).read_text(encoding="utf-8"))
            word_vectors = np.load(folder / WORD_VECTORS, allow_pickle=False)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError, EOFError, IndexCorruptError) as exc:
        raise _corrupt(folder, [f"cannot load it: {exc}"]) from exc
    data = IndexData(folder, manifest, passages, vectors, sentence_vectors, sentence_rows_, lexical,
                     words, word_vectors, grades, columns)
    try:
        problems = _inconsistencies(data, dim)
    except (OSError, ValueError) as exc:  # a file replaced while its rows were sampled (a rebuild swapped it in)
        raise _corrupt(folder, [f"cannot check it: {exc}"]) from exc
    if problems:
        raise _corrupt(folder, problems)
    return data


def _inconsistencies(data: IndexData, dim: int | None) -> list[str]:
    n = len(data.passages)
    if n != data.manifest.get("passages"):
        return [f"{n} passages but the manifest says {data.manifest.get('passages')}"]
    problems = []
    if data.vectors is not None:
        v = data.vectors.vectors
        if v.ndim != 2 or v.dtype != np.float32 or (n and v.shape[1] != dim):
            problems.append(f"{VECTORS}: shape {v.shape} {v.dtype}, expected ({n}, {dim}) float32")
        elif len(v) != n:
            problems.append(f"{VECTORS}: {len(v)} vectors for {n} passages")
        elif not _unit_length(v):
            problems.append(f"{VECTORS}: vectors are not unit length")
    rows = data.sentence_rows
    if rows is not None and (rows.ndim != 1 or len(rows) != n + 1 or rows[0] != 0 or np.any(np.diff(rows) < 0)):
        problems.append(f"{SENTENCE_ROWS}: not {n + 1} ascending offsets from 0")
        rows = None
    for name, array, want in ((SENTENCES, data.sentence_vectors, None if rows is None else rows[-1]),
                              (WORD_VECTORS, data.word_vectors, len(data.words))):
        if array is None or want is None:
            continue
        if array.ndim != 2 or (len(array) and array.shape[1] != dim) or array.dtype != np.float32:
            problems.append(f"{name}: shape {array.shape} {array.dtype}, expected (N, {dim}) float32")
        elif len(array) != want:
            problems.append(f"{name}: {len(array)} vectors for {want} rows")
        elif not _unit_length(array):
            problems.append(f"{name}: vectors are not unit length")
    if data.columns is not None and any(len(a) != n for a in data.columns.arrays.values()):
        problems.append(f"{column_store.FOLDER}: columns of another length than {n} passages")
    return problems


def read_index(directory: Path, full_check: bool | None = None) -> IndexData:
    """Load and validate an index; raises IndexNotFoundError or IndexCorruptError.

    Sizes, headers, counts and vector norms are always checked, and the checksum of every file holding text
    that is quoted (so a changed byte can never be quoted); every checksum too when `full_check` is True, or
    when it is None and the index is small (LIMITS.full_check_bytes). A build that swapped a new index in
    while this one was being read is noticed (the manifest changed) and the new one is read instead.
    """
    for attempt in range(3):
        stamp = file_stamp(Path(directory) / MANIFEST)
        manifest = read_manifest(directory)
        folder = Path(manifest.pop("_directory"))
        full = full_check if full_check is not None else (indexed_bytes(manifest) <= LIMITS.full_check_bytes)
        try:
            if damaged := damaged_files(folder, manifest, full or "text"):
                raise _corrupt(folder, damaged)
            data = load_parts(folder, manifest)
        except IndexCorruptError:
            if attempt < 2 and swapped(folder, manifest, stamp):
                continue
            raise
        if not swapped(folder, manifest, stamp):
            return data
    raise IndexCorruptError(f"index at {directory} kept changing while it was read", fix="try again")


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def swapped(folder: Path, manifest: dict, stamp: tuple[int, int, int] | None) -> bool:
    """Whether the manifest in `folder` is no longer the one read (a rebuild replaced the index meanwhile).
    A rebuild renames a new manifest into place, so its file's identity and time tell, without parsing it
    again (at a million passages the manifest is hundreds of MB)."""
    if stamp is not None and file_stamp(folder / MANIFEST) == stamp:
        return False
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
