"""PEEL grades as data: every judgement a report states, with the exact sentence it comes from. Pure functions.

Reports state grades in a few fixed shapes, all handled here:
  "Cleveland Police is good at investigating crime."            a sentence: subject, grade, area
  "The constabulary requires improvement in how it protects ..."
  a question heading, then "Good" alone on its line, then prose    a web page: the heading is the area
  "HMIC judged that Ashdown Constabulary:" + "- is ‘good’ at ..."  a press release: the lead-in names the force
  "- Preventing crime: Good", "| Investigating crime | Adequate |" later integrated reports
  "We judged the force to be: - good at A, B and C;"                several areas in one line
The scale is the older four grades (outstanding, good, requires improvement, inadequate) and the five-point
one from 2021 (adding adequate).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache

from .forces import ForceRegistry
from .passage import Passage
from .text import fold

GRADES = ("outstanding", "good", "adequate", "requires improvement", "inadequate")
_G = r"(?P<grade>outstanding|good|adequate|requires?\s+improvement|inadequate)"
# "<subject> is/was/remains/continues to be/has been judged to be <grade> at/in <area>"
_SENTENCE = re.compile(
    r"(?:^|(?<=[.;:!?]\s)|(?<=^-\s)|\b(?:that|and|judged|found|consider|considered|judge)\s)"
    r"(?P<subject>(?:the\s+force|the\s+constabulary|it|[A-Z][\w’'&-]*(?:\s+(?:[A-Z][\w’'&-]*|and|of|&)){0,4}))"
    r"(?:’s|'s)?\s+(?:(?:is|are|was|were|has\s+been|had\s+been|remains|continues\s+to\s+be|is\s+now|now|also|still"
    r"|is\s+still|overall|has\s+moved\s+to\s+be|has\s+improved\s+to|to\s+be)\s+)*"
    r"(?:(?:judged|assessed|graded|rated)\s+(?:to\s+be\s+|as\s+)?)?[‘'\"“]?" + _G + r"[’'\"”]?\s+"
    r"(?P<prep>at|in|for|with|when|overall)\b\s*(?P<area>[^.;:]*)",
    re.IGNORECASE)
# "- is ‘good’ at investigating crime;" / "‘requires improvement’ in how it protects ..." (a press-release bullet)
_BULLET = re.compile(r"^(?:is\s+|was\s+|remains\s+)?(?:judged\s+)?[‘'\"“]?" + _G + r"[’'\"”]?\s+(?P<prep>at|in|for)\b"
                     r"\s*(?P<area>[^.;:]*)", re.IGNORECASE)
# "Preventing crime: Good", "| Investigating crime | Adequate |"
_LABELLED = re.compile(r"^\|?\s*(?P<area>[A-Z][^|:\n]{3,80}?)\s*(?::|\|)\s*" + _G + r"\s*\|?\s*\.?$", re.IGNORECASE)
_GRADE_LINE = re.compile(r"^" + _G + r"\.?\s*(?:\r?\n|$)", re.IGNORECASE)
# Every pattern above names a grade: a passage naming none states none (most passages: extracting grades
# from 20,000 passages took 2.6 s, now 0.46 s).
_ANY_GRADE = re.compile(_G, re.IGNORECASE)
_LEAD_IN = re.compile(r"\b(?:judged|found|assessed)\s+(?:that\s+)?(?P<subject>.+?)(?:\s+to\s+be)?\s*:\s*$",
                      re.IGNORECASE | re.MULTILINE)

# Canonical areas: (key, label, keywords any of which names it). Order matters: the first match wins.
AREAS = (
    ("preventing-crime", "Preventing crime and anti-social behaviour", r"prevent|anti-social"),
    ("investigating-crime", "Investigating crime", r"investigat|re-?offend"),
    ("vulnerable-people", "Protecting vulnerable people", r"vulnerab|victims"),
    ("serious-organised-crime", "Serious and organised crime", r"organised\s+crime|serious\s+and\s+organised"),
    ("specialist-capabilities", "Specialist capabilities", r"specialist|armed|firearms"),
    ("responding-to-public", "Responding to the public", r"respond(?:ing)?\s+to\s+the\s+public|calls?\s+for"),
    ("recording-crime", "Recording data about crime", r"record(?:ing)?\s+(?:data|crime)"),
    ("treatment-of-public", "Treatment of the public", r"treat(?:ment|ing|s)?\s+(?:of\s+)?(?:the\s+)?(?:public|people)"
                                                       r"|fair(?:ness|ly)?\s+and\s+(?:with\s+)?respect"),
    ("managing-offenders", "Managing offenders and suspects", r"managing\s+offenders|offenders\s+and\s+suspects"),
    ("workforce", "Workforce", r"workforce|workplace|ethical|lawful"),
    ("demand", "Understanding demand", r"demand"),
    ("resources", "Use of resources", r"resources|value\s+for\s+money|strategic\s+planning"),
    ("future", "Planning for the future", r"future"),
    # Last: "keeping people safe" is also in the wording of specific questions ("... preventing crime,
    # tackling anti-social behaviour and keeping people safe?").
    ("overall", "Overall", r"keep(?:ing|s)?\s+people\s+safe|reduc(?:ing|es)\s+crime|overall"),
)


@dataclass(frozen=True)
class Grade:
    force: str | None
    year: int | None
    period: str | None
    pillar: str | None
    area: str  # canonical key, e.g. "investigating-crime"
    area_label: str  # "Investigating crime"
    area_text: str  # as the report words it
    grade: str  # one of GRADES
    document: str
    passage: str  # passage id
    paragraph: int
    start: int  # the sentence's offsets in the source document
    end: int
    sentence: str
    source: str  # "report" (the force's own report) or "national"
    form: int = 0  # how plainly it is stated (see _statements): 0 a sentence naming the force ... 3 a label
    section_passage: str | None = None  # the passage opening the report's section on this area, if it has one

    def to_dict(self) -> dict:
        return asdict(self)


def normalise_grade(text: str) -> str:
    text = re.sub(r"\s+", " ", text.lower().strip())
    return "requires improvement" if text.startswith("require") else text


@lru_cache(maxsize=4096)  # every passage's heading is looked up on every build; headings repeat
def area_of(text: str, heading: str = "") -> tuple[str, str]:
    """(key, label) of the area a grade is for, from its wording (or its section heading)."""
    for source in (text, heading):
        low = fold(source).lower()
        for key, label, pattern in AREAS:
            if re.search(pattern, low):
                return key, label
    clean = re.sub(r"\s+", " ", (text or heading)).strip(" ,;.?")
    return re.sub(r"[^a-z0-9]+", "-", clean.lower()).strip("-")[:60] or "unknown", clean[:1].upper() + clean[1:80]


def extract_grades(passages: list[Passage], scope: str, registry: ForceRegistry) -> list[Grade]:
    """Every grade stated in one document's passages (in order), each with its sentence's exact offsets.

    Args:
        passages: the document's passages, labelled with force, year and pillar.
        scope: the document's scope ("force" for a force's own report, else national or multi-force).
        registry: to tell which force a sentence in a national document is about.
    """
    out: list[tuple[float, int, Grade]] = []
    openings: dict[str, str] = {}  # area -> the first passage under a heading naming it
    for p in passages:
        if p.section:
            key = area_of("", p.section[-1])[0]
            openings.setdefault(key, p.id)
    for p in passages:
        for s, e, grade, area_text, subject, form in _statements(p):
            s, e = _whole_sentence(p, s, e)
            force = p.force
            if scope != "force":
                named = registry.named_in(subject) or registry.named_in(p.text[:max(0, s)] + " " + subject)
                force = named[-1] if named else p.force
                if force is None:
                    continue
            elif subject and registry.named_in(subject) and p.force not in registry.named_in(subject):
                continue  # a force report comparing itself with another force
            key, label = area_of(area_text, p.section[-1] if p.section else "")
            # A statement in the section about its own area beats one in a summary of every area.
            in_own_section = bool(p.section) and area_of("", p.section[-1])[0] == key
            out.append((form + (0 if in_own_section else 0.5), len(out), Grade(
                force, p.year, p.period, p.pillar, key, label, area_text.strip(), grade, p.document, p.id,
                p.paragraph, p.start + s, p.start + e, p.text[s:e], "report" if scope == "force" else "national",
                form, openings.get(key))))
    return _plainest_per_area(out)


def _statements(p: Passage):
    """(start, end, grade, area as written, subject, form) for each grade statement in a passage's text; form
    ranks how plainly it is stated: 0 a sentence naming the force, 1 a grade line or "it is", 2 a bullet of a
    list, 3 a label ("Preventing crime: Good")."""
    text = p.text
    if not _ANY_GRADE.search(text):
        return
    heading = p.section[-1] if p.section else ""
    m = _GRADE_LINE.match(text)
    if m and heading:  # a web page: the grade alone on its line, the area is the question above it
        # Quote the grade with the first sentence after it, which usually states it in words.
        rest = re.search(r"\S", text[m.end():])
        end = _sentence_end(text, m.end() + rest.start()) if rest else m.end("grade")
        yield 0, end, normalise_grade(m.group("grade")), _area_from_heading(heading), "", 1
        return
    lead = _LEAD_IN.search(text)
    subject = lead.group("subject") if lead else ""
    for line_start, line in _lines(text):
        body = line.lstrip("-•*–").strip()
        offset = line_start + (len(line) - len(line.lstrip("-•*–").lstrip()))
        if m := _LABELLED.match(body):
            yield offset, offset + len(body.rstrip()), normalise_grade(m.group("grade")), m.group("area"), subject, 3
            continue
        if lead and (m := _BULLET.match(body)):
            for area in _split_areas(m.group("area")):
                yield offset, offset + len(body.rstrip(" ;,.")), normalise_grade(m.group("grade")), area, subject, 2
            continue
        for m in _SENTENCE.finditer(body):
            end = _sentence_end(body, m.end("area"))
            for area in _split_areas(m.group("area")):
                form = 0 if m.group("subject").lower() not in ("it",) else 1
                yield offset + m.start("subject"), offset + end, normalise_grade(m.group("grade")), area, \
                    m.group("subject"), form


def _whole_sentence(p: Passage, s: int, e: int) -> tuple[int, int]:
    """The statement widened to the sentence(s) it lies in, so a quote never starts mid-sentence."""
    for a, b in p.sentences:
        if a <= s < b:
            s = min(s, a)
        if a < e <= b:
            e = max(e, b)
    return s, e


def _lines(text: str):
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


def _sentence_end(text: str, at: int) -> int:
    m = re.search(r"[.;!?](?=\s|$)", text[at:])
    return at + m.end() if m else len(text.rstrip())


_AREA_STOP = re.compile(r",?\s+\b(?:but|although|though|while|whereas|which|because|so|since|despite|with\s+the"
                        r"|and\s+(?:is|it|has|had|its|the|we|in|was|remains|continues|now|also))\b.*$", re.IGNORECASE)


def _split_areas(text: str) -> list[str]:
    """"treatment of the public, responding to the public and investigating crime" → three areas; an area
    whose own words hold "and" ("preventing crime and anti-social behaviour") stays whole; a clause after
    "but", "although", "and it ..." is not an area."""
    text = _AREA_STOP.sub("", re.sub(r"\s+", " ", text)).strip(" ,;")
    if "," not in text:
        return [text]
    parts = [p.strip() for p in re.split(r",\s*(?:and\s+)?(?:at\s+)?|\s+and\s+(?=[a-z]+ing\b)", text) if p.strip()]
    known = [p for p in parts if _named_area(p)]
    # An enumeration names an area in each part; otherwise the comma ends the area ("crime, we found").
    return known if len(known) >= 2 else [parts[0]]


def _named_area(text: str) -> bool:
    low = fold(text).lower()
    return any(re.search(pattern, low) for _, _, pattern in AREAS)


def _area_from_heading(heading: str) -> str:
    m = re.search(r"\b(?:at|in)\s+(.+?)\??$", heading)
    return m.group(1) if m else heading.rstrip("?")


def _plainest_per_area(found: list[tuple[float, int, Grade]]) -> list[Grade]:
    """One grade per (document, force, area): the most plainly stated, the first of those (a report's
    opening judgement comes before later mentions); in document order."""
    best: dict[tuple, tuple[int, int, Grade]] = {}
    for form, order, g in found:
        key = (g.document, g.force, g.area)
        if key not in best or (form, order) < best[key][:2]:
            best[key] = (form, order, g)
    return [g for _, _, g in sorted(best.values(), key=lambda t: t[1])]


def grade_table(grades: list[Grade]) -> list[Grade]:
    """One grade per force, year, pillar and area, cited from the force's own report first."""
    best: dict[tuple, Grade] = {}
    for g in grades:
        key = (g.force, g.year, g.pillar, g.area)
        if key not in best or (best[key].source != "report" and g.source == "report"):
            best[key] = g
    return sorted(best.values(), key=lambda g: (g.force or "", g.year or 0, g.pillar or "", g.area))
