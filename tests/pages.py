"""A browser for page tests: each request in its own application context (a fresh `g`, so
the signed-in user is not the test's cached one) with the test's session rolled back around
it, signed in through the login form; and what a browser would post from one of a page's forms."""
from html.parser import HTMLParser

from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from factories import CSRF_RE, PASSWORD
from portal.extensions import db


class PageClient(FlaskClient):
    def open(self, *args, **kwargs):
        db.session.rollback()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.rollback()
        return response


def signed_in(app, user, password=PASSWORD, lang=None) -> PageClient:
    """A PageClient signed in as ``user``; ``.csrf`` is a token for its posts. ``lang`` ("en")
    switches the session's language first, as ``/login?lang=en`` does for a browser."""
    client = PageClient(app, app.response_class, use_cookies=True)
    login_page = client.get("/login" if lang is None else f"/login?lang={lang}")
    client.csrf = CSRF_RE.search(login_page.get_data(as_text=True)).group(1)
    resp = client.post("/login", data={"csrf_token": client.csrf, "username": user.username,
                                       "password": password})
    assert resp.status_code in (302, 303), resp.status_code
    return client


class _Forms(HTMLParser):
    """The <form>s of a page with the fields a browser would submit (disabled ones left out)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._select, self._option, self._textarea = [], None, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                          "fields": []}
            self.forms.append(self._form)
        elif self._form is None or "disabled" in a:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "reset", "image"):
                self._form["fields"].append((a["name"], a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "first": None, "chosen": None}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            value = self._option["value"] if self._option["value"] is not None else self._option["text"].strip()
            if self._select["first"] is None:
                self._select["first"] = value
            if self._option["selected"]:
                self._select["chosen"] = value
            self._option = None
        elif tag == "select" and self._select is not None:
            chosen = self._select["chosen"] if self._select["chosen"] is not None else self._select["first"]
            if chosen is not None:
                self._form["fields"].append((self._select["name"], chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea[1]
            self._form["fields"].append((self._textarea[0], text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self._form = None


def page_form(html: str, action_part: str = "", method: str = "post") -> MultiDict:
    """What a browser would send from the one form whose action contains `action_part`
    (an empty `action_part`: the form that posts back to the page itself)."""
    parser = _Forms()
    parser.feed(html)
    found = [form for form in parser.forms if form["method"] == method
             and (action_part in form["action"] if action_part else form["action"] == "")]
    assert len(found) == 1, [(form["action"], form["method"]) for form in parser.forms]
    return MultiDict(found[0]["fields"])
