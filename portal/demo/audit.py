"""The demo's internal audit (QP1701): the 2026 first-round audit of 售后服务部 and 质保部,
planned, run with its 检查表, reported and closed through the audit services."""
from datetime import date

from sqlalchemy import select

from portal import clock
from portal.audit import services
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


def _audit():
    return db.session.execute(select(Audit).where(Audit.title == PLAN["title"])).scalar_one()


def _plan():
    audit = services.create_audit(_user("zhoujing"), PLAN)
    for clause, dept, question, _result, _notes in CHECKLIST:
        services.add_checklist_item(_user("zhoujing"), audit, {"clause": clause, "department": dept,
                                                               "question": question})


def _run():
    lead, team = _user("zhoujing"), _user("wuhaitao")
    audit = services.advance_audit(lead, _audit(), "start")
    for item, (_c, _d, _q, result, notes) in zip(audit.checklist, CHECKLIST):
        services.record_check_result(team if item.department.code == "ZB" else lead, item,
                                     {"result": result, "notes": notes})
    manual = db.session.execute(select(Document).where(Document.code == "QP-SH01")).scalar_one()
    record = db.session.execute(select(Record).order_by(Record.id)).scalars().first()
    evidence = [{"kind": "document", "id": manual.id}] + ([{"kind": "record", "id": record.id}] if record else [])
    minor = services.raise_finding(lead, audit, {"classification": "minor", "clause": "ISO 9001:2015 7.5.3",
                                                 "department": "SH", "statement": MINOR, "evidence": evidence})
    services.raise_finding(team, audit, {"classification": "observation", "clause": "ISO 9001:2015 7.5.3",
                                         "department": "ZB", "statement": OBSERVATION})
    services.open_action(lead, minor, {"owner": "sunli", "due_date": "2026-04-10",
                                       "containment": "立即收回现场 A/0 版本并加盖作废章",
                                       "root_cause": "换版时未核对部门资料柜，发放回收记录缺少核对栏",
                                       "plan": "修订文件发放回收流程，增加部门资料柜月度核对；对售后服务部全员培训"})


def _report():
    services.advance_audit(_user("zhoujing"), _audit(), "report", {
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
    def at(day: date, hour: int, fn):
        def step():
            clock.freeze(_at(day, hour))
            fn()
        return (_at(day, hour), 600, step)

    return [at(date(2026, 2, 20), 9, _plan), at(date(2026, 3, 10), 9, _run),
            at(date(2026, 3, 13), 15, _report), at(date(2026, 3, 28), 10, _act),
            at(date(2026, 4, 15), 10, _verify_and_close)]
