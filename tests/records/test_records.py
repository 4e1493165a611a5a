"""Issuing records, validating their data, corrections (划改), closing and voiding — through the
JSON API (CONTRACT.md "Forms and numbered records"), plus `portal load-forms`."""
import io
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import portal.cli
from portal import clock
from portal.documents import services as documents
from portal.documents import workflow
from portal.documents.models import Document, Revision
from portal.extensions import db
from portal.records.models import Record, RecordCorrection

RECORD_KEYS = {"id", "number", "form_id", "form_code", "revision_label", "status", "data",
               "created_by", "created_at", "retain_until"}


def trail_for(f, controller, record_id):
    response = f.api(controller).get(f"/trail?object_type=record&object_id={record_id}&per_page=100")
    assert response.status_code == 200
    return response.get_json()["items"]


# --- issuing -------------------------------------------------------------------------------

def test_issue_answers_201_with_the_contract_shape(f, effective_form, api, author, kit):
    form = effective_form(code="QR-SH011")
    response = api.post(f"/documents/{form.id}/records", json={"data": kit.GOOD_DATA})
    assert response.status_code == 201
    body = response.get_json()
    assert RECORD_KEYS <= set(body)
    assert body["form_id"] == form.id and body["form_code"] == "QR-SH011"
    assert body["revision_label"] == "A/0" and body["status"] == "open"
    assert body["created_by"] == author.username
    assert body["data"] == kit.GOOD_DATA
    assert api.get(f"/records/{body['id']}").get_json()["number"] == body["number"]


def test_only_a_form_with_an_effective_revision_issues_records(f, draft_form, effective_form, api, controller, kit):
    draft, _rev = draft_form()
    response = api.post(f"/documents/{draft.id}/records", json={"data": kit.GOOD_DATA})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"]

    form = effective_form()
    workflow.obsolete_document(controller, form, {"reason": "表单停用"})
    response = api.post(f"/documents/{form.id}/records", json={"data": kit.GOOD_DATA})
    assert response.status_code == 409
    assert db.session.execute(select(func.count()).select_from(Record)).scalar() == 0


def test_a_form_whose_first_revision_is_only_approved_or_released_later_is_409(
        f, draft_form, controller, api, kit):
    form, rev = draft_form()
    f.approved(rev)
    assert api.post(f"/documents/{form.id}/records", json={"data": kit.GOOD_DATA}).status_code == 409
    later = (clock.today() + timedelta(days=3)).isoformat()
    workflow.release_revision(controller, rev, {"effective_date": later})
    assert api.post(f"/documents/{form.id}/records", json={"data": kit.GOOD_DATA}).status_code == 409


def test_a_non_form_document_issues_no_records(f, api, kit):
    doc = f.document(doc_type="procedure")
    f.effective(doc)
    response = api.post(f"/documents/{doc.id}/records", json={"data": kit.GOOD_DATA})
    assert response.status_code in (404, 409)
    assert response.is_json


def test_unknown_form_is_404(api, kit):
    assert api.post("/documents/999999/records", json={"data": kit.GOOD_DATA}).status_code == 404


def test_records_keep_the_revision_they_were_issued_on(f, effective_form, new_revision, controller, api, issue, kit):
    form = effective_form()
    old = issue(api, form)
    assert old["revision_label"] == "A/0"
    # A draft A/1 in progress changes nothing: records still come from A/0.
    fields = kit.FIELDS + [{"name": "phone", "label": "联系电话", "type": "text"}]
    rev = documents.start_revision(controller, form, {"body_html": "<p>x</p>", "change_summary": "加电话",
                                                      "change_reason": "顾客要求", "fields": fields})
    assert rev.label == "A/1"
    during = issue(api, form)
    assert during["revision_label"] == "A/0"
    refused = api.post(f"/documents/{form.id}/records", json={"data": {**kit.GOOD_DATA, "phone": "1"}})
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"]["phone"] == "unknown field"
    # Release A/1.
    f.approved(rev)
    workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
    new = issue(api, form, data={**kit.GOOD_DATA, "phone": "021-5555"})
    assert new["revision_label"] == "A/1" and new["data"]["phone"] == "021-5555"
    assert api.get(f"/records/{old['id']}").get_json()["revision_label"] == "A/0"
    assert api.get(f"/records/{during['id']}").get_json()["revision_label"] == "A/0"
    assert db.session.get(Record, old["id"]).revision.label == "A/0"
    # The old record is still validated against A/0's fields when corrected.
    fix = api.patch(f"/records/{old['id']}", json={"data": {"phone": "1"}, "reason": "补充"})
    assert fix.status_code == 422


