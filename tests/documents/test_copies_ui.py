"""Controlled copies in the browser, with CSRF on: every form is read from the rendered page
(its action, hidden inputs and CSRF token) and posted back as a browser would (the approach
of tests/ui/test_ui_flows.py). Covers the document page (发放范围, issuing copies, periodic
review), the copy page (签收, 回收 with witness, replacement), the dashboard (copies to
acknowledge, outstanding recalls, late acknowledgements, reviews due), the inbox, the copy
register and the external-document list with their Excel exports."""
import io
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from factories import PASSWORD
from pages import signed_in
from portal import clock
from portal.documents import distribution
from portal.documents.models import ControlledCopy, Document, PeriodicReview
from portal.extensions import db
from portal.notifications.models import Notification
from portal.trail.models import TrailEntry

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --------------------------------------------------------------------------- plumbing
# (the browser, signed in through the login form, is tests/pages.py)


class Form:
    def __init__(self, page_url: str, attrs: dict):
        self.page = page_url
        self.method = (attrs.get("method") or "get").lower()
        self.action = urljoin(page_url, attrs.get("action") or page_url)
        self.fields: list[tuple[str, str]] = []
        self.options: dict[str, list[str]] = {}

    def names(self) -> set[str]:
        return {n for n, _ in self.fields} | set(self.options)

    def value(self, name: str):
        values = [v for n, v in self.fields if n == name]
        return values[0] if values else None

    def set(self, name: str, value: str) -> "Form":
        assert name in self.names(), f"the form has no field {name!r}: {sorted(self.names())}"
        if name in self.options:
            assert value in self.options[name], f"{value!r} is not an option of {name!r}: {self.options[name]}"
        self.fields = [(n, v) for n, v in self.fields if n != name] + [(name, value)]
        return self


class _FormParser(HTMLParser):
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
            if kind in ("checkbox", "radio"):
                self._form.options.setdefault(a["name"], []).append(a.get("value", "on"))
                if "checked" in a:
                    self._form.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self._form.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "values": [], "selected": [], "multiple": "multiple" in a}
        elif tag == "option" and self._select is not None:
            self._select["values"].append(a.get("value"))
            if "selected" in a:
                self._select["selected"].append(a.get("value"))
        elif tag == "textarea" and a.get("name"):
            self._form.fields.append((a["name"], ""))

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            s = self._select
            self._form.options[s["name"]] = s["values"]
            chosen = s["selected"] or ([] if s["multiple"] or not s["values"] else [s["values"][0]])
            self._form.fields.extend((s["name"], v) for v in (chosen if s["multiple"] else chosen[-1:]))
            self._select = None
        elif tag == "form":
            self._form = None


class Page:
    def __init__(self, url: str, response):
        self.url, self.response = url, response
        self.html = response.get_data(as_text=True)
        parser = _FormParser(url)
        parser.feed(self.html)
        self.forms = parser.forms

    def find_forms(self, action_part: str, having: str | None = None) -> list[Form]:
        return [f for f in self.forms if action_part in urlparse(f.action).path
                and (having is None or having in f.names())]

    def form(self, action_part: str, having: str | None = None) -> Form:
        found = self.find_forms(action_part, having)
        assert len(found) == 1, (f"expected one form {action_part!r}/{having!r} on {self.url}, found "
                                 f"{[(f.action, sorted(f.names())) for f in self.forms]}")
        return found[0]

    def flashes(self, category: str) -> list[str]:
        return [re.sub(r"<[^>]+>", "", m).strip()
                for m in re.findall(rf'<div class="flash {category}">(.*?)</div>', self.html, re.S)]

    def section(self, heading: str) -> str:
        """The HTML from the <h2> containing `heading` up to the next <h2>."""
        start = self.html.find(heading)
        assert start >= 0, f"{heading!r} not on {self.url}"
        end = self.html.find("<h2", start + len(heading))
        return self.html[start:end if end >= 0 else None]


def open_page(client, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:500])
    return Page(url, response)


