"""A deterministic, realistic search corpus built from the project's own seed vocabulary.

Vocabulary comes only from files in the repository and shared/:

* sentences of /work/shared/seeds/*.txt (web scrapes of Chinese after-sales / QMS
  documents; lines with site boilerplate such as 下载 / VIP / 侵权 are dropped),
* the demo documents portal/demo/content/*.html (tags stripped),
* form_templates/*/form.toml: titles, descriptions, field labels, choices and sample values.

`generate(n_items, seed)` returns plain row dicts for the portal's real tables
(department, user, document, revision, record, search_outbox) with explicit ids, so
`load(session, corpus)` can insert them with SQLAlchemy bulk operations: a shortcut
for set-up speed only (the workflow services are not under test here). About 10 % of
the items are document revisions (effective, some superseded), 90 % records issued
from the 22 shipped forms plus generated ones. Every item's indexed body text is
1,024–3,072 bytes of UTF-8 (≈ 350–1,000 Chinese characters), drawn uniformly.
"""
from __future__ import annotations

import html
import random
import re
import tomllib
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEEDS = Path("/work/shared/seeds")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
SPLIT_RE = re.compile(r"[。！？!?\n；;]+")
JUNK = ("原创力", "下载", "VIP", "网站", "侵权", "付费", "上传", "http", "www", "合集", "本站",
        "文档", "book118", "页", "点击", "咨询电话", "微信", "QQ", "价格", "优惠", "面议")
DEPARTMENTS = [("ZB", "质保部"), ("SH", "售后服务部"), ("YX", "营销中心"), ("SC", "生产部"),
               ("YF", "研发部"), ("XZ", "行政部"), ("CG", "采购部"), ("CK", "仓储部")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国海涛文斌志红玲东晓峰鹏飞宇辉"
CITIES = ["福州", "厦门", "泉州", "漳州", "莆田", "宁德", "三明", "南平", "龙岩", "上海", "杭州",
          "南京", "广州", "深圳", "苏州", "武汉", "成都", "合肥", "南昌", "长沙"]
COMPANY_TAILS = ["电气有限公司", "食品有限公司", "机械制造有限公司", "物业管理有限公司",
                 "化工股份有限公司", "纺织有限公司", "环保科技有限公司", "建设工程有限公司",
                 "电力设备有限公司", "医疗器械有限公司", "汽车配件有限公司", "包装材料有限公司"]
PRODUCTS = ["PDX-400 智能配电箱", "GGD 低压开关柜", "XL-21 动力配电柜", "KYN28 高压开关柜",
            "JP 柜综合配电箱", "ZW32 真空断路器", "SCB13 干式变压器", "HXGN 环网柜",
            "DTSD 三相电能表", "YJV 电力电缆", "CJX2 交流接触器", "NM1 塑壳断路器",
            "BSMJ 电容补偿柜", "EPS 应急电源", "UPS 不间断电源", "ATS 双电源切换开关"]
# A little English, as found in bilingual Chinese QMS paperwork (the seeds have almost none).
ENGLISH = ["Customer complaint closed after on-site verification.",
           "Corrective action verified effective by the quality department.",
           "Warranty repair completed; customer satisfied with the service.",
           "Document control: obsolete copies recalled and destroyed.",
           "Calibration of measuring equipment is due next quarter.",
           "Management review input: customer feedback and supplier performance.",
           "Nonconforming product isolated, labelled and returned to the supplier.",
           "Training records kept for three years as required by the procedure.",
           "Internal audit finding: records of incoming inspection incomplete.",
           "Spare parts issued from warehouse against the service order."]
TOPICS = ["文件和资料", "记录", "管理评审", "内部审核", "纠正措施", "预防措施", "不合格品",
          "售后服务", "顾客满意度", "顾客投诉", "采购", "供方评价", "设备维修保养", "计量器具",
          "培训", "生产过程", "产品标识和可追溯性", "检验和试验", "数据分析", "持续改进",
          "合同评审", "产品防护", "仓库", "零配件", "退货", "产品升级", "质量目标", "信息交流",
          "基础设施", "工作环境", "风险和机遇", "变更", "外来文件", "应急准备", "知识管理"]
DOC_KINDS = [  # (doc_type, weight, title suffixes)
    ("procedure", 45, ["控制程序", "管理程序", "管理办法", "实施细则"]),
    ("work_instruction", 35, ["作业指导书", "操作规程", "检验规范", "维护保养规程"]),
    ("policy", 5, ["管理制度", "管理规定"]),
    ("manual", 2, ["质量手册", "管理手册"]),
    ("external", 3, ["国家标准", "行业标准"]),
    ("form", 10, ["记录表", "登记表", "申请单", "报告单", "检查表"]),
]
SECTIONS = ["目的", "适用范围", "职责", "定义", "工作程序", "相关文件", "记录"]
CLAUSES = ["ISO 9001:2015 4.4", "ISO 9001:2015 5.3", "ISO 9001:2015 6.1", "ISO 9001:2015 7.1.5",
           "ISO 9001:2015 7.2", "ISO 9001:2015 7.5.2", "ISO 9001:2015 7.5.3", "ISO 9001:2015 8.2.1",
           "ISO 9001:2015 8.4", "ISO 9001:2015 8.5.1", "ISO 9001:2015 8.5.2", "ISO 9001:2015 8.5.5",
           "ISO 9001:2015 8.7", "ISO 9001:2015 9.1.2", "ISO 9001:2015 9.2", "ISO 9001:2015 9.3",
           "ISO 9001:2015 10.2"]
START = date(2023, 1, 1)
END = date(2026, 11, 20)


def _cjk_share(text: str) -> float:
    return len(CJK_RE.findall(text)) / max(1, len(text))


def _sentences(text: str) -> list[str]:
    out = []
    for part in SPLIT_RE.split(text):
        part = " ".join(part.split()).strip(" ,，、：:·•□")
        if 8 <= len(part) <= 160 and _cjk_share(part) >= 0.6 and not any(j in part for j in JUNK):
            out.append(part + "。")
    return out


def _strip_html(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "\n", text))


