from chat.answer import NOT_COVERED, choose_highlights, compose_answer, render_plain, segments
from chat.evaluate import best_threshold
from indexer.passage import Passage


def passage(text="First sentence. Second one here. Third.", n=1):
    return Passage(id=f"r.txt#p{n}", document="r.txt", title="R PEEL 2016", section=("Is it?",), paragraph=n,
                   start=10, end=10 + len(text), text=text, pillar="Effectiveness", force="R Police", year=2016,
                   report="R Police · PEEL 2016 · Effectiveness",
                   sentences=((0, 15), (16, 32), (33, 39)))


def test_choose_highlights_best_and_near_ties_in_text_order():
    spans = ((0, 5), (6, 10), (11, 20))
    assert choose_highlights(spans, [0.2, 0.9, 0.1]) == ((6, 10),)
    assert choose_highlights(spans, [0.85, 0.9, 0.1]) == ((0, 5), (6, 10))
    assert choose_highlights(spans, [0.9, 0.9, 0.9], limit=2) == ((0, 5), (6, 10))
    assert choose_highlights((), []) == ()
    assert choose_highlights(spans, [0.1]) == ()


def test_compose_answer_answered_and_refused():
    hits = [(passage(n=1), 0.9, [0.1, 0.8, 0.2]), (passage(n=2), 0.5, [0.3, 0.2, 0.1])]
    a = compose_answer("q?", hits, evidence=1.3, threshold=1.0)
    assert a.answered and [q.rank for q in a.quotes] == [1, 2]
    assert a.quotes[0].highlights == ((16, 32),)
    d = a.to_dict()
    assert set(d) == {"question", "answered", "results"}
    r = d["results"][0]
    assert r["citation"] == "R Police · PEEL 2016 · Effectiveness › Is it? › para 1"
    assert r["highlights"] == [[16, 32]] and r["section"] == "Is it?"
    assert set(r) == {"rank", "score", "text", "document", "title", "section", "paragraph", "start", "end",
                      "highlights", "citation", "force", "year", "period", "pillar", "weak"}
    assert r["weak"] is False  # no per-quote evidence given: nothing is marked weak
    assert (r["force"], r["year"], r["pillar"]) == ("R Police", 2016, "Effectiveness")
    refused = compose_answer("q?", hits, evidence=0.7, threshold=1.0)
    assert not refused.answered and len(refused.quotes) == 2
    assert compose_answer("q?", hits, evidence=0.1, threshold=None).answered
    assert not compose_answer("q?", [], evidence=5, threshold=None).answered


def test_segments_cover_text_exactly():
    text = "abc def ghi"
    assert segments(text, [(4, 7)]) == [("abc ", False), ("def", True), (" ghi", False)]
    assert segments(text, []) == [("abc def ghi", False)]
    assert segments(text, [(0, 3), (8, 11)]) == [("abc", True), (" def ", False), ("ghi", True)]
    assert "".join(t for t, _ in segments("naïve ✓ café", [(6, 7)])) == "naïve ✓ café"
    assert segments("", [(0, 3)]) == []


def test_render_plain_marks_and_says_not_covered():
    hits = [(passage(), 0.9, [0.1, 0.8, 0.2])]
    text = render_plain(compose_answer("q?", hits, 1.5, 1.0))
    assert "**Second one here.**" in text and "para 1" in text and NOT_COVERED not in text
    assert render_plain(compose_answer("q?", hits, 0.5, 1.0)).startswith(NOT_COVERED)


def test_best_threshold_separates_with_widest_margin():
    points = [(0.2, False), (0.6, False), (1.0, True), (1.4, True)]
    assert best_threshold(points) == 0.8
    # One overlap: the best cut still misclassifies only one point.
    t = best_threshold([(0.2, False), (0.9, False), (0.8, True), (1.4, True)])
    assert sum((e >= t) == a for e, a in [(0.2, False), (0.9, False), (0.8, True), (1.4, True)]) == 3


def test_choose_highlights_against_the_answers_best_sentence():
    spans = ((0, 5), (6, 10))
    assert choose_highlights(spans, [0.5, 0.85], best=0.9) == ((6, 10),)
    assert choose_highlights(spans, [0.5, 0.6], best=0.9) == ()  # nothing here answers as well as the best


def test_weak_quotes_and_emphasis_only_near_the_best_sentence():
    hits = [(passage(n=1), 1.3, [0.1, 0.8, 0.2]), (passage(n=2), 0.9, [0.75, 0.3, 0.1]),
            (passage(n=3), 0.5, [0.3, 0.2, 0.1])]
    a = compose_answer("q?", hits, evidence=2.0, threshold=1.2, quote_evidence=[2.0, 1.5, 0.9])
    assert [q.weak for q in a.quotes] == [False, False, True]
    assert [r["weak"] for r in a.to_dict()["results"]] == [False, False, True]
    # Each keeps its own best sentence for the JSON; bold goes only to sentences near the answer's best (0.8).
    assert [q.highlights for q in a.quotes] == [((16, 32),), ((0, 15),), ((0, 15),)]
    assert [q.emphasis for q in a.quotes] == [((16, 32),), ((0, 15),), ()]
    # Uncalibrated (no threshold): nothing is refused, so nothing is weak.
    assert not any(q.weak for q in compose_answer("q?", hits, 2.0, None, quote_evidence=[0, 0, 0]).quotes)
