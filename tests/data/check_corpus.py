#!/usr/bin/env python3
"""Check the fictional test corpus and tests/data/multi_questions.jsonl against the fixture rules.

Stdlib only. Run from anywhere:  python3 tests/data/check_corpus.py
Exits 0 when every rule holds, 1 (after listing every failure) otherwise.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
QUESTIONS = CORPUS.parent / "multi_questions.jsonl"
README = CORPUS.parent / "corpus.md"  # the corpus's notes live beside it, so the folder holds only reports
NOT_DOCUMENTS: set[str] = set()

# Every report in the corpus: shape and the metadata route it exercises.
# shape: effectiveness-txt | effectiveness-md | efficiency | legitimacy | webpage | press | overview | integrated
# route: title (first line "<Force> PEEL <year>" or an integrated title), frontmatter, sidecar, csv, filename
MANIFEST: dict[str, tuple[str, str]] = {
    "ashdown-peel-2015-effectiveness.txt": ("effectiveness-txt", "title"),
    "ashdown-peel-2016-effectiveness.txt": ("effectiveness-txt", "title"),
    "ashdown-peel-2016-efficiency.txt": ("efficiency", "title"),
    "ashdown-peel-2017-effectiveness.md": ("webpage", "frontmatter"),
    "ashdown-peel-2021-22.md": ("integrated", "title"),
    "greyhaven-peel-2015-effectiveness.md": ("webpage", "frontmatter"),
    "greyhaven-peel-2016-effectiveness.txt": ("effectiveness-txt", "title"),
    "greyhaven-2016-legitimacy.txt": ("legitimacy", "filename"),
    "greyhaven-peel-2017-effectiveness.txt": ("effectiveness-txt", "title"),
    "marwick-peel-2015-effectiveness.txt": ("effectiveness-txt", "title"),
    "marwick-peel-2016-effectiveness.md": ("webpage", "csv"),
    "marwick-peel-2017-effectiveness.txt": ("effectiveness-txt", "title"),
    "marwick-peel-2017-legitimacy.md": ("legitimacy", "frontmatter"),
    "marwick-peel-2021-22.md": ("integrated", "title"),
    "thornbury-peel-2015-effectiveness.txt": ("effectiveness-txt", "title"),
    "thornbury-peel-2016-effectiveness.txt": ("effectiveness-txt", "title"),
    "thornbury-peel-2016-efficiency.txt": ("efficiency", "sidecar"),
    "thornbury-peel-2017-effectiveness.md": ("effectiveness-md", "frontmatter"),
    "loxley-vale-peel-2015-effectiveness.md": ("webpage", "sidecar"),
    "loxley-vale-peel-2016-effectiveness.txt": ("effectiveness-txt", "title"),
    "loxley-vale-peel-2017-effectiveness.txt": ("effectiveness-txt", "title"),
    "loxley-vale-peel-2017-efficiency.txt": ("efficiency", "csv"),
    "west-caldermoor-peel-2015-effectiveness.txt": ("effectiveness-txt", "title"),
    "west-caldermoor-peel-2016-effectiveness.txt": ("effectiveness-txt", "title"),
    "west-caldermoor-peel-2017-effectiveness.md": ("webpage", "frontmatter"),
    "severnshire-peel-2015-effectiveness.txt": ("effectiveness-txt", "title"),
    "severnshire-peel-2016-effectiveness.md": ("webpage", "sidecar"),
    "severnshire-peel-2016-legitimacy.txt": ("legitimacy", "csv"),
    "severnshire-peel-2017-effectiveness.txt": ("effectiveness-txt", "title"),
    "severnshire-peel-2021-22.txt": ("integrated", "title"),
    "brackenfield-peel-2015-effectiveness.txt": ("effectiveness-txt", "title"),
    "brackenfield-peel-2016-effectiveness.txt": ("effectiveness-txt", "title"),
    "brackenfield-peel-2017-effectiveness.txt": ("effectiveness-txt", "title"),
    "press-releases-2016-effectiveness.md": ("press", "title"),
    "press-releases-2017-effectiveness.md": ("press", "title"),
    "national-overview-2016-effectiveness.md": ("overview", "title"),
}

SHAPE_MINIMUMS = {
    "effectiveness-txt": 3, "webpage": 3, "efficiency": 2, "legitimacy": 2,
    "press": 2, "overview": 1, "integrated": 3,
}
ROUTE_RANGES = {"frontmatter": (4, 6), "sidecar": (2, 3), "csv": (2, 3), "filename": (1, 1)}
META_KEYS = ["force", "year", "pillar", "title", "published", "url"]
CSV_COLUMNS = ["file", "force", "year", "pillar", "title", "published", "url"]
DOC_BYTES = (2000, 6144)

# How each corpus force may be written in a question (full name, short form, abbreviation, misspellings used).
FORCES: dict[str, str] = {
    "ashdown": r"ashdown|ashdwon",
    "greyhaven": r"greyhaven|grayhaven|greyhavn",
    "marwick": r"marwick|marwik",
    "thornbury": r"thornbury|thornbery",
    "loxley-vale": r"loxley|loxely",
    "west-caldermoor": r"west caldermoor|caldermoor|\bwcp\b",
    "severnshire": r"severnshire|severnshir|\bsc\b",
    "brackenfield": r"brackenfield|brackenfeild",
}
ALIASES = r"\bSC\b|\bWCP\b|\bsc\b|\bwcp\b|\bloxley(?!\s+vale)|\bLoxley(?!\s+Vale)"
YEAR = re.compile(r"\b(2015|2016|2017|2021/22|2021-22|2021)\b")
GRADE_WORDS = re.compile(r"outstanding|good|adequate|requires improvement|inadequate", re.I)
# Names from another fixture set, never to appear here, and facts the unanswerable questions rely on being absent.
FORBIDDEN_IN_CORPUS = ["Northmoor", "Eastvale", "Harrowford", "Westmarch", "Kingsbridge", "Fenland Vale",
                       "Taser", "Durham", "Kent", "Rivermead", "Devon", "sickness absence", "per 1,000",
                       "Cleveland", "Chief Constable"]

MIN_KINDS = {"scoped": 20, "year": 12, "pillar": 6, "grade": 14, "improve": 6, "alias": 5, "generic": 6,
             "comparative": 8, "unanswerable": 18}
KINDS = set(MIN_KINDS) | {"mention"}
UNIQUE_KINDS = {"scoped", "year", "grade", "pillar", "alias", "mention", "improve", "generic"}

# Lines that are page furniture, not report text: a gold string must never sit in one of them.
BOILERPLATE = [
    re.compile(p) for p in (
        r"^Skip to content$", r"cookie", r"^Home > ", r"^Last updated \d\d/\d\d/\d{4}$", r"^Published on: ",
        r"^Read more about ", r"^(Share|Print this page|Share on|Share this page)", r"^Back to top$",
        r"©", r"^Is this page useful\?", r"\| (Accessibility|Privacy|Cookies|Contact)",
    )
]
GRADE_LINE = re.compile(r"^(Outstanding|Good|Adequate|Requires improvement|Inadequate)$")

failures: list[str] = []


def fail(msg: str) -> None:
    failures.append(msg)


def front_matter(text: str) -> tuple[dict[str, str] | None, int]:
    """The YAML front matter as flat key: value pairs, and the offset where the body starts."""
    if not text.startswith("---\n"):
        return None, 0
    end = text.find("\n---\n", 4)
    if end < 0:
        return None, 0
    meta = {}
    for line in text[4:end].splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    return meta, end + 5


def body_lines(name: str, text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) for every non-blank line of the report body; kind is heading/boilerplate/text."""
    _, body_start = front_matter(text)
    out = []
    pos = 0
    first = True
    for raw in text.splitlines(keepends=True):
        start, end = pos, pos + len(raw.rstrip("\n"))
        pos += len(raw)
        line = text[start:end].strip()
        if start < body_start or not line:
            continue
        kind = "text"
        if any(p.search(line) for p in BOILERPLATE):
            kind = "boilerplate"
        elif first or line.startswith("#") or (line.endswith("?") and not line.startswith("- ")) \
                or GRADE_LINE.match(line):
            kind = "heading"
        elif len(line) <= 60 and len(line.split()) <= 8 and line[-1] not in ".!?:;," and not line.startswith("- "):
            kind = "heading"  # short label such as "Areas for improvement" or "Causes of concern"
        first = False
        out.append((start, end, kind))
    return out


