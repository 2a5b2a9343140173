"""The chat's markdown for answers, and the plain text its copy links give: pure functions on tiny answers."""

import re

from chat.answer import Answer, Quote
from chat.render import COPY_ANCHOR, answer_markdown, copy_link, copy_text, parse_copy_link
from indexer.passage import Passage

XSS = "<img src=x onerror=alert(1)> </details><script>alert(2)</script>"


def quote(rank, score, text="One sentence. Another one.", weak=False, emphasis=((0, 13),), doc="r.md"):
    p = Passage(id=f"{doc}#p{rank}", document=doc, title="R", section=("S",), paragraph=rank, start=100 * rank,
                end=100 * rank + len(text), text=text, report="R Police · PEEL 2016", sentences=((0, 13), (14, 26)))
    return Quote(rank, score, p, highlights=((0, 13),), emphasis=emphasis, weak=weak)


def answer(*quotes, answered=True):
    return Answer("q?", answered, tuple(quotes), evidence=2.0)


def test_answer_shows_strong_quotes_and_hides_weak_ones_collapsed():
    md = answer_markdown(answer(quote(1, 1.33), quote(2, 1.2, "Second. Also.", emphasis=()),
                                quote(3, 0.5, weak=True, emphasis=()), quote(4, 0.4, weak=True, emphasis=())))
    shown, hidden = md.split("<details>")
    assert "**[1]**" in shown and "**[2]**" in shown and "**[3]**" not in shown
    assert hidden.startswith("<summary>2 weaker matches hidden</summary>\n\n") and hidden.endswith("</details>")
    assert "**[3]**" in hidden and "**[4]**" in hidden and "_weaker match_" in hidden
    assert not re.search(r"\d\.\d\d", md)  # relevance in words, never the raw score
    assert "_strong match_" in shown
    # Bold only the answering sentence: quote [1]'s first sentence, not quote [2] nor the weak ones.
    assert re.findall(r"\*\*([^*\[]+)\*\*", md) == ["One sentence\\."]


def test_quote_one_always_shows_and_nothing_is_hidden_when_all_are_strong():
    md = answer_markdown(answer(quote(1, 1.0, weak=True), quote(2, 0.9)))
    assert "<details>" not in md and "**[1]**" in md and "**[2]**" in md
    one = answer_markdown(answer(quote(1, 1.0), quote(2, 0.3, weak=True)))
    assert "1 weaker match hidden" in one


def test_refusal_says_not_covered_first_and_folds_matches_without_bold():
    md = answer_markdown(answer(quote(1, 0.2, weak=True), quote(2, 0.1, weak=True), answered=False))
    first, rest = md.split("\n\n", 1)
    assert first == "**The indexed reports do not appear to cover this question.**"
    assert rest.startswith("<details><summary>Show the closest 2 matches, which may not answer it</summary>")
    assert rest.rstrip().endswith("</details>") and "_closest match_" in rest
    assert "One sentence\\." in rest and "**One sentence" not in rest


def test_copy_links_name_every_quote_and_round_trip_odd_names():
    odd = "sub dir/a+b (1).md"
    md = answer_markdown(answer(quote(1, 1.0, doc=odd), quote(2, 0.95)))
    links = re.findall(r"\[Copy (quote|answer)\]\((#peelqa-copy/[^)\s]+)\)", md)
    assert [kind for kind, _ in links] == ["answer", "quote", "quote"]
    spans = [parse_copy_link(href[len(COPY_ANCHOR):]) for _, href in links]
    assert spans == [[(odd, 100, 126), ("r.md", 200, 226)], [(odd, 100, 126)], [("r.md", 200, 226)]]
    assert parse_copy_link(copy_link([(odd, 1, 2)])[len(COPY_ANCHOR):] + "|123") == [(odd, 1, 2)]


def test_copy_text_is_verbatim_plain_text():
    text = f"It said “yes” — £98.4m, **not** [a](link) \\ {XSS}\nnext line"
    got = copy_text([(text, "R › S › p. 4 › para 2", None), ("B.", "R › para 3", "https://example.org/r.pdf")])
    assert got == f"“{text}”\nR › S › p. 4 › para 2\n\n“B.”\nR › para 3\nhttps://example.org/r.pdf"


def test_report_markup_in_a_quote_stays_escaped_in_the_chat():
    md = answer_markdown(answer(quote(1, 1.0, text=XSS, emphasis=()), quote(2, 0.1, text=XSS, weak=True)))
    assert "<img" not in md and "<script" not in md and "&lt;img" in md
    assert md.count("</details>") == 1  # the report's "</details>" cannot close the fold early
