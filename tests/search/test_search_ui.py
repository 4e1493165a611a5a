"""Search in the browser, with CSRF on: the search box on every page, the results page
with facets and highlighted snippets, syntax problems as a 400 message, "Freeze as
evidence", the evidence page and basket, and the admin health page."""
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from pages import PageClient, signed_in
from portal.extensions import db
from portal.search import indexer
from portal.search.models import Evidence


# --- plumbing (like tests/ui/test_ui_flows.py; the browser is tests/pages.py) -----------------

class Form:
    def __init__(self, page_url: str, attrs: dict):
        self.method = (attrs.get("method") or "get").lower()
        self.action = urljoin(page_url, attrs.get("action") or page_url)
        self.fields: list[tuple[str, str]] = []
        self.selects: dict[str, list[str]] = {}
        self.classes = attrs.get("class") or ""

    def names(self) -> set[str]:
        return {n for n, _ in self.fields}

    def value(self, name: str):
        return next((v for n, v in self.fields if n == name), None)

    def set(self, name: str, value: str) -> "Form":
        assert name in self.names(), f"no field {name!r} in {sorted(self.names())}"
        self.fields = [(n, v) for n, v in self.fields if n != name] + [(name, value)]
        return self


class _Parser(HTMLParser):
    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url, self.forms, self._form, self._select = url, [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = Form(self.url, a)
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "image", "reset", "file"):
                self._form.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self._select = [a["name"], [], None]
        elif tag == "option" and self._select is not None:
            self._select[1].append(a.get("value", ""))
            if "selected" in a:
                self._select[2] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            name, values, chosen = self._select
            self._form.selects[name] = values
            if chosen is not None or values:
                self._form.fields.append((name, chosen if chosen is not None else values[0]))
            self._select = None
        elif tag == "form":
            self._form = None


class Page:
    def __init__(self, url: str, response):
        self.url, self.response, self.status = url, response, response.status_code
        self.html = response.get_data(as_text=True)
        parser = _Parser(url)
        parser.feed(self.html)
        self.forms = parser.forms

    def form(self, action_part: str, method: str | None = None, having: str | None = None) -> Form:
        found = [f for f in self.forms if action_part == urlparse(f.action).path
                 and (method is None or f.method == method) and (having is None or having in f.names())]
        assert len(found) == 1, (action_part, [(f.action, f.method, sorted(f.names())) for f in self.forms])
        return found[0]

    def text(self) -> str:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", self.html))


def open_page(client, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:800])
    return Page(url, response)


def submit_get(client, form: Form, status: int = 200) -> Page:
    assert form.method == "get"
    response = client.get(urlparse(form.action).path, query_string=MultiDict(form.fields))
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:800])
    return Page(response.request.url, response)


def submit_post(client, form: Form):
    assert form.method == "post"
    assert form.value("csrf_token"), f"form {form.action} carries no CSRF token"
    return client.post(urlparse(form.action).path, data=MultiDict(form.fields))


def location(response) -> str:
    parsed = urlparse(response.headers["Location"])
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


@pytest.fixture
def drain(app):
    def run(**kw):
        db.session.rollback()
        return indexer.drain_outbox(**kw)

    return run


@pytest.fixture
def login_as(app):
    """login_as(user) → a PageClient signed in as the user, in English."""
    return lambda user: signed_in(app, user, lang="en")


def evidence_count() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(Evidence)).scalar()


@pytest.fixture
def scene(f, doc, form, record, controller):
    rev = doc("客户投诉处理程序", "规定客户投诉的受理、调查和答复。", code="QP-TS01")
    form_doc = form(code="QR-TS02", title="客户回访单")
    rec = record(form_doc, complaint="客户投诉安装延误")
    doc("文件控制程序", "文件的编制。", code="QP-WJ01")
    return {"rev": rev, "form": form_doc, "record": rec}


# --- the search box and the results page -----------------------------------------------------

