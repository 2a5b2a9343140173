"""Generate the document-format test fixtures in this folder.

Everything written here is invented: "Ashdown Constabulary", "Harwood Police", "Millbrook", "Kingsford" and
the "Office of the Constabulary Inspectorate" do not exist, and no sentence is taken from a real report.

    python make_fixtures.py                  # (re)write every small fixture and expected.json here
    python make_fixtures.py --long 300 X.pdf # an N-page report for speed benchmarks (do not commit it)

Needs reportlab, python-docx and Pillow. Output is deterministic: reportlab runs with invariant=1 (fixed
dates and document ids, fixed "random" encryption salts), PNG/JPEG bytes come from Pillow with fixed
inputs, and the DOCX zip is rewritten with fixed timestamps and core properties.

Text is laid out line by line by this script (no Platypus), so every line break is known and recorded in
expected.json ("lines" of each PDF paragraph). In the source strings below "~" marks the one place where a
word may be broken across lines: "inves~tigation" is drawn as "inves-" / "tigation" (the joined word is an
ordinary word, the hyphen must go) and "well-~being" as "well-" / "being" (a real compound, the hyphen
stays). The generator asserts that both breaks really happen.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from reportlab import rl_config

rl_config.invariant = 1  # must precede reportlab.lib.pdfencrypt's import: it picks its salt source then

from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.utils import ImageReader  # noqa: E402
from reportlab.pdfbase.pdfmetrics import stringWidth  # noqa: E402
from reportlab.pdfgen import canvas as rl_canvas  # noqa: E402

HERE = Path(__file__).resolve().parent

FORCE = "Ashdown Constabulary"
YEAR = 2016
PILLAR = "Effectiveness"
TITLE = f"{FORCE} PEEL {YEAR}"
RUNNING_HEADER = f"{FORCE} \u2013 PEEL {YEAR}: {PILLAR}"
ENCRYPTED_USER_PASSWORD = "ashdown-2016"
ENCRYPTED_OWNER_PASSWORD = "inspectorate-owner"

# ---------------------------------------------------------------------------------------------- layout
PAGE_W, PAGE_H = A4
LEFT = 72.0
RIGHT = PAGE_W - 72.0
WIDTH = RIGHT - LEFT
BODY_TOP = PAGE_H - 78.0
BODY_BOTTOM = 70.0
HEADER_Y = PAGE_H - 40.0
FOOTER_Y = 34.0
GUTTER = 20.0

REGULAR, BOLD, ITALIC = "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"
BODY_SIZE, BODY_LEADING = 10.5, 14.0
STYLES = {
    # kind: (font, size, leading, space_before, space_after)
    "title": (BOLD, 24.0, 30.0, 0.0, 12.0),
    "pillar": (REGULAR, 16.0, 20.0, 0.0, 0.0),
    "h1": (BOLD, 16.0, 20.0, 18.0, 8.0),
    "h2": (BOLD, 13.0, 17.0, 14.0, 6.0),
    "h3": (BOLD, 11.0, 14.0, 10.0, 4.0),
    "paragraph": (REGULAR, BODY_SIZE, BODY_LEADING, 0.0, 8.0),
    "caption": (ITALIC, 9.5, 12.0, 2.0, 4.0),
    "bullet": (REGULAR, BODY_SIZE, BODY_LEADING, 0.0, 5.0),
    "numbered": (REGULAR, BODY_SIZE, BODY_LEADING, 0.0, 5.0),
}
HEADING_LEVEL = {"h1": 1, "h2": 2, "h3": 3}
LIST_INDENT = 22.0
TABLE_FONT_SIZE, TABLE_ROW_H = 9.5, 18.0
TABLE_COLS = (235.0, 120.0, 96.0)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap. Breaks only at spaces, and inside a word only at a "~" (drawn as a hyphen)."""
    lines: list[str] = []
    cur = ""

    def fits(s: str) -> bool:
        return stringWidth(s, font, size) <= width

    for word in text.split(" "):
        shown = word.replace("~", "")
        cand = f"{cur} {shown}" if cur else shown
        if fits(cand):
            cur = cand
            continue
        if "~" in word:
            parts = word.split("~")
            done = False
            for k in range(len(parts) - 1, 0, -1):
                head = "".join(parts[:k])
                head = head if head.endswith("-") else head + "-"
                cand = f"{cur} {head}" if cur else head
                if fits(cand):
                    lines.append(cand)
                    cur = "".join(parts[k:])
                    done = True
                    break
            if done:
                continue
        if cur:
            lines.append(cur)
        if not fits(shown):
            raise ValueError(f"word too wide for {width}pt: {shown!r}")
        cur = shown
    if cur:
        lines.append(cur)
    return lines


@dataclass
class Block:
    kind: str  # title pillar h1 h2 h3 paragraph caption bullet numbered table pagebreak twocol image toc
    text: str = ""
    marker: str = ""  # "•" / "–" for bullets, "1." for numbered items
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Placed:
    """Where one block went: its lines as drawn and the pages and frames they are on."""

    block: Block
    lines: list[tuple[int, int, str]] = field(default_factory=list)  # (pdf page, frame index, text)

    @property
    def pages(self) -> list[int]:
        return sorted({p for p, _, _ in self.lines})


class StopLayout(Exception):
    pass


def page_label(index: int) -> str:
    """Printed page number of a PDF page index: cover "i", contents "ii", then 1, 2, 3..."""
    return ["i", "ii"][index] if index < 2 else str(index - 1)


