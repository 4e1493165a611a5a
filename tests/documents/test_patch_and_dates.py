"""Changes that must be refused (issue 9): a PATCH cannot blank what creating requires (item
20), and a release cannot take effect beyond MAX_EFFECTIVE_YEARS (item 22, e.g. 9999-12-31,
after which the document could never take a new revision). Each refusal is a 422 naming the
field, and nothing changes."""
import io
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from pages import signed_in
from portal.documents import workflow
from portal.documents.models import Document, Revision
from portal.extensions import db
from portal.trail.models import TrailEntry


def trail_count() -> int:
    return db.session.execute(select(func.count()).select_from(TrailEntry)).scalar()


@pytest.fixture
def login(app):
    """login(user) → (a PageClient signed in as the user, in English; a CSRF token for its posts)."""
    def make(user):
        client = signed_in(app, user, lang="en")
        return client, client.csrf
    return make


# --- item 20: PATCH cannot blank a required field ------------------------------------------

@pytest.mark.parametrize("title", ["", "   ", None])
def test_patch_cannot_blank_a_document_title(f, title):
    controller = f.user("controller")
    doc = f.document(controller, title="文件控制程序")
    api = f.api(controller)
    before = trail_count()
    response = api.patch(f"/documents/{doc.id}", json={"title": title})
    assert response.status_code == 422, response.get_json()
    assert "title" in response.get_json()["error"]["fields"]
    db.session.rollback()
    assert db.session.get(Document, doc.id).title == "文件控制程序" and trail_count() == before


def test_patch_cannot_blank_a_forms_numbering_pattern(f):
    controller = f.user("controller")
    form = f.document(controller, doc_type="form", numbering_pattern="{code}-{seq:3}")
    response = f.api(controller).patch(f"/documents/{form.id}", json={"numbering_pattern": ""})
    assert response.status_code == 422
    assert "numbering_pattern" in response.get_json()["error"]["fields"]
    db.session.rollback()
    assert db.session.get(Document, form.id).numbering_pattern == "{code}-{seq:3}"


def test_patch_without_the_required_fields_still_changes_the_others(f):
    controller = f.user("controller")
    doc = f.document(controller, title="文件控制程序")
    response = f.api(controller).patch(f"/documents/{doc.id}", json={"review_period_months": 24})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["title"] == "文件控制程序"


@pytest.mark.parametrize("summary", ["", "  ", None])
def test_patch_cannot_blank_a_revisions_change_summary(f, summary):
    author = f.user("staff")
    rev = f.draft(f.document(), author=author, summary="首版发行")
    api = f.api(author)
    before = trail_count()
    response = api.patch(f"/revisions/{rev.id}", json={"change_summary": summary})
    assert response.status_code == 422, response.get_json()
    assert "change_summary" in response.get_json()["error"]["fields"]
    db.session.rollback()
    assert db.session.get(Revision, rev.id).change_summary == "首版发行" and trail_count() == before


def test_multipart_patch_cannot_blank_the_change_summary_either(f):
    author = f.user("staff")
    rev = f.draft(f.document(), author=author, summary="首版发行")
    api = f.api(author)
    response = api.client.patch(f"/api/v1/revisions/{rev.id}", headers=api._headers(),
                                data={"change_summary": "", "file": (io.BytesIO(docx_bytes()), "新版.docx")},
                                content_type="multipart/form-data")
    assert response.status_code == 422, response.get_json()
    db.session.rollback()
    assert db.session.get(Revision, rev.id).change_summary == "首版发行"


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("新的正文")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_the_draft_editor_cannot_blank_the_change_summary(f, login):
    author = f.user("staff")
    rev = f.draft(f.document(), author=author, summary="首版发行")
    client, token = login(author)
    response = client.post(f"/revisions/{rev.id}/edit", data={
        "csrf_token": token, "body_html": "<p>新</p>", "change_summary": " ", "change_level": "minor"},
        headers={"Referer": f"http://localhost/revisions/{rev.id}/edit"})
    assert response.status_code in (302, 303, 422)
    db.session.rollback()
    stored = db.session.get(Revision, rev.id)
    assert stored.change_summary == "首版发行" and "新" not in stored.body_html


# --- item 22: effective dates within MAX_EFFECTIVE_YEARS ----------------------------------

@pytest.fixture
def approved(f, frozen):
    frozen(datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc))
    controller = f.user("controller")
    return controller, f.approved(f.draft(f.document(controller)))


@pytest.mark.parametrize("day", ["9999-12-31", "2031-03-03"])
def test_release_too_far_ahead_is_refused(f, approved, day):
    controller, rev = approved
    api = f.api(controller)
    before = trail_count()
    response = api.post(f"/revisions/{rev.id}/release", json={"effective_date": day})
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "effective_date_too_far" and "effective_date" in error["fields"]
    assert "2031-03-02" in error["fields"]["effective_date"]
    assert str(workflow.MAX_EFFECTIVE_YEARS) in error["message"]
    db.session.rollback()
    stored = db.session.get(Revision, rev.id)
    assert (stored.state, stored.effective_date, stored.released_at) == ("approved", None, None)
    assert trail_count() == before


def test_release_on_the_last_allowed_day_waits_as_released(f, approved):
    controller, rev = approved
    assert workflow.latest_effective_date() == date(2031, 3, 2)
    response = f.api(controller).post(f"/revisions/{rev.id}/release", json={"effective_date": "2031-03-02"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "released"


def test_release_in_the_past_is_still_refused(f, approved):
    controller, rev = approved
    response = f.api(controller).post(f"/revisions/{rev.id}/release", json={"effective_date": "2026-03-01"})
    assert response.status_code == 422


def test_browser_release_dated_9999_is_refused_with_a_message(f, approved, login):
    controller, rev = approved
    client, token = login(controller)
    html = client.get(f"/revisions/{rev.id}").get_data(as_text=True)
    assert 'max="2031-03-02"' in html  # the date picker says so before the server does
    response = client.post(f"/revisions/{rev.id}/release",
                           data={"csrf_token": token, "effective_date": "9999-12-31"},
                           headers={"Referer": f"http://localhost/revisions/{rev.id}"})
    assert response.status_code in (302, 303)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The effective date must be within 5 years from today." in page
    db.session.rollback()
    assert db.session.get(Revision, rev.id).state == "approved"