def submit(client, form: Form, **kw):
    """Post a form like a browser: its fields, and the page it was on as the Referer."""
    assert form.method == "post"
    assert form.value("csrf_token"), f"form {form.action} carries no CSRF token"
    kw.setdefault("headers", {"Referer": form.page})
    return client.post(form.action, data=MultiDict(form.fields), **kw)


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:500])
    parsed = urlparse(response.headers["Location"])
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


def follow(client, response) -> Page:
    return open_page(client, location(response))


@pytest.fixture
def login_as(app):
    """login_as(user) → a PageClient signed in as the user, in English."""
    return lambda user: signed_in(app, user, lang="en")


def count(model) -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def reload(model, id_):
    db.session.rollback()
    return db.session.get(model, id_)


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200 and response.mimetype == XLSX_MIME, response.status_code
    assert ".xlsx" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


class World:
    def __init__(self, f):
        self.f = f
        self.controller = f.user("controller", name="文控王")
        self.doc = f.document(self.controller)
        self.rev = f.effective(self.doc, self.controller)
        self.dept = f.department(name="售后服务部")
        self.holder = f.user("staff", name="李持有")
        self.member = f.user("staff", department=self.dept.code, name="部门成员")
        self.doc_id, self.rev_id, self.code = self.doc.id, self.rev.id, self.doc.code

    def issue(self, holder: str) -> tuple[int, str]:
        [copy] = distribution.issue_copy(self.controller, self.rev, {"holder": holder})
        return copy.id, copy.copy_no


@pytest.fixture
def w(f):
    return World(f)


# --------------------------------------------------------------------------- document page


def test_controller_sets_the_distribution_list_and_issues_copies_from_the_document_page(w, login_as):
    client = login_as(w.controller)
    page = open_page(client, f"/documents/{w.doc_id}")
    form = page.form(f"/documents/{w.doc_id}/distribution", having="distribution")
    form.set("distribution", f"{w.holder.username}, {w.dept.code}")
    page = follow(client, submit(client, form))
    assert page.flashes("success")
    assert reload(Document, w.doc_id).distribution == [w.holder.username, w.dept.code]
    assert f"{w.holder.username}, {w.dept.code}" in page.html

    # one copy to a single holder
    form = page.form(f"/revisions/{w.rev_id}/copies", having="holder").set("holder", w.member.username)
    page = follow(client, submit(client, form))
    assert any(f"{w.code}-A0-01" in m for m in page.flashes("success")), page.flashes("success")
    # then the whole distribution list
    page = follow(client, submit(client, page.form(f"/revisions/{w.rev_id}/copies", having="distribution")))
    assert any(f"{w.code}-A0-02" in m and f"{w.code}-A0-03" in m for m in page.flashes("success"))
    copies = db.session.execute(select(ControlledCopy).order_by(ControlledCopy.id)).scalars().all()
    assert [(c.copy_no, c.holder_key) for c in copies] == [
        (f"{w.code}-A0-01", w.member.username), (f"{w.code}-A0-02", w.holder.username),
        (f"{w.code}-A0-03", w.dept.code)]
    for c in copies:  # the register on the document page
        assert f'href="/copies/{c.id}">{c.copy_no}</a>' in page.html


def test_an_unknown_holder_is_refused_in_the_browser_and_nothing_is_issued(w, login_as):
    client = login_as(w.controller)
    page = open_page(client, f"/documents/{w.doc_id}")
    before = (count(ControlledCopy), count(TrailEntry))
    form = page.form(f"/revisions/{w.rev_id}/copies", having="holder").set("holder", "no-such-person")
    page = follow(client, submit(client, form))
    assert page.flashes("error")
    bad = page.form(f"/documents/{w.doc_id}/distribution").set("distribution", "ghost")
    page = follow(client, submit(client, bad))
    assert page.flashes("error")
    assert (count(ControlledCopy), count(TrailEntry)) == before
    assert reload(Document, w.doc_id).distribution in (None, [])


def test_staff_see_the_register_but_no_issue_forms(w, login_as):
    w.issue(w.holder.username)
    page = open_page(login_as(w.holder), f"/documents/{w.doc_id}")
    assert f"{w.code}-A0-01" in page.html
    assert page.find_forms("/copies") == [] and page.find_forms("/distribution") == []


