"""Report metadata: which force, year, pillar a document is, where it was published, and how we know.

Sources, strongest first: YAML front matter in a `.md` report, a sidecar (`<file>.meta.json` beside the report,
or a row of `reports.csv` in its folder), the title and first lines, the file name. A document whose force or
year cannot be found is still indexed, and flagged. Pure functions, except `read_sidecars`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath

from .forces import FORCE_NAME, ForceRegistry
from .limits import LIMITS
from .sources import SourceError, read_sidecar
from .text import clip, fold

PILLARS = ("Effectiveness", "Efficiency", "Legitimacy", "Leadership")
FIELDS = ("force", "year", "pillar", "title", "published", "url", "period")
_PILLAR = re.compile(r"\b(effectiveness|efficiency|legitimacy|leadership)\b", re.IGNORECASE)
_PERIOD = re.compile(r"\b((?:19|20)\d\d)\s*(?:/|-|–|to)\s*((?:19|20)?\d\d)\b")
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
# "Cleveland PEEL 2016", "Severnshire Constabulary PEEL 2021/22", "Harrowford PEEL 2018 – Effectiveness"
_FORCE_PEEL = re.compile(r"^(?:#+\s*)?(?P<force>[A-Z][^:]*?)\s+PEEL\b[\s:]*(?P<year>(?:19|20)\d\d(?:\s*/\s*\d\d)?)")
# "PEEL: Police efficiency 2016 – An inspection of Thornbury Constabulary", "PEEL 2021/22: An inspection of X"
_INSPECTION_OF = re.compile(r"\b(?:an?\s+)?inspection\s+(?:of|into)\s+(?P<force>(?:the\s+)?[A-Z][\w’'&\- ]+?)\s*$",
                            re.IGNORECASE)
_NATIONAL = re.compile(r"national\s+overview|state\s+of\s+policing|press\s+releases?|all\s+forces|"
                       r"england\s+and\s+wales|annual\s+assessment", re.IGNORECASE)
_MONTHS = "january february march april may june july august september october november december".split()
_DATE_DMY = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)\b")
_DATE_WORDS = re.compile(r"\b(\d{1,2})\s+(" + "|".join(_MONTHS) + r")\s+((?:19|20)\d\d)\b", re.IGNORECASE)
_PUBLISHED = re.compile(r"^(?:published(?:\s+on)?|last\s+updated|updated|date)\s*:?\s*(?P<date>.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class ReportMeta:
    """What a document is. `scope` is "force" (one force's report), "multi-force" or "national"."""

    title: str
    force: str | None = None
    year: int | None = None
    period: str | None = None  # "2021/22" where a report covers two years
    pillar: str | None = None
    published: str | None = None  # ISO date
    url: str | None = None
    scope: str = "force"
    forces: tuple[str, ...] = ()  # forces a multi-force or national document covers
    sources: dict[str, str] = field(default_factory=dict)  # field -> where it came from
    flags: tuple[str, ...] = ()

    @property
    def years(self) -> tuple[int, ...]:
        """Every year the report covers: 2021 and 2022 for PEEL 2021/22."""
        if self.year is None:
            return ()
        if self.period:
            end = int(self.period.split("/")[1])
            end = end if end > 100 else self.year // 100 * 100 + end
            return tuple(range(self.year, end + 1))
        return (self.year,)

    @property
    def label(self) -> str:
        """"Durham Constabulary · PEEL 2016 · Effectiveness", or the title where force or year is unknown."""
        if self.scope != "force" or not self.force:
            return self.title
        parts = [self.force, f"PEEL {self.period or self.year}" if self.year else None, self.pillar]
        return " · ".join(p for p in parts if p)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["forces"] = list(self.forces)
        d["flags"] = list(self.flags)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ReportMeta:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**{**known, "forces": tuple(known.get("forces", ())), "flags": tuple(known.get("flags", ()))})


# ---- front matter and sidecars ----------------------------------------------------------------------

_YAML_ALIAS = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s,\[\]{}]+", re.MULTILINE)


def front_matter(source: str) -> tuple[dict, int]:
    """(fields, offset where the body starts) for a `---` YAML block at the very top; ({}, 0) otherwise."""
    m = re.match(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", source, re.DOTALL)
    if not m:
        return {}, 0
    import yaml

    text = m.group(1)
    try:
        if _YAML_ALIAS.search(text):  # anchors and aliases: ~700 bytes of them once grew to 5 GB; none needed
            raise yaml.YAMLError("anchors and aliases are not read")
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):
        # Hand-written front matter is often not strict YAML ("title: PEEL: Police effectiveness 2015"):
        # read it as "key: value" lines, split at the first colon.
        data = dict(re.findall(r"^\s*([A-Za-z_]\w*)\s*:\s*(.*?)\s*$", text, re.MULTILINE))
    return (data if isinstance(data, dict) else {}), m.end()


