"""A browser for page tests: each request in its own application context (a fresh `g`, so
the signed-in user is not the test's cached one) with the test's session rolled back around
it, signed in through the login form."""
from flask.testing import FlaskClient

from factories import CSRF_RE, PASSWORD
from portal.extensions import db


class PageClient(FlaskClient):
    def open(self, *args, **kwargs):
        db.session.rollback()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.rollback()
        return response


def signed_in(app, user, password=PASSWORD) -> PageClient:
    """A PageClient signed in as ``user``; ``.csrf`` is a token for its posts."""
    client = PageClient(app, app.response_class, use_cookies=True)
    client.csrf = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    resp = client.post("/login", data={"csrf_token": client.csrf, "username": user.username,
                                       "password": password})
    assert resp.status_code in (302, 303), resp.status_code
    return client