def test_major_revision_label(f, effective_form, new_revision, api, issue):
    form = effective_form()
    new_revision(form, level="major")
    assert issue(api, form)["revision_label"] == "B/0"


# --- validation ----------------------------------------------------------------------------

BAD_VALUES = [
    ({"customer": None}, "customer", "required"),
    ({"customer": ""}, "customer", "required"),
    ({"customer": 123}, "customer", None),
    ({"qty": "three"}, "qty", None),
    ({"qty": True}, "qty", None),
    ({"qty": [1]}, "qty", None),
    ({"visit_date": "2026-02-30"}, "visit_date", None),
    ({"visit_date": "05/11/2026"}, "visit_date", None),
    ({"visit_date": 20261105}, "visit_date", None),
    ({"result": "也许"}, "result", None),
    ({"result": ["合格"]}, "result", None),
    ({"confirmed": "yes"}, "confirmed", None),
    ({"notes": "长" * 1_000_000}, "notes", None),
    ({"customer": "x" * 1_000_000}, "customer", None),
    ({"parts": "接触器"}, "parts", None),
    ({"parts": [{"part": "接触器", "count": "一个"}]}, "parts", None),
    ({"parts": [{"count": 1}]}, "parts", None),
    ({"parts": [{"part": "接触器", "colour": "red"}]}, "parts", None),
    ({"parts": ["接触器"]}, "parts", None),
    ({"surprise": 1}, "surprise", "unknown field"),
]


@pytest.mark.parametrize("change,field,message", BAD_VALUES)
def test_invalid_data_is_422_with_a_message_for_the_field(f, effective_form, api, kit, change, field, message):
    form = effective_form()
    response = api.post(f"/documents/{form.id}/records", json={"data": {**kit.GOOD_DATA, **change}})
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert field in error["fields"], error
    assert isinstance(error["fields"][field], str) and error["fields"][field]
    if message:
        assert error["fields"][field] == message
    assert set(error["fields"]) == {field}, error["fields"]  # only the bad field is named
    assert db.session.execute(select(func.count()).select_from(Record)).scalar() == 0


def test_bad_table_row_names_the_row_and_the_column(f, effective_form, api, kit):
    form = effective_form()
    data = {**kit.GOOD_DATA, "parts": [{"part": "接触器", "count": 1}, {"part": "熔断器", "count": "两个"}]}
    message = api.post(f"/documents/{form.id}/records", json={"data": data}).get_json()["error"]["fields"]["parts"]
    assert "2" in message and "count" in message


def test_every_bad_field_is_reported_at_once(f, effective_form, api):
    form = effective_form()
    response = api.post(f"/documents/{form.id}/records", json={"data": {
        "qty": "x", "visit_date": "tomorrow", "result": "?", "confirmed": 1, "extra": 1}})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {
        "customer", "qty", "visit_date", "result", "confirmed", "extra"}


@pytest.mark.parametrize("payload", [{"data": "customer=x"}, {"data": ["x"]}, {"data": None}])
def test_data_must_be_an_object(f, effective_form, api, payload):
    form = effective_form()
    response = api.post(f"/documents/{form.id}/records", json=payload)
    assert response.status_code in (400, 422)
    assert response.get_json()["error"]


def test_malformed_bodies_are_400_not_500(f, effective_form, api):
    form = effective_form()
    assert api.post(f"/documents/{form.id}/records", data="{not json",
                    headers={"Content-Type": "application/json"}).status_code == 400
    assert api.post(f"/documents/{form.id}/records", json=[1, 2]).status_code == 400
    assert api.post(f"/documents/{form.id}/records", json={"data": {"customer": "a\x00b"}}).status_code == 400


def test_optional_fields_may_be_left_out_and_numbers_stay_numbers(f, effective_form, api, issue):
    form = effective_form()
    body = issue(api, form, data={"customer": "甲", "qty": 2.5, "confirmed": False, "parts": []})
    assert body["data"]["customer"] == "甲"
    assert body["data"]["qty"] == 2.5
    assert "notes" not in body["data"] or body["data"]["notes"] in (None, "")


