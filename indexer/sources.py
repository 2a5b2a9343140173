"""Report files: which ones a build reads, and reading one safely within the limits.

Only regular files inside the seeds folder are read. A symbolic link is followed only to a file inside
the seeds folder too; a link elsewhere, a broken link, a link to a folder, a device or pipe is named and
skipped, never read (a link to /etc/passwd once put its lines into answers).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import BadInputError
from .limits import LIMITS, too_big

SUFFIXES = (".txt", ".md", ".pdf", ".html", ".htm", ".docx")  # each has a loader in indexer/formats
# Text is not binary: NUL never occurs in a report, and a few other C0 controls at most (form feeds).
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r", "\f", "\v"}
_CONTROL_SHARE = 0.01


class SourceError(BadInputError):
    """A report file that cannot be indexed; the message says why (the build names it and goes on)."""


@dataclass(frozen=True)
class SourceFile:
    rel: str  # path under the seeds folder, with "/": the document's name in the index
    path: Path  # what to open (a link inside the seeds folder is opened at its target)


def discover(seeds_dir: Path) -> tuple[list[SourceFile], dict[str, str]]:
    """Report files under `seeds_dir` in a stable order, and {name: reason} for those not taken.

    Hidden files and folders are ignored; files of other kinds are not reports and are not mentioned.
    """
    seeds_dir = Path(seeds_dir)
    root = seeds_dir.resolve()
    found, skipped = [], {}
    for dirpath, dirnames, filenames in os.walk(seeds_dir, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for d in dirnames:
            if (here / d).is_symlink():
                skipped[(here / d).relative_to(seeds_dir).as_posix() + "/"] = "a link to a folder; not followed"
        for name in sorted(filenames):
            path = here / name
            if name.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue
            rel = path.relative_to(seeds_dir).as_posix()
            target, reason = _target(path, root)
            if reason:
                skipped[rel] = reason
            else:
                found.append(SourceFile(rel, target))
    return _once(sorted(found, key=lambda s: s.rel), seeds_dir, skipped), skipped


def _once(found: list[SourceFile], seeds_dir: Path, skipped: dict[str, str]) -> list[SourceFile]:
    """Each file once: a link to a report that is itself in the folder would quote it twice in every answer."""
    by_target: dict[Path, str] = {}
    for source in sorted(found, key=lambda s: ((seeds_dir / s.rel).is_symlink(), s.rel)):  # real files first
        by_target.setdefault(source.path.resolve(), source.rel)
    kept = []
    for source in found:
        first = by_target[source.path.resolve()]
        if first == source.rel:
            kept.append(source)
        else:
            skipped[source.rel] = f"a link to {first}, which is indexed already; not indexed twice"
    return kept


def _target(path: Path, root: Path) -> tuple[Path, str | None]:
    if path.is_symlink():
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return path, "a broken symbolic link"
        if root not in real.parents:
            return path, "a symbolic link to a file outside the seeds folder; not followed"
        path = real
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return path, f"cannot read: {exc.strerror or exc}"
    if not stat.S_ISREG(mode):
        return path, "not a regular file"
    return path, None


def read_sidecar(path: Path, seeds_dir: Path) -> bytes | None:
    """A metadata file's bytes (`<file>.meta.json`, `reports.csv`), None when there is none; SourceError when
    it is there but may not be read: the same rule as reports (no link out of the seeds folder), within
    `LIMITS.sidecar_bytes`."""
    if not path.is_symlink() and not path.exists():
        return None
    target, reason = _target(path, Path(seeds_dir).resolve())
    if reason:
        raise SourceError(reason)
    return read_bytes(target, LIMITS.sidecar_bytes)


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes, never following a link at the last step and never more than `limit`."""
    limit = limit if limit is not None else LIMITS.file_bytes.get(path.suffix.lower(), min(LIMITS.file_bytes.values()))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SourceError("not a regular file")
        if info.st_size > limit:
            raise SourceError(too_big("the file", info.st_size, limit))
        data = f.read(limit + 1)
    if len(data) > limit:
        raise SourceError(too_big("the file", len(data), limit))
    return data


def decode_text(data: bytes) -> str:
    """UTF-8 text, or SourceError naming the first bad byte; binary and oversized text are refused."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") from None
    if "\x00" in text:
        raise SourceError("not a text file (it contains NUL bytes)")
    if text and sum(text.count(c) for c in _CONTROL) > _CONTROL_SHARE * len(text):
        raise SourceError("not a text file (too many control characters)")
    if len(text) > LIMITS.report_chars:
        raise SourceError(f"has {len(text):,} characters; the limit is {LIMITS.report_chars:,} a report")
    return text


def read_source(path: Path) -> tuple[str, str]:
    """A text report's decoded text (newlines untouched, so offsets match the file) and its bytes' SHA-256."""
    data = read_bytes(Path(path))
    return decode_text(data), hashlib.sha256(data).hexdigest()
