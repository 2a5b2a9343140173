"""Documents → passages. Pure functions over a source string; no I/O, no model.

A passage is a paragraph or a list (a lead-in ending in ":" with its bullets), quoted as the exact span of the
source. Web-page boilerplate (navigation, cookie banners, "Read more", "Last updated", share lines) is neither
a heading nor a passage; a grade standing alone on its line ("Good") opens the paragraph after it; fragments
too short to quote usefully join a neighbour in the same section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from .limits import LIMITS
from .passage import Passage
from .text import clip

_NEWLINE = re.compile(r"\r\n|\r|\n")
_MD_HEADING = re.compile(r"(#{1,6})\s+(.*?)(?:\s+#+)?$")
_BULLET = re.compile(r"(?:[-*•–▪◦·]|\d{1,2}[.)])\s+")
_INVISIBLE = "\ufeff\u200b"
# Levels on one stack: markdown headings are 1-6, report question headings and sub-headings sit below them.
_QUESTION_LEVEL = 10
_SUBHEADING_LEVEL = 11
# Shorter passages ("Good.", "Read the report") answer nothing alone: measured on our web-page fixtures, every
# passage under 60 characters was a label, a link or a grade word.
MIN_PASSAGE_CHARS = 60
HEAD_LINE_CHARS = 5_000
HEAD_LINES = 15  # lines kept for metadata detection ("Published on: ...", "Police forces: ...")
GRADES = ("outstanding", "good", "adequate", "requires improvement", "inadequate", "not graded")
_CAPTION = re.compile(r"(?:table|figure|chart)\s+\d+\b", re.IGNORECASE)
_GRADE_LINE = re.compile(rf"(?:grade:?\s*)?(?:{'|'.join(GRADES)})\.?", re.IGNORECASE)
_PILLAR_LINE = re.compile(r"(?:police\s+)?(?:effectiveness|efficiency|legitimacy|leadership)", re.IGNORECASE)
# Lines a saved web page carries that are not the report: matched against a whole line of under 200 characters.
_BOILERPLATE = re.compile(
    r"skip\s+to\s+(?:main\s+)?content"
    r"|.*\bcookies?\b.*\b(?:accept|reject|settings|we\s+use|this\s+(?:site|website)|more\s+information)\b.*"
    r"|(?:home|you\s+are\s+here)\s*(?:>|›|»|/|:)\s*.*"
    r"|(?:last\s+)?updated\s*:?\s*.*\d{4}\s*|published(?:\s+on)?\s*:?\s*.*\d{4}\s*"
    r"|read\s+(?:more|the\s+(?:full\s+)?(?:report|national\s+press\s+release|press\s+release|summary))\b.*"
    r"|(?:share|print|email|download)(?:\s+(?:this\s+page|on\s+\w+|by\s+email|the\s+report|report|pdf))?\s*(?:[:|].*)?"
    r"|back\s+to\s+top|print\s+this\s+page|(?:publication|report)\s+types?\s*:.*|police\s+forces?\s*:.*"
    r"|(?:related\s+(?:links|content|publications|reports)|in\s+this\s+section|on\s+this\s+page)\s*:?"
    r"|(?:follow|connect\s+with)\s+us\b.*|(?:©|copyright\b|crown\s+copyright\b).*"
    r"|(?:contact(?:\s+us)?|accessibility|privacy(?:\s+notice|\s+policy)?|terms(?:\s+and\s+conditions)?|sitemap"
    r"|cookies?(?:\s+policy)?|feedback|freedom\s+of\s+information)(?:\s*\|\s*.*)?"
    r"|(?:facebook|twitter|x|linkedin|email)(?:\s*\|\s*(?:facebook|twitter|x|linkedin|email))+",
    re.IGNORECASE)


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    passages: list[Passage]
    head: tuple[str, ...] = ()  # the first lines, boilerplate included, for metadata detection


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

    @property
    def text(self) -> str:
        return self.lines[0].text


@dataclass
class _Block:
    """A passage before it becomes one: a span of the source and where it sits."""

    number: int
    start: int
    end: int
    kind: str
    section: tuple[str, ...]


def _is_space(ch: str) -> bool:
    return ch.isspace() or ch in _INVISIBLE


def _split_lines(source: str, offset: int = 0) -> list[_Line | None]:
    """Lines with trimmed content offsets; None marks a blank line."""
    out: list[_Line | None] = []
    pos, n = offset, len(source)
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


def is_boilerplate(text: str) -> bool:
    """A web page's navigation, banner, date or share line rather than report text."""
    text = text.strip().lstrip("#").strip()
    return len(text) < 200 and bool(_BOILERPLATE.fullmatch(text))


def _is_question(text: str) -> bool:
    return text.endswith("?") and len(text) <= 250 and not _BULLET.match(text)


def _is_grade(text: str) -> bool:
    return bool(_GRADE_LINE.fullmatch(text.strip()))


def _is_row(item: _Item) -> bool:
    """A table row, as the format loaders write one (cells joined by " | ") or as markdown does."""
    return item.kind == "text" and all(" | " in ln.text or ln.text.startswith("|") for ln in item.lines)


def _is_subheading(text: str) -> bool:
    """A short label line such as "Areas for improvement": no closing punctuation, a few words."""
    return (
        len(text) <= 60
        and len(text.split()) <= 8
        and text[0].isupper()
        and text[-1] not in ".!?:;,"
        and not _BULLET.match(text)
        and not _is_grade(text)
    )