def read_forms() -> list[dict]:
    forms = []
    for path in sorted((REPO / "form_templates").glob("*/form.toml")):
        forms.append(tomllib.loads(path.read_text("utf-8")))
    return forms


def mine_vocabulary() -> dict:
    """Sentences, frequent CJK terms, field labels and sample values from the project's seeds."""
    sentences, raw = [], []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text("utf-8", errors="replace")
        raw.append(text)
        sentences += _sentences(text)
    for path in sorted((REPO / "portal/demo/content").glob("*.html")):
        text = _strip_html(path.read_text("utf-8"))
        raw.append(text)
        sentences += _sentences(text)
    forms = read_forms()
    labels, values, choices = [], [], []
    for form in forms:
        if form.get("description"):
            sentences += _sentences(form["description"])
        for f in form.get("fields", []):
            labels.append(f["label"])
            choices += f.get("choices", [])
            for c in f.get("columns", []):
                labels.append(c["label"])
        for sample in form.get("samples", []):
            for v in sample.values():
                if isinstance(v, str) and v.strip():
                    values.append(v.strip())
    sentences = list(dict.fromkeys(sentences))
    # Frequent 2–4 character CJK n-grams of the seed texts: the "terms" of short fields.
    counts: Counter = Counter()
    for text in raw:
        for run in re.findall(r"[\u4e00-\u9fff]{2,}", text):
            for n in (2, 3, 4):
                for i in range(len(run) - n + 1):
                    counts[run[i:i + n]] += 1
    terms = [t for t, c in counts.most_common(3000) if c >= 4]
    return {"sentences": sentences, "terms": terms, "labels": list(dict.fromkeys(labels)),
            "values": list(dict.fromkeys(values)), "choices": list(dict.fromkeys(choices)),
            "forms": forms}


