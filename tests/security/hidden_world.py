"""A small portal holding marker words in things two readers must not see: the external
reviewer (certification-body reviewer) and a staff member of another department.

HIDDEN_FROM_BOTH: confidential documents and forms (title, body, change summary, code,
records' values, corrections, attachment names, void reasons) and a draft revision (change
summary, reason, body, the rejection comment). HIDDEN_FROM_REVIEWER: what every account but
the external reviewer sees: a superseded revision, a document never released, an obsolete
document and an obsolete form's records, an audit not yet reported with its finding, checklist
and corrective action.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from portal import clock
from portal.audit import services as audits
from portal.documents import distribution, workflow
from portal.documents import services as documents
from portal.extensions import db
from portal.records import services as records
from portal.search import evidence, indexer
from factories import PASSWORD

HIDDEN_FROM_BOTH = [
    "MKCONFTITLE", "MKCONFBODY", "MKCONFSUMMARY", "MKCONFCODE", "MKCONFFORMTITLE", "MKCONFFORMCODE",
    "MKCONFFIELD", "MKCONFRECVALUE", "MKCONFNEWVALUE", "MKCONFCORRECT", "MKCONFATTACH", "MKCONFVOID",
    "MKDRAFTSUMMARY", "MKDRAFTREASON", "MKDRAFTBODY", "MKREJECTCOMMENT", "MKCONFPROCTITLE", "MKCONFPROC",
    "MKCONFSTEP", "MKCONFRUN", "MKCONFCR", "MKCONFCOMPLAINT", "MKPLANNEDREVIEW",
]
HIDDEN_FROM_REVIEWER = [
    "MKSUPERSEDED", "MKNEVERRELEASED", "MKNEVERBODY", "MKOBSOLETEDOC", "MKOBSOLETEREASON",
    "MKOBSOLETEFORM", "MKOBSOLETEREC", "MKUNREPORTEDAUDIT", "MKUNREPORTEDFINDING",
    "MKUNREPORTEDACTION", "MKUNREPORTEDCHECK", "MKNEVERCR",
]
PROBE = "mkprobe"  # a word every hidden text holds, to search for
CLAUSE = "ISO 9001:2015 7.5.3"
FIELDS = [{"name": "customer", "label": "客户名称", "type": "text", "required": True}]


@dataclass
class World:
    users: dict
    ids: dict = field(default_factory=dict)  # kind → [ids]
    objects: dict = field(default_factory=dict)  # name → object


def _release(f, ctl, rev, day=None):
    f.approved(rev)
    workflow.release_revision(ctl, rev, {"effective_date": (day or clock.today()).isoformat()})
    return rev


def _form(f, ctl, author, code, title, dept, confidentiality="internal", label="客户名称"):
    form = documents.create_document(ctl, {"code": code, "title": title, "doc_type": "form",
                                           "department": dept, "confidentiality": confidentiality})
    fields = [{**FIELDS[0], "label": label}]
    rev = documents.start_revision(author, form, {"body_html": f"<h2>{code}</h2>", "change_summary": "首版发行",
                                                  "fields": fields})
    _release(f, ctl, rev)
    return form


def build(f, pdf: bytes) -> World:
    """Every object once, through the services, then the search index drained."""
    sec, qa, zb, ot = (f.department(code, name) for code, name in
                       (("SEC", "保密部"), ("QA", "质保部"), ("ZB", "审核部"), ("OT", "其他部")))
    ctl = f.user("controller", username="ctl", department="QA")
    secstaff = f.user("staff", username="secstaff", department="SEC")
    lead = f.user("auditor", username="leadaud", department="ZB")
    users = {"controller": ctl, "secstaff": secstaff, "lead": lead,
             "reviewer": f.user("external_reviewer", username="cbreviewer"),
             "outsider": f.user("staff", username="outsider", department="OT"),
             "auditor": f.user("auditor", username="otheraud", department="OT")}
    w = World(users=users)
    o = w.objects

    # A public procedure: A/0 superseded, A/1 effective, A/2 a rejected draft.
    pub = f.document(ctl, code="QP-PUB-01", title="公开程序", department="QA")
    o["pub_a0"] = f.effective(pub, controller=ctl, body=f"<p>MKSUPERSEDED {PROBE}</p>")
    o["pub_a1"] = f.effective(pub, controller=ctl, body="<p>现行版本正文</p>", summary="修订", reason="改进",
                              level="minor")
    draft = f.draft(pub, author=secstaff, body=f"<p>MKDRAFTBODY {PROBE}</p>", summary=f"MKDRAFTSUMMARY {PROBE}",
                    reason="MKDRAFTREASON", level="minor")
    _, (reviewer,), _ = f.submitted(draft)
    workflow.sign_revision(reviewer, draft, {"meaning": "review", "decision": "reject",
                                             "comment": f"MKREJECTCOMMENT {PROBE}", "password": PASSWORD})
    o["pub"], o["draft"] = pub, draft

    # A confidential document of SEC, effective, with a controlled copy for its department.
    conf = f.document(ctl, code="MKCONFCODE-01", title=f"MKCONFTITLE {PROBE}", department="SEC",
                      confidentiality="confidential")
    o["conf_rev"] = f.effective(conf, controller=ctl, body=f"<p>MKCONFBODY {PROBE}</p>",
                                summary=f"MKCONFSUMMARY {PROBE}")
    distribution.issue_copy(ctl, o["conf_rev"], {"holder": "SEC"})
    distribution.issue_copy(ctl, o["pub_a1"], {"holder": "OT"})
    o["conf"] = conf

    # Never released; released then made obsolete.
    never = f.document(ctl, code="QP-NEW-01", title=f"MKNEVERRELEASED {PROBE}", department="QA")
    f.draft(never, author=ctl, body=f"<p>MKNEVERBODY {PROBE}</p>")
    old = f.document(ctl, code="QP-OLD-01", title=f"MKOBSOLETEDOC {PROBE}", department="QA")
    f.effective(old, controller=ctl, body="<p>旧程序</p>")
    workflow.obsolete_document(ctl, old, {"reason": f"MKOBSOLETEREASON {PROBE}"})
    # Change requests are seen with their document: the confidential one's, the unreleased one's.
    from portal.change_requests import services as change_requests

    for author, doc, marker in ((secstaff, conf, "MKCONFCR"), (ctl, never, "MKNEVERCR")):
        change_requests.raise_request(author, doc, {"reason": f"{marker} {PROBE}", "change_level": "minor",
                                                    "proposed_change": f"{marker} {PROBE}"})

    # Forms: a confidential one with corrected, attached and voided records; an obsolete one; a public one.
    cform = _form(f, ctl, secstaff, "MKCONFFORMCODE", f"MKCONFFORMTITLE {PROBE}", "SEC", "confidential",
                  label="MKCONFFIELD")
    rec = records.issue_record(secstaff, cform, {"data": {"customer": f"MKCONFRECVALUE {PROBE}"}})
    records.correct_record(secstaff, rec, {"data": {"customer": f"MKCONFNEWVALUE {PROBE}"},
                                           "reason": f"MKCONFCORRECT {PROBE}"})
    records.attach_file(secstaff, rec, pdf, "MKCONFATTACH.pdf", 10_000_000)
    voided = records.issue_record(secstaff, cform, {"data": {"customer": "作废的记录"}})
    records.void_record(ctl, voided, {"reason": f"MKCONFVOID {PROBE}"})
    oform = _form(f, ctl, ctl, "QR-OLD-01", f"MKOBSOLETEFORM {PROBE}", "QA")
    records.issue_record(ctl, oform, {"data": {"customer": f"MKOBSOLETEREC {PROBE}"}})
    workflow.obsolete_document(ctl, oform, {"reason": "停用"})
    pform = _form(f, ctl, ctl, "QR-PUB-01", "公开表单", "QA")
    o["public_record"] = records.issue_record(ctl, pform, {"data": {"customer": "公开客户"}})
    o["conf_record"], o["cform"] = rec, cform

    # A reported audit whose finding cites the confidential document and record (and the
    # public revision), with frozen search evidence about the confidential document.
    start = clock.today() - timedelta(days=10)
    plan = {"planned_start": start.isoformat(), "planned_end": (start + timedelta(days=1)).isoformat(),
            "departments": ["SEC"], "clauses": [CLAUSE], "lead_auditor": lead.username, "team": []}
    reported = audits.create_audit(lead, {**plan, "title": "已报告的审核"})
    audits.advance_audit(lead, reported, "start")
    o["finding"] = audits.raise_finding(ctl, reported, {
        "classification": "minor", "clause": CLAUSE, "department": "SEC", "statement": "文件发放记录不全",
        "evidence": [{"kind": "document", "id": conf.id}, {"kind": "record", "id": rec.id},
                     {"kind": "revision", "id": o["pub_a1"].id}]})
    audits.open_action(lead, o["finding"], {"owner": secstaff.username,
                                            "due_date": (clock.today() + timedelta(days=30)).isoformat(),
                                            "plan": "补全发放记录"})
    audits.advance_audit(lead, reported, "report", {"summary": "审核总结", "conclusion": "基本符合"})
    indexer.drain_outbox()
    evidence.freeze_search(ctl, {"q": "MKCONFTITLE", "note": f"MKCONFTITLE {PROBE}",
                                 "finding_id": o["finding"].id})

    # An audit still in progress: hidden from the external reviewer only.
    running = audits.create_audit(lead, {**plan, "title": f"MKUNREPORTEDAUDIT {PROBE}"})
    audits.advance_audit(lead, running, "start")
    audits.add_checklist_item(lead, running, {"clause": CLAUSE, "department": "SEC",
                                              "question": f"MKUNREPORTEDCHECK {PROBE}"})
    hidden_finding = audits.raise_finding(lead, running, {
        "classification": "minor", "clause": CLAUSE, "department": "SEC",
        "statement": f"MKUNREPORTEDFINDING {PROBE}",
        "evidence": [{"kind": "revision", "id": o["pub_a1"].id}]})
    audits.open_action(lead, hidden_finding, {"owner": secstaff.username,
                                              "due_date": (clock.today() + timedelta(days=30)).isoformat(),
                                              "plan": f"MKUNREPORTEDACTION {PROBE}"})
    # A confidential procedure of SEC and a run of it; a public procedure's run; an objective.
    from portal.objectives import services as objectives
    from portal.procedures import services as runs

    cproc = f.document(ctl, code="MKCONFPROC-01", title=f"MKCONFPROCTITLE {PROBE}", department="SEC",
                       confidentiality="confidential", doc_type="procedure")
    crev = f.draft(cproc, author=ctl, body="<p>流程</p>")
    crev.steps = [{"name": f"MKCONFSTEP {PROBE}", "form_id": None, "role": None, "department": None,
                   "due_hours": 24, "escalate_to": "manager"}]
    _release(f, ctl, crev)
    runs.start_run(secstaff, cproc, {"subject": f"MKCONFRUN {PROBE}", "department": "SEC"})
    pproc = f.document(ctl, code="QP-RUN-01", title="公开流程", department="QA", doc_type="procedure")
    prev = f.draft(pproc, author=ctl, body="<p>流程</p>")
    prev.steps = [{"name": "受理", "form_id": None, "role": None, "department": None, "due_hours": 24,
                   "escalate_to": "manager"}]
    _release(f, ctl, prev)
    runs.start_run(ctl, pproc, {"subject": "公开的报修", "department": "QA"})
    objectives.create_objective(ctl, {"name": "公开表单记录数", "target": 1, "comparison": ">=", "unit": "count",
                                      "frequency": "month", "measure": {"kind": "count", "form_id": pform.id}})
    _management_reviews(f, ctl, secstaff, lead)
    indexer.drain_outbox()
    db.session.commit()
    w.ids = _all_ids()
    return w


def _management_reviews(f, ctl, secstaff, lead) -> None:
    """A planned review (its participants and controllers see it) and a closed one (everyone
    reads it) whose inputs count a confidential complaint form without naming it."""
    from portal.management_review import services as reviews

    complaints = _form(f, ctl, secstaff, "MKCONFCOMPLAINT", f"MKCONFCOMPLAINT 客户投诉 {PROBE}", "SEC",
                       "confidential")
    records.issue_record(secstaff, complaints, {"data": {"customer": "投诉客户"}})
    plan = {"period_from": (clock.today() - timedelta(days=30)).isoformat(), "period_to": clock.today().isoformat(),
            "meeting_date": clock.today().isoformat(), "chair": ctl.username, "members": [lead.username]}
    reviews.create_review(ctl, {**plan, "title": f"MKPLANNEDREVIEW {PROBE}"})
    closed = reviews.create_review(ctl, {**plan, "title": "已批准的管理评审"})
    reviews.hold_review(ctl, closed)
    reviews.approve_review(ctl, closed, {"conclusion": {"suitable": True, "adequate": True, "effective": True},
                                         "summary": "体系有效", "password": PASSWORD})


def _all_ids() -> dict:
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.audit.models import Audit, AuditChecklistItem, CorrectiveAction, Finding
    from portal.change_requests.models import ChangeRequest
    from portal.documents.models import ControlledCopy, Document, Revision
    from portal.management_review.models import ManagementReview
    from portal.objectives.models import Objective
    from portal.procedures.models import ProcedureRun
    from portal.records.models import Attachment, Record
    from portal.search.models import Evidence

    models = {"document": Document, "revision": Revision, "record": Record, "attachment": Attachment,
              "copy": ControlledCopy, "audit": Audit, "finding": Finding, "action": CorrectiveAction,
              "checklist": AuditChecklistItem, "evidence": Evidence, "run": ProcedureRun,
              "objective": Objective, "change_request": ChangeRequest, "management_review": ManagementReview,
              "user": User}
    return {kind: list(db.session.execute(select(model.id).order_by(model.id)).scalars())
            for kind, model in models.items()}
