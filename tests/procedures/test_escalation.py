"""The clock runs out: one escalation notice per overdue step, to its assignees and its
escalation target, in the run's trail, never repeated (the jobs round, `portal run-jobs`)."""
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.jobs import run_jobs_once
from portal.notifications.models import Notification
from portal.procedures.models import RunStep
from portal.procedures.services import escalate_overdue
from portal.trail.models import TrailEntry


def notices():
    return db.session.execute(select(Notification.user_id, Notification.kind, Notification.link)
                              .where(Notification.kind == "step_overdue").order_by(Notification.id)).all()


def escalations():
    return db.session.execute(select(TrailEntry).where(TrailEntry.action == "run.step_escalate")
                              .order_by(TrailEntry.seq)).scalars().all()


def test_an_overdue_step_is_escalated_exactly_once(app, now, frozen, f, dept, staff, controller,
                                                   procedure, start):
    manager = f.user("approver", department=dept.code)
    dept.manager_id = manager.id
    db.session.commit()
    colleague = f.user("staff", department=dept.code)
    run = start(staff, procedure([{"name": "受理", "due_hours": 4},
                                  {"name": "派工", "due_hours": 8, "escalate_to": "controller"}]))
    assert escalate_overdue() == 0
    frozen(now + timedelta(hours=3, minutes=59))
    assert escalate_overdue() == 0 and notices() == []
    frozen(now + timedelta(hours=4, minutes=1))
    assert run_jobs_once(app)["escalations"] == 1
    assert run_jobs_once(app)["escalations"] == 0  # never repeated
    assert escalate_overdue() == 0
    db.session.expire_all()
    got = notices()
    assert sorted(u for u, _, _ in got) == sorted([staff.id, colleague.id, manager.id])
    assert {link for _, _, link in got} == {f"/runs/{run['id']}"}
    [entry] = escalations()
    assert entry.object_type == "run" and entry.object_id == run["id"] and entry.actor == "system"
    assert entry.after["step"] == 0 and entry.after["escalated_to"] == [manager.username]
    step = db.session.execute(select(RunStep).where(RunStep.run_id == run["id"], RunStep.index == 0)).scalar_one()
    assert step.escalated_at is not None
    # the second step's clock runs out too: its target is the controllers
    frozen(now + timedelta(hours=9))
    assert escalate_overdue() == 1 and escalate_overdue() == 0
    second = escalations()[1]
    assert controller.username in second.after["escalated_to"]
    assert sorted(u for u, _, _ in notices()[3:]) == sorted([staff.id, colleague.id, manager.id, controller.id])


def test_a_done_or_cancelled_step_is_not_escalated(now, frozen, f, staff, controller, procedure, start):
    api = f.api(staff)
    proc = procedure([{"name": "受理", "due_hours": 1}])
    done, cancelled = start(staff, proc), start(staff, proc)
    assert api.post(f"/runs/{done['id']}/steps/0/complete", json={}).status_code == 200
    assert f.api(controller).post(f"/runs/{cancelled['id']}/cancel", json={"reason": "重复"}).status_code == 200
    frozen(now + timedelta(hours=2))
    assert escalate_overdue() == 0 and notices() == []


def test_without_a_manager_the_controllers_are_told(now, frozen, f, staff, controller, procedure, start):
    start(staff, procedure([{"name": "受理", "due_hours": 1}]))
    frozen(now + timedelta(hours=2))
    assert escalate_overdue() == 1
    assert controller.id in {u for u, _, _ in notices()}


def test_the_dashboard_lists_overdue_steps_for_the_responsible_and_the_manager(now, frozen, f, dept, staff,
                                                                              procedure, start, browser):
    manager = f.user("approver", department=f.department().code)
    dept.manager_id = manager.id
    db.session.commit()
    run = start(staff, procedure([{"name": "受理", "due_hours": 1}]))
    frozen(now + timedelta(hours=2))
    for user, sees in ((staff, True), (manager, True), (f.user("staff"), False)):
        html = browser(user).get("/").get_data(as_text=True)
        assert (run["number"] in html) is sees, user.username



def test_many_overdue_steps_are_escalated_batch_by_batch_in_one_chained_trail(now, frozen, staff, controller,
                                                                             procedure, start):
    from portal.trail.services import verify_chain

    proc = procedure([{"name": "受理", "due_hours": 1}, {"name": "派工", "due_hours": 2}])
    runs = [start(staff, proc) for _ in range(7)]
    frozen(now + timedelta(hours=3))
    assert escalate_overdue(batch=3) == 14 and escalate_overdue(batch=3) == 0
    got = sorted((e.object_id, e.after["step"]) for e in escalations())
    assert got == sorted((r["id"], i) for r in runs for i in (0, 1))
    assert sorted(user for user, _, _ in notices()) == sorted([staff.id, controller.id] * 14)
    assert verify_chain().ok


def test_two_rounds_at_once_send_each_notice_once(app, now, frozen, staff, controller, procedure, start):
    """Two jobs rounds (two server processes, or a round that outlived its minute) claim
    different steps: the one that sets a step's escalated_at sends its notice."""
    import threading

    runs = [start(staff, procedure([{"name": "受理", "due_hours": 1}])) for _ in range(10)]
    frozen(now + timedelta(hours=2))
    db.session.commit()
    barrier, sent, errors = threading.Barrier(2), [], []

    def round_():
        with app.app_context():
            try:
                barrier.wait()
                sent.append(escalate_overdue(batch=2))
            except Exception as exc:  # reported below: an exception in a thread fails nothing
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=round_) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and sum(sent) == 10
    assert sorted(e.object_id for e in escalations()) == sorted(r["id"] for r in runs)
    assert sorted(user for user, _, _ in notices()) == sorted([staff.id, controller.id] * 10)
