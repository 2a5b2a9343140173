"""Saved web pages: the main content only (trafilatura finds it; navigation, cookie banners, sidebars and footers
are left out), as text the report parser reads: headings as "# " lines, paragraphs, "- " list items, table rows
with their cells joined by " | ". Whitespace inside a paragraph is what a browser shows: single spaces."""

from __future__ import annotations

import re


def html_text(html: str) -> tuple[str, dict]:
    """(text, hints): the page's main content, and its title and date where the page states them."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(html, output_format="xml", include_tables=True, include_comments=False,
                              include_formatting=False, include_links=False, favor_precision=True,
                              with_metadata=True)
    if not xml:
        return "", {}
    root = etree.fromstring(xml.encode("utf-8"))
    hints = {k: root.get(k) for k in ("title", "date", "url") if root.get(k)}
    main = root.find("main")
    blocks: list[str] = []
    title = hints.get("title")
    if title:
        blocks.append(f"# {_clean(title)}")
    for el in (main if main is not None else root).iter("head", "p", "item", "row"):
        text = _clean("".join(el.itertext()))
        if not text:
            continue
        if el.tag == "head":
            level = int((el.get("rend") or "h2").lstrip("h") or 2)
            if title and text == _clean(title):
                continue
            blocks.append("#" * max(2, min(level, 6)) + " " + text)
        elif el.tag == "item":
            blocks.append("- " + text)
        elif el.tag == "row":
            cells = [_clean("".join(c.itertext())) for c in el.iter("cell")]
            blocks.append(" | ".join(c for c in cells if c))
        elif el.getparent() is None or el.getparent().tag not in ("item", "cell"):
            blocks.append(text)
    if date := hints.get("date"):
        hints["published"] = date
    return "\n\n".join(blocks) + "\n", hints


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