class Layout:
    """Draws blocks on a reportlab canvas, one frame (column) at a time, and records every line."""

    def __init__(self, c: rl_canvas.Canvas, max_pages: int | None = None, chart: ImageReader | None = None):
        self.c = c
        self.max_pages = max_pages
        self.chart = chart
        self.page = -1
        self.placed: list[Placed] = []
        self.page_kinds: dict[int, str] = {}  # "cover" | "contents" | "body" | "twocol" | "image"
        self.headers: dict[int, str] = {}
        self.footers: dict[int, str] = {}
        self.frames: list[tuple[float, float]] = []
        self.frame = 0
        self.y = 0.0
        self.frame_top = BODY_TOP
        self.page_open = False
        self.page_has_content = False

    # -- pages
    def _end_page(self) -> None:
        if self.page_open:
            if self.page_kinds[self.page] not in ("cover", "image"):
                label = page_label(self.page)
                self.c.setFont(REGULAR, 9)
                self.c.drawCentredString(PAGE_W / 2, FOOTER_Y, label)
                self.footers[self.page] = label
            self.c.showPage()
            self.page_open = False

    def new_page(self, kind: str = "body", top: float = BODY_TOP) -> None:
        self._end_page()
        if self.max_pages is not None and self.page + 1 >= self.max_pages:
            raise StopLayout
        self.page += 1
        self.page_open = True
        self.page_has_content = False
        self.page_kinds[self.page] = kind
        if kind not in ("cover", "image"):
            self.c.setFont(REGULAR, 8.5)
            self.c.drawString(LEFT, HEADER_Y, RUNNING_HEADER)
            self.c.setLineWidth(0.5)
            self.c.line(LEFT, HEADER_Y - 6, RIGHT, HEADER_Y - 6)
            self.headers[self.page] = RUNNING_HEADER
        self.frames = [(LEFT, WIDTH)]
        self.frame = 0
        self.y = self.frame_top = top

    def finish(self) -> None:
        self._end_page()

    def _next_frame(self) -> None:
        if self.frame + 1 < len(self.frames):
            self.frame += 1
            self.y = self.frame_top
        else:
            self.new_page()

    @property
    def x(self) -> float:
        return self.frames[self.frame][0]

    @property
    def w(self) -> float:
        return self.frames[self.frame][1]

    def _room(self, height: float) -> bool:
        return self.y - height >= BODY_BOTTOM

    # -- drawing
    def _lines(self, placed: Placed, lines: list[str], font: str, size: float, leading: float,
               indent: float = 0.0, marker: str = "") -> None:
        for i, line in enumerate(lines):
            if not self._room(leading):
                self._next_frame()
            self.y -= leading
            self.c.setFont(font, size)
            if i == 0 and marker:
                self.c.drawString(self.x + (6.0 if marker in "•–" else 2.0), self.y, marker)
            self.c.drawString(self.x + indent, self.y, line)
            placed.lines.append((self.page, self.frame, line))
            self.page_has_content = True

    def add(self, b: Block) -> Placed | None:
        k = b.kind
        if k == "pagebreak":
            self.new_page()
            return None
        if k == "image":
            self._image_page()
            return None
        if k == "twocol":
            # A new page whose heading (b.text, an h2) spans both columns; the rest flows column by column.
            self.new_page("twocol")
            placed = self.add(Block("h2", b.text))
            self.frame_top = self.y - 4
            col = (WIDTH - GUTTER) / 2
            self.frames = [(LEFT, col), (LEFT + col + GUTTER, col)]
            self.frame, self.y = 0, self.frame_top
            return placed
        placed = Placed(b)
        if k == "table":
            self._table(placed)
        else:
            font, size, leading, before, after = STYLES[k]
            indent = LIST_INDENT if k in ("bullet", "numbered") else 0.0
            lines = wrap(b.text, font, size, self.w - indent)
            if self.page_has_content and self.y < self.frame_top:
                self.y -= before
            if k in HEADING_LEVEL:
                # keep a heading with the first lines of what follows it
                if not self._room(len(lines) * leading + 3 * BODY_LEADING):
                    self._next_frame()
            self._lines(placed, lines, font, size, leading, indent, b.marker)
            self.y -= after
        self.placed.append(placed)
        return placed

    def _table(self, placed: Placed) -> None:
        height = TABLE_ROW_H * len(placed.block.rows) + 8
        if not self._room(height):
            self._next_frame()
        c = self.c
        self.y -= 4
        for r, row in enumerate(placed.block.rows):
            top = self.y
            self.y -= TABLE_ROW_H
            font = BOLD if r == 0 else REGULAR
            if r == 0:
                c.setFillGray(0.85)
                c.rect(self.x, self.y, sum(TABLE_COLS), TABLE_ROW_H, stroke=0, fill=1)
                c.setFillGray(0)
            c.setLineWidth(0.5)
            c.line(self.x, self.y, self.x + sum(TABLE_COLS), self.y)
            if r == 0:
                c.line(self.x, top, self.x + sum(TABLE_COLS), top)
            cx = self.x
            c.setFont(font, TABLE_FONT_SIZE)
            for cell, cw in zip(row, TABLE_COLS, strict=True):
                if stringWidth(cell, font, TABLE_FONT_SIZE) > cw - 8:
                    raise ValueError(f"table cell too wide: {cell!r}")
                c.drawString(cx + 4, self.y + 5.5, cell)
                cx += cw
            placed.lines.append((self.page, self.frame, " | ".join(row)))
        self.y -= 10
        self.page_has_content = True

    def _image_page(self) -> None:
        self.new_page("image")
        img_w = WIDTH
        img_h = img_w * 0.7
        self.c.drawImage(self.chart, LEFT, (PAGE_H - img_h) / 2, img_w, img_h)
        self.new_page()  # whatever comes next starts on a fresh page


def chart_png() -> bytes:
    """A bar chart with no text at all (no labels, no numbers): a figure that only exists as pixels."""
    w, h = 900, 630
    im = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(im)
    d.line([(80, 40), (80, 560), (860, 560)], fill=(40, 40, 40), width=4)
    for i in range(1, 6):
        y = 560 - i * 95
        d.line([(80, y), (860, y)], fill=(215, 215, 215), width=2)
    values = [310, 420, 255, 380, 465, 290]
    colours = [(31, 78, 121), (46, 117, 182), (31, 78, 121), (46, 117, 182), (31, 78, 121), (46, 117, 182)]
    for i, (v, col) in enumerate(zip(values, colours, strict=True)):
        x0 = 120 + i * 125
        d.rectangle([x0, 560 - v, x0 + 80, 558], fill=col)
    d.line([(145, 300), (270, 240), (395, 330), (520, 210), (645, 150), (770, 260)], fill=(200, 90, 30), width=6)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=False, compress_level=9)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- content
H1_TOP = "How effective is the force at keeping people safe and reducing crime?"
H2_PREVENT = ("How effective is the force at preventing crime, tackling anti-social behaviour and keeping "
              "people safe?")
H2_INVEST = "How effective is the force at investigating crime and reducing re-offending?"
H2_VULN = "How effective is the force at protecting those who are vulnerable from harm, and supporting victims?"
H2_SOC = "How effective is the force at tackling serious and organised crime?"
H2_SPEC = "How effective are the force\u2019s specialist capabilities?"
AFI = "Areas for improvement"

TABLE_ROWS = [
    ["Area", "Grade", "Change since 2015"],
    ["Preventing crime and anti-social behaviour", "Good", "Improved"],
    ["Investigating crime and reducing re-offending", "Good", "No change"],
    ["Protecting vulnerable people", "Requires improvement", "No change"],
    ["Tackling serious and organised crime", "Good", "Improved"],
]


