"""About four months of after-sales service requests and complaints walking their procedures
(QP-SH01, QP-SH02), with the records their steps issue, so that the runs list, the overdue
dashboards and the quality objectives show real shapes: most steps on time, some late, a few
escalated and still open, a few cancelled.

Deterministic: the same seed gives the same runs relative to the day the demo is loaded."""
from __future__ import annotations

import copy
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal import clock
from portal.demo import catalog

WINDOW_DAYS = 120
SERVICE_PER_WEEKDAY = 0.7
COMPLAINTS_PER_WEEK = 1.5
CUSTOMERS = ["厦门恒达机电有限公司", "福州鑫源食品厂", "泉州永盛包装有限公司", "漳州华美塑胶制品厂",
             "莆田建兴五金厂", "龙岩宏远建材有限公司", "三明绿源环保科技", "南平新丰制药有限公司",
             "宁德海通水产冷链", "厦门博雅印刷有限公司"]
# Who does a step, by the step's department.
DOERS = {"SH": "zhangwei", "ZB": "zhaoguoqiang"}
# Weighted answers for the fields the objectives measure.
WEIGHTED = {
    ("QR-SH011", "result"): [("已解决", 93), ("部分解决", 5), ("未解决", 2)],
    ("QR-SH011", "customer_evaluation"): [("满意", 85), ("基本满意", 12), ("不满意", 3)],
    ("SH/QT-2020-04", "satisfaction"): [("满意", 70), ("比较满意", 22), ("一般", 6), ("不满意", 2)],
    ("QR-YX003", "category"): [("质量异常", 60), ("非质量异常", 40)],
    ("SH/QT-2020-03", "customer_confirmation"): [("满意", 80), ("基本满意", 15), ("不满意", 5)],
}


def _at(day: date, hour: float) -> datetime:
    return (datetime.combine(day, time(0)) + timedelta(hours=hour)).replace(tzinfo=clock.zone())


def run_steps(load_day: date) -> list:
    """Timed steps (at, order, fn) for the demo loader's timeline."""
    rng = random.Random(20261204)
    first = load_day - timedelta(days=WINDOW_DAYS)
    end = _at(load_day, 0)  # nothing happens after the demo's "now"
    steps = [(_at(first, 8), 900, _set_up(first))]
    serial = 0
    for offset in range(WINDOW_DAYS):
        day = first + timedelta(days=offset)
        arrivals = []
        if day.weekday() < 5 and rng.random() < SERVICE_PER_WEEKDAY:
            arrivals.append(("QP-SH01", catalog.SERVICE_STEPS))
        if rng.random() < COMPLAINTS_PER_WEEK / 7:
            arrivals.append(("QP-SH02", catalog.COMPLAINT_STEPS))
        for code, spec_steps in arrivals:
            serial += 1
            steps.extend(_one_run(rng, code, spec_steps, day, serial, end))
        steps.append((_at(day, 23.5), 990, _escalate(day)))
    return steps


def _one_run(rng: random.Random, code: str, spec_steps: list[dict], day: date, serial: int,
             end: datetime) -> list:
    """A run's start and each completed step, at plausible times; its fate is drawn once."""
    start = _at(day, rng.uniform(8, 17))
    priority = "emergency" if code == "QP-SH01" and rng.random() < 0.15 else "ordinary"
    fate = rng.choices(["on_time", "late", "stuck", "cancelled"], [86, 8, 3, 3])[0]
    late_index = rng.randrange(len(spec_steps))
    customer = rng.choice(CUSTOMERS)
    subject = (f"{customer}：设备故障报修" if code == "QP-SH01" else f"{customer}：客户投诉")
    state: dict = {}
    out = [(start, 1000 + serial, _start(state, code, subject, priority, start))]
    at = start
    for index, step in enumerate(spec_steps):
        budget = _budget_hours(step, priority)
        if fate == "stuck" and index == late_index:
            break  # left open past its clock: the jobs round escalates it
        if fate == "cancelled" and index == late_index:
            at += timedelta(hours=rng.uniform(1, 6))
            if at < end:
                out.append((at, 1000 + serial, _cancel(state, at)))
            break
        share = rng.uniform(1.2, 2.0) if fate == "late" and index == late_index else rng.uniform(0.2, 0.8)
        # Each step's clock counts from the run's start: keep the next one inside its own.
        due = start + timedelta(hours=budget)
        at = max(at + timedelta(minutes=20), min(due, at + timedelta(hours=budget * share / 2)))
        if fate == "late" and index == late_index:
            at = due + timedelta(hours=rng.uniform(2, 30))
        if at >= end:
            break
        out.append((at, 1000 + serial, _complete(state, code, index, step, at, rng.random())))
    return out


