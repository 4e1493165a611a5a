"""Browser clients for the account tests: each request in its own application context (a
fresh `flask.g`, as a real server gives), signed in through the login form."""
import pytest

from factories import PASSWORD
from pages import PageClient


class Browser(PageClient):
    """One browser (tests/pages.py: the test's session is rolled back around each request so
    factory objects are re-read afterwards and no snapshot of the test's is held while the
    request writes), signing in without a CSRF token."""

    def sign_in(self, username: str, password: str = PASSWORD, address: str = "127.0.0.1"):
        return self.post("/login", data={"username": username, "password": password},
                         environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def browser(app):
    """browser() → a new browser, CSRF off (the CSRF rule has its own tests)."""
    app.config["WTF_CSRF_ENABLED"] = False
    return lambda: Browser(app, app.response_class, use_cookies=True)


@pytest.fixture
def signed_in(browser):
    """signed_in(user) → a browser signed in as the user."""

    def make(user, password: str = PASSWORD):
        client = browser()
        response = client.sign_in(user.username, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client

    return make
