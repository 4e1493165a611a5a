"""The demo's internal audits (QP1701) and corrective actions (QP1401), through the audit services:

- the 2026 first-round audit of 售后服务部 and 质保部 (fixed dates in March–April 2026): meeting
  notes, its 检查表, findings raised from the 不符合 and 观察 rows and acknowledged by the audited
  departments, one corrective action completed and verified effective, reported and closed;
- a second audit of 售后服务部 and 生产部 about six weeks before the day the demo is loaded, reported
  with one clause in scope left unchecked (the report's warning stays in the trail), whose actions
  stand in every other state: one found not effective and reopened with a new due date, one
  completed and waiting for verification, one open past its due date, reminded and escalated."""
from datetime import date, timedelta

from sqlalchemy import select

from portal import clock
from portal.audit import running, services
from portal.audit.models import Audit
from portal.demo.loader import _at, _user
from portal.documents.models import Document
from portal.extensions import db
from portal.records.models import Record

PLAN = {"title": "2026年度第一次内部质量审核", "planned_start": "2026-03-10", "planned_end": "2026-03-12",
        # 周静 (营销中心) and 吴海涛 (生产部) audit departments other than their own.
        "departments": ["SH", "ZB"], "lead_auditor": "zhoujing", "team": ["wuhaitao"],
        "clauses": ["ISO 9001:2015 7.5.3", "ISO 9001:2015 8.2.1", "ISO 9001:2015 10.2"]}
CHECKLIST = [
    ("ISO 9001:2015 7.5.3", "SH", "现场使用的程序文件是否为现行有效版本？", "nonconforming",
     "售后服务部资料柜中仍存放 QP-SH01 A/0 版本，未加盖作废章"),
    ("ISO 9001:2015 8.2.1", "SH", "顾客投诉是否按《客户投诉管理办法》登记、分类并在时限内答复？", "conforming",
     "抽查 2025 年投诉记录 5 份，均在 24 小时内答复"),
    ("ISO 9001:2015 7.5.3", "ZB", "受控文件清单是否与实际发放一致，作废文件是否及时回收？", "observation",
     "清单一致；QM-01 A/1 尚有一份未回收，已在跟踪"),
    ("ISO 9001:2015 10.2", "ZB", "不合格和纠正措施是否按 QP1401 记录并验证效果？", "conforming", "抽查 3 份，记录完整"),
]
MINOR = "售后服务部现场使用的《售后服务管理程序》QP-SH01 为已被 A/1 替代的 A/0 版本，未标识作废，不符合 7.5.3 的要求。"
OBSERVATION = "质保部 QM-01 A/1 的受控副本尚有一份未回收，建议在月度核对中跟踪回收进度。"
OPENING = "2026-03-10 08:30 首次会议：审核组、售后服务部孙丽、质保部赵国强参加；确认审核范围、日程和联络人，重申审核保密要求。"
CLOSING = "2026-03-12 16:00 末次会议：通报一般不符合 1 项、观察项 1 项；受审核部门对事实无异议，纠正措施于 4 月 10 日前完成。"


def _audit(title: str = PLAN["title"]):
    return db.session.execute(select(Audit).where(Audit.title == title)).scalar_one()


def _plan():
    audit = services.create_audit(_user("zhoujing"), PLAN)
    for clause, dept, question, _result, _notes in CHECKLIST:
        services.add_checklist_item(_user("zhoujing"), audit, {"clause": clause, "department": dept,
                                                               "question": question})