def _items(lines: list[_Line | None]) -> list[_Item]:
    """Group lines into items, dropping boilerplate lines.

    A file with no blank lines between content (the seed's shape) has one paragraph per line; otherwise
    blank lines separate paragraphs and wrapped lines belong to the paragraph or bullet above them.
    """
    content = [i for i, ln in enumerate(lines) if ln is not None]
    blank_separated = bool(content) and any(lines[i] is None for i in range(content[0], content[-1]))
    items: list[_Item] = []
    current: _Item | None = None
    for line in lines:
        if line is None or is_boilerplate(line.text):
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
        elif current is not None and blank_separated and not _is_grade(line.text) \
                and not (current.kind == "text" and _is_grade(current.text) and current.single):
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
            return clip(first.heading, LIMITS.title_chars), items[1:]
        if first.kind == "text" and first.single and len(first.text) <= 120:
            if not first.text.endswith((".", "?", "!", ":")) and not _PILLAR_LINE.fullmatch(first.text):
                return first.text, items[1:]
    return clip(PurePosixPath(document).stem, LIMITS.title_chars), items


def _head(lines: list[_Line | None]) -> tuple[str, ...]:
    # Cut only for memory: "Police forces: A, B, ..." lists every force a national document covers (48 names
    # take ~1,100 characters), which metadata detection reads.
    return tuple(ln.text[:HEAD_LINE_CHARS] for ln in lines if ln is not None)[:HEAD_LINES]


def first_lines(source: str, body_start: int = 0) -> tuple[str, ...]:
    """The `head` parsing `source` gives, alone (a rebuild whose stored first lines were lost)."""
    return _head(_split_lines(source, body_start))


def parse_document(source: str, document: str, body_start: int = 0) -> ParsedDocument:
    """Split a report into citable passages.

    Args:
        source: the file's full text, decoded without newline translation.
        document: the file's name relative to the seeds folder; used in ids and citations.
        body_start: where the report starts (after front matter); offsets still index `source`.
    """
    lines = _split_lines(source, body_start)
    items = _items(lines)
    title, items = _title_of(items, document)
    blocks = _merge_fragments(_blocks(items, title))
    passages = [
        Passage(id=f"{document}#p{b.number}", document=document, title=title, section=b.section,
                paragraph=b.number, start=b.start, end=b.end, text=source[b.start:b.end], kind=b.kind)
        for b in blocks
    ]
    return ParsedDocument(title, passages, _head(lines))


def _blocks(items: list[_Item], title: str) -> list[_Block]:
    stack: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    paragraph = 0
    repeats = {title.casefold()}

    def push(level: int, label: str) -> None:
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, clip(label, LIMITS.title_chars)))

    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        text = item.heading if item.kind == "heading" else item.text
        # The title repeated, or the pillar ("Effectiveness"), is what the report is, not a section of it.
        if (item.kind == "heading" or (item.kind == "text" and item.single)) and (
                text.casefold() in repeats or _PILLAR_LINE.fullmatch(text)):
            continue
        if item.kind == "heading":
            push(item.level, item.heading)
            continue
        if _is_row(item) or (_CAPTION.match(text) and i < len(items) and _is_row(items[i])):
            # A table (with the caption above it): one passage, its rows kept apart by line breaks.
            paragraph += 1
            start, end = item.start, item.end
            while i < len(items) and _is_row(items[i]):
                end = items[i].end
                i += 1
            blocks.append(_Block(paragraph, start, end, "table", tuple(label for _, label in stack)))
            continue
        if item.kind == "text" and item.single and _is_question(text):
            push(_QUESTION_LEVEL, text)
            continue
        if item.kind == "text" and item.single and _is_subheading(text):
            push(_SUBHEADING_LEVEL, text)
            continue
        paragraph += 1
        number, start, end, kind = paragraph, item.start, item.end, "bullet" if item.kind == "bullet" else "paragraph"
        if item.kind == "text" and item.single and _is_grade(text) and i < len(items) and items[i].kind == "text":
            end = items[i].end  # "Good" alone on its line opens the paragraph it grades
            i += 1
        lead_in = item.kind == "text" and item.lines[-1].text.endswith(":")
        owns_all = lead_in or (item.kind == "bullet" and item.lines[-1].text.endswith(":"))
        if item.kind == "bullet" or lead_in:
            # A lead-in or bullet ending in ":" owns the bullets after it; so does a bullet with deeper ones.
            while i < len(items) and items[i].kind == "bullet":
                if not (owns_all or items[i].lines[0].indent > item.lines[0].indent):
                    break
                end = items[i].end
                paragraph += 1
                i += 1
            if lead_in and end != item.end:
                kind = "list"
        blocks.append(_Block(number, start, end, kind, tuple(label for _, label in stack)))
    return blocks


def _merge_fragments(blocks: list[_Block]) -> list[_Block]:
    """Join each passage shorter than MIN_PASSAGE_CHARS to the next one in its section (else the previous)."""
    out: list[_Block] = []
    i = 0
    while i < len(blocks):
        b = blocks[i]
        short = b.end - b.start < MIN_PASSAGE_CHARS
        if short and i + 1 < len(blocks) and blocks[i + 1].section == b.section:
            nxt = blocks[i + 1]
            blocks[i + 1] = _Block(b.number, b.start, nxt.end, nxt.kind if b.kind == "paragraph" else b.kind,
                                   b.section)
        elif short and out and out[-1].section == b.section:
            out[-1] = _Block(out[-1].number, out[-1].start, b.end, out[-1].kind, b.section)
        else:
            out.append(b)
        i += 1
    return out
