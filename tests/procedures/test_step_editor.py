"""The step editor in the browser: a draft procedure revision's steps shown as rows, saved by
the service the API uses (same checks, same trail), refused for anything but an editable
draft procedure revision, and every refused post leaves the steps as they were."""
import re

import pytest
from sqlalchemy import func, select

from pages import page_form

from portal.documents import workflow
from portal.documents.models import Revision
from portal.extensions import db
from portal.procedures.step_editor import rows_from_form, step_from_row
from portal.trail.models import TrailEntry

from factories import PASSWORD


ROW_ERROR = re.compile(r'<tr class="row-error"><td></td><td colspan="7" class="error">(.*?)</td>')


def url(rev) -> str:
    return f"/revisions/{rev.id}/steps"


def stored(rev) -> list[dict]:
    db.session.expire_all()
    return db.session.get(Revision, rev.id).steps


def save(web, rev, data):
    return web.post(url(rev), data=data, headers={"Referer": f"http://localhost{url(rev)}"})


def editor_form(web, rev):
    """What a browser would post from the editor page, untouched."""
    page = web.get(url(rev))
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return page_form(page.get_data(as_text=True))


def set_row(data, i, **values):
    for key, value in values.items():
        data[f"{key}-{i}"] = value


def updates(rev) -> int:
    return db.session.execute(select(func.count()).select_from(TrailEntry).where(
        TrailEntry.object_type == "revision", TrailEntry.object_id == rev.id,
        TrailEntry.action == "revision.update")).scalar()


def row(**values) -> dict:
    return {"position": "", "name": "步", "form": "", "role": "", "department": "", "clock": "hours",
            "value": "", "emergency": "", "escalate": "", **values}


@pytest.mark.parametrize("values, clock", [
    ({"value": "24"}, {"due_hours": 24}),
    ({"value": " 1.5 "}, {"due_hours": 1.5}),
    ({"clock": "priority", "value": "24", "emergency": "2"}, {"due_hours": {"ordinary": 24, "emergency": 2}}),
    ({"clock": "priority", "value": "24"}, {"due_hours": {"ordinary": 24}}),
    ({"value": "24", "emergency": "2"}, {"due_hours": {"ordinary": 24, "emergency": 2}}),  # implies priority
    ({"clock": "days", "value": "3"}, {"due_working_days": 3}),
    ({"clock": "days", "value": "3", "emergency": "2"}, {"due_working_days": 3, "due_hours": {"emergency": 2}}),
    ({"value": "一天"}, {"due_hours": "一天"}),  # text goes to the service, which names it
    ({}, {"due_hours": None}),
])
def test_a_row_becomes_the_step_the_api_would_take(values, clock):
    step = step_from_row(row(**values))
    assert {k: v for k, v in step.items() if k.startswith("due_")} == clock
    assert (step["form_id"], step["role"], step["department"], step["escalate_to"]) == (None, None, None, None)
    assert step_from_row(row(form="12", role="staff", escalate="controller"))["form_id"] == 12


def test_rows_are_ordered_by_their_numbers_and_a_blank_name_removes_one():
    form = {"name-0": "受理", "position-0": "1", "name-1": "派工", "position-1": "2", "name-2": " ",
            "position-2": "3", "name-3": "登记", "position-3": "0.5", "name-4": "回访", "position-4": "乱",
            "name-5": "归档", "position-5": "nan", "name-0010": "x"}
    assert [r["name"] for r in rows_from_form(form)] == ["登记", "受理", "派工", "回访", "归档"]


def test_the_editor_shows_the_steps_and_the_draft_page_links_to_it(f, controller, draft_procedure, steps,
                                                                     form, browser):
    proc, rev = draft_procedure(steps)
    web = browser(controller)
    html = web.get(url(rev)).get_data(as_text=True)
    for name in ("受理", "派工", "回访"):
        assert f'value="{name}"' in html
    data = page_form(html)
    assert data["form-0"] == str(form.id) and data["clock-0"] == "priority"
    assert (data["value-0"], data["emergency-0"]) == ("24", "2")
    assert (data["clock-1"], data["value-1"], data["escalate-1"]) == ("hours", "48", "controller")
    assert (data["clock-2"], data["value-2"], data["form-2"]) == ("days", "2", "")
    assert f"{form.code} {form.title}" in html
    assert data["name-3"] == ""  # blank rows for adding steps
    assert f'href="{url(rev)}"' in web.get(f"/revisions/{rev.id}").get_data(as_text=True)


