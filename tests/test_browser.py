"""Drive the chat in Debian's Chromium with Playwright (never `playwright install`)."""

import re

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.model]
ARTIFACTS = ROOT / "test-artifacts"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def page(browser, live_app):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(live_app[1])
    page.get_by_test_id("textbox").first.wait_for(timeout=30_000)
    yield page
    context.close()


def ask(page, question):
    before = page.get_by_test_id("bot").count()
    box = page.locator("#peelqa-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('[data-testid=bot]').length > {before}", timeout=30_000)
    bot = page.get_by_test_id("bot").last
    bot.wait_for()
    return bot


def test_question_shows_quote_and_citation(page):
    bot = ask(page, "Is Cleveland good at investigating crime?")
    text = bot.inner_text()
    assert "Cleveland Police is good at investigating crime." in text
    assert "How effective is the force at investigating crime and reducing re-offending? › para 3" in text
    assert bot.locator("strong", has_text="Cleveland Police is good at investigating crime.").count() >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshot.png"), full_page=False)


def test_choosing_a_citation_opens_highlighted_paragraph(page):
    ask(page, "Is the force prepared for an armed attack?")
    page.locator("#peelqa-sources label", has_text="[1] ").first.click()
    mark = page.locator("#peelqa-hit")
    mark.wait_for(timeout=15_000)
    assert mark.inner_text().startswith("The force is well prepared to respond to an attack")
    panel_text = page.locator("#peelqa-panel").inner_text()
    assert "Cleveland Police has effective arrangements in place" in panel_text  # the neighbour is readable
    page.wait_for_function("""() => { const r = document.getElementById('peelqa-hit').getBoundingClientRect();
                                      return r.top >= 0 && r.bottom <= window.innerHeight + r.height; }""",
                           timeout=10_000)


def test_clicking_a_citation_in_the_answer_opens_its_paragraph(page):
    bot = ask(page, "Is there a children's hub?")
    bot.get_by_role("link", name=re.compile(r"› para 8$")).first.click()
    mark = page.locator("#peelqa-hit")
    mark.wait_for(timeout=15_000)
    assert "established its first children’s hub" in mark.inner_text()
    assert page.url.endswith("/")  # the link did not navigate away
    # A citation in an earlier answer still opens its own paragraph.
    ask(page, "Is the force prepared for an armed attack?")
    page.locator("#peelqa-sources label", has_text="[1] ").first.click()
    page.get_by_text("The force is well prepared to respond to an attack").last.wait_for(timeout=15_000)
    page.wait_for_function("document.getElementById('peelqa-hit')?.innerText.startsWith('The force is well prepared')")
    page.get_by_test_id("bot").first.get_by_role("link", name=re.compile(r"› para 8$")).first.click()
    page.wait_for_function("document.getElementById('peelqa-hit').innerText.includes('first children’s hub')",
                           timeout=15_000)


def test_upload_rebuild_ask_and_markup_stays_literal(page, tmp_path):
    report = tmp_path / "Harbour Watch Report.md"
    report.write_text("# Harbour Watch 2024\n\n## Marine patrols\n\nThe marine unit patrols the estuary every "
                      f"night with two lifeboats. {XSS} was found in a log.\n", encoding="utf-8")
    page.get_by_role("tab", name="Index").click()
    page.locator("#peelqa-upload input[type=file]").set_input_files(str(report))
    page.get_by_text("Saved Harbour-Watch-Report.md to the seeds folder.").wait_for(timeout=20_000)
    page.get_by_role("button", name="Rebuild index").click()
    page.get_by_text(re.compile(r"indexed 2 documents")).wait_for(timeout=120_000)
    assert page.get_by_text("Harbour-Watch-Report.md").count() >= 1
    page.get_by_role("tab", name="Chat").click()
    bot = ask(page, "how often does the marine unit patrol the estuary?")
    text = bot.inner_text()
    assert "The marine unit patrols the estuary every night with two lifeboats." in text
    assert XSS in text  # shown as text
    assert "Harbour Watch 2024 › Marine patrols › para 1" in text
    assert page.locator("#peelqa-chat img[src=x]").count() == 0
    question_bot = ask(page, f"what is {XSS} <script>alert(2)</script>?")
    assert XSS in page.get_by_test_id("user").last.inner_text()
    assert question_bot.is_visible()
    page.wait_for_timeout(500)
    assert page.dialogs == []


def test_grades_view_opens_the_sentence_of_a_grade(page):
    page.get_by_role("tab", name="Grades").click()
    table = page.locator("#peelqa-grades table")
    table.wait_for(timeout=15_000)
    assert "Cleveland Police · PEEL 2016 · Effectiveness" in table.inner_text()
    table.get_by_role("link", name="Requires improvement").first.click()
    mark = page.locator("#peelqa-grades-panel mark")
    mark.wait_for(timeout=15_000)
    assert mark.inner_text().startswith("Cleveland Police requires improvement in the way in which it responds")


def test_find_lists_every_mention_with_counts(page):
    page.get_by_role("tab", name="Find").click()
    box = page.locator("#peelqa-phrase textarea, #peelqa-phrase input").first
    box.fill("missing children")
    box.press("Enter")
    result = page.locator("#peelqa-mentions")
    page.wait_for_function("document.querySelector('#peelqa-mentions').innerText.includes('mention(s)')",
                           timeout=15_000)
    text = result.inner_text()
    assert "1 mention(s) of “missing children” in 1 of" in text
    assert "investigates missing children" in text


def test_comparison_table_and_scope_note_in_the_chat(page):
    bot = ask(page, "How has Cleveland changed since 2015?")
    text = bot.inner_text()
    assert "From Cleveland Police, PEEL 2015 onwards" in text
    assert "By report" in text and bot.locator("table").count() == 1
    refused = ask(page, "How good is Durham Constabulary at investigating crime?")
    assert "No report of Durham Constabulary is indexed. Indexed forces: Cleveland Police." in refused.inner_text()


def test_pdf_upload_page_view_with_highlight_and_next_page(page):
    page.get_by_role("tab", name="Index").click()
    page.locator("#peelqa-upload input[type=file]").set_input_files(str(ROOT / "tests/data/formats/report.pdf"))
    page.get_by_text("Saved report.pdf to the seeds folder.").wait_for(timeout=30_000)
    page.get_by_role("button", name="Rebuild index").click()
    page.get_by_text(re.compile(r"indexed \d+ documents")).wait_for(timeout=180_000)
    page.get_by_role("tab", name="Chat").click()
    bot = ask(page, "Ashdown digital media hub mobile phones examined")
    bot.get_by_role("link", name=re.compile(r"pp\. 2–3 › para \d+$")).first.click()
    image = page.locator("#peelqa-panel img[alt*='the quote highlighted']")
    image.wait_for(timeout=30_000)
    assert "Page 2 of report.pdf" in image.get_attribute("alt")
    assert "page 2 (4 of 8)" in page.locator("#peelqa-panel .peelqa-page-nav").inner_text()
    page.locator("#peelqa-panel").get_by_role("link", name="next page ›").click()
    page.wait_for_function("document.querySelector('#peelqa-panel .peelqa-page-nav').innerText.includes('5 of 8')",
                           timeout=30_000)
    assert "A new digital media hub" in page.locator("#peelqa-hit").inner_text()  # the text view stays on the quote
