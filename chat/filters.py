"""Filters as data: which passages a question may be answered from. A `Filter` turns into a boolean mask over
the index's passages through columns computed once per index, so no Python predicate runs per passage."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from indexer.columns import ColumnData
from indexer.passage import SEPARATOR


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
    """Turns a Filter into a mask over the index's per-passage columns (indexer/columns.py)."""

    def __init__(self, data: ColumnData):
        self.data = data
        self.n = len(data)
        self._codes = {name: {v: i for i, v in enumerate(data.tables[name])} for name in data.tables}

    def _isin(self, name: str, wanted) -> np.ndarray:
        table = self._codes[name]
        ids = [table[w] for w in wanted if w in table]
        return np.isin(self.data.arrays[name], ids) if ids else np.zeros(self.n, dtype=bool)

    def mask(self, f: Filter | None) -> np.ndarray:
        """True for the passages the filter lets through."""
        out = np.ones(self.n, dtype=bool)
        if not f:
            return out
        for name, wanted in (("document", f.documents), ("title", f.titles), ("kind", f.kinds)):
            if wanted:
                out &= self._isin(name, wanted)
        if f.forces:
            about = self._isin("force", f.forces)
            for name in f.forces:  # a national document's passage naming several forces is about each of them
                about[self.data.mentions.get(name, np.zeros(0, np.int64))] = True
            out &= about
        if f.pillars:  # a passage of no pillar (an integrated inspection) belongs to every pillar
            out &= self._isin("pillar", (*f.pillars, None))
        first, last = self.data.arrays["first_year"], self.data.arrays["last_year"]
        known = first >= 0
        if f.years:
            hit = np.zeros(self.n, dtype=bool)
            for y in f.years:
                hit |= (first <= y) & (y <= last)
            out &= hit & known
        if f.since is not None:
            out &= known & (last >= f.since)
        if f.until is not None:
            out &= known & (first <= f.until)
        if f.sections:
            wanted = set(f.sections)
            paths = [path for path in self.data.tables["section"] if wanted.intersection(path.split(SEPARATOR))]
            out &= self._isin("section", paths)
        return out