# --------------------------------------------------------------------------- acknowledge


def test_the_holder_acknowledges_from_the_dashboard_and_the_copy_page(w, login_as):
    copy_id, copy_no = w.issue(w.holder.username)
    client = login_as(w.holder)
    dashboard = open_page(client, "/")
    todo = dashboard.section("Copies to acknowledge")
    assert copy_no in todo and f'href="/copies/{copy_id}"' in todo
    page = open_page(client, f"/copies/{copy_id}")
    assert copy_no in page.html and "李持有" in page.html
    response = submit(client, page.form(f"/copies/{copy_id}/acknowledge"))
    page = follow(client, response)
    assert page.flashes("success")
    copy = reload(ControlledCopy, copy_id)
    assert copy.status == "acknowledged" and copy.acknowledged_by_id == w.holder.id
    assert page.find_forms("/acknowledge") == []  # nothing left to sign
    assert copy_no not in open_page(client, "/").section("Copies to acknowledge")


def test_a_department_member_acknowledges_a_department_copy(w, login_as):
    copy_id, copy_no = w.issue(w.dept.code)
    client = login_as(w.member)
    assert copy_no in open_page(client, "/").section("Copies to acknowledge")
    page = open_page(client, f"/copies/{copy_id}")
    follow(client, submit(client, page.form(f"/copies/{copy_id}/acknowledge")))
    assert reload(ControlledCopy, copy_id).acknowledged_by_id == w.member.id


def test_nobody_else_can_acknowledge(w, login_as, f):
    copy_id, copy_no = w.issue(w.holder.username)
    client = login_as(f.user("staff"))
    page = open_page(client, f"/copies/{copy_id}")
    assert page.find_forms("/acknowledge") == []
    # posting anyway (with a valid token from the page) is refused and changes nothing
    token = next(form.value("csrf_token") for form in page.forms if form.value("csrf_token"))
    before = count(TrailEntry)
    page = follow(client, client.post(f"/copies/{copy_id}/acknowledge", data={"csrf_token": token}))
    assert page.flashes("error")
    assert reload(ControlledCopy, copy_id).status == "issued" and count(TrailEntry) == before


# --------------------------------------------------------------------------- recall and replace


def test_controller_recalls_outstanding_copies_with_a_witness(w, f, login_as):
    copy_id, copy_no = w.issue(w.holder.username)
    f.effective(w.doc, w.controller, summary="第二版", reason="条款调整")  # A/0 superseded
    client = login_as(w.controller)
    recalls = open_page(client, "/").section("Outstanding recalls")
    assert copy_no in recalls and f'href="/copies/{copy_id}"' in recalls
    listed = open_page(client, "/copies?outstanding_recall=1")
    assert copy_no in listed.html and f"{w.code}-A1-01" not in listed.html
    page = open_page(client, f"/copies/{copy_id}")
    assert "recall" in page.html.lower()
    form = page.form(f"/copies/{copy_id}/recall").set("outcome", "destroyed").set("witness", "赵国强")
    page = follow(client, submit(client, form))
    assert page.flashes("success")
    copy = reload(ControlledCopy, copy_id)
    assert (copy.status, copy.recall_outcome, copy.recall_witness, copy.recalled_by_id) == (
        "recalled", "destroyed", "赵国强", w.controller.id)
    assert "赵国强" in page.html
    assert copy_no not in open_page(client, "/").section("Outstanding recalls")
    # the recall form is gone; posting it again is refused and changes nothing
    assert page.find_forms("/recall") == []
    before = count(TrailEntry)
    page = follow(client, submit(client, form))
    assert page.flashes("error")
    assert count(TrailEntry) == before and reload(ControlledCopy, copy_id).recall_outcome == "destroyed"


