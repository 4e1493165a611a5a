"""One rule for records (records/queries.py): the list (?form_id=, ?number=), the register
page and its export answer exactly what GET /records/{id} answers, for every kind of reader."""
from sqlalchemy import select

from portal.documents import services as documents
from portal.documents import workflow
from portal.extensions import db
from portal.records import queries
from portal.records import services as records
from portal.records.models import Record


def _world(f, controller, release, kit):
    """An obsolete form, a confidential form of another department whose revision a staff member
    of a third department wrote (a party to it), and a plain form; one record on each."""
    owner = f.department("SEC", "保密部")
    party = f.user("staff", username="party", department=f.department("PT", "参与部").code)
    forms = {}
    for name, dept, confidentiality, author in (("old", controller.department_code, "internal", controller),
                                                ("secret", owner.code, "confidential", party),
                                                ("plain", controller.department_code, "internal", controller)):
        form = documents.create_document(controller, {"code": f"QR-{name.upper()}", "title": f"{name}表",
                                                      "doc_type": "form", "department": dept,
                                                      "confidentiality": confidentiality})
        release(documents.start_revision(author, form, {"body_html": "<p>表</p>", "change_summary": "首版",
                                                        "fields": kit.FIELDS}))
        records.issue_record(controller, form, {"data": dict(kit.GOOD_DATA)})
        forms[name] = form
    workflow.obsolete_document(controller, forms["old"], {"reason": "停用"})
    readers = {"controller": controller, "party": party,
               "reviewer": f.user("external_reviewer", username="cbreviewer"),
               "insider": f.user("staff", department=owner.code),
               "outsider": f.user("staff"), "auditor": f.user("auditor")}
    return forms, readers


def test_list_and_get_agree_for_every_reader(f, controller, release, kit, browser):
    forms, readers = _world(f, controller, release, kit)
    all_records = db.session.execute(select(Record)).scalars().all()
    seen = {}
    for name, user in readers.items():
        api = f.api(user)
        for rec in all_records:
            may_get = api.get(f"/records/{rec.id}").status_code == 200
            by_form = api.get(f"/records?form_id={rec.form_id}").get_json()
            by_number = api.get(f"/records?number={rec.number}").get_json()
            assert ([r["id"] for r in by_form["items"]] == [rec.id]) is may_get, (name, rec.number)
            assert by_form["total"] == int(may_get) and by_number["total"] == int(may_get), (name, rec.number)
            assert may_get is queries.can_view_record(user, rec)
            seen[(name, rec.form.code)] = may_get
        listed = {r["id"] for r in api.get("/records?per_page=100").get_json()["items"]}
        assert listed == {r.id for r in all_records if seen[(name, r.form.code)]}, name
        assert set(db.session.execute(select(Record.id).where(queries.visible_to(user))).scalars()) == listed
    # the two disagreements of the old list: obsolete forms for the reviewer, parties to confidential forms
    assert seen[("reviewer", "QR-OLD")] is False and seen[("reviewer", "QR-PLAIN")] is True
    assert seen[("party", "QR-SECRET")] is True and seen[("outsider", "QR-SECRET")] is False
    assert seen[("insider", "QR-SECRET")] is True and seen[("auditor", "QR-SECRET")] is False

    # the browser's register (台账) and its export: the same rule
    web = browser(readers["party"])
    secret = forms["secret"]
    number = db.session.execute(select(Record.number).where(Record.form_id == secret.id)).scalar()
    assert number in web.get(f"/forms/{secret.id}/records").get_data(as_text=True)
    assert web.get(f"/forms/{secret.id}/records.xlsx").status_code == 200
    assert f.api(readers["party"]).get(f"/forms/{secret.id}/register.xlsx").status_code == 200
