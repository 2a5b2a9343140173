"""One loader per report format, each returning the report's text (and, for a PDF, where each character sits).

    .txt .md          the file itself: quotes are spans of the file
    .pdf              the text layer, structure recovered (indexer/formats/pdf.py); quotes are spans of it
    .html .htm        the page's main content (trafilatura), headings, lists and tables kept
    .docx             paragraphs, heading styles, lists and tables (python-docx)

A file is read as what its bytes are, not what its name says: a Word document named .pdf is named as such.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..limits import LIMITS
from ..sources import SUFFIXES, SourceError, decode_text, read_bytes

__all__ = ["SUFFIXES", "Loaded", "char_ranges", "load", "pages_of", "sniff"]
_NAMES = {"pdf": "a PDF", "docx": "a Word document", "zip": "a zip archive", "html": "a web page", "text": "text",
          "binary": "a binary file"}


@dataclass
class Loaded:
    """A report as peelqa reads it. `text` is what passages quote; for a .txt or .md it is the file itself."""

    text: str
    digest: str  # SHA-256 of the file's bytes
    kind: str  # "text", "pdf", "html" or "docx"
    runs: np.ndarray | None = None  # PDF: rows of (text start, text end, page index, PDFium char index)
    page_labels: list[str] | None = None  # PDF: the printed page label of each page
    hints: dict = field(default_factory=dict)  # metadata the format carries (an HTML page's title and date)


def sniff(data: bytes) -> str:
    """What the bytes are: "pdf", "docx", "zip", "html", "text" or "binary"."""
    head = data[:1024].lstrip()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return "zip"
        return "docx" if "word/document.xml" in names else "zip"
    if head.lower().startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<body" in data[:4096].lower():
        return "html"
    return "binary" if b"\x00" in data[:4096] else "text"


def load(path: Path, data: bytes | None = None) -> Loaded:
    """Read a report file within the limits (`data`: its bytes, if already read); SourceError says why one
    cannot be indexed."""
    path = Path(path)
    suffix = path.suffix.lower()
    data = read_bytes(path) if data is None else data
    digest = hashlib.sha256(data).hexdigest()
    if not data:
        raise SourceError("empty file")
    kind = sniff(data)
    expected = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html"}.get(suffix, "text")
    if expected == "text" and kind in ("binary", "html"):
        kind = "text"  # decoding says exactly what is wrong with a binary "text" file; HTML in a .md is text
    if kind != expected:
        fix = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "text": ".txt"}.get(kind)
        raise SourceError(f"named {suffix} but it is {_NAMES[kind]}" + (f"; rename it to {fix}" if fix else ""))
    if kind == "pdf":
        from .pdf import PdfError, extract

        try:
            pdf = extract(data, LIMITS.report_chars)
        except PdfError as exc:
            raise SourceError(str(exc)) from None
        _check_length(pdf.text)
        return Loaded(pdf.text, digest, "pdf", pdf.runs, pdf.page_labels, {"title": pdf.title})
    if kind == "html":
        from .web import html_text

        text, hints = html_text(decode_text(data))
        return Loaded(_check_length(text), digest, "html", hints=hints)
    if kind == "docx":
        from .word import docx_text

        return Loaded(_check_length(docx_text(data)), digest, "docx")
    return Loaded(decode_text(data), digest, "text")


def _check_length(text: str) -> str:
    if not text.strip():
        raise SourceError("no text to index")
    if len(text) > LIMITS.report_chars:
        raise SourceError(f"has {len(text):,} characters; the limit is {LIMITS.report_chars:,} a report")
    return text


def pages_of(runs: np.ndarray, start: int, end: int) -> list[int]:
    """The page indexes the text span [start, end) lies on, in order."""
    if runs is None or not len(runs):
        return []
    hit = runs[(runs[:, 0] < end) & (runs[:, 1] > start)]
    return sorted(set(int(p) for p in hit[:, 2]))


def char_ranges(runs: np.ndarray, start: int, end: int) -> list[tuple[int, int, int]]:
    """(page, first PDFium character, count) for each stretch of the text span [start, end) on its page."""
    out = []
    for a, b, page, char in runs[(runs[:, 0] < end) & (runs[:, 1] > start)]:
        lo, hi = max(int(a), start), min(int(b), end)
        out.append((int(page), int(char) + lo - int(a), hi - lo))
    return out


def page_view(data, seeds_dir: Path, document: str, start: int, end: int, page: int | None = None) -> dict | None:
    """For a PDF in the index `data`: a page (the first the text span [start, end) is on, or `page`) as a PNG with
    the span's characters highlighted; None for other formats. {"png", "page" (index), "label", "pages"}."""
    from ..errors import BadInputError, NotFoundError
    from ..model import sha256_file
    from .pdf import PdfError, render

    entry = next((d for d in data.manifest.get("documents", []) if d["file"] == document), None)
    if entry is None:
        raise NotFoundError(f"{document} is not in the index")
    if entry.get("kind") != "pdf":
        return None
    _, runs = data.text_of(entry)
    ranges = char_ranges(runs, start, end)
    labels = entry.get("page_labels") or []
    page = page if page is not None else (ranges[0][0] if ranges else 0)
    seeds = Path(seeds_dir).resolve()
    path = (seeds / document).resolve()
    if seeds not in path.parents or not path.is_file():
        raise NotFoundError(f"{document} is no longer in the seeds folder; rebuild the index")
    if sha256_file(path) != entry["sha256"]:
        raise NotFoundError(f"{document} changed after it was indexed; rebuild the index to see its pages")
    try:
        image = render(path, page, [(c, n) for pg, c, n in ranges if pg == page])
    except PdfError as exc:
        raise BadInputError(str(exc)) from None
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return {"png": buffer.getvalue(), "page": page, "label": labels[page] if page < len(labels) else str(page + 1),
            "pages": len(labels)}