def read_sidecars(seeds_dir: Path, files: list[str], skipped: dict[str, str] | None = None) -> dict[str, dict]:
    """{document: fields} from `<file>.meta.json` beside a report and `reports.csv` rows in its folder.
    A metadata file that cannot be used (a link out of the folder, too big, not JSON or CSV) is named in
    `skipped` and its reports are indexed without it."""
    skipped = {} if skipped is None else skipped
    out: dict[str, dict] = {}
    tables: dict[str, dict[str, dict]] = {}
    for rel in files:
        folder = PurePosixPath(rel).parent
        if folder.as_posix() not in tables:
            tables[folder.as_posix()] = _sidecar(seeds_dir, (folder / "reports.csv").as_posix(), _csv_rows, skipped)
        fields = dict((tables[folder.as_posix()] or {}).get(PurePosixPath(rel).name, {}))
        for name in dict.fromkeys((f"{rel}.meta.json", PurePosixPath(rel).with_suffix(".meta.json").as_posix())):
            data = _sidecar(seeds_dir, name, _json_fields, skipped)
            if data is not None:
                fields.update(data)
                break
        if fields:
            out[rel] = fields
    return out


def _sidecar(seeds_dir: Path, name: str, parse, skipped: dict[str, str]):
    """Parsed metadata file `name`, or None when there is none or it cannot be used (named in `skipped`)."""
    try:
        data = read_sidecar(Path(seeds_dir) / name, seeds_dir)
        return None if data is None else parse(data.decode("utf-8"))
    except SourceError as exc:
        skipped[name] = f"{exc}; its metadata not used"
    except (UnicodeDecodeError, ValueError, KeyError, csv.Error, RecursionError) as exc:
        skipped[name] = f"cannot be read as {'CSV' if name.endswith('.csv') else 'a JSON object'} ({exc}); " \
                        "its metadata not used"
    return None


def _json_fields(text: str) -> dict:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not an object of fields")
    return data


def _csv_rows(text: str) -> dict[str, dict]:
    return {row["file"].strip(): {k: v for k, v in row.items() if k != "file" and v not in (None, "")}
            for row in csv.DictReader(io.StringIO(text, newline="")) if row.get("file")}


# ---- detection --------------------------------------------------------------------------------------

def detect(document: str, title: str, head: list[str], explicit: dict, forces: ForceRegistry) -> ReportMeta:
    """Metadata from explicit fields (front matter or sidecar, strongest), the title and first lines, the
    file name, in that order; each field records where it came from.

    Args:
        document: the file's name under the seeds folder.
        title: the report's title as parsed.
        head: its first lines (boilerplate included: "Published on: ...", "Police forces: ...").
        explicit: fields from front matter and sidecars; "_sources" says which gave each.
        forces: the forces known so far (canonical list plus those learned from the corpus).
    """
    found: dict[str, object] = {}
    sources: dict[str, str] = {}

    def put(key: str, value, source: str) -> None:
        if value not in (None, "") and key not in found:
            found[key] = value
            sources[key] = source

    for key in FIELDS:
        if key in explicit:
            put(key, explicit[key], explicit.get("_sources", {}).get(key, "metadata"))
    for line in [title, *head]:
        _from_line(fold(line), put, forces)
    _from_file_name(document, put, forces)
    force = forces.resolve(str(found["force"])) or str(found["force"]) if found.get("force") else None
    year, period = _year(found.get("year"), found.get("period"))
    pillar = _pillar(found.get("pillar"))
    text_title = str(found.get("title") or title)
    scope, covered = _scope(text_title, head, force, forces)
    flags = []
    if scope == "force" and not force:
        flags.append("force not found")
    if year is None:
        flags.append("year not found")
    return ReportMeta(
        title=text_title, force=force if scope == "force" else None, year=year, period=period, pillar=pillar,
        published=_date(found.get("published")), url=str(found["url"]) if found.get("url") else None,
        scope=scope, forces=covered, sources=sources, flags=tuple(flags))


