"""Answers and sources as chat markdown and panel HTML. Pure functions; every report or user string is
escaped, so HTML or script in a report or a question is shown literally and never runs."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import quote, unquote

from .answer import Answer, Quote, segments
from .sourceview import source_html  # noqa: F401 - the panel's HTML, kept importable from here

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$])")
_FOLLOW_UP = re.compile(
    r"^\s*(?:and|but|also|so|then|what\s+about|how\s+about|what\s+else|anything\s+else|why|how\s+come|"
    r"tell\s+me\s+more|more\s+on\s+that|and\s+what)\b",
    re.IGNORECASE,
)


def escape_md(text: str) -> str:
    """Text that renders literally in markdown: HTML entities escaped, markdown punctuation backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def is_follow_up(question: str) -> bool:
    """A short or referring follow-up ("and what about children?", "why?") that needs the last question."""
    q = question.strip()
    return bool(_FOLLOW_UP.match(q)) or len(re.findall(r"\w+", q)) <= 1


def relevance_label(score: float, best: float) -> str:
    """A plain cue rather than a raw score: how this quote compares with the best one."""
    ratio = score / best if best > 0 else 0
    return "strong match" if ratio >= 0.9 else "related" if ratio >= 0.7 else "weaker match"


SOURCE_ANCHOR = "#peelqa-src/"


def source_link(document: str, start: int, end: int) -> str:
    """The in-page link a citation carries; the page's script turns a click into opening the source."""
    return f"{SOURCE_ANCHOR}{quote(document, safe='')}/{start}/{end}"


def parse_source_link(ref: str) -> tuple[str, int, int]:
    """(document, start, end) from what follows SOURCE_ANCHOR; raises ValueError when malformed."""
    doc, start, end = ref.split("|", 1)[0].rsplit("/", 2)
    return unquote(doc), int(start), int(end)


COPY_ANCHOR = "#peelqa-copy/"


def copy_link(spans: Sequence[tuple[str, int, int]]) -> str:
    """A "copy" link for one or more quotes: the page's script asks the server for their plain text (the text
    is never carried in the page, so nothing of it is ever parsed as markup). Document names are
    percent-encoded, so "+" only ever separates quotes."""
    return COPY_ANCHOR + "+".join(f"{quote(d, safe='')}/{s}/{e}" for d, s, e in spans)


def parse_copy_link(ref: str) -> list[tuple[str, int, int]]:
    """[(document, start, end)] from what follows COPY_ANCHOR; raises ValueError when malformed."""
    return [parse_source_link(part) for part in ref.split("|", 1)[0].split("+")]


def copy_text(quotes: Sequence[tuple[str, str, str | None]]) -> str:
    """What "Copy quote" / "Copy answer" put on the clipboard, for a document: each (text, citation, url) as
    the exact text in quotation marks, its citation on the next line (and its source URL where known); quotes
    apart by a blank line. Plain text: no markdown, no escapes."""
    return "\n\n".join(f"“{text}”\n{citation}" + (f"\n{url}" if url else "") for text, citation, url in quotes)


def _span(q: Quote) -> tuple[str, int, int]:
    return q.passage.document, q.passage.start, q.passage.end


def _quote_md(q: Quote, best: float, answered: bool) -> str:
    # Bold only where the quote answers (its sentences near the answer's best); never in a refusal.
    marks = q.emphasis if answered else ()
    body = "".join(f"**{escape_md(t)}**" if hot else escape_md(t) for t, hot in segments(q.passage.text, marks))
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in body.split("\n"))
    p = q.passage
    cite = f"[{escape_md(p.citation)}]({source_link(p.document, p.start, p.end)})"
    # Relevance in words: a raw score ("1.33") means nothing to a reader; the JSON keeps it.
    cue = "closest match" if not answered else "weaker match" if q.weak else relevance_label(q.score, best)
    return f"**[{q.rank}]** {cite} · _{cue}_ · [Copy quote]({copy_link([_span(q)])})\n\n{quoted}"


def _collapsed(summary: str, body: str) -> str:
    """A <details> block the chat's sanitizer keeps: closed until clicked. The blank lines let the markdown
    inside it render as markdown."""
    return f"<details><summary>{html.escape(summary)}</summary>\n\n{body}\n\n</details>"


def _grades_md(answer: Answer) -> str:
    """"Grade: good (PEEL 2017). Earlier: requires improvement (PEEL 2016)." for a grade question."""
    if not answer.grades:
        return ""
    first, *earlier = answer.grades
    text = (f"**Grade for {escape_md(first['area_label'].lower())}: {escape_md(first['grade'])}** "
            f"({escape_md(first['force'] or '')}, PEEL {escape_md(str(first['period'] or first['year']))})")
    if earlier:
        text += ". Earlier: " + "; ".join(f"{escape_md(g['grade'])} (PEEL {escape_md(str(g['period'] or g['year']))})"
                                         for g in earlier)
    return text