def _budget_hours(step: dict, priority: str) -> float:
    due = step.get("due_hours")
    if isinstance(due, dict):
        return float(due.get(priority, due["ordinary"]))
    if due is not None:
        return float(due)
    return 24.0 * step["due_working_days"] * 1.4  # working days, roughly, in calendar hours


def _user(username: str):
    from portal.accounts import services as accounts

    return accounts.user_by_username(username)


def _doc(code: str):
    from portal.documents.models import Document
    from portal.extensions import db

    return db.session.execute(select(Document).where(Document.code == code)).scalar_one()


def _set_up(first: date):
    """售后服务部's manager receives escalations; the five objectives are defined."""
    def step():
        from portal.objectives import services as objectives

        clock.freeze(_at(first, 8))
        _make_manager("SH", "sunli")
        _make_manager("ZB", "zhaoguoqiang")
        for spec in catalog.OBJECTIVES:
            objectives.create_objective(_user("wenkong"), _objective_data(spec))
    return step


def _make_manager(code: str, username: str) -> None:
    from portal.accounts import services as accounts

    accounts.set_department_manager(_user("admin"), code, username)


def _objective_data(spec: dict) -> dict:
    data = copy.deepcopy(spec)
    measure = data["measure"]
    if "document" in measure:
        measure["document_id"] = _doc(measure.pop("document")).id
    if "form" in measure:
        measure["form_id"] = _doc(measure.pop("form")).id
    return data


def _start(state: dict, code: str, subject: str, priority: str, at: datetime):
    def step():
        from portal.procedures import services as runs

        clock.freeze(at)
        state["run"] = runs.start_run(_user("zhangwei"), _doc(code), {
            "subject": subject, "department": "SH", "priority": priority})
    return step


def _complete(state: dict, code: str, index: int, spec: dict, at: datetime, draw: float):
    def step():
        from portal.procedures import services as runs
        from portal.records import services as records

        clock.freeze(at)
        doer = _user(DOERS.get(spec.get("department"), "zhangwei"))
        payload = {"data": _filled(spec["form"], at.date(), random.Random(draw))} if spec.get("form") else {}
        run = runs.complete_step(doer, state["run"], index, payload)
        state["run"] = run
        done = run.steps[index]
        if done.record_id:
            from portal.records.models import Record
            from portal.extensions import db

            records.close_record(doer, db.session.get(Record, done.record_id))
    return step


def _cancel(state: dict, at: datetime):
    def step():
        from portal.procedures import services as runs

        clock.freeze(at)
        runs.cancel_run(_user("sunli"), state["run"], {"reason": "客户撤回报修，电话确认无需上门"})
    return step


def _escalate(day: date):
    def step():
        from portal.procedures.services import escalate_overdue

        clock.freeze(_at(day, 23.5))
        escalate_overdue()
    return step


def _filled(form_code: str, day: date, rng: random.Random) -> dict:
    """One of the form's shipped samples, dated `day`, with the measured fields drawn."""
    spec = _form_spec(form_code)
    data = copy.deepcopy(spec.samples[rng.randrange(len(spec.samples))]) if spec.samples else {}
    for field in spec.fields:
        if field["type"] == "date" and (field["name"] in data or field.get("required")):
            data[field["name"]] = day.isoformat()
        weights = WEIGHTED.get((form_code, field["name"]))
        if weights:
            data[field["name"]] = rng.choices([v for v, _w in weights], [w for _v, w in weights])[0]
    if "customer_name" in data:
        data["customer_name"] = rng.choice(CUSTOMERS)
    return data


_specs: dict = {}


def _form_spec(code: str):
    if not _specs:
        from portal.records.form_loader import read_form_templates

        _specs.update({spec.code: spec for spec in read_form_templates()})
    return _specs[code]
