"""Locale and time-zone selection: Simplified Chinese unless the user chose English."""
from flask import current_app, has_request_context, request, session
from flask_login import current_user

LOCALES = ("zh_CN", "en")


def select_locale() -> str:
    if not has_request_context():  # a service called from the command line or a test
        return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")
    chosen = request.args.get("lang")
    if chosen in LOCALES:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in LOCALES:
        return session["lang"]
    user = current_user if current_user and current_user.is_authenticated else None
    if user is not None and getattr(user, "locale", None) in LOCALES:
        return user.locale
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]
