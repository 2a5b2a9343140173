"""The Sources panel in step with the chat, in Debian's Chromium: it always belongs to the latest answer, a
citation click opens its source without moving the page, and the report keeps its headings, lists and numbers."""

import re

import pytest

from tests.test_browser import ask

pytestmark = [pytest.mark.browser, pytest.mark.model]


@pytest.fixture
def page(browser, live_app):
    # Shorter than the page, so a scroll of the window would show.
    context = browser.new_context(viewport={"width": 1100, "height": 700})
    page = context.new_page()
    page.goto(live_app[1])
    page.get_by_test_id("textbox").first.wait_for(timeout=30_000)
    yield page
    context.close()


def choose_source(page, rank: int):
    page.locator("#peelqa-sources label", has_text=f"[{rank}] ").first.click()
    page.locator("#peelqa-panel #peelqa-hit").wait_for(timeout=15_000)


def source_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("#peelqa-sources label").all_inner_texts()]


def test_a_new_question_and_a_filter_change_replace_the_sources(page):
    ask(page, "Is the force prepared for an armed attack?")
    first = source_labels(page)
    choose_source(page, 1)
    assert page.locator("#peelqa-panel mark").first.inner_text().startswith("The force is well prepared")
    ask(page, "Is there a children's hub?")
    page.wait_for_function("!document.querySelector('#peelqa-panel mark')", timeout=10_000)
    assert "Choose one of the" in page.locator("#peelqa-panel").inner_text()
    second = source_labels(page)
    assert second and second != first and page.locator("#peelqa-sources input:checked").count() == 0
    choose_source(page, 1)
    assert "children’s hub" in page.locator("#peelqa-panel").inner_text()
    # A filter change: the last answer was not asked under it, so its sources go.
    year = page.get_by_label("Year")
    year.click()
    page.get_by_role("option", name="2016").click()
    page.wait_for_function("document.querySelector('#peelqa-panel').innerText.includes('filters changed')",
                           timeout=10_000)
    assert page.locator("#peelqa-panel mark").count() == 0 and source_labels(page) == []


def test_a_citation_click_selects_and_opens_its_source_without_moving_the_page(page):
    bot = ask(page, "What should the force improve about domestic abuse?")
    link = bot.get_by_role("link", name=re.compile(r"› para \d+$")).nth(1)
    cited = link.inner_text()
    page.evaluate("window.scrollTo(0, 120)")
    before = page.evaluate("window.scrollY")
    link.focus()
    page.keyboard.press("Enter")  # by keyboard, so the focus ring is the one readers follow
    page.locator("#peelqa-panel #peelqa-hit").wait_for(timeout=15_000)
    page.wait_for_timeout(500)  # the panel's scroll runs after the update
    assert page.evaluate("window.scrollY") == before  # the page did not jump
    focus = link.evaluate("""(el) => { const r = el.getBoundingClientRect();
        return [el === document.activeElement, r.top >= 0 && r.bottom <= window.innerHeight,
                getComputedStyle(el).outlineStyle]; }""")
    assert focus[0] and focus[1] and focus[2] != "none"  # focus stayed on the link, on screen, with its ring
    checked = page.locator("#peelqa-sources label:has(input:checked)")
    assert checked.count() == 1 and checked.inner_text().strip().endswith(cited)  # the list shows which is open
    assert page.locator("#peelqa-panel h3").inner_text() == cited
    # The panel scrolled its own box to the quote (here the box starts near the window's foot, so the page is
    # not moved to show it; test_browser checks the quote is on screen where the panel is).
    inside = page.locator("#peelqa-panel #peelqa-hit").evaluate("""(m) => {
        const box = m.closest('.peelqa-source'), b = box.getBoundingClientRect(), r = m.getBoundingClientRect();
        return box.scrollTop > 0 && r.top >= b.top && r.top < b.bottom; }""")
    assert inside
    page.wait_for_function("document.getElementById('peelqa-live').textContent.startsWith('Source: ')",
                           timeout=5_000)


def test_the_panel_shows_headings_lists_and_paragraph_numbers(page):
    bot = ask(page, "What should the force improve about domestic abuse?")
    bot.get_by_role("link", name=re.compile(r"Areas for improvement › para \d+$")).filter(visible=True).first.click()
    hit = page.locator("#peelqa-panel #peelqa-hit")
    hit.wait_for(timeout=15_000)
    para = int(re.search(r"para (\d+)$", page.locator("#peelqa-panel h3").inner_text()).group(1))
    item = hit.locator("xpath=ancestor::li")
    assert item.count() == 1 and item.inner_text().startswith("- ")  # a bullet, its marker as written
    number = hit.locator("xpath=ancestor::div[contains(@class,'peelqa-list')]").locator(".peelqa-num")
    assert number.first.inner_text() == str(para)
    panel = page.locator("#peelqa-panel .peelqa-text")
    assert panel.locator("h4, h5").filter(has_text=re.compile(r"^Areas for improvement$")).count() >= 1
    assert panel.locator("h4").first.evaluate("(h) => parseFloat(getComputedStyle(h).fontWeight)") >= 600
    numbers = [int(n) for n in panel.locator(".peelqa-num").all_inner_texts()]
    assert numbers[:3] == [1, 2, 3] and numbers == sorted(numbers)


def test_a_refusals_list_says_its_quotes_are_closest_matches_not_sources(page):
    ask(page, "Who won the football match on Saturday?")
    page.wait_for_function("document.querySelector('#peelqa-sources').innerText.includes('Closest matches, not an "
                           "answer')", timeout=10_000)
    ask(page, "Is the force prepared for an armed attack?")
    page.wait_for_function("document.querySelector('#peelqa-sources').innerText.includes('Sources of the last "
                           "answer')", timeout=10_000)
