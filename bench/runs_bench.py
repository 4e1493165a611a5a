#!/usr/bin/env python
"""Procedure runs at scale (issue 10): with N runs and their records, time the overdue list,
the dashboard, a year of monthly values for five objectives, and a jobs round that finds
1,000 newly overdue steps.

    python bench/runs_bench.py --runs 100000                       # SQLite in a temp folder
    python bench/runs_bench.py --runs 100000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_runs

The PostgreSQL database must exist and be empty (its schema is created here). Runs, steps and
records are bulk-inserted (a year of them, 97 % closed, the rest open with pending steps);
the procedure, form, people and objectives go through the services. The bulk rows carry what
the models derive when the services write (a step's procedure, a closed run's lateness, the
records' scalar values in record_value); against an older checkout that has none of these the
bench inserts only what that schema has, so one bench times both sides. On PostgreSQL the
tables are vacuumed and analysed after the load, as autovacuum would have done by the time
anyone asks; SQLite is left as loaded (the portal never runs ANALYZE). Requests go through the
Flask test client in this process, so the times are server time without the network; each
figure is the median and p95 of --repeat requests after one warm-up. Then two jobs rounds each
find 1,000 newly overdue steps: escalate_overdue() alone, and a whole run_jobs_once() that
also delivers (logs) the notices.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 5000


def _setup(app):
    from portal import clock
    from portal.accounts import services as accounts
    from portal.documents import services as documents
    from portal.documents import workflow
    from portal.objectives import services as objectives

    admin = accounts.create_user("bench", "admin", "bench-password-1", "admin", None, "管理员", None)
    accounts.create_department("bench", "SH", "售后服务部")
    ctl = accounts.create_user("bench", "ctl", "bench-password-1", "controller", "SH", "文控", None)
    staff = accounts.create_user("bench", "staff", "bench-password-1", "staff", "SH", "工程师", None)
    signer = accounts.create_user("bench", "signer", "bench-password-1", "approver", "SH", "经理", None)
    accounts.create_user("bench", "approver", "bench-password-1", "approver", "SH", "总经理", None)
    accounts.set_department_manager(admin, "SH", "signer")

    def effective(doc, data):
        rev = documents.start_revision(ctl, doc, {"body_html": "<p>正文</p>", "change_summary": "首版", **data})
        workflow.submit_revision(ctl, rev, {"reviewers": ["signer"], "approver": "approver"})
        for meaning, who in (("review", signer), ("approve", accounts.user_by_username("approver"))):
            workflow.sign_revision(who, rev, {"meaning": meaning, "decision": "accept", "comment": "同意",
                                              "password": "bench-password-1"})
        workflow.release_revision(ctl, rev, {"effective_date": clock.today().isoformat()})
        return rev

    form = documents.create_document(ctl, {"code": "QR-B01", "title": "外出服务记录表", "doc_type": "form",
                                           "department": "SH"})
    form_rev = effective(form, {"fields": [
        {"name": "result", "label": "处理结果", "type": "choice", "choices": ["已解决", "未解决"]},
        {"name": "score", "label": "评分", "type": "number"}]})
    proc = documents.create_document(ctl, {"code": "QP-B01", "title": "售后服务管理程序", "doc_type": "procedure",
                                           "department": "SH"})
    proc_rev = effective(proc, {"steps": [
        {"name": "受理", "form_id": form.id, "due_hours": {"ordinary": 24, "emergency": 2}},
        {"name": "实施", "due_hours": 72}, {"name": "回访", "due_working_days": 3}]})
    measures = [{"kind": "on_time", "document_id": proc.id}, {"kind": "on_time", "document_id": proc.id, "step": 1},
                {"kind": "field_ratio", "form_id": form.id, "field": "result", "values": ["已解决"]},
                {"kind": "field_mean", "form_id": form.id, "field": "score"}, {"kind": "count", "form_id": form.id}]
    units = ["%", "%", "%", "score", "count"]
    objs = [objectives.create_objective(ctl, {"name": f"目标{i}", "target": 90, "comparison": ">=", "unit": u,
                                              "frequency": "month", "measure": m})
            for i, (m, u) in enumerate(zip(measures, units))]
    return {"ctl": ctl, "staff": staff, "signer": signer, "form": form, "form_rev": form_rev, "proc": proc,
            "proc_rev": proc_rev, "objectives": objs}


def _bulk(world, count: int) -> None:
    """`count` runs over the last year with their steps and one record each."""
    from portal import clock
    from portal.extensions import db
    from portal.procedures.models import ProcedureRun, RunStep
    from portal.records import models as record_models
    from portal.records.models import Record

    derived = hasattr(RunStep, "document_id")  # an older checkout stores none of the copies
    rng = random.Random(27922)
    now = clock.now()
    dept = world["staff"].department_id
    run_rows, step_rows, record_rows, value_rows = [], [], [], []

    def flush():
        for model, rows in ((Record, record_rows), (ProcedureRun, run_rows), (RunStep, step_rows),
                            (getattr(record_models, "RecordValue", None), value_rows)):
            if rows:
                db.session.execute(model.__table__.insert(), rows)
                rows.clear()
        db.session.commit()

    for i in range(1, count + 1):
        started = now - timedelta(days=rng.uniform(1, 365))
        is_open = rng.random() < 0.03
        run_rows.append(dict(id=i, number=f"QP-B01-{i:06d}", document_id=world["proc"].id,
                             revision_id=world["proc_rev"].id, revision_label="A/0", subject=f"报修 {i}",
                             department_id=dept, priority="ordinary", state="open" if is_open else "closed",
                             started_at=started, created_by_id=world["staff"].id, created_at=started,
                             closed_at=None if is_open else started + timedelta(hours=rng.uniform(50, 120))))
        record_rows.append(dict(id=i, number=f"QR-B01-{i:06d}", form_id=world["form"].id,
                                revision_id=world["form_rev"].id, revision_label="A/0", department_id=dept,
                                status="voided" if rng.random() < 0.01 else "closed",
                                data={"result": "已解决" if rng.random() < 0.95 else "未解决",
                                      "score": rng.randint(60, 100)},
                                created_by_id=world["staff"].id, created_at=started + timedelta(hours=2)))
        if derived:
            r = record_rows[-1]
            value_rows.extend(record_models.value_rows(i, r["form_id"], r["status"], r["created_at"],
                                                       r["department_id"], r["data"]))
        for index, (name, hours) in enumerate((("受理", 24), ("实施", 72), ("回访", 120))):
            due = started + timedelta(hours=hours)
            done = not is_open or index == 0
            took = hours * (rng.uniform(1.05, 1.5) if rng.random() < 0.05 else rng.uniform(0.2, 0.9))
            step_rows.append(dict(run_id=i, index=index, name=name, form_id=world["form"].id if index == 0 else None,
                                  escalate_to="manager", due_at=due, state="done" if done else "pending",
                                  completed_at=started + timedelta(hours=took) if done else None,
                                  completed_by_id=world["staff"].id if done else None,
                                  record_id=i if index == 0 else None,
                                  # what was overdue before today was escalated by earlier rounds
                                  escalated_at=None if done or due > now else due + timedelta(minutes=1)))
        if derived:
            steps = step_rows[-3:]
            for step in steps:
                step.update(document_id=world["proc"].id, run_department_id=dept, run_cancelled=False)
            run_rows[-1]["late"] = None if is_open else any(s["completed_at"] > s["due_at"] for s in steps)
        if i % CHUNK == 0:
            flush()
    flush()


def _timed(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def _browser(app, username: str):
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"csrf_token": token, "username": username,
                                       "password": "bench-password-1"}).status_code == 302
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from portal import clock, create_app
    from portal.accounts import services as accounts
    from portal.cli import init_database
    from portal.config import TestingConfig
    from portal.extensions import db
    from portal.jobs import run_jobs_once
    from portal.notifications.models import Notification
    from portal.notifications.services import deliver_backlog
    from portal.procedures.models import RunStep
    from portal.procedures.services import escalate_overdue
    from sqlalchemy import func, select, text

    folder = tempfile.mkdtemp(prefix="runs_bench_")
    url = args.database_url or f"sqlite:///{folder}/portal.db"
    app = create_app(TestingConfig(url, folder))
    with app.app_context():
        init_database()
        world = _setup(app)
        objs = [(o.id, dict(o.measure)) for o in world["objectives"]]
        started = time.perf_counter()
        _bulk(world, args.runs)
        print(f"{url.split(':')[0]}: {args.runs} runs, {3 * args.runs} steps, {args.runs} records "
              f"inserted in {time.perf_counter() - started:.0f} s")
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
    api = app.test_client()
    with app.app_context():
        token = accounts.create_token("bench", accounts.user_by_username("ctl"))
    headers = {"Authorization": f"Bearer {token}"}
    year = clock.today().year
    cases = [("GET /api/v1/runs?overdue=1", lambda: api.get("/api/v1/runs?overdue=1", headers=headers)),
             ("dashboard, staff", (lambda c: lambda: c.get("/"))(_browser(app, "staff"))),
             ("dashboard, manager", (lambda c: lambda: c.get("/"))(_browser(app, "signer")))]
    for obj_id, measure in objs:
        cases.append((f"values {year}-01..{year}-12, {measure['kind']}"
                      + (f" step {measure['step']}" if "step" in measure else ""),
                      (lambda i: lambda: api.get(f"/api/v1/objectives/{i}/values?from={year}-01&to={year}-12",
                                                 headers=headers))(obj_id)))
    for name, call in cases:
        status = call().status_code
        median, p95 = _timed(call, args.repeat)
        print(f"  {name:52} {status}  median {median:7.1f} ms  p95 {p95:7.1f} ms")
    with app.app_context():
        for round_, (name, job) in enumerate((
                ("escalate_overdue()", escalate_overdue),
                ("run_jobs_once() (escalations, then delivery)", lambda: run_jobs_once(app)))):
            deliver_backlog()  # what earlier rounds queued is not this round's work
            ids = _newly_overdue(1000, round_)
            started = time.perf_counter()
            result = job()
            took = time.perf_counter() - started
            sent = result if isinstance(result, int) else result["escalations"]
            again = escalate_overdue()
            left = db.session.execute(select(func.count()).select_from(RunStep).where(
                RunStep.id.in_(ids), RunStep.escalated_at.is_(None))).scalar()
            notices = db.session.execute(select(func.count()).select_from(Notification).where(
                Notification.kind == "step_overdue")).scalar()
            print(f"  jobs round: {len(ids)} newly overdue steps, {name} -> {sent} escalated in {took:.2f} s"
                  + (f" ({result['notifications']} notices delivered)" if not isinstance(result, int) else "")
                  + f"; a second round -> {again}; left unescalated: {left}; step_overdue notices so far: {notices}")


def _newly_overdue(count: int, round_: int) -> list[int]:
    """The round's `count` pending steps, made due five minutes ago and not yet escalated."""
    from portal import clock
    from portal.extensions import db
    from portal.procedures.models import RunStep
    from sqlalchemy import select, update

    pending = select(RunStep.id).where(RunStep.state == "pending").order_by(RunStep.id)
    ids = list(db.session.execute(pending.offset(count * round_).limit(count)).scalars())
    db.session.execute(update(RunStep).where(RunStep.id.in_(ids)).values(
        due_at=clock.now() - timedelta(minutes=5), escalated_at=None))
    db.session.commit()
    return ids

if __name__ == "__main__":
    main()
