"""A real browser against the real server: Chromium (Debian's /usr/bin/chromium) driven by
Playwright, the app served by waitress on 127.0.0.1.

Needs `pip install playwright` (the package bundles its driver; no `playwright install`)
and `apt-get install chromium`. Skipped only when one of the two is missing.
"""
import os
import re
import threading

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from sqlalchemy import select  # noqa: E402

from portal.documents.models import Document, Revision  # noqa: E402
from portal.extensions import db  # noqa: E402
from factories import PASSWORD  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TEXT = "受控文件由文控中心统一编号"


@pytest.fixture
def live_server(app):
    """The test's app served by waitress in a background thread; yields its base URL.

    The thread runs waitress's event loop itself and closes the sockets itself when asked
    to stop, so nothing is closed under a running select().
    """
    from waitress import create_server, wasyncore

    server = create_server(app, host="127.0.0.1", port=0, threads=4, clear_untrusted_proxy_headers=True)
    stop = threading.Event()

    def serve():
        try:
            while not stop.is_set():
                wasyncore.loop(timeout=0.05, map=server._map, use_poll=True, count=1)
        finally:
            server.task_dispatcher.shutdown()
            wasyncore.close_all(server._map)

    thread = threading.Thread(target=serve, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(15)
        assert not thread.is_alive(), "waitress did not stop"


@pytest.fixture
def browser_page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page
            context.close()
        finally:
            browser.close()


def test_controller_writes_a_revision_in_the_rich_text_editor(f, live_server, browser_page, tmp_path):
    controller = f.user("controller", name="文控王")
    department = controller.department_code
    db.session.rollback()  # leave the server a database without our open read transaction
    page = browser_page
    problems = []
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" and "favicon.ico" not in (msg.location or {}).get("url", "") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

    # log in through the form
    page.goto(live_server + "/login")
    page.fill("input[name=username]", controller.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(live_server + "/")
    assert "文控王" in page.inner_text("header")

    # register a document
    page.click("a[href='/documents']")
    page.click("a[href='/documents/new']")
    page.fill("input[name=code]", "QP-E2E/01")
    page.fill("input[name=title]", "文件和资料控制程序")
    page.select_option("select[name=doc_type]", "procedure")
    page.select_option("select[name=department]", department)
    page.select_option("select[name=clauses]", ["ISO 9001:2015 7.5.2", "ISO 9001:2015 7.5.3"])
    page.click("form:has(select[name=clauses]) button")
    page.wait_for_url(re.compile(r".*/documents/\d+$"))
    assert "QP-E2E/01" in page.inner_text("h1")

    # open the revision editor and write bold Chinese text with the toolbar
    page.click("a[href$='/revisions/new']")
    page.wait_for_url(re.compile(r".*/documents/\d+/revisions/new$"))
    assert not page.is_visible("#body_html"), "editor.js should hide the HTML source field"
    page.fill("input[name=change_summary]", "首版发行")
    editor = page.locator("#editor")
    editor.click()
    page.keyboard.type(TEXT)
    page.keyboard.press("Control+A")
    page.click("#toolbar button[data-cmd=bold]")
    assert TEXT in editor.locator("b, strong").first.inner_text()
    page.click("#revision-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/revisions/\d+$"))

    # the revision page shows the text in bold
    bold = page.locator("article.body b, article.body strong")
    assert bold.count() >= 1 and TEXT in bold.first.inner_text()
    assert page.locator("article.body").evaluate(
        "el => getComputedStyle(el.querySelector('b, strong')).fontWeight") in ("700", "bold")
    shot = tmp_path / "revision.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.exists() and shot.stat().st_size > 0
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not problems, f"browser console errors (CSP violations?): {problems}"

    db.session.rollback()
    doc = db.session.execute(select(Document).where(Document.code == "QP-E2E/01")).scalar_one()
    assert doc.clauses == ["ISO 9001:2015 7.5.2", "ISO 9001:2015 7.5.3"]
    rev = db.session.execute(select(Revision).where(Revision.document_id == doc.id)).scalar_one()
    assert rev.state == "draft" and rev.label == "A/0" and rev.author_id == controller.id
    assert re.search(rf"<(b|strong)>{TEXT}</\1>", rev.body_html), rev.body_html
