"""Housekeeping the server runs by itself: due releases, review reminders, escalations of overdue
steps, reminders and escalations of corrective actions, e-mail, indexing."""
import logging
import threading
import time

from portal.database import write_intent

log = logging.getLogger("portal.jobs")
JOBS_INTERVAL_SECONDS = 60


def run_jobs_once(app) -> dict:
    """One round of every periodic job, each in its own writing transaction."""
    from portal.audit.reminders import escalate_overdue_actions, remind_due_actions
    from portal.documents.review import notify_due_reviews
    from portal.documents.workflow import activate_due_revisions
    from portal.extensions import db
    from portal.notifications.services import deliver_backlog
    from portal.procedures.services import escalate_overdue

    done = {}
    with app.app_context():
        token = write_intent.set(True)
        try:
            for name, job in (("activated", activate_due_revisions),
                              ("review_reminders", lambda: notify_due_reviews(app.config["REVIEW_WARNING_DAYS"])),
                              # before delivery: this round's escalation notices go out in it
                              ("escalations", escalate_overdue),
                              ("action_reminders", remind_due_actions),
                              ("action_escalations", escalate_overdue_actions),
                              ("notifications", deliver_backlog)):
                try:
                    done[name] = job()
                except Exception:  # one failing job must not stop the others
                    db.session.rollback()
                    log.exception("job %s failed", name)
        finally:
            write_intent.reset(token)
            db.session.remove()
    return done


_indexer_wake = threading.Event()


def wake_indexer() -> None:
    """Tell the background indexer (if this process runs one) that changes are queued."""
    _indexer_wake.set()


def start_background_indexer(app) -> threading.Thread:
    """The process's one index writer: drains the outbox whenever woken, and every second."""
    from portal.search.indexer import drain_quietly

    def loop():
        while True:
            _indexer_wake.wait(1.0)
            _indexer_wake.clear()
            with app.app_context():
                drain_quietly(wait=10.0)

    thread = threading.Thread(target=loop, name="portal-indexer", daemon=True)
    thread.start()
    return thread


def start_background_jobs(app, interval: float = JOBS_INTERVAL_SECONDS) -> threading.Thread:
    """A daemon thread that runs the jobs every `interval` seconds while the server lives."""
    def loop():
        while True:
            run_jobs_once(app)
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="portal-jobs", daemon=True)
    thread.start()
    return thread
