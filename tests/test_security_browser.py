"""The content security policy in real Chromium: our pages and Flask-AppBuilder's work under it
without a single violation, and a stored script payload does not run, on the web or the PDA."""
import pytest

from tests.browser import DESKTOP, PDA
from tests.conftest import web_login
from tests.test_attacks import XSS, submitted_with_script
from tests.test_browser_login import sign_in
from tests.test_forms_pages import EVALUATION, post_form

ADMIN_PAGES = ["/", "/users/list/", "/users/add", "/users/userinfo/", "/audit/list/", "/inbound-warnings/list/",
               "/api-clients/list/", "/departments/list/", "/definitions/", "/definitions/upload", "/incidents/",
               "/forms/", f"/forms/{EVALUATION.split('/forms/', 1)[1]}", "/pda/forms/", "/resetmypassword/form",
               "/swagger/v1", "/inbox/", "/inbox/done", "/tasks/", "/tasks/stats", "/clues/", "/clues/statistics",
               "/labels/", "/outbox/list/", "/notifications/", "/pda/", "/pda/tasks", "/entities/",
               "/entities/nmv/rider/", "/entities/nmv/violation/?mode=onsite", "/dashboards/", "/dashboards/nmv/HOME",
               "/dashboards/nmv/RISK"]


def watched(page) -> list[str]:
    """Collects CSP violations, script errors and failed loads the page reports."""
    problems: list[str] = []
    # Failed loads are taken from the responses: the console also reports the browser's own
    # favicon request, which is not the page's.
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text
            or message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_every_page_works_under_the_policy(browser, live_server):  # noqa: F811
    page = browser.new_page(**DESKTOP)
    problems = watched(page)
    sign_in(page, live_server, "admin")
    for path in ADMIN_PAGES:
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        if not path.startswith("/pda/"):  # Flask-AppBuilder's scripts loaded and ran
            assert page.evaluate("typeof window.jQuery") == "function", path
    assert problems == []
    page.close()


@pytest.mark.parametrize("viewport", ["desktop", "pda"])
def test_a_stored_script_does_not_run(browser, live_server, app, viewport):  # noqa: F811
    author = app.test_client()
    web_login(author, "dd_minhang")
    summary = submitted_with_script(author)
    post_form(author, EVALUATION, [("evaluation_result", "无效"), ("evaluation_opinion", XSS)], action="draft")
    context = browser.new_context(**(DESKTOP if viewport == "desktop" else PDA))
    page = context.new_page()
    problems = watched(page)
    sign_in(page, live_server, "dd_minhang")
    paths = ([summary, "/form-submissions/", EVALUATION] if viewport == "desktop" else
             [summary.replace("/form-submissions/", "/pda/submissions/"), "/pda" + EVALUATION])
    for path in paths:
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") is None, path
    page.goto(f"{live_server}{paths[-1]}")
    assert XSS in page.locator("textarea").first.input_value()   # kept as the text it was
    assert problems == []
    post_form(author, EVALUATION, [], action="discard")
    context.close()
