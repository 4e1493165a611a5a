"""Appending to and verifying the audit trail."""
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import insert, select

from portal import clock
from portal.extensions import db
from portal.trail.models import TrailEntry, TrailHead

GENESIS = "0" * 64


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str,
               object_type: str, object_id, before, after, reason) -> str:
    """SHA-256 over a canonical JSON form of the entry and its predecessor's hash."""
    payload = json.dumps(
        [prev_hash, seq, at.astimezone(timezone.utc).isoformat(timespec="microseconds"), actor, action, object_type,
         object_id, before, after, reason],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _lock_head() -> TrailHead:
    head = db.session.execute(
        select(TrailHead).where(TrailHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = TrailHead(id=1, seq=0, last_hash=GENESIS)
        db.session.add(head)
        db.session.flush()
    return head


def record(actor, action: str, object_type: str, object_id, before=None, after=None,
           reason: str | None = None) -> TrailEntry:
    """Append one entry inside the caller's transaction (the caller commits).

    `actor` is a User or a plain name such as "system".
    """
    actor_name = actor if isinstance(actor, str) else actor.username
    before, after = _jsonable(before), _jsonable(after)
    head = _lock_head()
    seq = head.seq + 1
    at = clock.now().astimezone(timezone.utc)
    digest = entry_hash(head.last_hash, seq, at, actor_name, action, object_type, object_id,
                        before, after, reason)
    entry = TrailEntry(seq=seq, at=at, actor=actor_name, action=action, object_type=object_type,
                       object_id=object_id, before=before, after=after, reason=reason,
                       prev_hash=head.last_hash, hash=digest)
    head.seq, head.last_hash = seq, digest
    db.session.add(entry)
    return entry


def record_many(actor, entries: list[tuple]) -> int:
    """Append entries (action, object_type, object_id, before, after, reason) inside the
    caller's transaction, chained as `record` chains them, with one lock of the head and one
    insert: a jobs round's thousand escalations would otherwise read the head and flush a
    thousand times."""
    if not entries:
        return 0
    actor_name = actor if isinstance(actor, str) else actor.username
    head = _lock_head()
    seq, prev = head.seq, head.last_hash
    at = clock.now().astimezone(timezone.utc)
    rows = []
    for action, object_type, object_id, before, after, reason in entries:
        before, after = _jsonable(before), _jsonable(after)
        seq += 1
        digest = entry_hash(prev, seq, at, actor_name, action, object_type, object_id, before, after, reason)
        rows.append({"seq": seq, "at": at, "actor": actor_name, "action": action, "object_type": object_type,
                     "object_id": object_id, "before": before, "after": after, "reason": reason,
                     "prev_hash": prev, "hash": digest})
        prev = digest
    db.session.execute(insert(TrailEntry), rows)
    head.seq, head.last_hash = seq, prev
    return len(rows)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""


def verify_chain(batch: int = 5000) -> VerifyResult:
    """Recompute every hash in order; report the first entry that does not fit."""
    prev, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = db.session.execute(
            select(TrailEntry).where(TrailEntry.seq > last_seq).order_by(TrailEntry.seq).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for e in rows:
            problem = _check_entry(e, prev, expected_seq)
            if problem:
                return VerifyResult(False, checked, min(e.seq, expected_seq), problem)
            prev, expected_seq, checked, last_seq = e.hash, e.seq + 1, checked + 1, e.seq
        db.session.expunge_all()
    head = db.session.get(TrailHead, 1)
    if head is not None and (head.seq != last_seq or head.last_hash != prev):
        return VerifyResult(False, checked, last_seq + 1, "entries missing after the last one")
    return VerifyResult(True, checked)


def _check_entry(e: TrailEntry, prev: str, expected_seq: int) -> str:
    if e.seq != expected_seq:
        return f"entry {expected_seq} is missing"
    if e.prev_hash != prev:
        return "previous-hash link broken"
    digest = entry_hash(prev, e.seq, e.at, e.actor, e.action, e.object_type, e.object_id,
                        e.before, e.after, e.reason)
    return "" if digest == e.hash else "content does not match its hash"


def entries_for(object_type: str | None = None, object_id: int | None = None):
    """A select() of trail entries, oldest first, optionally for one object."""
    query = select(TrailEntry).order_by(TrailEntry.seq)
    if object_type:
        query = query.where(TrailEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(TrailEntry.object_id == object_id)
    return query
