"""Read-only accounts are refused by the services themselves, not only by the request hooks
(issue 9, "Also"): issuing and revoking tokens, marking notifications read."""
import pytest
from sqlalchemy import func, select

from portal.accounts import services
from portal.accounts.models import ApiToken
from portal.errors import NotAllowed
from portal.extensions import db
from portal.notifications import services as notifications
from portal.notifications.models import Notification


def test_a_read_only_account_cannot_issue_or_revoke_tokens(f):
    reviewer, admin = f.user("external_reviewer"), f.user("admin")
    with pytest.raises(NotAllowed) as exc:
        services.create_token(reviewer, reviewer)
    assert exc.value.code == "read_only"
    services.create_token(admin, reviewer)  # an admin may still issue the reviewer's token
    row = db.session.execute(select(ApiToken)).scalar_one()
    with pytest.raises(NotAllowed):
        services.revoke_token(reviewer, row.id)
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(ApiToken)).scalar() == 1
    assert db.session.get(ApiToken, row.id).revoked_at is None


def test_a_read_only_account_cannot_mark_notifications_read(f):
    reviewer = f.user("external_reviewer")
    notifications.notify([reviewer], "review_due", "请查阅")
    db.session.commit()
    note = db.session.execute(select(Notification)).scalar_one()
    with pytest.raises(NotAllowed):
        notifications.mark_read(reviewer, note.id)
    db.session.rollback()
    assert db.session.get(Notification, note.id).read_at is None
