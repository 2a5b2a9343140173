"""The answer function: question in, quoted and cited answer out. The CLI and the UI both call this."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from indexer.errors import BadInputError, IndexNotFoundError
from indexer.forces import short_name
from indexer.lexical import content_words
from indexer.limits import LIMITS
from indexer.store import default_index_dir

from .answer import Answer, ReportRow, compose_answer, make_quote
from .evaluate import threshold_for
from .filters import Filter
from .grading import asked_area, asked_grade, grade_rows, names_area
from .intent import asks_for_grade
from .plan import Catalogue
from .scope import SCOPE_WORDS, read_scope
from .search import Scoring, Searcher


def check_text(value, what: str, limit: int) -> str:
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
    q = check_text(question if question is not None else "", "question", LIMITS.question_chars)
    if not q:
        raise BadInputError("the question is empty",
                            fix='ask something, e.g. peelqa ask "Is the force good at investigating crime?"')
    return q


def check_context(previous) -> str | None:
    """The earlier question a follow-up is read with; None or "" means none."""
    if previous is None:
        return None
    return check_text(previous, "previous question", LIMITS.context_chars) or None


def check_top_k(top_k) -> int:
    """A whole number of quotes from 1 to LIMITS.top_k; digits in a string are accepted (forms send text)."""
    if isinstance(top_k, str) and top_k.strip().isascii() and top_k.strip().isdigit() and len(top_k.strip()) <= 3:
        top_k = int(top_k.strip())  # "²" and "①" are digits to str.isdigit, not to int()
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= LIMITS.top_k:
        raise BadInputError(f"top_k must be a whole number from 1 to {LIMITS.top_k}, not {top_k!r}"[:200])
    return top_k


# Words of a follow-up that refer back, or move in time, rather than name a topic (those content_words keeps).
_FOLLOW_UP_WORDS = {"else", "more", "also", "okay", "please", "tell", "before", "previous", "previously", "earlier",
                    "later", "last", "next", "after", "ago", "again", "instead", "now", "then", "since"}


def _topic_words(text: str) -> list[str]:
    """The words of a follow-up that name a topic ("modern slavery" in "and what about modern slavery?")."""
    return [w for w in content_words(text) if w not in _FOLLOW_UP_WORDS and w not in SCOPE_WORDS]


def check_flag(value, name: str) -> bool:
    """A yes/no argument: JSON true or false (or left out: None is false); "yes", 1 or "true" are refused
    rather than read as false, which would quietly answer another question."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadInputError(f"{name} must be true or false, not {value!r}"[:200])
    return value


