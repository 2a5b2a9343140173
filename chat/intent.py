"""Report structure as a retrieval signal: what kind of passage a question asks for, and typo repair.

Inspection reports state a grade in fixed words ("Cleveland Police is good at ...", "requires improvement")
and list what must change under "Areas for improvement". A question about a grade or about what to improve
is steered to those passages. Pure functions over strings.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

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
    r"\bhow\s+many\b|\bnumber\s+of\b|\b(?:figures?|statistics?|stats|percentage|proportion|budget|costs?|spend|spent)\b"
    # "the average response time" asks for a number; "above the national average" compares, and is answered
    # in words as often as not.
    r"|\baverage\s+(?!(?:and|or|for|in|of|at|to)\b)[a-z]"
    r"|\bhow\s+much\s+(?:money|does|do|did|is|was)\b|£", re.IGNORECASE)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# A count, amount or rate; years ("2016") and days of a date ("1 May 2017") are not quantities.
_QUANTITY = re.compile(
    rf"£\s?\d|\d\s?%|\bper\s?cent\b|\b(?!(?:19|20)\d\d\b)\d[\d,]*(?:\.\d+)?\b(?!\s+(?:{_MONTHS})\b)"
    r"|\b(?:hundred|thousand|million|billion|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen"
    r"|twenty|thirty|forty|fifty|dozens?|half)\b",
    re.IGNORECASE)


def asks_for_quantity(question: str) -> bool:
    return bool(_QUANTITY_QUESTION.search(fold(question)))


def has_quantity(text: str) -> bool:
    return bool(_QUANTITY.search(text))


# What a number must count: "How many firearms officers does X have?" is not answered by a sentence that
# counts neighbourhood officers. The words after "how many / average / number of", up to the verb or
# preposition that ends the phrase.
_COUNTED = re.compile(r"\b(?:how\s+many|how\s+much|average|number\s+of|percentage\s+of|proportion\s+of)\s+"
                      r"((?:[\w’'-]+\s*){1,4})", re.IGNORECASE)
_PHRASE_END = {"do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "will", "would", "can",
               "could", "in", "at", "for", "of", "on", "to", "by", "from", "with", "per", "a", "an", "the", "this",
               "that", "there", "they", "it", "its", "and", "or"}
# Measures, not things: "how many times" is answered by "on 63 occasions", "how many people" by "residents".
_GENERIC_COUNTED = {"times", "people", "persons", "individuals", "money", "percent", "proportion", "much", "many"}
# "Who is the chief constable?" asks for a person: a quote must name one beside the role. The role's words are
# separated by whitespace, one way only: "(?:[\w'-]+\s*){1,4}?" could split one long word four ways, and a
# 2,000-character question that does not end the phrase took hours.
_PERSON_QUESTION = re.compile(r"^\W*who(?:'s|\s+(?:is|was|are|were))\s+(?:the\s+)?(?:current\s+|new\s+)?"
                              r"([\w’'-]+(?:\s+[\w’'-]+){0,3}?)\s*(?:\b(?:of|at|for|in)\b|\?|$)", re.IGNORECASE)
# Offices one person holds. "Who is responsible for ...", "who is at risk", "who are the victims" ask for a
# team, a group or a kind of person, which reports state without naming anyone.
_ROLE = re.compile(r"\b(?:constables?|commissioners?|pccs?|inspectors?|superintendents?|commanders?|chair\w*"
                   r"|directors?|mayors?|ministers?|secretary|executives?)\b", re.IGNORECASE)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+)+")
_NOT_A_PERSON = re.compile(r"\b(?:Police|Constabulary|Force|Service|Council|Authority|Office|Inspectorate|"
                           r"Agency|Team|Unit|Board|Partnership|Trust|Operation|Project|Scheme)\b")


_OFTEN = re.compile(r"\bhow\s+(?:often|frequently)\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _question_stop() -> frozenset[str]:
    from indexer.lexical import stopwords

    return frozenset(stopwords()) | _PHRASE_END


def _phrase(words: str) -> list[str]:
    out = []
    for w in WORD.findall(words.lower()):
        if w in _PHRASE_END:
            break
        out.append(w)
    return [w for w in out if w not in _GENERIC_COUNTED]


def _base(word: str) -> str:
    """A word without its plural: a stemmer is too coarse here ("responsibility" and "response" share one)."""
    word = word.lower().removesuffix("’s").removesuffix("'s")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def expected_answer(question: str) -> tuple[str, frozenset[str]] | None:
    """("quantity" or "person", the words the answer's sentence must hold) for a question that asks for a
    number or a person; None for any other question. The words are those of what is counted, or the role,
    without plurals."""
    text = fold(question)
    if (m := _PERSON_QUESTION.match(text)) and _ROLE.search(m.group(1)):
        return "person", frozenset(_base(w) for w in _phrase(m.group(1)))
    if _OFTEN.search(text):  # a frequency: what happens is the rest of the question
        return "quantity", frozenset(_base(w) for w in WORD.findall(_OFTEN.sub(" ", text).lower())
                                     if w not in _question_stop() and w not in _GENERIC_COUNTED)
    if asks_for_quantity(text):
        m = _COUNTED.search(text)
        return "quantity", frozenset(_base(w) for w in _phrase(m.group(1))) if m else frozenset()
    return None


def states_answer(kind: str, words: frozenset[str], text: str, sentences=()) -> bool:
    """Whether one sentence of `text` (spans `sentences`; the whole text without) states a quantity, or
    names a person, with two thirds of `words` in it or the sentence before (a phrase cut at a
    word the list of phrase ends misses, "children went missing", still needs its nouns): the kind of answer
    asked for."""
    spans = list(sentences) or [(0, len(text))]
    for i, (s, e) in enumerate(spans):
        sentence = text[s:e]
        if not (has_quantity(sentence) if kind == "quantity" else _names_person(sentence, words)):
            continue
        # The sentence before counts too: "Its work on modern slavery has grown. It identified 37 victims."
        context = text[spans[i - 1][0] if i else s:e]
        if 3 * len(words & {_base(w) for w in WORD.findall(fold(context))}) >= 2 * len(words):
            return True
    return False


def _names_person(sentence: str, role: frozenset[str]) -> bool:
    """A run of capitalised words that is not the role itself ("Chief Constable Jane Hale", "Mr Hale")."""
    for m in _NAME.finditer(sentence):
        if not _NOT_A_PERSON.search(m.group(0)) and any(_base(w) not in role for w in m.group(0).split()):
            return True
    return False


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
