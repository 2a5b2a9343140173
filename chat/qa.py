"""The answer function: question in, quoted and cited answer out. The CLI and the UI both call this."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from indexer.errors import BadInputError, IndexNotFoundError
from indexer.limits import LIMITS
from indexer.passage import Passage
from indexer.store import default_index_dir

from .answer import Answer, compose_answer
from .evaluate import threshold_for
from .search import Scoring, Searcher


def _text(value, what: str, limit: int) -> str:
    """`value` as clean text: a string, valid Unicode (no lone surrogates from undecodable bytes), control
    characters turned into spaces, trimmed, at most `limit` characters."""
    if not isinstance(value, str):
        raise BadInputError(f"the {what} must be text, not {type(value).__name__}")
    if any("\ud800" <= c <= "\udfff" for c in value):
        raise BadInputError(f"the {what} is not valid UTF-8 text", fix="send the text as UTF-8")
    value = _CONTROL.sub(" ", value).strip()
    if len(value) > limit:
        raise BadInputError(f"the {what} is {len(value):,} characters long; the limit is {limit:,}")
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def check_question(question) -> str:
    q = _text(question if question is not None else "", "question", LIMITS.question_chars)
    if not q:
        raise BadInputError("the question is empty",
                            fix='ask something, e.g. peelqa ask "Is the force good at investigating crime?"')
    return q


def check_context(previous) -> str | None:
    """The earlier question a follow-up is read with; None or "" means none."""
    if previous is None:
        return None
    return _text(previous, "previous question", LIMITS.context_chars) or None


def check_top_k(top_k) -> int:
    """A whole number of quotes from 1 to LIMITS.top_k; digits in a string are accepted (forms send text)."""
    if isinstance(top_k, str) and top_k.strip().isdigit():
        top_k = int(top_k.strip())
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= LIMITS.top_k:
        raise BadInputError(f"top_k must be a whole number from 1 to {LIMITS.top_k}, not {top_k!r}"[:200])
    return top_k


class QA:
    """A loaded index plus its calibrated refusal threshold."""

    def __init__(self, searcher: Searcher, threshold: float | None = None):
        self.searcher = searcher
        self.threshold = (threshold if threshold is not None
                          else threshold_for(searcher.embedder.name, searcher.scoring.mode))

    @classmethod
    def open(
        cls,
        index_dir: Path | None = None,
        build_if_missing: bool = False,
        on_build: Callable[[str], None] | None = None,
        progress: Callable[[int, int, str], None] | None = None,
        scoring: Scoring | None = None,
    ) -> QA:
        """Load the index at `index_dir`; with `build_if_missing`, build it from the seeds first."""
        index_dir = Path(index_dir) if index_dir else default_index_dir()
        try:
            return cls(Searcher.open(index_dir, scoring=scoring))
        except IndexNotFoundError:
            if not build_if_missing:
                raise
        from indexer.build import build_index, default_seeds_dir

        if on_build:
            on_build(f"no index at {index_dir} yet; building it from {default_seeds_dir()} first")
        summary = build_index(index_dir=index_dir, progress=progress)
        if on_build:
            on_build(summary.line())
        return cls(Searcher.open(index_dir, scoring=scoring))

    def ask(self, question: str, top_k: int = 5, where: Callable[[Passage], bool] | None = None,
            context: str | None = None) -> Answer:
        """Answer `question` with the `top_k` best passages.

        Args:
            question: the user's words.
            top_k: how many quotes.
            where: only passages for which this is True are quoted.
            context: an earlier question to read this one with (for follow-ups); searched together.
        """
        question = check_question(question)
        top_k = check_top_k(top_k)
        context = check_context(context)
        query = f"{context} {question}" if context else question
        r = self.searcher.retrieve(query, top_k, where)
        return compose_answer(question, [(h.passage, h.score, h.sentence_scores) for h in r.hits],
                              r.evidence, self.threshold, context)
