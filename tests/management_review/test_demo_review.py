"""`portal demo` holds one management review, held and approved, whose frozen inputs come from
the demo's audits, runs and records."""
from sqlalchemy import select

from portal.extensions import db
from portal.management_review import inputs
from portal.management_review.models import ManagementReview
from portal.trail.models import TrailEntry


def test_demo_has_a_held_and_approved_review(cli):
    assert cli("demo", "--no-serve").exit_code == 0
    db.session.rollback()
    review = db.session.execute(select(ManagementReview)).scalar_one()
    assert review.state == "closed" and review.chair.username == "chenjianhua"
    assert {"zhaoguoqiang", "sunli"} <= {u.username for u in review.members}
    assert review.conclusion == {"suitable": True, "adequate": True, "effective": True} and review.summary
    assert review.retain_until is not None and review.held_at < review.approved_at
    data = review.inputs
    assert review.inputs_sha256 == inputs.sha256_of(data)
    assert "IA-2026-001" in [a["number"] for a in data["audits"]]
    # the complaint runs' 客户投诉处理报告单 and the five objectives measured from runs and records
    assert data["complaints"]["total"] > 0 and data["complaints"]["forms"][0]["code"] == "QR-YX003"
    assert len(data["objectives"]) == 5 and all(o["denominator"] > 0 for o in data["objectives"])
    # the chair's summary quotes the frozen numbers
    assert f"顾客投诉 {data['complaints']['total']} 起" in review.summary
    states = sorted(o.state for o in review.outputs)
    assert len(states) == 3 and states.count("completed") == 1
    actions = list(db.session.execute(select(TrailEntry.action).where(
        TrailEntry.object_type == "management_review", TrailEntry.object_id == review.id)
        .order_by(TrailEntry.seq)).scalars())
    assert actions == ["management_review.create", "management_review.hold"] + ["management_review.output_add"] * 3 \
        + ["management_review.approve", "management_review.output_complete"]
    db.session.rollback()
    assert cli("verify-trail").exit_code == 0
