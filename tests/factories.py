"""Test object factories: departments, users, tokens, documents at any workflow state."""
import itertools
import re

from portal.accounts import services as accounts
from portal.documents import services as documents
from portal.documents import workflow

PASSWORD = "correct-horse-1"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_counter = itertools.count(1)


class Api:
    """A JSON client for /api/v1 that sends a bearer token."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"}
        headers.update(extra or {})
        return headers

    def get(self, path, **kw):
        return self.client.get("/api/v1" + path, headers=self._headers(), **kw)

    def post(self, path, json=None, **kw):
        return self.client.post("/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, path, json=None, **kw):
        return self.client.patch("/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, path, json=None, **kw):
        return self.client.put("/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)


class Factories:
    def __init__(self, app):
        self.app = app

    def department(self, code=None, name="测试部"):
        code = code or f"D{next(_counter)}"
        return accounts.create_department("test", code, name)

    def user(self, role="staff", username=None, department=None, name=None, expires=None, qualified=None):
        """`qualified` (auditors: by default) registers an auditor qualification for every
        standard of the catalogue until 2099, or for a dict(standards=, qualified_until=)."""
        username = username or f"{role}{next(_counter)}"
        if department is None and role != "external_reviewer":
            department = self.department().code
        user = accounts.create_user("test", username, PASSWORD, role, department,
                                    name or f"用户{username}", expires)
        if qualified or (qualified is None and role == "auditor"):
            self.qualify(user, **(qualified if isinstance(qualified, dict) else {}))
        return user

    def qualify(self, user, standards=None, qualified_until="2099-12-31", note=None):
        """An auditor qualification, written as the admin's register keeps it."""
        from datetime import date

        from portal.audit.models import AuditorQualification
        from portal.audit.qualification import catalogue_standards
        from portal.extensions import db

        row = db.session.get(AuditorQualification, user.id) or AuditorQualification(user_id=user.id)
        row.standards = list(standards or catalogue_standards())
        row.qualified_until, row.note = date.fromisoformat(qualified_until), note
        row.updated_by_id = user.id
        db.session.add(row)
        db.session.commit()
        return row

    def token(self, user):
        return accounts.create_token("test", user)

    def api(self, user):
        return Api(self.app.test_client(), self.token(user))

    def login(self, client, user, password=PASSWORD):
        """Sign ``client`` in through the login form, CSRF token and all."""
        token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
        return client.post("/login", data={"csrf_token": token, "username": user.username,
                                           "password": password}, follow_redirects=False)

    def document(self, controller=None, **overrides):
        controller = controller or self.user("controller")
        data = {"code": f"QP{next(_counter):04d}", "title": "文件和资料控制程序", "doc_type": "procedure",
                "department": controller.department_code, "clauses": ["ISO 9001:2015 7.5.3"]}
        data.update(overrides)
        return documents.create_document(controller, data)

    def draft(self, doc, author=None, body="<h2>1 目的</h2><p>规范文件的编制、审核、批准。</p>",
              summary="首版发行", reason=None, level="minor"):
        author = author or self.user("staff")
        return documents.start_revision(author, doc, {"body_html": body, "change_summary": summary,
                                                      "change_reason": reason, "change_level": level})

    def submitted(self, rev, reviewers=None, approver=None):
        reviewers = reviewers or [self.user("approver")]
        approver = approver or self.user("approver")
        workflow.submit_revision(rev.author, rev, {"reviewers": [u.username for u in reviewers],
                                                   "approver": approver.username})
        return rev, reviewers, approver

    def approved(self, rev):
        rev, reviewers, approver = self.submitted(rev)
        for user in reviewers:
            workflow.sign_revision(user, rev, {"meaning": "review", "decision": "accept",
                                               "comment": "同意", "password": PASSWORD})
        workflow.sign_revision(approver, rev, {"meaning": "approve", "decision": "accept",
                                               "comment": "批准", "password": PASSWORD})
        return rev

    def effective(self, doc, controller=None, **draft_kw):
        """A revision taken all the way to effective today."""
        from portal import clock

        rev = self.approved(self.draft(doc, **draft_kw))
        controller = controller or self.user("controller")
        workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
        return rev