def test_replace_a_lost_copy_from_the_copy_page(w, login_as):
    copy_id, copy_no = w.issue(w.holder.username)
    client = login_as(w.controller)
    page = open_page(client, f"/copies/{copy_id}")
    form = page.form(f"/copies/{copy_id}/replace", having="reason").set("reason", "遗失")
    response = submit(client, form)
    new = db.session.execute(select(ControlledCopy).where(ControlledCopy.replaces_id == copy_id)).scalar_one()
    assert location(response) == f"/copies/{new.id}"
    page = follow(client, response)
    assert any(copy_no in m and new.copy_no in m for m in page.flashes("success"))
    old = reload(ControlledCopy, copy_id)
    assert old.status == "voided" and old.void_reason == "遗失"
    assert new.copy_no == f"{w.code}-A0-02" and new.holder_user_id == w.holder.id
    voided_page = open_page(client, f"/copies/{copy_id}")
    assert voided_page.find_forms("/replace") == [] and voided_page.find_forms("/recall") == []
    # replaying the old form is refused
    before = (count(ControlledCopy), count(TrailEntry))
    assert follow(client, submit(client, form)).flashes("error")
    assert (count(ControlledCopy), count(TrailEntry)) == before


def test_staff_have_no_recall_or_replace_forms(w, login_as):
    copy_id, _ = w.issue(w.holder.username)
    page = open_page(login_as(w.holder), f"/copies/{copy_id}")
    assert page.find_forms("/recall") == [] and page.find_forms("/replace") == []


# --------------------------------------------------------------------------- dashboard


def test_dashboard_shows_late_acknowledgements_to_controllers(f, login_as, frozen):
    start = datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc)
    frozen(start)
    w = World(f)
    late_id, late_no = w.issue(w.holder.username)
    frozen(start + timedelta(days=5))
    fresh_id, fresh_no = w.issue(w.member.username)
    frozen(start + timedelta(days=8))
    client = login_as(w.controller)
    late = open_page(client, "/").section("Late acknowledgements")
    assert late_no in late and fresh_no not in late
    holder_dashboard = open_page(login_as(w.holder), "/")
    assert "Late acknowledgements" not in holder_dashboard.html
    assert late_no in holder_dashboard.section("Copies to acknowledge")


def test_dashboard_shows_reviews_due_and_overdue(f, login_as, frozen):
    frozen(datetime(2025, 1, 10, 2, 0, tzinfo=timezone.utc))
    controller = f.user("controller")
    overdue = f.document(controller, review_period_months=12)
    f.effective(overdue, controller)
    soon = f.document(controller, review_period_months=13)
    f.effective(soon, controller)
    later = f.document(controller, review_period_months=24)
    f.effective(later, controller)
    approver = f.user("approver", department=controller.department_code)
    frozen(datetime(2026, 1, 20, 2, 0, tzinfo=timezone.utc))  # overdue: 01-10; soon: 02-10
    section = open_page(login_as(approver), "/").section("Periodic reviews due")
    assert overdue.code in section and soon.code in section and later.code not in section
    row = re.search(rf"{re.escape(overdue.code)}.*?</tr>", section, re.S).group(0)
    assert "overdue" in row
    soon_row = re.search(rf"{re.escape(soon.code)}.*?</tr>", section, re.S).group(0)
    assert "(overdue)" not in soon_row
    assert f'href="/documents/{overdue.id}#review"' in section
    # an approver of another department is not asked
    assert "Periodic reviews due" not in open_page(login_as(f.user("approver")), "/").html


# --------------------------------------------------------------------------- inbox


def test_inbox_lists_notifications_and_opening_one_marks_it_read(w, login_as):
    copy_id, copy_no = w.issue(w.holder.username)
    client = login_as(w.holder)
    dashboard = open_page(client, "/")
    assert re.search(r'href="/inbox">[^<]*<span class="count">1</span>', dashboard.html), "unread count"
    inbox = open_page(client, "/inbox")
    assert copy_no in inbox.html and 'class="unread"' in inbox.html
    [note] = db.session.execute(select(Notification).where(Notification.user_id == w.holder.id)).scalars()
    response = submit(client, inbox.form(f"/inbox/{note.id}/read"))
    assert location(response) == f"/copies/{copy_id}"
    assert reload(Notification, note.id).read_at is not None
    inbox = open_page(client, "/inbox")
    assert 'class="unread"' not in inbox.html and copy_no in inbox.html
    assert '<span class="count">' not in inbox.html
    # someone else's message cannot be opened
    other = login_as(w.member)
    token = next(form.value("csrf_token") for form in open_page(other, "/inbox").forms if form.value("csrf_token"))
    assert other.post(f"/inbox/{note.id}/read", data={"csrf_token": token}).status_code == 404


