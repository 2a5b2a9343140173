"""The chat service, rendering, and the Gradio API through gradio_client against a launched server."""

import pytest

from chat.filters import Filter
from chat.qa import QA
from chat.render import answer_markdown, escape_md, is_follow_up, source_html
from chat.search import Searcher
from chat.service import ChatService, safe_file_name
from indexer.build import build_index
from indexer.errors import PeelqaError
from tests.test_index import FOUR


@pytest.fixture
def small_service(tmp_path, fake_embedder):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "tiny.txt").write_text(FOUR, encoding="utf-8")
    build_index(seeds, tmp_path / "index", embedder=fake_embedder)
    return ChatService(tmp_path / "index", seeds, qa=QA(Searcher.open(tmp_path / "index", embedder=fake_embedder)))


def test_escape_md_shows_markup_literally():
    assert escape_md("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert\\(1\\)&gt;"
    assert escape_md("**not bold** [link](x)") == "\\*\\*not bold\\*\\* \\[link\\]\\(x\\)"
    assert escape_md("") == ""


def test_follow_up_detection():
    assert is_follow_up("and what about children?") and is_follow_up("why?") and is_follow_up("What about gangs")
    assert not is_follow_up("Is the force good at investigating crime?") and not is_follow_up("kids hub")


def test_answer_markdown_quotes_cites_and_refuses(small_service):
    answered = small_service.qa.ask("Who patrols the harbour at night?", 2)
    md = answer_markdown(answered)
    assert "Officers patrol the harbour at night" in md and "Tiny · PEEL 2020 · Effectiveness" in md
    refused = type(answered)(answered.question, False, answered.quotes)
    assert "do not appear to cover" in answer_markdown(refused)


def test_source_html_escapes_and_marks():
    html = source_html("T", "a <b>x</b> c", 2, 10)
    assert '<mark id="peelqa-hit">&lt;b&gt;x&lt;/b&gt;</mark>' in html and "<b>" not in html


def test_safe_file_name_and_upload_stays_in_seeds(small_service, tmp_path):
    assert safe_file_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_file_name("C:\\x\\My Report (2016).MD") == "My-Report-2016.md"
    assert safe_file_name(".hidden.txt") == "hidden.txt"
    with pytest.raises(PeelqaError, match="is not a .txt or .md or .pdf or .html or .htm or .docx report"):
        safe_file_name("evil.sh")
    upload = tmp_path / "up.txt"
    upload.write_text("New report\n\nSome text.\n", encoding="utf-8")
    assert small_service.save_upload(upload, "../../outside.txt") == "outside.txt"
    assert (small_service.seeds_dir / "outside.txt").exists() and not (tmp_path / "outside.txt").exists()
    upload.write_text("Different text.\n", encoding="utf-8")
    assert small_service.save_upload(upload, "outside.txt") == "outside-2.txt"  # never overwrites
    upload.write_bytes(b"\xff\xfe")
    with pytest.raises(PeelqaError, match="not UTF-8"):
        small_service.save_upload(upload, "bad.txt")
    upload.write_bytes(b"x" * (2 * 1024 * 1024 + 1))
    with pytest.raises(PeelqaError, match="the limit is"):
        small_service.save_upload(upload, "big.txt")


def test_filters_restrict_answers(small_service):
    bullets_only = {"section": ["Areas for improvement"]}
    answer = small_service.ask("harbour at night", 5, bullets_only)
    assert answer.quotes and all(q.passage.section[-1] == "Areas for improvement" for q in answer.quotes)
    assert small_service.ask("harbour", 5, {"year": ["1999"]}).quotes == ()
    columns = small_service.qa.searcher.columns
    assert columns.mask(Filter(forces=("Tiny",), years=(2020,))).all()
    assert not columns.mask(Filter(forces=("Kent Police",))).any()
    assert small_service.filter_choices() == {"title": ["Tiny PEEL 2020"], "force": ["Tiny"], "year": ["2020"],
                                              "pillar": ["Effectiveness"],
                                              "section": ["Areas for improvement", "Is the force good?"]}


def test_rebuild_swaps_index_and_never_runs_twice(small_service):
    before = small_service.qa
    (small_service.seeds_dir / "more.md").write_text("# More\n\nLighthouse keepers report to the force.\n")
    summary = small_service.rebuild()
    assert summary.documents == 2 and summary.embedded == 1
    assert small_service.qa is not before
    assert small_service.ask("lighthouse keepers", 1).quotes[0].passage.document == "more.md"
    assert before.ask("lighthouse keepers", 5).quotes[0].passage.document == "tiny.txt"  # old one unchanged
    assert [row[4] for row in small_service.documents()] == ["more.md", "tiny.txt"]
    small_service._rebuild_lock.acquire()
    try:
        with pytest.raises(PeelqaError, match="already running"):
            small_service.rebuild()
    finally:
        small_service._rebuild_lock.release()


def test_remove_report_deletes_only_an_indexed_file_in_the_seeds_folder_and_rebuilds(small_service, tmp_path):
    with pytest.raises(PeelqaError, match="tiny.txt is the only indexed report"):
        small_service.remove_report("tiny.txt")
    assert (small_service.seeds_dir / "tiny.txt").exists()  # refused before anything was deleted
    (small_service.seeds_dir / "more.md").write_text("# More\n\nLighthouse keepers report to the force.\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("not a report of this index")
    small_service.rebuild()
    for name in ("../outside.txt", "nothing.md", str(outside)):
        with pytest.raises(PeelqaError, match="is not an indexed report"):
            small_service.remove_report(name)
    small_service._rebuild_lock.acquire()
    try:
        with pytest.raises(PeelqaError, match="already running"):
            small_service.remove_report("more.md")
    finally:
        small_service._rebuild_lock.release()
    assert (small_service.seeds_dir / "more.md").exists()

    def fails(progress):
        raise PeelqaError("the model cannot be loaded")

    real, small_service._rebuild = small_service._rebuild, fails
    with pytest.raises(PeelqaError, match="cannot be loaded"):
        small_service.remove_report("more.md")
    small_service._rebuild = real
    assert (small_service.seeds_dir / "more.md").exists()  # a failed rebuild puts the file back
    summary = small_service.remove_report("more.md")
    assert summary.documents == 1 and summary.removed == ["more.md"]
    assert not (small_service.seeds_dir / "more.md").exists() and outside.exists()
    assert [row[4] for row in small_service.documents()] == ["tiny.txt"]
    assert all(q.passage.document == "tiny.txt" for q in small_service.ask("lighthouse keepers", 5).quotes)


@pytest.mark.model
def test_gradio_client_ask_follow_up_and_rebuild(live_app, qa):
    from gradio_client import Client

    service, url = live_app
    client = Client(url, verbose=False)
    got = client.predict("Is Cleveland good at investigating crime?", 3, api_name="/ask")
    assert got == qa.ask("Is Cleveland good at investigating crime?", 3).to_dict()
    assert got["results"][0]["citation"].endswith("re-offending? › para 3")
    follow = client.predict("and what about children?", 3, "How does the force respond to missing people?",
                            api_name="/ask")
    assert follow["question"] == "and what about children?"
    assert "children" in follow["results"][0]["text"]
    why = client.predict("why?", 1, "Which outcome category is the force an outlier for?", api_name="/ask")
    assert "outlier" in why["results"][0]["text"]
    with pytest.raises(Exception, match="the question is empty"):
        client.predict("   ", 3, api_name="/ask")
    table = client.predict("How is Cleveland doing at investigating crime?", 1, "", True, api_name="/ask")
    (row,) = table["by_report"]
    assert row["report"] == "Cleveland Police · PEEL 2016 · Effectiveness" and row["grade"] == "good"
    assert "by_report" not in client.predict("Is there a children's hub?", 1, api_name="/ask")
    summary = client.predict(api_name="/rebuild")
    assert summary["documents"] == 1 and summary["embedded"] == 0


def test_citation_links_round_trip():
    from chat.render import SOURCE_ANCHOR, parse_source_link, source_link

    link = source_link("sub dir/Report (1).md", 10, 42)
    assert link.startswith(SOURCE_ANCHOR) and " " not in link and ")" not in link
    assert parse_source_link(link[len(SOURCE_ANCHOR):] + "|1700000000") == ("sub dir/Report (1).md", 10, 42)
    with pytest.raises(ValueError):
        parse_source_link("nonsense")


def test_passage_at_only_finds_indexed_spans(small_service):
    p = small_service.qa.searcher.passages[1]
    assert small_service.passage_at(p.document, p.start, p.end) == p
    with pytest.raises(PeelqaError, match="no passage"):
        small_service.passage_at(p.document, p.start, p.end + 1)
    with pytest.raises(PeelqaError, match="not in the index"):
        small_service.source("../../etc/passwd")


def test_copy_text_gives_indexed_spans_verbatim_and_nothing_else(small_service):
    a, b = small_service.qa.searcher.passages[1], small_service.qa.searcher.passages[2]
    got = small_service.copy_text([(a.document, a.start, a.end), (b.document, b.start, b.end)])
    source = (small_service.seeds_dir / "tiny.txt").read_text(encoding="utf-8")
    assert got == f"“{source[a.start:a.end]}”\n{a.citation}\n\n“{source[b.start:b.end]}”\n{b.citation}"
    # Part of a passage (a grade's sentence) is a span the chat cites too; anything else is refused.
    assert small_service.copy_text([(a.document, a.start, a.start + 8)]) == f"“{a.text[:8]}”\n{a.citation}"
    with pytest.raises(PeelqaError, match="no passage"):
        small_service.copy_text([(a.document, 0, len(source))])
    with pytest.raises(PeelqaError, match="copy 1 to"):
        small_service.copy_text([])


@pytest.mark.model
def test_quote_evidence_never_exceeds_the_answers_and_marks_weak(qa):
    searcher = qa.searcher
    signals = searcher.signals("Is the force prepared for an armed attack?")
    r = searcher.rank(signals, searcher.columns.mask(None), 5)
    own = [searcher.evidence_of(signals, h.row) for h in r.hits]
    assert all(e <= r.evidence + 1e-6 for e in own)
    assert own[0] >= qa.threshold > min(own)  # the answering quote clears the refusal level; the weakest does not
    answer = qa.ask("Is the force prepared for an armed attack?", 5)
    assert [q.weak for q in answer.quotes][0] is False and any(q.weak for q in answer.quotes)
    assert all(q.weak for q in qa.ask("Who won the football match on Saturday?", 5).quotes)


def test_export_reads_quotes_from_the_index_and_index_version_follows_the_reports(small_service):
    a = small_service.qa.searcher.passages[1]
    turns = [{"q": "Who?", "answered": True, "results": [
        {"rank": 1, "citation": "old", "document": a.document, "start": a.start, "end": a.end},
        {"rank": 2, "citation": "old", "document": a.document, "start": 0, "end": 10_000}]}]
    (turn,) = small_service.export(turns)
    source = (small_service.seeds_dir / "tiny.txt").read_text(encoding="utf-8")
    assert turn.rows[0].quote == source[a.start:a.end] and turn.rows[0].citation == a.citation  # the index's own
    assert turn.rows[1].quote == "" and "no longer in the index" in turn.rows[1].citation
    assert [b.paragraph for b in small_service.layout(a.document)] == [p.paragraph for p in
                                                                       small_service.qa.searcher.passages]
    version = small_service.index_version()
    small_service.rebuild()
    assert small_service.index_version() == version  # nothing changed
    (small_service.seeds_dir / "more.md").write_text("# More\n\nLighthouse keepers report to the force.\n")
    small_service.rebuild()
    assert small_service.index_version() != version
