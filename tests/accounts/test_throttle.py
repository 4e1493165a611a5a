"""Sign-in throttling (issue 9 item 7): every refusal alike (one message, one password check,
against a fixed dummy hash where there is no usable account), a progressive delay per
account instead of a hard lock, a limit per client address that headers cannot dodge."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.accounts import passwords, services
from portal.accounts.models import LoginThrottle, User
from portal.errors import NotAuthenticated
from portal.extensions import db
from factories import PASSWORD

T0 = datetime(2026, 5, 6, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def checks(monkeypatch):
    """The stored hash of every password check authenticate makes. An unknown user's check
    hashed a new password each time (a timing leak): a fresh hash would never equal dummy_hash()."""
    seen = []
    real = services.check_password

    def spy(stored, password):
        seen.append(stored)
        return real(stored, password)

    monkeypatch.setattr(services, "check_password", spy)
    return seen


def refusal(username, password, address="10.0.0.1") -> str:
    with pytest.raises(NotAuthenticated) as exc:
        services.authenticate(username, password, address)
    return exc.value.message


def reload(user) -> User:
    db.session.rollback()
    return db.session.get(User, user.id)


def test_every_refusal_checks_one_password_and_says_the_same(f, frozen, checks):
    frozen(T0)
    admin = f.user("admin")
    known, gone, lapsed, waiting = f.user(), f.user(), f.user(expires=date(2026, 5, 5)), f.user()
    services.update_user(admin, gone, active=False)
    for _ in range(5):
        refusal(waiting.username, "wrong-password", "10.0.0.9")
    checks.clear()
    messages = {
        "wrong password": refusal(known.username, "wrong-password"),
        "unknown user": refusal("nobody", PASSWORD),
        "malformed name": refusal("no body/..", PASSWORD),
        "deactivated": refusal(gone.username, PASSWORD),
        "expired": refusal(lapsed.username, PASSWORD),
        "waiting, right password": refusal(waiting.username, PASSWORD),
    }
    assert len(set(messages.values())) == 1, messages
    assert len(checks) == len(messages), "exactly one password check on each path"
    dummy = passwords.dummy_hash()
    assert checks[1] == checks[2] == checks[5] == dummy  # no usable account: the dummy hash
    assert checks[0] == reload(known).password_hash
    assert passwords.dummy_hash() is dummy, "the dummy hash is computed once"


def test_every_refusal_looks_the_same_in_the_browser(f, browser, frozen):
    frozen(T0)
    admin, known, gone = f.user("admin"), f.user(), f.user()
    services.update_user(admin, gone, active=False)
    pages = [browser().sign_in(name, password) for name, password in
             ((known.username, "wrong-password"), ("nobody", PASSWORD), (gone.username, PASSWORD))]
    assert {p.status_code for p in pages} == {401}
    flashes = {p.get_data(as_text=True).split('class="flash')[1].split("</")[0] for p in pages}
    assert len(flashes) == 1


def test_an_account_waits_progressively_longer_and_waiting_attempts_are_not_counted(f, frozen, checks):
    frozen(T0)
    user = f.user()
    for _ in range(4):
        refusal(user.username, "wrong-password")
    assert reload(user).failed_logins == 4  # free failures: no wait yet
    now, waits = T0, []
    for _ in range(7):
        refusal(user.username, "wrong-password")
        row = reload(user)
        waits.append((row.locked_until - now).total_seconds())
        # Inside the wait even the right password is refused unchecked, and nothing grows.
        checks.clear()
        refusal(user.username, PASSWORD)
        assert checks == [passwords.dummy_hash()] and reload(user).locked_until == row.locked_until
        now = row.locked_until + timedelta(seconds=1)
        frozen(now)
    assert waits == [30, 60, 120, 240, 480, 900, 900]  # doubling, capped at 15 minutes
    assert services.authenticate(user.username, PASSWORD, "10.0.0.2") == user
    assert (reload(user).failed_logins, reload(user).locked_until) == (0, None)


def test_a_quiet_hour_forgets_the_failures(f, frozen):
    frozen(T0)
    user = f.user()
    for _ in range(4):
        refusal(user.username, "wrong-password")
    frozen(T0 + timedelta(minutes=61))
    refusal(user.username, "wrong-password")
    assert reload(user).failed_logins == 1


def test_a_client_address_is_limited_whatever_accounts_it_tries(f, frozen, checks):
    frozen(T0)
    user = f.user()
    for i in range(20):
        refusal(f"guess{i}", "wrong-password", "10.6.6.6")
    checks.clear()
    refusal(user.username, PASSWORD, "10.6.6.6")  # even a right password waits there
    assert checks == [passwords.dummy_hash()]
    assert reload(user).failed_logins == 0, "a waiting client's attempts do not count against accounts"
    assert services.authenticate(user.username, PASSWORD, "10.0.0.7") == user  # elsewhere: fine
    row = db.session.get(LoginThrottle, "10.6.6.6")  # kept in the database, for every process
    assert row.failed_logins == 20 and row.locked_until == T0 + timedelta(seconds=30)


def test_a_success_does_not_clear_the_clients_count(f, frozen):
    frozen(T0)
    own = f.user()
    for i in range(19):
        refusal(f"guess{i}", "wrong-password", "10.6.6.6")
    assert services.authenticate(own.username, PASSWORD, "10.6.6.6") == own
    refusal("guess19", "wrong-password", "10.6.6.6")
    refusal(own.username, PASSWORD, "10.6.6.6")  # now that address waits


def test_forwarded_for_headers_do_not_change_the_client(f, browser, frozen):
    frozen(T0)
    user = f.user()
    client = browser()
    for i in range(20):
        response = client.post("/login", data={"username": f"guess{i}", "password": "x"},
                               headers={"X-Forwarded-For": f"192.0.2.{i}"},
                               environ_base={"REMOTE_ADDR": "10.6.6.6"})
        assert response.status_code == 401
    response = client.post("/login", data={"username": user.username, "password": PASSWORD},
                           headers={"X-Forwarded-For": "192.0.2.200"}, environ_base={"REMOTE_ADDR": "10.6.6.6"})
    assert response.status_code == 401
    assert db.session.execute(select(LoginThrottle.address)).scalars().all() == ["10.6.6.6"]
    assert browser().sign_in(user.username, address="10.0.0.8").status_code == 302


def test_quiet_clients_are_forgotten(f, frozen):
    frozen(T0)
    refusal("guess", "wrong-password", "10.1.1.1")
    frozen(T0 + timedelta(hours=2))
    refusal("guess", "wrong-password", "10.2.2.2")
    assert db.session.execute(select(LoginThrottle.address)).scalars().all() == ["10.2.2.2"]


def test_an_admin_reset_clears_the_wait(f, frozen):
    frozen(T0)
    admin, user = f.user("admin"), f.user()
    for _ in range(6):
        refusal(user.username, "wrong-password")
    services.set_password(admin, reload(user), "a-new-password-1")
    assert services.authenticate(user.username, "a-new-password-1", "10.0.0.3") == user