def _run():
    lead, team = _user("zhoujing"), _user("wuhaitao")
    audit = services.advance_audit(lead, _audit(), "start")
    running.update_notes(lead, audit, {"opening_notes": OPENING})
    for item, (_c, _d, _q, result, notes) in zip(audit.checklist, CHECKLIST):
        services.record_check_result(team if item.department.code == "ZB" else lead, item,
                                     {"result": result, "notes": notes})
    manual = db.session.execute(select(Document).where(Document.code == "QP-SH01")).scalar_one()
    record = db.session.execute(select(Record).order_by(Record.id)).scalars().first()
    evidence = [{"kind": "document", "id": manual.id}] + ([{"kind": "record", "id": record.id}] if record else [])
    rows = {(i.department.code, i.result): i for i in audit.checklist}
    minor = services.raise_finding(lead, audit, {"classification": "minor", "statement": MINOR, "evidence": evidence,
                                                 "checklist_item_id": rows[("SH", "nonconforming")].id})
    services.raise_finding(team, audit, {"classification": "observation", "statement": OBSERVATION,
                                         "checklist_item_id": rows[("ZB", "observation")].id})
    services.open_action(lead, minor, {"owner": "sunli", "due_date": "2026-04-10",
                                       "containment": "立即收回现场 A/0 版本并加盖作废章",
                                       "root_cause": "换版时未核对部门资料柜，发放回收记录缺少核对栏",
                                       "occurs_elsewhere": "其他部门资料柜可能存在同样情况，已安排文控同步核查",
                                       "plan": "修订文件发放回收流程，增加部门资料柜月度核对；对售后服务部全员培训"})


def _acknowledge():
    audit = _audit()
    for finding in audit.findings:
        running.acknowledge_finding(_user("sunli" if finding.department.code == "SH" else "zhaoguoqiang"), finding)


def _report():
    audit = running.update_notes(_user("zhoujing"), _audit(), {"closing_notes": CLOSING})
    services.advance_audit(_user("zhoujing"), audit, "report", {
        "summary": "按 2026 年度内审计划，对售后服务部、质保部的文件控制、顾客沟通和纠正措施过程进行了审核，"
                   "共检查 4 项，发现一般不符合 1 项、观察项 1 项。",
        "conclusion": "质量管理体系运行基本有效，文件控制需加强现场版本核对。"})


def _act():
    action = _audit().findings[0].actions[0]
    services.complete_action(_user("sunli"), action, {"note": "已收回 A/0 版本 2 份并销毁；流程已修订，3 月 25 日完成培训"})


def _verify_and_close():
    action = _audit().findings[0].actions[0]
    services.verify_action(_user("zhoujing"), action, {"effective": True,
                                                      "note": "现场抽查 5 个资料柜，均为现行版本，措施有效"})
    services.advance_audit(_user("zhoujing"), _audit(), "close")


def audit_steps() -> list:
    """(when, order, step) for the demo timeline."""
    from portal.demo import loader

    def at(day: date, hour: int, fn):
        def step():
            clock.freeze(_at(day, hour))
            fn()
        return (_at(day, hour), 600, step)

    return [at(date(2026, 2, 20), 9, _plan), at(date(2026, 3, 10), 9, _run),
            at(date(2026, 3, 11), 10, _acknowledge),
            at(date(2026, 3, 13), 15, _report), at(date(2026, 3, 28), 10, _act),
            at(date(2026, 4, 15), 10, _verify_and_close)] + _second_audit_steps(loader._load_day or clock.today(), at)



# --- the second audit, relative to the day the demo is loaded (L) --------------------------------

SECOND = {"departments": ["SH", "SC"], "lead_auditor": "zhoujing", "team": [],
          "clauses": ["ISO 9001:2015 7.1.5", "ISO 9001:2015 7.5.3", "ISO 9001:2015 8.5.1", "ISO 9001:2015 10.2"]}
# (clause, department, question, result, notes, action: owner, containment, root cause, plan)
SECOND_CHECKLIST = [
    ("ISO 9001:2015 8.5.1", "SH", "上门维修是否按 QP-SH01 在承诺时限内到场并填写维修服务单？", "nonconforming",
     "抽查 10 份维修服务单，3 份超过 24 小时承诺时限到场，未记录延误原因",
     ("sunli", "对 3 位客户电话回访致歉并确认设备已修复", "派工时未核对工程师在途任务，缺少超时预警",
      "派工单增加预计到场时间，超过 20 小时由部门经理改派；每周统计到场及时率")),
    ("ISO 9001:2015 7.1.5", "SC", "检测用量具是否按期校准并有合格标识？", "nonconforming",
     "生产部两把数显卡尺校准标识过期 1 个月仍在使用",
     ("liuyang", "停用过期量具，对上月用其检验的批次复测", "量具台账无到期提醒，校准依赖个人记忆",
      "量具台账增加到期日，每月初由质保部发到期清单；到期前送检")),
    ("ISO 9001:2015 7.5.3", "SH", "顾客回访记录是否完整并按规定保存？", "nonconforming",
     "9 月回访记录缺 4 份客户签字，电子档未按月归档",
     ("zhangwei", "补齐可追溯的回访确认（电话录音）", "回访表单无必填校验，归档无人负责",
      "回访记录改用门户表单登记，月底由部门经理检查归档")),
    ("ISO 9001:2015 8.5.1", "SC", "设备日常点检是否按点检表执行？", "conforming", "抽查 2 台注塑机点检表，记录完整", None),
]