def test_inbox_shows_signature_requests(f, login_as):
    doc = f.document()
    rev = f.draft(doc)
    reviewer = f.user("approver")
    f.submitted(rev, [reviewer], f.user("approver"))
    client = login_as(reviewer)
    inbox = open_page(client, "/inbox")
    assert doc.code in inbox.html
    [note] = db.session.execute(select(Notification).where(Notification.user_id == reviewer.id)).scalars()
    assert location(submit(client, inbox.form(f"/inbox/{note.id}/read"))) == f"/revisions/{rev.id}"


# --------------------------------------------------------------------------- periodic review


def test_periodic_review_form_on_the_document_page(f, login_as, frozen):
    frozen(datetime(2025, 1, 10, 2, 0, tzinfo=timezone.utc))
    controller = f.user("controller")
    doc = f.document(controller, review_period_months=12)
    f.effective(doc, controller)
    approver = f.user("approver", department=controller.department_code, name="赵审核")
    frozen(datetime(2026, 1, 20, 2, 0, tzinfo=timezone.utc))
    client = login_as(approver)
    page = open_page(client, f"/documents/{doc.id}")
    form = page.form(f"/documents/{doc.id}/periodic-review", having="password")
    assert set(form.options["outcome"]) == {"keep", "revise", "obsolete"}
    # a wrong password is refused and records nothing
    before = (count(PeriodicReview), count(TrailEntry))
    form.set("outcome", "keep").set("comment", "仍适宜").set("password", "wrong-password")
    page = follow(client, submit(client, form))
    assert page.flashes("error")
    assert (count(PeriodicReview), count(TrailEntry)) == before
    assert reload(Document, doc.id).next_review_due.isoformat() == "2026-01-10"
    # the right one signs the review
    form = page.form(f"/documents/{doc.id}/periodic-review", having="password")
    form.set("outcome", "keep").set("comment", "仍适宜，继续执行").set("password", PASSWORD)
    response = submit(client, form)
    assert location(response).startswith(f"/documents/{doc.id}")
    page = follow(client, response)
    assert page.flashes("success")
    assert reload(Document, doc.id).next_review_due.isoformat() == "2027-01-20"
    assert "2027-01-20" in page.html and "仍适宜，继续执行" in page.html and "赵审核" in page.html


def test_no_review_form_for_staff_or_other_departments(f, login_as):
    controller = f.user("controller")
    doc = f.document(controller)
    f.effective(doc, controller)
    for user in (f.user("staff", department=controller.department_code), f.user("approver")):
        page = open_page(login_as(user), f"/documents/{doc.id}")
        assert page.find_forms("/periodic-review") == []


# --------------------------------------------------------------------------- registers


def test_copy_register_page_and_xlsx(w, f, login_as):
    a_id, a_no = w.issue(w.holder.username)
    b_id, b_no = w.issue(w.dept.code)
    distribution.acknowledge_copy(w.holder, db.session.get(ControlledCopy, a_id))
    distribution.recall_copy(w.controller, db.session.get(ControlledCopy, b_id),
                             {"outcome": "returned", "witness": "见证人"})
    client = login_as(w.controller)
    page = open_page(client, "/copies")
    assert a_no in page.html and b_no in page.html
    assert 'href="/copies?outstanding_recall=1"' in page.html or "outstanding_recall=1" in page.html
    rows = xlsx_rows(client.get("/copies?format=xlsx"))
    assert rows[0][0] == "文件发放回收记录"
    header = rows[1]
    assert header[:5] == ["发放号", "文件编号", "文件名称", "版本", "持有人"]
    body = {r[0]: dict(zip(header, r)) for r in rows[2:]}
    assert set(body) == {a_no, b_no}
    assert body[a_no]["文件编号"] == w.code and body[a_no]["版本"] == "A/0" and "李持有" in body[a_no]["持有人"]
    assert body[a_no]["签收"] and body[b_no]["回收日期"] and body[b_no]["见证人"] == "见证人"
    assert body[a_no]["发放日期"] == clock.today().isoformat()
    # the outstanding-recall register exports too
    outstanding = xlsx_rows(client.get("/copies?outstanding_recall=1&format=xlsx"))
    assert outstanding[2:] == []


