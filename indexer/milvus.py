"""Milvus as the candidate source: passages, their vectors and Milvus's own BM25 full-text field in a collection.

The index folder keeps everything rescoring needs (passage records, exact vectors, sentence vectors, peelqa's
BM25 postings, columns); Milvus answers the candidate stage, a hybrid search (dense and full-text), within the
question's filter. Filters reach Milvus as data: the mask of allowed rows becomes row ranges (rows of a report
are contiguous) or a list of rows.

Each build with changes writes a new collection, named in the manifest; the previous one is kept (a replica may
still be reading it until it switches) and older ones with the same prefix are dropped. The URI may be a Milvus
Lite file (`x.db`, one process at a time), a Milvus Lite server (`milvus-lite server`) or a Milvus cluster
(`http://host:19530`); `PEELQA_MILVUS_URI` and `PEELQA_MILVUS_TOKEN` override what the manifest names, for
replicas that reach the same Milvus by another address.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import numpy as np

from .errors import IndexCorruptError, PeelqaError
from .lexical import K1, B, lexical_text, tokenize
from .passage import Passage
from .vectors import EXACT_MAX, VectorIndex

PREFIX = "peelqa_"
INSERT_BATCH = 2_000  # rows a request: ~3 MB of vectors and text, well under gRPC's 64 MB message limit
TEXT_BYTES = 60_000  # under VARCHAR's 65,535-byte limit; a passage is at most ~8,000 bytes (LIMITS.passage_chars)
RANGE_MAX = 256  # runs of allowed rows written as ranges; past this a filter lists its rows
RRF_K = 60
# pymilvus pings an idle connection every 10 s; a gRPC server's default policy (Milvus Lite's) allows one ping
# in 5 minutes and then drops the connection ("too_many_pings", a reconnect, an error on stderr). Measured: an
# idle client 90 s against `milvus-lite server`: 2 drops with pymilvus's setting, none with this.
KEEPALIVE = {"grpc.keepalive_time_ms": 360_000, "grpc.keepalive_permit_without_calls": False}
INSTALL = "pip install 'peelqa[milvus]' (pymilvus and milvus-lite)"


class MilvusError(PeelqaError):
    """Milvus cannot be reached or refused a request: the message names the URI and the fix."""


def default_uri(index_dir: Path) -> str:
    """A Milvus Lite file beside the index folder (outside it: a folder holds only index files)."""
    return str(Path(index_dir).resolve().parent / f"{Path(index_dir).name}-milvus.db")


def client(uri: str, token: str | None = None):
    """A client for `uri`; one Milvus Lite file is opened by one process at a time."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise MilvusError("the Milvus backend needs pymilvus", fix=INSTALL) from None
    token = token if token is not None else os.environ.get("PEELQA_MILVUS_TOKEN", "")
    try:
        return MilvusClient(uri=uri, token=token, grpc_options=KEEPALIVE)
    except Exception as exc:  # pymilvus raises its own classes, and gRPC's, for the same causes
        local = uri.endswith(".db")
        raise MilvusError(
            f"cannot open Milvus at {uri}: {exc}",
            fix=("a Milvus Lite file is open in one process at a time: share it through `milvus-lite server "
                 "--data-dir DIR` and --milvus-uri http://127.0.0.1:19530" if local else
                 "start Milvus (docker compose -f deploy/milvus-compose.yml up -d) or pass --milvus-uri"),
        ) from exc


def _schema(client_, dim: int):
    from pymilvus import DataType, Function, FunctionType

    schema = client_.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=65_535, enable_analyzer=True,
                     analyzer_params={"type": "standard"})
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                 output_field_names=["sparse"]))
    params = client_.prepare_index_params()
    # Exact inner product: recall 1 against peelqa's own flat search. A cluster holding millions would use
    # HNSW here; its recall would then be measured as indexer/vectors.py measures its graph's.
    params.add_index("dense", index_type="FLAT", metric_type="IP")
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": K1, "bm25_b": B})
    return schema, params


def _tokens(texts: list[str]) -> list[str]:
    """peelqa's BM25 tokens (stemmed, stop words out), space-separated: Milvus's standard analyzer then splits
    them back as they are, so its BM25 (same k1 and b) ranks as peelqa's does. Milvus Lite has no stemming
    analyzer, and a cluster's "english" one stems and stops words differently."""
    return [" ".join(t).encode("utf-8")[:TEXT_BYTES].decode("utf-8", "ignore") for t in tokenize(texts)]


def prefix(index_dir: Path) -> str:
    """The start of the names of one index's collections: several indexes may share a Milvus, and a rebuild
    drops only its own index's old collections."""
    return f"{PREFIX}{hashlib.sha256(str(Path(index_dir).resolve()).encode()).hexdigest()[:10]}_"


