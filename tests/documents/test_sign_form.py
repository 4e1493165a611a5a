"""The signing form on the revision page (issue 9, item 9), driven like a browser with CSRF on:
a refused signature comes back with exactly what was entered (never 同意 by default), the
form states what is being signed before the password, and only a signer whose turn has come
gets a form."""
from html.parser import HTMLParser

import pytest

from factories import PASSWORD
from pages import signed_in
from portal.documents.models import Revision, Signature
from portal.extensions import db


class SignForms(HTMLParser):
    """The sign forms of a page: what a browser would send, and each radio's label text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._label, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "/sign" in (a.get("action") or ""):
            self._form = {"fields": {}, "radios": {}, "required": set(), "text": ""}
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag == "label":
            self._label = ""
        elif tag == "input" and a.get("type") == "radio":
            self._radio = a["value"]
            if "checked" in a:
                self._form["fields"][a["name"]] = a["value"]
            if "required" in a:
                self._form["required"].add(a["name"])
        elif tag == "input" and a.get("name"):
            self._form["fields"][a["name"]] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""

    def handle_data(self, data):
        if self._form is None:
            return
        self._form["text"] += data
        if self._label is not None:
            self._label += data
        if self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if self._form is None:
            return
        if tag == "label" and self._label is not None:
            if getattr(self, "_radio", None):
                self._form["radios"][self._radio] = " ".join(self._label.split())
            self._label, self._radio = None, None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def sign_forms(html: str) -> list[dict]:
    parser = SignForms()
    parser.feed(html)
    return parser.forms


@pytest.fixture
def login(app):
    """login(user) → a PageClient signed in as the user, in English."""
    return lambda user: signed_in(app, user, lang="en")


@pytest.fixture
def in_review(f):
    """A revision QPxxxx A/0 waiting for one reviewer, then one approver."""
    doc = f.document()
    rev, reviewers, approver = f.submitted(f.draft(doc))
    return {"rev": rev, "code": doc.code, "reviewer": reviewers[0], "approver": approver}


def page(client, rev_id) -> str:
    response = client.get(f"/revisions/{rev_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_sign(client, rev_id, html: str, **changes):
    """Post the page's sign form as a browser would, with `changes` typed in."""
    (form,) = sign_forms(html)
    data = {**form["fields"], **changes}
    return client.post(f"/revisions/{rev_id}/sign", data=data,
                       headers={"Referer": f"http://localhost/revisions/{rev_id}"})


def slot_of(user, rev_id) -> Signature:
    db.session.rollback()
    return db.session.execute(db.select(Signature).where(
        Signature.revision_id == rev_id, Signature.signer_id == user.id)).scalar_one()


def test_the_form_states_what_is_signed_and_chooses_nothing_in_advance(login, in_review):
    rev = in_review["rev"]
    (form,) = sign_forms(page(login(in_review["reviewer"]), rev.id))
    what = f"{in_review['code']} A/0"
    assert form["radios"] == {"accept": f"I have reviewed {what} and accept it",
                              "reject": f"I have reviewed {what} and reject it"}
    assert "decision" not in form["fields"] and "decision" in form["required"]
    assert form["text"].index(what) < form["text"].index("password")


def test_a_rejection_without_comment_comes_back_as_entered(login, in_review):
    rev, reviewer = in_review["rev"], in_review["reviewer"]
    client = login(reviewer)
    response = post_sign(client, rev.id, page(client, rev.id), decision="reject", comment="",
                         password=PASSWORD)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "A rejection needs a comment." in html
    (form,) = sign_forms(html)
    assert form["fields"]["decision"] == "reject" and form["fields"]["comment"] == ""
    assert "password" not in form["fields"] or form["fields"]["password"] == ""
    assert slot_of(reviewer, rev.id).decision is None
    assert db.session.get(Revision, rev.id).state == "in_review"


