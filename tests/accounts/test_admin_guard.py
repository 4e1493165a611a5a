"""Admins cannot lock themselves out, and the portal keeps an admin (issue 9 item 21): no own
expiry before today, no own demotion or deactivation; the last active admin without an end
date can be neither demoted, deactivated nor given an end date, by anyone. 409/422, nothing
changed."""
from datetime import date, timedelta

import pytest

from portal import clock
from portal.accounts.models import User
from portal.extensions import db


def state(user) -> tuple:
    db.session.rollback()
    row = db.session.get(User, user.id)
    return row.role, row.active, row.expires_on, row.display_name, row.session_version


def refused(api, user, body, status, code):
    before = state(user)
    response = api.patch(f"/users/{user.id}", json={"name": "改过的名字", **body})
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert state(user) == before, "nothing changed, not even the name sent alongside"


@pytest.mark.parametrize("expires", ["0001-01-01", "yesterday"])
def test_an_admin_cannot_set_their_own_expiry_in_the_past(f, expires):
    admin, other = f.user("admin"), f.user("admin")
    day = (clock.today() - timedelta(days=1)).isoformat() if expires == "yesterday" else expires
    refused(f.api(admin), admin, {"expires": day}, 422, "self_expiry")
    assert other.active


def test_an_admin_may_set_their_own_expiry_from_today_while_another_admin_lasts(f):
    admin, _other = f.user("admin"), f.user("admin")
    response = f.api(admin).patch(f"/users/{admin.id}", json={"expires": clock.today().isoformat()})
    assert response.status_code == 200 and response.get_json()["expires"] == clock.today().isoformat()


def test_an_admin_cannot_demote_or_deactivate_themselves(f):
    admin, _other = f.user("admin"), f.user("admin")
    api = f.api(admin)
    refused(api, admin, {"role": "staff"}, 409, "self_role_change")
    refused(api, admin, {"active": False}, 409, "self_deactivation")
    assert api.patch(f"/users/{admin.id}", json={"role": "admin", "active": True}).status_code == 200


@pytest.mark.parametrize("body", [{"role": "controller"}, {"active": False},
                                  {"expires": (date(2099, 1, 1)).isoformat()}])
def test_the_last_lasting_admin_cannot_be_removed_by_another_admin(f, body):
    last = f.user("admin")
    temporary = f.user("admin")
    api = f.api(temporary)
    db.session.get(User, temporary.id).expires_on = clock.today() + timedelta(days=30)
    db.session.commit()
    refused(api, last, body, 409, "last_admin")


def test_with_another_lasting_admin_an_admin_can_be_demoted(f):
    first, second = f.user("admin"), f.user("admin")
    response = f.api(second).patch(f"/users/{first.id}", json={"role": "controller"})
    assert response.status_code == 200 and response.get_json()["role"] == "controller"
    # Now `second` is the last one: nobody can remove them, they cannot remove themselves.
    refused(f.api(second), second, {"role": "staff"}, 409, "self_role_change")


def test_the_admin_page_refuses_self_demotion_with_a_message(f, signed_in):
    admin, _other = f.user("admin"), f.user("admin")
    client = signed_in(admin)
    before = state(admin)
    response = client.post(f"/admin/users/{admin.id}?lang=en", data={
        "role": "staff", "department": admin.department_code, "active": "1"})
    assert response.status_code == 302  # the browser is sent back with the message
    assert "You cannot change your own role." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert state(admin) == before


@pytest.mark.parametrize("typed", ["2026-13-01", "31/12/2026", "٢٠٢٦-٠١-٠١", "tomorrow"])
def test_an_expiry_that_is_not_a_date_is_refused_in_the_admin_form_not_read_as_no_expiry(
        f, signed_in, typed):
    admin, _other = f.user("admin"), f.user("admin")
    guest = f.user("external_reviewer", expires=clock.today() + timedelta(days=30))
    before = state(guest)
    response = signed_in(admin).post(f"/admin/users/{guest.id}", data={
        "role": "external_reviewer", "name": guest.display_name, "active": "1", "expires": typed})
    assert response.status_code == 302
    assert state(guest) == before, "a bad date must not remove the reviewer's expiry"
