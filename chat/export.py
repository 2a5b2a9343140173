"""The conversation as a file: Markdown to read, CSV to work with. Pure functions over rows the service reads
from the index, so each quote is the indexed text itself (never the chat's rendered, escaped copy)."""

from __future__ import annotations

import csv
import io
from typing import NamedTuple

COLUMNS = ("question", "answered", "rank", "quote", "citation", "document", "start", "end")


class Row(NamedTuple):
    """One quote of an answer, read from the index."""

    rank: int
    quote: str
    citation: str
    document: str
    start: int
    end: int


class Turn(NamedTuple):
    question: str
    rows: list[Row]
    answered: bool = True  # False: the quotes are the closest matches to a question the reports do not cover


def to_csv(turns: list[Turn]) -> str:
    """One line per quote (a question without quotes keeps one line, its other cells empty); the text exactly
    as indexed, quoted as CSV quotes it. `answered` is "no" for a question the reports do not cover (its quotes
    are the closest matches), so a filtered spreadsheet never takes them for answers."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for t in turns:
        answered = "yes" if t.answered else "no"
        for r in t.rows:
            writer.writerow([_cell(t.question), answered, *r])
        if not t.rows:
            writer.writerow([_cell(t.question), answered, "", "", "", "", "", ""])
    return out.getvalue()


def _cell(question: str) -> str:
    """A question as a CSV cell a spreadsheet shows as text: a link can make the chat ask anything, so a question
    starting like a formula ("=HYPERLINK(...)") gets a leading apostrophe. Quotes stay verbatim (report text)."""
    return "'" + question if question[:1] in ("=", "+", "-", "@", "\t", "\r") else question


def to_markdown(turns: list[Turn], version: str = "") -> str:
    """Each question as a heading, its quotes as block quotes (each line of the indexed text after "> "),
    each with its citation and where it lies in its report."""
    lines = ["# peelqa conversation", ""]
    if version:
        lines += [f"Quotes as indexed (index version {version}).", ""]
    if not turns:
        lines.append("No questions asked.")
    for t in turns:
        lines += [f"## {' '.join(t.question.split())}", ""]
        if not t.answered and t.rows:
            lines += ["_The indexed reports do not appear to cover this question; its closest matches:_", ""]
        if not t.rows:
            lines += ["_No quotes._", ""]
        for r in t.rows:
            lines += [f"**[{r.rank}]**", ""]
            lines += [f"> {line}" if line.strip() else ">" for line in r.quote.splitlines() or [""]]
            lines += ["", f"— {r.citation} ({r.document}, characters {r.start}–{r.end})", ""]
    return "\n".join(lines).rstrip() + "\n"
