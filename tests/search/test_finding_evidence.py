"""A finding's index document shows its evidence as codes, and only the codes every reader of
the finding may see (builders.py): a hidden object's code or id never finds the finding, so a
search cannot confirm that the hidden object exists."""
from datetime import timedelta

import pytest

from portal import clock
from portal.audit import services as audits
from portal.documents import services as documents
from portal.search.schema import SCHEMA_VERSION

CLAUSE = "ISO 9001:2015 7.5.3"


@pytest.fixture(autouse=True)
def audited(f):
    return f.department("SEC", "保密部")


def _finding(f, controller, evidence, report=False):
    lead = f.user("auditor", department=f.department("ZB", "审核部").code)
    start = clock.today() - timedelta(days=3)
    audit = audits.create_audit(lead, {"title": "内审", "planned_start": start.isoformat(),
                                       "planned_end": start.isoformat(), "departments": ["SEC"],
                                       "clauses": [CLAUSE], "lead_auditor": lead.username})
    audits.advance_audit(lead, audit, "start")
    finding = audits.raise_finding(controller, audit, {"classification": "observation", "clause": CLAUSE,
                                                       "department": "SEC", "statement": "发放记录不全",
                                                       "evidence": evidence})
    if report:
        audits.advance_audit(lead, audit, "report", {"summary": "总结"})
    return finding


def _finding_hits(find, user, q):
    return [h for h in find(user, q, state="any")["hits"] if h["kind"] == "finding"]


def test_hidden_evidence_neither_found_nor_shown(f, controller, doc, form, record, drain, find):
    public = doc(title="公开程序", code="QP-OPEN-01")
    secret = doc(title="保密程序", code="QP-HIDE-01", confidentiality="confidential", department="SEC")
    rec = record(form(code="QR-HIDE-01", confidentiality="confidential", department="SEC"))
    finding = _finding(f, controller, [{"kind": "document", "id": secret.document_id},
                                       {"kind": "record", "id": rec.id},
                                       {"kind": "revision", "id": public.id}])
    drain()
    outsider = f.user("staff")
    for q in (f"document:{secret.document_id}", str(secret.document_id), "QP-HIDE-01", f"record:{rec.id}",
              rec.number):
        assert _finding_hits(find, outsider, q) == [], q
        assert _finding_hits(find, controller, q) == [], q  # one index for all: the code is not in it
    hits = _finding_hits(find, outsider, "QP-OPEN-01")
    assert [h["id"] for h in hits] == [finding.id]
    assert "QP-HIDE-01" not in hits[0]["snippet"] and "document:" not in hits[0]["snippet"]


def test_evidence_made_confidential_later_leaves_the_findings_index(f, controller, doc, drain, find):
    """The finding is re-indexed when the document it cites changes (builders.expand)."""
    public = doc(title="公开程序", code="QP-LATER-01")
    finding = _finding(f, controller, [{"kind": "document", "id": public.document_id}])
    drain()
    outsider = f.user("staff")
    assert [h["id"] for h in _finding_hits(find, outsider, "QP-LATER-01")] == [finding.id]
    documents.update_document(controller, public.document, {"confidentiality": "confidential",
                                                            "department": "SEC"})
    drain()
    assert _finding_hits(find, outsider, "QP-LATER-01") == []


def test_a_reported_findings_evidence_as_the_external_reviewer_sees_it(f, controller, doc, new_effective,
                                                                         drain, find):
    """Once reported, the certification-body reviewer reads the finding: only what they may see
    (an effective revision, not a superseded one) is indexed with it."""
    first = doc(title="公开程序", code="QP-OLDREV-01")
    current = new_effective(first.document, "第二版")
    finding = _finding(f, controller, [{"kind": "revision", "id": first.id},
                                       {"kind": "revision", "id": current.id}], report=True)
    drain()
    reviewer = f.user("external_reviewer")
    hits = _finding_hits(find, reviewer, "QP-OLDREV-01")
    assert [h["id"] for h in hits] == [finding.id]
    assert current.label in hits[0]["snippet"] and f"QP-OLDREV-01 {first.label}" not in hits[0]["snippet"]


def test_the_schema_version_says_the_index_needs_a_rebuild():
    assert SCHEMA_VERSION == "3"
