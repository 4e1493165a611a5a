"""Walk every GET route of the URL map as the external reviewer, as a staff member of
another department and as an auditor of another department (who reads the whole trail), by
browser session and by API token, with the ids of every fixture object: no page, API answer,
export or download may hold a marker word of something hidden from that reader, and nothing
answers 5xx (hidden_world.py says what is hidden from whom)."""
import io
import re
import zipfile
from urllib.parse import unquote

import pytest

from pages import PageClient
from records.conftest import browser, kit  # noqa: F401  (shared fixtures)
from security.hidden_world import HIDDEN_FROM_BOTH, HIDDEN_FROM_REVIEWER, PROBE, build

TAG = re.compile(r"<[^>]+>")
ARGUMENT = re.compile(r"<(?:int:)?(\w+)>")
# route argument → the kind of fixture object whose ids it takes
ID_KINDS = {"doc_id": "document", "form_id": "document", "rev_id": "revision", "record_id": "record",
            "attachment_id": "attachment", "copy_id": "copy", "audit_id": "audit",
            "finding_id": "finding", "action_id": "action", "evidence_id": "evidence", "run_id": "run",
            "objective_id": "objective", "cr_id": "change_request",
            "review_id": "management_review", "user_id": "user"}
SEARCHES = [f"q={PROBE}", f"q={PROBE}&state=any", "kind=document&state=any", "kind=record&state=any",
            "kind=finding&state=any", "kind=action&state=any", "kind=run&state=any", "kind=change_request&state=any",
            "kind=management_review&state=any", "state=any&sort=date&per_page=100"]
TRAIL_TYPES = {"document": "document", "revision": "revision", "record": "record", "copy": "copy",
               "audit": "audit", "finding": "finding", "action": "action", "evidence": "evidence",
               "run": "run", "change_request": "change_request",
               "management_review": "management_review"}


def _text(response) -> str:
    """What a reader gets, as text: the headers (a download's file name) and the page, JSON
    or file, or every XML part of a .docx/.xlsx."""
    data, headers = response.get_data(), unquote(str(response.headers))
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                     if n.endswith((".xml", ".rels"))]
        # Word and Excel split text into runs: drop the tags so split words join again
        return headers + "\n".join(TAG.sub("", p) for p in parts)
    return headers + data.decode("utf-8", "replace")


def _urls(app, world) -> list[str]:
    """Every GET rule with each fixture id substituted, plus the query variants that reach
    the list filters, diffs, searches and the trail."""
    ids, years = world.ids, {_today().year} | _audit_years()
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        names = ARGUMENT.findall(rule.rule)
        if not names:
            urls.append(rule.rule)
        elif names == ["year"]:
            urls += [ARGUMENT.sub(str(y), rule.rule) for y in years]
        elif len(names) == 1 and names[0] in ID_KINDS:
            urls += [ARGUMENT.sub(str(i), rule.rule) for i in ids[ID_KINDS[names[0]]]]
        else:
            raise AssertionError(f"the walk does not know how to fill {rule.rule}")
    for prefix in ("", "/api/v1"):
        urls += [f"{prefix}/search?{q}" for q in SEARCHES]
        urls += [f"{prefix}/revisions/{a}/diff?against={b}" for a, b in _same_document_pairs()]
    for form_id in ids["document"]:
        urls += [f"/api/v1/records?form_id={form_id}", f"/forms/{form_id}/records?status=voided",
                 f"/api/v1/copies?document_id={form_id}", f"/documents/{form_id}?as_of={_today()}"]
    urls += [f"/api/v1/records?number={n}" for n in _record_numbers()]
    urls += [f"/api/v1/trail?object_type={t}&object_id={i}&per_page=100"
             for kind, t in TRAIL_TYPES.items() for i in ids[kind]]
    urls += [f"/api/v1/trail?per_page=100&page={page}" for page in range(1, _trail_pages() + 1)]
    urls += ["/api/v1/documents?per_page=100&q=mk", "/documents?q=mk",
             "/api/v1/records?per_page=100", "/api/v1/actions?per_page=100", "/api/v1/audits?per_page=100",
             "/api/v1/copies?per_page=100", "/api/v1/evidence?per_page=100", "/api/v1/runs?per_page=100",
             "/runs?state=open", "/api/v1/runs?overdue=1", "/api/v1/change-requests?per_page=100",
             "/change-requests?state=open", "/api/v1/management-reviews?per_page=100"]
    urls += [f"/api/v1/evidence?finding_id={i}" for i in ids["finding"]]
    urls += [f"/api/v1/evidence?audit_id={i}" for i in ids["audit"]]
    return urls


def _today():
    from portal import clock

    return clock.today()


def _audit_years() -> set[int]:
    from portal.audit.models import Audit
    from portal.extensions import db

    return {a.planned_start.year for a in db.session.query(Audit).all()}


def _trail_pages() -> int:
    from portal.extensions import db
    from portal.trail.models import TrailEntry

    return db.session.query(TrailEntry).count() // 100 + 1


def _same_document_pairs():
    from portal.documents.models import Revision
    from portal.extensions import db

    revs = db.session.query(Revision).all()
    return [(a.id, b.id) for a in revs for b in revs if a.document_id == b.document_id and a.id != b.id]


def _record_numbers():
    from portal.extensions import db
    from portal.records.models import Record

    return [r.number for r in db.session.query(Record).all()]


def _api_client(app, user, f):
    token = f.token(user)
    client = PageClient(app, app.response_class)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def world(f, kit):  # noqa: F811
    from portal.search.index import close_searchers

    yield build(f, kit.pdf("MKCONFATTACH content"))
    close_searchers()


def _walk(app, world, reader: str, markers: list[str], browser_client, api_client, stop_when_all=False):
    """(problems, markers seen): each URL that answers 5xx or shows one of `markers`."""
    problems, lowered, seen = [], [m.lower() for m in markers], set()
    for url in _urls(app, world):
        client = api_client if url.startswith("/api/") else browser_client
        response = client.get(url)
        if response.status_code >= 500:
            problems.append(f"{reader} {url}: {response.status_code}")
            continue
        text = _text(response).lower()
        found = [m for m in lowered if m in text]
        if found:
            problems.append(f"{reader} {url}: {response.status_code} shows {found}")
            seen.update(found)
            if stop_when_all and seen == set(lowered):
                break
    return problems, seen


READERS = [("reviewer", HIDDEN_FROM_BOTH + HIDDEN_FROM_REVIEWER),  # cb_auditor-like
           ("outsider", HIDDEN_FROM_BOTH),  # staff of another department
           ("auditor", HIDDEN_FROM_BOTH)]  # an auditor of another department: the whole trail


def test_no_hidden_marker_anywhere(app, f, world, browser):  # noqa: F811
    """One world, walked by each reader (and by the controller, who must see every marker:
    proof that the walk reaches the places where they would leak)."""
    problems = []
    for reader, markers in READERS:
        user = world.users[reader]
        problems += _walk(app, world, reader, markers, browser(user), _api_client(app, user, f))[0]
    assert problems == [], "\n".join(problems)

    ctl = world.users["controller"]
    everything = HIDDEN_FROM_BOTH + HIDDEN_FROM_REVIEWER
    found, seen = _walk(app, world, "controller", everything, browser(ctl), _api_client(app, ctl, f),
                        stop_when_all=True)
    assert seen == {m.lower() for m in everything}
    assert [p for p in found if "shows" not in p] == []  # no 5xx for the controller either