def main() -> int:
    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted(CORPUS.iterdir())
            if p.suffix in (".txt", ".md") and p.name not in NOT_DOCUMENTS}
    lines = {name: body_lines(name, text) for name, text in docs.items()}

    # ---- corpus ----
    if set(docs) != set(MANIFEST):
        fail(f"corpus files differ from MANIFEST: extra {sorted(set(docs) - set(MANIFEST))}, "
             f"missing {sorted(set(MANIFEST) - set(docs))}")
    if not 30 <= len(docs) <= 36:
        fail(f"{len(docs)} documents; expected 30-36")
    for name, text in docs.items():
        if name != name.lower() or " " in name:
            fail(f"{name}: file names are lower-case and hyphenated")
        size = len(text.encode("utf-8"))
        if not DOC_BYTES[0] <= size <= DOC_BYTES[1]:
            fail(f"{name}: {size} bytes, outside {DOC_BYTES}")
        for word in FORBIDDEN_IN_CORPUS:
            if word in text:
                fail(f"{name}: contains forbidden text {word!r}")
        if "\r" in text or "\t" in text:
            fail(f"{name}: contains CR or tab")
    shapes = Counter(s for s, _ in MANIFEST.values())
    routes = Counter(r for _, r in MANIFEST.values())
    for shape, least in SHAPE_MINIMUMS.items():
        if shapes[shape] < least:
            fail(f"shape {shape}: {shapes[shape]} documents, need at least {least}")
    for route, (lo, hi) in ROUTE_RANGES.items():
        if not lo <= routes[route] <= hi:
            fail(f"route {route}: {routes[route]} documents, need {lo}-{hi}")

    forces_years: dict[str, set[str]] = {}
    for name in MANIFEST:
        m = re.match(r"([a-z-]+?)-(?:peel-)?(2015|2016|2017|2021-22)-", name + "-")
        if m and not name.startswith(("press-", "national-")):
            forces_years.setdefault(m.group(1), set()).add(m.group(2))
    for force in FORCES:
        if not {"2015", "2016", "2017"} <= forces_years.get(force, set()):
            fail(f"force {force}: needs reports for 2015, 2016 and 2017, has {sorted(forces_years.get(force, []))}")

    # metadata routes
    csv_path = CORPUS / "reports.csv"
    csv_files: set[str] = set()
    with csv_path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != CSV_COLUMNS:
            fail(f"reports.csv columns {reader.fieldnames}, expected {CSV_COLUMNS}")
        for row in reader:
            csv_files.add(row["file"])
            if any(not row[c] for c in CSV_COLUMNS):
                fail(f"reports.csv: empty value in {row}")
    for name, (shape, route) in MANIFEST.items():
        if name not in docs:
            continue
        text = docs[name]
        fm, _ = front_matter(text)
        sidecar = CORPUS / f"{name}.meta.json"
        has = {"frontmatter": fm is not None, "sidecar": sidecar.exists(), "csv": name in csv_files}
        for r, present in has.items():
            if present != (route == r):
                fail(f"{name}: route {route} but {r} {'present' if present else 'missing'}")
        if fm is not None and list(fm) != META_KEYS:
            fail(f"{name}: front matter keys {list(fm)}, expected {META_KEYS}")
        if sidecar.exists():
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            if list(meta) != META_KEYS or not isinstance(meta["year"], int):
                fail(f"{sidecar.name}: keys {list(meta)} (year must be an int)")
        first = text.splitlines()[0]
        if route == "title" and shape not in ("press", "overview", "integrated", "webpage") \
                and not re.fullmatch(r".+ PEEL (2015|2016|2017)", first):
            fail(f"{name}: title route but first line is {first!r}")
        if route == "title" and shape == "integrated" and "2021/22" not in first:
            fail(f"{name}: integrated report title must carry 2021/22: {first!r}")
        if route == "filename" and (re.search(r"20\d\d", text) or "Greyhaven" in text):
            fail(f"{name}: force and year must be findable only from the file name")
        if shape == "webpage":
            for needed in ("Skip to content", "Home > Our work > Police forces > ", "Last updated ",
                           "Published on: ", "Read more about ", "©"):
                if needed not in text:
                    fail(f"{name}: web page lacks {needed!r}")
        if shape == "press" and len(re.findall(r"judged that .+:\n", text)) < 3:
            fail(f"{name}: press release needs several 'judged that <Force>:' lead-ins")
        if shape == "integrated":
            for word in ("Adequate", "Requires improvement", "Areas for improvement", "Causes of concern"):
                if word not in text and word.lower() not in text:
                    fail(f"{name}: integrated report lacks {word!r}")
    for f in csv_files:
        if f not in docs:
            fail(f"reports.csv names {f}, which is not in the corpus")
    for side in CORPUS.glob("*.meta.json"):
        if side.name[: -len(".meta.json")] not in docs:
            fail(f"{side.name}: no such report")

    # ---- questions ----
    readme = README.read_text(encoding="utf-8") if README.exists() else ""
    if not readme:
        fail("corpus.md missing")
    records = []
    for n, raw in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            fail(f"line {n}: blank line")
            continue
        try:
            records.append(json.loads(raw))
        except json.JSONDecodeError as e:
            fail(f"line {n}: bad JSON ({e})")
    ids = Counter(r.get("id") for r in records)
    for i, c in ids.items():
        if c > 1:
            fail(f"id {i} used {c} times")
    texts = Counter(r.get("question", "").strip().lower() for r in records)
    for q, c in texts.items():
        if c > 1:
            fail(f"question repeated: {q!r}")
    kinds = Counter(r.get("kind") for r in records)
    for kind, least in MIN_KINDS.items():
        if kinds[kind] < least:
            fail(f"kind {kind}: {kinds[kind]} questions, need at least {least}")
    if len(records) < 110:
        fail(f"{len(records)} questions, need at least 110")

    for r in records:
        rid = r.get("id", "?")
        keys = ["id", "question", "answerable", "gold", "kind", "rows"]
        if list(r) != keys:
            fail(f"{rid}: keys {list(r)}, expected {keys}")
            continue
        if not re.fullmatch(r"m\d{3}", rid):
            fail(f"{rid}: id must look like m001")
        kind, gold, rows, q = r["kind"], r["gold"], r["rows"], r["question"]
        if kind not in KINDS:
            fail(f"{rid}: unknown kind {kind!r}")
            continue
        if not isinstance(q, str) or len(q.strip()) < 5:
            fail(f"{rid}: question too short")
        if kind == "unanswerable":
            if r["answerable"] is not False or gold != [] or rows != []:
                fail(f"{rid}: unanswerable needs answerable false, gold [] and rows []")
            continue
        if r["answerable"] is not True or not gold:
            fail(f"{rid}: answerable questions need answerable true and gold")
            continue
        for row in rows:
            if row not in docs:
                fail(f"{rid}: row {row} is not a corpus report")
        if kind == "comparative":
            if len(rows) < 2 or len(rows) != len(gold) or len(set(rows)) != len(rows):
                fail(f"{rid}: comparative needs >= 2 distinct rows and one gold per row")
                continue
        elif len(rows) != 1:
            fail(f"{rid}: {kind} needs exactly one row (the intended report)")
            continue
        q_low = q.lower()
        named = [f for f, pat in FORCES.items() if re.search(pat, q_low)]
        if kind in ("scoped", "year", "grade", "pillar", "improve", "alias") and not named:
            fail(f"{rid}: {kind} question names no corpus force: {q!r}")
        if kind in ("scoped", "year", "grade", "pillar", "improve", "alias"):
            row_force = next((f for f in FORCES if rows[0].startswith(f)), None)
            if row_force not in named:
                fail(f"{rid}: question names {named}, intended report is {rows[0]}")
        if kind == "generic" and named:
            fail(f"{rid}: generic question names a force ({named})")
        if kind == "alias" and not re.search(ALIASES, q):
            fail(f"{rid}: alias question uses no abbreviation or short form")
        if kind == "year":
            m = YEAR.search(q)
            row_year = re.search(r"(2015|2016|2017|2021-22)", rows[0])
            if not m or not row_year or m.group(1)[:4] != row_year.group(1)[:4]:
                fail(f"{rid}: year question must name the intended report's year")
            else:
                force = next(f for f in FORCES if rows[0].startswith(f))
                if len(forces_years.get(force, ())) < 2:
                    fail(f"{rid}: force has only one year")
        for g_i, g in enumerate(gold):
            if not isinstance(g, str) or not 12 <= len(g) <= 80:
                fail(f"{rid}: gold {g!r} must be 12-80 characters")
                continue
            if "\n" in g or "\r" in g:
                fail(f"{rid}: gold {g!r} crosses a line break")
                continue
            if g in readme:
                fail(f"{rid}: gold {g!r} also appears in corpus.md")
            holders = [name for name, text in docs.items() if g in text]
            target = rows[g_i] if kind == "comparative" else rows[0]
            if target not in holders:
                fail(f"{rid}: gold {g!r} not found in {target}")
                continue
            if (kind in UNIQUE_KINDS or kind == "comparative") and holders != [target]:
                fail(f"{rid}: gold {g!r} occurs in {len(holders)} files: {holders}")
            text = docs[target]
            for start in [m.start() for m in re.finditer(re.escape(g), text)]:
                line = next(((s, e, k) for s, e, k in lines[target] if s <= start < e), None)
                if line is None:
                    fail(f"{rid}: gold {g!r} lies outside the report body (front matter?)")
                    continue
                s, e, k = line
                if k != "text":
                    fail(f"{rid}: gold {g!r} lies in a {k} line of {target}")
                content = text[s:e].lstrip()
                marker = re.match(r"[-*•–]\s+", content)
                if marker and start < s + (len(text[s:e]) - len(content)) + marker.end():
                    fail(f"{rid}: gold {g!r} includes a bullet marker")
            if kind == "grade" and not GRADE_WORDS.search(g):
                fail(f"{rid}: grade gold {g!r} carries no grade word")

    if failures:
        for f in failures:
            print("FAIL", f)
        print(f"{len(failures)} failure(s)")
        return 1
    print(f"ok: {len(docs)} reports; {len(records)} questions; "
          + ", ".join(f"{k} {kinds[k]}" for k in sorted(kinds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
