"""The browser side of records: filling in a form (CSRF, per-field errors), 划改 with the old
value struck through, closing, voiding, escaping, the registers, and the form designer."""
import html as htmllib
import re

from sqlalchemy import func, select

from portal.documents.models import Revision
from portal.extensions import db
from portal.records.models import Record


def fill_in(web, kit, form_id, values: dict, referrer=True):
    """Open the fill-in page like a browser, set `values` (f_… names) and post the form."""
    url = f"/forms/{form_id}/records/new"
    html = kit.page(web, url)
    data = kit.page_form(html)
    assert data.get("csrf_token")
    for name, value in values.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    headers = {"Referer": f"http://localhost{url}"} if referrer else {}
    return web.post(url, data=data, headers=headers)


def landing(web, response) -> str:
    """The page the browser shows after a POST: the redirect target, or the answer itself."""
    if response.status_code in (302, 303):
        target = response.headers["Location"]
        follow = web.get(target)
        return follow.get_data(as_text=True)
    return response.get_data(as_text=True)


def record_count() -> int:
    return db.session.execute(select(func.count()).select_from(Record)).scalar()


GOOD_FORM = {"f_customer": "上海某某机电有限公司", "f_notes": "现场更换接触器", "f_qty": "2",
             "f_visit_date": "2026-11-05", "f_result": "合格", "f_confirmed": "on",
             "f_parts__0__part": "接触器", "f_parts__0__count": "1"}


def test_fill_in_a_record_from_the_form_page(f, effective_form, author, browser, kit):
    form = effective_form(code="SH/QT-01", title="产品维修记录表")
    web = browser(author)
    register = kit.page(web, f"/forms/{form.id}/records")
    assert f"/forms/{form.id}/records/new" in register  # the 填写 button
    response = fill_in(web, kit, form.id, GOOD_FORM)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    match = re.search(r"/records/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    rec = db.session.get(Record, int(match.group(1)))
    assert rec.number.startswith("SH/QT-01-") and rec.revision_label == "A/0"
    assert rec.data == {"customer": "上海某某机电有限公司", "notes": "现场更换接触器", "qty": 2,
                        "visit_date": "2026-11-05", "result": "合格", "confirmed": True,
                        "parts": [{"part": "接触器", "count": 1}]}
    assert rec.created_by_id == author.id and rec.department.code == author.department_code
    shown = kit.page(web, f"/records/{rec.id}")
    assert htmllib.escape(rec.number) in shown or rec.number in shown
    assert "上海某某机电有限公司" in shown and "A/0" in shown
    assert rec.number in kit.page(web, f"/forms/{form.id}/records")


def test_the_form_without_csrf_token_is_refused(f, effective_form, author, browser, kit):
    form = effective_form()
    web = browser(author)
    response = web.post(f"/forms/{form.id}/records/new", data=GOOD_FORM)
    assert response.status_code in (400, 403)
    assert record_count() == 0


def test_bad_input_shows_a_message_next_to_each_field(f, effective_form, author, browser, kit):
    form = effective_form()
    web = browser(author)
    response = fill_in(web, kit, form.id, {"f_customer": "", "f_qty": "许多", "f_visit_date": "2026-02-30",
                                           "f_parts__0__part": "", "f_parts__0__count": "一个"})
    assert response.status_code in (200, 302, 303, 422)
    assert record_count() == 0
    shown = landing(web, response)
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", shown))
    assert "Some fields are invalid" in text or "无效" in text or "error" in shown
    # A message next to each bad field (customer, qty, visit_date, parts), as the API gives
    # them in error.fields — not just one banner for the whole form.
    messages = [m.strip() for m in re.findall(r'<span class="error">([^<]+)</span>', shown) if m.strip() != "*"]
    assert len(messages) >= 3, f"no per-field messages on the page after bad input: {messages}"


def test_bad_choice_is_refused_in_the_browser_too(f, effective_form, author, browser, kit):
    form = effective_form()
    web = browser(author)
    response = fill_in(web, kit, form.id, {**GOOD_FORM, "f_result": "也许"})
    assert response.status_code in (200, 302, 303, 422)
    assert record_count() == 0


def test_hostile_html_is_shown_escaped(f, effective_form, author, api, issue, browser, kit):
    form = effective_form()
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    rec = issue(api, form, data={"customer": hostile, "notes": '"><svg onload=alert(2)>'})
    web = browser(author)
    for url in (f"/records/{rec['id']}", f"/records/{rec['id']}/correct"):
        shown = kit.page(web, url)
        assert '<script>alert("x")' not in shown and "<img src=x" not in shown
        assert "<svg onload" not in shown
        assert "&lt;script&gt;" in shown
    # After a correction the struck-through old value is escaped as well.
    api.patch(f"/records/{rec['id']}", json={"data": {"customer": "正常客户"}, "reason": "<b>reason</b>"})
    shown = kit.page(web, f"/records/{rec['id']}")
    assert '<script>alert("x")' not in shown and "<b>reason</b>" not in shown
    assert "&lt;script&gt;" in shown


def test_correct_a_record_and_see_the_old_value_struck_through(f, effective_form, author, api, issue, browser, kit):
    form = effective_form()
    rec = issue(api, form)
    web = browser(author)
    shown = kit.page(web, f"/records/{rec['id']}")
    assert f"/records/{rec['id']}/correct" in shown
    html = kit.page(web, f"/records/{rec['id']}/correct")
    data = kit.page_form(html)
    assert data["f_qty"] == "2" and data["f_customer"] == "上海某某机电有限公司"
    data["f_qty"] = "5"
    data["reason"] = "数量抄错"
    response = web.post(f"/records/{rec['id']}/correct", data=data,
                        headers={"Referer": f"http://localhost/records/{rec['id']}/correct"})
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Record, rec["id"])
    assert saved.data["qty"] == 5
    assert saved.data == {**rec["data"], "qty": 5}  # the untouched fields did not change
    assert [(c.field, c.old_value, c.new_value, c.reason) for c in saved.corrections] == [("qty", 2, 5, "数量抄错")]
    shown = kit.page(web, f"/records/{rec['id']}")
    assert re.search(r"<del>\s*2\s*</del>", shown), "the old value is not struck through"
    assert "数量抄错" in shown and author.display_name in shown


