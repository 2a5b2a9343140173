"""The chat as its users work with it, in Debian's Chromium: copying quotes with citations, each answer opening
at its best quote, refusals and weaker matches collapsed, and access by keyboard and screen reader."""

import re

import pytest

from chat.render import COPY_ANCHOR, parse_copy_link
from tests.conftest import SEED
from tests.test_browser import ask

pytestmark = [pytest.mark.browser, pytest.mark.model]


@pytest.fixture
def page(browser, live_app):
    # A narrow window makes answers taller than the chat, so "the start is in view" is a real test.
    context = browser.new_context(viewport={"width": 1100, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(live_app[1])
    page.get_by_test_id("textbox").first.wait_for(timeout=30_000)
    yield page
    context.close()


def clipboard_after(page, click) -> str:
    """Click, then the clipboard once it changed (the copy fetches the text from the server first)."""
    page.evaluate("navigator.clipboard.writeText('(nothing yet)')")
    click()
    for _ in range(150):  # wait_for_function does not wait for a promise's value
        if (text := page.evaluate("navigator.clipboard.readText()")) != "(nothing yet)":
            return text
        page.wait_for_timeout(100)
    raise AssertionError("nothing was copied")


def expected_copy(service, href: str) -> str:
    """The clipboard a copy link must give: each span's indexed text, verbatim, and its passage's citation."""
    blocks = []
    for document, start, end in parse_copy_link(href.split(COPY_ANCHOR, 1)[1]):
        text = service.source(document)[0][start:end]
        assert text == service.passage_at(document, start, end).text  # the quote is a whole indexed passage
        blocks.append(f"“{text}”\n{service.passage_at(document, start, end).citation}")
    return "\n\n".join(blocks)


def test_copy_quote_and_copy_answer_give_exact_text_and_citation(page, live_app):
    service = live_app[0]
    bot = ask(page, "What should the force improve about domestic abuse?")
    link = bot.get_by_role("link", name="Copy quote").first
    href = link.get_attribute("href")
    got = clipboard_after(page, link.click)
    assert got == expected_copy(service, href)
    # Byte for byte the source file's own text: no markdown escapes (\.), no ** marks, no links or scores.
    (document, start, end), = parse_copy_link(href.split(COPY_ANCHOR, 1)[1])
    source = SEED.read_text(encoding="utf-8")
    assert document == SEED.name and got.startswith(f"“{source[start:end]}”\n")
    assert "**" not in got and "\\" not in got and "#peelqa" not in got and "match" not in got.split("\n")[-1]
    assert "› para " in got.split("\n")[-1]
    page.wait_for_function("document.getElementById('peelqa-live').textContent === 'Quote copied with its citation.'",
                           timeout=5_000)

    whole = bot.get_by_role("link", name="Copy answer")
    answer = clipboard_after(page, whole.click)
    assert answer == expected_copy(service, whole.get_attribute("href"))
    # What the answer shows: the weaker matches folded away are left out (they would not have answered).
    shown = (bot.get_by_role("link", name="Copy quote").count()
             - bot.locator("details").get_by_role("link", name="Copy quote").count())
    assert answer.count("“") == len(parse_copy_link(whole.get_attribute("href").split(COPY_ANCHOR, 1)[1])) == shown
    assert 1 <= shown < 5
    assert page.url.endswith("/")  # copy links never navigate


def visible_in_chat(page, locator) -> bool:
    """Whether the element's top is inside both the window and the chat's visible area."""
    return locator.evaluate("""(el) => {
        const r = el.getBoundingClientRect();
        let box = el.parentElement;
        while (box && !(['auto', 'scroll'].includes(getComputedStyle(box).overflowY)
                        && box.scrollHeight > box.clientHeight)) box = box.parentElement;
        const b = box ? box.getBoundingClientRect() : {top: 0, bottom: window.innerHeight};
        return r.top >= Math.max(0, b.top) - 1 && r.top + 20 <= Math.min(window.innerHeight, b.bottom);
    }""")


def comes_into_view(page, *locators) -> bool:
    """The scroll runs a frame or two after the answer is drawn: wait up to 5 s for it."""
    for _ in range(50):
        if all(visible_in_chat(page, x) for x in locators):
            return True
        page.wait_for_timeout(100)
    return False


def test_new_answer_opens_at_its_question_and_best_quote(page):
    for question in ("Is Cleveland good at investigating crime?", "How does the force respond to missing children?"):
        bot = ask(page, question)
        assert comes_into_view(page, page.get_by_test_id("user").last, bot.locator("blockquote").first)
    # The user scrolls up to reread the first answer; a new answer still comes into view at its start.
    page.get_by_test_id("user").first.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    assert not visible_in_chat(page, page.get_by_test_id("bot").last.locator("blockquote").first)
    bot = ask(page, "What should the force improve about domestic abuse?")
    first = bot.locator("blockquote").first
    assert "The force should ensure that referral of standard-risk domestic" in first.inner_text()
    assert comes_into_view(page, page.get_by_test_id("user").last, first)
    page.wait_for_timeout(500)
    assert visible_in_chat(page, first)  # and stays there (nothing scrolls it on to the end)


def test_refusal_opens_with_not_covered_and_folds_its_closest_matches(page):
    bot = ask(page, "Who won the football match on Saturday?")
    assert bot.inner_text().startswith("The indexed reports do not appear to cover this question.")
    details = bot.locator("details")
    assert details.count() == 1 and details.get_attribute("open") is None
    assert re.match(r"Show the closest 5 matches", details.locator("summary").inner_text())
    assert not details.locator("blockquote").first.is_visible()
    assert not re.search(r"\(\d+\.\d\d\)", bot.inner_text())  # no raw scores
    details.locator("summary").click()
    assert details.locator("blockquote").first.is_visible()
    assert details.locator("blockquote strong").count() == 0  # nothing in bold claims to answer


def test_weaker_matches_are_hidden_and_bold_marks_only_the_answer(page):
    bot = ask(page, "Is the force prepared for an armed attack?")
    quotes = bot.locator("blockquote")
    assert quotes.first.is_visible() and "well prepared to respond to an attack" in quotes.first.inner_text()
    summary = bot.locator("details summary")
    assert summary.inner_text() == "4 weaker matches hidden"
    assert not quotes.nth(1).is_visible()
    assert bot.locator("strong", has_text="The force is well prepared to respond").count() == 1
    assert bot.locator("blockquote strong").count() == 1  # the weaker quotes are not in bold
    summary.click()
    assert quotes.nth(1).is_visible() and "weaker match" in bot.inner_text()


def contrast(page, selector: str, pseudo: str | None = None) -> float:
    """WCAG contrast of an element's text colour against its (nearest opaque) background."""
    return page.locator(selector).first.evaluate("""(el, pseudo) => {
        const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
        const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
            .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
        const fg = rgb(getComputedStyle(el, pseudo).color);
        let node = el, bg = null;
        while (node && node.nodeType === 1) {
            const c = rgb(getComputedStyle(node).backgroundColor);
            if (c.length >= 3 && (c.length === 3 || c[3] > 0.5)) { bg = c; break; }
            node = node.parentElement;
        }
        bg = bg || [255, 255, 255];
        const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
        return (a + 0.05) / (b + 0.05);
    }""", pseudo)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_contrast_heading_and_live_announcement(browser, live_app, theme):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_app[1]}?__theme={theme}")
        page.get_by_test_id("textbox").first.wait_for(timeout=30_000)
        assert page.locator("h1").count() == 1 and "peelqa" in page.locator("h1").inner_text()
        assert contrast(page, "#peelqa-ask") >= 4.5
        assert contrast(page, "#peelqa-question textarea", "::placeholder") >= 4.5
        bot = ask(page, "Is Cleveland good at investigating crime?")
        live = page.locator("#peelqa-live[aria-live=polite]")
        page.wait_for_function("document.getElementById('peelqa-live').textContent.length > 50", timeout=10_000)
        said = live.inner_text()
        assert "Cleveland Police is good at investigating crime." in said
        assert "**" not in said and "](#" not in said and "\\." not in said  # text, not markdown source
        assert bot.get_attribute("aria-label") is None  # Gradio's label was the markdown source
    finally:
        context.close()


def test_keyboard_slash_focuses_escape_clears_and_focus_is_visible(page):
    box = page.locator("#peelqa-question textarea")
    page.locator("h1").click()
    page.keyboard.press("/")
    assert box.evaluate("(el) => el === document.activeElement") and box.input_value() == ""
    page.keyboard.type("armed attack")
    page.keyboard.press("Escape")
    assert box.input_value() == ""
    page.keyboard.press("Tab")  # to the Ask button
    ring = page.evaluate("""() => { const el = document.activeElement, s = getComputedStyle(el);
                                    return [el.id, s.outlineStyle, parseFloat(s.outlineWidth)]; }""")
    assert ring[0] == "peelqa-ask" and ring[1] != "none" and ring[2] >= 2
    # A cleared box asks nothing: Enter on it adds no message.
    box.focus()
    box.press("Enter")
    page.wait_for_timeout(500)
    assert page.get_by_test_id("bot").count() == 0


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violations(page, live_app, theme):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    page.goto(f"{live_app[1]}?__theme={theme}")
    page.get_by_test_id("textbox").first.wait_for(timeout=30_000)
    ask(page, "Is the force prepared for an armed attack?")
    for tab in ("Chat", "Index"):  # hidden tabs are not checked: each is shown in turn
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(500)
        results = axe.Axe().run(page)
        bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert bad == [], (tab, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad])
