"""The conversation as Markdown and CSV: pure functions over quotes read from the index."""

import csv
import io

from chat.export import COLUMNS, Row, Turn, to_csv, to_markdown

QUOTE = 'Officers said "no", = 1+1;\nthen <script>alert(1)</script> **left**, £98.4m.'
TURNS = [Turn("Who patrols?", [Row(1, QUOTE, "R › S › para 2", "r.md", 10, 10 + len(QUOTE)),
                               Row(2, "Second.", "R › S › para 3", "r.md", 90, 97)]),
         Turn("Football?", [Row(1, "Nearest.", "R › para 9", "r.md", 200, 208)], answered=False),
         Turn("why?", [])]


def test_csv_holds_each_quote_verbatim_with_its_citation_and_offsets():
    rows = list(csv.reader(io.StringIO(to_csv(TURNS))))
    assert tuple(rows[0]) == COLUMNS == ("question", "answered", "rank", "quote", "citation", "document", "start",
                                         "end")
    assert rows[1] == ["Who patrols?", "yes", "1", QUOTE, "R › S › para 2", "r.md", "10", str(10 + len(QUOTE))]
    assert rows[2][:4] == ["Who patrols?", "yes", "2", "Second."]
    assert rows[3][:2] == ["Football?", "no"]  # closest matches of a refused question are marked as such
    assert rows[4] == ["why?", "yes", "", "", "", "", "", ""] and len(rows) == 5  # a question without quotes


def test_markdown_quotes_each_line_verbatim_under_its_question():
    md = to_markdown(TURNS, "abc123")
    assert md.startswith("# peelqa conversation\n\nQuotes as indexed (index version abc123).\n\n## Who patrols?\n")
    quoted = [line[2:] for line in md.splitlines() if line.startswith("> ")]
    assert "\n".join(quoted[:2]) == QUOTE  # no escapes, no changes
    assert "— R › S › para 2 (r.md, characters 10–" in md
    assert "## Football?\n\n_The indexed reports do not appear to cover this question; its closest matches:_" in md
    assert "## why?\n\n_No quotes._" in md
    assert to_markdown([]) == "# peelqa conversation\n\nNo questions asked.\n"


def test_a_question_that_looks_like_a_formula_is_text_in_the_csv():
    from chat.export import _cell

    assert _cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")' and _cell("@x") == "'@x"
    assert _cell("Is Cleveland good?") == "Is Cleveland good?"