def test_a_correction_without_reason_changes_nothing(f, effective_form, author, api, issue, browser, kit):
    form = effective_form()
    rec = issue(api, form)
    web = browser(author)
    data = kit.page_form(kit.page(web, f"/records/{rec['id']}/correct"))
    data["f_qty"] = "7"
    data["reason"] = ""
    response = web.post(f"/records/{rec['id']}/correct", data=data,
                        headers={"Referer": f"http://localhost/records/{rec['id']}/correct"})
    assert response.status_code in (302, 422)
    db.session.expire_all()
    assert db.session.get(Record, rec["id"]).data["qty"] == 2


def test_close_then_no_more_corrections(f, effective_form, author, api, issue, browser, kit):
    form = effective_form()
    rec = issue(api, form)
    web = browser(author)
    shown = kit.page(web, f"/records/{rec['id']}")
    close = kit.page_form(shown, f"/records/{rec['id']}/close")
    assert web.post(f"/records/{rec['id']}/close", data=close).status_code == 302
    db.session.expire_all()
    assert db.session.get(Record, rec["id"]).status == "closed"
    shown = kit.page(web, f"/records/{rec['id']}")
    assert f"/records/{rec['id']}/correct" not in shown and f"/records/{rec['id']}/close" not in shown
    token = kit.csrf_token(shown)
    response = web.post(f"/records/{rec['id']}/correct",
                        data={"csrf_token": token, "f_customer": "x", "f_qty": "9", "reason": "x"},
                        headers={"Referer": f"http://localhost/records/{rec['id']}"})
    assert response.status_code in (302, 409)
    db.session.expire_all()
    assert db.session.get(Record, rec["id"]).data["qty"] == 2


