"""The demo holds a change request implemented as a revision (issue 11 "Done when"), raised from
the first audit's corrective action, plus one open and one rejected, all through the services."""
import pytest
from sqlalchemy import select

from portal.change_requests.models import ChangeRequest
from portal.extensions import db
from portal.trail.services import verify_chain


@pytest.fixture(autouse=True)
def now():  # the demo replays its own history from the real day it is loaded
    return None


def test_the_demo_implements_a_change_request_raised_from_an_action(app):
    from portal.demo.loader import load_demo

    load_demo()
    db.session.rollback()
    requests = {cr.state: cr for cr in db.session.execute(select(ChangeRequest)).scalars()}
    assert set(requests) == {"implemented", "open", "rejected"}
    done = requests["implemented"]
    assert done.number.startswith("CR-2026-") and done.action is not None
    rev = done.revision
    assert rev.state == "effective" and rev.change_reason == done.reason and rev.document.current_revision_id == rev.id
    assert rev.body_html != rev.document.revisions[0].body_html  # the draft was really rewritten
    assert requests["rejected"].decision_comment
    assert verify_chain().ok
