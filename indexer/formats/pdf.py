"""PDF reports → text with its structure, and a map from each character back to its page and PDF character.

pypdfium2 (PDFium: fast, permissive licence) gives each page's text layer with font sizes, font names and
character boxes. From them: running headers, footers and page numbers (lines repeated at the same place on
many pages) are dropped; headings are recovered from font size and weight; lines wrapped inside a paragraph
are joined with one space, and a word hyphenated across lines is joined only when the joined word is a word
("inves-tigation"; "well-being" keeps its hyphen); two-column pages are read column by column; a paragraph
cut by a page break is one paragraph; table rows keep their cells apart (" | "); bullets keep their marker.

The output is text the report parser reads (headings as "# ", blocks separated by blank lines), and `runs`:
rows of (text start, text end, PDF page index, first PDFium character index) for every stretch copied from the
text layer, so any quote can be located on its page and highlighted there.
"""

from __future__ import annotations

import ctypes
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .words import is_word

_BULLET = re.compile(r"^(?:[•▪◦●‣–-]|\d{1,2}[.)])\s")
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:of|/)\s*\d{1,4})?\s*$", re.IGNORECASE)
_END = ".!?:;\"”’)"
_CONTENTS = re.compile(r"^(?:table\s+of\s+)?contents$", re.IGNORECASE)
MARGIN = 0.09  # top and bottom share of a page where running headers and footers sit
REPEAT_SHARE = 0.4  # a line repeated (digits aside) on this share of pages is a header or footer
CELL_GAP = 14.0  # points of white space inside a line that separate table cells
LEADING = 1.65  # baseline-to-baseline distance, in font sizes, past which a line starts a new paragraph


class PdfError(Exception):
    """The file cannot be read as a PDF report; the message says why."""


@dataclass
class Line:
    page: int
    start: int  # PDFium character index of its first character on the page
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    baseline: float = 0.0  # of its first character
    last_baseline: float = 0.0  # of its last (PDFium joins a line ending in a hyphenated word to the next)
    cells: list[tuple[int, int]] = field(default_factory=list)  # (start, end) within text, for a table row

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 1.0)


@dataclass
class Extracted:
    text: str
    runs: np.ndarray  # (n, 4) int64: text start, text end, PDF page index, PDFium character index
    page_labels: list[str]
    title: str | None
    pages: int


def extract(source, limit_chars: int | None = None) -> Extracted:
    """The report's text, its page map, its printed page labels and its title (its first heading).

    Args:
        source: the PDF's bytes, or its path.
        limit_chars: stop adding text past this many characters (the caller refuses the report then).
    """
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise PdfError("encrypted (password-protected); open it and save an unprotected copy") from None
        raise PdfError(f"not a readable PDF ({message.rstrip('.').lower()})") from None
    try:
        labels = [pdf.get_page_label(i) or str(i + 1) for i in range(len(pdf))]
        pages = []
        size = None
        for i in range(len(pdf)):
            page = pdf[i]
            size = page.get_size()
            pages.append(_lines(page, i))
            page.close()
        if not any(pages):
            raise PdfError("no text layer (a scanned or image-only PDF); OCR is not supported")
        body = _body_size(pages)
        pages = _drop_running_lines(pages, size[1] if size else 842.0)
        text, runs, title = _assemble(pages, body, size[0] if size else 595.0, limit_chars)
        return Extracted(text, runs, labels, title, len(labels))
    finally:
        pdf.close()


def _font(textpage, index: int) -> tuple[float, bool]:
    import pypdfium2.raw as raw

    size = float(raw.FPDFText_GetFontSize(textpage, index))
    buf = ctypes.create_string_buffer(96)
    flags = ctypes.c_int()
    raw.FPDFText_GetFontInfo(textpage, index, buf, 96, ctypes.byref(flags))
    name = buf.value.decode("latin-1").lower()
    weight = raw.FPDFText_GetFontWeight(textpage, index)
    return size, "bold" in name or "black" in name or "heavy" in name or weight >= 600


def _lines(page, number: int) -> list[Line]:
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        out = []
        for m in re.finditer(r"[^\r\n]+", text):
            raw_line = m.group(0)
            lead = len(raw_line) - len(raw_line.lstrip())
            body = raw_line.strip()
            if not body:
                continue
            first, last = m.start() + lead, m.start() + lead + len(body) - 1
            x0, b0, _, t0 = textpage.get_charbox(first)
            _, b1, x1, t1 = textpage.get_charbox(last)
            size, bold = _font(textpage, first)
            line = Line(number, first, body, x0, x1, max(t0, t1), min(b0, b1), size, bold, _baseline(textpage, first),
                        _baseline(textpage, last))
            if textpage.count_rects(first, len(body)) > 1:
                line.cells = _cells(textpage, first, body)
            out.append(line)
        return out
    finally:
        textpage.close()


