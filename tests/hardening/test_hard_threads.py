"""Many threads share one model: token counting (typo repair, splitting during a rebuild) must never
change the tokenizer under a concurrent encode. Before the fix 1-4 of 1,000 concurrent questions failed
with "Unable to create tensor ... activate truncation and/or padding"."""

import random
import threading

import numpy as np
import pytest

pytestmark = pytest.mark.model

TEXTS = ["investigations", "a", "How does the force respond to missing children who are reported as absent?",
         "domestic abuse victims", "kids hub", "Is Cleveland good at investigating crime?"]


def test_counting_tokens_while_encoding_in_other_threads(real_embedder):
    expected = {t: real_embedder.encode([t])[0] for t in TEXTS}
    counts = {t: real_embedder.count_tokens(t) for t in TEXTS}
    errors, wrong = [], []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(400):
            text = rng.choice(TEXTS)
            try:
                if seed % 2:
                    if real_embedder.count_tokens(text) != counts[text]:
                        wrong.append(text)
                else:
                    batch = [text, rng.choice(TEXTS)]
                    vectors = real_embedder.encode(batch)
                    if not np.allclose(vectors[0], expected[text], atol=1e-5):
                        wrong.append(text)
            except Exception as exc:  # noqa: BLE001 - every failure counts, whatever it is
                errors.append(repr(exc)[:200])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and wrong == []
