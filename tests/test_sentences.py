from indexer.passage import Passage
from indexer.sentences import sentence_spans, split_long


def words(text):
    return len(text.split())


def make(text, section=("Q?",)):
    return Passage(id="d#p1", document="d", title="T", section=section, paragraph=1, start=100,
                   end=100 + len(text), text=text)


def test_sentence_spans_are_exact_and_keep_abbreviations():
    text = "The force e.g. Cleveland is good. It works well.  Repeat. Repeat."
    spans = sentence_spans(text)
    expected = ["The force e.g. Cleveland is good.", "It works well.", "Repeat.", "Repeat."]
    assert [text[s:e] for s, e in spans] == expected


def test_sentence_spans_empty_and_unicode():
    assert sentence_spans("") == []
    assert sentence_spans("   ") == []
    text = "HMIC’s report — naïve café. Second ✓ sentence."
    assert [text[s:e] for s, e in sentence_spans(text)] == ["HMIC’s report — naïve café.", "Second ✓ sentence."]


def test_short_passage_is_not_split():
    p = make("One two three. Four five six.")
    (out,) = split_long(p, words, 50)
    assert out.text == p.text and len(out.sentences) == 2


def test_long_passage_splits_at_sentences_and_keeps_citation():
    text = "Alpha beta gamma delta. Epsilon zeta eta theta. Iota kappa lambda mu. Nu xi omicron pi."
    p = make(text, section=())
    pieces = split_long(p, words, 9)
    assert [x.text for x in pieces] == ["Alpha beta gamma delta. Epsilon zeta eta theta.",
                                        "Iota kappa lambda mu. Nu xi omicron pi."]
    assert [x.id for x in pieces] == ["d#p1.1", "d#p1.2"]
    assert {x.paragraph for x in pieces} == {1}
    source = " " * 100 + text
    for x in pieces:
        assert source[x.start:x.end] == x.text
        for s, e in x.sentences:
            assert x.text[s:e].endswith(".")


def test_rule_splitter_abbreviations_initials_quotes_and_lines():
    from indexer.fastsplit import spans

    text = ('HM Inspector J. Smith said: “It works. It will last.” Mr. Brown agreed, e.g. on No. 5 Street. '
            'Done! Next?\n\nNew block.\n- a bullet\n| a | row |')
    assert [text[s:e] for s, e in spans(text)] == [
        "HM Inspector J. Smith said: “It works.", "It will last.”", "Mr. Brown agreed, e.g. on No. 5 Street.",
        "Done!", "Next?", "New block.", "- a bullet", "| a | row |"]
    wrapped = "A sentence wrapped\nover two lines. Then another."
    assert [wrapped[s:e] for s, e in spans(wrapped)] == ["A sentence wrapped\nover two lines.", "Then another."]
