"""Documents → passages. Pure functions over a source string; no I/O, no model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from .passage import Passage

PEEL_TITLE = re.compile(r"^(?P<force>.+?)\s+PEEL\s+(?P<year>(?:19|20)\d{2})$")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_MD_HEADING = re.compile(r"(#{1,6})\s+(.*?)(?:\s+#+)?$")
_BULLET = re.compile(r"[-*•–]\s+")
_INVISIBLE = "\ufeff\u200b"
# Levels on one stack: markdown headings are 1-6, report question headings and sub-headings sit below them.
_QUESTION_LEVEL = 10
_SUBHEADING_LEVEL = 11


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    force: str | None
    year: int | None
    pillar: str | None
    passages: list[Passage]


@dataclass
class _Line:
    start: int  # content span, whitespace trimmed
    end: int
    indent: int
    text: str


@dataclass
class _Item:
    """A run of source lines that is one heading, paragraph or bullet."""

    kind: str  # "heading" | "bullet" | "text"
    lines: list[_Line]
    level: int = 0
    heading: str = ""

    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end

    @property
    def single(self) -> bool:
        return len(self.lines) == 1


def _is_space(ch: str) -> bool:
    return ch.isspace() or ch in _INVISIBLE


def _split_lines(source: str) -> list[_Line | None]:
    """Lines with trimmed content offsets; None marks a blank line."""
    out: list[_Line | None] = []
    pos, n = 0, len(source)
    while pos < n:
        m = _NEWLINE.search(source, pos)
        raw_end = m.start() if m else n
        s, e = pos, raw_end
        while s < e and _is_space(source[s]):
            s += 1
        while e > s and _is_space(source[e - 1]):
            e -= 1
        out.append(_Line(s, e, s - pos, source[s:e]) if s < e else None)
        pos = m.end() if m else n
    return out


def _is_question(text: str) -> bool:
    return text.endswith("?") and len(text) <= 250 and not _BULLET.match(text)


def _is_subheading(text: str) -> bool:
    """A short label line such as "Areas for improvement": no closing punctuation, a few words."""
    return (
        len(text) <= 60
        and len(text.split()) <= 8
        and text[0].isupper()
        and text[-1] not in ".!?:;,"
        and not _BULLET.match(text)
    )


def _items(lines: list[_Line | None]) -> list[_Item]:
    """Group lines into items.

    A file with no blank lines between content (the seed's shape) has one paragraph per line; otherwise
    blank lines separate paragraphs and wrapped lines belong to the paragraph or bullet above them.
    """
    content = [i for i, ln in enumerate(lines) if ln is not None]
    blank_separated = bool(content) and any(lines[i] is None for i in range(content[0], content[-1]))
    items: list[_Item] = []
    current: _Item | None = None
    for line in lines:
        if line is None:
            current = None
            continue
        heading = _MD_HEADING.fullmatch(line.text)
        if heading:
            items.append(_Item("heading", [line], len(heading.group(1)), heading.group(2)))
            current = None
            continue
        bullet = _BULLET.match(line.text)
        if bullet:
            # The marker is not part of the quoted text.
            line = _Line(line.start + bullet.end(), line.end, line.indent, line.text[bullet.end():])
            current = _Item("bullet", [line])
            items.append(current)
        elif current is not None and blank_separated:
            current.lines.append(line)
        else:
            current = _Item("text", [line])
            items.append(current)
        if not blank_separated:
            current = None
    return items


def _title_of(items: list[_Item], document: str) -> tuple[str, list[_Item]]:
    if items:
        first = items[0]
        if first.kind == "heading" and first.level == 1:
            return first.heading, items[1:]
        if first.kind == "text" and first.single and len(first.lines[0].text) <= 120:
            text = first.lines[0].text
            if not text.endswith((".", "?", "!", ":")):
                return text, items[1:]
    return PurePosixPath(document).stem, items


def parse_document(source: str, document: str) -> ParsedDocument:
    """Split a report into citable passages.

    Args:
        source: the file's full text, decoded without newline translation.
        document: the file's name relative to the seeds folder; used in ids and citations.
    """
    items = _items(_split_lines(source))
    title, items = _title_of(items, document)
    force = year = pillar = None
    peel = PEEL_TITLE.match(title)
    if peel:
        force, year = peel.group("force"), int(peel.group("year"))
        nxt = items[0] if items else None
        if nxt is not None and nxt.single and nxt.kind in ("heading", "text"):
            label = nxt.heading if nxt.kind == "heading" else nxt.lines[0].text
            if _is_subheading(label):
                pillar, items = label, items[1:]

    passages: list[Passage] = []
    stack: list[tuple[int, str]] = []
    paragraph = 0

    def push(level: int, label: str) -> None:
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, label))

    def emit(number: int, start: int, end: int, kind: str) -> None:
        passages.append(
            Passage(
                id=f"{document}#p{number}",
                document=document,
                title=title,
                section=tuple(label for _, label in stack),
                paragraph=number,
                start=start,
                end=end,
                text=source[start:end],
                kind=kind,
                pillar=pillar,
                force=force,
                year=year,
            )
        )

    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if item.kind == "heading":
            push(item.level, item.heading)
            continue
        text = item.lines[0].text
        if item.kind == "text" and item.single and _is_question(text):
            push(_QUESTION_LEVEL, text)
            continue
        if item.kind == "text" and item.single and _is_subheading(text):
            push(_SUBHEADING_LEVEL, text)
            continue
        paragraph += 1
        number, end = paragraph, item.end
        if item.kind == "bullet":
            # A bullet ending in ":" owns the bullets after it, and so does one with deeper-indented bullets.
            owns_all = item.lines[-1].text.endswith(":")
            while i < len(items) and items[i].kind == "bullet":
                if not (owns_all or items[i].lines[0].indent > item.lines[0].indent):
                    break
                end = items[i].end
                paragraph += 1
                i += 1
        emit(number, item.start, end, "bullet" if item.kind == "bullet" else "paragraph")
    return ParsedDocument(title, force, year, pillar, passages)