def test_void_in_the_browser_is_for_controllers(f, effective_form, author, controller, api, issue, browser, kit):
    form = effective_form()
    rec = issue(api, form)
    web = browser(author)
    shown = kit.page(web, f"/records/{rec['id']}")
    assert f"/records/{rec['id']}/void" not in shown
    response = web.post(f"/records/{rec['id']}/void", data={"csrf_token": kit.csrf_token(shown), "reason": "x"},
                        headers={"Referer": f"http://localhost/records/{rec['id']}"})
    assert response.status_code in (302, 403)
    db.session.expire_all()
    assert db.session.get(Record, rec["id"]).status == "open"

    boss = browser(controller)
    shown = kit.page(boss, f"/records/{rec['id']}")
    data = kit.page_form(shown, f"/records/{rec['id']}/void")
    data["reason"] = "填写错误作废"
    assert boss.post(f"/records/{rec['id']}/void", data=data).status_code == 302
    db.session.expire_all()
    voided = db.session.get(Record, rec["id"])
    assert voided.status == "voided" and voided.void_reason == "填写错误作废"
    shown = kit.page(boss, f"/records/{rec['id']}")
    assert "填写错误作废" in shown
    assert f"/records/{rec['id']}/void" not in shown


def test_filling_in_a_form_without_an_effective_revision_is_refused(f, draft_form, author, browser, kit):
    form, _rev = draft_form()
    web = browser(author)
    response = web.get(f"/forms/{form.id}/records/new")
    assert response.status_code == 409


def test_forms_page_lists_every_form_with_count(f, effective_form, author, api, issue, browser, kit):
    form = effective_form(code="QR-YX001", title="客户档案信息表", retention_years=5)
    issue(api, form)
    shown = kit.page(browser(author), "/forms")
    assert "QR-YX001" in shown and "客户档案信息表" in shown


def test_register_filters_by_number(f, effective_form, author, api, issue, browser, kit):
    form = effective_form(code="SH/BD-09", pattern="{code}/{seq:3}")
    first, second = issue(api, form), issue(api, form)
    shown = kit.page(browser(author), f"/forms/{form.id}/records?q=SH/BD-09/002")
    assert second["number"] in shown and first["number"] not in shown


def test_attach_and_download_in_the_browser(f, effective_form, author, api, issue, browser, kit):
    import hashlib
    import io

    form = effective_form()
    rec = issue(api, form)
    web = browser(author)
    shown = kit.page(web, f"/records/{rec['id']}")
    token = kit.csrf_token(shown)
    content = kit.png()
    response = web.post(f"/records/{rec['id']}/attachments",
                        data={"csrf_token": token, "file": (io.BytesIO(content), "照片.png")},
                        content_type="multipart/form-data",
                        headers={"Referer": f"http://localhost/records/{rec['id']}"})
    assert response.status_code == 302
    shown = kit.page(web, f"/records/{rec['id']}")
    link = re.search(r'href="(/attachments/\d+)"', shown).group(1)
    assert hashlib.sha256(web.get(link).data).hexdigest() == hashlib.sha256(content).hexdigest()
    bad = web.post(f"/records/{rec['id']}/attachments",
                   data={"csrf_token": token, "file": (io.BytesIO(b"MZ" + b"\0" * 64), "tool.exe")},
                   content_type="multipart/form-data",
                   headers={"Referer": f"http://localhost/records/{rec['id']}"})
    assert bad.status_code in (302, 415)
    db.session.expire_all()
    assert len(db.session.get(Record, rec["id"]).attachments) == 1


# --- the form designer ----------------------------------------------------------------------------

