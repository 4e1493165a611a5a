"""Department managers (CONTRACT "Command line" create-department --manager; PATCH
/departments/{id}): the manager receives escalations, so only an active account that may
write can be one; every change leaves a trail entry, bad input changes nothing."""
import pytest
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import Department
from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db
from portal.trail.models import TrailEntry


def department_trail(dept_id: int) -> list[TrailEntry]:
    return db.session.execute(select(TrailEntry).where(
        TrailEntry.object_type == "department", TrailEntry.object_id == dept_id)
        .order_by(TrailEntry.seq)).scalars().all()


def by_code(code: str) -> Department:
    return db.session.execute(select(Department).where(Department.code == code)).scalar_one()


# --- command line ------------------------------------------------------------------------

def test_create_department_with_a_manager(cli, f):
    boss = f.user("approver", username="sunli")
    result = cli("create-department", "SH", "售后服务部", "--manager", "SunLi")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "manager sunli" in result.output
    dept = by_code("SH")
    assert dept.manager_id == boss.id
    [entry] = department_trail(dept.id)
    assert entry.action == "department.create" and entry.after["manager"] == "sunli"


@pytest.mark.parametrize("manager", ["nobody", "x", "inactive"])
def test_create_department_refuses_a_bad_manager_and_creates_nothing(cli, f, manager):
    gone = f.user("staff", username="inactive")
    services.update_user(f.user("admin"), gone, active=False)
    result = cli("create-department", "SH", "售后服务部", "--manager", manager)
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")
    assert db.session.execute(select(Department).where(Department.code == "SH")).first() is None


def test_create_department_without_a_manager_still_works(cli):
    result = cli("create-department", "ZB", "质量部")
    assert result.exit_code == 0 and by_code("ZB").manager_id is None
    assert "manager" not in result.output


# --- API -----------------------------------------------------------------------------------

def test_admin_sets_changes_and_clears_the_manager(f):
    admin, boss, other = f.user("admin"), f.user("approver"), f.user("staff")
    dept = f.department("SH", "售后服务部")
    api = f.api(admin)
    answer = api.patch(f"/departments/{dept.id}", json={"manager": boss.username})
    assert answer.status_code == 200
    assert answer.get_json() == {"id": dept.id, "code": "SH", "name": "售后服务部", "active": True,
                                 "manager": boss.username}
    listed = {d["code"]: d for d in api.get("/departments").get_json()["items"]}
    assert listed["SH"]["manager"] == boss.username and listed[other.department_code]["manager"] is None
    assert api.patch(f"/departments/{dept.id}", json={"manager": other.username.upper(),
                                                     "name": "售后服务中心"}).get_json()["manager"] == other.username
    cleared = api.patch(f"/departments/{dept.id}", json={"manager": None})
    assert cleared.status_code == 200 and cleared.get_json()["manager"] is None
    assert cleared.get_json()["name"] == "售后服务中心"
    entries = department_trail(dept.id)
    assert [e.action for e in entries] == ["department.create"] + ["department.update"] * 3
    assert (entries[1].before["manager"], entries[1].after["manager"]) == (None, boss.username)
    assert entries[2].after == {"code": "SH", "name": "售后服务中心", "active": True, "manager": other.username}
    assert (entries[3].before["manager"], entries[3].after["manager"]) == (other.username, None)
    # nothing changed, nothing written
    assert api.patch(f"/departments/{dept.id}", json={}).status_code == 200
    assert api.patch(f"/departments/{dept.id}", json={"manager": None}).status_code == 200
    assert len(department_trail(dept.id)) == 4


@pytest.mark.parametrize("body, field", [
    ({"manager": "nobody"}, "manager"), ({"manager": "inactive"}, "manager"), ({"manager": "expired"}, "manager"),
    ({"manager": "reviewer"}, "manager"), ({"manager": 5}, "manager"), ({"manager": ["x"]}, "manager"),
    ({"manager": ""}, "manager"), ({"manager": "x" * 10_000}, "manager"), ({"name": ""}, "name"),
    ({"name": "名" * 201}, "name"), ({"name": 7}, "name"), ({"name": "a\x01"}, "name"),
    ({"code": "XX"}, "code"), ({"active": False}, "active")])
def test_bad_input_is_422_and_changes_nothing(f, frozen, body, field):
    from datetime import date, datetime

    frozen(datetime(2026, 6, 1, 4))
    admin = f.user("admin")
    gone = f.user("staff", username="inactive")
    services.update_user(admin, gone, active=False)
    f.user("staff", username="expired", expires=date(2026, 5, 31))
    f.user("external_reviewer", username="reviewer")
    boss = f.user("approver")
    dept = f.department("SH", "售后服务部")
    services.update_department(admin, dept, manager=boss.username)
    before = len(department_trail(dept.id))
    answer = f.api(admin).patch(f"/departments/{dept.id}", json=body)
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["error"]["fields"]
    db.session.expire_all()
    dept = db.session.get(Department, dept.id)
    assert (dept.manager_id, dept.name, dept.code) == (boss.id, "售后服务部", "SH")
    assert len(department_trail(dept.id)) == before


@pytest.mark.parametrize("role", ["staff", "controller", "approver", "auditor", "external_reviewer"])
def test_only_the_admin_sets_a_manager(f, role):
    user, dept = f.user(role), f.department("SH", "售后服务部")
    answer = f.api(user).patch(f"/departments/{dept.id}", json={"manager": user.username})
    assert answer.status_code == 403
    with pytest.raises(NotAllowed):
        services.update_department(user, dept, manager=user.username)
    assert db.session.get(Department, dept.id).manager_id is None


def test_unknown_department_and_malformed_bodies(f):
    api, dept = f.api(f.user("admin")), f.department()
    assert api.patch("/departments/999999", json={"manager": None}).status_code == 404
    assert api.patch(f"/departments/{dept.id}", data="manager",
                     headers={"Content-Type": "text/plain"}).status_code == 400
    assert api.patch(f"/departments/{dept.id}", json=["manager"]).status_code == 400


def test_the_service_by_code(f):
    admin, boss = f.user("admin"), f.user("approver")
    f.department("SH", "售后服务部")
    assert services.set_department_manager(admin, "SH", boss.username).manager_id == boss.id
    with pytest.raises(ValidationFailed):
        services.set_department_manager(admin, "NOPE", boss.username)


# --- admin page ------------------------------------------------------------------------------

def test_admin_page_sets_the_manager(browser, f):
    admin, boss = f.user("admin"), f.user("approver")
    dept = f.department("SH", "售后服务部")
    b = browser()
    b.sign_in(admin.username)
    page = b.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/department/{dept.id}"' in page
    answer = b.post(f"/admin/department/{dept.id}", data={"manager": boss.username, "name": "售后服务部"})
    assert answer.status_code == 302
    assert db.session.get(Department, dept.id).manager_id == boss.id
    b.post(f"/admin/department/{dept.id}", data={"manager": "", "name": "售后服务部"})
    assert db.session.get(Department, dept.id).manager_id is None
    refused = b.post(f"/admin/department/{dept.id}", data={"manager": "nobody", "name": "售后服务部"})
    assert refused.status_code == 302 and db.session.get(Department, dept.id).manager_id is None
    assert b.post("/admin/department/999999", data={"manager": ""}).status_code == 404


def test_staff_cannot_use_the_admin_form(browser, f):
    staff, dept = f.user("staff"), f.department("SH", "售后服务部")
    b = browser()
    b.sign_in(staff.username)
    b.post(f"/admin/department/{dept.id}", data={"manager": staff.username})
    assert db.session.get(Department, dept.id).manager_id is None
