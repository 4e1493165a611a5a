"""What a signed-in user receives is never cached (Cache-Control: no-store), and HSTS is sent
once the portal says its cookies are secure (issue 9, "Also")."""
from portal.config import Config
from factories import PASSWORD


def sign_in(app, client, user):
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


def test_pages_and_downloads_of_a_signed_in_user_are_not_stored(app, f):
    user = f.user("controller")
    rev = f.effective(f.document(controller=user))
    client = app.test_client()
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    sign_in(app, client, user)
    for url in ("/", f"/documents/{rev.document_id}", f"/revisions/{rev.id}/export.docx"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    static = client.get("/static/portal.css")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_api_answers_are_not_stored(f):
    response = f.api(f.user()).get("/me")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_hsts_follows_secure_cookies(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setenv("PORTAL_SECURE_COOKIES", "1")
    assert Config().HSTS is True
    app.config["HSTS"] = True
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")
