"""Retrieval quality floor with the real model, on the dev questions (kept for checking, not tuning)."""

import pytest

from chat.evaluate import evaluate, load_questions
from tests.conftest import DEV_QUESTIONS

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def dev(qa):
    return evaluate(qa.searcher, load_questions(DEV_QUESTIONS), qa.threshold)


def test_threshold_is_calibrated(qa):
    assert qa.threshold is not None


def test_dev_hit_rates(dev):
    metrics, rows = dev
    misses = [(r["id"], r["rank"]) for r in rows if r["answerable"] and r["rank"] != 1]
    assert metrics.hit_at_1 >= 0.90, misses
    assert metrics.hit_at_3 == 1.0, misses


def test_dev_refusals(dev):
    metrics, rows = dev
    assert metrics.unanswerable_refused == metrics.unanswerable == 4, [r for r in rows if not r["answerable"]]
    assert metrics.answerable_refused == 0, [r for r in rows if r["answerable"] and r["refused"]]


def test_own_question_set_floor(qa):
    from tests.conftest import ROOT

    metrics, rows = evaluate(qa.searcher, load_questions(ROOT / "tests" / "data" / "questions.jsonl"), qa.threshold)
    assert metrics.answerable >= 60 and metrics.unanswerable >= 10
    assert metrics.hit_at_3 >= 0.95, [(r["id"], r["rank"]) for r in rows if r["answerable"] and (r["rank"] or 9) > 3]
    assert metrics.refusal_accuracy >= 0.85
