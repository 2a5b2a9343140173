"""The Index tab's report removal in Debian's Chromium: it asks first, Cancel keeps the file, Yes deletes it and
rebuilds, and the table, header and filters follow."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.model]

EXTRA = "durham-extra.md"


def test_a_report_is_removed_only_after_confirmation(browser, live_app):
    service, url = live_app
    path = service.seeds_dir / EXTRA
    path.write_text("# Durham PEEL 2017\n\nDurham Constabulary keeps a register of lighthouse keepers, inspectors "
                    "found.\n", encoding="utf-8")
    service.rebuild()
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        page.goto(url)
        page.locator("#peelqa-question textarea").wait_for(timeout=30_000)
        # The page was built before this rebuild: loading it shows what is indexed now.
        page.wait_for_function("document.querySelector('#peelqa-header').innerText.includes('2 reports indexed')",
                               timeout=15_000)
        page.get_by_role("tab", name="Index").click()
        page.get_by_label("Remove a report (deletes its file from the seeds folder)").click()
        page.get_by_role("option", name=f"{EXTRA} — Durham PEEL 2017").click()
        page.locator("#peelqa-remove").click()
        confirm = page.locator("#peelqa-remove-confirm")
        confirm.wait_for(state="visible", timeout=10_000)
        assert f"Delete {EXTRA} (Durham PEEL 2017) from the seeds folder" in confirm.inner_text()
        page.locator("#peelqa-remove-cancel").click()
        confirm.wait_for(state="hidden", timeout=10_000)
        assert path.exists()
        page.locator("#peelqa-remove").click()
        page.locator("#peelqa-remove-yes").click()
        page.wait_for_function("document.querySelector('#peelqa-rebuild-status').innerText.includes('Done:')",
                               timeout=60_000)
        assert not path.exists() and confirm.is_hidden()
        assert EXTRA not in page.get_by_label("Indexed reports").inner_text()
        assert "1 report indexed" in page.locator("#peelqa-header").inner_text()
        assert [row[4] for row in service.documents()] == ["cleveland-peel-2016-effectiveness.txt"]
    finally:
        context.close()
        if path.exists():
            path.unlink()
            service.rebuild()
