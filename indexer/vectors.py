"""Passage vectors behind a small interface, the backend named in the manifest.

    exact   vectors.npy, memory-mapped: inner product with every allowed row (numpy). Below ANN_MIN passages
            this is fast enough and always exact.
    hnsw    the same vectors.npy, plus ann.faiss: a FAISS HNSW graph over 8-bit quantised copies (a quarter of
            the memory of the vectors), for candidates only; they are rescored from the exact vectors. Its
            recall against exact search is measured when it is built and recorded in the manifest.
    milvus  the same vectors.npy for rescoring; candidates from a Milvus collection (indexer/milvus.py).

Filters restrict the search itself: few allowed rows are scored exactly; many go to HNSW with a selector.
Vectors are L2-normalised, so inner product is cosine.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import numpy as np

VECTORS = "vectors.npy"
ANN = "ann.faiss"
# Below this many passages, exact is kept: a query reads every vector (1.5 GB at a million), which the graph
# avoids. Not tuned: at 1,000,000 the graph's candidates cost top-5 agreement (docs/performance.md).
ANN_MIN = 250_000
EXACT_MAX = 50_000  # a filter allowing fewer rows than this is scored exactly, even with a graph
HNSW_M = 32
EF_SEARCH = 128
RECALL_SAMPLE = 200


class VectorIndex:
    def __init__(self, vectors: np.ndarray, ann=None, record: dict | None = None):
        self.vectors = vectors  # (n, d) float32, usually a memory map
        self.ann = ann
        self.record = record or {"backend": "exact"}

    @property
    def ntotal(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def d(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def backend(self) -> str:
        return self.record.get("backend", "exact")

    def all(self) -> np.ndarray:
        return np.asarray(self.vectors)

    def scores(self, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact cosine of `q` with the vectors at `rows`."""
        if not len(rows):
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self.vectors[np.sort(rows)] @ q, dtype=np.float32)[np.argsort(np.argsort(rows))]

    def prepare(self) -> None:
        """Ready to search (a remote backend connects here); files are memory-mapped already."""

    def candidates(self, q: np.ndarray, text: str, k: int, mask: np.ndarray | None = None) -> np.ndarray | None:
        """A backend's own candidates for a question (its vector `q`, its words `text`) within `mask`, or None:
        then the searcher takes the dense top `k` from `top` and the BM25 top `k` from its postings."""
        return None

    def top(self, q: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of up to `k` best passages among those `mask` allows, best first."""
        n = self.ntotal
        if not n or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        allowed = None if mask is None or mask.all() else np.flatnonzero(mask)
        if self.ann is not None and (allowed is None or len(allowed) >= EXACT_MAX):
            return self._ann_top(q, k, mask if allowed is not None else None)
        if allowed is None:
            sims, rows = np.asarray(self.vectors @ q, dtype=np.float32), np.arange(n)
        elif len(allowed) > n // 8:
            # Scoring every row streams the memory map once; gathering many scattered rows first copies them.
            sims, rows = np.asarray(self.vectors @ q, dtype=np.float32)[allowed], allowed
        else:
            sims, rows = np.asarray(self.vectors[allowed] @ q, dtype=np.float32), allowed
        k = min(k, len(rows))
        part = np.argpartition(-sims, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
        order = part[np.argsort(-sims[part], kind="stable")]
        return rows[order].astype(np.int64), sims[order]

    def _ann_top(self, q: np.ndarray, k: int, mask: np.ndarray | None):
        import faiss

        params = faiss.SearchParametersHNSW()
        params.efSearch = max(EF_SEARCH, k)
        if mask is not None:
            bitmap = np.packbits(mask.astype(np.uint8), bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
        _, ids = self.ann.search(q[None, :].astype(np.float32), k, params=params)
        return self.rescored(q, ids[0][ids[0] >= 0].astype(np.int64))  # the graph holds quantised copies

    def rescored(self, q: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`rows` with their exact cosines, best first (candidates an approximate search found)."""
        sims = self.scores(q, rows)
        order = np.argsort(-sims, kind="stable")
        return rows[order], sims[order]


def open_map(path: Path) -> np.ndarray:
    """A .npy of vectors, memory-mapped for reading a few rows at a time: the kernel is told access is
    random, so reading a candidate's row does not read ahead (and map into this process) megabytes around it."""
    array = np.load(path, mmap_mode="r", allow_pickle=False)
    _advise(array, "MADV_RANDOM")
    return array


def read_in_order(array: np.ndarray) -> None:
    """Tell the kernel a map opened by `open_map` will now be read start to end (a rebuild copying the old
    index's vectors): read ahead again, as random access reads one page a fault."""
    _advise(array, "MADV_SEQUENTIAL")


def _advise(array: np.ndarray, advice: str) -> None:
    """madvise a memory-mapped array's map, where the array is one and the platform has `advice`."""
    handle = getattr(array, "_mmap", None)
    if handle is not None and hasattr(mmap, advice):
        handle.madvise(getattr(mmap, advice))


def read_rows(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Rows of a (memory-mapped) 2-D array, read from its file with one small read each when it is a map, so
    a sample spread over a file of gigabytes maps none of it into memory."""
    filename = getattr(array, "filename", None)
    if not isinstance(array, np.memmap) or filename is None or not array.flags.c_contiguous:
        return np.asarray(array[rows], dtype=np.float32)
    width = array.shape[1] * array.itemsize
    out = np.empty((len(rows), array.shape[1]), dtype=array.dtype)
    fd = os.open(filename, os.O_RDONLY)
    try:
        for k, row in enumerate(rows.tolist()):
            out[k] = np.frombuffer(os.pread(fd, width, array.offset + row * width), dtype=array.dtype)
    finally:
        os.close(fd)
    return out.astype(np.float32, copy=False)


def save_blocks(path: Path, blocks: np.ndarray | list[np.ndarray], dim: int) -> None:
    """Save arrays of `dim` columns one after another as one .npy file, without joining them in memory."""
    blocks = [blocks] if isinstance(blocks, np.ndarray) else [b for b in blocks if len(b)]
    rows = sum(len(b) for b in blocks)
    if not rows:
        np.save(path, np.zeros((0, dim), np.float32), allow_pickle=False)
        return
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, dim))
    at = 0
    for block in blocks:
        out[at:at + len(block)] = block
        at += len(block)
    out.flush()
    del out


def write(folder: Path, vectors: np.ndarray | list[np.ndarray], dim: int, ann_min: int | None = None) -> dict:
    """Save the vectors, and an HNSW graph over them when there are at least `ann_min`; returns the record
    for the manifest."""
    folder = Path(folder)
    save_blocks(folder / VECTORS, vectors, dim)
    saved = np.load(folder / VECTORS, mmap_mode="r", allow_pickle=False)
    if len(saved) < max(ANN_MIN if ann_min is None else ann_min, 1):
        return {"backend": "exact", "n": len(saved)}
    import faiss

    ann = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    ann.train(np.ascontiguousarray(saved[:: max(1, len(saved) // 100_000)]))
    for start in range(0, len(saved), 100_000):  # in blocks: the graph never needs all vectors in memory
        ann.add(np.ascontiguousarray(saved[start:start + 100_000]))
    faiss.write_index(ann, str(folder / ANN))
    index = VectorIndex(saved, ann, {"backend": "hnsw"})
    return {"backend": "hnsw", "n": len(saved), "m": HNSW_M, "ef_search": EF_SEARCH,
            "recall_at_50": recall(index, saved)}


def recall(index: VectorIndex, vectors: np.ndarray, k: int = 50) -> float:
    """Share of the exact top `k` that the graph finds, for passages used as queries (with some noise)."""
    rng = np.random.default_rng(0)
    picks = rng.choice(len(vectors), size=min(RECALL_SAMPLE, len(vectors)), replace=False)
    found = total = 0
    exact = VectorIndex(vectors)
    for i in picks:
        q = vectors[i] + rng.normal(0, 0.05, vectors.shape[1]).astype(np.float32)
        q /= np.linalg.norm(q)
        truth = set(exact.top(q, k)[0].tolist())
        found += len(truth & set(index.top(q, k)[0].tolist()))
        total += len(truth)
    return round(found / max(total, 1), 4)


def load(folder: Path, record: dict | None, skip_ann: bool = False) -> VectorIndex:
    """The index's vectors, memory-mapped, and its graph if it has one (`skip_ann`: exact search only, for a
    rebuild, which needs only the vectors)."""
    folder = Path(folder)
    vectors = open_map(folder / VECTORS)
    ann = None
    if (record or {}).get("backend") == "milvus" and not skip_ann:
        from .milvus import MilvusIndex  # it builds on this module

        return MilvusIndex(vectors, record)
    if (record or {}).get("backend") == "hnsw" and not skip_ann:
        import faiss

        ann = faiss.read_index(str(folder / ANN))
    return VectorIndex(vectors, ann, record)
