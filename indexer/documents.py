"""Reading a seeds folder: each report loaded (any format), parsed into passages, its metadata resolved across
the whole corpus, PDF passages given their pages; a report held twice (its PDF and its web page) kept once."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from .errors import IndexCorruptError
from .formats import Loaded, load, pages_of
from .limits import LIMITS
from .metadata import explicit_fields, front_matter, read_sidecars
from .parse import first_lines, parse_document
from .passage import Passage
from .reports import DocumentInfo, label_passages, resolve_reports
from .sentences import split_long
from .sources import SourceError, read_bytes
from .text import clip

Progress = Callable[[int, int, str], None]
# A web page or Word copy of a report that shares this share of its sentences with a PDF of the same force,
# year and pillar is the same report, cited from the PDF.
SAME_REPORT_SHARE = 0.6


@dataclasses.dataclass
class Read:
    """One readable report: its manifest entry, passages, stored text, and rows reused from the old index."""

    entry: dict
    passages: list[Passage]
    text: str
    runs: object = None  # PDF page map (numpy array), else None
    rows: list[int] | None = None
    vectors: object = None  # passage vectors, once embedded (or reused)
    sentence_vectors: object = None


def text_name(digest: str) -> str:
    """Where a document's text is stored inside the index."""
    return f"texts/{digest[:16]}.txt"


def read_all(files, seeds_dir: Path, reuse: dict, previous, count_tokens, max_tokens: int,
             skipped: dict[str, str], progress: Progress | None):
    """Every readable report under the seeds folder, and the forces the corpus knows.

    Args:
        files: the discovered SourceFiles.
        reuse: file -> (previous manifest entry, its passage rows), for files that may be unchanged.
        previous: the previous IndexData (for reused passages and texts) or None.
        count_tokens, max_tokens: the model's token counter and window, to split long passages.
        skipped: filled with {file: reason} for files that cannot be indexed.
    """
    now = datetime.now(UTC).isoformat(timespec="seconds")
    sidecars = read_sidecars(seeds_dir, [f.rel for f in files], skipped)
    out: list[Read] = []
    for n, source_file in enumerate(files, start=1):
        rel = source_file.rel
        if progress:
            progress(n - 1, len(files), "reading reports")
        try:
            data = read_bytes(source_file.path)
            digest = hashlib.sha256(data).hexdigest()
            old = reuse.get(rel)
            if old and old[0]["sha256"] == digest and previous is not None:
                entry, rows = old
                try:
                    passages = previous.passages.rows(rows) if rows else []
                except IndexCorruptError:  # a record was changed: read and embed the report again
                    passages = None
                if passages is not None:
                    try:
                        text, runs = previous.text_of(entry)
                    except IndexCorruptError:  # its stored text is damaged: the same bytes give the same text
                        loaded = load(source_file.path, data)
                        text, runs = loaded.text, loaded.runs
                    if "head" not in entry:  # its index's heads file was lost or damaged
                        entry = {**entry, "head": list(head_of(text, rel, entry["kind"]))}
                    explicit = explicit_fields(entry.get("front_matter", {}), sidecars.get(rel, {}))
                    out.append(Read({**entry, "explicit": explicit}, passages, text, runs, rows))
                    continue
            loaded = load(source_file.path, data)
        except SourceError as exc:
            skipped[rel] = str(exc)
            continue
        read = _parse(rel, loaded, sidecars.get(rel, {}), count_tokens, max_tokens, now)
        if read is None:
            skipped[rel] = "no text to index"
        else:
            out.append(read)
    if progress:
        progress(len(files), len(files), "reading reports")
    infos = [DocumentInfo(r.entry["file"], r.entry["title"], tuple(r.entry.get("head", ())), r.entry["explicit"])
             for r in out]
    metas, registry = resolve_reports(infos, {r.entry["file"]: r.passages for r in out})
    for r in out:
        r.passages = label_passages(r.passages, metas[r.entry["file"]], registry)
        r.entry.update(metas[r.entry["file"]].to_dict())
    for rel, pdf in _held_twice(out).items():
        skipped[rel] = f"the same report as {pdf} (cited from the PDF)"
    return [r for r in out if r.entry["file"] not in skipped], registry


def _body_start(text: str, rel: str, kind: str) -> tuple[dict, int]:
    """A Markdown report's front matter and where its body starts (none for other kinds)."""
    return front_matter(text) if kind == "text" and rel.lower().endswith(".md") else ({}, 0)


def head_of(text: str, rel: str, kind: str) -> tuple[str, ...]:
    """A report's first lines, as parsing it gives them (`ParsedDocument.head`), without parsing it."""
    return first_lines(text, _body_start(text, rel, kind)[1])


def _parse(rel: str, loaded: Loaded, sidecar: dict, count_tokens, max_tokens: int, now: str) -> Read | None:
    front, body = _body_start(loaded.text, rel, loaded.kind)
    parsed = parse_document(loaded.text, rel, body)
    passages = [piece for p in parsed.passages for piece in split_long(p, count_tokens, max_tokens)]
    if not passages:
        return None
    if loaded.runs is not None:
        passages = [_with_pages(p, loaded) for p in passages]
    hints = {"published": loaded.hints["published"]} if loaded.hints.get("published") else {}
    entry = {
        "file": rel, "sha256": loaded.digest, "kind": loaded.kind, "bytes": len(loaded.text.encode("utf-8")),
        "passages": len(passages), "title": parsed.title, "head": list(parsed.head), "front_matter": _plain(front),
        "explicit": explicit_fields(front, {**hints, **sidecar}), "indexed_at": now, "text": text_name(loaded.digest),
    }
    if loaded.page_labels:
        entry["page_labels"] = loaded.page_labels
    return Read(entry, passages, loaded.text, loaded.runs)


def _with_pages(p: Passage, loaded: Loaded) -> Passage:
    pages = pages_of(loaded.runs, p.start, p.end)
    if not pages:
        return p
    labels = loaded.page_labels or [str(i + 1) for i in range(max(pages) + 1)]
    return dataclasses.replace(p, page=labels[pages[0]], pdf_page=pages[0], pages=tuple(labels[i] for i in pages))


def _plain(fields: dict) -> dict:
    """Front matter as JSON can hold it (YAML gives dates and other types), bounded: it is stored in the
    manifest, and only a handful of its fields are metadata (100 keys of 100 characters is far past any)."""
    def value(v):
        if isinstance(v, str):
            return clip(v, LIMITS.url_chars)
        return v if isinstance(v, (int, float, bool)) or v is None else str(v)[:LIMITS.url_chars]

    return {clip(str(k), 100): value(v) for k, v in list(fields.items())[:100]}


def _sentences(text: str) -> set[str]:
    return {" ".join(s.lower().split()) for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 40}


def _held_twice(reads: list[Read]) -> dict[str, str]:
    """{file: the PDF it copies} for web pages and Word files that are a PDF's report again."""
    pdfs = [r for r in reads if r.entry.get("kind") == "pdf"]
    out = {}
    for r in reads:
        if r.entry.get("kind") == "pdf" or not pdfs:
            continue
        mine = _sentences(r.text)
        for pdf in pdfs:
            same = all(pdf.entry.get(k) == r.entry.get(k) for k in ("force", "year")) and (
                None in (pdf.entry.get("pillar"), r.entry.get("pillar")) or pdf.entry["pillar"] == r.entry["pillar"])
            if not same or not mine:
                continue
            if len(mine & _sentences(pdf.text)) >= SAME_REPORT_SHARE * len(mine):
                out[r.entry["file"]] = pdf.entry["file"]
                break
    return out