class Generator:
    def __init__(self, vocab: dict, seed: int):
        self.v, self.r = vocab, random.Random(seed)

    # --- small values -------------------------------------------------------------
    def person(self) -> str:
        r = self.r
        return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2))))

    def company(self) -> str:
        r = self.r
        return r.choice(CITIES) + r.choice(self.v["terms"][:400])[:2] + r.choice(COMPANY_TAILS)

    def day(self, lo=START, hi=END) -> date:
        return lo + timedelta(days=self.r.randrange(max(1, (hi - lo).days)))

    def sentence(self) -> str:
        s = self.r.choice(self.v["sentences"])
        if self.r.random() < 0.15:  # some concrete detail, as real records have
            s = s[:-1] + f"，{self.r.choice(PRODUCTS)}，{self.person()}负责。"
        return s

    def paragraph(self, target_bytes: int) -> str:
        out, size = [], 0
        while size < target_bytes:
            s = self.sentence()
            out.append(s)
            size += len(s.encode())
        return "".join(out)

    def value(self, field: dict, when: date):
        t, r = field.get("type"), self.r
        label = field.get("label", "")
        if t == "number":
            return r.randrange(1, 5000) if r.random() < 0.8 else round(r.uniform(1, 999), 1)
        if t == "date":
            return (when + timedelta(days=r.randrange(0, 20))).isoformat()
        if t == "checkbox":
            return r.random() < 0.7
        if t == "choice":
            return r.choice(field.get("choices") or ["是", "否"])
        if t == "table":
            cols = field.get("columns") or []
            return [{c["name"]: self.value(c, when) for c in cols} for _ in range(r.randrange(1, 4))]
        if t == "textarea":
            return self.paragraph(r.randrange(60, 300))
        if any(k in label for k in ("客户", "单位", "公司", "供方", "供应商")):
            return self.company()
        if any(k in label for k in ("人", "姓名", "签字", "签名", "领导", "经理", "工程师")):
            return self.person()
        if any(k in label for k in ("电话", "手机")):
            return f"0591-{r.randrange(10**7, 10**8)}"
        if "地址" in label:
            return f"{r.choice(CITIES)}市{r.choice(self.v['terms'][:300])[:2]}路{r.randrange(1, 400)}号"
        if any(k in label for k in ("型号", "产品", "设备", "名称")):
            return r.choice(PRODUCTS)
        if any(k in label for k in ("编号", "批号")):
            return f"{r.choice(['PDX400', 'GGD', 'KYN28', 'SCB13'])}-{r.randrange(2301000, 2612999)}"
        if r.random() < 0.3 and self.v["values"]:
            return r.choice(self.v["values"])
        return r.choice(self.v["terms"][:1500])


def _aware(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=timezone.utc)


def render_number(pattern: str, code: str, dept: str, when: date, seq: int) -> str:
    def sub(m):
        token, width = m.group(1), m.group(2)
        return {"code": code, "dept": dept, "yyyy": f"{when.year:04d}", "yy": f"{when.year % 100:02d}",
                "mm": f"{when.month:02d}"}.get(token) if token != "seq" else f"{seq:0{int(width or 1)}d}"
    return re.sub(r"\{([a-z]+)(?::(\d+))?\}", sub, pattern)


def _prefix(pattern: str, code: str, dept: str, when: date) -> str:
    return render_number(pattern.split("{seq")[0] + "{seq:1}", code, dept, when, 0)[:-1]


