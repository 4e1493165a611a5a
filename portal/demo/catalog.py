"""Demo catalogue: departments, users and controlled documents with their revision history.

Pure data, mined from the Chinese source documents in the shared seeds.  Revision bodies
are HTML fragments in ``content/`` next to this module (``file`` is relative to it).

Revisions are listed oldest first; a ``major`` change starts a new edition (A/x -> B/0),
a ``minor`` change bumps the modification number (A/0 -> A/1).  Revisions without a
``state`` key are historic (effective when their date came, superseded by the next one).
The demo password is set by the demo loader, never here.
"""

# (pinyin code, Chinese name).  Codes follow the seeds' rule: 营销中心 YX, 生产部 SC, 研发部 YF;
# 质保部 keeps the 管理评审 records (QP0101), 售后服务部 runs the after-sales procedures.
DEPARTMENTS = [
    ("ZB", "质保部"),
    ("SH", "售后服务部"),
    ("YX", "营销中心"),
    ("SC", "生产部"),
    ("YF", "研发部"),
    ("XZ", "行政部"),
]

USERS = [
    {"username": "admin", "name": "系统管理员", "role": "admin", "department": "XZ"},
    # 文控 / 文件管理员
    {"username": "wenkong", "name": "李文控", "role": "controller", "department": "ZB"},
    # 员工 / 经办人
    {"username": "zhangwei", "name": "张伟", "role": "staff", "department": "SH"},      # 售后服务工程师
    {"username": "wangfang", "name": "王芳", "role": "staff", "department": "YX"},      # 营销中心内勤
    {"username": "liuyang", "name": "刘洋", "role": "staff", "department": "SC"},       # 生产部机修工
    # 审核 / 批准
    {"username": "zhaoguoqiang", "name": "赵国强", "role": "approver", "department": "ZB"},  # 管理者代表
    {"username": "chenjianhua", "name": "陈建华", "role": "approver", "department": "XZ"},   # 总经理
    {"username": "sunli", "name": "孙丽", "role": "approver", "department": "SH"},           # 售后服务部经理
    # 内审员
    {"username": "zhoujing", "name": "周静", "role": "auditor", "department": "YX"},
    {"username": "wuhaitao", "name": "吴海涛", "role": "auditor", "department": "SC"},
    # 认证机构审核员 (read-only, time-limited)
    {"username": "cb_auditor", "name": "郑雅琴", "role": "external_reviewer", "department": None},
]

