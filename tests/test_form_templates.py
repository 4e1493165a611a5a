"""The form library in ``form_templates/``: one folder per form, each with a ``form.toml``
(code, title, owner department, numbering pattern, retention, fields, demo samples) and,
for forms whose printed layout matters, a ``template.docx`` with ``{{placeholder}}`` cells.

These tests keep every definition loadable by the portal: known departments, numbering
tokens and field types, clause references that exist in the shipped catalogue, and demo
samples whose values match their fields.
"""
import re
import tomllib
from datetime import date
from pathlib import Path

import docx
import pytest

from portal.clauses_data import STANDARDS
from portal.documents.form_schema import validate_fields
from portal.numbering import validate_pattern
from portal.records.fields import validate_data

ROOT = Path(__file__).resolve().parents[1] / "form_templates"
FORM_DIRS = sorted(p for p in ROOT.iterdir() if p.is_dir()) if ROOT.is_dir() else []
TEMPLATE_DIRS = [d for d in FORM_DIRS if (d / "template.docx").exists()]

DEPARTMENTS = {"ZB": "质保部", "SH": "售后服务部", "YX": "营销中心", "SC": "生产部", "YF": "研发部", "XZ": "行政部"}
FIELD_TYPES = {"text", "textarea", "number", "date", "choice", "checkbox", "table"}
COLUMN_TYPES = {"text", "number", "date", "choice", "checkbox"}
PATTERN_TOKENS = {"code", "dept", "yyyy", "yy", "mm"}
TEMPLATE_EXTRAS = {"number", "form_code", "revision"}

TOP_KEYS = {"code", "title", "department", "numbering_pattern", "retention_years", "parts", "clauses",
            "description", "fields", "samples"}
REQUIRED_TOP_KEYS = {"code", "title", "department", "numbering_pattern", "retention_years", "fields"}
FIELD_KEYS = {"name", "label", "type", "required", "choices", "columns"}
COLUMN_KEYS = {"name", "label", "type", "choices"}

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")

# The forms the seeds name and the library must carry (see DOMAIN.md, "Records and their numbers").
REQUIRED_TITLES = {
    "产品维修记录表", "返修记录表", "顾客问题处理表", "客户回访记录表", "客户满意度调查表", "用户退货记录表",
    "产品升级服务卡", "质量保修卡", "售后服务维修记录单", "售后信息处理单", "外出服务记录表",
    "客户投诉处理报告单", "技术服务联络单", "客户档案信息表", "培训班签到表", "不合格报告", "文件更改申请单",
}
LAYOUT_TITLES = {"质量保修卡", "外出服务记录表", "不合格报告"}


def load(folder: Path) -> dict:
    with open(folder / "form.toml", "rb") as fh:
        return tomllib.load(fh)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_iso_date(value) -> bool:
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def check_value(kind: str, value, choices=None) -> str | None:
    """None if ``value`` fits a field or column of type ``kind``; otherwise what is wrong."""
    if kind in ("text", "textarea"):
        return None if isinstance(value, str) else f"expected a string, got {value!r}"
    if kind == "number":
        return None if is_number(value) else f"expected a number, got {value!r}"
    if kind == "date":
        return None if is_iso_date(value) else f"expected a YYYY-MM-DD date string, got {value!r}"
    if kind == "checkbox":
        return None if isinstance(value, bool) else f"expected true/false, got {value!r}"
    if kind == "choice":
        return None if value in (choices or []) else f"{value!r} is not one of {choices}"
    return f"unexpected type {kind!r}"


def clause_catalogue() -> set[str]:
    return {f"{standard} {number}" for standard, rows in STANDARDS.items() for number, _, _ in rows}


def pattern_problems(pattern: str) -> list[str]:
    problems = []
    tokens = re.findall(r"\{([^{}]*)\}", pattern)
    seqs = [t for t in tokens if re.fullmatch(r"seq:([1-9]|1[0-2])", t)]
    unknown = [t for t in tokens if t not in PATTERN_TOKENS and t not in seqs]
    if unknown:
        problems.append(f"unknown tokens {unknown}")
    if len(seqs) != 1:
        problems.append(f"needs exactly one {{seq:N}}, found {len(seqs)}")
    leftover = re.sub(r"\{[^{}]*\}", "", pattern)
    if "{" in leftover or "}" in leftover:
        problems.append("unbalanced braces")
    return problems


@pytest.fixture(params=FORM_DIRS, ids=[d.name for d in FORM_DIRS])
def form_dir(request) -> Path:
    return request.param