class QA:
    """A loaded index, its calibrated refusal threshold, and what its reports are (for scoping)."""

    def __init__(self, searcher: Searcher, threshold: float | None = None):
        self.searcher = searcher
        self.threshold = threshold if threshold is not None else calibrated_threshold(searcher)
        self.catalogue = Catalogue(searcher.manifest)

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
            for file, reason in summary.skipped.items():
                on_build(f"skipped {file}: {reason}")
            for note in summary.notes:
                on_build(note)
            on_build(summary.line())
        return cls(Searcher.open(index_dir, scoring=scoring))

    def ask(self, question: str, top_k: int = 5, where: Filter | None = None, context: str | None = None,
            by_report: bool = False, scoring: Scoring | None = None) -> Answer:
        """Answer `question` with the `top_k` best passages of the reports it names (all, if none).

        Args:
            question: the user's words.
            top_k: how many quotes.
            where: only passages this filter lets through are quoted (the user's filters).
            context: an earlier question to read this one with (for follow-ups); searched together.
            by_report: also answer per report (a comparison); on by itself when the question compares.
            scoring: override the searcher's scoring (to compare modes); refusals then use the threshold
                calibrated for those settings, if there is one.
        """
        question = check_question(question)
        top_k = check_top_k(top_k)
        context = check_context(context)
        searcher = self.searcher
        query = searcher.correct(f"{context} {question}" if context else question, scoring)
        scope = read_scope(query, searcher.forces)
        plan = self.catalogue.plan(scope, self._mentions, judging=asks_for_grade(query))
        if plan.reason:
            return Answer(question, False, (), 0.0, context, reason=plan.reason)
        # A follow-up's own words ("what about the armed response?") count twice in the search: the earlier
        # question only sets the scene. When all of them are words the reports never use ("what about modern
        # slavery?"), the topic has changed: coverage, refusal and grades are judged on the follow-up alone
        # (read with the earlier question, it was answered from that question's quotes and grade). Words the
        # reports use ("and the year before?") keep the earlier question's topic.
        about = scope.without_names(query)
        topic, extra = query, ""
        if context:
            own_query = searcher.correct(question, scoring)
            own_about = read_scope(own_query, searcher.forces).without_names(own_query)
            own_words = _topic_words(own_about)
            extra = own_about if own_words else ""
            if own_words and not any(searcher.data.lexical.knows(w) for w in own_words):
                topic, about = own_query, own_about
        settings = scoring or searcher.scoring
        # A grade is stated in a sentence that names the force ("Cleveland Police is good at ..."): keep it.
        stripped = scope.without_names(query, keep_forces=asks_for_grade(query))
        search_text = stripped if settings.names_out and plan.filter and about.strip("?.!, ") else query
        if extra:
            search_text = f"{search_text} {extra}"
        signals = searcher.signals(search_text, scoring, about=about, scoped=bool(plan.filter),
                                   forces=bool(plan.filter and plan.filter.forces))
        mask = searcher.columns.mask(where) & searcher.columns.mask(plan.filter)
        r = searcher.rank(signals, mask, top_k, recency=not scope.years)
        threshold = self.threshold if scoring is None or scoring.calibrates_as(searcher.scoring.to_dict()) else (
            threshold_for(searcher.embedder.name, scoring))
        grades = grade_rows(searcher.data.grades, topic, plan.filter) if scope.forces else []
        hits = [(h.passage, h.score, h.sentence_scores) for h in r.hits]
        rows_of = {h.passage.id: h.row for h in r.hits}
        if grades:
            hits = self._latest_grade_first(grades, hits, signals, top_k, rows_of)
        rows = None
        if by_report or scope.comparative:
            rows = self._by_report(signals, plan, where, query, threshold)
        # Each quote's own evidence, so the chat can hide the ones that would not have answered on their own.
        own = [searcher.evidence_of(signals, rows_of[p.id]) if p.id in rows_of else r.evidence for p, _, _ in hits]
        answer = compose_answer(question, hits, r.evidence, threshold, context, own)
        return replace(answer, scope=plan.note, by_report=rows, grades=tuple(_grade_summary(g) for g in grades))

    def _mentions(self, name: str, flt: Filter) -> bool:
        """Whether one passage the filter allows has every word of `name` ("2015", "Durham Constabulary")."""
        rows = None
        for word in content_words(short_name(name) or name):
            found = set(self.searcher.data.lexical.passages_with(word).tolist())
            rows = found if rows is None else rows & found
        if not rows:
            return False
        return bool(self.searcher.columns.mask(flt)[sorted(rows)].any())

    def _latest_grade_first(self, grades: list[dict], hits: list, signals, top_k: int, rows_of: dict) -> list:
        """A grade question opens with the passage stating the grade (the most recent, if no year is named);
        its row is added to `rows_of`."""
        row = self.searcher.row_of(_quoted_passage(grades[0]), grades[0]["document"])
        if row is None:
            return hits
        rows_of[self.searcher.data.passages[row].id] = row
        first = self.searcher.hit(signals, row, hits[0][1] if hits else 1.0)
        return [(first.passage, first.score, first.sentence_scores),
                *[h for h in hits if h[0].id != first.passage.id]][:top_k]

    def _by_report(self, signals, plan, where: Filter | None, query: str, threshold: float | None) -> tuple:
        """One row per report in scope: its best passage (or the passage stating its grade, for a grade
        question), or "not covered". Retrieval runs per report, so no report is crowded out by another."""
        searcher = self.searcher
        user = searcher.columns.mask(where)
        wanted = asked_grade(query)
        # "How has X changed?" names no topic: each report's overall judgement is its answer. A topic that
        # is a graded area ("on serious and organised crime") is answered by each report's grade for it.
        topicless = not signals.words
        area = "overall" if topicless else asked_area(query)
        graded = bool(wanted or topicless or asks_for_grade(query) or names_area(query))
        by_doc = {}
        for g in searcher.data.grades:
            if g["area"] == area and g["source"] == "report":
                by_doc.setdefault(g["document"], g)
        rows = []
        order = sorted(plan.reports, key=lambda fm: (fm[1].force or "", fm[1].year or 0, fm[1].pillar or "", fm[0]))
        for file, meta in order:
            grade = by_doc.get(file) if graded else None
            if wanted and any(g for f, _ in plan.reports if (g := by_doc.get(f))) and (
                    grade is None or grade["grade"] != wanted):
                continue  # "which forces were outstanding at X": only those the grades say were
            r = searcher.rank(signals, user & searcher.columns.mask(Filter(documents=(file,))), 1, recency=False)
            hit = (r.hits[0].passage, r.hits[0].score, r.hits[0].sentence_scores) if r.hits else None
            if grade and (row := searcher.row_of(_quoted_passage(grade), grade["document"])) is not None:
                h = searcher.hit(signals, row, hit[1] if hit else 1.0)
                hit = (h.passage, h.score, h.sentence_scores)
            covered = hit is not None and (grade is not None or threshold is None or r.evidence >= threshold)
            quote = make_quote(1, *hit, weak=not covered) if hit else None
            rows.append(ReportRow(file, meta.label, meta.force, meta.year, meta.pillar, covered, quote,
                                  grade["grade"] if grade else None))
        return tuple(rows)


def _quoted_passage(grade: dict) -> str:
    """The passage to quote for a grade: where it is stated, unless that is a list or label of every area's
    grade and the report has a section on the area itself (which opens with what the grade is for)."""
    if grade.get("form", 0) >= 2 and grade.get("section_passage"):
        return grade["section_passage"]
    return grade["passage"]


def _grade_summary(g: dict) -> dict:
    keys = ("force", "year", "period", "pillar", "area", "area_label", "grade", "document", "start", "end",
            "sentence", "source")
    return {k: g.get(k) for k in keys}


def calibrated_threshold(searcher: Searcher) -> float | None:
    """The threshold stored with the index for the settings it searches with; else the registry's for them."""
    stored = searcher.manifest.get("retrieval") or {}
    if stored.get("threshold") is not None and searcher.scoring.calibrates_as(stored.get("scoring")):
        return float(stored["threshold"])
    return threshold_for(searcher.embedder.name, searcher.scoring)