def _from_line(line: str, put, forces: ForceRegistry) -> None:
    line = line.strip().lstrip("#").strip()
    if not line:
        return
    m = _FORCE_PEEL.match(line)
    if m and not _NATIONAL.search(m.group("force")):
        put("force", m.group("force").strip(" -–:"), "title")
        put("year", m.group("year"), "title")
    m = _INSPECTION_OF.search(line)
    if m:
        put("force", m.group("force").strip(), "title")
    if re.match(r"^PEEL\b", line, re.IGNORECASE) or re.search(r"\bPEEL\s*:", line):
        if y := _PERIOD.search(line) or _YEAR.search(line):
            put("year", y.group(0), "title")
    if re.fullmatch(r"(?:police\s+)?(effectiveness|efficiency|legitimacy|leadership)", line, re.IGNORECASE):
        put("pillar", line.split()[-1], "first lines")
    p = _PILLAR.search(line)
    if p and len(line) <= 120 and "PEEL" in line:
        put("pillar", p.group(1), "title")
    d = _PUBLISHED.match(line)
    if d:
        put("published", d.group("date"), "first lines")


def _from_file_name(document: str, put, forces: ForceRegistry) -> None:
    stem = PurePosixPath(document).stem
    words = re.split(r"[-_.\s]+", stem)
    text = " ".join(words)
    if m := _PERIOD.search(text.replace(" ", "-")):
        put("year", m.group(0), "file name")
    elif m := _YEAR.search(text):
        put("year", m.group(1), "file name")
    if p := _PILLAR.search(text):
        put("pillar", p.group(1), "file name")
    lead = []
    for w in words:
        if re.fullmatch(r"(?:19|20)\d\d|\d\d|peel", w, re.IGNORECASE) or _PILLAR.fullmatch(w):
            break
        lead.append(w)
    name = " ".join(lead).strip()
    if name and not _NATIONAL.search(name):
        resolved = forces.resolve(name) or forces.resolve(name.title())
        if resolved:
            put("force", resolved, "file name")


def _year(year, period) -> tuple[int | None, str | None]:
    text = f"{period or ''} {year or ''}"
    if m := _PERIOD.search(text):
        start, end = m.group(1), m.group(2)
        return int(start), f"{start}/{end[-2:]}"
    if m := _YEAR.search(text):
        return int(m.group(1)), None
    return None, None


def _pillar(value) -> str | None:
    if not value:
        return None
    m = _PILLAR.search(str(value))
    return m.group(1).capitalize() if m else str(value).strip().capitalize()


def _date(value) -> str | None:
    """An ISO date from "2017-03-02", "02/03/2017" (day first, as UK pages write it) or "2 March 2017"."""
    if value in (None, ""):
        return None
    text = str(value)
    if m := re.search(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b", text):
        return m.group(0)
    if m := _DATE_DMY.search(text):
        return f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    if m := _DATE_WORDS.search(text):
        return f"{m.group(3)}-{_MONTHS.index(m.group(2).lower()) + 1:02d}-{int(m.group(1)):02d}"
    return None


def _scope(title: str, head: list[str], force: str | None, forces: ForceRegistry) -> tuple[str, tuple[str, ...]]:
    """A report of one force, or a document covering several ("Police forces: A, B, C", a national overview)."""
    listed = next((line for line in head if re.match(r"^\s*police\s+forces?\s*:", line, re.IGNORECASE)), "")
    covered = tuple(forces.named_in(listed)) if listed else ()
    if _NATIONAL.search(title) or len(covered) > 1:
        return ("national" if _NATIONAL.search(title) else "multi-force"), covered
    if force is None and len(forces.named_in(title)) > 1:
        return "multi-force", tuple(forces.named_in(title))
    return "force", ()


def learned_forces(metas: list[ReportMeta]) -> list[str]:
    """Full force names ("Ashdown Constabulary") the documents' own metadata gives."""
    names = []
    for meta in metas:
        for name in (meta.force, *meta.forces):
            if name and FORCE_NAME.fullmatch(name):
                names.append(name)
    return list(dict.fromkeys(names))


def with_force(meta: ReportMeta, forces: ForceRegistry) -> ReportMeta:
    """The same metadata with its force resolved against a registry that now knows the whole corpus."""
    resolved = forces.resolve(meta.force) if meta.force else None
    if not resolved or resolved == meta.force:
        return meta
    flags = tuple(f for f in meta.flags if f != "force not found")
    return replace(meta, force=resolved, flags=flags)


def explicit_fields(front: dict, sidecar: dict) -> dict:
    """Front matter over sidecar, keeping only metadata fields, with "_sources" naming where each came from."""
    out: dict = {"_sources": {}}
    for source, fields in (("front matter", front), ("sidecar", sidecar)):
        for key in FIELDS:
            if key in fields and fields[key] not in (None, "") and key not in out:
                value = fields[key] if isinstance(fields[key], (str, int)) else str(fields[key])
                if key == "url" and isinstance(value, str) and len(value) > LIMITS.url_chars:
                    continue  # a cut URL is a dead link: left out (a longer one is not a real report's)
                out[key] = clip(value, LIMITS.title_chars) if isinstance(value, str) and key != "url" else value
                out["_sources"][key] = source
    return out