def P(text: str) -> Block:
    return Block("paragraph", text)


def body_blocks(prefix: str = "") -> list[Block]:
    """The report body after the contents page. `prefix` numbers the parts of the long benchmark report."""
    return [
        Block("h1", prefix + H1_TOP),
        P("Ashdown Constabulary is good at keeping people safe and reducing crime. Our overall judgement is the "
          "same as last year, when we also judged the force to be good. Since then the force has put \u00a32.4 "
          "million into its local policing model, and it has recruited 46 more police community support officers "
          "(PCSOs) to work in the market towns and villages of the county."),
        P("Recorded crime in the county rose by 6 percent in the year to 30 June 2016, which is a smaller rise "
          "than the 9 percent seen in most similar forces. Officers and staff told us that the crime allocation "
          "process introduced in April has improved both the speed and the quality of inves~tigation for "
          "burglary and vehicle crime, and our own file review supports this: 41 of the 50 files we examined met "
          "the expected standard."),
        P("The force has made real progress in the way it protects vulnerable people, but there is more to do. "
          "It still needs to make sure that every child reported as missing is assessed for risk in the same "
          "way, and that victims of domestic abuse who are assessed as \u2018standard risk\u2019 are referred "
          "for support without delay."),
        Block("caption", "Table 1: Effectiveness grades for Ashdown Constabulary, 2016"),
        Block("table", rows=TABLE_ROWS),
        P("Each grade is explained in the sections that follow. Where we describe an \u201carea for "
          "improvement\u201d, we expect the force to have acted on it before our next inspection."),
        Block("pagebreak"),
        Block("h2", H2_PREVENT),
        P("Ashdown Constabulary is good at preventing crime and anti-social behaviour. Neighbourhood teams are "
          "now based in every district, and each team has a named sergeant who is responsible for the "
          "priorities agreed with local people. The force spent \u00a3350,000 on mobile devices so that PCSOs "
          "can update records while out on patrol, and the time they spend in the station has fallen by almost "
          "a quarter."),
        P("Teams use a structured approach to problem-solving. In Millbrook we saw a good example: officers, the "
          "housing association and the youth service worked together and cut repeat calls about one block of "
          "flats by 38 percent in six months. The plan also looked after the general well-~being of "
          "residents, and it included support for two elderly tenants who had been targeted by local youths."),
        P("People we spoke to were positive about the changes. One parish councillor told us, \u201cFor the "
          "first time in years we know who our local officers are, and they turn up when they say they "
          "will.\u201d However, the force does not yet evaluate its problem-solving work in a consistent way, "
          "so it cannot always tell which tactics are working and which are not."),
        P("The force has a clear picture of the threats and risks facing its communities. Its local profiles "
          "draw on data from the council, the fire service and the health service, and they are refreshed "
          "every three months. The force should do more to involve the public in setting local priorities: "
          "only 12% of respondents to its 2016 survey said they had been asked for their views."),
        Block("h3", AFI),
        Block("bullet", "The force should evaluate its problem-solving activity so that it understands which "
                        "tactics reduce crime and anti-social behaviour, and it should share what works between "
                        "neighbourhood teams across the county.", marker="\u2022"),
        Block("bullet", "The force should involve local people more in setting neighbourhood priorities.",
              marker="\u2022"),
        Block("h2", H2_INVEST),
        P("Ashdown Constabulary is good at investigating crime. Calls for service are assessed thoroughly in the "
          "control room, and the force uses a recognised risk assessment model to decide how quickly to "
          "attend. Most crimes are allocated to officers with the right skills, and supervisors review "
          "investigations at set points."),
        P("Victims are usually kept informed of progress. In a survey of 600 victims carried out by the force, "
          "81% said they were satisfied with the way their crime had been investigated, and most of those who "
          "were dissatisfied said that nobody had told them when their case was closed."),
        P("The force has improved the way it recovers digital evidence. A new digital media hub, which cost "
          "\u00a3180,000, means that mobile phones are now examined within 14 days in most cases, compared with "
          "more than two months in 2015. Investigators we interviewed said that this had made a real difference "
          "to cases involving harassment and fraud. The force also makes good use of forensic opportunities, "
          "and the proportion of burglaries in which forensic material is recovered has risen from 22 percent "
          "to 31 percent. However, we found that some investigations into less serious offences were closed "
          "before all reasonable lines of enquiry had been followed, and victims were not always told why."),
        P("The force manages offenders well. We found that it:"),
        Block("numbered", "identifies the offenders who cause the most harm using a scoring matrix that is "
                          "reviewed every month;", marker="1."),
        Block("numbered", "works closely with the probation service and with housing and drug treatment "
                          "providers to reduce re-offending; and", marker="2."),
        Block("numbered", "uses civil orders to restrict the activities of those who continue to offend, "
                          "including 17 orders obtained in 2016.", marker="3."),
        P("The force does not have a clear picture of how many wanted persons and named suspects are "
          "outstanding, and it could not tell us how many of these cases had been reviewed in the last month."),
        Block("h3", AFI),
        Block("bullet", "The force should make sure that all reasonable lines of enquiry are followed before an "
                        "investigation is closed, and that victims are kept informed.", marker="\u2013"),
        Block("bullet", "The force should improve its oversight of wanted persons and outstanding named suspects "
                        "so that those who pose the greatest risk are arrested quickly.", marker="\u2013"),
        Block("twocol", H2_VULN),
        P("Ashdown Constabulary requires improvement in the way it protects vulnerable people and supports "
          "victims. The force has made progress since our last inspection, and leaders are clear that "
          "protecting vulnerable people is a priority. A new multi-agency safeguarding hub opened in Kingsford "
          "in September 2016, and staff from the police, the council and the health service now share "
          "information about children at risk on the same day."),
        P("Frontline officers understand vulnerability better than they did a year ago. All response officers "
          "have received training on coercive control, and the officers we spoke to could describe the signs "
          "of abuse that may not be obvious at first. Body-worn cameras are now issued to every response "
          "officer, and the footage is used as evidence in many domestic abuse cases."),
        P("The force has also improved the way it identifies repeat victims. Since July 2016 the control room "
          "system flags any caller who has reported domestic abuse or hate crime in the previous twelve months, "
          "so that the call handler can take this into account when deciding how quickly to respond. Call "
          "handlers told us that the flag was useful, but they had not been trained in how to use it, and some "
          "did not know that it existed."),
        P("However, we found inconsistencies in the way the force deals with children who go missing. In 7 of "
          "the 20 cases we reviewed, a child had been recorded as \u2018absent\u2019 rather than "
          "\u2018missing\u2019 even though there were clear signs of risk, such as previous sexual "
          "exploitation. This means that the right level of response was not always given, and in two cases "
          "a child was not found for more than a day. Supervisors did not always challenge these decisions, "
          "and the force\u2019s own audit had not identified the problem."),
        P("The force\u2019s response to domestic abuse is generally good. Victims assessed as high risk receive "
          "a prompt visit and a safety plan. But referrals for victims assessed as standard risk can take up "
          "to three weeks to reach support services, which is too long."),
        Block("h3", AFI),
        Block("bullet", "The force should make sure that officers and staff use the \u2018missing\u2019 and "
                        "\u2018absent\u2019 categories correctly for children.", marker="\u2022"),
        Block("bullet", "The force should refer standard-risk victims of domestic abuse to support services "
                        "promptly.", marker="\u2022"),
        Block("image"),
        Block("h2", H2_SOC),
        P("Ashdown Constabulary is good at tackling serious and organised crime. It has a good understanding of "
          "the 23 organised crime groups that are active in the county, and it disrupts their activity well. In "
          "2016 the force seized cash and assets worth \u00a31.1 million from organised criminals, an increase "
          "of 15% on the previous year."),
        P("The force is less effective at stopping people, particularly young people, from being drawn into "
          "organised crime. It has started to work with schools and youth offending teams, but this work is at "
          "an early stage and has not yet been evaluated."),
        Block("h3", AFI),
        Block("bullet", "The force should work with partner organisations to identify people at risk of being "
                        "drawn into serious and organised crime, and put in place activity to divert them.",
              marker="\u2013"),
        Block("h2", H2_SPEC),
        P("The force has effective arrangements to fulfil its national policing responsibilities. It tests its "
          "plans regularly with neighbouring forces and partner organisations, and it shares an armed response "
          "capability with the adjoining Harwood Police. We found that the force\u2019s plans are kept up to "
          "date and are amended quickly when a new threat emerges."),
    ]


