"""The login page and the 管理端 home in real headless Chromium, on a desktop and a PDA screen."""
import pytest

from tests.browser import DESKTOP, PDA, horizontal_overflow
from tests.conftest import DEMO_PASSWORD


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_demo_login_reaches_the_chinese_home_page(browser, live_server):
    page = browser.new_page(**DESKTOP)
    page.goto(f"{live_server}/login/")
    assert page.get_by_role("button", name="登录").is_visible()
    sign_in(page, live_server, "zd_minhang")
    assert page.get_by_role("heading", name="管理端首页").is_visible()
    assert "闵行交警支队" in page.content()
    page.get_by_role("link", name="系统管理").click()
    assert page.get_by_role("link", name="组织机构").is_visible()
    page.close()


def test_wrong_password_is_told_in_chinese(browser, live_server):
    page = browser.new_page(**DESKTOP)
    page.goto(f"{live_server}/login/")
    page.get_by_label("用户名").fill("zd_minhang")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert page.get_by_text("无效的用户名或密码，请重试！").is_visible()
    page.close()


@pytest.mark.parametrize("path", ["/login/", "/"])
def test_pages_fit_a_pda_screen(browser, live_server, path):
    context = browser.new_context(**PDA)
    page = context.new_page()
    sign_in(page, live_server, "pda_minhang")
    page.goto(f"{live_server}{path}")
    assert horizontal_overflow(page) == 0
    context.close()