def _baseline(textpage, index: int) -> float:
    import pypdfium2.raw as raw

    x, y = ctypes.c_double(), ctypes.c_double()
    raw.FPDFText_GetCharOrigin(textpage, index, ctypes.byref(x), ctypes.byref(y))
    return y.value


def _cells(textpage, first: int, body: str) -> list[tuple[int, int]]:
    """Spans of a line separated by wide white space: the cells of a table row ([] if it is ordinary text)."""
    cuts, previous = [], None
    for k, ch in enumerate(body):
        if ch.isspace():
            continue
        left, _, right, _ = textpage.get_charbox(first + k)
        if previous is not None and left - previous[1] > CELL_GAP:
            cuts.append((previous[0] + 1, k))
        previous = (k, right)
    if not cuts:
        return []
    spans, start = [], 0
    for end, nxt in cuts:
        spans.append((start, end))
        start = nxt
    spans.append((start, len(body)))
    return [(a, b) for a, b in ((a, len(body[:b].rstrip())) for a, b in spans) if b > a]


def _body_size(pages: list[list[Line]]) -> float:
    """The font size most of the text is set in."""
    counts: Counter = Counter()
    for lines in pages:
        for line in lines:
            counts[round(line.size * 2) / 2] += len(line.text)
    return counts.most_common(1)[0][0] if counts else 10.0


def _drop_running_lines(pages: list[list[Line]], height: float) -> list[list[Line]]:
    """Without running headers, footers and page numbers: lines in the top or bottom margin that recur (digits
    aside) on many pages, and bare page numbers there."""
    def in_margin(line: Line) -> bool:
        return line.top > height * (1 - MARGIN) or line.bottom < height * MARGIN

    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", " ".join(line.text.split()).lower())

    with_text = sum(1 for lines in pages if lines)
    seen: Counter = Counter()
    for lines in pages:
        seen.update({key(line) for line in lines if in_margin(line)})
    repeated = {k for k, n in seen.items() if n >= max(2, REPEAT_SHARE * with_text)}
    return [[line for line in lines if not (in_margin(line) and (key(line) in repeated
                                                                 or _PAGE_NUMBER.match(line.text)))]
            for lines in pages]


def _reading_order(lines: list[Line], width: float) -> list[Line]:
    """Column by column on a two-column page (most lines end before, or start after, the middle)."""
    mid = width / 2
    left = [ln for ln in lines if ln.x1 < mid + 5]
    right = [ln for ln in lines if ln.x0 > mid - 5]
    if len(lines) >= 6 and len(left) >= 0.3 * len(lines) and len(right) >= 0.3 * len(lines):
        return sorted(lines, key=lambda ln: (ln.x0 > mid - 5, -ln.top))
    return lines