# ---------------------------------------------------------------------------------------------- PDF build
def _draw_cover(lay: Layout) -> None:
    lay.new_page("cover", top=PAGE_H - 260)
    lay.add(Block("title", TITLE))
    lay.add(Block("pillar", PILLAR))


def _draw_contents(lay: Layout, entries: list[tuple[int, str, str]]) -> list[dict]:
    """Contents page: entry text wrapped on the left, its printed page number right-aligned on the last line."""
    lay.new_page("contents")
    lay.add(Block("h1", "Contents"))
    c = lay.c
    out = []
    for level, text, label in entries:
        indent = 0.0 if level == 1 else 16.0
        lines = wrap(text, REGULAR, BODY_SIZE, WIDTH - indent - 40)
        if not lay._room(len(lines) * BODY_LEADING + 6):
            break  # the long benchmark report lists only what fits
        for line in lines:
            lay.y -= BODY_LEADING
            c.setFont(REGULAR, BODY_SIZE)
            c.drawString(LEFT + indent, lay.y, line)
        c.drawRightString(RIGHT, lay.y, label)
        lay.y -= 6
        out.append({"level": level, "text": text, "page": label, "lines": lines})
    return out


def _render(c: rl_canvas.Canvas, body: list[Block], toc_entries, max_pages=None, chart=None):
    lay = Layout(c, max_pages=max_pages, chart=chart)
    contents = []
    try:
        _draw_cover(lay)
        contents = _draw_contents(lay, toc_entries)
        lay.new_page()
        for b in body:
            lay.add(b)
    except StopLayout:
        pass
    lay.finish()
    c.addPageLabel(0, "ROMAN_LOWER", 1)
    c.addPageLabel(2, "ARABIC", 1)
    return lay, contents


