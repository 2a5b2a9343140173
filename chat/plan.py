"""Which reports a question is answered from, given what it names, and why not when none is indexed.

A named force that has no indexed report, or a named year or pillar that force has no report for, is a
refusal that says what is indexed, never another force's or year's passage. A year that no report is
for but the reports mention ("what was wrong in 2015" of a 2016 report that looks back at 2015) is a topic,
not a scope.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from indexer.metadata import ReportMeta

from .filters import Filter
from .scope import Scope


@dataclass(frozen=True)
class Plan:
    filter: Filter  # the question's scope as a filter (empty when it names nothing)
    # Lists the force reports in scope when asked: only a comparison needs them, and with no force named they
    # are all of them (50,000 at a million passages: listing them cost milliseconds a question).
    pick: Callable[[], list[tuple[str, ReportMeta]]] = field(default=list, repr=False, compare=False)
    reason: str | None = None  # why it cannot be answered from what is indexed
    note: str | None = None  # "From Durham Constabulary, PEEL 2016"

    @property
    def reports(self) -> tuple[tuple[str, ReportMeta], ...]:
        """(file, metadata) of the force reports in scope."""
        return tuple(self.pick())


class Catalogue:
    """The indexed reports, from an index manifest."""

    def __init__(self, manifest: dict):
        self.reports: list[tuple[str, ReportMeta]] = [
            (d["file"], ReportMeta.from_dict(d)) for d in manifest.get("documents", []) if "scope" in d]
        self.forces = sorted({m.force for _, m in self.reports if m.force}
                             | {f["name"] for f in manifest.get("forces", [])})
        # Worked out once: a question is planned in microseconds, not in a loop over thousands of reports.
        self._force_reports = [(f, m) for f, m in self.reports if m.scope == "force" and m.force]
        self._of_force: dict[str, list[int]] = {}
        for i, (_, m) in enumerate(self._force_reports):
            self._of_force.setdefault(m.force, []).append(i)
        self._years = [m.years for _, m in self._force_reports]
        self._every = range(len(self._force_reports))
        self._spans = set(self._years)
        self._titles = [re.sub(r"[\s-]+", " ", m.title.lower()) for _, m in self.reports]

    def force_reports(self) -> list[tuple[str, ReportMeta]]:
        return list(self._force_reports)

    def describe(self, force: str) -> str:
        """"PEEL 2015 Effectiveness, PEEL 2016 Efficiency" for one force's indexed reports."""
        items = sorted({(m.year or 0, m.period or str(m.year or "?"), m.pillar or "") for _, m in self.reports
                        if m.force == force})
        return ", ".join(f"PEEL {label}{' ' + pillar if pillar else ''}" for _, label, pillar in items) or "none"

    def plan(self, scope: Scope, mentioned: Callable[[str, Filter], bool], judging: bool = False) -> Plan:
        """The reports `scope` allows, or the reason none can answer.

        Args:
            scope: what the question names.
            mentioned: whether a name (a year, a force) occurs in the passages a filter allows; then a year or
                force with no report of its own is a topic of the question ("durham" in a Cleveland report
                on a joint unit with Durham), not its scope.
            judging: the question asks how good a force is; a force with no report of its own is then never a
                topic ("How good is Durham?" is not answered from Cleveland's report that mentions Durham).
        """
        indexed = set(self.forces)
        named = [f for f in scope.forces if f in indexed]
        missing = [f for f in scope.forces if f not in indexed]
        if scope.forces and not named:
            if not judging and all(mentioned(f, Filter()) for f in missing):
                return Plan(Filter(), self.force_reports)
            return Plan(Filter(), reason=f"No report of {_join(missing)} is indexed. Indexed forces: "
                                         f"{', '.join(self.forces) or 'none'}.")
        chosen = sorted(i for f in named for i in self._of_force.get(f, [])) if named else self._every
        pillars: tuple[str, ...] = ()
        if scope.pillars:
            # A report with no pillar (an integrated PEEL inspection from 2021) covers them all.
            pillars = scope.pillars
            chosen = [i for i in chosen if self._force_reports[i][1].pillar in pillars
                      or self._force_reports[i][1].pillar is None]
            if not chosen:
                return Plan(Filter(), reason=self._none_for(named, " or ".join(pillars)))
        years = Filter(years=scope.years, since=scope.since, until=scope.until)
        fits: dict | None = None
        if scope.years or scope.since or scope.until:
            # Thousands of reports share a few year spans: each span is judged once.
            spans = self._spans if chosen is self._every else {self._years[i] for i in chosen}
            fits = {span: scope.in_years(span) for span in spans}
            topic = scope.years and not any(fits.values()) and all(
                mentioned(str(y), Filter(forces=tuple(named), pillars=pillars)) for y in scope.years)
            if topic:
                years, fits = Filter(), None
            elif not any(fits.values()):
                what = (" or ".join(f"PEEL {y}" for y in scope.years) if scope.years
                        else f"PEEL {scope.since or '…'}–{scope.until or '…'}")
                return Plan(Filter(), reason=self._none_for(named, what))

        def reports() -> list[tuple[str, ReportMeta]]:
            return [self._force_reports[i] for i in chosen if fits is None or fits[self._years[i]]]

        kinds = [f for (f, _), title in zip(self.reports, self._titles, strict=True)
                 if any(kind in title for kind in scope.documents)] if scope.documents else []
        flt = Filter(forces=tuple(named), pillars=pillars, years=years.years, since=years.since, until=years.until,
                     documents=tuple(kinds))
        note = None
        if flt:
            note = "From " + ", ".join(p for p in (_join(named), _years(flt), " or ".join(pillars)) if p)
            if missing:
                note += f" (no report of {_join(missing)} is indexed)"
        return Plan(flt, reports, note=note)

    def _none_for(self, forces: list[str], what: str) -> str:
        if not forces:
            return f"No {what} report is indexed."
        return " ".join(f"No {what} report of {f} is indexed; its reports: {self.describe(f)}." for f in forces)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""


def _years(f: Filter) -> str:
    if f.years:
        return "PEEL " + ", ".join(str(y) for y in f.years)
    if f.since and f.until:
        return f"PEEL {f.since}–{f.until}"
    if f.since or f.until:
        return f"PEEL {f.since} onwards" if f.since else f"PEEL up to {f.until}"
    return ""
