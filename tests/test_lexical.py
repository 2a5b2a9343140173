"""BM25 over postings: the same scores as bm25s (Lucene, k1 1.5, b 0.75), and a rebuild that reuses some
passages' postings equals a build from scratch."""

import bm25s
import numpy as np
import pytest

from indexer.lexical import LexicalIndex, lexical_text, tokenize
from indexer.passage import Passage

TEXTS = [
    "The force answers emergency calls quickly and deploys officers to incidents promptly.",
    "Victims of domestic abuse are safeguarded; the force's risk assessments are thorough.",
    "Call handlers answer non-emergency calls slowly: one caller in five abandons the call.",
    "The force records crime accurately. Crime recording was graded good.",
    "Neighbourhood officers know their communities and solve local problems with partners.",
    "Stop and search is used fairly; supervisors review body-worn video of searches.",
    "The force must improve how it manages registered sex offenders.",
    "Officers and staff feel well supported; sickness absence has fallen since 2021.",
]


def passage(i: int, text: str, document: str = "a.txt") -> Passage:
    return Passage(id=f"{document}#p{i}", document=document, title="T", section=("Findings",), paragraph=i,
                   start=0, end=len(text), text=text)


def bm25s_scores(passages: list[Passage], question: str) -> np.ndarray:
    model = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
    model.index(tokenize([lexical_text(p) for p in passages]), show_progress=False)
    tokens = [t for t in tokenize([question])[0] if t in model.vocab_dict]
    return model.get_scores(tokens) if tokens else np.zeros(len(passages))


QUESTIONS = ["How quickly are emergency calls answered?", "crime recording accuracy",
             "domestic abuse risk assessments", "calls calls calls", "sex offenders", "nothing matches xyzzy"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_scores_match_bm25s(question):
    passages = [passage(i, t) for i, t in enumerate(TEXTS)]
    ours = LexicalIndex.build(passages).scores(question)
    np.testing.assert_allclose(ours, bm25s_scores(passages, question), rtol=1e-5, atol=1e-6)


def test_scores_are_bm25():
    passages = [passage(i, t) for i, t in enumerate(TEXTS)]
    scores = LexicalIndex.build(passages).scores("sex offenders")
    assert np.flatnonzero(scores).tolist() == [6]  # the only passage with either word


@pytest.mark.parametrize("question", QUESTIONS)
def test_without_scipys_loop_the_sums_are_the_same(question, monkeypatch):
    from indexer import lexical

    passages = [passage(i, t) for i, t in enumerate(TEXTS)]
    fast = LexicalIndex.build(passages).scores(question)
    monkeypatch.setattr(lexical, "_csc_matvec", lambda: None)
    np.testing.assert_array_equal(LexicalIndex.build(passages).scores(question), fast)


def test_a_rebuild_reusing_postings_equals_a_full_build(tmp_path):
    old = [passage(i, t, "a.txt") for i, t in enumerate(TEXTS[:4])] + \
          [passage(i, t, "b.txt") for i, t in enumerate(TEXTS[4:])]
    previous = LexicalIndex.build(old)
    previous.save(tmp_path)
    previous = LexicalIndex.load(tmp_path, len(old))
    # b.txt is kept (its rows 4..7 reused), a.txt is replaced by a changed version, c.txt is new.
    changed = [passage(0, "The force answers emergency calls within ten seconds."), passage(1, TEXTS[1])]
    added = [passage(0, "Custody suites are clean and detainees are treated with respect.", "c.txt")]
    incremental = LexicalIndex.assemble([np.arange(4, 8), changed, added], previous)
    full = LexicalIndex.build(old[4:] + changed + added)
    # Tokens only the old a.txt held ("record") left the vocabulary; the order of ids may differ.
    assert sorted(incremental.vocab) == sorted(full.vocab) and "record" not in incremental.ids
    np.testing.assert_array_equal(incremental.doc_len, full.doc_len)
    for token in full.vocab:
        for name in ("term_rows", "term_tf", "weight"):
            ours, theirs = (getattr(ix, name)[ix.term_ptr[ix.ids[token]]:ix.term_ptr[ix.ids[token] + 1]]
                            for ix in (incremental, full))
            np.testing.assert_array_equal(ours, theirs)
    for question in QUESTIONS + ["custody detainees", "emergency seconds"]:
        np.testing.assert_array_equal(incremental.scores(question), full.scores(question))


def test_a_question_of_stop_words_only_scores_zero():
    index = LexicalIndex.build([passage(i, t) for i, t in enumerate(TEXTS)])
    assert index.query_ids("What is it, and how does it do it?") == []
    assert not index.scores("What is it, and how does it do it?").any()


def test_damaged_arrays_are_refused(tmp_path):
    index = LexicalIndex.build([passage(i, t) for i, t in enumerate(TEXTS)])
    index.save(tmp_path)
    with pytest.raises(ValueError, match="do not agree"):
        LexicalIndex.load(tmp_path, len(TEXTS) + 1)


def test_holds_is_the_postings_lookup():
    index = LexicalIndex.build([passage(i, t) for i, t in enumerate(TEXTS)])
    for word in ("calls", "force", "offenders", "crime", "absent-word"):
        expected = set(index.passages_with(word).tolist()) if index.knows(word) else set()
        assert {row for row in range(len(TEXTS)) if index.holds(word, row)} == expected
    assert index.holds("calls", 2) and not index.holds("calls", 3)


def test_garbled_postings_are_a_damaged_index_not_a_crash(tmp_path):
    from indexer.errors import IndexCorruptError
    from indexer.lexical import FOLDER

    passages = [passage(i, t) for i, t in enumerate(TEXTS)]
    LexicalIndex.build(passages).save(tmp_path)
    ptr = np.load(tmp_path / FOLDER / "term_ptr.npy")
    ptr[1], ptr[2] = ptr[2], ptr[1]  # out of order: some term's postings would run backwards
    np.save(tmp_path / FOLDER / "term_ptr.npy", ptr)
    with pytest.raises(ValueError, match="do not agree"):
        LexicalIndex.load(tmp_path, len(passages))
    LexicalIndex.build(passages).save(tmp_path)
    rows = np.load(tmp_path / FOLDER / "term_rows.npy")
    rows[:] = len(passages) + 5  # a large postings file is checksummed only in the background
    np.save(tmp_path / FOLDER / "term_rows.npy", rows)
    with pytest.raises(IndexCorruptError, match="a posting names a passage past the last one"):
        LexicalIndex.load(tmp_path, len(passages)).scores("emergency calls")

