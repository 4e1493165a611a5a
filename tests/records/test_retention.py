"""Retention and controlled disposal (DOMAIN.md: records are kept, then disposed of under
control): retain_until, the disposal list, request + approval with password, the stub."""
import hashlib
import io
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from portal import storage
from portal.extensions import db
from portal.records.models import Record


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def boss(f, controller):
    return f.api(controller)


@pytest.fixture
def approver(f):
    return f.user("approver")


def ids(response):
    assert response.status_code == 200, response.get_json()
    return [r["id"] for r in response.get_json()["items"]]


def test_retain_until_is_issue_date_plus_retention_years(f, frozen, effective_form, api, issue):
    frozen(utc(2026, 3, 10, 4))
    five = effective_form(retention_years=5)
    default = effective_form()
    assert issue(api, five)["retain_until"] == "2031-03-10"
    assert issue(api, default)["retain_until"] == "2029-03-10"  # three years when the form says nothing


def test_retain_until_uses_the_local_issue_date(f, frozen, effective_form, api, issue):
    frozen(utc(2026, 3, 10, 4))
    form = effective_form(retention_years=1)
    frozen(utc(2026, 12, 31, 17))  # 01:00 on 1 January 2027 in Shanghai
    assert issue(api, form)["retain_until"] == "2028-01-01"


def test_retain_until_on_a_leap_day(f, frozen, effective_form, api, issue):
    frozen(utc(2028, 2, 29, 4))
    form = effective_form(retention_years=1)
    assert issue(api, form)["retain_until"] == "2029-02-28"


def test_disposal_list_shows_closed_and_void_records_past_retention(f, frozen, effective_form, api, issue, boss):
    frozen(utc(2026, 3, 10, 4))
    form = effective_form(retention_years=1)
    closed, voided, still_open = issue(api, form), issue(api, form), issue(api, form)
    api.post(f"/records/{closed['id']}/close")
    boss.post(f"/records/{voided['id']}/void", json={"reason": "填错"})
    frozen(utc(2026, 6, 1, 4))
    younger = issue(api, form)
    api.post(f"/records/{younger['id']}/close")

    frozen(utc(2027, 3, 10, 4))  # the last day of keeping: nothing is due yet
    assert ids(boss.get("/disposals")) == []
    frozen(utc(2027, 3, 11, 4))
    assert sorted(ids(boss.get("/disposals"))) == sorted([closed["id"], voided["id"]])
    frozen(utc(2027, 6, 2, 4))
    assert sorted(ids(boss.get("/disposals"))) == sorted([closed["id"], voided["id"], younger["id"]])
    assert still_open["id"] not in ids(boss.get("/disposals"))


def _past_retention(f, frozen, effective_form, api, issue, kit=None, close=True):
    frozen(utc(2026, 3, 10, 4))
    form = effective_form(retention_years=1, code="QR-SH013")
    rec = issue(api, form)
    if kit is not None:
        response = api.post(f"/records/{rec['id']}/attachments",
                            data={"file": (io.BytesIO(kit.pdf("evidence")), "evidence.pdf")},
                            content_type="multipart/form-data")
        assert response.status_code == 201
    if close:
        assert api.post(f"/records/{rec['id']}/close").status_code == 200
    frozen(utc(2027, 4, 1, 4))
    return form, rec


