"""线索统计 in real headless Chromium: plotly.js served by the application draws the chart (no CDN),
and the filters survive in the URL when the form is used."""
import pytest
from playwright.sync_api import sync_playwright

from tests.browser import DESKTOP, launch
from tests.test_browser_login import sign_in
from tests.test_clues import clues, marker  # noqa: F401


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def test_the_statistics_chart_is_drawn_from_the_local_plotly(browser, live_server, clues, marker):  # noqa: F811
    page = browser.new_page(**DESKTOP)
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(live_server) else None)
    sign_in(page, live_server, "yanpan")
    page.goto(f"{live_server}/clues/statistics?title={marker}")
    page.get_by_label("统计维度").select_option("level")
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector("#lc-clue-chart .main-svg")
    assert "by=level" in page.url and f"title={marker}" in page.url
    assert page.locator("#lc-clue-chart .bars path").count() == 2   # 紧急 and 重要
    assert page.locator("table.lc-stats tfoot").inner_text().split() == ["合计", "5", "100%"]
    assert outside == []
    page.close()