def _second_title(load_day: date) -> str:
    return f"{(load_day - timedelta(days=45)).year}年度第二次内部质量审核（售后服务与生产）"


def _second_audit_steps(load_day: date, at) -> list:
    day = lambda offset: load_day + timedelta(days=offset)  # noqa: E731
    title = _second_title(load_day)
    lead = lambda: _user("zhoujing")  # noqa: E731
    audit = lambda: _audit(title)  # noqa: E731

    def plan():
        made = services.create_audit(lead(), {**SECOND, "title": title, "planned_start": day(-45).isoformat(),
                                               "planned_end": day(-44).isoformat()})
        for clause, dept, question, *_rest in SECOND_CHECKLIST:
            services.add_checklist_item(lead(), made, {"clause": clause, "department": dept, "question": question})

    def run():
        started = services.advance_audit(lead(), audit(), "start")
        running.update_notes(lead(), started, {"opening_notes": "首次会议：售后服务部孙丽、生产部刘洋参加，确认两天日程。"})
        for item, (_c, _d, _q, result, notes, _a) in zip(started.checklist, SECOND_CHECKLIST):
            services.record_check_result(lead(), item, {"result": result, "notes": notes})
            if result == "nonconforming":
                services.raise_finding(lead(), audit(), {"classification": "minor", "statement": notes,
                                                         "checklist_item_id": item.id})

    def assign():
        for finding, spec in zip(audit().findings, [c for c in SECOND_CHECKLIST if c[5]]):
            owner, containment, cause, plan_text = spec[5]
            due = {"sunli": -20, "liuyang": -10, "zhangwei": -5}[owner]
            services.open_action(lead(), finding, {"owner": owner, "due_date": day(due).isoformat(),
                                                   "containment": containment, "root_cause": cause,
                                                   "plan": plan_text})
            member = {"SH": "zhangwei", "SC": "liuyang"}[finding.department.code]
            running.acknowledge_finding(_user(member), finding)

    def report():
        reported = running.update_notes(lead(), audit(), {"closing_notes": "末次会议：通报一般不符合 3 项，"
                                                                            "受审核部门无异议；10.2 本次未抽查。"})
        services.advance_audit(lead(), reported, "report", {
            "summary": "对售后服务部、生产部的服务提供、监视测量资源和记录控制进行了审核，发现一般不符合 3 项。",
            "conclusion": "体系运行基本有效，服务及时性和量具管理需改进。"})

    def actions():
        return {a.owner.username: a for x in audit().findings for a in x.actions}

    def complete_first():
        services.complete_action(_user("sunli"), actions()["sunli"], {
            "note": "派工单已增加预计到场时间", "occurs_elsewhere": "安装调试派工同样适用，一并修订"})

    def not_effective():
        services.verify_action(lead(), actions()["sunli"], {
            "effective": False, "due_date": day(14).isoformat(),
            "note": "抽查本月 8 份服务单仍有 2 份超时且未改派，措施未落实到夜间派工，需重新分析原因"})

    def complete_second():
        services.complete_action(_user("liuyang"), actions()["liuyang"], {
            "note": "两把卡尺已送检合格；台账增加到期日", "verify_after": day(7).isoformat(),
            "occurs_elsewhere": "研发部量具一并纳入台账"})

    def jobs_round():
        from portal.audit.reminders import escalate_overdue_actions, remind_due_actions

        remind_due_actions()
        escalate_overdue_actions()

    return [at(day(-60), 9, plan), at(day(-45), 9, run), at(day(-44), 10, assign), at(day(-44), 16, report),
            at(day(-25), 15, complete_first), at(day(-16), 10, not_effective),
            at(day(-12), 11, complete_second), at(day(-8), 22, jobs_round), at(day(-2), 22, jobs_round)]
