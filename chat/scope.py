"""What a question names: forces, years, a pillar, and whether it compares reports. Pure functions.

"How good is Durham at preventing crime in 2016?" names Durham Constabulary and 2016, so it is answered from
Durham's 2016 reports only. "How has Cleveland changed since 2015?" names Cleveland and the years from 2015 on,
and compares them. "Which forces are outstanding at ..." compares every force's reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from indexer.forces import ForceRegistry
from indexer.text import fold

_PERIOD = re.compile(r"\b((?:19|20)\d\d)\s*(?:/|-|–)\s*(\d\d)\b(?!\d)")
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
_SINCE = re.compile(r"\b(?:since|after|from)\s+((?:19|20)\d\d)\b(?!\s*(?:to|until|and|-|–)\s*(?:19|20)\d\d)",
                    re.IGNORECASE)
_RANGE = re.compile(r"\b(?:from|between)?\s*((?:19|20)\d\d)\s*(?:to|until|and|-|–)\s*((?:19|20)\d\d)\b",
                    re.IGNORECASE)
_PILLARS = {"effectiveness": "Effectiveness", "efficiency": "Efficiency", "efficient": "Efficiency",
            "legitimacy": "Legitimacy", "legitimate": "Legitimacy", "leadership": "Leadership",
            "effective": "Effectiveness"}
# A pillar is named by its noun, or by its adjective said of the force ("How efficient is X?", "Is the force
# legitimate?"); "effective arrangements" or "legitimate concerns" name none.
_PILLAR = re.compile(
    r"\b(effectiveness|efficiency|legitimacy|leadership)\b"
    r"|\bhow\s+(efficient|legitimate|effective)\b"
    r"|\b(?:is|are|was|were)\s+(?:[\w’'-]+\s+){0,4}?(efficient|legitimate|effective)\b(?!\s+(?:at|in)\b)",
    re.IGNORECASE)
_COMPARE = re.compile(
    r"\b(?:which|what)\s+(?:other\s+)?forces?\b|\bcompare[sd]?\b|\bcomparison\b|\bversus\b|\bvs\.?\b"
    r"|\b(?:all|each|every|other)\s+(?:the\s+)?forces\b|\bacross\s+(?:the\s+)?forces\b|\bforces\s+(?:that|which|where)\b"
    r"|\bhow\s+(?:has|have|did)\b.*\b(?:changed?|improved?|developed?|progressed?|moved|got\s+(?:better|worse))\b"
    r"|\bchanged?\s+(?:since|from|between)\b|\bover\s+the\s+years\b|\bover\s+time\b|\byear\s+(?:on|by)\s+year\b",
    re.IGNORECASE)
# "What did the press release say": a kind of document, matched against the indexed documents' titles.
DOCUMENT_KINDS = re.compile(r"\b(press[\s-]+releases?|national\s+overview|state\s+of\s+policing)\b", re.IGNORECASE)
# Words that say which report, not what about: left out when judging whether the reports cover a question.
SCOPE_WORDS = {"police", "force", "forces", "constabulary", "constabularies", "service", "peel", "hmic", "hmicfrs",
               "inspection", "inspections", "inspectorate", "report", "reports", "effectiveness", "efficiency",
               "legitimacy", "leadership", "effective", "efficient", "legitimate", "year", "years", "compare",
               "compared", "comparison", "changed", "change", "since", "between", "forces'", "force's", "say",
               "said", "find", "found", "judge", "judged", "think", "assessment", "assessed", "grade", "graded",
               "grades", "grading", "rated", "rating", "overall", "good", "outstanding", "adequate", "inadequate",
               "get", "got", "gets", "getting", "give", "gave", "given", "receive", "received", "tell", "show",
               "have", "has", "had", "having", "been", "being", "doing", "done", "make", "made", "happen",
               "happened", "like", "know", "known", "press", "release", "releases", "national", "overview",
               "inspector", "inspectors"}


@dataclass(frozen=True)
class Scope:
    """What a question names. Empty tuples mean "not named" (every report competes)."""

    forces: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    since: int | None = None  # "since 2015", "from 2015 to 2017": the first year of a range
    until: int | None = None
    pillars: tuple[str, ...] = ()
    comparative: bool = False
    documents: tuple[str, ...] = ()  # kinds of document named: "press release", "national overview"
    spans: tuple[tuple[int, int], ...] = field(default=())  # where forces and years are named in the question
    force_spans: tuple[tuple[int, int], ...] = field(default=())  # where forces are named

    @property
    def named(self) -> bool:
        return bool(self.forces or self.years or self.since or self.until or self.pillars)

    def in_years(self, years: tuple[int, ...]) -> bool:
        """Whether a report covering `years` is in the question's years (every report, when none is named)."""
        if not years:
            return not (self.years or self.since or self.until)
        if self.years and not set(self.years) & set(years):
            return False
        if self.since is not None and max(years) < self.since:
            return False
        return not (self.until is not None and min(years) > self.until)

    def without_names(self, question: str, keep_forces: bool = False) -> str:
        """The question with the force and year names taken out (force names kept with `keep_forces`): what
        it asks about."""
        out, cursor = [], 0
        for s, e in sorted(x for x in self.spans if not (keep_forces and x in self.force_spans)):
            out.append(question[cursor:s])
            cursor = max(cursor, e)
        out.append(question[cursor:])
        return re.sub(r"\s+", " ", "".join(out)).strip()

    def describe(self) -> str:
        """"Durham Constabulary, PEEL 2016" for the answer's note."""
        parts = [", ".join(self.forces)] if self.forces else []
        if self.years:
            parts.append("PEEL " + ", ".join(str(y) for y in self.years))
        elif self.since or self.until:
            parts.append(f"PEEL {self.since or ''}–{self.until or ''}".replace("– ", "–").rstrip("–"))
        if self.pillars:
            parts.append(", ".join(self.pillars))
        return ", ".join(p for p in parts if p)


