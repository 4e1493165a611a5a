"""Message catalogues: complete, compiled, consistent with the code, and actually used.

After adding or changing a UI string (``_()``, ``gettext``, ``_l()`` in Python, ``_()`` in a
template), run from the repository root::

    pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .
    pybabel update -i portal/translations/messages.pot -d portal/translations
    pybabel compile -d portal/translations

translating the new zh_CN entries (and removing any ``#, fuzzy`` flag) between the update
and the compile. The English catalogue keeps empty msgstrs: the English msgids are shown.

Flask-Babel looks a locale's catalogue up under ``str(babel.Locale.parse(name))``: for
``zh_CN`` that is ``zh_Hans_CN``, so a catalogue kept in a ``zh_CN`` directory is never
loaded (see test_chinese_catalogue_is_where_flask_babel_looks).
"""
import gettext
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "portal" / "translations"
POT = TRANSLATIONS / "messages.pot"
# Every catalogue directory present; the Chinese one(s) must be fully translated.
CATALOGUES = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
CHINESE = [c for c in CATALOGUES if c.split("_")[0] == "zh"]

COMMANDS = (
    "pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .\n"
    "    pybabel update -i portal/translations/messages.pot -d portal/translations\n"
    "    (translate the new and fuzzy entries in the Chinese messages.po under portal/translations/)\n"
    "    pybabel compile -d portal/translations"
)
HOWTO = "\nRun from the repository root:\n    " + COMMANDS

PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[sdifrxXeEgGc]")


