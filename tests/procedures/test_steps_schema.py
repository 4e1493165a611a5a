"""A procedure revision's steps (CONTRACT "Procedure runs"): exactly one clock, hours (or hours
by priority) or working days, bounded; escalate_to manager or controller; 422 naming the step."""
import pytest
from sqlalchemy import func, select

from portal.documents.models import Revision
from portal.extensions import db


def post_steps(capi, proc, steps):
    return capi.post(f"/documents/{proc.id}/revisions",
                     json={"body_html": "<p>流程</p>", "change_summary": "首版发行", "steps": steps})


@pytest.fixture
def capi(f, controller):
    return f.api(controller)


@pytest.fixture
def proc(f, controller):
    return f.document(controller=controller, doc_type="procedure")


def test_each_clock_is_kept_normalised(capi, proc, form):
    resp = post_steps(capi, proc, [
        {"name": "受理", "form_id": form.id, "due_hours": {"emergency": 2, "ordinary": 24}},
        {"name": "派工", "due_hours": 1.5, "escalate_to": "controller"},
        {"name": "处理", "due_working_days": 3}])
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["steps"] == [
        {"name": "受理", "form_id": form.id, "role": None, "department": None,
         "due_hours": {"ordinary": 24, "emergency": 2}, "escalate_to": "manager"},
        {"name": "派工", "form_id": None, "role": None, "department": None, "due_hours": 1.5,
         "escalate_to": "controller"},
        {"name": "处理", "form_id": None, "role": None, "department": None, "due_working_days": 3,
         "escalate_to": "manager"}]


@pytest.mark.parametrize("bad", [
    {},                                              # no clock
    {"due_hours": None},
    {"due_hours": 0}, {"due_hours": -4}, {"due_hours": 1e9}, {"due_hours": 8761},
    {"due_hours": float("inf")}, {"due_hours": True}, {"due_hours": "24"}, {"due_hours": [24]},
    {"due_hours": {}}, {"due_hours": {"emergency": 2}},            # ordinary is the fallback: required
    {"due_hours": {"ordinary": 24, "urgent": 1}}, {"due_hours": {"ordinary": 0}},
    {"due_hours": {"ordinary": "24"}}, {"due_hours": {"ordinary": 24, "emergency": 1e9}},
    {"due_working_days": 0}, {"due_working_days": -1}, {"due_working_days": 1.5},
    {"due_working_days": 367}, {"due_working_days": True}, {"due_working_days": "3"},
    {"due_hours": 24, "due_working_days": 3},        # two clocks
    {"due_hours": 24, "escalate_to": "ceo"}, {"due_hours": 24, "escalate_to": ["manager"]},
])
def test_bad_clocks_are_422_naming_the_step(capi, proc, bad):
    before = db.session.execute(select(func.count()).select_from(Revision)).scalar()
    resp = post_steps(capi, proc, [{"name": "受理", "due_hours": 24}, {"name": "派工", **bad}])
    assert resp.status_code == 422, resp.get_json()
    assert list(resp.get_json()["error"]["fields"]) == ["steps[1]"]
    assert db.session.execute(select(func.count()).select_from(Revision)).scalar() == before


def test_nan_is_refused(capi, proc):
    """JSON has no NaN, but Python's parser takes it: still 422 (or 400), never stored."""
    resp = capi.post(f"/documents/{proc.id}/revisions", data='{"body_html": "<p>x</p>", "change_summary": "s", '
                     '"steps": [{"name": "a", "due_hours": NaN}]}', headers={"Content-Type": "application/json"})
    assert resp.status_code in (400, 422)


def test_a_step_naming_a_form_that_is_not_effective_is_422(f, capi, proc, controller):
    draft = f.document(controller=controller, doc_type="form")
    resp = post_steps(capi, proc, [{"name": "受理", "form_id": draft.id, "due_hours": 24}])
    assert resp.status_code == 422 and "steps[0]" in resp.get_json()["error"]["fields"]
