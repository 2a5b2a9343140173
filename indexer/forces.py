"""Police forces by name: the canonical list (package data) plus forces learned from the indexed reports.

A force is named many ways: "Greater Manchester Police", "GMP", "Greater Manchester", "Manchester Police";
"West Caldermoor Police", "West Caldermoor", "WCP". `ForceRegistry.mentions` finds every name in a text and
`resolve` turns any of them into the one canonical name used in citations, filters and scoping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .text import fold

DATA = Path(__file__).resolve().parent / "forces.json"
_SUFFIXES = ("Police Service of", "Police Service", "Police Force", "Constabulary", "Police")
# A first word alone names a force only when it is distinctive ("Loxley" for "Loxley Vale Police"), never
# a direction or a common word ("West" would be West Mercia, West Midlands or West Yorkshire).
_NOT_SHORT = {"north", "south", "east", "west", "greater", "city", "civil", "ministry", "british", "new", "royal",
              "national", "the", "police", "mid", "upper", "lower", "central", "metropolitan"}
# "<Name> Police", "<Name> Constabulary": how reports name a force, learned from titles and metadata.
FORCE_NAME = re.compile(
    r"\b((?:[A-Z][\w’'-]+|&|and|of)(?:\s+(?:[A-Z][\w’'-]+|&|and|of)){0,4}?)\s+(Police Service|Constabulary|Police)\b")
_NOT_FORCE_START = {"HM", "Her", "His", "Majesty", "Majesty's", "Inspectorate", "HMIC", "HMICFRS", "National",
                    "The", "Chief", "College", "Independent", "Association", "Home", "Our", "This", "Each", "Every",
                    "All", "Other", "Local", "Many", "Most", "Some", "Which", "What", "How", "Is", "Was", "Did",
                    "Does", "Are", "and", "of", "&", "Compare", "Why", "When", "Where", "Who", "Has", "Have",
                    "Transport", "Special", "Military", "Neighbourhood", "Response", "Community"}


def short_name(name: str) -> str | None:
    """"Durham" for "Durham Constabulary"; None when nothing is left ("Police Scotland")."""
    for suffix in _SUFFIXES:
        if name.endswith(" " + suffix):
            return name[: -len(suffix) - 1].strip() or None
    return None


def initialism(name: str) -> str:
    """"WCP" for "West Caldermoor Police" (words joined by "and"/"of"/"&" are skipped)."""
    return "".join(w[0] for w in re.findall(r"[A-Za-z][\w-]*", name) if w.lower() not in ("and", "of", "the"))


@dataclass(frozen=True)
class Force:
    name: str
    aliases: tuple[str, ...] = ()

    def names(self) -> list[str]:
        out = [self.name, *self.aliases]
        short = short_name(self.name)
        if short:
            out.append(short)
        return list(dict.fromkeys(out))


@dataclass
class ForceRegistry:
    forces: list[Force] = field(default_factory=list)

    @classmethod
    def canonical(cls) -> ForceRegistry:
        return cls(list(_canonical()))

    def __post_init__(self) -> None:
        self._by_key: dict[str, str] = {}
        self._surface: set[str] = set()  # every written form that names a force
        self._pattern: re.Pattern | None = None
        first_words: dict[str, list[str]] = {}
        for force in self.forces:
            for alias in force.names():
                self._by_key.setdefault(_key(alias), force.name)
                self._surface.add(alias)
            short = short_name(force.name) or force.name
            first = short.split()[0]
            if len(short.split()) > 1 and first.lower() not in _NOT_SHORT and len(first) > 3:
                first_words.setdefault(first, []).append(force.name)
        for first, names in first_words.items():
            if len(set(names)) == 1 and _key(first) not in self._by_key:
                self._by_key[_key(first)] = names[0]
                self._surface.add(first)

    def names(self) -> list[str]:
        return [f.name for f in self.forces]

    def resolve(self, text: str | None) -> str | None:
        """The canonical name for any name of a force, or None."""
        if not text:
            return None
        text = fold(text).strip()
        hit = self._by_key.get(_key(text))
        if hit:
            return hit
        m = FORCE_NAME.fullmatch(text)
        return self._by_key.get(_key(m.group(1))) if m else None

    def with_forces(self, extra: Iterable[Force]) -> ForceRegistry:
        """This registry plus forces not already known (their aliases merged into a known force's)."""
        merged = {f.name: f for f in self.forces}
        for force in extra:
            known = self.resolve(force.name)
            if known:
                f = merged[known]
                merged[known] = Force(f.name, tuple(dict.fromkeys([*f.aliases, *force.aliases])))
            else:
                merged[force.name] = force
        return ForceRegistry(list(merged.values()))

    def mentions(self, text: str) -> list[tuple[str, int, int]]:
        """(canonical name, start, end) of every force named in `text`, longest names first, in order."""
        if self._pattern is None:
            self._pattern = _alternation(self._surface)
        out = []
        for m in self._pattern.finditer(fold(text)):
            name = self._by_key.get(_key(m.group(0)))
            if name:
                out.append((name, m.start(), m.end()))
        return out

    def named_in(self, text: str) -> list[str]:
        """Distinct canonical names of the forces `text` names, in order of first mention."""
        return list(dict.fromkeys(name for name, _, _ in self.mentions(text)))

    def to_json(self) -> list[dict]:
        return [{"name": f.name, "aliases": list(f.aliases)} for f in self.forces]

    @classmethod
    def from_json(cls, rows: list[dict]) -> ForceRegistry:
        return cls([Force(r["name"], tuple(r.get("aliases", ()))) for r in rows])


def _key(name: str) -> str:
    """Case-folded, with "&"/"and", "the", hyphens and spaces evened out. Aliases that are written with a
    capital ("SC", "GMP", "the Met") match only as written, so "sc", "mps" or "we met" name no force."""
    name = re.sub(r"\s+", " ", fold(name).strip())
    if _case_sensitive(name):
        return "=" + re.sub(r"^[Tt]he\s+", "", name)
    name = name.lower().replace("&", "and").replace("-", " ").replace("’", "'")
    return re.sub(r"^the\s+", "", name)


def _case_sensitive(name: str) -> bool:
    return bool(re.fullmatch(r"(?:[Tt]he\s+)?(?:[A-Z]{2,6}|Met)", name))


def _alternation(surface: set[str]) -> re.Pattern:
    parts = []
    for name in sorted(surface, key=len, reverse=True):
        escaped = re.escape(fold(name))
        escaped = escaped.replace(r"\&", "(?:&|and)").replace(r"\ and\ ", r"\ (?:&|and)\ ")
        escaped = escaped.replace(r"\-", r"[-\s]").replace(r"\ ", r"\s+")
        if _case_sensitive(name):
            escaped = re.sub(r"^[Tt]he", "[Tt]he", escaped)
            escaped = rf"(?-i:{escaped})"
        parts.append(escaped)
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=1)
def _canonical() -> tuple[Force, ...]:
    rows = json.loads(DATA.read_text(encoding="utf-8"))["forces"]
    return tuple(Force(r["name"], tuple(r.get("aliases", ()))) for r in rows)


def learn_aliases(name: str, texts: Iterable[str], minimum: int = 2) -> tuple[str, ...]:
    """Aliases a force's own reports use: "Name (ABBR)", or its initialism written at least `minimum` times."""
    abbr = initialism(name)
    found = []
    count = 0
    for text in texts:
        for m in re.finditer(re.escape(name) + r"\s*\(\s*[“\"']?([A-Z]{2,6})[”\"']?\s*\)", text):
            found.append(m.group(1))
        if len(abbr) >= 2:
            count += len(re.findall(rf"(?<![\w-]){abbr}(?![\w-])", text))
    if count >= minimum:
        found.append(abbr)
    return tuple(dict.fromkeys(found))