def test_library_has_enough_forms():
    assert len(FORM_DIRS) >= 16, f"only {len(FORM_DIRS)} forms in {ROOT}"


def test_every_folder_is_a_slug_with_a_form_toml():
    for folder in FORM_DIRS:
        assert SLUG.fullmatch(folder.name), f"folder name {folder.name!r} is not an ASCII slug"
        assert (folder / "form.toml").is_file(), f"{folder.name} has no form.toml"


def test_form_toml_header(form_dir):
    form = load(form_dir)
    assert set(form) <= TOP_KEYS, f"unknown keys {set(form) - TOP_KEYS}"
    assert REQUIRED_TOP_KEYS <= set(form), f"missing keys {REQUIRED_TOP_KEYS - set(form)}"
    for key in ("code", "title", "numbering_pattern"):
        assert isinstance(form[key], str) and form[key].strip(), f"{key} must be a non-empty string"
    assert form["code"] == form["code"].strip() and len(form["code"]) <= 40
    assert form["department"] in DEPARTMENTS
    years = form["retention_years"]
    assert isinstance(years, int) and not isinstance(years, bool)
    assert 3 <= years <= 30, "records are kept at least three years"
    if "description" in form:
        assert isinstance(form["description"], str) and form["description"].strip()
    if "parts" in form:
        parts = form["parts"]
        assert isinstance(parts, list) and len(parts) >= 2, "a multi-part form has at least two parts"
        assert all(isinstance(p, str) and p.strip() for p in parts)
        assert len(set(parts)) == len(parts), "part names repeat"
    catalogue = clause_catalogue()
    for clause in form.get("clauses", []):
        assert clause in catalogue, f"clause {clause!r} is not in the shipped catalogue"


def test_numbering_pattern(form_dir):
    pattern = load(form_dir)["numbering_pattern"]
    assert not pattern_problems(pattern), pattern_problems(pattern)
    assert validate_pattern(pattern) == pattern  # the portal's own check agrees


def test_fields(form_dir):
    fields = load(form_dir)["fields"]
    assert isinstance(fields, list) and 6 <= len(fields) <= 20, f"{len(fields)} fields; a form has 6–20"
    names = [f.get("name") for f in fields]
    assert len(set(names)) == len(names), f"duplicate field names in {names}"
    for field in fields:
        where = f"field {field.get('name')!r}"
        assert set(field) <= FIELD_KEYS, f"{where}: unknown keys {set(field) - FIELD_KEYS}"
        assert isinstance(field.get("name"), str) and IDENTIFIER.fullmatch(field["name"]), where
        assert isinstance(field.get("label"), str) and field["label"].strip(), f"{where}: needs a label"
        assert field.get("type") in FIELD_TYPES, f"{where}: type {field.get('type')!r}"
        assert isinstance(field.get("required", False), bool), f"{where}: required must be true/false"
        if field["type"] == "choice":
            choices = field.get("choices")
            assert isinstance(choices, list) and choices, f"{where}: a choice field needs choices"
            assert all(isinstance(c, str) and c.strip() for c in choices), where
            assert len(set(choices)) == len(choices), f"{where}: repeated choices"
        else:
            assert "choices" not in field, f"{where}: only choice fields have choices"
        if field["type"] == "table":
            columns = field.get("columns")
            assert isinstance(columns, list) and columns, f"{where}: a table field needs columns"
            column_names = [c.get("name") for c in columns]
            assert len(set(column_names)) == len(column_names), f"{where}: duplicate columns"
            for column in columns:
                cwhere = f"{where} column {column.get('name')!r}"
                assert set(column) <= COLUMN_KEYS, f"{cwhere}: unknown keys {set(column) - COLUMN_KEYS}"
                assert isinstance(column.get("name"), str) and IDENTIFIER.fullmatch(column["name"]), cwhere
                assert isinstance(column.get("label"), str) and column["label"].strip(), cwhere
                assert column.get("type") in COLUMN_TYPES, f"{cwhere}: type {column.get('type')!r}"
                if column["type"] == "choice":
                    assert isinstance(column.get("choices"), list) and column["choices"], cwhere
                else:
                    assert "choices" not in column, f"{cwhere}: only choice columns have choices"
        else:
            assert "columns" not in field, f"{where}: only table fields have columns"


