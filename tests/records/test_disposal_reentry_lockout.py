"""Disposal approval re-enters the password (issue 9 item 6): wrong passwords count towards
the sign-in lockout even though the refused approval is rolled back; then it waits."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from factories import PASSWORD


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def committed_failures(user) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(User.failed_logins).where(User.id == user.id)).scalar()


def test_dispose_counts_wrong_passwords_then_waits(f, frozen, effective_form, api, issue, controller):
    frozen(utc(2026, 3, 10, 4))
    rec = issue(api, effective_form(retention_years=1))
    assert api.post(f"/records/{rec['id']}/close").status_code == 200
    frozen(utc(2027, 4, 1, 4))
    boss, approver = f.api(controller), f.user("approver")
    assert boss.post(f"/records/{rec['id']}/disposal-request", json={"method": "碎纸销毁"}).status_code == 200
    signer = f.api(approver)
    for count in range(1, 6):
        response = signer.post(f"/records/{rec['id']}/dispose", json={"password": "wrong-password"})
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "wrong_password"
        assert committed_failures(approver) == count
    response = signer.post(f"/records/{rec['id']}/dispose", json={"password": PASSWORD})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "locked"
    assert api.get(f"/records/{rec['id']}").get_json()["status"] == "closed"
    frozen(utc(2027, 4, 1, 4) + timedelta(seconds=31))
    response = signer.post(f"/records/{rec['id']}/dispose", json={"password": PASSWORD})
    assert response.status_code == 200 and response.get_json()["status"] == "disposed"
    assert committed_failures(approver) == 0
