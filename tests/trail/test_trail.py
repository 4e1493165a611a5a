"""The audit trail is append-only and hash-chained: any edit or removal is detected."""
from sqlalchemy import text

from portal.extensions import db
from portal.trail.models import TrailEntry
from portal.trail.services import verify_chain


def _some_history(f):
    doc = f.document()
    f.effective(doc)
    return doc


def test_intact_chain_verifies(f):
    _some_history(f)
    result = verify_chain()
    assert result.ok and result.checked == db.session.query(TrailEntry).count()


def test_edited_row_is_detected(f):
    _some_history(f)
    db.session.execute(text("UPDATE trail_entry SET reason = 'forged' WHERE seq = 3"))
    db.session.commit()
    result = verify_chain()
    assert not result.ok and result.broken_seq == 3


def test_removed_row_is_detected(f):
    _some_history(f)
    db.session.execute(text("DELETE FROM trail_entry WHERE seq = 2"))
    db.session.commit()
    result = verify_chain()
    assert not result.ok and result.broken_seq == 2


def test_truncated_tail_is_detected(f):
    _some_history(f)
    last = db.session.query(TrailEntry).order_by(TrailEntry.seq.desc()).first().seq
    db.session.execute(text(f"DELETE FROM trail_entry WHERE seq = {last}"))
    db.session.commit()
    assert not verify_chain().ok


def test_entries_record_who_what_before_after(f):
    doc = _some_history(f)
    entries = db.session.query(TrailEntry).filter_by(object_type="document", object_id=doc.id).all()
    create = entries[0]
    assert create.action == "document.create" and create.before is None
    assert create.after["code"] == doc.code and create.actor
    assert create.at.tzinfo is not None
