"""Usernames are one name whatever the case (issue 9 item 25): kept as typed, compared
case-insensitively, and the database refuses a case variant even past the service."""
import pytest
from sqlalchemy.exc import IntegrityError

from portal.accounts import services
from portal.accounts.models import User
from portal.errors import Conflict
from portal.extensions import db
from factories import PASSWORD


def test_a_case_variant_of_a_taken_name_is_refused(f):
    f.user("admin", username="admin")
    for variant in ("Admin", "ADMIN", "aDmIn"):
        with pytest.raises(Conflict) as exc:
            services.create_user("test", variant, PASSWORD, "staff", f.department().code)
        assert exc.value.code == "duplicate_user"
    assert db.session.query(User).count() == 1


def test_names_are_kept_as_typed_and_found_in_any_case(f, browser):
    user = f.user(username="ZhangWei")
    assert user.username == "ZhangWei"
    assert services.user_by_username("zhangwei") is user
    assert services.authenticate("ZHANGWEI", PASSWORD, "10.0.0.1") is user
    assert browser().sign_in("zhangWEI").status_code == 302


def test_the_database_refuses_a_case_variant(f):
    f.user(username="qp_admin")
    db.session.add(User(username="QP_Admin", display_name="x", password_hash="x", role="staff"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
