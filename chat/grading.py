"""Grade questions answered from the grades table: the grade a force got for an area, in each year, with the
exact sentence that states it. Pure functions over the index's grade records."""

from __future__ import annotations

import re

from indexer.grades import area_of, normalise_grade

from .filters import Filter
from .intent import asks_for_grade

_ASKED = re.compile(
    r"\b(?:(?:is|are|was|were|been|be|judged|rated|graded|assessed)\s+(?:as\s+|to\s+be\s+)?)"
    r"[‘'\"“]?(outstanding|good|adequate|inadequate|requires?\s+improvement)\b"
    r"|\b(outstanding|inadequate|requires?\s+improvement|adequate)\b", re.IGNORECASE)
# Words that name an area; without one a grade question asks for the overall grade ("How good is X?").
_AREA_WORDS = re.compile(r"prevent|anti-social|investigat|offend|vulnerab|victim|organised|specialist|armed|"
                         r"respond|record|treat|fair|workforce|workplace|ethic|demand|resource|future|overall|"
                         r"keep\w*\s+people\s+safe", re.IGNORECASE)


def asked_grade(question: str) -> str | None:
    """The grade a question asks about ("Which forces were judged outstanding ..."), if it names one."""
    m = _ASKED.search(question)
    return normalise_grade(m.group(1) or m.group(2)) if m else None


def names_area(question: str) -> bool:
    """Whether the question names a graded area ("preventing crime", "vulnerable people")."""
    return bool(_AREA_WORDS.search(question)) and area_of(question)[0] != "overall"


def asked_area(question: str) -> str:
    """The canonical area a grade question is about; "overall" when it names none."""
    return area_of(question)[0] if _AREA_WORDS.search(question) else "overall"


def grade_rows(grades: list[dict], question: str, scope: Filter) -> list[dict]:
    """The grades for the area `question` asks about, of the forces and years in `scope`, most recent first,
    one per force, year and pillar (a force's own report before a national document)."""
    if not asks_for_grade(question):
        return []
    area = asked_area(question)
    best: dict[tuple, dict] = {}
    for g in grades:
        if g["area"] != area or (scope.forces and g["force"] not in scope.forces):
            continue
        if scope.pillars and g["pillar"] not in scope.pillars:
            continue
        if not _in_years(g, scope):
            continue
        key = (g["force"], g["year"], g["pillar"])
        if key not in best or (best[key]["source"] != "report" and g["source"] == "report"):
            best[key] = g
    return sorted(best.values(), key=lambda g: (-(g["year"] or 0), g["force"] or ""))


def _in_years(g: dict, scope: Filter) -> bool:
    year = g.get("year")
    if not (scope.years or scope.since or scope.until):
        return True
    if year is None:
        return False
    last = year + 1 if g.get("period") else year
    if scope.years and not any(year <= y <= last for y in scope.years):
        return False
    if scope.since is not None and last < scope.since:
        return False
    return not (scope.until is not None and year > scope.until)
