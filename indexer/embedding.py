"""Embedding for builds: the model loaded only when something needs embedding, texts sent in large batches
(sentence-transformers sorts each batch by length, so little is padded) on every core, and each document's
vectors kept in a cache beside the index as soon as they exist, so a killed build resumes where it stopped
and nothing is embedded twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .model import Embedder, load_embedder, resolve_model, sha256_file
from .onnx_model import TokenCounter

Progress = Callable[[int, int, str], None]
# Texts sent to the model at once: large enough that sorting by length pays (measured: batches of 32 texts in
# file order padded every batch to its longest), small enough to report progress every few seconds.
CHUNK = 512


class ModelHandle:
    """What a build knows about its model before loading it (name, checksum, token counter), and the model
    itself once something must be embedded."""

    def __init__(self, model: str | None = None, embedder: Embedder | None = None):
        self._embedder = embedder
        if embedder is not None:
            self.name, self.sha256, self.max_tokens = embedder.name, embedder.sha256, embedder.max_tokens
            self.count_tokens = embedder.count_tokens
            self.spec = None
            return
        self.spec = resolve_model(model)
        self.name = self.spec.name
        self.sha256 = self.spec.expected_sha256 or sha256_file(self.spec.weights)
        config = self.spec.path / "sentence_bert_config.json"
        self.max_tokens = int(json.loads(config.read_text()).get("max_seq_length", 256)) if config.is_file() else 256
        tokenizer = self.spec.path / "tokenizer.json"
        self.count_tokens = TokenCounter(tokenizer, self.max_tokens) if tokenizer.is_file() else None

    @property
    def loaded(self) -> bool:
        return self._embedder is not None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.spec.path if self.spec.path.is_dir() else self.name,
                                           expected_sha256=self.sha256)
            if self.count_tokens is None:
                self.count_tokens = self._embedder.count_tokens
        return self._embedder

    def tokens(self) -> Callable[[str], int]:
        return self.count_tokens or self.embedder.count_tokens


def _encode(embedder: Embedder, texts: list[str]) -> np.ndarray:
    many = getattr(embedder, "encode_many", None)
    return many(texts) if many else embedder.encode(texts)


def embed_documents(reads, handle: ModelHandle, cache: Path, progress: Progress | None) -> int:
    """Set `read.vectors` and `read.sentence_vectors` for every read without reused rows; returns how many
    passages were embedded now (cached ones excepted)."""
    todo = [r for r in reads if r.rows is None]
    for r in todo:
        cached = _cache_file(cache, r, handle)
        if cached.is_file():
            try:
                with np.load(cached, allow_pickle=False) as f:
                    r.vectors, r.sentence_vectors = f["passages"], f["sentences"]
                if len(r.vectors) == len(r.passages):
                    continue
            except (OSError, ValueError, KeyError, EOFError):
                pass
            r.vectors = None
    pending = [r for r in todo if getattr(r, "vectors", None) is None]
    total = sum(len(r.passages) + sum(len(p.sentence_texts()) for p in r.passages) for r in pending)
    done, embedded = 0, 0
    group: list = []
    size = 0
    for r in pending:
        group.append(r)
        size += len(r.passages) + sum(len(p.sentence_texts()) for p in r.passages)
        if size >= CHUNK or r is pending[-1]:
            def step(n: int, before: int = done) -> None:  # within a group: one long report is many chunks
                if progress:
                    progress(before + n, total, "embedding")

            done += _embed_group(group, handle.embedder, cache, handle, step)
            embedded += sum(len(g.passages) for g in group)
            group, size = [], 0
    return embedded


def _embed_group(group, embedder: Embedder, cache: Path, handle: ModelHandle,
                 step: Callable[[int], None] = lambda n: None) -> int:
    """Embed several documents' passages (heading + text) and sentences (alone), CHUNK texts a call (`step`
    told how many are done after each), and cache each document."""
    texts, spans = [], []
    for r in group:
        start = len(texts)
        texts += [p.embed_text for p in r.passages]
        middle = len(texts)
        texts += [s for p in r.passages for s in p.sentence_texts()]
        spans.append((start, middle, len(texts)))
    parts = []
    for at in range(0, len(texts), CHUNK):
        parts.append(_encode(embedder, texts[at:at + CHUNK]))
        step(min(at + CHUNK, len(texts)))
    vectors = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    for r, (a, b, c) in zip(group, spans, strict=True):
        r.vectors, r.sentence_vectors = vectors[a:b], vectors[b:c]
        path = _cache_file(cache, r, handle)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, passages=r.vectors, sentences=r.sentence_vectors)
        os.replace(tmp, path)  # whole or absent: a kill never leaves half a document's vectors
    return len(texts)


def _cache_file(cache: Path, read, handle: ModelHandle) -> Path:
    """One file per document version and model and passage split: anything different is a different file."""
    key = hashlib.sha256(f"{read.entry['sha256']}|{handle.sha256}|{len(read.passages)}|"
                         f"{[len(p.sentences) for p in read.passages]}".encode()).hexdigest()[:24]
    return cache / f"{key}.npz"


def clear_cache(cache: Path) -> None:
    shutil.rmtree(cache, ignore_errors=True)


def word_vectors(words: list[str], known: dict[str, np.ndarray], handle: ModelHandle, dimension: int) -> np.ndarray:
    """Vectors for the reports' words, embedding only words the previous index did not have."""
    if not words:
        return np.zeros((0, dimension), np.float32)
    new = [w for w in words if w not in known]
    fresh = dict(zip(new, _encode(handle.embedder, new), strict=True)) if new else {}
    return np.stack([fresh[w] if w in fresh else known[w] for w in words])