def by_report_md(answer: Answer) -> str:
    """The comparison as a table: one row per report, its grade where asked, its best quote or "not covered"."""
    if not answer.by_report:
        return ""
    graded = any(r.grade for r in answer.by_report)
    head = "| Report | " + ("Grade | " if graded else "") + "Best quote |"
    rows = [head, "|---|" + ("---|" if graded else "") + "---|"]
    for r in answer.by_report:
        if r.covered and r.quote:
            p = r.quote.passage
            quote = escape_md(" ".join(p.text.split()))
            cell = f"“{quote[:400]}{'…' if len(quote) > 400 else ''}” [para {p.paragraph}]" \
                   f"({source_link(p.document, p.start, p.end)})"
        else:
            cell = "_not covered_"
        grade = f"{escape_md(r.grade or '–')} | " if graded else ""
        rows.append(f"| {escape_md(r.report)} | {grade}{cell} |")
    return "**By report**\n\n" + "\n".join(rows)


def answer_markdown(answer: Answer) -> str:
    """The bot's chat message: quotes best first, each with its citation; refusals say so plainly."""
    parts = []
    if answer.context:
        parts.append(f"_Read as a follow-up to: “{escape_md(answer.context)}”_")
    if answer.reason:
        parts.append(f"**{escape_md(answer.reason)}**")
        return "\n\n".join(parts)
    if answer.scope:
        parts.append(f"_{escape_md(answer.scope)}_")
    if not answer.quotes:
        parts.append("No passages match (check the filters).")
        return "\n\n".join(parts)
    if grades := _grades_md(answer):
        parts.append(grades)
    best = answer.quotes[0].score
    copy_all = f"[Copy answer]({copy_link([_span(q) for q in answer.quotes])})"
    if not answer.answered:
        # The refusal first; its closest matches are there to check, not to read as answers.
        parts.append("**The indexed reports do not appear to cover this question.**")
        body = "\n\n".join(_quote_md(q, best, False) for q in answer.quotes)
        n = len(answer.quotes)
        parts.append(_collapsed(f"Show the closest {'match' if n == 1 else f'{n} matches'}, which may not "
                                "answer it", body + f"\n\n{copy_all}"))
    else:
        # Quote [1] always shows; the others only when they would have answered on their own (not weak).
        shown = [q for q in answer.quotes if q.rank == 1 or not q.weak]
        hidden = [q for q in answer.quotes if q.rank != 1 and q.weak]
        # Copy answer copies what is shown: the hidden weaker matches would not have answered on their own.
        copy_shown = f"[Copy answer]({copy_link([_span(q) for q in shown])})"
        parts.append(f"From the reports ({copy_shown})")
        parts.append("\n\n".join(_quote_md(q, best, True) for q in shown))
        if hidden:
            parts.append(_collapsed(f"{len(hidden)} weaker {'match' if len(hidden) == 1 else 'matches'} hidden",
                                    "\n\n".join(_quote_md(q, best, True) for q in hidden)))
    if table := by_report_md(answer):
        parts.append(table)
    return "\n\n".join(parts)


PAGE_ANCHOR = "#peelqa-page/"


def page_link(document: str, page: int, start: int, end: int) -> str:
    """A link to another page of a PDF source, keeping the quote's span (to highlight it there too)."""
    return f"{PAGE_ANCHOR}{quote(document, safe='')}/{page}/{start}/{end}"


def parse_page_link(ref: str) -> tuple[str, int, int, int]:
    """(document, page, start, end) from what follows PAGE_ANCHOR; raises ValueError when malformed."""
    doc, page, start, end = ref.split("|", 1)[0].rsplit("/", 3)
    return unquote(doc), int(page), int(start), int(end)


def page_html(view: dict, document: str, start: int, end: int) -> str:
    """A PDF page as an image with the quote highlighted, and links to the pages before and after it."""
    import base64

    page, count = view["page"], view["pages"]
    nav = []
    if page > 0:
        nav.append(f'<a href="{page_link(document, page - 1, start, end)}">‹ previous page</a>')
    nav.append(f"page {html.escape(view['label'])} ({page + 1} of {count})")
    if page + 1 < count:
        nav.append(f'<a href="{page_link(document, page + 1, start, end)}">next page ›</a>')
    data = base64.b64encode(view["png"]).decode("ascii")
    return (f'<div class="peelqa-page"><p class="peelqa-page-nav">{" · ".join(nav)}</p>'
            f'<img src="data:image/png;base64,{data}" alt="Page {html.escape(view["label"])} of '
            f'{html.escape(document)}, the quote highlighted" style="max-width:100%"></div>')
