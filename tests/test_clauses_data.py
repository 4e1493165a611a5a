"""Checks on the shipped clause catalogue and the demo catalogue/content (pure data)."""
import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"
CONTENT = PORTAL / "demo" / "content"


def _load(name, path):
    # Load by path so the data modules are checked without importing the app package.
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


clauses_data = _load("_clauses_data_under_test", PORTAL / "clauses_data.py")
catalog = _load("_demo_catalog_under_test", PORTAL / "demo" / "catalog.py")
STANDARDS = clauses_data.STANDARDS

CJK = re.compile(r"[\u4e00-\u9fff]")
ALLOWED_TAGS = {"h2", "h3", "p", "ul", "ol", "li", "table", "tr", "th", "td", "strong"}
# Traditional forms that must have been normalised, and web-page noise that must be gone.
TRADITIONAL = set("質務體發證處與為產經後們這個書專業職責權審條規範內")
NOISE = ("VIP", "下载", "book118", "侵权", "客服反馈", "原创力")


def _split(ref):
    standard, _, number = ref.rpartition(" ")
    return standard, number


def _revisions():
    return [(doc, rev) for doc in catalog.DOCUMENTS for rev in doc["revisions"]]


def test_standards_in_scope():
    assert set(STANDARDS) == {"ISO 9001:2015", "ISO 14001:2015", "ISO/IEC 20000-1:2018",
                              "GB/T 27922-2011"}


@pytest.mark.parametrize("standard", sorted(STANDARDS))
def test_clause_numbers_unique_and_well_formed(standard):
    entries = STANDARDS[standard]
    numbers = [e[0] for e in entries]
    assert len(numbers) == len(set(numbers))
    for number, zh, en in entries:
        assert re.fullmatch(r"\d+(\.\d+)*", number)
        assert CJK.search(zh) and en
        parent = number.rpartition(".")[0]
        assert not parent or parent in numbers, f"{standard} {number} has no parent"


def test_key_iso9001_clauses_present():
    numbers = {e[0] for e in STANDARDS["ISO 9001:2015"]}
    for n in ("4.4", "7.1.6", "7.5.3", "8.3.6", "8.4.3", "8.5.6", "9.1.3", "9.2", "9.3.3",
              "10.2", "10.3"):
        assert n in numbers
    assert not {n for n in numbers if n.split(".")[0] not in {str(i) for i in range(4, 11)}}


def test_document_clauses_exist():
    for doc in catalog.DOCUMENTS:
        assert doc["clauses"]
        for ref in doc["clauses"]:
            standard, number = _split(ref)
            assert standard == "ISO 9001:2015", ref
            assert number in {e[0] for e in STANDARDS[standard]}, f"{doc['code']}: {ref}"


def test_catalog_references_are_consistent():
    departments = {code for code, _ in catalog.DEPARTMENTS}
    users = {u["username"]: u for u in catalog.USERS}
    assert len(users) == len(catalog.USERS)
    assert {u["role"] for u in catalog.USERS} == {"admin", "controller", "staff", "approver",
                                                   "auditor", "external_reviewer"}
    for u in catalog.USERS:
        assert u["department"] is None or u["department"] in departments
    codes = [d["code"] for d in catalog.DOCUMENTS]
    assert len(codes) == len(set(codes))
    states = []
    for doc, rev in _revisions():
        assert doc["department"] in departments
        signers = [rev["author"], *rev["reviewers"], rev["approver"]]
        assert all(s in users for s in signers)
        assert rev["author"] not in rev["reviewers"] + [rev["approver"]]
        assert rev["change_level"] in ("major", "minor")
        states.append(rev.get("state"))
        if rev.get("state"):
            assert rev["effective_date"] is None
            assert rev is doc["revisions"][-1]
    assert states.count("draft") == 1 and states.count("in_review") == 1


@pytest.mark.parametrize("doc,rev", _revisions(), ids=lambda x: x.get("file", x.get("code")))
def test_content_files(doc, rev):
    path = CONTENT / rev["file"]
    assert path.is_file()
    assert rev["file"].startswith(doc["code"] + "_")
    html = path.read_text(encoding="utf-8")
    assert len(CJK.findall(html)) > 200
    assert "<script" not in html.lower()
    tags = set()

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.add(tag)
            assert not attrs

    Collect().feed(html)
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert not TRADITIONAL & set(html)
    assert not [n for n in NOISE if n in html]


def test_a0_and_a1_differ():
    pairs = 0
    for doc in catalog.DOCUMENTS:
        files = {r["file"] for r in doc["revisions"]}
        a0, a1 = f"{doc['code']}_A0.html", f"{doc['code']}_A1.html"
        if a0 in files and a1 in files:
            pairs += 1
            assert (CONTENT / a0).read_text(encoding="utf-8") != (CONTENT / a1).read_text(encoding="utf-8")
    assert pairs >= 3