def test_disposal_needs_a_controller_request_then_an_approver_with_password(
        f, frozen, effective_form, api, issue, boss, controller, approver, kit):
    form, rec = _past_retention(f, frozen, effective_form, api, issue, kit)
    digest = hashlib.sha256(kit.pdf("evidence")).hexdigest()
    assert storage.path_for(digest).exists()
    signer = f.api(approver)
    # Nothing pending yet.
    assert signer.post(f"/records/{rec['id']}/dispose", json={"password": kit.PASSWORD}).status_code == 409
    # Only a controller proposes, naming the method.
    assert api.post(f"/records/{rec['id']}/disposal-request", json={"method": "碎纸销毁"}).status_code == 403
    assert signer.post(f"/records/{rec['id']}/disposal-request", json={"method": "碎纸销毁"}).status_code == 403
    assert boss.post(f"/records/{rec['id']}/disposal-request", json={}).status_code == 422
    response = boss.post(f"/records/{rec['id']}/disposal-request", json={"method": "碎纸销毁"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["disposal"]["requested_by"] == controller.username
    assert boss.post(f"/records/{rec['id']}/disposal-request", json={"method": "again"}).status_code == 409
    # The proposer, staff and a wrong password cannot approve.
    assert boss.post(f"/records/{rec['id']}/dispose", json={"password": kit.PASSWORD}).status_code == 403
    assert api.post(f"/records/{rec['id']}/dispose", json={"password": kit.PASSWORD}).status_code == 403
    assert signer.post(f"/records/{rec['id']}/dispose", json={"password": "wrong-password"}).status_code == 403
    assert signer.post(f"/records/{rec['id']}/dispose", json={}).status_code == 403
    assert api.get(f"/records/{rec['id']}").get_json()["status"] == "closed"
    # The approver approves.
    response = signer.post(f"/records/{rec['id']}/dispose", json={"password": kit.PASSWORD})
    assert response.status_code == 200, response.get_json()
    stub = response.get_json()
    assert stub["status"] == "disposed"
    assert stub["number"] == rec["number"] and stub["form_code"] == "QR-SH013"
    assert stub["created_at"] == rec["created_at"] and stub["retain_until"] == rec["retain_until"]
    assert stub["disposal"]["method"] == "碎纸销毁"
    assert stub["disposal"]["requested_by"] == controller.username
    assert stub["disposal"]["disposed_by"] == approver.username and stub["disposal"]["disposed_at"]
    assert stub["data"] in (None, {})  # the content is gone
    assert not storage.path_for(digest).exists()  # and so is the evidence file
    # Disposing twice is refused.
    assert signer.post(f"/records/{rec['id']}/dispose", json={"password": kit.PASSWORD}).status_code == 409
    # The stub stays findable by its number.
    found = api.get("/records", query_string={"number": rec["number"]}).get_json()["items"]
    assert [r["status"] for r in found] == ["disposed"]
    # The trail says who disposed and how.
    items = boss.get(f"/trail?object_type=record&object_id={rec['id']}").get_json()["items"]
    actions = [e["action"] for e in items]
    assert "record.disposal_request" in actions and "record.dispose" in actions
    dispose = next(e for e in items if e["action"] == "record.dispose")
    assert dispose["actor"] == approver.username and dispose["after"]["method"] == "碎纸销毁"


def test_an_admin_who_proposed_cannot_approve_their_own_disposal(f, frozen, effective_form, api, issue, kit):
    form, rec = _past_retention(f, frozen, effective_form, api, issue)
    admin = f.api(f.user("admin"))
    assert admin.post(f"/records/{rec['id']}/disposal-request", json={"method": "删除电子档"}).status_code == 200
    response = admin.post(f"/records/{rec['id']}/dispose", json={"password": kit.PASSWORD})
    assert response.status_code == 403
    assert f.api(f.user("admin")).post(f"/records/{rec['id']}/dispose",
                                       json={"password": kit.PASSWORD}).status_code == 200


def test_no_disposal_before_retention_or_while_open(f, frozen, effective_form, api, issue, boss):
    frozen(utc(2026, 3, 10, 4))
    form = effective_form(retention_years=1)
    young, still_open = issue(api, form), issue(api, form)
    api.post(f"/records/{young['id']}/close")
    frozen(utc(2027, 3, 10, 4))
    response = boss.post(f"/records/{young['id']}/disposal-request", json={"method": "碎纸销毁"})
    assert response.status_code == 409
    frozen(utc(2027, 3, 11, 4))
    assert boss.post(f"/records/{still_open['id']}/disposal-request", json={"method": "碎纸销毁"}).status_code == 409
    assert boss.post(f"/records/{young['id']}/disposal-request", json={"method": "碎纸销毁"}).status_code == 200


def test_a_voided_record_can_be_disposed_of(f, frozen, effective_form, api, issue, boss, approver, kit):
    form, rec = _past_retention(f, frozen, effective_form, api, issue, close=False)
    assert boss.post(f"/records/{rec['id']}/void", json={"reason": "重复"}).status_code == 200
    assert boss.post(f"/records/{rec['id']}/disposal-request", json={"method": "碎纸销毁"}).status_code == 200
    response = f.api(approver).post(f"/records/{rec['id']}/dispose", json={"password": kit.PASSWORD})
    assert response.status_code == 200 and response.get_json()["status"] == "disposed"
    assert boss.post(f"/records/{rec['id']}/void", json={"reason": "x"}).status_code == 409


def test_a_disposed_number_is_never_issued_again(f, frozen, effective_form, api, issue, boss, approver, kit):
    frozen(utc(2026, 3, 10, 4))
    form = effective_form(retention_years=0, pattern="{code}-{seq:3}", code="QR-N")
    first = issue(api, form)
    api.post(f"/records/{first['id']}/close")
    frozen(utc(2026, 3, 11, 4))
    boss.post(f"/records/{first['id']}/disposal-request", json={"method": "删除电子档"})
    assert f.api(approver).post(f"/records/{first['id']}/dispose", json={"password": kit.PASSWORD}).status_code == 200
    following = [issue(api, form)["number"] for _ in range(2)]
    assert first["number"] == "QR-N-001"
    assert following == ["QR-N-002", "QR-N-003"]
    numbers = db.session.execute(select(Record.number)).scalars().all()
    assert sorted(numbers) == ["QR-N-001", "QR-N-002", "QR-N-003"]


def test_the_disposed_stub_in_the_browser(f, frozen, effective_form, api, issue, boss, approver, kit, browser):
    form, rec = _past_retention(f, frozen, effective_form, api, issue)
    boss.post(f"/records/{rec['id']}/disposal-request", json={"method": "碎纸销毁"})
    f.api(approver).post(f"/records/{rec['id']}/dispose", json={"password": kit.PASSWORD})
    html = kit.page(browser(approver), f"/records/{rec['id']}")
    assert rec["number"] in html and "碎纸销毁" in html
    assert "上海某某机电有限公司" not in html


def test_disposal_through_the_browser(f, frozen, effective_form, api, issue, controller, approver, kit, browser):
    form, rec = _past_retention(f, frozen, effective_form, api, issue)
    web = browser(controller)
    listed = kit.page(web, "/disposals")
    assert rec["number"] in listed
    html = kit.page(web, f"/records/{rec['id']}")
    response = web.post(f"/records/{rec['id']}/disposal-request",
                        data={"csrf_token": kit.csrf_token(html), "method": "碎纸销毁"})
    assert response.status_code == 302
    signer = browser(approver)
    html = kit.page(signer, f"/records/{rec['id']}")
    assert f"/records/{rec['id']}/dispose" in html
    wrong = signer.post(f"/records/{rec['id']}/dispose",
                        data={"csrf_token": kit.csrf_token(html), "password": "nope"})
    assert wrong.status_code in (302, 403)
    db.session.expire_all()
    assert db.session.get(Record, rec["id"]).status == "closed"
    signer.post(f"/records/{rec['id']}/dispose", data={"csrf_token": kit.csrf_token(html), "password": kit.PASSWORD})
    db.session.expire_all()
    disposed = db.session.get(Record, rec["id"])
    assert disposed.status == "disposed" and disposed.data is None
    assert disposed.disposed_by_id == approver.id and disposed.disposed_at.date() == date(2027, 4, 1)


def test_a_disposed_record_keeps_no_old_values_or_attachment_names(
        f, frozen, effective_form, api, issue, boss, approver, kit):
    """Disposal removes the content; the 划改 history (old and new values) and the attachment
    list are content too, so the stub answers without them."""
    frozen(utc(2026, 3, 10, 4))
    form = effective_form(retention_years=1, code="QR-SH013")
    rec = issue(api, form)
    assert api.patch(f"/records/{rec['id']}", json={"data": {"qty": 3}, "reason": "数量抄错"}).status_code == 200
    api.post(f"/records/{rec['id']}/attachments",
             data={"file": (io.BytesIO(kit.pdf("evidence")), "机密附件.pdf")}, content_type="multipart/form-data")
    assert api.post(f"/records/{rec['id']}/close").status_code == 200
    assert api.get(f"/records/{rec['id']}").get_json()["corrections"]
    frozen(utc(2027, 4, 1, 4))
    assert boss.post(f"/records/{rec['id']}/disposal-request", json={"method": "碎纸销毁"}).status_code == 200
    assert f.api(approver).post(f"/records/{rec['id']}/dispose", json={"password": kit.PASSWORD}).status_code == 200
    stub = api.get(f"/records/{rec['id']}").get_json()
    assert stub["status"] == "disposed"
    assert stub["corrections"] == [] and stub["attachments"] == []
