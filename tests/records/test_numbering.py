"""Record numbers (CONTRACT.md "Forms and numbered records"; DOMAIN.md "Records and their numbers"):
pattern tokens, restart per rendered prefix, never reused, widening past N digits."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from portal import numbering
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.records.models import Record


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def staff_api(f, controller):
    user = f.user("staff", department=controller.department_code)
    return f.api(user)


def test_default_pattern_is_code_year_month_and_four_digits(f, frozen, effective_form, issue, staff_api):
    frozen(utc(2026, 11, 5, 4))
    form = effective_form(code="QR-SH009")
    assert form.numbering_pattern == "{code}-{yyyy}{mm}-{seq:4}"
    numbers = [issue(staff_api, form)["number"] for _ in range(3)]
    assert numbers == ["QR-SH009-202611-0001", "QR-SH009-202611-0002", "QR-SH009-202611-0003"]


def test_every_token_is_rendered(f, frozen, effective_form, issue):
    frozen(utc(2027, 3, 9, 2))
    f.department("YX", "营销中心")
    user = f.user("staff", department="YX")
    form = effective_form(code="SH/BD-09", pattern="{dept}{yyyy}{mm}-{code}-{yy}-{seq:3}")
    assert issue(f.api(user), form)["number"] == "YX202703-SH/BD-09-27-001"


def test_issuing_department_can_be_named_and_drives_dept(f, frozen, effective_form, issue, staff_api):
    frozen(utc(2026, 11, 5, 4))
    f.department("SC", "生产部")
    form = effective_form(pattern="{dept}{yyyy}{mm}{seq:3}")
    body = issue(staff_api, form, department="SC")
    assert (body["number"], body["department"]) == ("SC202611001", "SC")
    bad = staff_api.post(f"/documents/{form.id}/records", json={"department": "NOPE", "data": {"customer": "x"}})
    assert bad.status_code == 422
    assert "department" in bad.get_json()["error"]["fields"]


def test_sequence_restarts_when_the_month_changes(f, frozen, effective_form, issue, staff_api):
    frozen(utc(2026, 11, 30, 4))
    form = effective_form(code="QR-M")
    assert issue(staff_api, form)["number"] == "QR-M-202611-0001"
    assert issue(staff_api, form)["number"] == "QR-M-202611-0002"
    frozen(utc(2026, 12, 1, 4))
    assert issue(staff_api, form)["number"] == "QR-M-202612-0001"
    assert issue(staff_api, form)["number"] == "QR-M-202612-0002"
    frozen(utc(2027, 1, 2, 4))
    assert issue(staff_api, form)["number"] == "QR-M-202701-0001"


def test_the_month_is_the_local_month(f, frozen, effective_form, issue, staff_api):
    """01:00 on 1 December in Shanghai is still 30 November in UTC: the number says December."""
    frozen(utc(2026, 11, 30, 4))
    form = effective_form(code="QR-TZ")
    frozen(utc(2026, 11, 30, 17))
    assert issue(staff_api, form)["number"] == "QR-TZ-202612-0001"


def test_a_repeated_prefix_continues_and_never_reuses_a_number(f, frozen, effective_form, issue, staff_api):
    """With only {mm} the prefix of November 2027 equals November 2026's: the count goes on."""
    frozen(utc(2026, 11, 3, 4))
    form = effective_form(code="QR-MM", pattern="{code}-{mm}-{seq:3}")
    assert issue(staff_api, form)["number"] == "QR-MM-11-001"
    assert issue(staff_api, form)["number"] == "QR-MM-11-002"
    frozen(utc(2026, 12, 3, 4))
    assert issue(staff_api, form)["number"] == "QR-MM-12-001"
    frozen(utc(2027, 11, 3, 4))
    assert issue(staff_api, form)["number"] == "QR-MM-11-003"
    numbers = db.session.execute(select(Record.number)).scalars().all()
    assert len(numbers) == len(set(numbers)) == 4


def test_the_running_number_widens_rather_than_wraps(f, frozen, effective_form, issue, staff_api):
    frozen(utc(2026, 11, 5, 4))
    form = effective_form(code="QR-W", pattern="{code}-{seq:1}")
    numbers = [issue(staff_api, form)["number"] for _ in range(12)]
    assert numbers == [f"QR-W-{i}" for i in range(1, 13)]


def test_voided_and_closed_numbers_stay_taken(f, frozen, effective_form, issue, staff_api, controller):
    frozen(utc(2026, 11, 5, 4))
    form = effective_form(code="QR-V")
    first = issue(staff_api, form)
    assert f.api(controller).post(f"/records/{first['id']}/void", json={"reason": "填错作废"}).status_code == 200
    second = issue(staff_api, form)
    assert staff_api.post(f"/records/{second['id']}/close").status_code == 200
    third = issue(staff_api, form)
    assert [first["number"], second["number"], third["number"]] == [
        "QR-V-202611-0001", "QR-V-202611-0002", "QR-V-202611-0003"]


def test_refused_records_take_no_number(f, frozen, effective_form, issue, staff_api):
    frozen(utc(2026, 11, 5, 4))
    form = effective_form(code="QR-R")
    for _ in range(3):
        response = staff_api.post(f"/documents/{form.id}/records", json={"data": {"qty": "many"}})
        assert response.status_code == 422
    assert issue(staff_api, form)["number"] == "QR-R-202611-0001"


