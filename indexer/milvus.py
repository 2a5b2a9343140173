"""Milvus as the candidate source: passages, their vectors and Milvus's own BM25 full-text field in a collection.

The index folder keeps everything rescoring needs (passage records, exact vectors, sentence vectors, peelqa's
BM25 postings, columns); Milvus answers the candidate stage, a hybrid search (dense and full-text), within the
question's filter. Filters reach Milvus as data: the mask of allowed rows becomes row ranges (rows of a report
are contiguous); a mask of too many pieces is searched here instead, exactly.

Each build with changes writes a new collection, named in the manifest after the index's own id (kept across
rebuilds, so indexes sharing a Milvus never touch each other's collections); the newest few are kept (a
replica may read an older one until it switches) and older ones dropped. The URI may be a Milvus Lite file
(`x.db`, one process at a time), a Milvus Lite server (`milvus-lite server`) or a Milvus cluster
(`http://host:19530`); `PEELQA_MILVUS_URI` and `PEELQA_MILVUS_TOKEN` override what the manifest names, for
replicas that reach the same Milvus by another address.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexCorruptError, PeelqaError
from .lexical import K1, B, lexical_text, tokenize
from .limits import LIMITS
from .passage import Passage
from .vectors import EXACT_MAX, VectorIndex

log = logging.getLogger("peelqa")
PREFIX = "peelqa_"
INSERT_BATCH = 2_000  # rows a request: ~3 MB of vectors and text, well under gRPC's 64 MB message limit
TEXT_BYTES = 60_000  # under VARCHAR's 65,535-byte limit; a passage is at most ~8,000 bytes (LIMITS.passage_chars)
RANGE_MAX = 256  # runs of allowed rows sent as ranges; a mask of more pieces is searched here, exactly
# Collections of one index kept: the live one and two before it, so a replica still loading (or retrying) the
# previous index while a third build lands keeps answering.
KEEP = 3
RRF_K = 60
# pymilvus pings an idle connection every 10 s; a gRPC server's default policy (Milvus Lite's) allows one ping
# in 5 minutes and then drops the connection ("too_many_pings", a reconnect, an error on stderr). Measured: an
# idle client 90 s against `milvus-lite server`: 2 drops with pymilvus's setting, none with this.
KEEPALIVE = {"grpc.keepalive_time_ms": 360_000, "grpc.keepalive_permit_without_calls": False}
INSTALL = "pip install 'peelqa[milvus]' (pymilvus and milvus-lite)"
RUNNING = "check that Milvus is running there (version 2.5 or later: full-text search)"


class MilvusError(PeelqaError):
    """Milvus cannot be reached or refused a request: the message names the URI and the fix."""


@dataclass(frozen=True)
class Target:
    """Where a build writes: a Milvus URI and the id naming its index's collections."""

    uri: str
    index_id: str

    @property
    def prefix(self) -> str:
        return f"{PREFIX}{self.index_id}_"


def new_id() -> str:
    return os.urandom(5).hex()


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
        return MilvusClient(uri=uri, token=token, grpc_options=KEEPALIVE, timeout=LIMITS.milvus_seconds)
    except Exception as exc:  # pymilvus raises its own classes, and gRPC's, for the same causes
        raise MilvusError(
            f"cannot open Milvus at {uri}: {exc}",
            fix=("a Milvus Lite file is open in one process at a time: share it through `milvus-lite server "
                 "--data-dir DIR` and --milvus-uri http://127.0.0.1:19530" if uri.endswith(".db") else
                 "start Milvus (docker compose -f deploy/milvus-compose.yml up -d) or pass --milvus-uri"),
        ) from exc


def _call(uri: str, what: str, call, c=None):
    """`call(client)` (a new client unless `c`), any failure of Milvus's one line naming what was being done."""
    c = c if c is not None else client(uri)
    try:
        return call(c)
    except PeelqaError:
        raise
    except Exception as exc:
        raise MilvusError(f"Milvus at {uri} failed {what}: {exc}", fix=RUNNING) from exc


def _create(c, name: str, dim: int) -> None:
    schema, params = _schema(c, dim)
    c.create_collection(name, schema=schema, index_params=params)


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


