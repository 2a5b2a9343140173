"""What the chat UI needs beyond answers: the live index, rebuilds that swap it atomically, uploads."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from indexer.build import BuildSummary, build_index, default_seeds_dir
from indexer.errors import (
    BadInputError,
    BusyError,
    IndexCorruptError,
    IndexModelMismatchError,
    IndexNotFoundError,
    NotFoundError,
    PeelqaError,
)
from indexer.formats import load, page_view
from indexer.limits import LIMITS, too_big
from indexer.model import sha256_file as file_sha256
from indexer.passage import Passage
from indexer.sources import SUFFIXES, SourceError
from indexer.store import (
    MANIFEST,
    REPAIR,
    building,
    damaged_files,
    default_index_dir,
    file_stamp,
    indexed_bytes,
    swapped,
)

from .answer import Answer
from .export import Row as ExportRow
from .export import Turn
from .filters import Filter
from .qa import QA, check_context, check_question, check_text
from .render import copy_text, is_follow_up
from .search import Searcher
from .sourceview import Block

log = logging.getLogger("peelqa")


def safe_file_name(name: str) -> str:
    """A plain file name for an uploaded report: no folders, no leading dots, only [A-Za-z0-9._-]."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInputError(f"{base!r} is not a {' or '.join(SUFFIXES)} report")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_") or "report"
    return f"{stem[:80]}{suffix}"


# What the filters and the Grades tab offer while there is no index.
NOTHING_INDEXED = {"filters": {key: [] for key in ("title", "force", "year", "pillar", "section")},
                   "grades": ([], [], [])}