def _canvas(target, title: str) -> rl_canvas.Canvas:
    c = rl_canvas.Canvas(target, pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("Office of the Constabulary Inspectorate (fictional)")
    c.setSubject("Test fixture: invented text")
    c.setCreator("tests/data/formats/make_fixtures.py")
    return c


def build_pdf(path, body: list[Block], max_pages: int | None = None, title: str = TITLE):
    """Two passes: the first finds the printed page of every heading for the contents page."""
    chart = ImageReader(io.BytesIO(chart_png()))
    scratch = _canvas(io.BytesIO(), title)
    lay, _ = _render(scratch, body, [], max_pages, chart)
    toc = [(HEADING_LEVEL[p.block.kind], p.block.text, page_label(p.pages[0]))
           for p in lay.placed if p.block.kind in ("h1", "h2") and p.pages[0] >= 2]
    c = _canvas(str(path) if isinstance(path, (str, Path)) else path, title)
    lay2, contents = _render(c, body, toc, max_pages, chart)
    c.save()
    if [p.lines for p in lay2.placed] != [p.lines for p in lay.placed]:
        raise AssertionError("the contents page changed the body layout")
    return lay2, contents


def long_report(path, pages: int = 300) -> dict:
    """An N-page report PDF for speed benchmarks: the report body repeated, part after part, cut at N pages."""
    if pages < 3:
        raise ValueError("pages must be at least 3")
    body: list[Block] = []
    part = 0
    while len(body) < pages * 12:  # far more than fits; layout stops at `pages`
        part += 1
        body.extend(body_blocks(prefix=f"Part {part}: ") + [Block("pagebreak")])
    lay, _ = build_pdf(path, body, max_pages=pages, title=f"{TITLE} (long benchmark, {pages} pages)")
    paras = [p for p in lay.placed if p.block.kind not in ("title", "pillar", "h1", "h2", "h3")]
    return {"pages": lay.page + 1, "paragraphs": len(paras)}


def encrypted_pdf(path) -> Layout:
    body = [
        Block("h1", H1_TOP),
        P("Ashdown Constabulary is good at keeping people safe and reducing crime. This short extract is "
          "protected with a password so that tests can check how an encrypted report is handled."),
        Block("bullet", "The force should involve local people more in setting neighbourhood priorities.",
              marker="\u2022"),
    ]
    from reportlab.lib.pdfencrypt import StandardEncryption

    enc = StandardEncryption(ENCRYPTED_USER_PASSWORD, ENCRYPTED_OWNER_PASSWORD, canPrint=1, canModify=0,
                             canCopy=1, canAnnotate=0, strength=128)
    c = rl_canvas.Canvas(str(path), pagesize=A4, invariant=1, encrypt=enc)
    c.setTitle(TITLE)
    lay = Layout(c)
    _draw_cover(lay)
    lay.new_page()
    for b in body:
        lay.add(b)
    lay.finish()
    c.save()
    return lay


SCANNED_TEXT = [
    [
        "ASHDOWN CONSTABULARY",
        "Response to the 2016 effectiveness inspection",
        "",
        "The Chief Constable welcomes the findings of the inspection",
        "and accepts each area for improvement. A delivery plan has",
        "been agreed with the Police and Crime Commissioner.",
        "",
        "1. Missing children: all supervisors will complete refresher",
        "   training on the missing and absent categories by June.",
        "2. Domestic abuse: referrals for standard-risk victims will be",
        "   sent to support services within 48 hours.",
    ],
    [
        "3. Problem-solving: every neighbourhood plan will record",
        "   the tactics used and the result after three months.",
        "",
        "Progress will be reported to the Inspectorate every quarter.",
        "",
        "Signed on behalf of the Chief Constable",
        "Ashdown Constabulary headquarters, Kingsford",
    ],
]


def scanned_pdf(path) -> None:
    """Two pages that are photographs of paper: grey JPEGs with skew, and no text layer at all."""
    font = ImageFont.load_default(size=30)
    c = rl_canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setTitle("Scanned letter (fixture)")
    for n, lines in enumerate(SCANNED_TEXT):
        w, h = 1240, 1754  # A4 at 150 dpi
        im = Image.new("L", (w, h), 246)
        d = ImageDraw.Draw(im)
        y = 170
        for line in lines:
            d.text((150, y), line, fill=35, font=font)
            y += 52
        d.text((w // 2 - 10, h - 120), str(n + 1), fill=35, font=font)
        im = im.rotate(0.8 if n == 0 else -0.6, resample=Image.BICUBIC, fillcolor=230)
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=40, optimize=True)
        c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 0, 0, PAGE_W, PAGE_H)
        c.showPage()
    c.save()


# ---------------------------------------------------------------------------------------------- DOCX
def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps so the DOCX is byte-identical on every run."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(2017, 3, 2, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def _page_field(paragraph) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    for tag, attr in (("w:fldChar", "begin"), ("w:instrText", None), ("w:fldChar", "separate")):
        el = OxmlElement(tag)
        if attr:
            el.set(qn("w:fldCharType"), attr)
        else:
            el.set(qn("xml:space"), "preserve")
            el.text = " PAGE "
        run._r.append(el)
    paragraph.add_run("1")
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(end)


DOCX_HEADER = RUNNING_HEADER
DOCX_FOOTER_PREFIX = "Page "


def docx_content() -> list[tuple[str, object]]:
    """(style, text or table rows) in document order; "" style is a plain Normal paragraph."""
    return [
        ("Title", TITLE),
        ("Heading 1", H1_TOP),
        ("Normal", [("Ashdown Constabulary is ", False), ("good", True),
                    (" at keeping people safe and reducing crime. Since our last inspection the force has put "
                     "\u00a32.4 million into local policing and recruited 46 more PCSOs.", False)]),
        ("Normal", "Victims told us that officers were \u201ckind and professional\u201d, although some said "
                   "they had to chase the force for news of their case. In a survey of 600 victims, 81% were "
                   "satisfied with the service they received."),
        ("Normal", ""),  # an empty paragraph, as Word documents often have
        ("Normal", "Table 1: Effectiveness grades for Ashdown Constabulary, 2016"),
        ("table", TABLE_ROWS),
        ("Heading 2", H2_INVEST),
        ("Normal", "The force\u2019s new digital media hub cost \u00a3180,000 and has cut the time taken to "
                   "examine a mobile phone from more than two months to 14 days."),
        ("Normal", "The force manages offenders well. We found that it:"),
        ("List Number", "identifies the offenders who cause the most harm using a scoring matrix;"),
        ("List Number", "works closely with the probation service to reduce re-offending; and"),
        ("List Number", "uses civil orders to restrict the activities of those who continue to offend."),
        ("Heading 2", AFI),
        ("List Bullet", "The force should make sure that all reasonable lines of enquiry are followed before "
                        "an investigation is closed."),
        ("List Bullet", "The force should record victims\u2019 wishes on the \u2018keeping in touch\u2019 "
                        "form."),
        ("List Bullet", "The force should improve its oversight of wanted persons and outstanding named "
                        "suspects."),
    ]


def build_docx(path) -> None:
    import datetime

    from docx import Document
    from docx.shared import Pt

    doc = Document()
    cp = doc.core_properties
    cp.author = "Office of the Constabulary Inspectorate (fictional)"
    cp.last_modified_by = cp.author
    cp.title = TITLE
    cp.subject = "Test fixture: invented text"
    cp.created = cp.modified = datetime.datetime(2017, 3, 2, 9, 0, 0)
    cp.revision = 1
    section = doc.sections[0]
    section.header.paragraphs[0].text = DOCX_HEADER
    fp = section.footer.paragraphs[0]
    fp.add_run(DOCX_FOOTER_PREFIX)
    _page_field(fp)
    doc.styles["Normal"].font.size = Pt(10.5)
    for style, content in docx_content():
        if style == "table":
            t = doc.add_table(rows=0, cols=3)
            t.style = "Table Grid"
            for r, row in enumerate(content):
                cells = t.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = text
                    if r == 0:
                        cell.paragraphs[0].runs[0].bold = True
        elif isinstance(content, list):
            p = doc.add_paragraph(style=style)
            for text, bold in content:
                p.add_run(text).bold = bold
        else:
            doc.add_paragraph(content, style=style)
    buf = io.BytesIO()
    doc.save(buf)
    Path(path).write_bytes(_fixed_zip(buf.getvalue()))


# ---------------------------------------------------------------------------------------------- HTML
HTML_NAV = ["Home", "Our work", "Publications", "Police forces", "About us", "Contact us"]
HTML_COOKIE = [
    "Cookies on this site",
    "We use some essential cookies to make this website work. We would also like to set optional analytics "
    "cookies to understand how visitors use it.",
    "Accept optional cookies",
    "Reject optional cookies",
    "View cookie settings",
]
HTML_BREADCRUMB = ["Home", "Publications", "Ashdown Constabulary", "PEEL 2016: Effectiveness"]
HTML_SKIP = "Skip to content"
HTML_UPDATED = "Last updated 02/03/2017"
HTML_READ_MORE = "Read more about the PEEL inspection programme"
HTML_SIDEBAR_TITLE = "Related reports"
HTML_SIDEBAR = ["PEEL 2016: Legitimacy (Ashdown)", "PEEL 2016: Efficiency (Ashdown)",
                "All reports for Ashdown Constabulary", "How we inspect forces"]
HTML_FOOTER = ["Accessibility statement", "Privacy notice", "Terms and conditions",
               "\u00a9 Office of the Constabulary Inspectorate 2017 (a fictional body)"]
HTML_SHARE = ["Share this page", "Share on Twitter", "Share on Facebook", "Share on LinkedIn",
              "Share by email"]
HTML_SCRIPT_MARKER = "window.siteAnalyticsQueue"
HTML_BANNER = "This is a new service \u2013 your feedback will help us to improve it."

# (kind, text) in reading order; kind h2/h3/paragraph/bullet. Inline markup is added in build_html.
HTML_ARTICLE = [
    ("h2", H1_TOP),
    ("paragraph", "Ashdown Constabulary is good at keeping people safe and reducing crime. Since our last "
                  "inspection the force has put \u00a32.4 million into its local policing model."),
    ("paragraph", "Recorded crime rose by 6 percent in the year to 30 June 2016. The force\u2019s file review "
                  "found that 41 of the 50 investigations it examined met the expected standard."),
    ("h2", H2_PREVENT),
    ("paragraph", "Neighbourhood teams are now based in every district. One parish councillor told us, "
                  "\u201cFor the first time in years we know who our local officers are.\u201d"),
    ("paragraph", "In Millbrook, officers and the housing association cut repeat calls about one block of "
                  "flats by 38 percent, and looked after the well-being of elderly tenants."),
    ("h3", AFI),
    ("bullet", "The force should evaluate its problem-solving activity and share what works."),
    ("bullet", "The force should involve local people more in setting neighbourhood priorities."),
    ("h2", H2_SOC),
    ("paragraph", "In 2016 the force seized cash and assets worth \u00a31.1 million from organised "
                  "criminals, an increase of 15% on the previous year."),
]


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_html(path) -> None:
    def ent(s: str) -> str:
        # Named and numeric character references, as saved pages have them.
        return (_esc(s).replace("\u00a3", "&pound;").replace("\u2019", "&rsquo;").replace("\u201c", "&ldquo;")
                .replace("\u201d", "&#8221;").replace("\u2013", "&ndash;"))

    def para(text: str) -> str:
        # Source line breaks and indentation inside the element, plus inline markup, as real pages have.
        if text.startswith("Ashdown Constabulary is good at keeping"):
            return ("<p>Ashdown Constabulary is <strong>good</strong> at keeping people safe\n"
                    "          and reducing crime. " + ent(text.split("reducing crime. ", 1)[1]) + "</p>")
        if "PCSO" in text or "Neighbourhood teams" in text:
            return ("<p>Neighbourhood teams are now based in every\n          district. "
                    + ent(text.split("district. ", 1)[1]) + "</p>")
        if "Millbrook" in text:
            head, tail = text.split("the housing association", 1)
            return (f"<p>{ent(head)}<a href=\"/glossary/partner-organisations\">the housing association</a>"
                    f"{ent(tail)}</p>")
        words = ent(text).split(" ")
        mid = len(words) // 2
        return "<p>" + " ".join(words[:mid]) + "\n          " + " ".join(words[mid:]) + "</p>"

    out = []
    a = out.append
    a("<!DOCTYPE html>")
    a('<html lang="en-GB">')
    a("<head>")
    a('<meta charset="utf-8">')
    a(f"<title>{ent(TITLE)}: {PILLAR} &ndash; Office of the Constabulary Inspectorate</title>")
    a('<meta name="description" content="Our inspection of how effective Ashdown Constabulary is (fixture).">')
    a("<style>body{font-family:Arial,sans-serif;margin:0}.cookie-banner{background:#eee;padding:1em}"
      ".layout{display:flex}main{flex:3;padding:1em}aside{flex:1;padding:1em}</style>")
    a(f"<script>{HTML_SCRIPT_MARKER} = window.siteAnalyticsQueue || []; "
      "siteAnalyticsQueue.push({page: 'report', consent: false});</script>")
    a("</head>")
    a("<body>")
    a(f'<a class="skip-link" href="#main-content">{HTML_SKIP}</a>')
    a('<div class="cookie-banner" role="region" aria-label="Cookie banner">')
    a(f"  <h2>{HTML_COOKIE[0]}</h2>")
    a(f"  <p>{HTML_COOKIE[1]}</p>")
    a(f'  <button type="button">{HTML_COOKIE[2]}</button>')
    a(f'  <button type="button">{HTML_COOKIE[3]}</button>')
    a(f'  <a href="/cookies">{HTML_COOKIE[4]}</a>')
    a("</div>")
    a("<header>")
    a('  <a class="logo" href="/">Office of the Constabulary Inspectorate</a>')
    a('  <nav aria-label="Main">')
    a("    <ul>")
    for item in HTML_NAV:
        a(f'      <li><a href="/{item.lower().replace(" ", "-")}">{item}</a></li>')
    a("    </ul>")
    a("  </nav>")
    a(f'  <p class="phase-banner">{ent(HTML_BANNER)}</p>')
    a("</header>")
    a('<nav class="breadcrumb" aria-label="Breadcrumb">')
    a("  <ol>")
    for item in HTML_BREADCRUMB:
        a(f'    <li><a href="#">{item}</a></li>')
    a("  </ol>")
    a("</nav>")
    a('<div class="layout">')
    a('<main id="main-content">')
    a("  <article>")
    a(f"    <h1>{TITLE}</h1>")
    a(f'    <p class="metadata">{HTML_UPDATED}</p>')
    in_list = False
    for kind, text in HTML_ARTICLE:
        if kind != "bullet" and in_list:
            a("    </ul>")
            in_list = False
        if kind in ("h2", "h3"):
            a(f"    <{kind}>{ent(text)}</{kind}>")
        elif kind == "paragraph":
            a("    " + para(text))
        else:
            if not in_list:
                a("    <ul>")
                in_list = True
            a(f"      <li>{ent(text)}</li>")
    if in_list:
        a("    </ul>")
    a(f'    <p class="read-more"><a href="/peel">{HTML_READ_MORE}</a></p>')
    a('    <div class="share">')
    a(f"      <h2>{HTML_SHARE[0]}</h2>")
    a("      <ul>")
    for item in HTML_SHARE[1:]:
        a(f'        <li><a href="#">{item}</a></li>')
    a("      </ul>")
    a("    </div>")
    a("  </article>")
    a("</main>")
    a("<aside>")
    a(f"  <h2>{HTML_SIDEBAR_TITLE}</h2>")
    a("  <ul>")
    for item in HTML_SIDEBAR:
        a(f'    <li><a href="#">{item}</a></li>')
    a("  </ul>")
    a("</aside>")
    a("</div>")
    a("<footer>")
    a("  <ul>")
    for item in HTML_FOOTER[:3]:
        a(f'    <li><a href="#">{item}</a></li>')
    a("  </ul>")
    a(f"  <p>{ent(HTML_FOOTER[3])}</p>")
    a("</footer>")
    a("</body>")
    a("</html>")
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8", newline="\n")


# ---------------------------------------------------------------------------------------------- expected
def _section_walker():
    stack: list[tuple[int, str]] = []

    def push(level: int, text: str) -> None:
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text))

    def path() -> list[str]:
        return [t for _, t in stack]

    return push, path


