"""Form definitions and record values at their limits (issue 9, items 14, 15, 24): control
characters refused in labels and choices, numbers bounded and finite, the browser designer
and the browser fill-in page refusing what the API refuses, with the same message."""
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from portal.documents.models import Revision
from portal.extensions import db
from portal.records.fields import MAX_NUMBER, MAX_ROWS
from portal.records.models import Record


def record_count() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(Record)).scalar()


def stored_fields(rev_id: int):
    db.session.rollback()
    return db.session.get(Revision, rev_id).fields


def error_of(resp, status: int) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    return resp.get_json()["error"]


# --- item 14: control characters in the form's definition -------------------------------------------

@pytest.mark.parametrize("bad_field", [
    {"name": "result", "label": "处理\x0b结果", "type": "text"},
    {"name": "result", "label": "结果", "type": "choice", "choices": ["合格", "不\x1f合格"]},
    {"name": "parts", "label": "零件", "type": "table",
     "columns": [{"name": "part", "label": "零\x01件", "type": "text"}]},
    {"name": "parts", "label": "零件", "type": "table",
     "columns": [{"name": "ok", "label": "合格", "type": "choice", "choices": ["\x08是", "否"]}]},
    {"name": "result", "label": "结果\ufffe", "type": "text"},
])
def test_control_characters_in_a_definition_are_422_naming_the_field(f, controller, draft_form, bad_field):
    """Once released, such a form broke its records' Word export and its register for everyone."""
    form, rev = draft_form(fields=[{"name": "customer", "label": "客户", "type": "text"}])
    api = f.api(controller)
    error = error_of(api.patch(f"/revisions/{rev.id}", json={
        "fields": [{"name": "customer", "label": "客户", "type": "text"}, bad_field]}), 422)
    assert list(error["fields"]) == ["fields[1]"]
    assert "fields[1]" in error["message"]
    assert [x["name"] for x in stored_fields(rev.id)] == ["customer"]


def test_designer_refuses_control_characters(f, draft_form, controller, browser, kit):
    form, rev = draft_form(fields=[{"name": "customer", "label": "客户", "type": "text"}])
    web = browser(controller)
    data = kit.page_form(kit.page(web, f"/revisions/{rev.id}/fields"))
    names, labels = data.getlist("name"), data.getlist("label")
    names[1], labels[1] = "remark", "备\x0c注"
    data.setlist("name", names)
    data.setlist("label", labels)
    response = web.post(f"/revisions/{rev.id}/fields", data=data,
                        headers={"Referer": f"http://localhost/revisions/{rev.id}/fields"})
    assert response.status_code in (302, 422)
    assert [x["name"] for x in stored_fields(rev.id)] == ["customer"]


# --- item 15: the designer with lists that do not match ----------------------------------------------

def designer_post(web, kit, rev, **lists):
    token = kit.csrf_token(kit.page(web, f"/revisions/{rev.id}/fields"))
    data = MultiDict([("csrf_token", token)] + [(key, value) for key, values in lists.items() for value in values])
    return web.post(f"/revisions/{rev.id}/fields", data=data,
                    headers={"Referer": f"http://localhost/revisions/{rev.id}/fields"})


@pytest.mark.parametrize("lists, named", [
    ({"name": ["a", "b"], "label": ["甲"], "type": ["text", "text"]}, "fields[1]"),      # a label short
    ({"name": ["a", "b"], "label": ["甲", "乙"], "type": ["text"]}, "fields[1]"),        # a type short
    ({"name": ["a"], "label": ["甲"], "type": ["choice"]}, "fields[0]"),                 # no choices list
    ({"name": ["a"], "label": ["甲"], "type": ["table"], "choices": [""]}, "fields[0]"),  # no columns list
    ({"name": ["a"]}, "fields[0]"),                                                      # nothing but a name
])
def test_designer_with_mismatched_lists_is_a_clear_error(f, draft_form, controller, browser, kit, lists, named):
    """These posts ended in IndexError (500); now the schema check names the row."""
    form, rev = draft_form(fields=[{"name": "customer", "label": "客户", "type": "text"}])
    web = browser(controller)
    response = designer_post(web, kit, rev, **lists)
    assert response.status_code == 302
    shown = web.get(response.headers["Location"]).get_data(as_text=True)
    assert named in shown
    assert [x["name"] for x in stored_fields(rev.id)] == ["customer"]


# --- item 15: numbers ------------------------------------------------------------------------------

@pytest.fixture
def number_form(effective_form):
    return effective_form(fields=[
        {"name": "qty", "label": "数量", "type": "number"},
        {"name": "parts", "label": "零件", "type": "table",
         "columns": [{"name": "part", "label": "零件", "type": "text"},
                     {"name": "count", "label": "数量", "type": "number"},
                     {"name": "ok", "label": "合格", "type": "checkbox"}]}])


