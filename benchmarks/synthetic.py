"""Synthetic inspection reports for scale benchmarks: shaped like the seed (a title, a pillar, question headings,
paragraphs of several sentences, "Areas for improvement" bullets), every passage distinct, every fact invented.

    write_corpus(folder, passages, copy=0) -> list of held-out questions

Each report is built from a seeded random generator, so a corpus is the same on every run. One sentence of
some paragraphs is left out of the report and returned as a question (its report and paragraph known), so a
search has a right answer that is not a verbatim match. `copy` > 0 writes the same reports again with other
place names (`canonical_all` maps any copy's text back to copy 0's), which lets benchmarks/scale.py reach a
million passages with vectors derived from the real model's vectors of the first 10,000.
"""

from __future__ import annotations

import json
import random
import re
from functools import lru_cache
from pathlib import Path

FORCES = ["Ashdown Constabulary", "Brackenfield Police", "Greyhaven Police", "Severnshire Constabulary",
          "Northmoor Police", "Eastvale Constabulary", "Kingsford Police", "Westmarch Constabulary",
          "Hollowmere Police", "Redcliffe Constabulary", "Stonebridge Police", "Marshfield Constabulary"]
PILLARS = ["Effectiveness", "Efficiency", "Legitimacy"]
QUESTIONS = {
    "Effectiveness": ["How effective is the force at preventing crime and tackling anti-social behaviour?",
                      "How effective is the force at investigating crime and reducing re-offending?",
                      "How effective is the force at protecting vulnerable people and supporting victims?",
                      "How effective is the force at tackling serious and organised crime?"],
    "Efficiency": ["How well does the force understand demand?", "How well does the force use its resources?",
                   "How well is the force planning for the future?"],
    "Legitimacy": ["How well does the force treat the public fairly?", "How well does the force ensure ethical "
                   "behaviour?", "How well does the force treat its workforce with fairness and respect?"],
}
TOPICS = ["domestic abuse", "missing children", "anti-social behaviour", "burglary", "stalking", "hate crime",
          "modern slavery", "fraud", "county lines drug supply", "knife crime", "online child abuse", "vehicle crime",
          "rural crime", "repeat victims", "mental health crises", "youth violence", "wildlife crime", "cyber crime"]
TEAMS = ["neighbourhood team", "control room", "public protection unit", "criminal investigation department",
         "custody suite", "digital forensics unit", "safeguarding hub", "response team", "intelligence bureau",
         "professional standards department", "victim care unit", "offender management team", "call handling team"]
GOOD = ["recorded every report on the day it was made", "visited most victims within an hour",
        "kept victims informed at each stage", "shared information promptly with the council",
        "reviewed its open cases every week", "used body-worn video in almost every arrest",
        "assessed the risk to each caller with a structured checklist", "trained every officer in trauma awareness"]
BAD = ["closed cases without speaking to the victim", "let assessments wait several days",
       "did not record the reasons for its decisions", "lost track of suspects who were wanted",
       "relied on overtime to fill gaps in the rota", "missed chances to refer people to support services",
       "did not check whether its tactics worked", "stored evidence without a clear audit trail"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
SYLLABLES = ["ash", "bar", "cal", "dun", "el", "fen", "gar", "hol", "ing", "kel", "lan", "mor", "nor", "ost",
             "pen", "quin", "ros", "sel", "tor", "ul", "ven", "wick", "yar", "zel"]
COPIES = 100
PLACES = 300  # place names per copy: copies use disjoint names


@lru_cache(maxsize=1)
def _names() -> list[str]:
    """PLACES * COPIES distinct names: two syllables and a suffix first (copies 0-9, as the corpora were first
    made), then three syllables and a suffix."""
    rng = random.Random(1000)
    names: dict[str, None] = {}
    suffixes = ["ton", "ford", "ley", "by", "ham", "wick", "stead"]
    while len(names) < PLACES * 10:
        names[(rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(suffixes)).capitalize()] = None
    while len(names) < PLACES * COPIES:
        names[(rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)
               + rng.choice(suffixes)).capitalize()] = None
    return list(names)


def places(copy: int) -> list[str]:
    """Copy `copy`'s place names (no name is in two copies)."""
    return _names()[copy * PLACES:(copy + 1) * PLACES]


def _sentence(rng: random.Random, where: list[str], year: int) -> str:
    topic, team, place = rng.choice(TOPICS), rng.choice(TEAMS), rng.choice(where)
    n, month = rng.randint(12, 4800), rng.choice(MONTHS)
    forms = [
        f"In {place}, the {team} {rng.choice(GOOD)} when dealing with {topic}.",
        f"We found that the {team} in {place} {rng.choice(BAD)}, particularly for {topic}.",
        f"During {month} {year} the force received {n} reports of {topic}, {rng.randint(5, 95)} per cent of "
        f"them in {place}.",
        f"Officers in {place} told us that the {team} {rng.choice(GOOD)}, although it {rng.choice(BAD)}.",
        f"The force has {n} officers and staff working on {topic}, and plans to add {rng.randint(2, 60)} more "
        f"in {place} by {year + 1}.",
        f"A review of {rng.randint(10, 90)} {topic} cases from {place} showed that the {team} {rng.choice(BAD)}.",
        f"Partners in {place} praised how the {team} {rng.choice(GOOD)}.",
        f"The force should make sure that the {team} in {place} improves: at present it {rng.choice(BAD)}.",
    ]
    return rng.choice(forms)


def _report(rng: random.Random, force: str, year: int, pillar: str, where: list[str], held: list, name: str):
    lines = [f"{force} PEEL {year}", pillar]
    for heading in QUESTIONS[pillar]:
        lines.append(heading)
        for _ in range(rng.randint(3, 5)):
            sentences = [_sentence(rng, where, year) for _ in range(rng.randint(3, 6))]
            if rng.random() < 0.05 and len(held) < 10_000:
                held.append({"question": sentences.pop(rng.randrange(len(sentences))), "document": name,
                             "context": " ".join(sentences)})
            lines.append(" ".join(sentences))
        lines.append("Areas for improvement")
        lines += [f"• {_sentence(rng, where, year)}" for _ in range(2)]
    return "\n".join(lines) + "\n"


def write_corpus(folder: Path, passages: int, copy: int = 0) -> list[dict]:
    """Reports totalling about `passages` passages in `folder`; returns the held-out questions."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    where = places(0)
    swap = dict(zip(where, places(copy), strict=True)) if copy else {}
    held: list[dict] = []
    total, n = 0, 0
    while total < passages:
        force, year, pillar = FORCES[n % len(FORCES)], 2014 + (n // len(FORCES)) % 11, PILLARS[n % 3]
        name = f"r{n:05d}-c{copy}.txt"
        text = _report(rng, force, year, pillar, where, held, name)
        if swap:
            text = _swap(text, swap)
        (folder / name).write_text(text, encoding="utf-8")
        total += text.count("\n") - 2 - len(QUESTIONS[pillar]) * 2  # paragraphs and bullets
        n += 1
    return held


_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")


def _swap(text: str, mapping: dict[str, str]) -> str:
    return _CAPITALISED.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)


def canonical_all():
    """A function mapping any copy's text back to copy 0's (for looking up copy 0's vectors)."""
    back = {name: places(0)[i % PLACES] for i, name in enumerate(_names())}
    return lambda text: _swap(text, back)


if __name__ == "__main__":
    import sys

    qs = write_corpus(Path(sys.argv[1]), int(sys.argv[2]))
    print(json.dumps({"questions": len(qs)}))