def test_saving_rows_changes_the_steps_through_the_service(f, controller, draft_procedure, steps, form, browser):
    proc, rev = draft_procedure(steps)
    before = updates(rev)
    web = browser(controller)
    data = editor_form(web, rev)
    set_row(data, 0, name="受理登记")
    set_row(data, 1, clock="days", value="3", emergency="")  # 派工 now counts working days
    set_row(data, 2, name="")  # 回访 removed
    set_row(data, 3, position="0.5", name="接听电话", clock="priority", value="8", emergency="1.5",
            role="staff", department=controller.department_code, escalate="controller")
    response = save(web, rev, data)
    assert response.status_code == 302 and response.headers["Location"].endswith(url(rev))
    assert stored(rev) == [
        {"name": "接听电话", "form_id": None, "role": "staff", "department": controller.department_code,
         "due_hours": {"ordinary": 8, "emergency": 1.5}, "escalate_to": "controller"},
        {"name": "受理登记", "form_id": form.id, "role": None, "department": None,
         "due_hours": {"ordinary": 24, "emergency": 2}, "escalate_to": "manager"},
        {"name": "派工", "form_id": None, "role": None, "department": None, "due_working_days": 3,
         "escalate_to": "controller"}]
    assert updates(rev) == before + 1
    api = f.api(controller).get(f"/revisions/{rev.id}").get_json()
    assert [s["name"] for s in api["steps"]] == ["接听电话", "受理登记", "派工"]
    entry = db.session.execute(select(TrailEntry).where(
        TrailEntry.object_type == "revision", TrailEntry.object_id == rev.id,
        TrailEntry.action == "revision.update").order_by(TrailEntry.seq.desc())).scalars().first()
    # the trail shows what the steps were and became, not only that the revision changed
    assert [s["name"] for s in entry.before["steps"]] == [s["name"] for s in steps]
    assert [s["name"] for s in entry.after["steps"]] == ["接听电话", "受理登记", "派工"]


def test_priority_hours_and_working_days_round_trip(f, controller, draft_procedure, steps, browser):
    steps[1]["due_hours"] = 8000.125  # more digits than a short float format keeps
    proc, rev = draft_procedure(steps)
    first = stored(rev)
    web = browser(controller)
    assert save(web, rev, editor_form(web, rev)).status_code == 302
    assert stored(rev) == first
    assert first[0]["due_hours"] == {"ordinary": 24, "emergency": 2} and first[2]["due_working_days"] == 2