def test_numbers_are_unique_across_forms_sharing_a_pattern(f, frozen, effective_form, issue):
    """The seed rule: department + year + month + a continuous running number."""
    frozen(utc(2026, 11, 5, 4))
    f.department("HY", "行业应用部")
    api = f.api(f.user("staff", department="HY"))
    repair = effective_form(pattern="{dept}{yyyy}{mm}{seq:4}")
    visit = effective_form(pattern="{dept}{yyyy}{mm}{seq:4}")
    numbers = [issue(api, repair)["number"], issue(api, visit)["number"], issue(api, repair)["number"]]
    assert numbers == ["HY2026110001", "HY2026110002", "HY2026110003"]


@pytest.mark.parametrize("pattern", [
    "{code}-{yyyy}", "{code}-{seq}", "{code}-{seq:0}", "{code}-{seq:13}", "{code}-{seq:3}-{seq:3}",
    "{code}-{day}-{seq:3}", "{code}-{seq:3", "{code}}-{seq:3}", "{CODE}-{seq:3}", "x" * 201 + "{seq:3}"])
def test_bad_patterns_are_422(f, controller, pattern):
    api = f.api(controller)
    response = api.post("/documents", json={"code": "QR-BAD", "title": "坏编号", "doc_type": "form",
                                            "department": controller.department_code,
                                            "numbering_pattern": pattern})
    assert response.status_code == 422, (pattern, response.get_json())
    assert response.get_json()["error"]["fields"], pattern


def test_a_blank_pattern_means_the_default(f, controller):
    response = f.api(controller).post("/documents", json={
        "code": "QR-BLANK", "title": "空编号规则", "doc_type": "form",
        "department": controller.department_code, "numbering_pattern": "  "})
    assert response.status_code == 201
    from portal.documents.models import Document

    assert db.session.get(Document, response.get_json()["id"]).numbering_pattern == numbering.DEFAULT_PATTERN


@pytest.mark.parametrize("pattern", ["{code}-{yyyy}{mm}-{seq:4}", "{dept}{yy}{mm}{seq:12}", "NO.{seq:1}"])
def test_good_patterns_are_accepted(pattern):
    assert numbering.validate_pattern(pattern) == pattern


def test_validate_pattern_raises_validation_failed():
    with pytest.raises(ValidationFailed):
        numbering.validate_pattern("{seq:4}{seq:4}")


def test_next_number_directly(app, frozen):
    """The service itself: prefix rendering and allocation inside the caller's transaction."""
    frozen(utc(2026, 2, 10, 4))
    first = numbering.next_number("unit", "{code}/{yy}{mm}/{seq:2}", "X/1", "SC")
    second = numbering.next_number("unit", "{code}/{yy}{mm}/{seq:2}", "X/1", "SC")
    other_scheme = numbering.next_number("unit2", "{code}/{yy}{mm}/{seq:2}", "X/1", "SC")
    db.session.rollback()
    again = numbering.next_number("unit", "{code}/{yy}{mm}/{seq:2}", "X/1", "SC")
    db.session.commit()
    assert (first, second, other_scheme) == ("X/1/2602/01", "X/1/2602/02", "X/1/2602/01")
    assert again == "X/1/2602/01"  # the rolled-back numbers were never issued


def test_the_running_number_may_sit_anywhere_in_the_pattern(f, frozen, effective_form, issue, staff_api):
    frozen(utc(2026, 11, 5, 4))
    form = effective_form(code="QR-X", pattern="NO.{seq:3}/{yyyy}({code})")
    assert [issue(staff_api, form)["number"] for _ in range(2)] == ["NO.001/2026(QR-X)", "NO.002/2026(QR-X)"]


def test_two_forms_whose_patterns_render_the_same_number_never_share_it(f, frozen, effective_form, staff_api, kit):
    """Form "A" numbers A-2026-001…, form "A-2026" with {code}-{seq:3} renders the same text.
    Numbers are unique portal-wide: the second issue must not get (or crash on) a taken number."""
    frozen(utc(2026, 11, 5, 4))
    yearly = effective_form(code="A", pattern="{code}-{yyyy}-{seq:3}")
    plain = effective_form(code="A-2026", pattern="{code}-{seq:3}")
    first = staff_api.post(f"/documents/{yearly.id}/records", json={"data": kit.GOOD_DATA})
    assert first.status_code == 201 and first.get_json()["number"] == "A-2026-001"
    second = staff_api.post(f"/documents/{plain.id}/records", json={"data": kit.GOOD_DATA})
    assert second.status_code in (201, 409), (second.status_code, second.get_json())
    if second.status_code == 201:
        assert second.get_json()["number"] != "A-2026-001"
    numbers = db.session.execute(select(Record.number)).scalars().all()
    assert len(numbers) == len(set(numbers))


def test_numbers_that_collide_across_prefixes_are_never_a_500(f, frozen, effective_form, staff_api, kit):
    """Form "QR1" numbers QR11 first; form "QR" reaches QR11 at its eleventh record. The number is
    unique portal-wide: the clash must be handled (another number, or a clear 409), never a 500."""
    frozen(utc(2026, 11, 5, 4))
    short = effective_form(code="QR", pattern="{code}{seq:1}")
    longer = effective_form(code="QR1", pattern="{code}{seq:1}")
    assert staff_api.post(f"/documents/{longer.id}/records", json={"data": kit.GOOD_DATA}).get_json()["number"] == "QR11"
    answers = [staff_api.post(f"/documents/{short.id}/records", json={"data": kit.GOOD_DATA}) for _ in range(11)]
    assert [a.status_code for a in answers[:10]] == [201] * 10
    assert answers[10].status_code in (201, 409), (answers[10].status_code, answers[10].get_json())
    assert answers[10].is_json
    numbers = db.session.execute(select(Record.number)).scalars().all()
    assert len(numbers) == len(set(numbers))
