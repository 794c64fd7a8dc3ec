"""基础信息 in Chromium: the navbar menu leads to a list, its filter and sort work, a ref leads to the
record it names and a key to its detail with the records referring to it; nothing overflows."""
from tests.browser import DESKTOP, horizontal_overflow
from tests.test_browser_login import sign_in
from tests.test_entities import XUHUI, api_key, loaded  # noqa: F401  (fixtures)


def test_from_the_menu_to_a_station_and_its_riders(browser, live_server, loaded):  # noqa: F811
    page = browser.new_page(**DESKTOP)
    sign_in(page, live_server, "zd_xuhui")
    page.locator(".lc-entity-menu > a").click()
    page.get_by_role("link", name="骑手", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="骑手").is_visible()
    page.get_by_label("所属站点").fill(f"T-ST-{XUHUI}")
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert "共 25 条" in page.locator(".lc-pager").inner_text()
    page.get_by_role("link", name="骑手编号").click()   # sorted by code, ascending after descending
    page.wait_for_load_state()
    page.get_by_role("link", name="骑手编号").click()
    page.wait_for_load_state()
    first = page.locator(".lc-entity-list tbody tr").first
    assert first.locator("td").first.inner_text() == "T-R-000" and "王**" in first.inner_text()
    first.get_by_role("link", name=f"T-ST-{XUHUI}").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=f"站点 T-ST-{XUHUI}").is_visible()
    assert "关联骑手（所属站点）共 25 条" in page.locator(".lc-related").first.inner_text()
    assert horizontal_overflow(page) == 0
    page.close()