# A force the registry does not know is still a force: "Rivermead Constabulary", "Ashcombe Police".
_UNKNOWN_FORCE = re.compile(r"\b((?:[A-Z][a-z][\w’'-]*\s+){1,3}(?:Police|Constabulary)|(?:[a-z][\w’'-]*\s+){1,2}"
                            r"constabulary)\b")
_NOT_A_FORCE = {"the", "a", "an", "this", "that", "each", "every", "other", "our", "its", "their", "which", "what",
                "whose", "local", "neighbourhood", "community", "transport", "military", "special", "how", "is",
                "does", "did", "was", "national", "british", "uk", "english", "welsh", "any", "some", "all"}


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    from indexer.lexical import stopwords

    return frozenset(stopwords()) | {"compare", "tell", "show", "list", "give", "find", "versus", "vs"}


def read_scope(question: str, forces: ForceRegistry) -> Scope:
    """The forces, years and pillar a question names, and whether it compares reports."""
    text = fold(question)
    mentions = forces.mentions(text)
    for m in _UNKNOWN_FORCE.finditer(text):
        words = m.group(1).split()
        while words and (words[0].lower() in _NOT_A_FORCE or words[0].lower() in _common()):
            words.pop(0)
        start = m.end() - len(" ".join(words))
        if len(words) >= 2 and not any(s <= start < e for _, s, e in mentions):
            name = " ".join(w.capitalize() if w.islower() else w for w in words)
            mentions.append((name, start, m.end()))
    mentions.sort(key=lambda m: m[1])
    names = tuple(dict.fromkeys(name for name, _, _ in mentions))
    spans = [(s, e) for _, s, e in mentions]
    years: list[int] = []
    since = until = None
    if m := _RANGE.search(text):
        since, until = sorted((int(m.group(1)), int(m.group(2))))
        spans.append(m.span())
    elif m := _SINCE.search(text):
        since = int(m.group(1))
        spans.append(m.span())
    else:
        for m in _PERIOD.finditer(text):
            # "2015/16" is a financial year: reports of either year may state its figures.
            start = int(m.group(1))
            end = start // 100 * 100 + int(m.group(2))
            end = end + 100 if end < start else end
            # Only a year and the next ("2015/16"); a date ("2016-05") or a slip ("2019/18") names its first.
            years += [start, end] if end == start + 1 else [start]
            spans.append(m.span())
        for m in _YEAR.finditer(text):
            if not any(s <= m.start() < e for s, e in spans):
                years.append(int(m.group(1)))
                spans.append(m.span())
    pillars = tuple(dict.fromkeys(_PILLARS[next(g for g in m.groups() if g).lower()] for m in _PILLAR.finditer(text)))
    comparative = bool(_COMPARE.search(text)) or len(names) > 1 or since is not None
    documents = tuple(dict.fromkeys(re.sub(r"[\s-]+", " ", m.group(1).lower()).rstrip("s")
                                    for m in DOCUMENT_KINDS.finditer(text)))
    return Scope(forces=names, years=tuple(dict.fromkeys(years)), since=since, until=until, pillars=pillars,
                 comparative=comparative, documents=documents, spans=tuple(spans),
                 force_spans=tuple((s, e) for _, s, e in mentions))
