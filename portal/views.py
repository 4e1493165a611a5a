"""Site-wide pages and request hooks: dashboard, errors, write intent, due releases."""
import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.database import write_intent
from portal.extensions import db, login_manager

bp = Blueprint("main", __name__)
_ACTIVATION_INTERVAL = 60.0
_last_activation = [0.0]


@login_manager.user_loader
def load_user(user_id: str):
    from portal.accounts.services import user_for_session

    return user_for_session(user_id)


WRITING = lambda: request.method not in ("GET", "HEAD", "OPTIONS")  # noqa: E731


def register_request_hooks(app) -> None:
    """Due releases are activated, read-only accounts stay read-only, changes are indexed
    after commit, and templates get the portal's helpers. (A request takes the SQLite write
    lock only where it starts to write: portal.database.configure_sqlite.)"""
    from portal import clock
    from portal.api_support import reject_bad_text_in_request

    app.before_request(_activate_due_now_and_then)
    app.before_request(reject_bad_text_in_request)
    app.before_request(_refuse_writes_by_read_only_accounts)
    app.after_request(_index_changes)
    app.teardown_request(lambda _exc: write_intent.set(False))
    app.context_processor(_template_context)
    # Globals, not context variables: imported macros see globals only.
    app.jinja_env.globals["local_time"] = clock.local
    app.jinja_env.globals["zh"] = chinese_term


def _activate_due_now_and_then():
    if not current_app.testing and time.monotonic() - _last_activation[0] > _ACTIVATION_INTERVAL:
        _last_activation[0] = time.monotonic()
        activate_due()


def _refuse_writes_by_read_only_accounts():
    if (WRITING() and current_user.is_authenticated and current_user.is_read_only
            and request.endpoint != "accounts.logout" and not request.path.startswith("/api/")):
        from portal.errors import NotAllowed

        raise NotAllowed(_("This account is read-only."), code="read_only")


def _index_changes(response):
    """The change is committed by now: index it so search is never stale (one process).
    drain_quietly never raises; on failure the rows stay queued."""
    if current_app.config["SEARCH_INLINE"] and WRITING() and response.status_code < 400:
        from portal.jobs import wake_indexer
        from portal.search.indexer import drain_quietly

        # End any read transaction the rendering opened, so the indexer's own session is
        # not kept waiting for the SQLite write lock.
        db.session.rollback()
        # Index now if the writer is free; never queue behind another request for it
        # (the background indexer of `portal serve` picks up whatever is left).
        drain_quietly(wait=0.0)
        wake_indexer()
    return response


def _template_context() -> dict:
    from flask_babel import get_locale

    from portal import clock
    from portal.i18n import LOCALES

    unread = 0
    if current_user and current_user.is_authenticated:
        from portal.notifications.services import unread_count

        unread = unread_count(current_user)
    return {"today": clock.today(), "locales": LOCALES, "get_locale": get_locale, "unread": unread}


def chinese_term(term: str) -> str:
    """The Chinese name of a domain term beside its English label, in the English UI only
    (the Chinese UI already says it)."""
    from flask_babel import get_locale

    return f" ({term})" if str(get_locale()).startswith("en") else ""


def activate_due() -> int:
    """Flip released revisions whose effective date has come, in a writing transaction."""
    from portal.documents.workflow import activate_due_revisions, has_due_revisions

    if not has_due_revisions():
        return 0
    db.session.commit()
    token = write_intent.set(True)
    try:
        return activate_due_revisions()
    finally:
        write_intent.reset(token)


HTTP_ERRORS = {400: _l("The request could not be understood (an expired form? reload the page)."),
               403: _l("You may not do this."), 404: _l("No such page."),
               405: _l("This page cannot be opened that way."), 413: _l("The upload is too large.")}


def render_http_error(exc):
    """A routing or protocol error in the browser: the portal's page, in the user's language."""
    message = HTTP_ERRORS.get(exc.code, exc.name)
    return render_template("error.html", status=exc.code, message=message), exc.code


def render_domain_error(exc):
    """A domain error in the browser: flash it and go back where the user came from."""
    if exc.status == 401:
        return redirect(url_for("accounts.login", next=request.path))
    if request.method == "GET" or exc.status == 404 or exc.code == "read_only":
        return render_template("error.html", status=exc.status, message=exc.message), exc.status
    flash(exc.message, "error")
    target = request.referrer or url_for("main.dashboard")
    return redirect(target)


@bp.get("/")
@login_required
def dashboard():
    """My tasks: revisions waiting for my signature, my drafts, releases to do, overdue steps, my
    corrective actions and audits, overdue actions and actions to verify."""
    from portal.audit.queries import action_dashboard
    from portal.documents import queries
    from portal.procedures.queries import overdue_steps_for

    return render_template("dashboard.html", tasks=queries.my_tasks(current_user),
                           **action_dashboard(current_user),
                           overdue_steps=overdue_steps_for(current_user),
                           to_release=queries.to_release(current_user),
                           **queries.copy_tasks(current_user, current_app.config["ACKNOWLEDGE_DAYS"]),
                           reviews=_reviews_due(current_user))


def _reviews_due(user):
    from portal.documents.review import reviews_due

    return reviews_due(user, current_app.config["REVIEW_WARNING_DAYS"])


@bp.get("/healthz")
def healthz():
    """Liveness probe for load balancers."""
    return {"status": "ok"}
