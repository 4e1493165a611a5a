"""The demo's auditor register and its approved 2026 internal audit programme (年度内审方案),
through the real services: the admin registers the internal auditors' qualifications before any
audit is planned, the 文控 sets the year's scope in January and 赵国强 (管理者代表) approves it
with his password."""
from datetime import date

from portal import clock
from portal.audit import programme, qualification
from portal.demo.loader import DEMO_PASSWORD, _at, _user

# (username, standards, qualified until, note): 内审员证书 from the 2022 training course
QUALIFICATIONS = [
    ("zhoujing", ["ISO 9001:2015"], "2028-12-31", "内审员证书 NSY-2022-0315，2022 年 12 月 ISO 9001:2015 内审员培训合格"),
    ("wuhaitao", ["ISO 9001:2015"], "2028-12-31", "内审员证书 NSY-2022-0316，2022 年 12 月 ISO 9001:2015 内审员培训合格"),
    ("wenkong", ["ISO 9001:2015"], "2027-12-31", "内审员证书 NSY-2021-0088；文控兼职内审员"),
]
YEAR = 2026
SCOPE = {
    "objectives": "验证质量管理体系符合 ISO 9001:2015 和公司质量手册 QM-01 的要求并有效运行；"
                  "年内覆盖全部部门和标准的全部适用条款；为管理评审提供输入。",
    "criteria": "ISO 9001:2015；质量手册 QM-01；程序文件 QP0101、QP0501、QP1401、QP1701 及相关作业指导书；"
                "适用的法律法规和顾客要求。",
    "standards": ["ISO 9001:2015"],
    "departments": ["SC", "SH", "XZ", "YF", "YX", "ZB"],
}


def _qualify():
    admin = _user("admin")
    for username, standards, until, note in QUALIFICATIONS:
        values = qualification.parse_qualification({"standards": standards, "qualified_until": until,
                                                    "note": note})
        qualification.set_qualification(admin, _user(username), values)


def _scope():
    programme.set_scope(_user("wenkong"), YEAR, SCOPE)


def _approve():
    programme.approve(_user("zhaoguoqiang"), YEAR, {"password": DEMO_PASSWORD})


def programme_steps() -> list:
    """(when, order, step) for the demo timeline: before the first audit is planned (2026-02-20)."""
    def at(day: date, hour: int, fn):
        def step():
            clock.freeze(_at(day, hour))
            fn()
        return (_at(day, hour), 590, step)

    return [at(date(2023, 1, 4), 10, _qualify), at(date(2026, 1, 6), 10, _scope),
            at(date(2026, 1, 9), 15, _approve)]
