"""Report structure as a retrieval signal: what kind of passage a question asks for, and typo repair.

Inspection reports state a grade in fixed words ("Cleveland Police is good at ...", "requires improvement")
and list what must change under "Areas for improvement". A question about a grade or about what to improve
is steered to those passages. Pure functions over strings.
"""

from __future__ import annotations

import difflib
import re

from indexer.lexical import WORD
from indexer.text import fold

_GRADE_QUESTION = re.compile(
    r"\b(?:grade[ds]?|grading|rated|rating|judged?|judgement|verdict|overall|how\s+(?:good|bad)|any\s+good"
    r"|(?:is|are)\s+(?:\w+\s+){0,3}(?:good|effective|outstanding|inadequate))\b",
    re.IGNORECASE,
)
_IMPROVE_QUESTION = re.compile(
    r"\b(?:improv\w*|should|must|need(?:s|ed)?\s+to|recommend\w*|fix|better|weak\w*|failing|wrong|"
    r"action\s+plan|to\s*do|change)\b",
    re.IGNORECASE,
)


# "Does the force work with partners...", "will HMIC come back": about what is or will be done, which a
# recommendation answers as well as a finding; other questions ask what was found.
_PRACTICE_QUESTION = re.compile(r"^\s*(?:does|do|will|would|should|can|could|must|shall)\b", re.IGNORECASE)


def asks_for_facts(question: str) -> bool:
    """A question a finding answers better than a recommendation: not about improving, not "does/will ..."."""
    return not asks_for_improvement(question) and not _PRACTICE_QUESTION.match(fold(question))


def asks_for_grade(question: str) -> bool:
    return bool(_GRADE_QUESTION.search(fold(question)))


def asks_for_improvement(question: str) -> bool:
    return bool(_IMPROVE_QUESTION.search(fold(question)))


# "How many forces ...", "nationally", "across England and Wales": answered by a national document (an
# overview, a press release listing forces) rather than one force's report that happens to use the words.
_NATIONAL_QUESTION = re.compile(
    r"\b(?:nationally|national\s+(?:picture|level|overview|figures?|average|rate)|nation\s*wide|"
    r"across\s+(?:all\s+)?(?:the\s+)?(?:forces|england|the\s+country)|"
    r"england\s+and\s+wales|how\s+many\s+(?:police\s+)?forces|all\s+(?:police\s+)?forces|every\s+force|"
    r"most\s+forces|other\s+forces)\b",
    re.IGNORECASE,
)


def asks_nationally(question: str) -> bool:
    return bool(_NATIONAL_QUESTION.search(fold(question)))


_QUANTITY_QUESTION = re.compile(
    r"\bhow\s+many\b|\bnumber\s+of\b|\b(?:figures?|statistics?|stats|percentage|budget|costs?|spend|spent)\b"
    r"|\bhow\s+much\s+(?:money|does|do|did|is|was)\b|£", re.IGNORECASE)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# A count, amount or rate; years ("2016") and days of a date ("1 May 2017") are not quantities.
_QUANTITY = re.compile(
    rf"£\s?\d|\d\s?%|\bper\s?cent\b|\b(?!(?:19|20)\d\d\b)\d[\d,]*(?:\.\d+)?\b(?!\s+(?:{_MONTHS})\b)"
    r"|\b(?:hundred|thousand|million|billion)\b",
    re.IGNORECASE)


def asks_for_quantity(question: str) -> bool:
    return bool(_QUANTITY_QUESTION.search(fold(question)))


def has_quantity(text: str) -> bool:
    return bool(_QUANTITY.search(text))


def correct_spelling(question: str, vocabulary: list[str], misspelt, min_length: int = 5, cutoff: float = 0.84,
                     limit: int | None = None) -> str:
    """Replace misspelt words with a close spelling the reports use ("investigatons" → "investigations").

    Args:
        question: the user's words.
        vocabulary: the reports' distinct lower-case words.
        misspelt: `misspelt(word)` is True for a word worth correcting (one neither the reports nor
            everyday English use; "weather" must not become "whether").
        min_length: shorter words are left alone; too many short words are one letter from another.
        cutoff: difflib similarity a replacement must reach.
        limit: at most this many words are looked up (each costs a pass over the vocabulary).
    """
    tried = 0

    def fix(m: re.Match) -> str:
        nonlocal tried
        word = m.group(0)
        lower = word.lower()
        if len(lower) < min_length or lower.isdigit() or (limit is not None and tried >= limit):
            return word
        if not misspelt(lower):
            return word
        tried += 1
        close = difflib.get_close_matches(lower, vocabulary, n=1, cutoff=cutoff)
        return close[0] if close else word

    return WORD.sub(fix, question)