def publish(uri: str, index_dir: Path, passages: list[Passage], vectors: np.ndarray, progress=None) -> dict:
    """Write `passages` and their `vectors` (rows in index order) as a new collection of the index at
    `index_dir`; returns the manifest's record."""
    c = client(uri)
    name = f"{prefix(index_dir)}{time.strftime('%Y%m%d%H%M%S')}_{os.urandom(3).hex()}"
    try:
        schema, params = _schema(c, int(vectors.shape[1]))
        c.create_collection(name, schema=schema, index_params=params)
        for at in range(0, len(passages), INSERT_BATCH):
            block = np.asarray(vectors[at:at + INSERT_BATCH], dtype=np.float32)
            texts = _tokens([lexical_text(p) for p in passages[at:at + INSERT_BATCH]])
            c.insert(name, [{"row": at + i, "text": t, "dense": v.tolist()}
                            for i, (t, v) in enumerate(zip(texts, block, strict=True))])
            if progress:
                progress(min(at + INSERT_BATCH, len(passages)), len(passages), "writing to Milvus")
        c.flush(name)
        c.load_collection(name)
    except Exception as exc:
        drop(uri, name)
        raise MilvusError(f"cannot write collection {name} at {uri}: {exc}",
                          fix="check that Milvus is running there, version 2.5 or later (full-text search)") from exc
    return {"backend": "milvus", "uri": uri, "collection": name, "n": len(passages), "dense_index": "FLAT",
            "text": "peelqa tokens"}


def retire(uri: str, index_dir: Path, keep: set[str]) -> list[str]:
    """Drop the collections of the index at `index_dir` other than those in `keep`; returns what was dropped."""
    c = client(uri)
    dropped = [n for n in c.list_collections() if n.startswith(prefix(index_dir)) and n not in keep]
    for name in dropped:
        c.drop_collection(name)
    return dropped


def drop(uri: str, name: str) -> None:
    c = client(uri)
    if c.has_collection(name):
        c.drop_collection(name)


def exists(record: dict) -> bool:
    try:
        return bool(client(_uri(record)).has_collection(record["collection"]))
    except (MilvusError, KeyError):
        return False


def _uri(record: dict) -> str:
    return os.environ.get("PEELQA_MILVUS_URI") or record["uri"]


def where(mask: np.ndarray | None) -> str:
    """A Milvus filter allowing exactly the rows `mask` allows: ranges when the allowed rows form few runs (a
    report's rows are contiguous), else the list of rows. (Filter templates would spare parsing a long list, but
    Milvus Lite does not read them.)"""
    if mask is None or mask.all():
        return ""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    starts, ends = edges[0::2], edges[1::2]
    if len(starts) <= RANGE_MAX:
        return " or ".join(f"(row >= {a} and row < {b})" if b - a > 1 else f"row == {a}"
                           for a, b in zip(starts.tolist(), ends.tolist(), strict=True))
    return f"row in {np.flatnonzero(mask).tolist()}"


class MilvusIndex(VectorIndex):
    """Candidates from a Milvus collection; exact cosines for rescoring from the local vectors."""

    def __init__(self, vectors: np.ndarray, record: dict):
        super().__init__(vectors, None, record)
        self._client = None
        self._lock = threading.Lock()

    def _c(self):
        with self._lock:  # one connection and one load per process, however many threads ask at once
            if self._client is None:
                c = client(_uri(self.record))
                name = self.record.get("collection", "")
                if not c.has_collection(name):
                    raise IndexCorruptError(f"Milvus at {_uri(self.record)} has no collection {name}",
                                            fix="peelqa index (writes it again; nothing is re-embedded)")
                c.load_collection(name)  # a collection is searched only once loaded, in every new process
                self._client = c
            return self._client

    def top(self, q: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        allowed = None if mask is None else int(np.count_nonzero(mask))
        if allowed is not None and allowed < EXACT_MAX:  # few rows: exact here, no round trip
            return super().top(q, k, mask)
        rows = self._search([self._dense(q, k, where(mask))], k)
        sims = self.scores(q, rows)
        order = np.argsort(-sims, kind="stable")
        return rows[order], sims[order]

    def hybrid(self, q: np.ndarray, text: str, k: int, mask: np.ndarray | None = None) -> np.ndarray:
        """The union of the dense top `k` and the full-text (BM25) top `k` within `mask`, from one hybrid search."""
        from pymilvus import AnnSearchRequest

        expr = where(mask)
        requests = [self._dense(q, k, expr)]
        words = _tokens([text])[0]
        if words:
            requests.append(AnnSearchRequest(data=[words], anns_field="sparse", param={"metric_type": "BM25"},
                                             limit=k, expr=expr or None))
        return self._search(requests, len(requests) * k)

    def _dense(self, q: np.ndarray, k: int, expr: str):
        from pymilvus import AnnSearchRequest

        return AnnSearchRequest(data=[np.asarray(q, np.float32).tolist()], anns_field="dense",
                                param={"metric_type": "IP"}, limit=k, expr=expr or None)

    def _search(self, requests: list, limit: int) -> np.ndarray:
        from pymilvus import RRFRanker

        for attempt in range(2):
            try:
                found = self._c().hybrid_search(self.record["collection"], requests, RRFRanker(RRF_K), limit=limit,
                                                output_fields=[])
                break
            except PeelqaError:  # no such collection, or no Milvus at all: said as it is
                raise
            except Exception as exc:  # a dropped connection (a restarted or overloaded server): connect again once
                with self._lock:
                    self._client = None
                if attempt:
                    raise MilvusError(f"Milvus search failed at {_uri(self.record)}: {exc}",
                                      fix="check that Milvus is running") from exc
        return np.array(sorted({int(hit.id) for hit in found[0]}), dtype=np.int64)
