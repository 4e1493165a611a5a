"""JSON shape of a trail entry."""


def entry_json(e) -> dict:
    return {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
            "object_type": e.object_type, "object_id": e.object_id, "before": e.before,
            "after": e.after, "reason": e.reason, "hash": e.hash}