@pytest.mark.parametrize("row, problem", [
    ({"value": "0"}, "due_hours"),
    ({"value": "-5"}, "due_hours"),
    ({"value": "1e9"}, "due_hours"),
    ({"value": "一天"}, "due_hours"),
    ({"clock": "days", "value": "0"}, "due_working_days"),
    ({"clock": "days", "value": "2.5"}, "due_working_days"),
    ({"clock": "priority", "value": "24", "emergency": "-1"}, "due_hours"),
    ({"clock": "days", "value": "2", "emergency": "4"}, "只能设定一个时限"),  # one clock only
    ({"form": "999999"}, "form_id"),
    ({"form": "abc"}, "form_id"),
    ({"department": "NOPE"}, "department"),
    ({"role": "external_reviewer"}, "role"),
    ({"escalate": "ceo"}, "escalate_to"),
])
def test_a_bad_row_is_shown_again_with_its_message_and_nothing_changes(f, controller, draft_procedure, steps,
                                                                       browser, row, problem):
    proc, rev = draft_procedure(steps)
    first, before = stored(rev), updates(rev)
    web = browser(controller)
    data = editor_form(web, rev)
    set_row(data, 0, name="改过的受理")  # a good change on another row, kept on the page but not saved
    set_row(data, 1, **{"clock": "hours", "value": "48", "emergency": "", **row})
    response = save(web, rev, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert problem in " ".join(ROW_ERROR.findall(html))
    assert 'value="改过的受理"' in html
    kept = page_form(html)
    assert [kept[f"{key}-1"] for key in row if key not in ("form", "department", "role", "escalate")] == [
        v for k, v in row.items() if k not in ("form", "department", "role", "escalate")]
    assert stored(rev) == first and updates(rev) == before


def test_the_service_words_the_error_as_it_does_for_the_api(f, controller, draft_procedure, steps, browser):
    proc, rev = draft_procedure(steps)
    bad = [{"name": "受理", "due_hours": 0}]
    message = f.api(controller).patch(f"/revisions/{rev.id}", json={"steps": bad}).get_json()
    web = browser(controller)
    data = editor_form(web, rev)
    set_row(data, 0, clock="hours", value="0", emergency="", form="")
    html = save(web, rev, data).get_data(as_text=True)
    detail = message["error"]["fields"]["steps[0]"] if "error" in message else message["fields"]["steps[0]"]
    assert detail in html


def test_only_a_draft_is_edited(f, controller, draft_procedure, steps, browser, release):
    proc, rev = draft_procedure(steps)
    f.submitted(rev)
    web = browser(controller)
    assert web.get(url(rev)).status_code == 409
    data = {"csrf_token": web.csrf, "name-0": "改", "clock-0": "hours", "value-0": "1"}
    assert save(web, rev, data).status_code == 409
    assert [s["name"] for s in stored(rev)] == ["受理", "派工", "回访"]
    assert f'href="{url(rev)}"' not in web.get(f"/revisions/{rev.id}").get_data(as_text=True)

    proc, rev = draft_procedure(steps)
    release(rev)
    assert web.get(url(rev)).status_code == 409
    assert save(web, rev, data).status_code == 409
    assert [s["name"] for s in stored(rev)] == ["受理", "派工", "回访"]


def test_a_document_that_is_not_a_procedure_has_no_step_editor(f, controller, browser):
    doc = f.document(controller=controller, doc_type="work_instruction")
    rev = f.draft(doc, author=controller)
    web = browser(controller)
    assert web.get(url(rev)).status_code == 404
    data = {"csrf_token": web.csrf, "name-0": "改", "clock-0": "hours", "value-0": "1"}
    assert save(web, rev, data).status_code == 404
    assert stored(rev) is None
    assert "/steps" not in web.get(f"/revisions/{rev.id}").get_data(as_text=True)


def test_only_the_author_or_a_controller_edits_the_steps(f, controller, dept, staff, draft_procedure, steps,
                                                        browser):
    proc, rev = draft_procedure(steps)
    outsider = f.user("staff")  # another department
    for user in (outsider, f.user("external_reviewer")):
        web = browser(user)
        assert web.get(url(rev)).status_code in (403, 404)
        data = {"csrf_token": web.csrf, "name-0": "改", "clock-0": "hours", "value-0": "1"}
        assert save(web, rev, data).status_code in (403, 404)
    # a reviewer who sent the draft back sees it, but it is still the author's to change
    _rev, (reviewer,), _approver = f.submitted(rev)
    workflow.sign_revision(reviewer, rev, {"meaning": "review", "decision": "reject", "comment": "时限太长",
                                           "password": PASSWORD})
    assert db.session.get(Revision, rev.id).state == "draft"
    web = browser(reviewer)
    page = web.get(f"/revisions/{rev.id}")
    assert page.status_code == 200 and f'href="{url(rev)}"' not in page.get_data(as_text=True)
    assert web.get(url(rev)).status_code == 403
    data = {"csrf_token": web.csrf, "name-0": "改", "clock-0": "hours", "value-0": "1"}
    assert save(web, rev, data).status_code == 403
    assert [s["name"] for s in stored(rev)] == ["受理", "派工", "回访"]


def test_the_author_edits_their_own_draft(f, staff, browser):
    doc = f.document(doc_type="procedure")
    rev = f.draft(doc, author=staff)
    web = browser(staff)
    assert f'href="{url(rev)}"' in web.get(f"/revisions/{rev.id}").get_data(as_text=True)
    data = editor_form(web, rev)
    set_row(data, 0, name="受理", value="4")
    assert save(web, rev, data).status_code == 302
    assert stored(rev) == [{"name": "受理", "form_id": None, "role": None, "department": None,
                            "due_hours": 4, "escalate_to": "manager"}]


def test_a_post_without_the_csrf_token_is_refused(f, controller, draft_procedure, steps, browser):
    proc, rev = draft_procedure(steps)
    web = browser(controller)
    data = editor_form(web, rev)
    del data["csrf_token"]
    set_row(data, 0, name="改")
    assert save(web, rev, data).status_code == 400
    assert [s["name"] for s in stored(rev)] == ["受理", "派工", "回访"]


def test_a_hostile_step_name_is_escaped(f, controller, draft_procedure, steps, browser):
    proc, rev = draft_procedure(steps)
    web = browser(controller)
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    data = editor_form(web, rev)
    set_row(data, 0, name=hostile)
    assert save(web, rev, data).status_code == 302
    assert stored(rev)[0]["name"] == hostile
    for page in (url(rev), f"/revisions/{rev.id}"):
        html = web.get(page).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "&lt;script&gt;" in html
    set_row(data, 1, value="0")  # shown again after a refusal: escaped too
    html = save(web, rev, data).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
