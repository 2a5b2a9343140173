"""The Grades and Find views as HTML and markdown, and the reports list as data. Pure functions over data; every
string shown is escaped."""

from __future__ import annotations

import html

from .find import Mentions
from .render import escape_md, source_link

GRADE_CLASS = {"outstanding": "g-outstanding", "good": "g-good", "adequate": "g-adequate",
               "requires improvement": "g-ri", "inadequate": "g-inadequate"}


REPORT_KEYS = ("file", "title", "force", "year", "period", "pillar", "scope", "forces", "published", "url",
               "passages", "flags", "sources", "sha256", "indexed_at")


def report_records(manifest: dict) -> list[dict]:
    """The indexed reports as data: one record per report (`peelqa reports --json`, GET /api/reports)."""
    return [{k: d.get(k) for k in REPORT_KEYS} for d in manifest.get("documents", [])]


def grades_html(areas: list[str], rows: list[list[dict | None]], labels: list[str]) -> str:
    """Forces × areas: each cell a link to the sentence that states the grade (opens it in the source panel)."""
    if not rows:
        return "<p>No grades found in the indexed reports.</p>"
    head = "".join(f"<th scope='col'>{html.escape(a)}</th>" for a in areas)
    body = []
    for label, cells in zip(labels, rows, strict=True):
        tds = []
        for cell in cells:
            if not cell:
                tds.append("<td class='g-none'>–</td>")
                continue
            link = html.escape(source_link(cell["document"], cell["start"], cell["end"]))
            title = html.escape(" ".join(cell["sentence"].split()))
            tds.append(f"<td class='{GRADE_CLASS.get(cell['grade'], '')}'><a href='{link}' title='{title}'>"
                       f"{html.escape(cell['grade'].capitalize())}</a>"
                       f"{'' if cell['source'] == 'report' else ' <small>(national)</small>'}</td>")
        body.append(f"<tr><th scope='row'>{html.escape(label)}</th>{''.join(tds)}</tr>")
    return (f"<div class='peelqa-grades'><table><thead><tr><th scope='col'>Report</th>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def mentions_markdown(found: Mentions, limit: int = 200) -> str:
    """Counts per report (every report searched, so zero is shown too), then each mention with its citation."""
    reports_with = [(r, c) for _, r, c in found.reports if c]
    lines = [f"**{len(found.mentions)} mention(s) of “{escape_md(found.phrase)}”** in {len(reports_with)} of "
             f"{len(found.reports)} reports" + (" (word stems matched)" if found.stemmed else "") + "."]
    lines += ["", "| Report | Mentions |", "|---|---|"]
    lines += [f"| {escape_md(r)} | {c} |" for _, r, c in found.reports]
    for m in found.mentions[:limit]:
        p = m.passage
        before = escape_md(p.text[max(0, m.start - 80):m.start])
        after = escape_md(p.text[m.end:m.end + 80])
        lines += ["", f"[{escape_md(p.citation)}]({source_link(p.document, p.start, p.end)}): "
                      f"…{before}**{escape_md(p.text[m.start:m.end])}**{after}…"]
    if len(found.mentions) > limit:
        lines += ["", f"_{len(found.mentions) - limit} more: use `peelqa find --csv` for all of them._"]
    return "\n".join(lines)


WIDE_SCOPES = ("national", "multi-force")  # what the Index table's force column holds for such documents


def indexed_markdown(rows: list[list], shown: int = 6) -> str:
    """The chat's header line: what the answers can come from. A few reports are named one by one
    ("3 reports: Cleveland 2016 Effectiveness, …"); many are summed up by force with their years."""
    if not rows:
        return "**No reports indexed yet.** Add some in the Index tab."
    n = len(rows)
    head = f"**{n} report{'s' if n != 1 else ''} indexed:** "
    if n <= 4:
        names = [" ".join(str(v) for v in (r[1] or r[0], r[2], r[3]) if v) for r in rows]
        return head + escape_md(", ".join(names)) + "."
    years: dict[str, set[str]] = {}
    wide = sum(1 for r in rows if r[1] in WIDE_SCOPES)  # overviews, press releases: no one force's
    for r in rows:
        if r[1] not in WIDE_SCOPES:
            years.setdefault(str(r[1] or r[0] or r[4]), set()).update([str(r[2])] if r[2] else [])
    named = []
    for force in sorted(years)[:shown]:
        span = sorted(years[force])
        named.append(" ".join([force, ", ".join(span) if len(span) <= 3 else f"{span[0]}–{span[-1]}"]).strip())
    more = len(years) - shown
    national = f"; {wide} national or multi-force document{'s' if wide != 1 else ''}" if wide else ""
    return (head + f"{len(years)} force{'s' if len(years) != 1 else ''} — " + escape_md(", ".join(named))
            + (f" and {more} more" if more > 0 else "") + national + ".")


def filters_note(filters: dict[str, list], labels: dict[str, str]) -> str:
    """The line an answer starts with when filters narrowed it: an answer never hides that it was filtered."""
    parts = [f"{labels[key]}: {', '.join(str(v) for v in values)}" for key, values in filters.items() if values]
    return f"_Searched only — {escape_md('; '.join(parts))}._\n\n" if parts else ""
