"""A report as the source panel shows it: its headings, bullets and paragraph numbers kept, one span marked.

Pure function over the indexed text and the index's passages. The structure comes from the index (where each
passage starts and ends, its kind and number, its section), never from markup in the text: every character
of the report is escaped, so HTML or script in a report is shown literally.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import NamedTuple

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_MARKER = re.compile(r"[ \t]*(?:[-*•–▪◦·]|\d{1,2}[.)])[ \t]+")
_MD_HEADING = re.compile(r"#{1,6}\s+(.*?)(?:\s+#+)?")


class Block(NamedTuple):
    """Where one indexed passage lies in its report, and how the parser read it."""

    start: int
    end: int
    kind: str  # "paragraph" | "bullet" | "list" | "table"
    paragraph: int
    section: tuple[str, ...] = ()


def _lines(source: str, a: int, b: int) -> list[tuple[int, int]]:
    """(start, end) of each line of source[a:b], line breaks left out."""
    out = []
    for m in _LINE.finditer(source, a, b):
        if m.start() == m.end():
            continue
        text = m.group()
        out.append((m.start(), m.start() + len(text.rstrip("\r\n"))))
    return out


class _Marker:
    """Escapes text and wraps what falls inside [start, end) in <mark>; the first piece gets id="peelqa-hit",
    which the page scrolls to. A span over several list items is marked in each (a mark cannot hold an item)."""

    def __init__(self, source: str, start: int, end: int):
        self.source, self.start, self.end, self.first = source, start, end, True

    def __call__(self, a: int, b: int) -> str:
        lo, hi = max(a, self.start), min(b, self.end)
        if lo >= hi:
            return html.escape(self.source[a:b])
        ident = ' id="peelqa-hit"' if self.first else ""
        self.first = False
        return (html.escape(self.source[a:lo]) + f"<mark{ident}>{html.escape(self.source[lo:hi])}</mark>"
                + html.escape(self.source[hi:b]))


def _gap(source: str, a: int, b: int, mark: _Marker, headings: dict[str, int]) -> str:
    """Text between passages: headings (the sections the index names, and report questions), else the title,
    pillar or page lines the parser skipped, shown quietly. Blank lines and lone bullet markers (their item
    follows) are dropped."""
    out = []
    for s, e in _lines(source, a, b):
        line = source[s:e].strip()
        if not line or _MARKER.fullmatch(source[s:e] + " "):
            continue
        md = _MD_HEADING.fullmatch(line)
        label = md.group(1) if md else line
        level = headings.get(label, 0 if label.endswith("?") and len(label) < 200 else None)  # a report question
        if level is not None:
            tag = f"h{min(4 + level, 6)}"
            out.append(f'<{tag} class="peelqa-head">{mark(s, e)}</{tag}>')
        else:
            out.append(f'<p class="peelqa-aside">{mark(s, e)}</p>')
    return "".join(out)


def _number(n: int) -> str:
    return f'<span class="peelqa-num" title="paragraph {n}">{n}</span>'


def _passage(source: str, block: Block, begin: int, mark: _Marker) -> str:
    """One passage: a paragraph (or table) keeps its line breaks; a list is a lead-in and its items."""
    if block.kind not in ("bullet", "list"):
        return f'<p class="peelqa-p">{_number(block.paragraph)}{mark(begin, block.end)}</p>'
    items: list[list[tuple[int, int]]] = []
    lead: list[tuple[int, int]] = []
    for s, e in _lines(source, begin, block.end):
        if _MARKER.match(source, s, e):
            items.append([(s, e)])
        elif items:
            items[-1].append((s, e))  # a wrapped line of the item above
        else:
            lead.append((s, e))

    def joined(lines: list[tuple[int, int]]) -> str:
        return "\n".join(mark(s, e) for s, e in lines)

    head = f'<p class="peelqa-p">{_number(block.paragraph)}{joined(lead)}</p>' if lead else ""
    body = "".join(f"<li>{joined(lines)}</li>" for lines in items)
    number = "" if lead else _number(block.paragraph)
    return f'<div class="peelqa-list">{head}{number}<ul>{body}</ul></div>'


def structured_text(source: str, blocks: Sequence[Block], start: int, end: int) -> str:
    """The whole report as HTML: headings as headings, each passage with its paragraph number, lists as lists,
    the span [start, end) marked. Without blocks (an index that cannot say), the text as it is."""
    mark = _Marker(source, start, end)
    if not blocks:
        return f'<div class="peelqa-plain">{mark(0, len(source))}</div>'
    parts, at = [], 0
    headings: dict[str, int] = {}
    for block in blocks:  # every section the index names, at its depth
        for level, label in enumerate(block.section):
            headings.setdefault(label, level)
    for block in sorted(blocks):
        begin = block.start
        line_start = max(source.rfind("\n", 0, begin), source.rfind("\r", 0, begin)) + 1
        if block.kind == "bullet" and _MARKER.fullmatch(source[line_start:begin]):
            begin = line_start  # the first item's marker sits before the passage; show it with its item
        if begin < at:  # overlapping passages (never written by the parser): show the rest of this one
            begin = at
        parts.append(_gap(source, at, begin, mark, headings))
        if begin < block.end:
            parts.append(_passage(source, block, begin, mark))
        at = max(at, block.end)
    parts.append(_gap(source, at, len(source), mark, headings))
    return "".join(parts)


def source_html(title: str, source: str, start: int, end: int, note: str = "",
                blocks: Sequence[Block] = ()) -> str:
    """The side panel: the report's citation heading, a warning where its file changed, and its text."""
    warn = f'<p class="peelqa-note">{html.escape(note)}</p>' if note else ""
    return (f'<div class="peelqa-source" role="region" tabindex="0" aria-label="Report text">'
            f'<h3>{html.escape(title)}</h3>{warn}'
            f'<div class="peelqa-text">{structured_text(source, blocks, start, end)}</div></div>')
