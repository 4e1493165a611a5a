"""Account rules: unique names, known departments, hashing, throttling, tokens."""
from datetime import date, datetime, timezone

import pytest

from portal.accounts import services
from portal.accounts.models import User
from portal.errors import Conflict, NotAuthenticated, ValidationFailed
from portal.extensions import db
from factories import PASSWORD


def test_passwords_are_stored_with_argon2id(f):
    user = f.user()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_duplicate_username_and_unknown_department_are_refused(f):
    user = f.user()
    with pytest.raises(Conflict):
        services.create_user("test", user.username, PASSWORD, "staff", user.department_code)
    with pytest.raises(ValidationFailed) as exc:
        services.create_user("test", "newbie", PASSWORD, "staff", "NOPE")
    assert exc.value.code == "unknown_department"
    with pytest.raises(ValidationFailed):
        services.create_user("test", "newbie", PASSWORD, "superuser")
    assert db.session.query(User).filter_by(username="newbie").count() == 0


def test_department_codes_are_pinyin_capitals_and_unique(f):
    services.create_department("test", "SH", "售后服务部")
    with pytest.raises(Conflict):
        services.create_department("test", "SH", "另一个")
    with pytest.raises(ValidationFailed):
        services.create_department("test", "售后", "售后服务部")


def test_login_locks_after_repeated_failures(f):
    user = f.user()
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            services.authenticate(user.username, "wrong")
    with pytest.raises(NotAuthenticated):
        services.authenticate(user.username, PASSWORD)  # the right password waits too
    assert db.session.get(User, user.id).locked_until is not None


def test_deactivated_and_expired_accounts_cannot_log_in(f, frozen):
    admin = f.user("admin")
    user = f.user()
    services.update_user(admin, user, active=False)
    with pytest.raises(NotAuthenticated):
        services.authenticate(user.username, PASSWORD)
    frozen(datetime(2026, 6, 1, tzinfo=timezone.utc))
    guest = f.user("external_reviewer", expires=date(2026, 6, 30))
    assert services.authenticate(guest.username, PASSWORD) is guest
    frozen(datetime(2026, 7, 1, 4, tzinfo=timezone.utc))
    with pytest.raises(NotAuthenticated):
        services.authenticate(guest.username, PASSWORD)


def test_tokens_are_hashed_revocable_and_die_with_the_account(f):
    admin = f.user("admin")
    user = f.user()
    token = services.create_token("test", user)
    assert services.user_for_token(token) is user
    from portal.accounts.models import ApiToken

    row = db.session.query(ApiToken).one()
    assert token not in row.token_hash and len(row.token_hash) == 64
    services.revoke_token(user, row.id)
    with pytest.raises(NotAuthenticated):
        services.user_for_token(token)
    second = services.create_token("test", user)
    services.update_user(admin, user, active=False)
    with pytest.raises(NotAuthenticated):
        services.user_for_token(second)


def test_expired_token_is_refused(f, frozen):
    user = f.user()
    frozen(datetime(2026, 1, 1, tzinfo=timezone.utc))
    token = services.create_token("test", user, expires_at=datetime(2026, 1, 2, tzinfo=timezone.utc))
    assert services.user_for_token(token) is user
    frozen(datetime(2026, 1, 2, 0, 0, 1, tzinfo=timezone.utc))
    with pytest.raises(NotAuthenticated) as exc:
        services.user_for_token(token)
    assert exc.value.code == "token_expired"


def test_admin_cannot_deactivate_self(f):
    admin = f.user("admin")
    with pytest.raises(Conflict):
        services.update_user(admin, admin, active=False)
    assert admin.active
