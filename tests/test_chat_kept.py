"""The conversation kept and shared, in Debian's Chromium: it survives a reload (in the browser only), each
answer links to itself with the index version, a link asks its question, and Clear clears everything."""

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import SEED
from tests.test_browser import ask

pytestmark = [pytest.mark.browser, pytest.mark.model]


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    yield context
    context.close()


def open_page(context, url):
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("document.body.dataset.peelqaLoaded === '1'", timeout=30_000)
    return page


def messages(page, role: str) -> list[str]:
    return page.get_by_test_id(role).all_inner_texts()


def reload(page):
    page.reload()
    page.wait_for_function("document.body.dataset.peelqaLoaded === '1'", timeout=30_000)


def test_a_reload_brings_the_conversation_back_and_clear_clears_everything(context, live_app):
    page = open_page(context, live_app[1])
    ask(page, "Which outcome category is the force an outlier for?")
    ask(page, "Is there a children's hub?")
    users, bots = messages(page, "user"), messages(page, "bot")
    sources = page.locator("#peelqa-sources label").all_inner_texts()
    # Kept in this browser (encrypted by Gradio, so only its size tells that the answers are in it).
    page.wait_for_function("(localStorage.getItem('peelqa-conversation') || '').length > 4000", timeout=10_000)
    reload(page)
    page.wait_for_function("document.querySelectorAll('[data-testid=bot]').length === 2", timeout=15_000)
    assert messages(page, "user") == users and messages(page, "bot") == bots
    assert page.locator("#peelqa-sources label").all_inner_texts() == sources  # the last answer's sources
    page.locator("#peelqa-sources label", has_text="[1] ").first.click()
    page.wait_for_function("document.querySelector('#peelqa-panel #peelqa-hit')", timeout=15_000)
    follow = ask(page, "why?")  # the follow-up context came back too
    assert "Read as a follow-up to: “Is there a children's hub?”" in follow.inner_text()

    page.locator("#peelqa-chat").get_by_role("button", name="Clear").click()  # the chat's trash icon
    page.wait_for_function("document.querySelectorAll('[data-testid=bot]').length === 0", timeout=10_000)
    page.wait_for_function("document.querySelectorAll('#peelqa-sources label').length === 0", timeout=10_000)
    assert page.locator("#peelqa-panel mark").count() == 0
    after = ask(page, "why?")  # no follow-up context left
    assert "follow-up" not in after.inner_text()
    page.locator("#peelqa-clear").click()  # the Clear button
    page.wait_for_function("document.querySelectorAll('[data-testid=bot]').length === 0", timeout=10_000)
    page.wait_for_timeout(500)
    reload(page)
    assert page.get_by_test_id("bot").count() == 0 and page.get_by_test_id("user").count() == 0


def test_each_answer_links_to_itself_and_a_link_asks_its_question(context, live_app, browser):
    service, url = live_app
    page = open_page(context, url)
    question = "Is the force prepared for an armed attack?"
    bot = ask(page, question)
    link = bot.get_by_role("link", name="Link to this answer")
    page.wait_for_function("document.getElementById('peelqa-live').textContent.length > 50", timeout=10_000)
    assert "Link to this answer" not in page.locator("#peelqa-live").inner_text()  # announced: the answer only
    href = link.get_attribute("href")
    params = parse_qs(urlsplit(href).query)
    assert params["q"] == [question] and params["v"] == [service.index_version()]
    page.evaluate("navigator.clipboard.writeText('(nothing yet)')")
    link.click()
    page.wait_for_function("navigator.clipboard.readText().then((t) => t !== '(nothing yet)')", timeout=5_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == url.rstrip("/") + "/" + href and page.url == url  # copied, not followed
    best = bot.locator("blockquote").first.inner_text()

    # Opened in a browser that has never seen the chat: the question is asked and answered.
    fresh = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        other = open_page(fresh, copied)
        other.wait_for_function("document.querySelectorAll('[data-testid=bot]').length === 1", timeout=30_000)
        assert messages(other, "user") == [question]
        answer = other.get_by_test_id("bot").first
        assert answer.locator("blockquote").first.inner_text() == best
        assert "changed since" not in answer.inner_text()
        other.wait_for_function("!location.search.includes('q=')", timeout=10_000)  # a reload won't ask again
        reload(other)
        assert messages(other, "user") == [question]

        # The same link made on another index: answered from this one, and it says the reports changed.
        other.goto(copied.replace(f"v={service.index_version()}", "v=000000000000"))
        other.wait_for_function("document.querySelectorAll('[data-testid=bot]').length === 2", timeout=30_000)
        changed = other.get_by_test_id("bot").last.inner_text()
        assert changed.startswith("The indexed reports changed since this link was made")
        assert re.search(r"well prepared to respond to an attack", changed)
    finally:
        fresh.close()


def test_export_downloads_the_conversation_as_markdown_and_csv_verbatim(context, live_app):
    service, url = live_app
    page = open_page(context, url)
    page.locator("#peelqa-clear").click()  # this browser's kept conversation may hold earlier tests' questions
    page.wait_for_timeout(500)
    questions = ["Is the force prepared for an armed attack?", "Who won the football match on Saturday?"]
    for question in questions:
        ask(page, question)
    with page.expect_download(timeout=15_000) as got:
        page.get_by_role("button", name="Export as CSV").click()
    assert got.value.suggested_filename == "peelqa-conversation.csv"
    rows = list(csv.DictReader(io.StringIO(open(got.value.path(), encoding="utf-8").read())))
    assert list(rows[0]) == ["question", "answered", "rank", "quote", "citation", "document", "start", "end"]
    assert [r["question"] for r in rows] == [questions[0]] * 5 + [questions[1]] * 5
    assert [r["answered"] for r in rows] == ["yes"] * 5 + ["no"] * 5
    assert [int(r["rank"]) for r in rows[:5]] == [1, 2, 3, 4, 5]
    for r in rows:  # each quote byte for byte the indexed text of its span, with its citation
        start, end = int(r["start"]), int(r["end"])
        assert r["quote"] == service.source(r["document"])[0][start:end] == SEED.read_text("utf-8")[start:end]
        assert r["citation"] == service.passage_at(r["document"], start, end).citation
    shown = page.get_by_test_id("bot").first.get_by_role("link", name=re.compile(r"› para \d+$")).first.inner_text()
    assert rows[0]["citation"] == shown

    with page.expect_download(timeout=15_000) as got:
        page.get_by_role("button", name="Export as Markdown").click()
    assert got.value.suggested_filename == "peelqa-conversation.md"
    md = open(got.value.path(), encoding="utf-8").read()
    assert md.startswith("# peelqa conversation") and f"## {questions[0]}" in md and f"## {questions[1]}" in md
    assert f"> {rows[0]['quote']}\n" in md and f"— {rows[0]['citation']} (" in md
    assert "do not appear to cover this question" in md.split(f"## {questions[1]}")[1]