def test_samples_match_fields(form_dir):
    form = load(form_dir)
    fields = {f["name"]: f for f in form["fields"]}
    samples = form.get("samples")
    assert isinstance(samples, list) and 2 <= len(samples) <= 4, "a form ships 2–4 demo samples"
    for index, sample in enumerate(samples, 1):
        where = f"sample {index}"
        unknown = set(sample) - set(fields)
        assert not unknown, f"{where}: keys that are not fields: {unknown}"
        for name, field in fields.items():
            if field.get("required"):
                assert name in sample, f"{where}: required field {name!r} missing"
                value = sample[name]
                assert value not in ("", []), f"{where}: required field {name!r} is empty"
        for name, value in sample.items():
            field = fields[name]
            if field["type"] == "table":
                assert isinstance(value, list), f"{where}.{name}: a table is an array of rows"
                columns = {c["name"]: c for c in field["columns"]}
                for row_no, row in enumerate(value, 1):
                    assert isinstance(row, dict), f"{where}.{name} row {row_no}: not an inline table"
                    assert set(row) <= set(columns), f"{where}.{name} row {row_no}: {set(row) - set(columns)}"
                    for col, cell in row.items():
                        problem = check_value(columns[col]["type"], cell, columns[col].get("choices"))
                        assert problem is None, f"{where}.{name} row {row_no}.{col}: {problem}"
            else:
                problem = check_value(field["type"], value, field.get("choices"))
                assert problem is None, f"{where}.{name}: {problem}"


def test_portal_accepts_fields_and_samples(form_dir):
    """The portal's own validators (used by `portal load-forms` and when records are issued)
    take the field definitions and every demo sample."""
    form = load(form_dir)
    fields = validate_fields(form["fields"])
    for sample in form["samples"]:
        validate_data(fields, sample)


def test_codes_and_titles_unique():
    forms = [load(d) for d in FORM_DIRS]
    codes = [f["code"] for f in forms]
    titles = [f["title"] for f in forms]
    assert len(set(codes)) == len(codes), f"duplicate codes: {sorted(c for c in codes if codes.count(c) > 1)}"
    assert len(set(titles)) == len(titles), f"duplicate titles: {sorted(t for t in titles if titles.count(t) > 1)}"


def test_patterns_without_code_do_not_collide():
    """A pattern without {code} numbers by department: two such forms of one department
    sharing a pattern would hand out the same record numbers."""
    seen = {}
    for folder in FORM_DIRS:
        form = load(folder)
        if "{code}" not in form["numbering_pattern"]:
            key = (form["department"], form["numbering_pattern"])
            assert key not in seen, f"{folder.name} and {seen[key]} share {key}"
            seen[key] = folder.name


def test_library_covers_the_seed_forms():
    titles = {load(d)["title"] for d in FORM_DIRS}
    assert REQUIRED_TITLES <= titles, f"missing: {sorted(REQUIRED_TITLES - titles)}"
    assert any("parts" in load(d) for d in FORM_DIRS), "no multi-part (一式多联) form"


def test_layout_forms_have_templates():
    titles = {load(d)["title"] for d in TEMPLATE_DIRS}
    assert LAYOUT_TITLES <= titles, f"no template.docx for {sorted(LAYOUT_TITLES - titles)}"


def iter_paragraphs(container):
    yield from container.paragraphs
    for table in container.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from iter_paragraphs(cell)


def template_paragraphs(document):
    yield from iter_paragraphs(document)
    for section in document.sections:
        for part in (section.header, section.footer):
            if not part.is_linked_to_previous:
                yield from iter_paragraphs(part)


@pytest.mark.parametrize("folder", TEMPLATE_DIRS, ids=[d.name for d in TEMPLATE_DIRS])
def test_template_placeholders(folder):
    document = docx.Document(str(folder / "template.docx"))
    fields = {f["name"] for f in load(folder)["fields"]}
    allowed = fields | TEMPLATE_EXTRAS
    found = set()
    for paragraph in template_paragraphs(document):
        text = paragraph.text
        in_text = PLACEHOLDER.findall(text)
        assert text.count("{{") == len(in_text) == text.count("}}"), f"malformed placeholder in {text!r}"
        in_runs = [name for run in paragraph.runs for name in PLACEHOLDER.findall(run.text)]
        assert sorted(in_runs) == sorted(in_text), f"a placeholder is split across runs in {text!r}"
        for name in in_text:
            assert name in allowed, f"{{{{{name}}}}} is neither a field nor one of {sorted(TEMPLATE_EXTRAS)}"
        found.update(in_text)
    assert TEMPLATE_EXTRAS <= found, f"header placeholders missing: {sorted(TEMPLATE_EXTRAS - found)}"
    assert fields <= found, f"fields without a cell in the template: {sorted(fields - found)}"