class ChatService:
    """One live QA, replaced whole after a rebuild; questions never see a half-built index.

    With `build_if_missing=False` it may start with no index (`peelqa serve` on an empty seeds folder): questions
    are then refused with IndexNotFoundError, and the first index that appears (a rebuild, `peelqa index`) is
    loaded by the next request.

    Replicas (several `peelqa serve` sharing one index folder) hold nothing another needs: a thread looks every
    LIMITS.index_check_seconds whether another process swapped a new index in, loads it beside the live one
    (questions are answered from the live one meanwhile) and then switches to it.
    """

    def __init__(self, index_dir: Path | None = None, seeds_dir: Path | None = None, qa: QA | None = None,
                 build_if_missing: bool = True):
        self.index_dir = Path(index_dir) if index_dir else default_index_dir()
        self._load_lock = threading.Lock()  # one load at a time: the first index, a switch, a rebuild's
        self._qa: QA | None = qa
        # The identity of the manifest the live index was loaded from (see _follow). None: not known, for a
        # QA handed in (its manifest is compared once instead).
        self._stamp = None
        self._failed: tuple[tuple | None, float] = (None, 0.0)  # a manifest that failed to load, retry time
        if qa is None:
            self._stamp = self._manifest_stamp()
            try:
                self._qa = QA.open(self.index_dir, build_if_missing=build_if_missing)
            except IndexNotFoundError:
                if build_if_missing:
                    raise
        # The seeds folder: as given, else $PEELQA_SEEDS_DIR, else the one the index was built from, else ./seeds.
        recorded = self.qa.searcher.manifest.get("seeds_dir") if self._qa else None
        if seeds_dir is None and not os.environ.get("PEELQA_SEEDS_DIR") and recorded and Path(recorded).is_dir():
            seeds_dir = recorded
        self.seeds_dir = Path(seeds_dir) if seeds_dir else default_seeds_dir()
        self._rebuild_lock = threading.Lock()
        self.damage: IndexCorruptError | None = None  # found by the background check (verify_in_background)
        self._derived: tuple[QA | None, dict] = (None, {})
        threading.Thread(target=_watch, args=(weakref.ref(self),), name="peelqa-follow", daemon=True).start()

    @property
    def integrity_problem(self) -> str | None:
        """What the background check found damaged, with its fix, in one line; None while nothing is."""
        return str(self.damage) if self.damage else None

    @property
    def qa(self) -> QA:
        """The live index; raises IndexNotFoundError while there is none."""
        qa = self._qa
        if qa is not None:
            return qa
        with self._load_lock:  # one load, however many requests arrive meanwhile
            if self._qa is None:
                try:
                    stamp = self._manifest_stamp()
                    self._qa, self._stamp = QA.open(self.index_dir), stamp
                except IndexNotFoundError:
                    if building(self.index_dir):  # another replica (or `peelqa index`) is making the first one
                        raise IndexNotFoundError(f"the index at {self.index_dir} is being built",
                                                 fix="ask again when the build is complete") from None
                    raise IndexNotFoundError(
                        f"no index at {self.index_dir} yet",
                        fix=f"add reports to {self.seeds_dir} and rebuild (the Index tab, POST /api/rebuild or "
                            "peelqa index)") from None
            return self._qa

    def _shown(self) -> QA | None:
        """The live index for what pages show (tables, filters), or None: an index that cannot be loaded shows
        as none there, and questions say why."""
        try:
            return self.qa
        except PeelqaError:
            return None

    def ask(self, question: str, top_k: int = 5, filters: dict | None = None, previous: str | None = None,
            by_report: bool = False) -> Answer:
        """Answer `question`; a follow-up ("why?", "and what about children?") is read with `previous`.

        The answer's `context` says whether `previous` was used.
        """
        question, previous = check_question(question), check_context(previous)
        if damage := self.damage:  # found by the background check: never quote from a damaged index
            # A new error, its fix apart (the JSON API's `fix`); one object raised by many threads gathers tracebacks.
            raise IndexCorruptError(damage.message, fix=damage.fix)
        qa = self.qa  # one snapshot per question, even if a rebuild swaps in a new index meanwhile
        context = previous if previous and is_follow_up(question) else None
        return qa.ask(question, top_k, Filter.from_choices(filters), context, by_report)

    def rebuild(self, progress=None) -> BuildSummary:
        """Incremental rebuild from the seeds folder, then an atomic switch to the new index."""
        with self._exclusive():
            return self._rebuild(progress)

    @contextmanager
    def _exclusive(self):
        """One rebuild (or removal) at a time; a second is refused at once, never queued."""
        if not self._rebuild_lock.acquire(blocking=False):
            raise BusyError("a rebuild is already running; wait for it to finish")
        try:
            yield
        finally:
            self._rebuild_lock.release()

    def remove_report(self, name: str, progress=None) -> BuildSummary:
        """Delete an indexed report's file from the seeds folder and rebuild without it (refused while a rebuild
        runs, like a rebuild). Only a file the index lists, inside the seeds folder, is ever deleted; a link is
        removed itself, never what it points to. The file is set aside (a hidden name, which builds skip) and
        deleted once the index without it is in place; if the rebuild fails it is put back."""
        name = check_text(name or "", "report name", 1_000)
        with self._exclusive():  # checked under the lock: the index may have changed since the page listed it
            indexed = {d["file"] for d in self.qa.searcher.manifest.get("documents", [])}
            if name not in indexed:
                raise NotFoundError(f"{name!r} is not an indexed report", fix="choose one from the Index tab's list")
            if len(indexed) == 1:  # an index needs a report: the rebuild would fail
                raise BadInputError(f"{name} is the only indexed report", fix="add another report first")
            seeds = self.seeds_dir.resolve()
            path = seeds / name  # the folder resolved, the file not: a link is unlinked, never followed
            if ".." in Path(name).parts or path.parent.resolve() != path.parent or seeds not in path.parents:
                raise BadInputError(f"refusing to delete outside the seeds folder: {name}")
            aside = path.with_name(f".peelqa-removing-{path.name}")
            present = path.is_symlink() or path.is_file()
            if present:
                os.replace(path, aside)
            try:
                summary = self._rebuild(progress)
            except BaseException:
                if present:
                    os.replace(aside, path)
                raise
            if present:
                aside.unlink()
                log.info("removed report %s from %s", name, seeds)
            return summary

    def _rebuild(self, progress) -> BuildSummary:
        """The rebuild itself; the caller holds the rebuild lock."""
        old = self._shown()
        # An index with an exported query model was built from a model by name: rebuild by name too, so
        # the export is kept (given the loaded model object, a build cannot export it and queries would go
        # back to torch); the model itself is loaded only if a report must be embedded. The first index is
        # built with the default model, which is exported.
        exported = old is None or (old.searcher.manifest.get("query_model") or {}).get("exported")
        summary = build_index(self.seeds_dir, self.index_dir, progress=progress,
                              embedder=None if exported else old.searcher.embedder)
        with self._load_lock:  # a switch being made finishes first: this index, the newest, goes in last
            stamp = self._manifest_stamp()  # recorded, so the watcher does not load this index a second time
            self._qa, self._stamp = self._open(old), stamp
        self.damage = None  # the new index was checked as it was read
        return summary

    def _open(self, old: QA | None) -> QA:
        """The index on disk now, searched with `old`'s model, scoring and threshold (the model is not loaded
        again); an index built with another model (`peelqa index --model`) with its own."""
        if old is not None:
            try:
                return QA(Searcher.open(self.index_dir, embedder=old.searcher.embedder,
                                        scoring=old.searcher.scoring), old.threshold)
            except IndexModelMismatchError:
                pass
        return QA(Searcher.open(self.index_dir))

    # ---- replicas: an index another process swapped in -------------------------------------------------

    def _manifest_stamp(self) -> tuple[int, int, int] | None:
        """The index manifest's inode, mtime and size: every build renames a new manifest into place."""
        return file_stamp(self.index_dir / MANIFEST)

    def _follow(self) -> None:
        """One check of the watcher: a stat of the manifest; a switch when another process swapped a new
        index in. Skipped while this service rebuilds (it loads its own index) and, for a manifest that failed
        to load, until its retry time."""
        stamp = self._manifest_stamp()
        if stamp == self._stamp or self._rebuild_lock.locked():
            return
        if stamp == self._failed[0] and time.monotonic() < self._failed[1]:
            return
        self._switch()

    def _switch(self) -> None:
        """Load the index on disk and answer from it, if it is not the live one. Questions are answered from
        the live one until then; when the new one cannot be loaded (or the folder is missing, between the two
        renames of a swap), the live one stays and it is tried again later."""
        with self._load_lock:
            old, stamp = self._qa, self._manifest_stamp()
            if old is None or stamp is None or stamp == self._stamp:
                return  # no index yet (the next question loads one), a swap half made, or nothing new
            if self._stamp is None and not swapped(self.index_dir, old.searcher.manifest, None):
                self._stamp = stamp  # the QA handed in is the index on disk
                return
            try:
                qa = self._open(old)
            except Exception as exc:  # noqa: BLE001 - whatever the cause, the live index answers and it is retried
                self._failed = (stamp, time.monotonic() + LIMITS.index_retry_seconds)
                log.warning("index at %s changed but cannot be loaded (%s); answering from the one loaded "
                            "before, trying again in %g s", self.index_dir, exc, LIMITS.index_retry_seconds)
                return
            self._qa, self._stamp, self.damage = qa, stamp, None  # checked as it was read, like a rebuild's
            log.info("switched to the new index another process wrote at %s", self.index_dir)

    def _still_live(self, qa: QA) -> bool:
        """Whether `qa` is the live index and the folder still holds it (no other process swapped one in)."""
        if self._qa is not qa:
            return False
        if self._stamp is None:  # a QA handed in, not yet compared with the folder by the watcher
            return not swapped(self.index_dir, qa.searcher.manifest, None)
        return self._manifest_stamp() == self._stamp

    def _reading(self, read):
        """`read(qa)` for what reads index files by path (a document's text, a PDF's page map). Once another
        process swapped a new index in, that path holds the new index's files, which the live index's
        checksums refuse (IndexCorruptError, never a wrong quote): then switch now and read from the new one."""
        qa = self.qa
        try:
            return read(qa)
        except IndexCorruptError:
            self._switch()
            if self._qa is qa:  # nothing new on disk: the damage is real
                raise
            return read(self._qa)

    def verify_in_background(self) -> threading.Thread | None:
        """Checksum a large index's files after start-up (a small one was checked in full on load).

        A mismatch is logged as one line naming the fix and kept in `damage`: questions are then refused.
        """
        if self._qa is None:
            return None
        qa = self._qa
        manifest = qa.searcher.manifest
        if indexed_bytes(manifest) <= LIMITS.full_check_bytes:
            return None

        def check() -> None:
            folder = qa.searcher.data.directory
            damaged = damaged_files(folder, manifest, full=True)
            with self._load_lock:  # not while a switch to another index is being made
                # Files of another process's rebuild, swapped in meanwhile, differ from this manifest: not damage
                # (the switch to that index follows).
                if damaged and self._still_live(qa):
                    self.damage = IndexCorruptError(
                        f"index at {folder} is damaged ({'; '.join(f'{k}: {v}' for k, v in damaged.items())})",
                        fix=REPAIR)
                    log.error("%s", self.damage)

        thread = threading.Thread(target=check, name="peelqa-verify", daemon=True)
        thread.start()
        return thread

    def save_upload(self, path: Path, original_name: str | None = None) -> str:
        """Copy an uploaded report into the seeds folder (never outside it); returns the saved name.

        The uploaded temporary file is removed whether it is accepted or not.
        """
        path = Path(path)
        shown = original_name or path.name
        try:
            name = safe_file_name(shown)
            limit = LIMITS.upload_bytes[Path(name).suffix]
            size = path.stat().st_size
            if size > limit:
                raise BadInputError(too_big(shown, size, limit))
            data = path.read_bytes()
            try:
                load(Path(name), data)  # refused now, with the reason, rather than skipped at the rebuild
            except SourceError as exc:
                raise BadInputError(f"{shown}: {exc}") from None
        finally:
            path.unlink(missing_ok=True)
        seeds = self.seeds_dir.resolve()
        seeds.mkdir(parents=True, exist_ok=True)
        target = seeds / name  # not resolved: a link of that name is never written through
        stem, suffix, n = target.stem, target.suffix, 2
        while target.is_symlink() or (target.exists() and target.read_bytes() != data):
            target = seeds / f"{stem}-{n}{suffix}"  # never overwrite a different report, nor follow a link
            n += 1
        if target.parent != seeds:
            raise BadInputError(f"refusing to write outside the seeds folder: {name}")
        if not target.exists():  # the same bytes already there need no copy; a new file is created, never reused
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        return target.name

    DOCUMENT_COLUMNS = ["title", "force", "year", "pillar", "file", "passages", "published", "flags", "sha256",
                        "indexed at"]

    def documents(self) -> list[list]:
        """Rows for the index table (DOCUMENT_COLUMNS); none while there is no index."""
        return [[d.get("title"), d.get("force") or d.get("scope"), d.get("period") or d.get("year"), d.get("pillar"),
                 d["file"], d["passages"], d.get("published"), ", ".join(d.get("flags") or []), d["sha256"][:12],
                 d.get("indexed_at")]
                for d in self._manifest().get("documents", [])]

    def _manifest(self) -> dict:
        qa = self._shown()
        return qa.searcher.manifest if qa else {}

    def reports(self) -> list[dict]:
        """The indexed reports as `peelqa reports --json` gives them; raises IndexNotFoundError with no index."""
        from .views import report_records

        return report_records(self.qa.searcher.manifest)

    def _per_index(self, key: str, compute):
        """`compute()` once per loaded index: every page load shows these, and at scale they take a while."""
        qa = self._shown()
        if qa is None:
            return NOTHING_INDEXED[key]
        if self._derived[0] is not qa:
            self._derived = (qa, {})
        cache = self._derived[1]
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    def filter_choices(self) -> dict[str, list]:
        return self._per_index("filters", self._filter_choices)

    def _filter_choices(self) -> dict[str, list]:
        columns = self.qa.searcher.data.columns
        return {
            "title": sorted(t for t in columns.tables["title"] if t),
            "force": sorted(f for f in columns.tables["force"] if f),
            "year": sorted({str(y) for y in np.unique(columns.first_year).tolist() if y > 0}),
            "pillar": sorted(p for p in columns.tables["pillar"] if p),
            "section": columns.sections(),
        }

    def grades_table(self) -> tuple[list[str], list[list[dict | None]], list[str]]:
        """(areas, one row of cells per force and year, row labels): the grades as a forces × areas table; each
        cell is the grade record (with its sentence's offsets), cited from the force's own report first."""
        return self._per_index("grades", self._grades_table)

    def _grades_table(self) -> tuple[list[str], list[list[dict | None]], list[str]]:
        from indexer.grades import Grade, grade_table

        table = grade_table([Grade(**g) for g in self.qa.searcher.data.grades])
        areas = list(dict.fromkeys(g.area_label for g in sorted(table, key=lambda g: g.area)))
        keyed: dict[tuple, dict[str, dict]] = {}
        for g in table:
            keyed.setdefault((g.force or "", g.year or 0, g.period, g.pillar or ""), {})[g.area_label] = g.to_dict()
        labels, rows = [], []
        for (force, year, period, pillar), cells in sorted(keyed.items()):
            labels.append(f"{force} · PEEL {period or year}{' · ' + pillar if pillar else ''}")
            rows.append([cells.get(a) for a in areas])
        return areas, rows, labels

    def find(self, phrase: str, stemmed: bool = False):
        from .find import find_in_index

        phrase = check_text(phrase or "", "phrase", LIMITS.question_chars)
        if not phrase:
            raise BadInputError("the phrase is empty")
        return find_in_index(self.qa.searcher.data, phrase, stemmed)

    def passage_at(self, document: str, start: int, end: int) -> Passage:
        """The indexed passage holding exactly this span (a passage, or a sentence of one: a grade's);
        citations never point anywhere else."""
        data = self.qa.searcher.data
        for p in data.passages.rows(data.columns.rows_of(document)):
            if p.start <= start < end <= p.end:
                return p
        raise NotFoundError(f"no passage of {document} at {start}-{end} in the index; ask again after a rebuild")

    def copy_text(self, spans: list[tuple[str, int, int]]) -> str:
        """What "Copy quote" / "Copy answer" put on the clipboard for these spans: each exact indexed text in
        quotation marks with its citation (and its report's URL where known); see render.copy_text. Only
        spans of indexed passages are given out, as `passage_at` checks."""
        if not 1 <= len(spans) <= 2 * LIMITS.top_k:  # an answer holds at most top_k quotes
            raise BadInputError(f"copy 1 to {2 * LIMITS.top_k} quotes at a time, not {len(spans)}")
        quotes = []
        for document, start, end in spans:
            p = self.passage_at(document, start, end)
            url = self.entry(document).get("url")
            url = url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
            quotes.append((p.text[start - p.start:end - p.start], p.citation, url))
        return copy_text(quotes)

    def export(self, turns: list[dict]) -> list[Turn]:
        """A kept conversation's questions with each quote read from the index (the exact text of its span)
        and its citation; a quote no longer in the index says so instead."""
        out = []
        for t in turns:
            rows = []
            for r in t["results"]:
                try:
                    p = self.passage_at(r["document"], r["start"], r["end"])
                    text, citation = p.text[r["start"] - p.start:r["end"] - p.start], p.citation
                except NotFoundError:
                    text, citation = "", "(no longer in the index: ask again)"
                rows.append(ExportRow(r["rank"], text, citation, r["document"], r["start"], r["end"]))
            out.append(Turn(t["q"], rows, t.get("answered", True)))
        return out

    def page_image(self, document: str, start: int, end: int, page: int | None = None) -> dict | None:
        """A PDF page with the span highlighted, as PNG (see indexer.formats.page_view); None for other formats."""
        return self._reading(lambda qa: page_view(qa.searcher.data, self.seeds_dir, document, start, end, page))

    def layout(self, document: str) -> list[Block]:
        """Where each of a document's passages lies, for the source panel's headings, lists and numbers."""
        data = self.qa.searcher.data
        return [Block(p.start, p.end, p.kind, p.paragraph, p.section)
                for p in data.passages.rows(data.columns.rows_of(document))]

    def index_version(self) -> str:
        """A short fingerprint of the indexed reports (their files and contents), recorded in answer links:
        it changes when a report is added, removed or edited, and not when a rebuild finds nothing new."""
        documents = sorted((d["file"], d["sha256"]) for d in self._manifest().get("documents", []))
        return hashlib.sha256(repr(documents).encode("utf-8")).hexdigest()[:12]

    def entry(self, document: str, qa: QA | None = None) -> dict:
        qa = qa or self.qa
        entry = next((d for d in qa.searcher.manifest.get("documents", []) if d["file"] == document), None)
        if entry is None:
            raise NotFoundError(f"{document} is not in the index")
        return entry

    def source(self, document: str) -> tuple[str, str]:
        """(text, note): a document's text as indexed (what its passages quote); the note warns when the file
        changed after it was indexed."""
        def read(qa: QA) -> tuple[dict, str]:  # the entry and its text from one index, the same after a switch
            entry = self.entry(document, qa)
            return entry, qa.searcher.data.text_of(entry)[0]

        entry, text = self._reading(read)
        path = (self.seeds_dir / document).resolve()
        note = ""
        try:
            if self.seeds_dir.resolve() in path.parents and file_sha256(path) != entry["sha256"]:
                note = "This file changed after it was indexed; rebuild the index."
        except OSError:
            note = "This file is no longer in the seeds folder; rebuild the index."
        return text, note


def _watch(service: weakref.ref) -> None:
    """The watcher thread of a ChatService (see _follow), holding it weakly: it ends with the service."""
    while (live := service()) is not None:
        try:
            live._follow()
        except Exception:  # noqa: BLE001 - the watcher must outlive one bad check; the live index stays
            log.exception("checking the index at %s for a new version failed", live.index_dir)
        del live
        time.sleep(LIMITS.index_check_seconds)