def test_designer_saves_fields_for_a_draft_form_revision(f, draft_form, controller, browser, kit):
    form, rev = draft_form(fields=[{"name": "customer", "label": "客户", "type": "text", "required": True}])
    web = browser(controller)
    html = kit.page(web, f"/revisions/{rev.id}/fields")
    data = kit.page_form(html)
    names, labels, types = data.getlist("name"), data.getlist("label"), data.getlist("type")
    choices, columns = data.getlist("choices"), data.getlist("columns")
    assert names[0] == "customer" and len(names) >= 4
    names[1:4] = ["result", "parts", "remark"]
    labels[1:4] = ["处理结果", "更换零件", "备注"]
    types[1:4] = ["choice", "table", "textarea"]
    choices[1] = "合格|不合格、待定"
    columns[2] = "part:零件:text; count:数量:number"
    for key, values in (("name", names), ("label", labels), ("type", types), ("choices", choices),
                        ("columns", columns)):
        data.setlist(key, values)
    data["required_1"] = "on"
    response = web.post(f"/revisions/{rev.id}/fields", data=data,
                        headers={"Referer": f"http://localhost/revisions/{rev.id}/fields"})
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Revision, rev.id).fields
    assert [(x["name"], x["type"], x["required"]) for x in saved] == [
        ("customer", "text", True), ("result", "choice", True), ("parts", "table", False),
        ("remark", "textarea", False)]
    assert saved[1]["choices"] == ["合格", "不合格", "待定"]
    assert [(c["name"], c["label"], c["type"]) for c in saved[2]["columns"]] == [
        ("part", "零件", "text"), ("count", "数量", "number")]
    again = kit.page(web, f"/revisions/{rev.id}/fields")
    assert 'value="remark"' in again


def test_designer_rejects_bad_definitions(f, draft_form, controller, browser, kit):
    form, rev = draft_form(fields=[{"name": "customer", "label": "客户", "type": "text"}])
    web = browser(controller)
    data = kit.page_form(kit.page(web, f"/revisions/{rev.id}/fields"))
    names = data.getlist("name")
    names[1] = "bad name!"
    data.setlist("name", names)
    labels = data.getlist("label")
    labels[1] = "坏"
    data.setlist("label", labels)
    response = web.post(f"/revisions/{rev.id}/fields", data=data,
                        headers={"Referer": f"http://localhost/revisions/{rev.id}/fields"})
    assert response.status_code in (302, 422)
    db.session.expire_all()
    assert [x["name"] for x in db.session.get(Revision, rev.id).fields] == ["customer"]


def test_designer_refuses_an_effective_revision(f, effective_form, controller, browser, kit):
    form = effective_form(fields=[{"name": "customer", "label": "客户", "type": "text"}])
    rev = form.current_revision
    web = browser(controller)
    html = kit.page(web, f"/revisions/{rev.id}/fields")
    assert "disabled" in html
    assert not kit.page_form(html).getlist("name")  # every input is read-only
    response = web.post(f"/revisions/{rev.id}/fields",
                        data={"csrf_token": kit.csrf_token(html), "name": ["hacked"], "label": ["x"],
                              "type": ["text"], "choices": [""], "columns": [""]},
                        headers={"Referer": f"http://localhost/revisions/{rev.id}/fields"})
    assert response.status_code in (302, 409)
    if response.status_code == 302:
        assert "error" in landing(web, response)
    db.session.expire_all()
    assert [x["name"] for x in db.session.get(Revision, rev.id).fields] == ["customer"]


def test_designer_is_not_for_other_staff(f, draft_form, controller, browser, kit):
    form, rev = draft_form(fields=[{"name": "customer", "label": "客户", "type": "text"}])
    other = f.user("staff", department=controller.department_code)
    web = browser(other)
    response = web.get(f"/revisions/{rev.id}/fields")
    if response.status_code == 200:
        html = response.get_data(as_text=True)
        response = web.post(f"/revisions/{rev.id}/fields",
                            data={"csrf_token": kit.csrf_token(html), "name": ["hacked"], "label": ["x"],
                                  "type": ["text"], "choices": [""], "columns": [""]},
                            headers={"Referer": f"http://localhost/revisions/{rev.id}/fields"})
        assert response.status_code in (302, 403)
    db.session.expire_all()
    assert [x["name"] for x in db.session.get(Revision, rev.id).fields] == ["customer"]
