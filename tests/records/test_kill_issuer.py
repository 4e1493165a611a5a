"""Numbers stay unique and continuous when issuers run at once or die half-way
(CONTRACT.md: "Numbers are unique and continuous under concurrent issuing, on SQLite and on
PostgreSQL"). The database is the test's own: a SQLite file, or the shared PostgreSQL test DB."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.database import write_intent
from portal.documents.models import Document
from portal.extensions import db
from portal.records import services
from portal.records.models import Record
from portal.trail.services import verify_chain

CHILD = textwrap.dedent('''
    """Issue one record, but stop for good after the number is taken and before the commit."""
    import os
    import sys
    import time

    from sqlalchemy import select

    url, instance, form_id, username, marker = sys.argv[1:6]

    from portal import create_app
    from portal.config import TestingConfig

    app = create_app(TestingConfig(url, instance))
    with app.app_context():
        import portal.trail.services as trail
        from portal.accounts.models import User
        from portal.database import write_intent
        from portal.documents.models import Document
        from portal.extensions import db
        from portal.records import services

        real_record = trail.record

        def paused(actor, action, object_type, object_id, before=None, after=None, reason=None):
            entry = real_record(actor, action, object_type, object_id, before, after, reason)
            if action == "record.issue":
                db.session.flush()  # the record row and the counter are written, not committed
                with open(marker + ".tmp", "w", encoding="utf-8") as out:
                    out.write(after["number"])
                os.replace(marker + ".tmp", marker)
                time.sleep(600)  # the parent kills us here
            return entry

        trail.record = paused
        write_intent.set(True)
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        form = db.session.get(Document, int(form_id))
        services.issue_record(user, form, {"data": {"customer": "killed before commit"}})
        print("COMMITTED", flush=True)  # never reached
''')


def issue_in_process(user_id: int, form_id: int, customer: str) -> str:
    """Issue a record the way a writing request does (write intent set for the transaction)."""
    db.session.rollback()
    token = write_intent.set(True)
    try:
        user = db.session.get(User, user_id)
        form = db.session.get(Document, form_id)
        rec = services.issue_record(user, form, {"data": {"customer": customer}})
        return rec.number
    finally:
        db.session.rollback()
        write_intent.reset(token)


def test_a_killed_issuer_leaves_no_gap_and_no_duplicate(app, f, effective_form, controller, tmp_path):
    form = effective_form(code="QR-KILL", pattern="{code}-{seq:4}")
    staff = f.user("staff", department=controller.department_code)
    form_id, staff_id, username = form.id, staff.id, staff.username
    db.session.commit()
    db.session.close()  # the test holds no transaction while the child writes

    script = tmp_path / "child_issuer.py"
    script.write_text(CHILD, encoding="utf-8")
    marker = tmp_path / "allocated.txt"
    out, err = open(tmp_path / "child.out", "wb"), open(tmp_path / "child.err", "wb")
    child = subprocess.Popen(
        [sys.executable, str(script), app.config["SQLALCHEMY_DATABASE_URI"], app.config["INSTANCE_PATH"],
         str(form_id), username, str(marker)],
        stdout=out, stderr=err, cwd=str(tmp_path), env={**os.environ})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"the child issuer ended early ({child.returncode}): "
                            f"{(tmp_path / 'child.err').read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the child issuer never reached the pause")
            time.sleep(0.05)
        taken = marker.read_text(encoding="utf-8")
        assert taken == "QR-KILL-0001"
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        out.close()
        err.close()
    assert child.returncode == -signal.SIGKILL
    assert b"COMMITTED" not in (tmp_path / "child.out").read_bytes()

    # Nothing of the killed transaction is left behind.
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(Record)).scalar() == 0

    numbers = [issue_in_process(staff_id, form_id, f"客户{i}") for i in range(1, 4)]
    assert numbers == ["QR-KILL-0001", "QR-KILL-0002", "QR-KILL-0003"]  # the uncommitted number is reused
    stored = db.session.execute(select(Record.number).order_by(Record.id)).scalars().all()
    assert stored == numbers
    assert len(set(stored)) == len(stored)
    assert verify_chain().ok


def test_concurrent_issuers_get_unique_continuous_numbers(app, f, effective_form, controller):
    """4 threads x 10 records, each thread with its own app context and session."""
    form = effective_form(code="QR-CONC", pattern="{code}-{seq:4}")
    users = [f.user("staff", department=controller.department_code) for _ in range(4)]
    form_id, user_ids = form.id, [u.id for u in users]
    db.session.commit()
    db.session.close()

    start = threading.Barrier(len(user_ids))
    numbers, errors = [], []

    def worker(user_id: int) -> None:
        try:
            start.wait(timeout=30)  # before any database access: nobody holds the writer lock yet
            with app.app_context():
                write_intent.set(True)  # as the before_request hook does for writing requests
                try:
                    for i in range(10):
                        user = db.session.get(User, user_id)
                        form_ = db.session.get(Document, form_id)
                        rec = services.issue_record(user, form_, {"data": {"customer": f"{user_id}-{i}"}})
                        numbers.append(rec.number)
                        db.session.rollback()
                finally:
                    db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "issuers hung"
    assert errors == []
    assert len(numbers) == 40
    assert sorted(numbers) == [f"QR-CONC-{i:04d}" for i in range(1, 41)]
    db.session.rollback()
    stored = db.session.execute(select(Record.number)).scalars().all()
    assert sorted(stored) == sorted(numbers)
    assert verify_chain().ok


def test_concurrent_issuers_through_the_api(app, f, effective_form, controller):
    """The same through HTTP: each request sets the write intent in its own context."""
    form = effective_form(code="QR-HTTP", pattern="{code}-{seq:3}")
    clients = [f.api(f.user("staff", department=controller.department_code)) for _ in range(4)]
    form_id = form.id
    db.session.commit()
    db.session.close()

    start = threading.Barrier(len(clients))
    numbers, errors = [], []

    def worker(api) -> None:
        try:
            start.wait(timeout=30)
            for i in range(10):
                response = api.post(f"/documents/{form_id}/records", json={"data": {"customer": f"c{i}"}})
                if response.status_code != 201:
                    errors.append((response.status_code, response.get_json()))
                else:
                    numbers.append(response.get_json()["number"])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "issuers hung"
    assert errors == []
    assert sorted(numbers) == [f"QR-HTTP-{i:03d}" for i in range(1, 41)]
    db.session.rollback()
    assert verify_chain().ok
