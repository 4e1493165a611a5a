"""portal: document control, numbered records and internal audits for ISO quality systems."""
from flask import Flask

from portal.config import Config


def create_app(config=None) -> Flask:
    """Build the application: configuration, extensions, blueprints, hooks."""
    app = Flask(__name__, instance_relative_config=False)
    cfg = config or Config()
    app.config.from_object(cfg)
    configure_url_converters(app)
    configure_extensions(app)
    configure_blueprints(app)
    configure_hooks(app)
    return app


def configure_url_converters(app: Flask) -> None:
    """Ids beyond a database integer are simply unknown (404), not a database error."""
    from werkzeug.routing import IntegerConverter

    from portal.validation import MAX_ID

    class DatabaseId(IntegerConverter):
        def to_python(self, value: str) -> int:
            number = super().to_python(value)
            return number if number <= MAX_ID else -1  # -1 is never assigned

    app.url_map.converters["int"] = DatabaseId


def configure_extensions(app: Flask) -> None:
    from portal import clock
    from portal.database import configure_sqlite
    from portal.extensions import babel, csrf, db, login_manager, migrate
    from portal.i18n import select_locale, select_timezone
    from pathlib import Path

    clock.configure(app.config["TIMEZONE"])
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    with app.app_context():
        configure_sqlite(db.engine)
    import portal.models  # noqa: F401  (registers every table)


def configure_blueprints(app: Flask) -> None:
    from portal.accounts.api import bp as accounts_api
    from portal.accounts.views import bp as accounts_views
    from portal.api_support import bp as api_root
    from portal.audit.api import bp as audit_api
    from portal.audit.auditor_views import bp as auditor_views
    from portal.audit.programme_api import bp as programme_api
    from portal.audit.programme_views import bp as programme_views
    from portal.audit.views import bp as audit_views
    from portal.documents.api import bp as documents_api
    from portal.documents.copies_api import bp as copies_api
    from portal.notifications.api import bp as notifications_api
    from portal.documents.copies_views import bp as copies_views
    from portal.documents.views import bp as documents_views
    from portal.extensions import csrf
    from portal.records.api import bp as records_api
    from portal.search.api import bp as search_api
    from portal.search.views import bp as search_views
    from portal.records.designer import bp as designer_views
    from portal.records.views import bp as records_views
    from portal.trail.api import bp as trail_api
    from portal.views import bp as main_views
    from portal.procedures.api import bp as procedures_api
    from portal.procedures.views import bp as procedures_views
    from portal.procedures.step_editor import bp as step_editor_views
    from portal.objectives.api import bp as objectives_api
    from portal.objectives.views import bp as objectives_views
    from portal.calendar_api import bp as calendar_api
    from portal.calendar_views import bp as calendar_views
    from portal.management_review.api import bp as management_review_api
    from portal.management_review.views import bp as management_review_views
    from portal.change_requests.api import bp as change_requests_api
    from portal.change_requests.views import bp as change_requests_views

    for bp in (api_root, accounts_api, documents_api, copies_api, records_api, trail_api, audit_api,
               notifications_api, search_api, procedures_api, objectives_api, calendar_api,
               change_requests_api, management_review_api, programme_api):
        csrf.exempt(bp)  # the token API authenticates by bearer token, never by cookie
        app.register_blueprint(bp, url_prefix="/api/v1")
    for bp in (main_views, accounts_views, documents_views, copies_views, records_views,
               designer_views, search_views, audit_views, procedures_views, step_editor_views,
               objectives_views, calendar_views, change_requests_views,
               management_review_views, programme_views, auditor_views):
        app.register_blueprint(bp)


def configure_hooks(app: Flask) -> None:
    from portal.api_support import register_error_handlers
    from portal.security.headers import register_security_headers
    from portal.views import register_request_hooks

    register_error_handlers(app)
    register_security_headers(app)
    register_request_hooks(app)
