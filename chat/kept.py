"""The conversation the browser keeps, and the links to answers. Pure functions.

The conversation lives in the browser's localStorage only (a gr.BrowserState): the server keeps nothing and
reads it back as untrusted input, so `restore` keeps only well-formed parts, within bounds. A link to an answer
is "?q=<question>&v=<index version>", with the question it followed ("p") and the filters it was asked under.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from indexer.limits import LIMITS

MAX_TURNS = 50  # what a reload brings back; older questions drop off (localStorage holds a few MB)
FILTER_KEYS = ("title", "force", "year", "pillar", "section")
LINK_KEYS = ("q", "v", "p", *FILTER_KEYS)


def empty(version: str) -> dict:
    """A cleared conversation."""
    return {"v": version, "history": [], "turns": [], "last": ""}


def _text(value, limit: int) -> str | None:
    return value if isinstance(value, str) and len(value) <= limit else None


def _result(r) -> dict | None:
    """A source as kept: rank, citation and span (the quote itself is read from the index when needed)."""
    if not isinstance(r, dict):
        return None
    rank, start, end = r.get("rank"), r.get("start"), r.get("end")
    document, citation = _text(r.get("document"), 1000), _text(r.get("citation"), 2000)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (rank, start, end)):
        return None
    if document is None or citation is None:
        return None
    return {"rank": rank, "citation": citation, "document": document, "start": start, "end": end}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def restore(kept) -> dict:
    """The kept conversation as the page sent it back, with anything malformed left out."""
    kept = kept if isinstance(kept, dict) else {}
    history = []
    for m in _list(kept.get("history")):
        if isinstance(m, dict) and m.get("role") in ("user", "assistant") and _text(m.get("content"), 200_000):
            history.append({"role": m["role"], "content": m["content"]})
    turns = []
    for t in _list(kept.get("turns")):
        q = _text(t.get("q"), LIMITS.question_chars) if isinstance(t, dict) else None
        if q is not None:
            results = [r for r in map(_result, _list(t.get("results"))) if r]
            turns.append({"q": q, "results": results[:2 * LIMITS.top_k], "answered": t.get("answered") is not False})
    return {"v": _text(kept.get("v"), 64) or "", "history": history[-4 * MAX_TURNS:], "turns": turns[-MAX_TURNS:],
            "last": _text(kept.get("last"), LIMITS.question_chars) or ""}


def message_text(content) -> str:
    """A chat message's markdown: the chat hands its messages back as lists of parts ({"type": "text", ...})."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def add_turn(kept: dict, version: str, history: list, question: str, results: list[dict], last: str,
             answered: bool = True) -> dict:
    """The kept conversation after one more question: its messages, its sources, the follow-up context."""
    turns = [*kept.get("turns", []),
             {"q": question, "results": [r for r in map(_result, results) if r], "answered": answered}]
    messages = [{"role": m.get("role"), "content": message_text(m.get("content"))} for m in history
                if isinstance(m, dict)]
    messages = [m for m in messages if m["role"] in ("user", "assistant") and m["content"]]
    return {"v": version, "history": messages[-4 * MAX_TURNS:], "turns": turns[-MAX_TURNS:], "last": last}


def share_link(question: str, version: str, previous: str | None = None, filters: dict | None = None) -> str:
    """"?q=...&v=..." for an answer: opened, the chat asks the question again, as it was asked (after the same
    question, under the same filters), and says so if the indexed reports changed since. Percent-encoded, so
    it holds no markdown or HTML."""
    pairs = [("q", question.strip()), ("v", version)]
    if previous:
        pairs.append(("p", previous))
    for key in FILTER_KEYS:
        pairs += [(key, str(value)) for value in (filters or {}).get(key) or []]
    return "?" + urlencode(pairs)


def parse_share(query: str) -> dict | None:
    """{"q", "v", "p", "filters"} from a page address's query string; None when it asks nothing."""
    params = parse_qs(query or "", keep_blank_values=False)
    q = (params.get("q") or [""])[0].strip()
    if not q:
        return None
    filters = {key: params[key][:50] for key in FILTER_KEYS if params.get(key)}
    return {"q": q, "v": (params.get("v") or [""])[0][:64], "p": (params.get("p") or [""])[0], "filters": filters}