def test_external_documents_page_and_xlsx(f, login_as):
    controller = f.user("controller")
    client = login_as(controller)
    page = open_page(client, "/external")
    assert "No external documents" in page.html
    assert 'href="/documents/new?doc_type=external"' in page.html
    page = open_page(client, "/documents/new?doc_type=external")
    form = page.form("/documents/new", having="external_source")
    assert form.value("doc_type") == "external"
    form.set("code", "GB/T 19001-2016").set("title", "质量管理体系 要求")
    form.set("external_source", "国家标准化管理委员会").set("external_edition", "2016")
    form.set("received_on", "2023-01-05").set("applicability", "质量管理体系全部过程")
    response = submit(client, form)
    doc = db.session.execute(select(Document).where(Document.code == "GB/T 19001-2016")).scalar_one()
    assert location(response) == f"/documents/{doc.id}"
    assert (doc.doc_type, doc.external_source, doc.received_on.isoformat()) == (
        "external", "国家标准化管理委员会", "2023-01-05")
    f.document(controller)  # a procedure, not listed
    page = open_page(client, "/external")
    assert "GB/T 19001-2016" in page.html and "国家标准化管理委员会" in page.html and "2023-01-05" in page.html
    assert len(re.findall(r'<td><a href="/documents/\d+">', page.html)) == 1
    rows = xlsx_rows(client.get("/external?format=xlsx"))
    assert rows[0][0] == "外来文件清单"
    assert [r[:5] for r in rows[2:]] == [["GB/T 19001-2016", "质量管理体系 要求", "国家标准化管理委员会", "2016",
                                          "2023-01-05"]]
    # staff read the list too
    staff_page = open_page(login_as(f.user("staff")), "/external")
    assert "GB/T 19001-2016" in staff_page.html


def test_every_post_form_on_the_new_pages_carries_a_csrf_token(w, f, login_as):
    copy_id, _ = w.issue(w.holder.username)
    client = login_as(w.controller)
    for url in (f"/documents/{w.doc_id}", f"/copies/{copy_id}", "/inbox", "/", "/copies", "/external"):
        for form in open_page(client, url).forms:
            if form.method == "post":
                assert form.value("csrf_token"), f"POST form to {form.action} on {url} has no csrf_token"
    # and a post without one is refused
    before = count(ControlledCopy)
    response = client.post(f"/revisions/{w.rev_id}/copies", data={"holder": w.holder.username})
    assert response.status_code == 400
    assert count(ControlledCopy) == before


def test_register_dates_are_local_dates(f, login_as, frozen):
    """Timestamps are stored in UTC; the register shows the portal's local date (Asia/Shanghai),
    like the page does: 17:30 UTC on 3 March is 01:30 on 4 March in Shanghai."""
    frozen(datetime(2025, 3, 3, 17, 30, tzinfo=timezone.utc))
    w = World(f)
    copy_id, copy_no = w.issue(w.holder.username)
    distribution.acknowledge_copy(w.holder, db.session.get(ControlledCopy, copy_id))
    distribution.recall_copy(w.controller, db.session.get(ControlledCopy, copy_id), {"outcome": "returned"})
    client = login_as(w.controller)
    assert "2025-03-04 01:30" in open_page(client, f"/copies/{copy_id}").html
    rows = xlsx_rows(client.get("/copies?format=xlsx"))
    row = dict(zip(rows[1], rows[2]))
    assert (row["发放日期"], row["签收"], row["回收日期"]) == ("2025-03-04", "2025-03-04", "2025-03-04")
