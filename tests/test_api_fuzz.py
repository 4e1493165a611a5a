"""A bounded schemathesis run over the whole JSON API, as the certification-body reviewer
(read-only) and as the controller (who may write), on the demo data: no answer is a 5xx, and
every answer matches the OpenAPI description (status code, content type, body, headers, and
405 with `Allow` for a method the path does not take).

Reproducible: hypothesis is derandomized and schemathesis seeded, so a failure here fails the
same way on the next run. Bounded: MAX_EXAMPLES generated cases per operation and role, plus
the coverage phase's boundary cases (missing fields, limits, wrong types, unexpected methods)."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_headers_conformance,
                                 response_schema_conformance, status_code_conformance, unsupported_method)
from schemathesis.config import SchemathesisConfig
from sqlalchemy import select

from portal import clock, config, create_app
from portal.accounts import services as accounts
from portal.extensions import db
from portal.openapi import spec
from portal.search.index import close_searchers

# PORTAL_FUZZ_EXAMPLES=50 explores further, with fresh random cases on every run.
EXPLORE = os.environ.get("PORTAL_FUZZ_EXAMPLES")
MAX_EXAMPLES = int(EXPLORE or 5)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, unsupported_method]
FUZZ_SETTINGS = settings(max_examples=MAX_EXAMPLES, derandomize=not EXPLORE, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))


def _schema(coverage: bool):
    return schemathesis.openapi.from_dict(spec(), config=SchemathesisConfig.from_dict({
        "seed": 26, "generation": {"database": "none"},
        # no path takes all three of these, so every path shows its 405 with Allow
        "phases": {"coverage": {"enabled": coverage, "unexpected-methods": ["put", "delete", "patch"]}}}))


full = _schema(coverage=True)
# The reviewer's every write is refused before its body is read: generated cases suffice there.
fuzz_only = _schema(coverage=False)


@pytest.fixture(scope="module")
def demo(database_template, tmp_path_factory):
    """One demo database for the module (loading it takes seconds, the run makes hundreds of
    requests): the reviewer's run reads it, then the controller's run writes to it."""
    from conftest import _fresh_database

    folder = tmp_path_factory.mktemp("fuzz")
    url = _fresh_database(database_template, folder)
    application = create_app(config.TestingConfig(url, str(folder / "instance")))
    with application.app_context():
        _load(application)
        ids = _real_ids()  # before the run's own tokens, which the controller must not revoke
        tokens = {name: accounts.create_token("test", accounts.user_by_username(name))
                  for name in ("cb_auditor", "wenkong")}
        yield {"app": application, "ids": ids,
               "headers": {name: {"Authorization": f"Bearer {t}"} for name, t in tokens.items()}}
        close_searchers()
        db.session.remove()
        db.engine.dispose()
    clock.freeze(None)


def _load(app) -> None:
    """The demo, plus what it lacks (an attachment, an evidence item), indexed for search."""
    from portal.demo.loader import load_demo
    from portal import storage
    from portal.records.models import Attachment, Record
    from portal.search.evidence import freeze_search
    from portal.search.indexer import drain_outbox

    load_demo()
    controller = accounts.user_by_username("wenkong")
    # the demo's records are all closed by now, so the attachment is stored as attach_file would
    record = db.session.execute(select(Record).order_by(Record.id)).scalars().first()
    data = "现场照片说明\n".encode()
    db.session.add(Attachment(record=record, sha256=storage.store_bytes(data), filename="说明.txt", size=len(data),
                              content_type="text/plain", uploaded_by=controller, uploaded_at=clock.now()))
    db.session.commit()
    drain_outbox()
    freeze_search(controller, {"q": "投诉", "note": "抽样"})
    drain_outbox()
    accounts.create_token("test", controller)  # one to revoke


def _real_ids() -> dict:
    """Ids of the demo's objects, by the first part of the path (and by query parameter)."""
    from portal.accounts.models import ApiToken, User
    from portal.audit.models import Audit, AuditChecklistItem, CorrectiveAction, Finding
    from portal.change_requests.models import ChangeRequest
    from portal.documents.models import ControlledCopy, Document, Revision
    from portal.management_review.models import ManagementReview, ReviewOutput
    from portal.notifications.models import Notification
    from portal.records.models import Attachment, Record
    from portal.search.models import Evidence

    def ids(column, *where):
        return db.session.execute(select(column).where(*where).order_by(column)).scalars().all()

    forms = ids(Document.id, Document.doc_type == "form")
    by_path = {"users": ids(User.id), "tokens": ids(ApiToken.id), "documents": ids(Document.id),
               "revisions": ids(Revision.id), "copies": ids(ControlledCopy.id), "records": ids(Record.id),
               "notifications": ids(Notification.id), "attachments": ids(Attachment.id), "forms": forms,
               "audits": ids(Audit.id), "findings": ids(Finding.id), "actions": ids(CorrectiveAction.id),
               "evidence": ids(Evidence.id), "change-requests": ids(ChangeRequest.id),
               "management-reviews": ids(ManagementReview.id), "review-outputs": ids(ReviewOutput.id)}
    return {**by_path, "item_id": ids(AuditChecklistItem.id),
            "year": sorted({a.planned_start.year for a in db.session.execute(select(Audit)).scalars()}),
            "document_id": by_path["documents"], "form_id": forms, "against": by_path["revisions"],
            "finding_id": by_path["findings"], "audit_id": by_path["audits"], "object_id": by_path["documents"]}


def _aim(case, ids: dict) -> None:
    """Generated ids almost never exist, so every answer would be a 404: three in four are
    pointed at a real object (deterministically), so that success answers are checked too."""
    first = case.operation.path.strip("/").split("/")[0]
    for params, kind_of in ((case.path_parameters, lambda name: name if name in ids else first),
                            (case.query, lambda name: name)):
        for name, value in list((params or {}).items()):
            known = ids.get(kind_of(name)) or []
            if known and isinstance(value, int) and not isinstance(value, bool) and value % 4:
                params[name] = known[value % len(known)]


def _run(case, demo, username: str) -> None:
    _aim(case, demo["ids"])
    case.call_and_validate(app=demo["app"], headers=demo["headers"][username], checks=CHECKS)


@full.include(method="GET").parametrize()
@FUZZ_SETTINGS
def test_reads_as_the_external_reviewer(case, demo):
    _run(case, demo, "cb_auditor")


@fuzz_only.exclude(method="GET").parametrize()
@FUZZ_SETTINGS
def test_writes_as_the_external_reviewer(case, demo):
    _run(case, demo, "cb_auditor")


@full.parametrize()
@FUZZ_SETTINGS
def test_as_the_controller(case, demo):
    _run(case, demo, "wenkong")
