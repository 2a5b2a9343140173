"""The first screen, in Debian's Chromium: it says what is indexed, offers questions that ask on a click, keeps
the question box in sight on a laptop and a phone, says when filters narrowed an answer, and on a phone opens a
source in a sheet beside the answer instead of far below it."""

import re

import pytest

from tests.test_browser import ask

pytestmark = [pytest.mark.browser, pytest.mark.model]


def open_page(browser, url, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(url)
    page.locator("#peelqa-question textarea").wait_for(timeout=30_000)
    return context, page


def bottom(locator) -> float:
    box = locator.bounding_box()
    return box["y"] + box["height"]


def test_laptop_first_screen_names_the_reports_and_an_example_asks_on_a_click(browser, live_app):
    context, page = open_page(browser, live_app[1], 1440, 900)
    try:
        assert "1 report indexed: Cleveland Police 2016 Effectiveness." in page.locator("#peelqa-header").inner_text()
        assert bottom(page.locator("#peelqa-question textarea")) <= 900
        page.get_by_text("Is Cleveland Police good at investigating crime?").first.click()
        page.get_by_test_id("bot").first.wait_for(timeout=30_000)
        assert page.get_by_test_id("user").first.inner_text().strip() == (
            "Is Cleveland Police good at investigating crime?")
        assert "Cleveland Police is good at investigating crime" in page.get_by_test_id("bot").first.inner_text()
        page.get_by_role("button", name="All indexed reports").click()
        page.get_by_role("tab", name="Index", selected=True).wait_for(timeout=5_000)
    finally:
        context.close()


def test_an_answer_under_a_filter_says_what_it_was_limited_to(browser, live_app):
    context, page = open_page(browser, live_app[1], 1440, 900)
    try:
        page.get_by_label("Year").click()
        page.get_by_role("option", name="2016").click()
        bot = ask(page, "Is the force prepared for an armed attack?")
        assert bot.inner_text().startswith("Searched only — Year: 2016.")
    finally:
        context.close()


def test_phone_keeps_the_question_in_sight_and_opens_a_source_in_a_sheet_by_its_answer(browser, live_app):
    context, page = open_page(browser, live_app[1], 390, 844)
    try:
        assert bottom(page.locator("#peelqa-question textarea")) <= 844 and bottom(page.locator("#peelqa-ask")) <= 844
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
        bot = ask(page, "What should the force improve about domestic abuse?")
        link = bot.get_by_role("link", name=re.compile(r"› para \d+$")).first
        link.focus()
        page.keyboard.press("Enter")
        page.locator("#peelqa-sources-col.peelqa-sheet-open #peelqa-panel #peelqa-hit").wait_for(timeout=15_000)
        page.wait_for_timeout(500)
        hit = page.locator("#peelqa-panel #peelqa-hit").bounding_box()
        sheet = page.locator("#peelqa-sources-col").bounding_box()
        assert 0 <= hit["x"] and hit["x"] + hit["width"] <= 390 and sheet["y"] <= hit["y"] < 844  # quote in sight
        cited = link.bounding_box()
        assert 0 <= cited["y"] and cited["y"] + cited["height"] <= sheet["y"]  # its citation above the sheet
        assert page.evaluate("document.activeElement.id") == "peelqa-sheet-close"
        page.keyboard.press("Escape")
        page.wait_for_function("!document.querySelector('.peelqa-sheet-open')", timeout=5_000)
        assert link.evaluate("(el) => el === document.activeElement")  # focus back where the reader was
    finally:
        context.close()
