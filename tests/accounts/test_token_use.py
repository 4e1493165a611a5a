"""A token's last use is dated (issue 9 item 8), at most once a minute, in a transaction of its
own that survives the request's failure."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from portal.accounts.models import ApiToken
from portal.extensions import db

T0 = datetime(2026, 5, 6, 2, 0, tzinfo=timezone.utc)


def last_used(token_id: int):
    with db.engine.connect() as conn:  # what is committed
        return conn.execute(select(ApiToken.last_used_at).where(ApiToken.id == token_id)).scalar()


def test_last_use_is_written_coarsely(f, frozen):
    frozen(T0)
    api = f.api(f.user())
    token_id = db.session.execute(select(ApiToken.id)).scalar_one()
    assert last_used(token_id) is None
    assert api.get("/me").status_code == 200
    assert last_used(token_id) == T0
    frozen(T0 + timedelta(seconds=59))
    assert api.get("/me").status_code == 200
    assert last_used(token_id) == T0, "not on every request"
    frozen(T0 + timedelta(seconds=61))
    assert api.get("/me").status_code == 200
    assert last_used(token_id) == T0 + timedelta(seconds=61)


def test_last_use_is_kept_when_the_request_then_fails(f, frozen):
    frozen(T0)
    api = f.api(f.user())
    token_id = db.session.execute(select(ApiToken.id)).scalar_one()
    assert api.post("/departments", json={"code": "X1", "name": "部"}).status_code == 403
    assert last_used(token_id) == T0
