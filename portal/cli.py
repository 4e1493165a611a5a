"""The `portal` command line (CONTRACT.md "Command line")."""
import functools
import sys

import click

from portal.errors import DomainError


def _app():
    from portal import create_app

    return create_app()


def with_app(write: bool = True):
    """Run the command inside an app context; domain errors end with one line on stderr."""
    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            from portal.database import write_intent

            app = _app()
            with app.app_context():
                token = write_intent.set(write)
                try:
                    return fn(*args, **kwargs)
                except DomainError as exc:
                    from portal.extensions import db

                    db.session.rollback()
                    click.echo(f"error: {exc.message}", err=True)
                    sys.exit(1)
                finally:
                    write_intent.reset(token)
        return wrapper
    return decorator


@click.group()
def main():
    """portal: document control, numbered records and internal audits (文控门户)."""


def init_database() -> None:
    """Apply migrations and load the clause catalogue; safe to run again."""
    from flask import current_app
    from flask_migrate import upgrade

    from portal.audit.clauses import load_catalogue
    from portal.workdays import load_calendar

    from portal.search.indexer import ensure_current

    upgrade(directory=current_app.extensions["migrate"].directory)
    load_catalogue()
    load_calendar()
    ensure_current()


@main.command("init")
@with_app()
def init_command():
    """Create or upgrade the schema and the clause catalogue (idempotent)."""
    init_database()
    click.echo("portal initialised")


@main.command("create-department")
@click.argument("code")
@click.argument("name")
@click.option("--manager", default=None, help="username of the manager, who receives escalations")
@with_app()
def create_department(code, name, manager):
    """Register a department, e.g. `portal create-department SH 售后服务部 --manager wang`."""
    from portal.accounts.services import create_department as create

    dept = create("cli", code, name, manager)
    managed = f", manager {dept.manager.username}" if dept.manager else ""
    click.echo(f"department {dept.code} {dept.name} created{managed}")


@main.command("create-user")
@click.argument("username")
@click.option("--password", required=True)
@click.option("--role", required=True)
@click.option("--department", default=None)
@click.option("--name", default=None)
@click.option("--expires", default=None, help="YYYY-MM-DD: last day the account works")
@click.option("--email", default=None, help="address for e-mail notifications")
@with_app()
def create_user(username, password, role, department, name, expires, email):
    """Create an account with one of the roles of CONTRACT.md."""
    from portal.accounts.services import create_user as create
    from portal.errors import ValidationFailed
    from portal.validation import parse_date

    expiry = parse_date(expires) if expires else None
    if expires and expiry is None:
        raise ValidationFailed("--expires must be a date YYYY-MM-DD.")
    user = create("cli", username, password, role, department, name, expiry, email)
    click.echo(f"user {user.username} ({user.role}) created")


@main.command("create-token")
@click.argument("username")
@with_app()
def create_token(username):
    """Print a new API token for USERNAME as the last line."""
    from portal.accounts.services import create_token as create, user_by_username

    click.echo(create("cli", user_by_username(username)))


@main.command("load-forms")
@click.option("--dir", "directory", default=None, type=click.Path(file_okay=False),
              help="folder of form templates (default: form_templates/ beside the package)")
@click.option("--as", "username", required=True, help="the controller who registers them")
@with_app()
def load_forms_command(directory, username):
    """Register the shipped forms as form documents with draft A/0 revisions."""
    from pathlib import Path

    from portal.accounts.services import user_by_username
    from portal.records.form_loader import load_forms, read_form_templates

    specs = read_form_templates(Path(directory) if directory else None)
    loaded, skipped = load_forms(user_by_username(username), specs)
    for rev in loaded:
        click.echo(f"{rev.document.code} {rev.document.title}: draft {rev.label}")
    if skipped:
        click.echo("already registered: " + ", ".join(skipped))


@main.command("reindex")
@with_app()
def reindex_command():
    """Rebuild the search index from the database into a fresh folder and swap it in."""
    from portal.search.indexer import reindex

    with click.progressbar(length=1, label="indexing") as bar:
        def progress(done, total):
            bar.length = max(total, 1)
            bar.update(done - bar.pos)
        count = reindex(progress=progress)
    click.echo(f"indexed {count} items")


@main.command("index-worker")
@click.option("--interval", default=1.0, type=float, help="seconds between outbox polls")
@with_app()
def index_worker(interval):
    """The single index writer, for deployments that run several web processes."""
    import time

    from portal.search.index import close_searchers
    from portal.search.indexer import drain_outbox, ensure_current

    ensure_current()
    click.echo("index worker running; Ctrl+C to stop")
    try:
        while True:
            if not drain_outbox():
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        close_searchers()


@main.command("run-jobs")
@with_app()
def run_jobs():
    """Run the periodic jobs once (due releases, review reminders, e-mail); for cron."""
    from flask import current_app

    from portal.jobs import run_jobs_once

    click.echo(run_jobs_once(current_app._get_current_object()))


@main.command("verify-trail")
@with_app(write=False)
def verify_trail():
    """Check the audit trail's hash chain; non-zero exit names the first broken entry."""
    from portal.trail.services import verify_chain

    result = verify_chain()
    if result.ok:
        click.echo(f"trail intact: {result.checked} entries")
        return
    click.echo(f"trail broken at entry {result.broken_seq}: {result.problem}", err=True)
    sys.exit(2)


@main.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--threads", default=8, type=int)
def serve(host, port, threads):
    """Serve the portal with waitress (a production WSGI server)."""
    run_server(_app(), host, port, threads)


def run_server(app, host: str, port: int, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    from portal.jobs import start_background_indexer, start_background_jobs
    from portal.search.indexer import ensure_current

    with app.app_context():
        if ensure_current():  # the analyzer changed since the index was built
            click.echo("search index rebuilt for the current analyzer")
    start_background_jobs(app)
    if app.config["SEARCH_INLINE"]:
        start_background_indexer(app)
    click.echo(f"portal serving on http://{host}:{port}/")
    waitress_serve(app, host=host, port=port, threads=threads, ident="portal")


@main.command("demo")
@click.option("--port", default=8000, type=int)
@click.option("--host", default="127.0.0.1")
@click.option("--no-serve", is_flag=True, help="load the demo data and exit")
def demo(port, host, no_serve):
    """Initialise, load realistic demo data from the seeds, and serve."""
    from portal.demo.loader import load_demo

    app = _app()
    with app.app_context():
        from portal.database import write_intent

        write_intent.set(True)
        init_database()
        summary = load_demo()
        from portal.extensions import db
        from portal.search.indexer import drain_outbox

        db.session.commit()  # release the write lock before the indexer's own session reads
        drain_outbox()
        click.echo(summary)
    if not no_serve:
        run_server(app, host, port)


if __name__ == "__main__":
    main()