class _Writer:
    """Builds the output text and its runs."""

    def __init__(self, words: set[str], compounds: set[str]):
        self.parts: list[str] = []
        self.length = 0
        self.runs: list[tuple[int, int, int, int]] = []
        self.words, self.compounds = words, compounds  # the document's words, and its hyphenated ones

    def put(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def copy(self, line: Line, a: int, b: int) -> None:
        """Copy line.text[a:b] (a stretch of the text layer), with its run; U+FFFE, where PDFium joined a word
        hyphenated across lines, becomes "-" or nothing (see `_dehyphen`)."""
        piece = line.text[a:b]
        cursor = 0
        for m in re.finditer("\ufffe", piece):
            self._run(line, a + cursor, a + m.start())
            self.put(piece[cursor:m.start()])
            if _keep_hyphen(piece, m.start(), self.words, self.compounds):
                self._run(line, a + m.start(), a + m.start() + 1)
                self.put("-")
            cursor = m.end()
        self._run(line, a + cursor, b)
        self.put(piece[cursor:])

    def _run(self, line: Line, a: int, b: int) -> None:
        if b > a:
            self.runs.append((self.length, self.length + b - a, line.page, line.start + a))

    def text(self) -> str:
        return "".join(self.parts)


def _keep_hyphen(text: str, at: int, words: set[str], compounds: set[str]) -> bool:
    """At a hyphen PDFium removed between lines: keep it unless the two halves make one word (and the
    document does not write them hyphenated elsewhere)."""
    before = re.search(r"[A-Za-z]+$", text[:at])
    after = re.match(r"[A-Za-z]+", text[at + 1:])
    if not (before and after):
        return True
    a, b = before.group(0).lower(), after.group(0).lower()
    return f"{a}-{b}" in compounds or not is_word(a + b, words)


def _assemble(pages: list[list[Line]], body: float, width: float, limit: int | None):
    heading_sizes = sorted({round(ln.size * 2) / 2 for lines in pages for ln in lines if ln.size >= body + 1.0},
                           reverse=True)
    levels = {s: i + 1 for i, s in enumerate(heading_sizes)}
    every = " ".join(ln.text for lines in pages for ln in lines).lower()
    out = _Writer(set(re.findall(r"[a-z]+", every)), set(re.findall(r"[a-z]+-[a-z]+", every)))
    title = None
    block = None  # the open block: "p" (paragraph), "b" (bullet), "h" (heading), "t" (table row)
    last: Line | None = None
    in_contents = False

    def close() -> None:
        nonlocal block
        if block is not None:
            out.put("\n\n")
        block = None

    for lines in pages:
        for line in _reading_order(lines, width):
            size = round(line.size * 2) / 2
            level = levels.get(size) or (len(levels) + 1 if line.bold and size >= body and len(line.text) < 90
                                         and line.text[-1] not in ".,;" and not line.cells else None)
            if level:
                same = block == "h" and last is not None and round(last.size * 2) / 2 == size \
                    and last.page == line.page and last.top - line.top < 2.5 * line.height
                if same:
                    out.put(" ")
                else:
                    close()
                    in_contents = bool(_CONTENTS.match(line.text))
                    if in_contents:
                        last = line
                        continue
                    out.put("#" * min(level, 6) + " ")
                    block = "h"
                    title = title or line.text
                out.copy(line, 0, len(line.text))
                last = line
                continue
            if in_contents:
                last = line
                continue
            if line.cells:
                close()
                for k, (a, b) in enumerate(line.cells):
                    if k:
                        out.put(" | ")
                    out.copy(line, a, b)
                block = "t"
                last = line
                continue
            if _BULLET.match(line.text):
                close()
                out.copy(line, 0, len(line.text))
                block = "b"
            elif block in ("p", "b") and _continues(last, line, block, body):
                out.put(" ")
                out.copy(line, 0, len(line.text))
            else:
                close()
                out.copy(line, 0, len(line.text))
                block = "p"
            last = line
            if limit and out.length > limit:
                break
    close()
    runs = np.array(out.runs, dtype=np.int64).reshape(-1, 4)
    return out.text().rstrip() + "\n", runs, title


def _continues(last: Line | None, line: Line, block: str, body: float) -> bool:
    """Whether `line` goes on with the paragraph or bullet `last` ended."""
    if last is None or abs(line.size - last.size) > 0.6:
        return False
    if line.page != last.page:
        # Over a page break: a paragraph whose last line had no closing punctuation goes on.
        return block == "p" and last.text[-1] not in _END and line.x0 < last.x0 + 20
    if abs(line.x0 - last.x0) > 150:  # the other column
        return last.top < line.top and last.text[-1] not in _END
    # Lines of a paragraph sit about 1.2-1.4 font sizes apart; a blank line between paragraphs adds more.
    if last.last_baseline - line.baseline > LEADING * max(line.size, last.size):
        return False
    if block == "b":
        return not _BULLET.match(line.text)
    return True


def render(source, page: int, marks: list[tuple[int, int]], scale: float = 1.5):
    """The page as an image (PIL), with the characters `marks` lists ((first PDFium character, count) on that
    page) highlighted; the highlight is drawn from PDFium's own character boxes."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    pdf = pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
    try:
        if not 0 <= page < len(pdf):
            raise PdfError(f"page {page + 1} is outside the document ({len(pdf)} pages)")
        p = pdf[page]
        height = p.get_height()
        image = p.render(scale=scale).to_pil().convert("RGBA")
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        textpage = p.get_textpage()
        for first, count in marks:
            for k in range(textpage.count_rects(first, count)):
                left, bottom, right, top = textpage.get_rect(k)
                draw.rectangle([left * scale - 1, (height - top) * scale - 1, right * scale + 1,
                                (height - bottom) * scale + 1], fill=(255, 214, 0, 110), outline=(200, 140, 0, 255))
        textpage.close()
        p.close()
        return Image.alpha_composite(image, layer).convert("RGB")
    finally:
        pdf.close()