def raw_issue(api, form, qty: bytes):
    return api.client.post(f"/api/v1/documents/{form.id}/records", data=b'{"data": {"qty": ' + qty + b"}}",
                           content_type="application/json", headers={"Authorization": f"Bearer {api.token}"})


@pytest.mark.parametrize("qty, message", [
    (b"1" * 309, "too large"),          # float() overflows: was a 500
    (b"-" + b"9" * 400, "too large"),
    (b"1e999", "too large"),            # Python's json reads it as inf
    (b"Infinity", "too large"),         # JSON has no such literal; Python's json accepts it
    (b"-Infinity", "too large"),
    (b"NaN", "must be a number"),
    (str(MAX_NUMBER + 1).encode(), "too large"),
    (b"1000000000000000.5", "too large"),
])
def test_numbers_out_of_bounds_are_422(api, number_form, qty, message):
    before = record_count()
    error = error_of(raw_issue(api, number_form, qty), 422)
    assert error["fields"] == {"qty": message}
    assert record_count() == before


@pytest.mark.parametrize("qty, stored", [(str(MAX_NUMBER).encode(), MAX_NUMBER), (b"-1e15", -1e15),
                                         (b"2.5", 2.5), (b"0", 0)])
def test_numbers_within_bounds_are_kept(api, number_form, qty, stored):
    resp = raw_issue(api, number_form, qty)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["data"]["qty"] == stored


# --- item 24: the fill-in page refuses what the API refuses, with the same message --------------------

def fill_in(web, kit, form, values: dict):
    url = f"/forms/{form.id}/records/new"
    token = kit.csrf_token(kit.page(web, url + "?lang=en"))  # messages compared with the API's English
    return web.post(url, data={"csrf_token": token, **values}, headers={"Referer": f"http://localhost{url}"})


@pytest.mark.parametrize("typed, api_value", [
    ("٣", "٣"),                 # Arabic-Indic three: float() takes it
    ("１２", "１２"),            # full-width digits likewise
    ("1_000", "1_000"),
    ("nan", "nan"),
    ("Infinity", "Infinity"),
    ("1" * 30, 10**30 - 1),      # thirty digits
    ("9" * 5000, int("9" * 400)),  # int() would refuse 4,300+ digits
    ("1e999", 1e999),
])
def test_number_typed_in_the_browser_is_checked_like_the_api(api, number_form, author, browser, kit,
                                                             typed, api_value):
    expected = error_of(api.post(f"/documents/{number_form.id}/records", json={"data": {"qty": api_value}}),
                        422)["fields"]["qty"]
    web = browser(author)
    response = fill_in(web, kit, number_form, {"f_qty": typed})
    assert response.status_code == 422
    messages = re.findall(r'<span class="error">([^<]+)</span>', response.get_data(as_text=True))
    assert expected in messages
    assert record_count() == 0


def test_table_rows_after_a_gap_are_kept(number_form, author, browser, kit):
    """Rows 0 and 2 with row 1 missing (as rows of unchecked boxes post nothing): row 2 was
    dropped silently; now both are kept, as the API keeps every row of the list."""
    web = browser(author)
    response = fill_in(web, kit, number_form, {"f_parts__0__part": "接触器", "f_parts__0__count": "1",
                                               "f_parts__2__part": "熔断器", "f_parts__2__count": "3",
                                               "f_parts__11__ok": "on"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.rollback()
    rec = db.session.execute(select(Record)).scalar_one()
    assert rec.data["parts"] == [{"part": "接触器", "count": 1, "ok": False},
                                 {"part": "熔断器", "count": 3, "ok": False}, {"ok": True}]


def test_more_table_rows_than_the_api_takes_are_refused(api, number_form, author, browser, kit):
    """Rows past MAX_ROWS were cut off silently; now the same 422 as the API's."""
    expected = error_of(api.post(f"/documents/{number_form.id}/records", json={
        "data": {"parts": [{"part": f"件{i}"} for i in range(MAX_ROWS + 1)]}}), 422)["fields"]["parts"]
    web = browser(author)
    rows = {f"f_parts__{i}__part": f"件{i}" for i in range(MAX_ROWS + 1)}
    response = fill_in(web, kit, number_form, rows)
    assert response.status_code == 422
    assert expected in response.get_data(as_text=True)
    assert record_count() == 0


def test_exactly_max_rows_from_the_browser_are_kept(number_form, author, browser, kit):
    web = browser(author)
    response = fill_in(web, kit, number_form, {f"f_parts__{i}__part": f"件{i}" for i in range(MAX_ROWS)})
    assert response.status_code == 302
    db.session.rollback()
    assert len(db.session.execute(select(Record)).scalar_one().data["parts"]) == MAX_ROWS