DOCUMENTS = [
    {
        "code": "QM-01",
        "title": "质量手册",
        "doc_type": "manual",
        "department": "ZB",
        "clauses": [
            "ISO 9001:2015 4.1", "ISO 9001:2015 4.2", "ISO 9001:2015 4.3", "ISO 9001:2015 4.4",
            "ISO 9001:2015 5.1", "ISO 9001:2015 5.2", "ISO 9001:2015 5.3",
            "ISO 9001:2015 6.1", "ISO 9001:2015 6.2", "ISO 9001:2015 6.3",
            "ISO 9001:2015 7.5.1",
        ],
        "confidentiality": "internal",
        "review_period_months": 12,
        "revisions": [
            {"file": "QM-01_A0.html", "change_level": "major",
             "change_summary": "首版发行", "change_reason": None,
             "author": "wenkong", "reviewers": ["zhaoguoqiang"], "approver": "chenjianhua",
             "effective_date": "2023-03-01"},
            {"file": "QM-01_A1.html", "change_level": "minor",
             "change_summary": "0.3 质量目标“客户满意度”由≥90%调整为≥92%；7.5 增加电子版受控文件的说明",
             "change_reason": "2023年度管理评审决定提高客户满意度目标；公司启用文件管理系统",
             "author": "wenkong", "reviewers": ["zhaoguoqiang"], "approver": "chenjianhua",
             "effective_date": "2024-06-15"},
            {"file": "QM-01_B0.html", "change_level": "major",
             "change_summary": "换版：质量方针改为“客户至上、质量第一、持续改进、追求卓越”，质量目标改为表格并增加"
                               "投诉处理及时率、出厂检验一次合格率；5.3 职责改为表格；第8章按产品实现顺序重新编排，"
                               "8.5.5 增加售后服务时限表",
             "change_reason": "2024年度管理评审输出：调整质量方针和质量目标，售后服务时限纳入手册",
             "author": "wenkong", "reviewers": ["zhaoguoqiang"], "approver": "chenjianhua",
             "effective_date": "2025-09-01"},
        ],
    },
    {
        "code": "QP0501",
        "title": "文件和资料控制程序",
        "doc_type": "procedure",
        "department": "ZB",
        "clauses": ["ISO 9001:2015 7.5", "ISO 9001:2015 7.5.2", "ISO 9001:2015 7.5.3"],
        "confidentiality": "internal",
        "review_period_months": 12,
        "revisions": [
            {"file": "QP0501_A0.html", "change_level": "major",
             "change_summary": "首版发行", "change_reason": None,
             "author": "wenkong", "reviewers": ["zhaoguoqiang"], "approver": "chenjianhua",
             "effective_date": "2023-03-01"},
            # Submitted for 审核/批准, signatures outstanding.
            {"file": "QP0501_A1.html", "change_level": "minor",
             "change_summary": "4.9 定期评审增加《文件评审记录》；新增 4.10 电子文件的控制",
             "change_reason": "文件管理系统上线，电子文件的发布、电子签名和作废方式需写入程序",
             "author": "wenkong", "reviewers": ["zhaoguoqiang"], "approver": "chenjianhua",
             "effective_date": None, "state": "in_review"},
        ],
    },
    {
        "code": "QP-SH01",
        "title": "售后服务管理程序",
        "doc_type": "procedure",
        "department": "SH",
        "clauses": ["ISO 9001:2015 8.2.1", "ISO 9001:2015 8.5.1", "ISO 9001:2015 8.5.5",
                    "ISO 9001:2015 9.1.2"],
        "confidentiality": "internal",
        "review_period_months": 12,
        "revisions": [
            {"file": "QP-SH01_A0.html", "change_level": "major",
             "change_summary": "首版发行", "change_reason": None,
             "author": "zhangwei", "reviewers": ["sunli", "zhaoguoqiang"], "approver": "chenjianhua",
             "effective_date": "2023-03-01"},
            {"file": "QP-SH01_A1.html", "change_level": "minor",
             "change_summary": "5.3 增加紧急服务2小时内响应、24小时内完成的要求；5.5 增加客户投诉4小时内上报",
             "change_reason": "2024年一季度客户投诉分析（紧急故障响应不及时）的纠正措施",
             "author": "zhangwei", "reviewers": ["sunli", "zhaoguoqiang"], "approver": "chenjianhua",
             "effective_date": "2024-05-06", "steps": "SERVICE_STEPS"},
            # Open draft, still being written.
            {"file": "QP-SH01_B0.html", "change_level": "major",
             "change_summary": "换版：按受理→派工→实施→验收→回访→归档重写工作程序，增加服务时限表、"
                               "客户投诉处理、零配件和服务收费、记录编号规则",
             "change_reason": "整合售后服务作业管理制度，准备GB/T 27922商品售后服务评价",
             "author": "zhangwei", "reviewers": ["sunli", "zhaoguoqiang"], "approver": "chenjianhua",
             "effective_date": None, "state": "draft"},
        ],
    },
    {
        "code": "QP-SH02",
        "title": "客户投诉处理程序",
        "doc_type": "procedure",
        "department": "SH",
        "clauses": ["ISO 9001:2015 8.2.1", "ISO 9001:2015 9.1.2", "ISO 9001:2015 10.2"],
        "confidentiality": "internal",
        "review_period_months": 12,
        "revisions": [
            {"file": "QP-SH02_A0.html", "change_level": "major",
             "change_summary": "首版发行：依据客户投诉管理办法，规定登记、分类、调查、处理、纠正措施、回复顾客及时限",
             "change_reason": None,
             "author": "zhangwei", "reviewers": ["sunli", "zhaoguoqiang"], "approver": "chenjianhua",
             "effective_date": "2024-05-06", "steps": "COMPLAINT_STEPS"},
        ],
    },
    {
        "code": "QP0101",
        "title": "管理评审控制程序",
        "doc_type": "procedure",
        "department": "ZB",
        "clauses": ["ISO 9001:2015 9.3", "ISO 9001:2015 9.3.1", "ISO 9001:2015 9.3.2",
                    "ISO 9001:2015 9.3.3"],
        "confidentiality": "internal",
        "review_period_months": 12,
        "revisions": [
            {"file": "QP0101_A0.html", "change_level": "major",
             "change_summary": "首版发行", "change_reason": None,
             "author": "wenkong", "reviewers": ["zhaoguoqiang"], "approver": "chenjianhua",
             "effective_date": "2023-03-01"},
        ],
    },
    {
        "code": "QP1401",
        "title": "纠正和预防措施控制程序",
        "doc_type": "procedure",
        "department": "ZB",
        "clauses": ["ISO 9001:2015 10.2", "ISO 9001:2015 10.2.1", "ISO 9001:2015 10.2.2",
                    "ISO 9001:2015 6.1"],
        "confidentiality": "internal",
        "review_period_months": 12,
        "revisions": [
            {"file": "QP1401_A0.html", "change_level": "major",
             "change_summary": "首版发行", "change_reason": None,
             "author": "wenkong", "reviewers": ["zhaoguoqiang"], "approver": "chenjianhua",
             "effective_date": "2023-03-01"},
        ],
    },
    {
        "code": "WI-SH-01",
        "title": "外出服务作业指导书",
        "doc_type": "work_instruction",
        "department": "SH",
        "clauses": ["ISO 9001:2015 8.5.1", "ISO 9001:2015 8.5.5"],
        "confidentiality": "internal",
        "review_period_months": 12,
        "revisions": [
            {"file": "WI-SH-01_A0.html", "change_level": "major",
             "change_summary": "首版发行", "change_reason": None,
             "author": "zhangwei", "reviewers": ["sunli"], "approver": "zhaoguoqiang",
             "effective_date": "2024-09-01"},
        ],
    },
]