def pdf_expected(lay: Layout, contents: list[dict]) -> dict:
    push, path = _section_walker()
    headings, paragraphs = [], []
    for p in lay.placed:
        k = p.block.kind
        if k in ("title", "pillar"):
            continue
        if k in HEADING_LEVEL:
            level = HEADING_LEVEL[k]
            push(level, p.block.text)
            headings.append({"level": level, "text": p.block.text, "page": page_label(p.pages[0]),
                             "pdf_page": p.pages[0], "lines": [t for _, _, t in p.lines]})
            continue
        if k == "table":
            for (pg, _, row_text) in p.lines:
                paragraphs.append({"text": row_text, "kind": "table_row", "section": path(), "pdf_pages": [pg],
                                   "pages": [page_label(pg)], "lines": [row_text]})
            continue
        kind = {"paragraph": "paragraph", "caption": "paragraph", "bullet": "bullet", "numbered": "numbered"}[k]
        entry = {"text": p.block.text.replace("~", ""), "kind": kind, "section": path(), "pdf_pages": p.pages,
                 "pages": [page_label(i) for i in p.pages], "lines": [t for _, _, t in p.lines]}
        if k in ("bullet", "numbered"):
            entry["marker"] = p.block.marker
        if len({f for _, f, _ in p.lines}) > 1:
            entry["columns"] = sorted({f for _, f, _ in p.lines})
        paragraphs.append(entry)
    n_pages = lay.page + 1
    twocol = [i for i, kind in lay.page_kinds.items() if kind == "twocol"]
    images = [i for i, kind in lay.page_kinds.items() if kind == "image"]
    assert len(twocol) == 1 and len(images) == 1
    tc = twocol[0]
    # sanity checks on the features the fixture promises
    all_lines = [t for p in lay.placed for _, _, t in p.lines]
    hyph = []
    for i, line in enumerate(all_lines[:-1]):
        if line.endswith("inves-") or line.endswith("well-"):
            hyph.append({"line_end": line.split(" ")[-1], "next_line_start": all_lines[i + 1].split(" ")[0]})
    assert [h["line_end"] for h in hyph] == ["inves-", "well-"], hyph
    assert hyph[0]["next_line_start"] == "tigation" and hyph[1]["next_line_start"] == "being", hyph
    hyph[0]["joined"], hyph[0]["hyphen_kept"] = "investigation", False
    hyph[1]["joined"], hyph[1]["hyphen_kept"] = "well-being", True
    spanning = [p for p in paragraphs if len(p["pdf_pages"]) > 1]
    assert spanning, "no paragraph runs over a page break"
    across_cols = [p for p in paragraphs if p.get("columns") == [0, 1]]
    assert across_cols, "no paragraph runs from the left column into the right one"
    wrapped_bullets = [p for p in paragraphs if p["kind"] == "bullet" and len(p["lines"]) > 1]
    assert wrapped_bullets
    for i in range(n_pages):
        assert (i in lay.headers) == (lay.page_kinds[i] not in ("cover", "image"))
    boiler = [{"text": RUNNING_HEADER, "where": "running header", "match": "substring",
               "pdf_pages": sorted(lay.headers)}]
    for i in sorted(lay.footers):
        boiler.append({"text": lay.footers[i], "where": "footer page number", "match": "whole",
                       "pdf_pages": [i]})
    return {
        "title": TITLE,
        "force": FORCE,
        "year": YEAR,
        "pillar": PILLAR,
        "page_count": n_pages,
        "page_labels": [page_label(i) for i in range(n_pages)],
        "printed_page_numbers": [lay.footers.get(i) for i in range(n_pages)],
        "page_kinds": [lay.page_kinds[i] for i in range(n_pages)],
        "fonts": {"title": "Helvetica-Bold 24pt", "pillar": "Helvetica 16pt (cover subtitle, not bold)",
                  "h1": "Helvetica-Bold 16pt", "h2": "Helvetica-Bold 13pt", "h3": "Helvetica-Bold 11pt",
                  "body": "Helvetica 10.5pt", "caption": "Helvetica-Oblique 9.5pt",
                  "table": "Helvetica 9.5pt (header row Helvetica-Bold)", "running_header": "Helvetica 8.5pt",
                  "footer": "Helvetica 9pt"},
        "headings": headings,
        "paragraphs": paragraphs,
        "contents": {"pdf_page": 1, "entries": contents},
        "boilerplate": boiler,
        "running_header": {"text": RUNNING_HEADER, "pdf_pages": sorted(lay.headers)},
        "footers": [{"pdf_page": i, "text": lay.footers[i]} for i in sorted(lay.footers)],
        "two_column_page": {"pdf_page": tc, "page": page_label(tc),
                            "heading": next(h["text"] for h in headings if h["pdf_page"] == tc),
                            "paragraphs": [p["text"] for p in paragraphs if tc in p["pdf_pages"]]},
        "image_only_pages": images,
        "hyphenation": hyph,
        "page_break_paragraphs": [{"text": p["text"], "pdf_pages": p["pdf_pages"]} for p in spanning],
    }


