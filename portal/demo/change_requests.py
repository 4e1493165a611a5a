"""The demo's document change requests (文件更改申请, QP0501 4.x): one raised from the first
audit's corrective action on QP1401, accepted, written, signed and released (so implemented);
one still open on QP-SH02; one rejected on WI-SH-01. Everything through the services."""
from datetime import date, datetime

from sqlalchemy import select

from portal import clock
from portal.audit.models import CorrectiveAction
from portal.change_requests import services
from portal.change_requests.models import ChangeRequest
from portal.demo.loader import DEMO_PASSWORD, _at, _doc, _user
from portal.documents import services as documents
from portal.documents import workflow
from portal.extensions import db

IMPLEMENTED = {
    "reason": "内审不符合项（售后服务部现场使用已被替代的 QP-SH01 A/0）原因分析表明：纠正措施涉及文件更改时，"
              "本程序未要求提出文件更改申请，验证时也未核对现场使用的版本，换版后旧版未及时收回。",
    "proposed_change": "4.6 增加：纠正措施涉及文件更改的，责任部门按 QP0501 提出《文件更改申请》并注明纠正措施编号；"
                       "4.7 增加：验证纠正措施时，核对现场使用的文件为更改后的现行版本。",
    "change_level": "minor"}
OPEN = {"reason": "2026年一季度投诉统计中“服务态度”类投诉占 18%，现行程序只分质量异常和非质量异常两类，无法单独统计和分析。",
        "proposed_change": "4.2 投诉分类增加“服务态度”类；《客户投诉登记表》相应增加分类栏。",
        "change_level": "minor"}
REJECTED = {"reason": "外出服务携带的工具清单与生产部设备维修实际配置不一致。",
            "proposed_change": "附录增加生产部设备维修工具清单。", "change_level": "minor"}
REJECT_COMMENT = "本作业指导书仅适用于售后服务部外出服务；生产部设备维修工具由生产部的设备维护保养规程规定，请向生产部提出。"
# The draft's text: 4.6 and 4.7 as the request proposes.
NEW_46 = ("<p>责任部门按期实施纠正措施；不能按期完成的，应说明原因并重新确定完成期限。纠正措施涉及文件更改的，"
          "责任部门按QP0501《文件和资料控制程序》提出《文件更改申请》，注明纠正措施编号。</p>")
NEW_47 = ("<p>纠正措施完成后，由质保部或提出不合格的内审员对实施效果进行验证，核对现场使用的文件为更改后的现行版本，"
          "并在《纠正预防措施表》上记录验证结论。验证有效的予以关闭；验证无效的，重新分析原因并采取措施。</p>")


def _request(spec: dict) -> ChangeRequest:
    return db.session.execute(select(ChangeRequest).where(ChangeRequest.reason == spec["reason"])).scalar_one()


def _first_action() -> CorrectiveAction | None:
    """The demo audit's first corrective action, whatever its number (None: no audit yet)."""
    return db.session.execute(select(CorrectiveAction).where(CorrectiveAction.created_at <= clock.now())
                              .order_by(CorrectiveAction.id)).scalars().first()


def _raise_from_action():
    action = _first_action()
    payload = {**IMPLEMENTED, **({"action_id": action.id} if action else {})}
    services.raise_request(_user(action.owner.username if action else "sunli"), _doc("QP1401"), payload)


def _accept():
    services.accept(_user("zhaoguoqiang"), _request(IMPLEMENTED),
                    {"comment": "同意，由文控修订 4.6、4.7 条", "author": "wenkong"})


def _rewrite(html: str) -> str:
    """4.6 and 4.7 of the inherited body replaced by the proposed text."""
    out, heading = [], None
    for part in html.split("\n"):
        if heading in ("4.6", "4.7") and part.startswith("<p>"):
            part, heading = NEW_46 if heading == "4.6" else NEW_47, None
        elif part.startswith("<h3>4.6") or part.startswith("<h3>4.7"):
            heading = part[4:7]
        out.append(part)
    return "\n".join(out)


def _write_and_submit():
    rev = _request(IMPLEMENTED).revision
    author = _user("wenkong")
    documents.update_revision(author, rev, {"body_html": _rewrite(rev.body_html),
                                            "change_summary": "4.6 纠正措施涉及文件更改的提出文件更改申请；4.7 验证时核对现场版本"})
    workflow.submit_revision(author, rev, {"reviewers": ["zhaoguoqiang"], "approver": "chenjianhua"})


def _sign(username: str, meaning: str):
    def sign():
        workflow.sign_revision(_user(username), _request(IMPLEMENTED).revision, {
            "meaning": meaning, "decision": "accept", "comment": "同意" if meaning == "review" else "批准发布",
            "password": DEMO_PASSWORD})
    return sign


def _release():
    rev = _request(IMPLEMENTED).revision
    workflow.release_revision(_user("wenkong"), rev, {"effective_date": clock.today().isoformat()})


def _raise_open():
    services.raise_request(_user("zhangwei"), _doc("QP-SH02"), OPEN)


def _raise_to_reject():
    services.raise_request(_user("liuyang"), _doc("WI-SH-01"), REJECTED)


def _reject():
    services.reject(_user("sunli"), _request(REJECTED), {"comment": REJECT_COMMENT})


def change_request_steps() -> list:
    """(when, order, step) for the demo timeline, after the first audit's action is assigned."""
    def at(day: date, hour: int, fn) -> tuple[datetime, int, object]:
        def step():
            clock.freeze(_at(day, hour))
            fn()
        return (_at(day, hour), 700, step)

    d = date
    return [at(d(2026, 3, 20), 10, _raise_from_action), at(d(2026, 3, 23), 9, _accept),
            at(d(2026, 3, 24), 10, _write_and_submit), at(d(2026, 3, 25), 10, _sign("zhaoguoqiang", "review")),
            at(d(2026, 3, 25), 15, _sign("chenjianhua", "approve")), at(d(2026, 3, 26), 9, _release),
            at(d(2026, 4, 8), 14, _raise_to_reject), at(d(2026, 4, 9), 10, _reject),
            at(d(2026, 4, 20), 10, _raise_open)]
