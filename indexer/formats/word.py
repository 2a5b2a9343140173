"""Word (.docx) reports: paragraphs in order, heading styles as "# " headings, list styles as "- " and "1. " items,
tables as rows with their cells joined by " | ", as text the report parser reads."""

from __future__ import annotations

import io
import re


def docx_text(data: bytes) -> str:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    blocks: list[str] = []
    numbers: dict[str, int] = {}
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = re.sub(r"[ \t]+", " ", paragraph.text).strip()
            if not text:
                continue
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            if style == "Title":
                blocks.append(f"# {text}")
            elif m := re.match(r"Heading (\d)", style):
                blocks.append("#" * min(int(m.group(1)) + 1, 6) + " " + text)
            elif "List Number" in style:
                numbers[style] = numbers.get(style, 0) + 1
                blocks.append(f"{numbers[style]}. {text}")
                continue
            elif "List" in style:
                blocks.append(f"- {text}")
            else:
                blocks.append(text)
            numbers.clear()
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells = list(dict.fromkeys(" ".join(c.text.split()) for c in row.cells))
                if any(cells):
                    blocks.append(" | ".join(c for c in cells if c))
    return "\n\n".join(blocks) + "\n"