def html_expected() -> dict:
    push, path = _section_walker()
    headings, paragraphs = [], []
    for kind, text in HTML_ARTICLE:
        if kind in ("h2", "h3"):
            level = int(kind[1])
            push(level, text)
            headings.append({"level": level, "text": text, "page": None, "tag": kind})
        else:
            paragraphs.append({"text": text, "kind": kind, "section": path(), "pdf_pages": [], "pages": []})
    bp = []

    def add(texts, where, match="substring"):
        for t in texts:
            bp.append({"text": t, "where": where, "match": match})

    add([HTML_SKIP], "skip link")
    add(HTML_COOKIE, "cookie banner")
    add(["Office of the Constabulary Inspectorate"], "header logo")
    add([n for n in HTML_NAV if n != "Home"], "main navigation")
    add(["Home"], "main navigation and breadcrumb", "whole")
    add([HTML_BANNER], "phase banner")
    add(HTML_BREADCRUMB[2:], "breadcrumb", "whole")
    add([HTML_UPDATED], "metadata line")
    add([HTML_READ_MORE], "read-more link")
    add(HTML_SHARE, "social share links")
    add([HTML_SIDEBAR_TITLE] + HTML_SIDEBAR, "sidebar of related links")
    add(HTML_FOOTER, "footer")
    add([HTML_SCRIPT_MARKER], "inline script")
    add(["font-family"], "inline style")
    return {
        "title": TITLE,
        "html_title_element": f"{TITLE}: {PILLAR} \u2013 Office of the Constabulary Inspectorate",
        "last_updated": "2017-03-02",
        "heading_levels": "level = the h tag's number; the h1 is the title and is not in headings",
        "headings": headings,
        "paragraphs": paragraphs,
        "boilerplate": bp,
    }


