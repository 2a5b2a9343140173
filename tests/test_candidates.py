"""The BM25 candidate stage: the k best scores within a mask, found exactly however many scores there are."""

import numpy as np
import pytest

from chat.search import _above_floor, _top


def naive(scores, k, mask):
    rows = np.flatnonzero((scores > 0) & mask)
    return np.sort(scores[rows])[::-1][:k]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("share", [1.0, 0.3, 0.002])
def test_the_sampled_floor_keeps_the_exact_top(seed, share):
    rng = np.random.default_rng(seed)
    n, k = 300_000, 400
    scores = np.where(rng.random(n) < 0.7, rng.gamma(2.0, 3.0, n), 0).astype(np.float32)
    scores[rng.choice(n, 50)] = 40.0  # ties at the top
    mask = rng.random(n) < share
    got = _top(scores, k, mask)
    assert mask[got].all() and (scores[got] > 0).all()
    np.testing.assert_array_equal(np.sort(scores[got])[::-1], naive(scores, k, mask))


def test_the_floor_is_used_on_large_arrays_only_and_keeps_the_k_best():
    rng = np.random.default_rng(0)
    scores = rng.gamma(2.0, 3.0, 400_000).astype(np.float32)
    mask = np.ones(len(scores), bool)
    above = _above_floor(scores, 400, mask)
    assert above is not None and above[np.argsort(scores)[-400:]].all()  # the 400 best are all above it
    assert np.count_nonzero(above) < 20_000  # a few thousand rows sorted, not 400,000
    assert _above_floor(scores[:50_000], 400, mask[:50_000]) is None