def test_the_search_box_on_every_page_submits_to_search(f, scene, login_as):
    client = login_as(f.user("staff"))
    rev, rec = scene["rev"], scene["record"]
    for url in ("/", "/documents", f"/documents/{rev.document.id}", f"/revisions/{rev.id}", "/records",
                f"/records/{rec.id}", "/evidence", "/search", "/search?q=投诉"):
        response = client.get(url)
        if response.status_code == 404 and url == "/records":
            continue  # no records index page in this portal
        assert response.status_code == 200, (url, response.status_code)
        page = Page(url, response)
        boxes = [f for f in page.forms if urlparse(f.action).path == "/search" and f.method == "get"
                 and "q" in f.names()]
        assert boxes, f"no search box on {url}"
    box = next(f for f in open_page(client, "/").forms if urlparse(f.action).path == "/search")
    results = submit_get(client, box.set("q", "投诉"))
    assert "<mark>投诉</mark>" in results.html
    assert "QP-TS01" in results.html and rec.number in results.html


def test_results_page_shows_facets_with_counts_and_highlighted_snippets(f, scene, login_as, controller):
    client = login_as(f.user("staff"))
    page = open_page(client, "/search?q=投诉")
    facets = re.search(r'<aside class="facets">(.*?)</aside>', page.html, re.S)
    assert facets, page.html[:2000]
    counts = re.findall(r"<a href=\"([^\"]+)\">([^<]+)</a>\s*\((\d+)\)", facets.group(1))
    assert counts, facets.group(1)
    by_target = {urlparse(href).query: int(n) for href, _, n in counts}
    kind_links = {q: n for q, n in by_target.items() if "kind=" in q}
    assert sorted(kind_links.values()) == [1, 2], counts  # 2 documents, 1 record
    dept_links = {q: n for q, n in by_target.items() if "department=" in q}
    assert list(dept_links.values()) == [3], counts
    assert len(re.findall(r'<div class="snippet">', page.html)) == 3
    assert page.html.count("<mark>投诉</mark>") >= 3
    # A facet link narrows the results.
    href = next(h for h, _, n in counts if "kind=record" in h)
    narrowed = open_page(client, href.replace("&amp;", "&"))
    assert scene["record"].number in narrowed.html and "QP-TS01" not in narrowed.text()
    # Hit links open the revision or record page.
    for link in (f"/revisions/{scene['rev'].id}", f"/records/{scene['record'].id}"):
        assert f'href="{link}"' in page.html
        open_page(client, link)


def test_hostile_record_values_are_escaped_on_the_results_page(f, scene, login_as, controller, drain):
    from portal.records import services as records

    records.issue_record(controller, scene["form"], {"data": {"customer": "某公司",
                                                              "complaint": "<script>alert(1)</script>投诉"}})
    drain()
    page = open_page(login_as(f.user("staff")), "/search?q=投诉")
    assert "<script>alert(1)</script>" not in page.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html


@pytest.mark.parametrize("query", ["q=投诉&page=0", "q=" + "x" * 1001, "q=投诉&as_of=2026-02-30",
                                   "q=投诉&state=bogus", "q=投诉&kind=bogus", "q=投诉&sort=size"])
def test_a_syntax_problem_is_a_400_message_not_a_500(f, scene, login_as, query):
    client = login_as(f.user("staff"))
    page = open_page(client, "/search?" + query, status=400)
    assert re.search(r'<div class="flash error">[^<]+</div>', page.html), page.html[:2000]
    form = page.form("/search", method="get", having="sort")  # the user can correct the query
    assert "q" in form.names()


@pytest.mark.parametrize("query", ['q="投诉', "q=(投诉", "q=*", "q=%3F", "q=~", "q=state:draft",
                                   "q=%ff%fe", "q=", ""])
def test_odd_queries_render_a_page(f, scene, login_as, query):
    response = login_as(f.user("staff")).get("/search?" + query)
    assert response.status_code in (200, 400), (query, response.status_code)


