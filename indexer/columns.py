"""Per-passage values that filters, ranking and comparisons need, stored as arrays beside the passages so a
search never reads passage records to decide which ones may answer (at a million passages those records are
gigabytes; these arrays are a few megabytes).

    columns/<name>.npy   one value per passage row: document, force, pillar, kind, section path (codes into
                         the tables), first and last year covered, grade and recommendation flags
    columns/tables.json  the values the codes stand for, and which rows a national passage names which force
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .passage import SEPARATOR, Passage

FOLDER = "columns"
CODED = ("document", "title", "force", "pillar", "kind", "section")
# A report states a grade in the sentence that opens a section ("Cleveland Police is good at ..."); only the
# opening paragraph counts ("generally good at ..." later is a finding, not the grade).
GRADE_SENTENCE = re.compile(
    r"\b(?:is|are|was|were)\s+(?:generally\s+)?(?:good|outstanding|inadequate|effective)\s+(?:at|in)\b"
    r"|\brequires?\s+improvement\b",
    re.IGNORECASE,
)
IMPROVE_SECTION = re.compile(r"areas? for improvement|recommendations?|causes? of concern", re.IGNORECASE)


def is_grade_passage(p: Passage) -> bool:
    first = p.text[slice(*p.sentences[0])] if p.sentences else p.text
    return bool(GRADE_SENTENCE.search(first))


def is_improvement_passage(p: Passage) -> bool:
    return any(IMPROVE_SECTION.search(s) for s in p.section)


def _last_year(p: Passage) -> int:
    if p.year is None:
        return -1
    if p.period and "/" in p.period:
        end = int(p.period.split("/")[1])
        return end if end > 100 else p.year // 100 * 100 + end
    return p.year


@dataclass
class ColumnData:
    arrays: dict[str, np.ndarray]
    tables: dict[str, list]
    mentions: dict[str, np.ndarray]  # force -> rows of national passages that name it

    def __len__(self) -> int:
        return len(self.arrays["document"])

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["arrays"][name]
        except KeyError:
            raise AttributeError(name) from None

    def rows_of(self, document: str) -> np.ndarray:
        """The rows of one document's passages (they are contiguous, in reading order)."""
        if document not in self.tables["document"]:
            return np.zeros(0, np.int64)
        return np.flatnonzero(self.arrays["document"] == self.tables["document"].index(document))

    def sections(self) -> list[str]:
        """Every heading any passage sits under."""
        return sorted({part for path in self.tables["section"] if path for part in path.split(SEPARATOR)})


def build(passages: list[Passage]) -> ColumnData:
    tables: dict[str, dict] = {name: {} for name in CODED}

    def code(name: str, value) -> int:
        table = tables[name]
        if value not in table:
            table[value] = len(table)
        return table[value]

    seen: set[tuple[str, tuple[str, ...]]] = set()
    arrays: dict[str, list] = {name: [] for name in (*CODED, "first_year", "last_year", "grade", "improve")}
    mentions: dict[str, list[int]] = {}
    for row, p in enumerate(passages):
        for name, value in (("document", p.document), ("title", p.title), ("force", p.force), ("pillar", p.pillar),
                            ("kind", p.kind), ("section", SEPARATOR.join(p.section))):
            arrays[name].append(code(name, value))
        arrays["first_year"].append(p.year if p.year is not None else -1)
        arrays["last_year"].append(_last_year(p))
        opening = (p.document, p.section) not in seen
        seen.add((p.document, p.section))
        arrays["grade"].append(opening and is_grade_passage(p))
        arrays["improve"].append(is_improvement_passage(p))
        for force in p.mentions:
            mentions.setdefault(force, []).append(row)
    dtypes = {"grade": np.bool_, "improve": np.bool_}
    return ColumnData({k: np.array(v, dtype=dtypes.get(k, np.int32)) for k, v in arrays.items()},
                      {k: list(v) for k, v in tables.items()},
                      {k: np.array(v, dtype=np.int64) for k, v in mentions.items()})


def save(folder: Path, data: ColumnData) -> None:
    target = Path(folder) / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    for name, array in data.arrays.items():
        np.save(target / f"{name}.npy", array, allow_pickle=False)
    tables = {**data.tables, "_mentions": {k: v.tolist() for k, v in data.mentions.items()}}
    (target / "tables.json").write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")


def load(folder: Path) -> ColumnData:
    target = Path(folder) / FOLDER
    tables = json.loads((target / "tables.json").read_text(encoding="utf-8"))
    mentions = {k: np.array(v, dtype=np.int64) for k, v in tables.pop("_mentions", {}).items()}
    names = (*CODED, "first_year", "last_year", "grade", "improve")
    return ColumnData({n: np.load(target / f"{n}.npy", allow_pickle=False) for n in names}, tables, mentions)