def _read(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def _ids(catalog) -> set:
    return {(m.id, m.context) for m in catalog if m.id}


def _show(keys) -> str:
    return "\n".join(f"    {k[0]!r}" + (f" (context {k[1]!r})" if k[1] else "") for k in sorted(keys, key=str))


def _po(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _texts(message) -> list[str]:
    return [s for s in (message.string if isinstance(message.string, tuple) else (message.string,))]


def _msgids(message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


@pytest.fixture(scope="module")
def pot():
    return _read(POT)


@pytest.fixture(scope="module", params=CHINESE)
def zh(request):
    return _read(_po(request.param))


def test_catalogues_exist():
    assert "en" in CATALOGUES and CHINESE, f"Expected an English and a Chinese catalogue, found {CATALOGUES}"


def test_chinese_catalogue_is_where_flask_babel_looks(app):
    """Flask-Babel loads str(Locale.parse(locale)); zh_CN parses to zh_Hans_CN."""
    wanted = str(Locale.parse(app.config["BABEL_DEFAULT_LOCALE"]))
    assert (TRANSLATIONS / wanted / "LC_MESSAGES" / "messages.mo").exists() or \
        (TRANSLATIONS / wanted.split("_")[0] / "LC_MESSAGES" / "messages.mo").exists(), (
        f"Flask-Babel looks for portal/translations/{wanted}/LC_MESSAGES/messages.mo (Babel "
        f"canonicalises {app.config['BABEL_DEFAULT_LOCALE']!r} to {wanted!r}); found only {CATALOGUES}.")


def test_pot_is_current_with_the_code(tmp_path, pot):
    """Re-extract into a temporary template: the msgids must equal the committed ones."""
    fresh = tmp_path / "messages.pot"
    result = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-o", str(fresh), "."],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"pybabel extract failed:\n{result.stdout}\n{result.stderr}"
    extracted, committed = _ids(_read(fresh)), _ids(pot)
    added, removed = extracted - committed, committed - extracted
    assert not added and not removed, (
        "portal/translations/messages.pot is out of date with the code and templates.\n"
        + (f"  New strings, not in the catalogue:\n{_show(added)}\n" if added else "")
        + (f"  Strings in the catalogue no longer used:\n{_show(removed)}\n" if removed else "")
        + HOWTO)


@pytest.mark.parametrize("locale", CATALOGUES)
def test_catalogue_matches_template(locale, pot):
    catalog = _read(_po(locale))
    missing, stale = _ids(pot) - _ids(catalog), _ids(catalog) - _ids(pot)
    assert not missing and not stale, (
        f"portal/translations/{locale}/LC_MESSAGES/messages.po was not updated from messages.pot.\n"
        + (f"  Missing:\n{_show(missing)}\n" if missing else "")
        + (f"  Not in messages.pot:\n{_show(stale)}\n" if stale else "")
        + HOWTO)


def test_every_msgid_has_a_chinese_translation(pot, zh):
    untranslated = [k for k in sorted(_ids(pot), key=str)
                    if (m := zh.get(*k)) is None or not all(s.strip() for s in _texts(m))]
    fuzzy = [(m.id, m.context) for m in zh if m.id and m.fuzzy]
    assert not untranslated, "No Chinese translation for:\n" + _show(untranslated) + HOWTO
    assert not fuzzy, ("Fuzzy Chinese entries (check the translation, then delete the "
                       "'#, fuzzy' line):\n" + _show(fuzzy) + HOWTO)
    assert not zh.fuzzy, "The Chinese catalogue header is marked fuzzy; pybabel compile would skip it."


def test_placeholders_survive_translation(zh):
    wrong = []
    for m in zh:
        if not m.id:
            continue
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in _msgids(m)))
        for text in _texts(m):
            if text and set(PLACEHOLDER.findall(text)) != wanted:
                wrong.append(f"    {m.id!r} -> {text!r} (expected placeholders {sorted(wanted)})")
    assert not wrong, "Translations must keep exactly the %(name)s placeholders of the msgid:\n" + "\n".join(wrong)


@pytest.mark.parametrize("locale", CATALOGUES)
def test_mo_is_compiled_from_po(locale):
    """The committed .mo must carry the same translations as the .po compiled now."""
    buf = io.BytesIO()
    write_mo(buf, _read(_po(locale)))  # what `pybabel compile` would write (fuzzy left out)
    expected = gettext.GNUTranslations(io.BytesIO(buf.getvalue()))
    mo = _po(locale).with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing." + HOWTO
    with mo.open("rb") as fh:
        actual = gettext.GNUTranslations(fh)
    want = {k: v for k, v in expected._catalog.items() if k != ""}
    have = {k: v for k, v in actual._catalog.items() if k != ""}
    differing = sorted({k for k in want.keys() | have.keys() if want.get(k) != have.get(k)}, key=str)
    assert not differing, (
        f"{mo.relative_to(ROOT)} is stale; it differs from the .po for:\n"
        + "\n".join(f"    {k!r}: mo={have.get(k)!r} po={want.get(k)!r}" for k in differing[:20])
        + "\nRun: pybabel compile -d portal/translations")


def test_stored_code_words_are_in_the_catalogue(pot):
    """Values shown through _(value) in templates cannot be extracted: portal/vocabulary.py lists them."""
    from portal.accounts.models import ROLES
    from portal.documents import models as documents
    from portal.notifications.models import KINDS
    from portal.records.models import RECORD_STATUSES
    from portal.search.query import FACETS
    from portal.search.schema import KINDS as SEARCH_KINDS
    from portal.vocabulary import WORDS

    words = set().union(
        ROLES, documents.DOC_TYPES, documents.CONFIDENTIALITY, documents.DOCUMENT_STATUSES,
        documents.REVISION_STATES, documents.COPY_STATUSES, documents.RECALL_OUTCOMES,
        documents.REVIEW_OUTCOMES, RECORD_STATUSES, KINDS, SEARCH_KINDS, FACETS, ("accept", "reject"))
    assert not words - set(WORDS), f"Add to portal/vocabulary.py WORDS: {sorted(words - set(WORDS))}"
    assert all(str(WORDS[w]._args[0]) == w for w in WORDS), "WORDS keys must equal their msgids"
    ids = {m.id for m in pot if m.id}
    assert not words - ids, f"Not in messages.pot: {sorted(words - ids)}" + HOWTO


def _get(client, url):
    # The app fixture keeps one app context (and so one flask.g) open across requests, and
    # Flask-Babel caches the request's locale and translations on g: forget them first, as
    # a fresh request in production would.
    from flask_babel import refresh

    refresh()
    return client.get(url)


def test_login_page_is_chinese_by_default_and_english_on_request(client):
    page = _get(client, "/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "登录" in html and "Log in" not in html
    assert '<html lang="zh-CN">' in html

    english = _get(client, "/login?lang=en")
    assert english.status_code == 200
    html = english.get_data(as_text=True)
    assert "Log in" in html and "登录" not in html
    assert '<html lang="en">' in html

    again = _get(client, "/login")  # the choice is remembered in the session
    assert "Log in" in again.get_data(as_text=True)


def test_stored_words_translate_in_chinese(app):
    from flask_babel import force_locale, gettext as _

    with app.test_request_context("/"):
        with force_locale("zh_CN"):
            assert (_("effective"), _("controller"), _("procedure"), _("reject")) == ("生效", "文控", "程序文件", "驳回")
        with force_locale("en"):
            assert _("work_instruction") == "work_instruction"


@pytest.mark.parametrize("path, method, status, text", [
    ("/no-such-page", "get", 404, "页面不存在"),
    ("/search/evidence", "get", 405, "不能以这种方式打开此页面"),
])
def test_http_errors_in_the_browser_are_the_portals_page_in_chinese(client, path, method, status, text):
    response = getattr(client, method)(path)
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert text in body and "文控管理平台" in body  # the portal's layout, not Werkzeug's bare page


def test_http_errors_on_the_api_stay_json(client):
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