def publish(target: Target, passages: list[Passage], vectors: np.ndarray, progress=None) -> dict:
    """Write `passages` and their `vectors` (rows in index order) as a new collection; the manifest's record.
    A failure (or an interrupt) drops what was written."""
    name = f"{target.prefix}{time.strftime('%Y%m%d%H%M%S')}_{os.urandom(2).hex()}"
    try:
        _call(target.uri, f"creating collection {name}", lambda c: _create(c, name, int(vectors.shape[1])))
        for at in range(0, len(passages), INSERT_BATCH):
            block = np.asarray(vectors[at:at + INSERT_BATCH], dtype=np.float32)
            texts = _tokens([lexical_text(p) for p in passages[at:at + INSERT_BATCH]])
            rows = [{"row": at + i, "text": t, "dense": v.tolist()} for i, (t, v) in enumerate(zip(texts, block,
                                                                                                  strict=True))]
            _call(target.uri, f"writing to collection {name}", lambda c, rows=rows: c.insert(name, rows))
            if progress:
                progress(min(at + INSERT_BATCH, len(passages)), len(passages), "writing to Milvus")
        _call(target.uri, f"loading collection {name}", lambda c: (c.flush(name), c.load_collection(name)))
    except BaseException:
        discard(target.uri, name)
        raise
    return {"backend": "milvus", "uri": target.uri, "collection": name, "index_id": target.index_id,
            "n": len(passages), "dense_index": "FLAT", "text": "peelqa tokens"}


def retire(target: Target, keep: int = KEEP) -> list[str]:
    """Drop all but the newest `keep` collections of the index (names sort by time); returns what was dropped.
    Best effort: the index is in place already, so a failure is a warning, never a failed build."""
    try:
        names = sorted(n for n in _call(target.uri, "listing collections", lambda c: c.list_collections())
                       if n.startswith(target.prefix))
        for name in names[:max(0, len(names) - keep)]:
            _call(target.uri, f"dropping {name}", lambda c, name=name: c.drop_collection(name))
        return names[:max(0, len(names) - keep)]
    except PeelqaError as exc:
        log.warning("old collections left in Milvus: %s", exc)
        return []


def discard(uri: str, name: str) -> None:
    """Drop a collection written for an index that never came to be; a failure is logged (the error that
    stopped the build is the one to report)."""
    try:
        _call(uri, f"dropping {name}", lambda c: c.drop_collection(name) if c.has_collection(name) else None)
    except PeelqaError as exc:
        log.warning("collection %s left in Milvus: %s", name, exc)


def exists(record: dict) -> bool:
    try:
        return bool(_call(_uri(record), "listing collections", lambda c: c.has_collection(record["collection"])))
    except (PeelqaError, KeyError):
        return False


def _uri(record: dict) -> str:
    return os.environ.get("PEELQA_MILVUS_URI") or record["uri"]


def where(mask: np.ndarray | None) -> str | None:
    """A Milvus filter allowing exactly the rows `mask` allows: "" for all, ranges when the allowed rows form
    few runs (a report's rows are contiguous), None when they form too many (a list of a million rows would be
    megabytes a request): then the search is made here."""
    if mask is None or mask.all():
        return ""
    if not mask.any():
        return "row < 0"
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    starts, ends = edges[0::2], edges[1::2]
    if len(starts) > RANGE_MAX:
        return None
    return " or ".join(f"(row >= {a} and row < {b})" if b - a > 1 else f"row == {a}"
                       for a, b in zip(starts.tolist(), ends.tolist(), strict=True))


class MilvusIndex(VectorIndex):
    """Candidates from a Milvus collection; exact cosines for rescoring from the local vectors."""

    def __init__(self, vectors: np.ndarray, record: dict):
        super().__init__(vectors, None, record)
        self._client = None
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Connect and load the collection now (a collection is searched only once loaded, in every process):
        an index whose collection is missing is refused when it is opened, not at its first question."""
        with self._lock:
            if self._client is None:
                name, uri = self.record.get("collection", ""), _uri(self.record)
                c = client(uri)
                if not _call(uri, "listing collections", lambda c: c.has_collection(name), c):
                    raise IndexCorruptError(f"Milvus at {uri} has no collection {name}",
                                            fix="peelqa index (writes it again; nothing is re-embedded)")
                _call(uri, f"loading collection {name}", lambda c: c.load_collection(name), c)
                self._client = c

    def top(self, q: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        few = mask is not None and np.count_nonzero(mask) < EXACT_MAX
        expr = None if few else where(mask)
        if expr is None:
            return super().top(q, k, mask)  # few rows, or too scattered to name: exact here
        return self.rescored(q, self._search([self._dense(q, k, expr)], k))

    def candidates(self, q: np.ndarray, text: str, k: int, mask: np.ndarray | None = None) -> np.ndarray | None:
        """The union of the dense top `k` and the full-text (BM25) top `k` within `mask`, from one hybrid search;
        None when the mask is too scattered to send (the caller then searches here)."""
        from pymilvus import AnnSearchRequest

        expr = where(mask)
        if expr is None:
            return None
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

        self.prepare()
        name = self.record["collection"]
        found = _call(_uri(self.record), f"searching {name}", lambda c: c.hybrid_search(
            name, requests, RRFRanker(RRF_K), limit=limit, output_fields=[], timeout=LIMITS.milvus_seconds),
            self._client)
        return np.array(sorted({int(hit.id) for hit in found[0]}), dtype=np.int64)
