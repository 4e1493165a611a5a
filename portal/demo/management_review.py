"""The demo's management review (QP0101 管理评审控制程序): the year-to-date review planned by
赵国强 (管理者代表), chaired by 陈建华 (总经理), held a few days before the demo's "today" so that
its frozen inputs come from the demo's audit, runs and records; three decisions recorded in
the meeting (one done since) and the chair's approval with the conclusion.

Relative to the day the demo is loaded, like the runs: the period ends eight days before it."""
from datetime import date, timedelta

from portal import clock
from portal.demo.loader import DEMO_PASSWORD, _at, _user
from portal.extensions import db
from portal.management_review import services
from portal.management_review.models import ManagementReview

TITLE = "年度管理评审"
MEMBERS = ["zhaoguoqiang", "sunli", "wenkong", "wangfang", "liuyang"]
# (decision, owner, days after the meeting it is due)
DECISIONS = [
    ("派工前核对携带备件，提高服务一次成功率；售后服务部每月通报未一次修复的原因", "sunli", 45),
    ("投诉回复期限纳入门户自动提醒，投诉处理及时率达到 95% 以上", "zhaoguoqiang", 60),
    ("完成逾期的程序文件定期评审，并在受控文件清单中更新下次评审日期", "wenkong", 3),
]


def _review() -> ManagementReview:
    return db.session.query(ManagementReview).filter(ManagementReview.title.endswith(TITLE)).one()


def review_steps(load_day: date) -> list:
    """(when, order, step) for the demo timeline: plan, hold, decide, approve, complete one."""
    period_to = load_day - timedelta(days=8)
    meeting = load_day - timedelta(days=4)

    def at(day: date, hour: int, fn):
        def step():
            clock.freeze(_at(day, hour))
            fn()
        return (_at(day, hour), 700, step)

    def plan():
        services.create_review(_user("zhaoguoqiang"), {
            "title": f"{period_to.year}{TITLE}", "period_from": date(period_to.year, 1, 1).isoformat(),
            "period_to": period_to.isoformat(), "meeting_date": meeting.isoformat(), "chair": "chenjianhua",
            "members": MEMBERS})

    def hold():
        review = services.hold_review(_user("zhaoguoqiang"), _review())
        for decision, owner, days in DECISIONS:
            services.add_output(_user("zhaoguoqiang"), review, {
                "decision": decision, "owner": owner, "due_date": (meeting + timedelta(days=days)).isoformat()})

    def approve():
        review = _review()
        services.approve_review(_user("chenjianhua"), review, {
            "conclusion": {"suitable": True, "adequate": True, "effective": True},
            "summary": summary(review.inputs), "password": DEMO_PASSWORD})

    def complete():
        output = next(o for o in _review().outputs if o.owner.username == "wenkong")
        services.complete_output(_user("wenkong"), output, {"note": "已完成 QP0101、QP1401 的定期评审，清单已更新"})

    return [at(load_day - timedelta(days=20), 9, plan), at(meeting, 9, hold),
            at(meeting + timedelta(days=1), 10, approve), at(load_day - timedelta(days=1), 14, complete)]


def summary(inputs: dict) -> str:
    """The chair's summary, read from the frozen inputs (the numbers the meeting reviewed)."""
    findings, complaints = inputs["findings"], inputs["complaints"]
    objectives = [o for o in inputs["objectives"] if o["met"] is not None]
    missed = "、".join(o["name"] for o in objectives if not o["met"]) or "无"
    share = complaints["on_time_share"]
    return (f"本期内审 {len(inputs['audits'])} 次，不符合 {findings['major'] + findings['minor']} 项、"
            f"观察项 {findings['observation']} 项，纠正措施逾期 {inputs['actions']['overdue']} 项；"
            f"顾客投诉 {complaints['total']} 起，按时处理 {share if share is not None else '—'}%；"
            f"质量目标 {sum(1 for o in objectives if o['met'])}/{len(objectives)} 项达标（未达标：{missed}）。"
            "质量管理体系总体适宜、充分、有效，未达标目标已形成改进决定。")
