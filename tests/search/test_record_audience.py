"""Search finds a record for exactly the readers GET /records/{id} answers (records/queries.py):
the department of a confidential form, the parties to its revisions, controllers."""
from portal import clock
from portal.documents import services as documents
from portal.documents import workflow
from portal.records import queries
from portal.records import services as records
from search.conftest import FORM_FIELDS


def test_a_confidential_forms_records_are_found_by_whoever_may_open_them(f, controller, drain, find):
    owner = f.department("SEC", "保密部")
    author = f.user("staff", department=f.department("PT", "参与部").code)  # writes the form: a party
    form = documents.create_document(controller, {"code": "QR-SEC-09", "title": "保密记录表", "doc_type": "form",
                                                  "department": owner.code, "confidentiality": "confidential"})
    rev = documents.start_revision(author, form, {"body_html": "<p>表</p>", "change_summary": "首版",
                                                  "fields": FORM_FIELDS})
    f.approved(rev)
    workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
    rec = records.issue_record(controller, form, {"data": {"customer": "保密客户甲"}})
    drain()
    readers = [controller, author, f.user("staff", department=owner.code), f.user("staff"),
               f.user("auditor"), f.user("external_reviewer")]
    for user in readers:
        found = [h["id"] for h in find(user, "保密客户甲")["hits"] if h["kind"] == "record"]
        assert (found == [rec.id]) is queries.can_view_record(user, rec), user.username
    assert queries.can_view_record(author, rec)