def test_search_page_needs_login(app, scene):
    client = PageClient(app, app.response_class, use_cookies=True)
    response = client.get("/search?q=投诉")
    assert response.status_code in (302, 401)


# --- freezing as evidence ---------------------------------------------------------------------

def test_freeze_as_evidence_creates_an_item_whose_page_shows_the_frozen_hits(f, scene, login_as):
    auditor = f.user("auditor")
    client = login_as(auditor)
    page = open_page(client, "/search?q=投诉&kind=document,record")
    form = page.form("/search/evidence", method="post")
    assert form.value("q") == "投诉"
    form.set("note", "条款 9.1.2 抽样")
    before = evidence_count()
    response = submit_post(client, form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert evidence_count() == before + 1
    item = db.session.execute(select(Evidence).order_by(Evidence.id.desc())).scalars().first()
    assert (item.q, item.note, item.created_by_id) == ("投诉", "条款 9.1.2 抽样", auditor.id)
    assert item.filters == {"kind": "document,record"}
    assert location(response) == f"/evidence/{item.id}"
    shown = open_page(client, location(response))
    assert item.result_hash in shown.html and re.fullmatch(r"[0-9a-f]{64}", item.result_hash)
    assert "SHA-256" in shown.html
    for ref in ("QP-TS01", "QR-TS02", scene["record"].number):
        assert ref in shown.html, ref
    # The frozen hits link to what was frozen: the revision, and the record itself.
    assert f'href="/revisions/{scene["rev"].id}"' in shown.html
    assert f'href="/records/{scene["record"].id}"' in shown.html, \
        re.findall(r'href="(/records/\d+)"', shown.html)
    assert "intact" in shown.text()
    basket = open_page(client, "/evidence")
    assert f'href="/evidence/{item.id}"' in basket.html
    assert "条款 9.1.2 抽样" in basket.html and "投诉" in basket.text()


def test_freeze_without_csrf_is_refused(f, scene, login_as):
    client = login_as(f.user("auditor"))
    before = evidence_count()
    response = client.post("/search/evidence", data={"q": "投诉", "note": "x"})
    assert response.status_code == 400
    assert evidence_count() == before


def test_freeze_with_a_bad_filter_creates_nothing_and_is_not_a_500(f, scene, login_as):
    client = login_as(f.user("auditor"))
    form = open_page(client, "/search?q=投诉").form("/search/evidence", method="post")
    form.fields.append(("kind", "bogus"))
    before = evidence_count()
    response = submit_post(client, form)
    assert response.status_code in (302, 400, 422), response.status_code
    assert evidence_count() == before


def test_external_reviewer_has_no_freeze_button(f, scene, login_as):
    client = login_as(f.user("external_reviewer"))
    page = open_page(client, "/search?q=投诉")
    assert not [f for f in page.forms if urlparse(f.action).path == "/search/evidence"]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.html)
    if token:
        before = evidence_count()
        response = client.post("/search/evidence", data={"csrf_token": token.group(1), "q": "投诉"})
        assert response.status_code == 403
        assert evidence_count() == before


# --- the admin health page ------------------------------------------------------------------

def test_admin_health_page_shows_database_and_index_counts(f, scene, login_as):
    page = open_page(login_as(f.user("admin")), "/admin/search")
    report = indexer.health()
    rows = dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]*)", page.html))
    values = [v.strip() for v in rows.values()]
    assert str(report["database"]) in values and str(report["index"]) in values, rows
    assert report["database"] == report["index"] == 4  # two procedures, the form and the record
    assert "OK" in page.html


def test_health_page_is_for_admins_and_controllers_only(f, scene, login_as):
    assert login_as(f.user("staff")).get("/admin/search").status_code == 403
    assert login_as(f.user("auditor")).get("/admin/search").status_code == 403
    assert login_as(f.user("external_reviewer")).get("/admin/search").status_code == 403
    assert login_as(f.user("controller")).get("/admin/search").status_code == 200
