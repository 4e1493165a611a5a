"""Browser flows through Flask's test client, with CSRF on.

Every form is read from the rendered page (its action, hidden inputs, pre-selected
options, textarea contents) and posted back the way a browser would send it, so a
template that drifts away from its view fails here.
"""
import io
import re
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from portal import clock
from portal.accounts.models import ApiToken, Department, User
from portal.documents import workflow
from portal.documents.models import Document, Revision
from portal.extensions import db
from portal.trail.models import TrailEntry
from factories import PASSWORD
from pages import PageClient, signed_in

CSRF_RE = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)"')


# --------------------------------------------------------------------------- plumbing
# (the browser, signed in through the login form, is tests/pages.py)


class Form:
    """One <form> of a page: action, method and the fields a browser would send."""

    def __init__(self, page_url: str, attrs: dict):
        self.attrs = attrs
        self.method = (attrs.get("method") or "get").lower()
        self.action = urljoin(page_url, attrs.get("action") or page_url)
        self.fields: list[tuple[str, str]] = []
        self.options: dict[str, list[str]] = {}
        self.file_inputs: list[str] = []

    def names(self) -> set[str]:
        return {name for name, _ in self.fields} | set(self.options) | set(self.file_inputs)

    def value(self, name: str):
        values = [v for n, v in self.fields if n == name]
        return values[0] if values else None

    def set(self, name: str, value) -> "Form":
        """Replace a field's value(s); a list sets a multi-select, None removes it."""
        assert name in self.names(), f"the form has no field {name!r}: {sorted(self.names())}"
        if name in self.options and value is not None:
            for v in value if isinstance(value, list) else [value]:
                assert v in self.options[name], f"{v!r} is not an option of {name!r}: {self.options[name]}"
        self.fields = [(n, v) for n, v in self.fields if n != name]
        if value is not None:
            for v in value if isinstance(value, list) else [value]:
                self.fields.append((name, v))
        return self

    def data(self) -> MultiDict:
        return MultiDict(self.fields)


