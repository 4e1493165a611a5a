"""The auditor register (内审员名册): the admin keeps each auditor's qualification through
PATCH /users/{id} and the browser; bad input changes nothing."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.audit.models import AuditorQualification
from portal.extensions import db
from portal.trail.models import TrailEntry

GOOD = {"standards": ["ISO 9001:2015"], "qualified_until": "2028-12-31", "note": "内审员证书 NSY-2022-0315"}


@pytest.fixture
def admin(f):
    return f.user("admin", username="sysadmin")


@pytest.fixture
def newbie(f):
    """An auditor who has not been registered yet."""
    return f.user("auditor", username="newbie", name="新内审员", qualified=False)


def _trail_count() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(TrailEntry)).scalar()


def _row(user):
    db.session.rollback()
    return db.session.get(AuditorQualification, user.id)


def test_the_admin_registers_changes_and_withdraws_a_qualification(f, admin, newbie):
    api = f.api(admin)
    response = api.patch(f"/users/{newbie.id}", json={"auditor": GOOD})
    assert response.status_code == 200, response.get_json()
    auditor = response.get_json()["auditor"]
    assert auditor["standards"] == ["ISO 9001:2015"] and auditor["qualified_until"] == "2028-12-31"
    assert auditor["valid"] is True and auditor["updated_by"] == "sysadmin"
    listed = {u["username"]: u for u in api.get("/users").get_json()["items"]}
    assert listed["newbie"]["auditor"]["note"] == GOOD["note"] and listed["sysadmin"]["auditor"] is None

    changed = api.patch(f"/users/{newbie.id}", json={"auditor": {**GOOD, "standards": ["ISO 9001:2015",
                                                                                        "ISO 14001:2015"]}})
    assert changed.get_json()["auditor"]["standards"] == ["ISO 9001:2015", "ISO 14001:2015"]

    withdrawn = api.patch(f"/users/{newbie.id}", json={"auditor": None}).get_json()["auditor"]
    assert withdrawn["qualified_until"] == (clock.today() - timedelta(days=1)).isoformat()
    assert withdrawn["valid"] is False and withdrawn["standards"] == ["ISO 9001:2015", "ISO 14001:2015"]
    entries = db.session.execute(select(TrailEntry).where(TrailEntry.object_type == "user",
                                                          TrailEntry.object_id == newbie.id)
                                 .order_by(TrailEntry.seq)).scalars().all()
    assert [e.action for e in entries][-3:] == ["user.auditor_qualify", "user.auditor_qualify",
                                                "user.auditor_withdraw"]
    assert entries[-3].before is None and entries[-1].before["qualified_until"] == "2028-12-31"
    # withdrawing again, or saving the same values, changes nothing and writes nothing
    before = _trail_count()
    api.patch(f"/users/{newbie.id}", json={"auditor": None})
    assert _trail_count() == before


def test_a_qualification_and_other_changes_go_together(f, admin, newbie):
    api = f.api(admin)
    response = api.patch(f"/users/{newbie.id}", json={"name": "周新", "auditor": GOOD})
    assert response.status_code == 200
    assert response.get_json()["name"] == "周新" and response.get_json()["auditor"]["valid"]
    bad = api.patch(f"/users/{newbie.id}", json={"name": "改名", "auditor": {**GOOD, "qualified_until": "x"}})
    assert bad.status_code == 422
    db.session.rollback()
    assert db.session.get(type(newbie), newbie.id).display_name == "周新"


@pytest.mark.parametrize("auditor, field", [
    ({**GOOD, "qualified_until": "2026-13-01"}, "auditor.qualified_until"),
    ({**GOOD, "qualified_until": "31/12/2028"}, "auditor.qualified_until"),
    ({**GOOD, "qualified_until": 20281231}, "auditor.qualified_until"),
    ({**GOOD, "qualified_until": "1999-12-31"}, "auditor.qualified_until"),
    ({"standards": ["ISO 9001:2015"]}, "auditor.qualified_until"),
    ({**GOOD, "standards": ["ISO 9999:2030"]}, "auditor.standards"),
    ({**GOOD, "standards": []}, "auditor.standards"),
    ({**GOOD, "standards": "ISO 9001:2015"}, "auditor.standards"),
    ({**GOOD, "standards": [9001]}, "auditor.standards"),
    ({**GOOD, "note": "x" * 2001}, "auditor.note"),
    ({**GOOD, "note": "bad\x07char"}, "auditor.note"),
    ({**GOOD, "valid_from": "2026-01-01"}, "auditor.valid_from"),
    ("ISO 9001:2015", "auditor"),
    ([GOOD], "auditor"),
])
def test_bad_qualifications_are_refused_and_change_nothing(f, admin, newbie, auditor, field):
    api = f.api(admin)
    before = _trail_count()
    response = api.patch(f"/users/{newbie.id}", json={"auditor": auditor})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert _row(newbie) is None and _trail_count() == before


def test_only_the_admin_keeps_the_register(f, newbie):
    for role in ("controller", "auditor", "approver", "staff"):
        api = f.api(f.user(role))
        before = _trail_count()
        assert api.patch(f"/users/{newbie.id}", json={"auditor": GOOD}).status_code == 403
        assert _row(newbie) is None and _trail_count() == before


def test_an_external_reviewer_is_never_an_auditor(f, admin):
    reviewer = f.user("external_reviewer", expires=date(2099, 1, 1))
    response = f.api(admin).patch(f"/users/{reviewer.id}", json={"auditor": GOOD})
    assert response.status_code == 422 and _row(reviewer) is None


# --- the browser ----------------------------------------------------------------------------------

def test_the_admin_page_registers_and_the_register_lists_expiry(browser, kit, f, admin, newbie):
    web = browser(admin)
    html = kit.page(web, f"/admin/users/{newbie.id}/auditor")
    assert "ISO 9001:2015" in html and "ISO 14001:2015" in html
    assert f"/admin/users/{newbie.id}/auditor" in kit.page(web, "/auditors")  # not yet registered: a link
    form = kit.page_form(html)
    form.setlist("standards", ["ISO 9001:2015"])
    form["qualified_until"], form["note"] = "2020-06-30", "<script>alert(1)</script>证书过期"
    response = web.post(f"/admin/users/{newbie.id}/auditor", data=form)
    assert response.status_code == 302
    assert _row(newbie).qualified_until == date(2020, 6, 30)
    register = kit.page(web, "/auditors?lang=en")
    assert "新内审员" in register and "expired" in register
    assert "<script>alert(1)</script>" not in register and "&lt;script&gt;" in register
    assert "<script>alert(1)</script>" not in kit.page(web, f"/admin/users/{newbie.id}/auditor")


def test_the_admin_page_refuses_bad_dates_and_withdraws(browser, kit, f, admin, newbie):
    web = browser(admin)
    form = kit.page_form(kit.page(web, f"/admin/users/{newbie.id}/auditor"))
    form.setlist("standards", ["ISO 9001:2015"])
    form["qualified_until"] = "2028-02-30"
    response = web.post(f"/admin/users/{newbie.id}/auditor", data=form)
    assert response.status_code == 422 and _row(newbie) is None
    form["qualified_until"] = "2028-12-31"
    assert web.post(f"/admin/users/{newbie.id}/auditor", data=form).status_code == 302
    html = kit.page(web, f"/admin/users/{newbie.id}/auditor")
    assert 'name="withdraw" value="1"' in html
    response = web.post(f"/admin/users/{newbie.id}/auditor", data={"csrf_token": kit.csrf_token(html),
                                                                   "withdraw": "1"})
    assert response.status_code == 302
    assert _row(newbie).qualified_until == clock.today() - timedelta(days=1)


def test_only_the_admin_opens_the_qualification_page(browser, kit, f, newbie):
    for role in ("controller", "auditor"):
        web = browser(f.user(role))
        assert web.get(f"/admin/users/{newbie.id}/auditor").status_code == 403
        assert "newbie" not in kit.page(web, "/auditors")  # registered auditors only
    web = browser(f.user("admin"))
    assert web.get("/admin/users/999999/auditor").status_code == 404


def test_the_register_lists_each_auditors_audits_of_the_year(f, lead, planned, frozen):
    from datetime import datetime

    frozen(datetime(2026, 3, 1, 1))
    audit = planned()
    items = {i["username"]: i for i in f.api(lead).get("/auditors").get_json()["items"]}
    assert items["zhoujing"]["audits"] == [{"id": audit["id"], "number": audit["number"], "state": "planned"}]
    assert items["wuhaitao"]["audits"][0]["number"] == audit["number"]
    assert items["zhoujing"]["auditor"]["valid"] is True
    reviewer = f.api(f.user("external_reviewer", expires=date(2099, 1, 1)))
    assert reviewer.get("/auditors").get_json()["items"][0]["audits"] == []  # not yet reported