def docx_expected() -> dict:
    push, path = _section_walker()
    headings, paragraphs = [], []
    for style, content in docx_content():
        if style == "Title":
            continue
        if style.startswith("Heading"):
            level = int(style.split()[1])
            push(level, content)
            headings.append({"level": level, "text": content, "page": None, "style": style})
        elif style == "table":
            for row in content:
                paragraphs.append({"text": " | ".join(row), "kind": "table_row", "section": path(),
                                   "pdf_pages": [], "pages": []})
        else:
            text = "".join(t for t, _ in content) if isinstance(content, list) else content
            if not text:
                continue
            kind = {"Normal": "paragraph", "List Bullet": "bullet", "List Number": "numbered"}[style]
            paragraphs.append({"text": text, "kind": kind, "section": path(), "pdf_pages": [], "pages": [],
                               "style": style})
    return {
        "title": TITLE,
        "title_style": "Title",
        "heading_levels": "level = the Heading N style's N; the Title-style paragraph is the title",
        "headings": headings,
        "paragraphs": paragraphs,
        "boilerplate": [
            {"text": DOCX_HEADER, "where": "section header (header1.xml)", "match": "substring"},
            {"text": "Page 1", "where": "section footer with a PAGE field (footer1.xml)", "match": "substring"},
        ],
        "notes": "The numbered list uses the List Number style: its numbers come from numbering.xml and are "
                 "not in the text. One Normal paragraph is empty and must not become a paragraph.",
    }


# ---------------------------------------------------------------------------------------------- main
NOT_A_PDF = (
    "This is a plain text file that has been given a .pdf extension by mistake.\n"
    "Ashdown Constabulary PEEL 2016 \u2013 notes for the inspection team (fictional).\n"
)


def main(folder: Path = HERE) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    lay, contents = build_pdf(folder / "report.pdf", body_blocks())
    build_docx(folder / "report.docx")
    build_html(folder / "report.html")
    scanned_pdf(folder / "scanned.pdf")
    enc = encrypted_pdf(folder / "encrypted.pdf")
    data = (folder / "report.pdf").read_bytes()
    cut = int(len(data) * 0.6)
    (folder / "truncated.pdf").write_bytes(data[:cut])
    (folder / "not-a-pdf.pdf").write_text(NOT_A_PDF, encoding="utf-8", newline="\n")
    (folder / "report-as-docx.pdf").write_bytes((folder / "report.docx").read_bytes())
    (folder / "empty.pdf").write_bytes(b"")

    expected = {
        "about": "Ground truth for the format fixtures in this folder; written by make_fixtures.py. All text is "
                 "invented. Paragraph text: the words as in the document, each line wrap as one space, a "
                 "line-end hyphen removed only where the joined word is an ordinary word (investigation) and "
                 "kept in a compound (well-being), no bullet markers or list numbers, table rows as cells "
                 "joined by ' | '. 'section' is the path of headings above the paragraph (the title and the "
                 "cover's pillar line are not headings). 'pages' are the PDF page labels, which equal the "
                 "printed page numbers on every page that prints one. 'lines' are the lines exactly as drawn. "
                 "Boilerplate with match 'substring' must not occur anywhere in an extracted paragraph; with "
                 "match 'whole' (page numbers, one-word links) it must not be an extracted paragraph on its "
                 "own, and the exact paragraph texts catch it glued to a paragraph.",
        "report.pdf": pdf_expected(lay, contents),
        "report.html": html_expected(),
        "report.docx": docx_expected(),
        "scanned.pdf": {"page_count": 2, "image_only_pages": [0, 1], "text_layer": False,
                        "raster_text": SCANNED_TEXT,
                        "note": "JPEG page images of a typed letter, slightly skewed; there is no text layer, "
                                "only OCR could read raster_text."},
        "encrypted.pdf": {"user_password": ENCRYPTED_USER_PASSWORD, "owner_password": ENCRYPTED_OWNER_PASSWORD,
                          "encryption": "PDF Standard security handler, RC4 128-bit (reportlab strength=128)",
                          "page_count": enc.page + 1, "title": TITLE,
                          "paragraphs": [p.block.text for p in enc.placed
                                         if p.block.kind in ("paragraph", "bullet")]},
        "truncated.pdf": {"source": "report.pdf", "bytes": cut, "of_bytes": len(data), "fraction": 0.6,
                          "note": "no xref table or trailer: a strict reader fails, a lenient one may recover "
                                  "some pages"},
        "not-a-pdf.pdf": {"actual_type": "text/plain", "text": NOT_A_PDF},
        "report-as-docx.pdf": {"actual_type": "DOCX (zip)", "same_bytes_as": "report.docx"},
        "empty.pdf": {"bytes": 0},
    }
    (folder / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n",
                                          encoding="utf-8", newline="\n")
    return expected


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--long", nargs=2, metavar=("PAGES", "OUT_PDF"),
                    help="write an N-page benchmark report instead of the fixtures")
    args = ap.parse_args()
    if args.long:
        info = long_report(args.long[1], int(args.long[0]))
        print(f"wrote {args.long[1]}: {info['pages']} pages, {info['paragraphs']} paragraphs")
        sys.exit(0)
    main()
    for f in sorted(HERE.iterdir()):
        if f.is_file() and f.name not in ("make_fixtures.py", "README.md"):
            print(f"{f.stat().st_size:>8}  {f.name}")
