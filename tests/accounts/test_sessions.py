"""Ending sessions (issue 9 item 5): logout, a password change or reset, deactivation and a
role change end every session of that user, copies of the cookie included."""
import pytest

from portal.accounts import services
from portal.accounts.models import User
from portal.extensions import db
from factories import PASSWORD


def copy_of(browser, client):
    """A second browser holding the same session cookie (a stolen or left-behind copy)."""
    twin = browser()
    twin.set_cookie("session", client.get_cookie("session").value)
    return twin


def signed_out(client) -> bool:
    response = client.get("/")
    if response.status_code == 200:
        return False
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    return True


def test_logout_ends_a_copied_session(f, browser, signed_in):
    user = f.user()
    first = signed_in(user)
    twin = copy_of(browser, first)
    assert not signed_out(twin)
    assert first.post("/logout").status_code == 302
    assert signed_out(first) and signed_out(twin)
    again = signed_in(user)  # signing in afresh works
    assert not signed_out(again)


def test_logout_ends_the_users_other_sessions_too(f, signed_in):
    user = f.user()
    office, home = signed_in(user), signed_in(user)
    office.post("/logout")
    assert signed_out(home)


@pytest.mark.parametrize("event", ["admin_reset", "own_change", "deactivation", "role_change"])
def test_password_and_account_changes_end_every_session(f, browser, signed_in, event):
    admin, user = f.user("admin"), f.user("staff")
    first = signed_in(user)
    twin = copy_of(browser, first)
    user = db.session.get(User, user.id)
    if event == "admin_reset":
        services.set_password(admin, user, "a-new-password-1")
    elif event == "own_change":
        services.set_password(user, user, "a-new-password-1")
    elif event == "deactivation":
        services.update_user(admin, user, active=False)
    else:
        services.update_user(admin, user, role="approver")
    assert signed_out(first) and signed_out(twin)


def test_admin_reset_through_the_admin_page_ends_the_sessions(f, browser, signed_in):
    admin, user = f.user("admin"), f.user("staff")
    victim = signed_in(user)
    response = signed_in(admin).post(f"/admin/users/{user.id}", data={
        "role": "staff", "department": user.department_code, "active": "1", "password": "a-new-password-1"})
    assert response.status_code == 302
    assert signed_out(victim)
    assert browser().sign_in(user.username, PASSWORD).status_code == 401
    assert browser().sign_in(user.username, "a-new-password-1").status_code == 302


def test_an_admin_resetting_their_own_password_stays_signed_in(f, signed_in):
    admin = f.user("admin")
    client = signed_in(admin)
    response = client.post(f"/admin/users/{admin.id}", data={
        "role": "admin", "department": admin.department_code, "active": "1", "password": "a-new-password-1"})
    assert response.status_code == 302
    assert not signed_out(client)


def test_other_changes_keep_the_sessions(f, signed_in):
    admin, user = f.user("admin"), f.user("staff")
    client = signed_in(user)
    services.update_user(admin, db.session.get(User, user.id), name="新名字", email="a@example.com")
    assert not signed_out(client)


def test_session_ids_name_a_version(f):
    user = f.user()
    assert user.get_id() == f"{user.id}:{user.session_version}"
    assert services.user_for_session(user.get_id()) is user
    # A cookie from before session versions, a forged shape, or an ended session: nobody.
    for stale in (str(user.id), f"{user.id}:", f"{user.id}:x", "", f"{user.id}:{user.session_version + 1}"):
        assert services.user_for_session(stale) is None
    services.log_out(user)
    assert services.user_for_session(f"{user.id}:0") is None
