"""Screenshots of the chat's main states, into docs/screens/ (and docs/screenshot.png, the README's).

    .venv/bin/peelqa serve --port 7880 &          # over the seed index
    .venv/bin/python docs/screens.py http://127.0.0.1:7880/

Debian's Chromium, driven by Playwright (never `playwright install`).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
QUESTION = "Is Cleveland Police good at investigating crime?"


def answer(page, url: str) -> None:
    page.goto(url)
    page.locator("#peelqa-question textarea").wait_for(timeout=30_000)
    page.wait_for_timeout(1_000)
    page.get_by_text(QUESTION).first.click()
    page.get_by_test_id("bot").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1_000)


def open_first_source(page) -> None:
    page.locator("#peelqa-chat a[href*='#peelqa-src/']").first.click()
    page.locator("#peelqa-panel #peelqa-hit").wait_for(timeout=15_000)
    page.wait_for_timeout(1_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--out", type=Path, default=HERE / "screens")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for name, width, height, theme in (("desktop", 1440, 900, "light"), ("phone", 390, 844, "light"),
                                           ("dark", 1440, 900, "dark")):
            page = browser.new_context(viewport={"width": width, "height": height}, color_scheme=theme).new_page()
            url = f"{args.url}?__theme={theme}"
            if name != "dark":
                page.goto(url)
                page.locator("#peelqa-question textarea").wait_for(timeout=30_000)
                page.wait_for_timeout(1_500)
                page.screenshot(path=str(args.out / f"{name}-first-screen.png"))
            answer(page, url)
            open_first_source(page)
            page.screenshot(path=str(args.out / f"{name}-answer-and-source.png"))
            if name == "desktop":
                page.get_by_role("tab", name="Index").click()
                page.wait_for_timeout(800)
                page.screenshot(path=str(args.out / "desktop-index-tab.png"))
            page.context.close()
        browser.close()
    shutil.copy(args.out / "desktop-answer-and-source.png", HERE / "screenshot.png")
    print("\n".join(sorted(str(f.relative_to(HERE.parent)) for f in args.out.glob("*.png"))))


if __name__ == "__main__":
    main()