def generate(n_items: int, seed: int = 20261124, vocab: dict | None = None,
             first_ids: dict | None = None) -> dict:
    """Rows for department, user, document, revision, record and search_outbox (n_items items)."""
    vocab = vocab or mine_vocabulary()
    g, r = Generator(vocab, seed), random.Random(seed + 1)
    ids = {"department": 1, "user": 1, "document": 1, "revision": 1, "record": 1,
           **(first_ids or {})}
    now = _aware(END)
    departments = [{"id": ids["department"] + i, "code": c, "name": n, "active": True, "created_at": now}
                   for i, (c, n) in enumerate(DEPARTMENTS)]
    dept_id = {d["code"]: d["id"] for d in departments}
    users = []
    for i in range(40):
        d = departments[i % len(departments)]
        users.append({"id": ids["user"] + i, "username": f"bench_u{i:02d}", "display_name": g.person(),
                      "password_hash": "!bench-no-login", "role": "staff" if i % 4 else "approver",
                      "department_id": d["id"], "active": True, "failed_logins": 0, "created_at": now})
    user_ids = [u["id"] for u in users]

    n_revisions = max(30, n_items // 10)
    n_records = n_items - n_revisions
    documents, revisions, records = [], [], []
    forms = []  # (document row, effective revision row, fields)
    used_codes = set()
    next_doc, next_rev = ids["document"], ids["revision"]

    def add_document(code, title, doc_type, dept, clauses, text_html, text, fields=None, extra=None,
                     superseded=False):
        nonlocal next_doc, next_rev
        created = g.day(START, date(2025, 6, 1))
        eff = created + timedelta(days=r.randrange(10, 60))
        conf = r.choices(["internal", "public", "confidential"], weights=[85, 12, 3])[0]
        doc = {"id": next_doc, "code": code, "title": title, "doc_type": doc_type,
               "department_id": dept_id[dept], "clauses": clauses, "confidentiality": conf,
               "review_period_months": 12, "status": "effective", "current_revision_id": None,
               "next_review_due": eff + timedelta(days=365), "created_by_id": r.choice(user_ids),
               "created_at": _aware(created), **(extra or {})}
        next_doc += 1
        revs = []
        labels = ["A/0", "A/1"] if superseded else ["A/0"]
        for k, label in enumerate(labels):
            last = k == len(labels) - 1
            start = eff if k == 0 else eff + timedelta(days=r.randrange(90, 400))
            body = text if last else g.paragraph(len(text.encode()))
            rev = {"id": next_rev, "document_id": doc["id"], "label": label, "edition": label[0],
                   "modification": int(label[2:]), "change_level": "major" if k == 0 else "minor",
                   "state": "effective" if last else "superseded",
                   "body_html": "<p>" + html.escape(body) + "</p>", "text": body,
                   "change_summary": "首版发行" if k == 0 else g.sentence(),
                   "fields": fields, "steps": None, "author_id": r.choice(user_ids), "review_round": 1,
                   "submitted_at": _aware(start - timedelta(days=9)),
                   "approved_at": _aware(start - timedelta(days=4)),
                   "released_at": _aware(start - timedelta(days=2)), "released_by_id": user_ids[0],
                   "effective_date": start, "ended_on": None,
                   "created_at": _aware(start - timedelta(days=12)), "updated_at": _aware(start)}
            if revs:
                revs[-1]["ended_on"] = start
            revs.append(rev)
            next_rev += 1
        doc["current_revision_id"] = revs[-1]["id"]
        documents.append(doc)
        revisions.extend(revs)
        return doc, revs[-1]

    def document_text(title: str, target: int) -> str:
        parts, size, k = [], 0, 0
        while size < target:
            heading = f"{k + 1} {SECTIONS[k % len(SECTIONS)]}" if k < len(SECTIONS) else f"4.{k - 3} {r.choice(TOPICS)}"
            para = g.paragraph(r.randrange(150, 500))
            if k == 0:
                para = f"为规范{title}，特制定本文件。" + para
            chunk = heading + "\n" + para + "\n"
            parts.append(chunk)
            size += len(chunk.encode())
            k += 1
        text = "".join(parts)
        if r.random() < 0.1:
            text += r.choice(ENGLISH) + "\n"
        # Cut to the target size at a character boundary.
        return text.encode()[:target].decode("utf-8", errors="ignore")

    # 1. the shipped forms (form_templates), each with an effective revision holding its fields
    for spec in vocab["forms"]:
        target = r.randrange(1024, 3073)
        text = document_text(spec["title"], target)
        doc, rev = add_document(spec["code"], spec["title"], "form", spec["department"],
                                spec.get("clauses", []), None, text, fields=spec.get("fields", []),
                                extra={"numbering_pattern": spec.get("numbering_pattern"),
                                       "retention_years": spec.get("retention_years"),
                                       "parts": spec.get("parts")})
        used_codes.add(spec["code"])
        forms.append((doc, rev, spec.get("fields", []), spec.get("numbering_pattern") or "{code}-{yyyy}{mm}-{seq:4}", spec["department"]))
    # 2. generated documents (and forms) until the revision budget is used
    label_pool = vocab["labels"]
    kinds = [k for k, w, _ in DOC_KINDS for _ in range(w)]
    while len(revisions) < n_revisions:
        kind = r.choice(kinds)
        suffixes = next(s for k, _, s in DOC_KINDS if k == kind)
        dept = r.choice(DEPARTMENTS)[0]
        topic = r.choice(TOPICS)
        for _ in range(1000):
            if kind == "procedure":
                code = r.choice([f"QP{r.randrange(1, 30):02d}{r.randrange(1, 100):02d}",
                                 f"QP-{dept}{r.randrange(1, 100):02d}"])
            elif kind == "work_instruction":
                code = r.choice([f"WI-{dept}-{r.randrange(1, 1000):02d}", f"{dept}/WI-{r.randrange(1, 1000):03d}"])
            elif kind == "form":
                code = r.choice([f"QR-{dept}{r.randrange(1, 1000):03d}", f"QR{r.randrange(1, 30):02d}{r.randrange(1, 100):02d}-{r.randrange(1, 20):02d}"])
            elif kind == "manual":
                code = r.choice([f"QM-{r.randrange(1, 100):02d}", f"QM-{dept}-{r.randrange(1, 100):02d}"])
            elif kind == "external":
                code = f"GB/T {r.randrange(1000, 40000)}-{r.randrange(2000, 2025)}"
            else:
                code = f"ZD-{dept}-{r.randrange(1, 1000):03d}"
            if code not in used_codes:
                break
        else:  # that code space is full (large corpora): number within it
            code = f"{code}-{len(used_codes)}"
        used_codes.add(code)
        title = topic + r.choice(suffixes)
        target = r.randrange(1024, 3073)
        text = document_text(title, target)
        superseded = kind != "form" and r.random() < 0.3 and len(revisions) + 2 <= n_revisions
        clauses = r.sample(CLAUSES, r.randrange(1, 4))
        if kind == "form":
            fields = []
            for name_i, label in enumerate(r.sample(label_pool, min(len(label_pool), r.randrange(5, 12)))):
                fields.append({"name": f"f{name_i}", "label": label,
                               "type": r.choice(["text", "text", "text", "date", "number"]), "required": False})
            fields.append({"name": "content", "label": r.choice(["情况说明", "处理结果", "检查记录", "描述"]),
                           "type": "textarea", "required": True})
            pattern = "{code}-{yyyy}{mm}-{seq:4}"
            doc, rev = add_document(code, title, "form", dept, clauses, None, text, fields=fields,
                                    extra={"numbering_pattern": pattern, "retention_years": 3})
            forms.append((doc, rev, fields, pattern, dept))
        else:
            add_document(code, title, kind, dept, clauses, None, text, superseded=superseded)

    # 3. records: the shipped forms carry most of them (weights), generated forms the rest
    weights = [30 if i < len(vocab["forms"]) else 1 for i in range(len(forms))]
    counters: dict = {}
    next_rec = ids["record"]
    for _ in range(n_records):
        doc, rev, fields, pattern, dept = r.choices(forms, weights=weights)[0]
        when = g.day(date(2024, 1, 1), END)
        data = {}
        for f in fields:
            if f.get("required") or r.random() < 0.75:
                data[f["name"]] = g.value(f, when)
        # Grow the free-text fields until the record's text is 1–3 KB.
        target = r.randrange(1024, 3073)
        text_fields = [f for f in fields if f.get("type") == "textarea"] or [{"name": "remark_text", "label": "备注"}]
        size = sum(len(str(v).encode()) for v in data.values()) + sum(len(f["label"].encode()) + 2 for f in fields)
        while size < target:
            f = r.choice(text_fields)
            s = g.sentence()
            data[f["name"]] = (data.get(f["name"]) or "") + s
            size += len(s.encode())
        if r.random() < 0.1:
            f = text_fields[0]
            data[f["name"]] = data.get(f["name"], "") + " " + r.choice(ENGLISH)
        prefix = _prefix(pattern, doc["code"], dept, when)
        seq = counters[prefix] = counters.get(prefix, 0) + 1
        number = render_number(pattern, doc["code"], dept, when, seq)
        status = r.choices(["closed", "open", "voided", "disposed"], weights=[78, 17, 4, 1])[0]
        created = _aware(when, r.randrange(0, 10))
        records.append({
            "id": next_rec, "number": number, "form_id": doc["id"], "revision_id": rev["id"],
            "revision_label": rev["label"], "department_id": dept_id[dept], "status": status,
            "data": data, "created_by_id": r.choice(user_ids), "created_at": created,
            "closed_at": created + timedelta(days=3) if status == "closed" else None,
            "voided_at": created + timedelta(days=1) if status == "voided" else None,
            "void_reason": g.sentence() if status == "voided" else None,
            "retain_until": when + timedelta(days=365 * 3)})
        next_rec += 1
    outbox = ([{"kind": "revision", "object_id": rv["id"], "created_at": now} for rv in revisions]
              + [{"kind": "record", "object_id": rc["id"], "created_at": now} for rc in records])
    return {"department": departments, "user": users, "document": documents, "revision": revisions,
            "record": records, "search_outbox": outbox}


def load(session, corpus: dict, chunk: int = 2000) -> dict:
    """Insert the corpus with the portal's models (bulk INSERTs); returns counts."""
    from sqlalchemy import insert, update

    from portal.accounts.models import Department, User
    from portal.documents.models import Document, Revision
    from portal.records.models import Record
    from portal.search.models import SearchOutbox

    models = [("department", Department), ("user", User), ("document", Document),
              ("revision", Revision), ("record", Record), ("search_outbox", SearchOutbox)]
    current = {}
    for name, model in models:
        rows = corpus[name]
        if name == "document":
            current = {d["id"]: d["current_revision_id"] for d in rows}
            rows = [{**d, "current_revision_id": None} for d in rows]  # revisions come next
        for start in range(0, len(rows), chunk):
            session.execute(insert(model), rows[start:start + chunk])
        if name == "revision":
            pairs = [{"id": k, "current_revision_id": v} for k, v in current.items()]
            for start in range(0, len(pairs), chunk):
                session.execute(update(Document), pairs[start:start + chunk])
    session.commit()
    return {name: len(corpus[name]) for name, _ in models}


if __name__ == "__main__":  # a quick look at the vocabulary and one item of each kind
    import json
    import sys

    v = mine_vocabulary()
    print(f"{len(v['sentences'])} sentences, {len(v['terms'])} terms, {len(v['labels'])} labels, "
          f"{len(v['values'])} sample values, {len(v['forms'])} forms")
    c = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 200, vocab=v)
    print({k: len(x) for k, x in c.items()})
    print(c["revision"][-1]["text"][:400])
    print(json.dumps(c["record"][0]["data"], ensure_ascii=False, default=str)[:600])
    print([rc["number"] for rc in c["record"][:8]])