class _FormParser(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form = None
        self._select = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = Form(self.page_url, a)
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                self._form.file_inputs.append(name)
            elif kind in ("checkbox", "radio"):
                self._form.options.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    self._form.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset"):
                self._form.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in a, "values": [], "selected": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            self._close_option()
        elif tag == "select" and self._select is not None:
            if self._option is not None:
                self._close_option()
            s = self._select
            self._form.options[s["name"]] = s["values"]
            chosen = s["selected"] or ([] if s["multiple"] or not s["values"] else [s["values"][0]])
            if not s["multiple"]:
                chosen = chosen[-1:]
            self._form.fields.extend((s["name"], v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea[1]
            self._form.fields.append((self._textarea[0], text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self._form = None

    def _close_option(self):
        o = self._option
        value = o["value"] if o["value"] is not None else o["text"].strip()
        self._select["values"].append(value)
        if o["selected"]:
            self._select["selected"].append(value)
        self._option = None


class Page:
    def __init__(self, url: str, response):
        self.url, self.response = url, response
        self.html = response.get_data(as_text=True)
        parser = _FormParser(url)
        parser.feed(self.html)
        self.forms = parser.forms

    def form(self, action_part: str = "", having: str | None = None) -> Form:
        """The one form whose action contains `action_part` (and which has field `having`)."""
        found = [f for f in self.forms if action_part in urlparse(f.action).path
                 and (having is None or having in f.names())]
        assert len(found) == 1, f"expected one form for {action_part!r}/{having!r} on {self.url}, " \
                                f"found {[(f.action, sorted(f.names())) for f in self.forms]}"
        return found[0]

    def flashes(self, category: str = "error") -> list[str]:
        return [re.sub(r"<[^>]+>", "", m).strip()
                for m in re.findall(rf'<div class="flash {category}">(.*?)</div>', self.html, re.S)]


def open_page(client, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:500])
    return Page(url, response)


def submit(client, form: Form, files: dict | None = None, **kw):
    """Post a form like a browser: every field it carries, plus optional files."""
    assert form.method == "post"
    assert form.value("csrf_token"), f"form {form.action} carries no CSRF token"
    data = form.data()
    for name, payload in (files or {}).items():
        assert name in form.file_inputs, f"the form has no file input {name!r}"
        data.add(name, payload)
    return client.post(form.action, data=data, **kw)


def follow(client, response, status: int = 200) -> Page:
    """Follow a redirect answer to the page it leads to."""
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:500])
    return open_page(client, location(response), status)


def location(response) -> str:
    parsed = urlparse(response.headers["Location"])
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


def codes_listed(html: str) -> list[str]:
    """Document codes linked from a list table."""
    return re.findall(r'<td><a href="/documents/\d+">([^<]+)</a></td>', html)


@pytest.fixture
def new_client(app):
    def make() -> PageClient:
        return PageClient(app, app.response_class, use_cookies=True)
    return make


@pytest.fixture
def web(new_client):
    return new_client()


@pytest.fixture
def login_as(app):
    """A client logged in through the login form, optionally switched to English."""

    def go(user, english: bool = True) -> PageClient:
        return signed_in(app, user, lang="en" if english else None)

    return go


def reload(obj):
    db.session.refresh(obj)
    return obj


def trail_count() -> int:
    return db.session.execute(select(func.count()).select_from(TrailEntry)).scalar()


# --------------------------------------------------------------------------- login


def test_login_success_and_logout(f, web):
    user = f.user("staff", name="王文控")
    page = open_page(web, "/login?lang=en")
    form = page.form(having="password")
    assert form.value("csrf_token")
    response = submit(web, form.set("username", user.username).set("password", PASSWORD))
    assert response.status_code == 302 and location(response) == "/"
    dashboard = open_page(web, "/")
    assert "王文控" in dashboard.html
    logout = dashboard.form("/logout")
    response = submit(web, logout)
    assert response.status_code == 302 and location(response).startswith("/login")
    after = web.get("/")
    assert after.status_code == 302 and urlparse(after.headers["Location"]).path == "/login"


def test_login_redirects_to_next_but_never_off_site(f, new_client):
    user = f.user("staff")
    for target, expected in (("/documents", "/documents"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/")):
        client = new_client()
        page = open_page(client, "/login?next=" + target)
        response = submit(client, page.form(having="password").set("username", user.username)
                          .set("password", PASSWORD))
        assert response.status_code == 302
        assert urlparse(response.headers["Location"]).netloc in ("", "localhost")
        assert location(response) == expected


def test_failed_login_stays_on_the_page_with_401(f, web):
    user = f.user("staff")
    page = open_page(web, "/login?lang=en")
    response = submit(web, page.form(having="password").set("username", user.username)
                      .set("password", "wrong-password"))
    assert response.status_code == 401
    again = Page("/login", response)
    assert again.form(having="password")
    assert any("Wrong username or password" in m for m in again.flashes())
    assert web.get("/").status_code == 302  # not logged in
    unknown = submit(web, again.form(having="password").set("username", "nobody").set("password", PASSWORD))
    assert unknown.status_code == 401


def test_five_failures_lock_the_account(f, web, frozen):
    frozen(datetime(2024, 5, 6, 2, 0, tzinfo=timezone.utc))
    user = f.user("staff")
    web.get("/login?lang=en")
    for _ in range(5):
        page = open_page(web, "/login")
        response = submit(web, page.form(having="password").set("username", user.username)
                          .set("password", "wrong-password"))
        assert response.status_code == 401
    page = open_page(web, "/login")
    response = submit(web, page.form(having="password").set("username", user.username).set("password", PASSWORD))
    assert response.status_code == 401, "the right password must not open a locked account"
    assert any("too many attempts" in m for m in Page("/login", response).flashes())
    assert reload(user).locked_until is not None
    frozen(datetime(2024, 5, 6, 2, 11, tzinfo=timezone.utc))  # the lock lasts 10 minutes
    page = open_page(web, "/login")
    response = submit(web, page.form(having="password").set("username", user.username).set("password", PASSWORD))
    assert response.status_code == 302


def test_csrf_is_enforced(f, web, login_as):
    user = f.user("staff")
    assert web.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 400
    controller = login_as(f.user("controller"))
    response = controller.post("/documents/new", data={"code": "QP-CSRF", "title": "x", "doc_type": "procedure",
                                                       "department": "D1"})
    assert response.status_code == 400
    assert controller.post("/logout").status_code == 400
    assert controller.post("/account/tokens").status_code == 400
    assert db.session.execute(select(Document).where(Document.code == "QP-CSRF")).first() is None


def test_every_post_form_carries_a_csrf_token(f, login_as, web):
    admin = f.user("admin")
    doc = f.document()
    effective = f.effective(doc)
    approved = f.approved(f.draft(f.document()))
    client = login_as(admin)
    urls = ["/", "/documents", "/documents/new", f"/documents/{doc.id}", f"/documents/{doc.id}/revisions/new",
            f"/revisions/{effective.id}", f"/revisions/{approved.id}", "/admin/users", "/account/tokens",
            "/master-list"]
    seen = 0
    for url in urls:
        for form in open_page(client, url).forms:
            if form.method == "post":
                seen += 1
                assert form.value("csrf_token"), f"POST form to {form.action} on {url} has no csrf_token"
    assert seen >= 10
    login = open_page(web, "/login")
    assert login.form(having="password").value("csrf_token")


# --------------------------------------------------------------------------- dashboard, lists


def test_dashboard_shows_my_signatures_and_my_drafts(f, login_as):
    me = f.user("approver", name="李审核")
    mine = f.document(code="QP-DRAFT-01", title="我的草稿程序")
    my_draft = f.draft(mine, author=me)
    to_review = f.document(code="QP-SIGN-01", title="待我审核的程序")
    rev, _, _ = f.submitted(f.draft(to_review), reviewers=[me])
    later = f.document(code="QP-LATER-01", title="审核未完成")
    f.submitted(f.draft(later), approver=me)  # my approval waits for the reviews
    unrelated = f.document(code="QP-OTHER-01", title="与我无关")
    f.draft(unrelated)

    page = open_page(login_as(me), "/")
    sections = re.findall(r"<section>(.*?)</section>", page.html, re.S)
    to_sign, drafts = sections[0], sections[1]
    assert "QP-SIGN-01" in to_sign and f'/revisions/{rev.id}"' in to_sign
    assert "QP-LATER-01" not in to_sign
    assert "QP-DRAFT-01" in drafts and f'/revisions/{my_draft.id}"' in drafts
    assert "QP-OTHER-01" not in page.html


def test_dashboard_lists_approved_revisions_for_release_to_controllers(f, login_as):
    doc = f.document(code="QP-REL-01")
    rev = f.approved(f.draft(doc))
    page = open_page(login_as(f.user("controller")), "/")
    assert "QP-REL-01" in page.html and f"/revisions/{rev.id}" in page.html
    staff_page = open_page(login_as(f.user("staff")), "/")
    assert "QP-REL-01" not in staff_page.html


def test_document_list_filters(f, login_as):
    controller = f.user("controller")
    sales = f.department(code="YXUI", name="营销中心")
    procedure = f.document(controller, code="QP-SH01", title="售后服务控制程序", doc_type="procedure")
    f.effective(procedure)
    form = f.document(controller, code="SH/BD-01", title="零配件销货卡", doc_type="form",
                      department=sales.code)
    manual = f.document(controller, code="QM-01", title="质量手册", doc_type="manual")
    f.effective(manual)
    workflow.obsolete_document(controller, manual, {"reason": "合并入管理手册"})
    client = login_as(controller)

    def listed(query: str) -> set[str]:
        return set(codes_listed(open_page(client, "/documents" + query).html))

    assert listed("") == {"QP-SH01", "SH/BD-01", "QM-01"}
    assert listed("?doc_type=form") == {"SH/BD-01"}
    assert listed("?doc_type=procedure") == {"QP-SH01"}
    assert listed(f"?department={sales.code}") == {"SH/BD-01"}
    assert listed("?status=effective") == {"QP-SH01"}
    assert listed("?status=obsolete") == {"QM-01"}
    assert listed("?status=draft") == {"SH/BD-01"}
    assert listed("?q=手册") == {"QM-01"}
    assert listed("?q=qp-sh") == {"QP-SH01"}
    assert listed("?q=SH%2FBD") == {"SH/BD-01"}
    assert listed("?doc_type=procedure&status=obsolete") == set()
    page = open_page(client, f"/documents?doc_type=form&department={sales.code}&status=draft&q=销货")
    assert codes_listed(page.html) == ["SH/BD-01"]
    filters = page.form("/documents", having="q")
    assert filters.method == "get"
    assert filters.value("doc_type") == "form" and filters.value("department") == sales.code
    assert filters.value("status") == "draft" and filters.value("q") == "销货"
    assert f'href="/documents/{form.id}"' in page.html


def test_register_document_through_the_form(f, login_as):
    controller = f.user("controller")
    client = login_as(controller)
    listing = open_page(client, "/documents")
    assert 'href="/documents/new"' in listing.html
    page = open_page(client, "/documents/new")
    form = page.form(having="clauses")
    clauses = form.options["clauses"]
    assert "ISO 9001:2015 7.5.3" in clauses and len(clauses) > 20
    chosen = ["ISO 9001:2015 7.5.3", next(c for c in clauses if c.startswith("GB/T 27922"))]
    form.set("code", "SH/BD-09").set("title", "零配件调拨单").set("doc_type", "form")
    form.set("department", controller.department_code).set("clauses", chosen).set("retention_years", "3")
    response = submit(client, form)
    assert response.status_code == 302
    doc = db.session.execute(select(Document).where(Document.code == "SH/BD-09")).scalar_one()
    assert location(response) == f"/documents/{doc.id}"
    assert doc.clauses == chosen and doc.doc_type == "form" and doc.retention_years == 3
    assert doc.review_period_months == 12 and doc.confidentiality == "internal"
    assert doc.numbering_pattern == "{code}-{yyyy}{mm}-{seq:4}"
    shown = open_page(client, location(response))
    assert "SH/BD-09" in shown.html and "零配件调拨单" in shown.html
    assert ", ".join(chosen) in shown.html
    assert shown.flashes("success")

    again = submit(client, open_page(client, "/documents/new").form(having="clauses")
                   .set("code", "SH/BD-09").set("title", "重复").set("department", controller.department_code),
                   headers={"Referer": "http://localhost/documents/new"})
    assert again.status_code == 302
    assert any("already exists" in m for m in follow(client, again).flashes())
    assert db.session.execute(select(func.count()).select_from(Document)
                              .where(Document.code == "SH/BD-09")).scalar() == 1


def test_staff_cannot_register_documents(f, login_as):
    staff = f.user("staff")
    client = login_as(staff)
    assert 'href="/documents/new"' not in open_page(client, "/documents").html
    token = CSRF_RE.search(open_page(client, "/").html).group(1)
    response = client.post("/documents/new", data={"csrf_token": token, "code": "QP-STAFF", "title": "x",
                                                    "doc_type": "procedure", "department": staff.department_code})
    assert response.status_code in (302, 403)
    assert db.session.execute(select(Document).where(Document.code == "QP-STAFF")).first() is None


# --------------------------------------------------------------------------- revisions


def test_new_revision_through_the_editor_and_edit_it(f, login_as):
    doc = f.document(code="QP-ED-01", title="文件编制规范")
    author = f.user("staff")
    client = login_as(author)
    shown = open_page(client, f"/documents/{doc.id}")
    assert f'href="/documents/{doc.id}/revisions/new"' in shown.html
    page = open_page(client, f"/documents/{doc.id}/revisions/new")
    assert 'id="editor"' in page.html and 'contenteditable="true"' in page.html
    assert 'data-cmd="bold"' in page.html and 'src="/static/editor.js"' in page.html
    form = page.form(having="body_html")
    assert form.method == "post" and form.attrs.get("enctype") == "multipart/form-data"
    form.set("body_html", "<h2>1 目的</h2><p>规范文件的<strong>编制</strong>、审核、批准。</p>")
    form.set("change_summary", "首版发行")
    response = submit(client, form)
    rev = db.session.execute(select(Revision).where(Revision.document_id == doc.id)).scalar_one()
    assert location(response) == f"/revisions/{rev.id}"
    assert rev.label == "A/0" and rev.state == "draft" and rev.author_id == author.id
    view = follow(client, response)
    assert "<h2>1 目的</h2>" in view.html and "<strong>编制</strong>" in view.html
    assert "A/0" in view.html and view.flashes("success")
    assert f'href="/revisions/{rev.id}/edit"' in view.html

    edit = open_page(client, f"/revisions/{rev.id}/edit").form(having="body_html")
    assert "<strong>编制</strong>" in edit.value("body_html")
    assert edit.value("change_summary") == "首版发行"
    edit.set("body_html", edit.value("body_html") + "<p>2 范围：适用于本公司受控文件。</p>")
    response = submit(client, edit)
    assert location(response) == f"/revisions/{rev.id}"
    assert "2 范围：适用于本公司受控文件。" in follow(client, response).html
    assert "2 范围" in reload(rev).text
    actions = [e.action for e in db.session.execute(
        select(TrailEntry).where(TrailEntry.object_type == "revision", TrailEntry.object_id == rev.id)).scalars()]
    assert actions == ["revision.create", "revision.update"]


def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("1 目的", level=1)
    paragraph = document.add_paragraph("为规范售后服务的受理、派工、实施、验收、回访和归档，")
    paragraph.add_run("特制定本程序").bold = True
    document.add_paragraph("。")
    document.add_heading("2 职责", level=1)
    document.add_paragraph("售后服务部负责客户投诉的登记与处理。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_new_revision_from_a_docx_upload(f, login_as):
    doc = f.document(code="QP-SH02", title="售后服务控制程序")
    client = login_as(f.user("staff"))
    form = open_page(client, f"/documents/{doc.id}/revisions/new").form(having="body_html")
    assert "file" in form.file_inputs
    form.set("change_summary", "由 Word 文件导入")
    data = _docx_bytes()
    response = submit(client, form, files={"file": (io.BytesIO(data), "售后服务控制程序.docx")})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    rev = db.session.execute(select(Revision).where(Revision.document_id == doc.id)).scalar_one()
    assert rev.source_filename == "售后服务控制程序.docx" and rev.source_sha256
    view = follow(client, response)
    assert "1 目的" in view.html and "售后服务部负责客户投诉的登记与处理。" in view.html
    assert "<strong>特制定本程序</strong>" in view.html
    assert "售后服务控制程序.docx" in view.html
    assert "客户投诉" in rev.text


def test_a_bad_upload_is_refused_with_a_message(f, login_as):
    doc = f.document(code="QP-SH03")
    client = login_as(f.user("staff"))
    form = open_page(client, f"/documents/{doc.id}/revisions/new").form(having="body_html")
    form.set("change_summary", "坏文件")
    response = submit(client, form, files={"file": (io.BytesIO(b"this is not a zip file"), "程序.docx")},
                      headers={"Referer": f"http://localhost/documents/{doc.id}/revisions/new"})
    assert response.status_code != 500, "a non-.docx upload crashes the editor with 500"
    assert response.status_code in (302, 415, 422)
    if response.status_code == 302:
        assert follow(client, response).flashes()
    assert db.session.execute(select(Revision).where(Revision.document_id == doc.id)).first() is None


def test_submit_with_named_reviewers_and_approver(f, login_as):
    doc = f.document(code="QP-SUB-01")
    author = f.user("staff")
    reviewers = [f.user("approver", name="审核甲"), f.user("staff", name="审核乙")]
    approver = f.user("approver", name="总经理")
    f.user("external_reviewer")
    rev = f.draft(doc, author=author)
    client = login_as(author)
    page = open_page(client, f"/revisions/{rev.id}")
    form = page.form("/submit")
    assert {u.username for u in reviewers} <= set(form.options["reviewers"])
    assert author.username not in form.options["reviewers"] + form.options["approver"]
    assert approver.username in form.options["approver"]
    assert reviewers[1].username not in form.options["approver"]  # staff cannot approve
    assert all(not u.startswith("external_reviewer") for u in form.options["reviewers"])
    form.set("reviewers", [u.username for u in reviewers]).set("approver", approver.username)
    response = submit(client, form)
    assert location(response) == f"/revisions/{rev.id}"
    assert reload(rev).state == "in_review"
    signatures = [(s.meaning, s.signer_id, s.decision) for s in rev.signatures]
    assert signatures == [("prepare", author.id, "accept"), ("review", reviewers[0].id, None),
                          ("review", reviewers[1].id, None), ("approve", approver.id, None)]
    view = follow(client, response)
    assert "审核甲" in view.html and "审核乙" in view.html and "总经理" in view.html
    assert "/submit" not in view.html


def test_signing_needs_the_password(f, login_as):
    doc = f.document(code="QP-SIG-01")
    rev, (reviewer,), approver = f.submitted(f.draft(doc))
    client = login_as(reviewer)
    page = open_page(client, f"/revisions/{rev.id}")
    form = page.form("/sign")
    assert form.value("meaning") == "review" and form.options["decision"] == ["accept", "reject"]
    before = trail_count()
    response = submit(client, form.set("decision", "accept").set("comment", "同意").set("password", "not-my-password"),
                      headers={"Referer": f"http://localhost/revisions/{rev.id}"})
    assert response.status_code == 403  # the form comes back as entered (issue 9, item 9)
    after = Page(f"/revisions/{rev.id}", response)
    assert any("Wrong password" in m for m in after.flashes())
    assert after.form("/sign").value("decision") == "accept"
    assert reload(rev).state == "in_review" and trail_count() == before
    assert all(s.decision is None for s in rev.signatures if s.meaning == "review")

    response = submit(client, after.form("/sign").set("comment", "同意").set("password", PASSWORD))
    assert follow(client, response).flashes("success")
    assert [s.decision for s in reload(rev).signatures if s.meaning == "review"] == ["accept"]

    approving = login_as(approver)
    form = open_page(approving, f"/revisions/{rev.id}").form("/sign")
    assert form.value("meaning") == "approve"
    response = submit(approving, form.set("decision", "accept").set("comment", "批准发布").set("password", PASSWORD))
    assert reload(rev).state == "approved"
    view = follow(approving, response)
    assert "批准发布" in view.html and "/sign" not in view.html


def test_rejection_returns_to_draft_with_the_comment(f, login_as):
    doc = f.document(code="QP-REJ-01")
    author = f.user("staff")
    rev, (reviewer,), approver = f.submitted(f.draft(doc, author=author))
    client = login_as(reviewer)
    form = open_page(client, f"/revisions/{rev.id}").form("/sign")
    response = submit(client, form.set("decision", "reject").set("password", PASSWORD),
                      headers={"Referer": f"http://localhost/revisions/{rev.id}"})
    assert response.status_code == 422
    assert any("comment" in m for m in Page(f"/revisions/{rev.id}", response).flashes()), "a rejection needs a comment"
    assert reload(rev).state == "in_review"

    form = open_page(client, f"/revisions/{rev.id}").form("/sign")
    submit(client, form.set("decision", "reject").set("comment", "4.2 职责不清，请补充").set("password", PASSWORD))
    assert reload(rev).state == "draft"
    rejected = [s for s in rev.signatures if s.decision == "reject"]
    assert len(rejected) == 1 and rejected[0].comment == "4.2 职责不清，请补充"

    mine = login_as(author)
    view = open_page(mine, f"/revisions/{rev.id}")
    assert "4.2 职责不清，请补充" in view.html
    assert view.form("/submit")  # the author may resubmit
    assert f"/revisions/{rev.id}" in open_page(mine, "/").html
    history = open_page(mine, f"/documents/{doc.id}").html
    assert "revision.reject" in history and "4.2 职责不清，请补充" in history


def test_release_with_an_effective_date(f, login_as, frozen):
    frozen(datetime(2024, 3, 1, 2, 0, tzinfo=timezone.utc))
    doc = f.document(code="QP-RLS-01")
    rev = f.approved(f.draft(doc))
    client = login_as(f.user("controller"))
    page = open_page(client, f"/revisions/{rev.id}")
    form = page.form("/release")
    assert form.value("effective_date") == "2024-03-01"
    response = submit(client, form.set("effective_date", "2024-02-28"),
                      headers={"Referer": f"http://localhost/revisions/{rev.id}"})
    assert follow(client, response).flashes() and reload(rev).state == "approved"
    response = submit(client, open_page(client, f"/revisions/{rev.id}").form("/release"))
    assert location(response) == f"/revisions/{rev.id}"
    assert reload(rev).state == "effective" and rev.effective_date == date(2024, 3, 1)
    assert reload(doc).status == "effective" and doc.current_revision_id == rev.id
    view = follow(client, response)
    assert "受控" in view.html and "/release" not in view.html
    shown = open_page(client, f"/documents/{doc.id}")
    assert f'href="/revisions/{rev.id}">A/0</a>' in shown.html and "2024-03-01" in shown.html


def test_release_on_a_future_date_waits(f, login_as, frozen):
    frozen(datetime(2024, 3, 1, 2, 0, tzinfo=timezone.utc))
    doc = f.document(code="QP-RLS-02")
    rev = f.approved(f.draft(doc))
    client = login_as(f.user("controller"))
    form = open_page(client, f"/revisions/{rev.id}").form("/release").set("effective_date", "2024-04-01")
    submit(client, form)
    assert reload(rev).state == "released" and reload(doc).status == "draft"
    assert "QP-RLS-02" not in open_page(client, "/master-list").html


def test_obsolete_with_a_reason(f, login_as):
    doc = f.document(code="QP-OBS-01")
    rev = f.effective(doc)
    client = login_as(f.user("controller"))
    page = open_page(client, f"/documents/{doc.id}")
    form = page.form("/obsolete")
    response = submit(client, form, headers={"Referer": f"http://localhost/documents/{doc.id}"})
    assert reload(doc).status == "effective", "a reason is required"
    response = submit(client, open_page(client, f"/documents/{doc.id}").form("/obsolete")
                      .set("reason", "被 QP-OBS-02 替代"))
    assert location(response) == f"/documents/{doc.id}"
    assert reload(doc).status == "obsolete" and doc.obsolete_reason == "被 QP-OBS-02 替代"
    assert reload(rev).state == "obsolete"
    view = follow(client, response)
    assert "被 QP-OBS-02 替代" in view.html
    assert f"/documents/{doc.id}/revisions/new" not in view.html and "/obsolete" not in view.html
    assert "作废" in open_page(client, f"/revisions/{rev.id}").html
    assert "QP-OBS-01" not in open_page(client, "/master-list").html


def test_staff_cannot_release_or_obsolete(f, login_as):
    doc = f.document(code="QP-NOREL-01")
    f.effective(doc)
    staff = f.user("staff")
    rev = f.approved(f.draft(doc, author=staff, reason="更新"))
    client = login_as(staff)
    assert "/release" not in open_page(client, f"/revisions/{rev.id}").html
    assert "/obsolete" not in open_page(client, f"/documents/{doc.id}").html
    token = CSRF_RE.search(open_page(client, "/").html).group(1)
    client.post(f"/revisions/{rev.id}/release", data={"csrf_token": token, "effective_date": clock.today().isoformat()})
    client.post(f"/documents/{doc.id}/obsolete", data={"csrf_token": token, "reason": "x"})
    assert reload(rev).state == "approved" and reload(doc).status == "effective"


# --------------------------------------------------------------------------- document page, diff


def _two_effective_revisions(f, frozen):
    doc = f.document(code="QP-HIS-01", title="文件和资料控制程序")
    frozen(datetime(2024, 1, 10, 2, 0, tzinfo=timezone.utc))
    first = f.effective(doc, body="<p>文件由文控中心统一编号。</p><p>第二段不变。</p>", summary="首版发行")
    frozen(datetime(2024, 6, 1, 2, 0, tzinfo=timezone.utc))
    second = f.effective(doc, body="<p>文件由质量部统一编号。</p><p>第二段不变。</p>", summary="调整编号职责",
                         reason="组织机构调整")
    return doc, first, second


def test_document_page_shows_revisions_and_history(f, login_as, frozen):
    doc, first, second = _two_effective_revisions(f, frozen)
    client = login_as(f.user("staff"))
    page = open_page(client, f"/documents/{doc.id}")
    revisions = page.html.split("修订履历")[1]
    assert f'href="/revisions/{first.id}">A/0</a>' in revisions and f'href="/revisions/{second.id}">A/1</a>' in revisions
    assert revisions.index("A/1") < revisions.index("A/0")  # newest first
    assert "调整编号职责" in revisions and "组织机构调整" in revisions
    assert "2024-01-10" in revisions and "2024-06-01" in revisions
    assert f"/revisions/{first.id}/export.docx" in revisions
    history = page.html[page.html.index('class="list trail"'):]
    for action in ("document.create", "revision.create", "revision.submit", "signature.review",
                   "signature.approve", "revision.approve", "revision.make_effective", "document.effective",
                   "revision.supersede"):
        assert action in history, action
    rows = re.findall(r"<tr><td>(\d+)</td>", history)
    assert len(rows) >= 15 and [int(r) for r in rows] == sorted(int(r) for r in rows)


def test_as_of_lookup(f, login_as, frozen):
    doc, first, second = _two_effective_revisions(f, frozen)
    client = login_as(f.user("staff"))

    def answer(day: str) -> str:
        page = open_page(client, f"/documents/{doc.id}?as_of={day}")
        form = page.form(having="as_of")
        assert form.value("as_of") == day
        return page.html[page.html.index('name="as_of"'):]

    assert f'href="/revisions/{first.id}">A/0</a>' in answer("2024-03-01")
    assert f'href="/revisions/{second.id}">A/1</a>' in answer("2024-06-01")
    assert f'href="/revisions/{first.id}"' in answer("2024-05-31")
    early = answer("2023-12-31")
    assert f'href="/revisions/{first.id}"' not in early.split("</form>")[0]
    assert "No revision was effective on that day." in early
    assert client.get(f"/documents/{doc.id}?as_of=2024-13-01").status_code == 400


def test_diff_page(f, login_as, frozen):
    doc, first, second = _two_effective_revisions(f, frozen)
    client = login_as(f.user("staff"))
    compare = open_page(client, f"/revisions/{second.id}").form("/diff")
    assert compare.method == "get" and compare.options["against"] == [str(first.id)]
    response = client.get(f"/revisions/{second.id}/diff", query_string=compare.data())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    body = html[html.index('class="diff"'):]
    inserted = "".join(re.findall(r"<ins[^>]*>(.*?)</ins>", body, re.S))
    deleted = "".join(re.findall(r"<del[^>]*>(.*?)</del>", body, re.S))
    assert "质量部" in inserted and "文控中心" in deleted
    assert "第二段不变" not in inserted + deleted and "第二段不变" in body
    assert client.get(f"/revisions/{second.id}/diff").status_code == 400
    other = f.effective(f.document())
    assert client.get(f"/revisions/{second.id}/diff?against={other.id}").status_code == 404


# --------------------------------------------------------------------------- exports


def test_master_list_page_and_xlsx(f, login_as):
    from openpyxl import load_workbook

    in_force = f.document(code="QP0501/UI", title="文件和资料控制程序",
                          clauses=["ISO 9001:2015 7.5.3", "ISO 9001:2015 7.5.2"])
    rev = f.effective(in_force)
    f.document(code="QP-DRAFT-ML", title="尚未发布")
    client = login_as(f.user("staff"))
    page = open_page(client, "/master-list")
    assert codes_listed(page.html) == ["QP0501/UI"]
    assert 'href="/master-list.xlsx"' in page.html
    response = client.get("/master-list.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.active
    assert sheet.title == "受控文件清单"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:2] == ("文件编号", "文件名称")
    data = [r for r in rows[2:] if r[0]]
    assert len(data) == 1
    assert data[0][0] == "QP0501/UI" and data[0][1] == "文件和资料控制程序" and data[0][3] == rev.label
    assert "ISO 9001:2015 7.5.3" in data[0][7]


def test_export_docx(f, login_as):
    import docx

    doc = f.document(code="SH/BD-01", title="零配件销货卡")
    rev = f.effective(doc, body="<h2>1 目的</h2><p>零配件销售须填写销货卡。</p>")
    client = login_as(f.user("staff"))
    assert f'href="/revisions/{rev.id}/export.docx"' in open_page(client, f"/revisions/{rev.id}").html
    response = client.get(f"/revisions/{rev.id}/export.docx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "/" not in disposition.split("filename*=")[1].replace(
        "UTF-8''", "", 1)
    document = docx.Document(io.BytesIO(response.data))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        for part in (section.header, section.footer):
            texts.extend(p.text for p in part.paragraphs)
            for table in part.tables:
                for row in table.rows:
                    texts.extend(cell.text for cell in row.cells)
    everything = "\n".join(texts)
    assert "SH/BD-01" in everything and "零配件销售须填写销货卡。" in everything
    assert "受控" in everything and rev.label in everything


# --------------------------------------------------------------------------- admin, tokens


def test_admin_creates_user_deactivates_and_creates_department(f, login_as, new_client):
    admin = f.user("admin")
    dept = f.department(code="SHUI", name="售后服务部")
    client = login_as(admin)
    page = open_page(client, "/admin/users")
    assert 'href="/admin/users"' in page.html
    create = page.form("/admin/users", having="username")
    create.set("username", "zhangsan").set("name", "张三").set("password", "s3cret-pass-1")
    create.set("role", "staff").set("department", dept.code)
    response = submit(client, create)
    assert location(response) == "/admin/users"
    user = db.session.execute(select(User).where(User.username == "zhangsan")).scalar_one()
    assert user.role == "staff" and user.department_id == dept.id and user.display_name == "张三" and user.active
    assert "zhangsan" in follow(client, response).html

    zhang = new_client()
    login = open_page(zhang, "/login?lang=en").form(having="password")
    assert submit(zhang, login.set("username", "zhangsan").set("password", "s3cret-pass-1")).status_code == 302
    assert zhang.get("/").status_code == 200

    row = open_page(client, "/admin/users").form(f"/admin/users/{user.id}")
    assert row.value("active") == "1" and row.value("role") == "staff" and row.value("department") == dept.code
    response = submit(client, row.set("active", None))
    assert response.status_code == 302
    assert reload(user).active is False
    assert user.role == "staff" and user.department_id == dept.id, "deactivating must keep role and department"
    assert zhang.get("/").status_code == 302, "a deactivated user's session must end"
    retry = new_client()
    login = open_page(retry, "/login?lang=en").form(having="password")
    response = submit(retry, login.set("username", "zhangsan").set("password", "s3cret-pass-1"))
    assert response.status_code == 401
    assert any("inactive account" in m for m in Page("/login", response).flashes())

    department = open_page(client, "/admin/users").form("/admin/departments")
    response = submit(client, department.set("code", "YX").set("name", "营销中心"))
    assert location(response) == "/admin/users"
    assert db.session.execute(select(Department).where(Department.code == "YX")).scalar_one().name == "营销中心"
    users_page = follow(client, response)
    assert "营销中心" in users_page.html
    assert "YX" in users_page.form("/admin/users", having="username").options["department"]


@pytest.mark.parametrize("role", ["controller", "staff", "approver", "auditor", "external_reviewer"])
def test_only_admins_reach_the_admin_page(f, login_as, role):
    client = login_as(f.user(role))
    assert client.get("/admin/users").status_code == 403
    assert 'href="/admin/users"' not in open_page(client, "/").html
    token = CSRF_RE.search(open_page(client, "/").html).group(1)
    response = client.post("/admin/users", data={"csrf_token": token, "username": f"intruder-{role}",
                                                  "password": "s3cret-pass-1", "role": "admin"})
    assert response.status_code in (302, 403)
    client.post("/admin/departments", data={"csrf_token": token, "code": "HACK", "name": "x"})
    assert db.session.execute(select(User).where(User.username == f"intruder-{role}")).first() is None
    assert db.session.execute(select(Department).where(Department.code == "HACK")).first() is None


def test_api_tokens_page(f, login_as, app):
    user = f.user("staff")
    client = login_as(user)
    page = open_page(client, "/account/tokens")
    response = submit(client, page.form("/account/tokens"))
    assert response.status_code == 200
    token = re.search(r"<code>(pt_[A-Za-z0-9_-]+)</code>", response.get_data(as_text=True)).group(1)
    api = PageClient(app, app.response_class)
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["username"] == user.username
    listing = open_page(client, "/account/tokens")
    assert token not in listing.html and token[:10] in listing.html
    row = db.session.execute(select(ApiToken).where(ApiToken.user_id == user.id)).scalar_one()
    response = submit(client, listing.form(f"/account/tokens/{row.id}/revoke"))
    assert location(response) == "/account/tokens"
    assert reload(row).revoked_at is not None
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --------------------------------------------------------------------------- read-only reviewers


def test_external_reviewer_is_read_only(f, login_as):
    effective_doc = f.document(code="QP-EXT-01", title="对外展示程序")
    rev = f.effective(effective_doc)
    f.document(code="QP-EXT-DRAFT", title="未生效")
    external = f.user("external_reviewer", name="认证机构审核员")
    client = login_as(external)
    listing = open_page(client, "/documents")
    assert codes_listed(listing.html) == ["QP-EXT-01"]
    assert 'href="/documents/new"' not in listing.html
    page = open_page(client, f"/documents/{effective_doc.id}")
    assert "/revisions/new" not in page.html
    assert open_page(client, f"/revisions/{rev.id}").html
    assert open_page(client, "/master-list").html
    token = CSRF_RE.search(page.html).group(1)
    posts = {
        "/documents/new": {"code": "QP-EXT-NEW", "title": "x", "doc_type": "procedure"},
        f"/documents/{effective_doc.id}/revisions/new": {"body_html": "<p>x</p>", "change_summary": "x",
                                                         "change_reason": "x"},
        f"/documents/{effective_doc.id}/obsolete": {"reason": "x"},
        "/account/tokens": {},
    }
    for url, data in posts.items():
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 403, f"POST {url} as external_reviewer answered {response.status_code}"
    assert db.session.execute(select(Document).where(Document.code == "QP-EXT-NEW")).first() is None
    assert len(reload(effective_doc).revisions) == 1 and effective_doc.status == "effective"
    assert db.session.execute(select(ApiToken).where(ApiToken.user_id == external.id)).first() is None
    response = submit(client, open_page(client, "/").form("/logout"))
    assert response.status_code == 302 and location(response).startswith("/login")
    assert client.get("/").status_code == 302


# --------------------------------------------------------------------------- language


def test_chinese_by_default_english_on_request(web, f):
    page = open_page(web, "/login")
    assert '<html lang="zh-CN">' in page.html
    assert "登录" in page.html, \
        "the login page is not Chinese by default: the zh_CN catalogue is missing or not found by Flask-Babel"
    english = open_page(web, "/login?lang=en")
    assert '<html lang="en">' in english.html and "Log in" in english.html and "登录" not in english.html
    assert "Log in" in open_page(web, "/login").html  # the choice sticks for the session
    back = open_page(web, "/login?lang=zh_CN")
    assert '<html lang="zh-CN">' in back.html and "登录" in back.html


# --------------------------------------------------------------------------- hostile input, headers


HOSTILE = ('<p>正文</p><script>alert("s1")</script><img src=x onerror="alert(2)">'
           '<a href="javascript:alert(3)">链接</a><p onclick="alert(4)">段落</p>'
           '<iframe src="https://evil.example/"></iframe><svg onload="alert(5)"></svg>')


def _assert_no_active_content(html: str) -> None:
    """No inline or foreign script, no event-handler attribute, no javascript: URL, no frames."""
    for tag in re.findall(r"<script\b[^>]*>", html, re.I):
        assert re.search(r'\bsrc="/static/[\w.-]+\.js"', tag), f"inline or foreign script: {tag}"
    assert not re.search(r"<script\b[^>]*>[^<]+</script>", html, re.I)
    tags = re.findall(r"<[a-z][^>]*>", html, re.I)
    assert not [t for t in tags if re.search(r"\son\w+\s*=", t, re.I)]
    assert not [t for t in tags if re.search(r"\b(href|src|action)\s*=\s*[\"']?\s*javascript:", t, re.I)]
    assert not re.search(r"<(iframe|svg|img|object|embed)\b", html, re.I)


def test_stored_hostile_html_is_never_rendered(f, login_as):
    doc = f.document(code="QP-XSS-01", title="<script>alert('t')</script>质量手册")
    author = f.user("staff")
    client = login_as(author)
    form = open_page(client, f"/documents/{doc.id}/revisions/new").form(having="body_html")
    response = submit(client, form.set("body_html", HOSTILE).set("change_summary", "<script>alert('c')</script>首版"))
    rev = db.session.execute(select(Revision).where(Revision.document_id == doc.id)).scalar_one()
    assert location(response) == f"/revisions/{rev.id}"
    for url in (f"/revisions/{rev.id}", f"/revisions/{rev.id}/edit", f"/documents/{doc.id}", "/documents", "/"):
        html = open_page(client, url).html
        _assert_no_active_content(html)
    view = open_page(client, f"/revisions/{rev.id}").html
    assert "正文" in view and "段落" in view
    assert "&lt;script&gt;alert(&#39;c&#39;)&lt;/script&gt;首版" in view
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;质量手册" in view


def test_security_headers(f, login_as, web):
    doc = f.document()
    f.effective(doc)
    client = login_as(f.user("staff"))
    responses = [web.get("/login"), client.get("/"), client.get("/documents/999999"),
                 client.get(f"/documents/{doc.id}"), client.get("/master-list.xlsx")]
    for response in responses:
        csp = response.headers.get("Content-Security-Policy", "")
        directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
        scripts = directives.get("script-src", directives.get("default-src"))
        assert scripts, csp
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts and "*" not in scripts
        assert directives.get("object-src") == ["'none'"]
        assert directives.get("frame-ancestors") == ["'none'"]
        assert response.headers.get("X-Frame-Options") == "DENY"
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert responses[2].status_code == 404
    cookie = responses[0].headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