def test_a_wrong_password_keeps_the_decision_and_the_comment(login, in_review):
    rev, reviewer = in_review["rev"], in_review["reviewer"]
    client = login(reviewer)
    response = post_sign(client, rev.id, page(client, rev.id), decision="reject",
                         comment="第3条职责不清 <b>", password="wrong-password")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    (form,) = sign_forms(html)
    assert form["fields"]["decision"] == "reject"
    assert form["fields"]["comment"] == "第3条职责不清 <b>"
    assert "<b>" not in html.split("<textarea", 1)[1].split("</textarea>", 1)[0]  # escaped
    assert slot_of(reviewer, rev.id).decision is None

    # the next click, with the right password, signs the rejection that was meant
    response = post_sign(client, rev.id, html, password=PASSWORD)
    assert response.status_code in (302, 303)
    slot = slot_of(reviewer, rev.id)
    assert (slot.decision, slot.comment) == ("reject", "第3条职责不清 <b>")
    assert db.session.get(Revision, rev.id).state == "draft"


def test_a_refused_accept_stays_accept(login, in_review):
    rev, reviewer = in_review["rev"], in_review["reviewer"]
    client = login(reviewer)
    response = post_sign(client, rev.id, page(client, rev.id), decision="accept", comment="可以",
                         password="wrong-password")
    (form,) = sign_forms(response.get_data(as_text=True))
    assert (form["fields"]["decision"], form["fields"]["comment"]) == ("accept", "可以")


def test_no_decision_chosen_is_refused_and_nothing_is_chosen_for_the_signer(login, in_review):
    rev, reviewer = in_review["rev"], in_review["reviewer"]
    client = login(reviewer)
    response = post_sign(client, rev.id, page(client, rev.id), comment="看过", password=PASSWORD)
    assert response.status_code == 422
    (form,) = sign_forms(response.get_data(as_text=True))
    assert "decision" not in form["fields"] and form["fields"]["comment"] == "看过"
    assert slot_of(reviewer, rev.id).decision is None


def test_the_approver_gets_a_form_only_once_the_reviews_are_in(login, in_review):
    rev, reviewer, approver = in_review["rev"], in_review["reviewer"], in_review["approver"]
    approver_client = login(approver)
    assert sign_forms(page(approver_client, rev.id)) == []

    reviewer_client = login(reviewer)
    response = post_sign(reviewer_client, rev.id, page(reviewer_client, rev.id), decision="accept",
                         comment="同意", password=PASSWORD)
    assert response.status_code in (302, 303)
    assert sign_forms(page(reviewer_client, rev.id)) == []  # signed: no second form

    (form,) = sign_forms(page(approver_client, rev.id))
    what = f"{in_review['code']} A/0"
    assert form["radios"] == {"accept": f"I approve {what}", "reject": f"I reject {what} and do not approve it"}
    assert form["fields"]["meaning"] == "approve"


def test_nobody_else_gets_a_form(f, login, in_review):
    rev = in_review["rev"]
    for user in (rev.author, f.user("controller"), f.user("approver"), f.user("auditor")):
        response = login(user).get(f"/revisions/{rev.id}")
        assert response.status_code in (200, 404), user.role  # a draft may be hidden from some
        assert sign_forms(response.get_data(as_text=True)) == [], user.role


def test_an_assigned_signer_who_may_no_longer_sign_gets_no_slot(in_review):
    """The rule behind the form (workflow.signable_slots): an account made read-only or
    deactivated after being assigned is offered nothing."""
    from portal.documents.workflow import signable_slots

    rev, reviewer = in_review["rev"], in_review["reviewer"]
    assert [s.meaning for s in signable_slots(reviewer, rev)] == ["review"]
    reviewer.role = "external_reviewer"
    assert signable_slots(reviewer, rev) == []
    reviewer.role, reviewer.active = "approver", False
    assert signable_slots(reviewer, rev) == []
    db.session.rollback()
