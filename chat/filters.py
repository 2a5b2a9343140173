"""Filters as data: which passages a question may be answered from. A `Filter` turns into a boolean mask over
the index's passages through columns computed once per index, so no Python predicate runs per passage."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from indexer.passage import Passage


@dataclass(frozen=True)
class Filter:
    """Every non-empty field must match; values within a field are alternatives."""

    documents: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    forces: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    since: int | None = None
    until: int | None = None
    pillars: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) not in ((), None) for f in fields(self))

    @classmethod
    def from_choices(cls, choices: dict | None) -> Filter:
        """From the UI's or API's {"title": [...], "force": [...], "year": [...], "section": [...]}."""
        choices = choices or {}

        def values(key: str) -> tuple:
            raw = choices.get(key) or ()
            return tuple(raw) if isinstance(raw, (list, tuple)) else (raw,)

        years = tuple(int(y) for y in values("year") if str(y).isdigit())
        return cls(titles=values("title"), forces=values("force"), years=years, sections=values("section"),
                   documents=values("document"), pillars=values("pillar"))

    def describe(self) -> str:
        parts = [", ".join(map(str, v)) for v in (self.forces, self.years, self.pillars, self.titles,
                                                   self.documents, self.sections) if v]
        return "; ".join(parts)


class Columns:
    """Per-passage values a Filter is checked against, as arrays."""

    def __init__(self, passages: list[Passage]):
        self.passages = passages
        self.n = len(passages)

        def codes(values: list) -> tuple[np.ndarray, dict]:
            table = {v: i for i, v in enumerate(dict.fromkeys(values))}
            return np.array([table[v] for v in values], dtype=np.int32), table

        self.document, self._documents = codes([p.document for p in passages])
        self.title, self._titles = codes([p.title for p in passages])
        self.force, self._forces = codes([p.force for p in passages])
        self.pillar, self._pillars = codes([p.pillar for p in passages])
        self.kind, self._kinds = codes([p.kind for p in passages])
        # A national document's passage naming several forces is about each of them too.
        self._mentioned: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            for name in p.mentions:
                self._mentioned.setdefault(name, []).append(i)
        first = [p.year if p.year is not None else -1 for p in passages]
        last = [_last_year(p) for p in passages]
        self.first_year = np.array(first, dtype=np.int32)
        self.last_year = np.array(last, dtype=np.int32)

    def _isin(self, column: np.ndarray, table: dict, wanted) -> np.ndarray:
        ids = [table[w] for w in wanted if w in table]
        return np.isin(column, ids) if ids else np.zeros(self.n, dtype=bool)

    def mask(self, f: Filter | None) -> np.ndarray:
        """True for the passages the filter lets through."""
        out = np.ones(self.n, dtype=bool)
        if not f:
            return out
        for column, table, wanted in ((self.document, self._documents, f.documents),
                                      (self.title, self._titles, f.titles),
                                      (self.kind, self._kinds, f.kinds)):
            if wanted:
                out &= self._isin(column, table, wanted)
        if f.forces:
            about = self._isin(self.force, self._forces, f.forces)
            about[[i for name in f.forces for i in self._mentioned.get(name, ())]] = True
            out &= about
        if f.pillars:  # a passage of no pillar (an integrated inspection) belongs to every pillar
            out &= self._isin(self.pillar, self._pillars, (*f.pillars, None))
        known = self.first_year >= 0
        if f.years:
            hit = np.zeros(self.n, dtype=bool)
            for y in f.years:
                hit |= (self.first_year <= y) & (y <= self.last_year)
            out &= hit & known
        if f.since is not None:
            out &= known & (self.last_year >= f.since)
        if f.until is not None:
            out &= known & (self.first_year <= f.until)
        if f.sections:
            wanted = set(f.sections)
            out &= np.array([bool(wanted.intersection(p.section)) for p in self.passages], dtype=bool)
        return out


def _last_year(p: Passage) -> int:
    if p.year is None:
        return -1
    if p.period and "/" in p.period:
        end = int(p.period.split("/")[1])
        return end if end > 100 else p.year // 100 * 100 + end
    return p.year