# The steps the two after-sales procedures run (CONTRACT "Procedure runs"), with the forms and
# clocks the seeds name: first response within 24 h (emergency 2 h), done within 72 h
# (emergency 24 h), follow-up call 5-7 days after delivery; a complaint reaches the manager
# within 4 h and is solved within 3 working days. `form` is a form code, resolved on load.
SERVICE_STEPS = [
    {"name": "受理", "form": "QR-SH013", "department": "SH", "due_hours": {"ordinary": 24, "emergency": 2}},
    {"name": "派工", "form": "QR-SH010", "department": "SH", "due_hours": {"ordinary": 24, "emergency": 2}},
    {"name": "实施", "form": "QR-SH011", "department": "SH", "due_hours": {"ordinary": 72, "emergency": 24}},
    {"name": "验收", "form": "QR-SH008", "department": "SH", "due_hours": {"ordinary": 72, "emergency": 24}},
    {"name": "回访", "form": "SH/QT-2020-04", "department": "SH", "due_hours": {"ordinary": 240, "emergency": 192}},
    {"name": "归档", "department": "SH", "due_working_days": 15, "escalate_to": "controller"},
]
COMPLAINT_STEPS = [
    {"name": "登记", "form": "QR-YX003", "department": "SH", "due_hours": 4},
    {"name": "分类", "form": "SH/QT-2020-03", "department": "SH", "due_hours": 24},
    {"name": "调查", "department": "ZB", "due_working_days": 3},
    {"name": "处理", "department": "SH", "due_working_days": 3},
    {"name": "纠正措施", "form": "QR1701-04", "department": "ZB", "due_working_days": 10,
     "escalate_to": "controller"},
    {"name": "回复顾客", "department": "SH", "due_working_days": 10},
]
STEPS = {"SERVICE_STEPS": SERVICE_STEPS, "COMPLAINT_STEPS": COMPLAINT_STEPS}

# The five objectives of the seeds (售后服务质量管理办法: 客户满意度, 服务及时率, 服务一次成功率,
# 投诉处理及时率; 顾客有效投诉处理率统计表), measured from the demo's runs and records.
OBJECTIVES = [
    {"name": "服务及时率", "target": 98, "comparison": ">=", "unit": "%", "frequency": "month",
     "department": "SH", "measure": {"kind": "on_time", "document": "QP-SH01"}},
    {"name": "投诉处理及时率", "target": 95, "comparison": ">=", "unit": "%", "frequency": "month",
     "measure": {"kind": "on_time", "document": "QP-SH02"}},
    {"name": "服务一次成功率", "target": 95, "comparison": ">=", "unit": "%", "frequency": "month",
     "measure": {"kind": "field_ratio", "form": "QR-SH011", "field": "result", "values": ["已解决"]}},
    {"name": "客户满意度", "target": 90, "comparison": ">=", "unit": "%", "frequency": "quarter",
     "measure": {"kind": "field_ratio", "form": "SH/QT-2020-04", "field": "satisfaction",
                 "values": ["满意", "比较满意"]}},
    # A complaint counts as effectively handled when the customer confirms the outcome.
    {"name": "顾客有效投诉处理率", "target": 95, "comparison": ">=", "unit": "%", "frequency": "quarter",
     "measure": {"kind": "field_ratio", "form": "SH/QT-2020-03", "field": "customer_confirmation",
                 "values": ["满意", "基本满意"]}},
]
