"""The passage: the unit that is embedded, retrieved and quoted."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .text import fold

SEPARATOR = " › "


@dataclass(frozen=True)
class Passage:
    """A verbatim span of a source file, with everything needed to cite it.

    `start`/`end` are character offsets into the decoded source file (read with `newline=""`, so CRLF
    survives), and `source[start:end] == text` always holds. `sentences` are `(start, end)` offsets
    within `text`.
    """

    id: str
    document: str
    title: str
    section: tuple[str, ...]
    paragraph: int
    start: int
    end: int
    text: str
    kind: str = "paragraph"
    pillar: str | None = None
    force: str | None = None  # the force it is about: its report's, or the one it names in a national document
    year: int | None = None
    sentences: tuple[tuple[int, int], ...] = field(default=())
    period: str | None = None  # "2021/22" for a report covering two years
    report: str = ""  # how its report is cited: "Durham Constabulary · PEEL 2016 · Effectiveness", or a title
    mentions: tuple[str, ...] = ()  # in a national document, every force the passage names
    page: str | None = None  # the printed page label it starts on (a PDF); "12", "iv"
    pdf_page: int | None = None  # the index of that page in the file, from 0
    pages: tuple[str, ...] = ()  # every page label it covers (a paragraph over a page break has two)

    @property
    def section_label(self) -> str:
        return SEPARATOR.join(self.section)

    @property
    def page_label(self) -> str | None:
        """"p. 12", or "pp. 12–13" for a passage over a page break."""
        if not self.pages:
            return None
        return f"p. {self.pages[0]}" if len(self.pages) == 1 else f"pp. {self.pages[0]}–{self.pages[-1]}"

    @property
    def citation(self) -> str:
        parts = [self.report or self.title, *self.section]
        if self.page_label:
            parts.append(self.page_label)
        parts.append(f"para {self.paragraph}")
        return SEPARATOR.join(parts)

    @property
    def embed_text(self) -> str:
        """What the model sees: the section heading gives context the paragraph itself often omits."""
        if not self.section:
            return fold(self.text)
        return fold(f"{' - '.join(self.section)}: {self.text}")

    def sentence_texts(self) -> list[str]:
        return [self.text[s:e] for s, e in self.sentences] or [self.text]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["section"] = list(self.section)
        d["sentences"] = [list(s) for s in self.sentences]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Passage:
        return cls(
            **{
                **d,
                "section": tuple(d.get("section", ())),
                "sentences": tuple(tuple(s) for s in d.get("sentences", ())),
                "mentions": tuple(d.get("mentions", ())),
                "pages": tuple(d.get("pages", ())),
            }
        )
