"""The vector index: exact search equals brute force; the HNSW backend (used above vectors.ANN_MIN passages)
finds nearly the same neighbours, honours filters, and records its measured recall."""

import numpy as np
import pytest

from indexer import vectors


def unit(rows: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def brute(v: np.ndarray, q: np.ndarray, k: int, mask=None) -> list[int]:
    sims = v @ q
    if mask is not None:
        sims = np.where(mask, sims, -np.inf)
    return np.argsort(-sims, kind="stable")[:k].tolist()


def test_exact_search_is_brute_force(tmp_path):
    v = unit(500)
    record = vectors.write(tmp_path, [v[:200], v[200:]], 32)  # written in blocks, read as one
    index = vectors.load(tmp_path, record)
    assert record == {"backend": "exact", "n": 500}
    mask = np.zeros(500, bool)
    mask[::7] = True
    for i in range(20):
        q = unit(1, seed=100 + i)[0]
        rows, sims = index.top(q, 10)
        assert rows.tolist() == brute(v, q, 10)
        np.testing.assert_allclose(sims, v[rows] @ q, rtol=1e-6)
        assert index.top(q, 10, mask)[0].tolist() == brute(v, q, 10, mask)
    assert index.scores(q, np.array([5, 2, 9])).tolist() == pytest.approx((v[[5, 2, 9]] @ q).tolist())


def test_hnsw_finds_the_exact_neighbours_and_honours_filters(tmp_path):
    v = unit(3000)
    record = vectors.write(tmp_path, v, 32, ann_min=1000)
    assert record["backend"] == "hnsw" and (tmp_path / vectors.ANN).exists()
    assert record["recall_at_50"] >= 0.95  # measured at build time, kept in the manifest
    index = vectors.load(tmp_path, record)
    assert index.ann is not None and vectors.load(tmp_path, record, skip_ann=True).ann is None
    found = 0
    mask = np.zeros(3000, bool)
    mask[1::2] = True
    for i in range(50):
        q = unit(1, seed=1000 + i)[0]
        rows, sims = index.top(q, 10)
        np.testing.assert_allclose(sims, v[rows] @ q, rtol=1e-5)  # rescored exactly, best first
        assert (np.diff(sims) <= 1e-7).all()
        found += len(set(rows.tolist()) & set(brute(v, q, 10)))
        assert (index.top(q, 10, mask)[0] % 2 == 1).all()  # a filter applies inside the graph search
    assert found / 500 >= 0.95


def test_a_small_filter_is_scored_exactly_even_with_a_graph(tmp_path):
    v = unit(3000)
    index = vectors.load(tmp_path, vectors.write(tmp_path, v, 32, ann_min=1000))
    mask = np.zeros(3000, bool)
    mask[[3, 30, 300, 2999]] = True
    q = unit(1, seed=7)[0]
    assert index.top(q, 3, mask)[0].tolist() == brute(v, q, 3, mask)