def test_hostile_html_is_kept_as_text(f, effective_form, api, issue):
    form = effective_form()
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    body = issue(api, form, data={"customer": hostile, "notes": "<b>粗体</b> & <a href='javascript:x'>y</a>"})
    again = api.get(f"/records/{body['id']}").get_json()
    assert again["data"]["customer"] == hostile
    assert again["data"]["notes"] == "<b>粗体</b> & <a href='javascript:x'>y</a>"


# --- corrections (划改) -----------------------------------------------------------------------

def test_a_correction_keeps_old_value_new_value_who_when_why(f, effective_form, api, author, controller, issue):
    form = effective_form()
    rec = issue(api, form)
    response = api.patch(f"/records/{rec['id']}", json={"data": {"qty": 3, "result": "不合格"},
                                                       "reason": "数量抄错"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["data"]["qty"] == 3 and body["data"]["result"] == "不合格"
    assert body["data"]["customer"] == rec["data"]["customer"]  # untouched fields stay
    by_field = {c["field"]: c for c in body["corrections"]}
    assert by_field["qty"]["old_value"] == 2 and by_field["qty"]["new_value"] == 3
    assert by_field["result"]["old_value"] == "合格" and by_field["result"]["new_value"] == "不合格"
    for c in by_field.values():
        assert c["by"] == author.username and c["reason"] == "数量抄错" and c["at"]
    # A second correction of the same field keeps the whole history.
    api.patch(f"/records/{rec['id']}", json={"data": {"qty": 4}, "reason": "再次核对"})
    qty_history = [(c["old_value"], c["new_value"], c["reason"])
                   for c in api.get(f"/records/{rec['id']}").get_json()["corrections"] if c["field"] == "qty"]
    assert qty_history == [(2, 3, "数量抄错"), (3, 4, "再次核对")]
    # The trail has every change with its reason.
    entries = trail_for(f, controller, rec["id"])
    corrections = [e for e in entries if e["action"] == "record.correct"]
    assert len(corrections) == 2
    assert corrections[0]["before"]["qty"] == 2 and corrections[0]["after"]["qty"] == 3
    assert corrections[0]["reason"] == "数量抄错" and corrections[0]["actor"] == author.username
    assert corrections[1]["before"]["qty"] == 3 and corrections[1]["after"]["qty"] == 4


def test_clearing_an_optional_field_is_a_correction(f, effective_form, api, issue):
    form = effective_form()
    rec = issue(api, form)
    body = api.patch(f"/records/{rec['id']}", json={"data": {"notes": ""}, "reason": "误填"}).get_json()
    assert "notes" not in body["data"] or body["data"]["notes"] in (None, "")
    assert [(c["field"], c["old_value"], c["new_value"]) for c in body["corrections"]] == [
        ("notes", "现场更换接触器", None)]


@pytest.mark.parametrize("payload,field", [
    ({"data": {"qty": 5}}, "reason"),
    ({"data": {"qty": 5}, "reason": ""}, "reason"),
    ({"data": {"qty": 5}, "reason": "   "}, "reason"),
    ({"reason": "x"}, "data"),
    ({"data": {}, "reason": "x"}, "data"),
    ({"data": {"qty": "five"}, "reason": "x"}, "qty"),
    ({"data": {"customer": ""}, "reason": "x"}, "customer"),
    ({"data": {"result": "也许"}, "reason": "x"}, "result"),
    ({"data": {"nope": 1}, "reason": "x"}, "nope"),
    ({"data": {"qty": 2}, "reason": "x"}, "data"),  # nothing would change
])
def test_bad_corrections_are_422(f, effective_form, api, issue, payload, field):
    form = effective_form()
    rec = issue(api, form)
    response = api.patch(f"/records/{rec['id']}", json=payload)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    after = api.get(f"/records/{rec['id']}").get_json()
    assert after["data"] == rec["data"] and after["corrections"] == []


def test_only_the_author_or_a_controller_corrects(f, effective_form, api, issue, controller):
    form = effective_form()
    rec = issue(api, form)
    other = f.api(f.user("staff", department=controller.department_code))
    assert other.patch(f"/records/{rec['id']}", json={"data": {"qty": 9}, "reason": "x"}).status_code == 403
    response = f.api(controller).patch(f"/records/{rec['id']}", json={"data": {"qty": 9}, "reason": "文控更正"})
    assert response.status_code == 200
    assert response.get_json()["corrections"][0]["by"] == controller.username


def test_external_reviewer_can_read_but_not_write(f, effective_form, api, issue):
    form = effective_form()
    rec = issue(api, form)
    reviewer = f.api(f.user("external_reviewer"))
    assert reviewer.get(f"/records/{rec['id']}").status_code == 200
    assert reviewer.post(f"/documents/{form.id}/records", json={"data": {"customer": "x"}}).status_code == 403
    assert reviewer.patch(f"/records/{rec['id']}", json={"data": {"qty": 1}, "reason": "x"}).status_code == 403
    assert reviewer.post(f"/records/{rec['id']}/close").status_code == 403


# --- closing and voiding ----------------------------------------------------------------------

def test_author_closes_and_then_nothing_changes(f, effective_form, api, issue, controller, kit):
    form = effective_form()
    rec = issue(api, form)
    response = api.post(f"/records/{rec['id']}/close")
    assert response.status_code == 200
    assert response.get_json()["status"] == "closed" and response.get_json()["closed_at"]
    assert api.patch(f"/records/{rec['id']}", json={"data": {"qty": 7}, "reason": "x"}).status_code == 409
    assert f.api(controller).patch(f"/records/{rec['id']}", json={"data": {"qty": 7}, "reason": "x"}).status_code == 409
    assert api.post(f"/records/{rec['id']}/close").status_code == 409
    upload = api.post(f"/records/{rec['id']}/attachments",
                      data={"file": (io.BytesIO(kit.pdf()), "report.pdf")},
                      content_type="multipart/form-data")
    assert upload.status_code == 409
    assert api.get(f"/records/{rec['id']}").get_json()["data"] == rec["data"]


def test_only_the_author_or_a_controller_closes(f, effective_form, api, issue, controller):
    form = effective_form()
    first, second = issue(api, form), issue(api, form)
    other = f.api(f.user("staff", department=controller.department_code))
    assert other.post(f"/records/{first['id']}/close").status_code == 403
    assert f.api(f.user("approver")).post(f"/records/{first['id']}/close").status_code == 403
    assert f.api(controller).post(f"/records/{second['id']}/close").status_code == 200


def test_void_by_a_controller_with_a_reason(f, effective_form, api, issue, controller):
    form = effective_form()
    rec = issue(api, form)
    boss = f.api(controller)
    assert api.post(f"/records/{rec['id']}/void", json={"reason": "我填错了"}).status_code == 403
    assert f.api(f.user("approver")).post(f"/records/{rec['id']}/void", json={"reason": "x"}).status_code == 403
    assert boss.post(f"/records/{rec['id']}/void", json={}).status_code == 422
    assert boss.post(f"/records/{rec['id']}/void", json={"reason": "  "}).status_code == 422
    response = boss.post(f"/records/{rec['id']}/void", json={"reason": "填写错误作废"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "voided" and body["void_reason"] == "填写错误作废" and body["voided_at"]
    again = boss.post(f"/records/{rec['id']}/void", json={"reason": "再次作废"})
    assert again.status_code == 409
    assert api.patch(f"/records/{rec['id']}", json={"data": {"qty": 7}, "reason": "x"}).status_code == 409
    assert api.post(f"/records/{rec['id']}/close").status_code == 409
    # The voided record is still there under its number.
    found = api.get("/records", query_string={"number": rec["number"]}).get_json()
    assert [r["status"] for r in found["items"]] == ["voided"]


def test_a_closed_record_can_be_voided_by_a_controller(f, effective_form, api, issue, controller):
    form = effective_form()
    rec = issue(api, form)
    api.post(f"/records/{rec['id']}/close")
    response = f.api(controller).post(f"/records/{rec['id']}/void", json={"reason": "发现重复登记"})
    assert response.status_code == 200 and response.get_json()["status"] == "voided"


def test_the_trail_has_every_state_change_in_order(f, effective_form, api, issue, controller):
    form = effective_form()
    rec = issue(api, form)
    api.patch(f"/records/{rec['id']}", json={"data": {"qty": 5}, "reason": "更正"})
    api.post(f"/records/{rec['id']}/close")
    f.api(controller).post(f"/records/{rec['id']}/void", json={"reason": "作废"})
    entries = trail_for(f, controller, rec["id"])
    actions = [e["action"] for e in sorted(entries, key=lambda e: e["seq"])]
    assert actions == ["record.issue", "record.correct", "record.close", "record.void"]
    issued = next(e for e in entries if e["action"] == "record.issue")
    assert issued["after"]["number"] == rec["number"]
    void = next(e for e in entries if e["action"] == "record.void")
    assert void["reason"] == "作废" and void["before"]["status"] == "closed"
    from portal.trail.services import verify_chain

    assert verify_chain().ok


def test_unknown_record_ids_are_404(api):
    assert api.get("/records/424242").status_code == 404
    assert api.patch("/records/424242", json={"data": {"qty": 1}, "reason": "x"}).status_code == 404
    assert api.post("/records/424242/close").status_code == 404
    assert api.get(f"/records/{2**70}").status_code == 404


def test_corrections_are_stored_rows(f, effective_form, api, issue):
    form = effective_form()
    rec = issue(api, form)
    api.patch(f"/records/{rec['id']}", json={"data": {"customer": "新客户"}, "reason": "更名"})
    rows = db.session.execute(select(RecordCorrection)).scalars().all()
    assert [(r.field, r.old_value, r.new_value, r.reason) for r in rows] == [
        ("customer", "上海某某机电有限公司", "新客户", "更名")]


# --- `portal load-forms` ------------------------------------------------------------------------

@pytest.fixture
def cli(app):
    """Run `portal ARGS...` in-process against this test's database and instance."""
    from portal.database import write_intent

    env = {"PORTAL_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "PORTAL_INSTANCE": app.config["INSTANCE_PATH"]}
    built = []
    real_app = portal.cli._app

    def tracked():
        built.append(real_app())
        return built[-1]

    def run(*args):
        db.session.rollback()  # hold no snapshot or lock while the command writes
        token = write_intent.set(False)
        try:
            result = CliRunner().invoke(portal.cli.main, list(args), env=env)
        finally:
            write_intent.reset(token)  # the command sets it in this (shared) context
        db.session.rollback()
        return result

    portal.cli._app = tracked
    yield run
    portal.cli._app = real_app
    for application in built:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def test_load_forms_registers_the_shipped_forms_as_draft_a0_once(f, controller, cli):
    import tomllib

    folder = Path(portal.cli.__file__).resolve().parents[1] / "form_templates"
    shipped = sorted(p.parent.name for p in folder.glob("*/form.toml"))
    assert shipped, folder
    for code in sorted({tomllib.loads((folder / name / "form.toml").read_text("utf-8"))["department"]
                        for name in shipped}):
        if code != controller.department_code:
            f.department(code, f"部门{code}")

    first = cli("load-forms", "--as", controller.username)
    assert first.exit_code == 0, (first.output, first.exception)
    forms = db.session.execute(select(Document).where(Document.doc_type == "form")).scalars().all()
    assert len(forms) == len(shipped)
    for form in forms:
        assert form.status == "draft"
        assert [(r.label, r.state) for r in form.revisions] == [("A/0", "draft")]
        assert form.revisions[0].fields, form.code
        assert form.numbering_pattern
    codes = {form.code for form in forms}
    assert "QR-SH009" in codes
    sh009 = next(form for form in forms if form.code == "QR-SH009")
    assert sh009.revisions[0].template_sha256  # the shipped Word layout came along
    assert sh009.numbering_pattern == "{code}-{yy}{mm}{seq:5}" and sh009.retention_years == 5

    second = cli("load-forms", "--as", controller.username)
    assert second.exit_code == 0, (second.output, second.exception)
    assert db.session.execute(select(func.count()).select_from(Document)
                              .where(Document.doc_type == "form")).scalar() == len(shipped)
    assert db.session.execute(select(func.count()).select_from(Revision)).scalar() == len(shipped)
    assert "QR-SH009" in second.output


def test_load_forms_by_an_unknown_user_fails_cleanly(cli):
    result = cli("load-forms", "--as", "nobody")
    assert result.exit_code != 0
    assert "Traceback" not in (result.output or "")
    assert db.session.execute(select(func.count()).select_from(Document)).scalar() == 0
