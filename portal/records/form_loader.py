"""Loading the shipped forms (form_templates/*/form.toml) as form documents."""
import os
import tomllib
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from sqlalchemy import select

from portal.documents import services as documents
from portal.documents.models import Document
from portal.documents.queries import code_is
from portal.errors import ValidationFailed
from portal.extensions import db

DOCUMENT_KEYS = ("code", "title", "department", "clauses", "numbering_pattern", "retention_years", "parts")


@dataclass
class FormSpec:
    """One shipped form: its metadata, fields, optional Word layout and demo samples."""

    folder: Path
    meta: dict
    fields: list
    samples: list = field(default_factory=list)
    template: bytes | None = None

    @property
    def code(self) -> str:
        return self.meta["code"]


def default_directory() -> Path:
    configured = os.environ.get("PORTAL_FORM_TEMPLATES")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "form_templates"


def read_form_templates(directory: Path | None = None) -> list[FormSpec]:
    """Parse every form.toml below `directory`, in folder order."""
    directory = directory or default_directory()
    if not directory.is_dir():
        raise ValidationFailed(f"No form templates folder at {directory}.", code="no_form_templates")
    specs = []
    for toml_path in sorted(directory.glob("*/form.toml")):
        meta = tomllib.loads(toml_path.read_text("utf-8"))
        template = toml_path.parent / "template.docx"
        specs.append(FormSpec(folder=toml_path.parent, meta=meta, fields=meta.pop("fields", []),
                              samples=meta.pop("samples", []),
                              template=template.read_bytes() if template.exists() else None))
    return specs


def _body_html(spec: FormSpec) -> str:
    lines = [f"<h2>{escape(spec.meta['title'])}</h2>"]
    if spec.meta.get("description"):
        lines.append(f"<p>{escape(spec.meta['description'])}</p>")
    if spec.meta.get("parts"):
        lines.append(f"<p>本表一式{len(spec.meta['parts'])}联：{escape('、'.join(spec.meta['parts']))}。</p>")
    return "".join(lines)


def load_form(actor, spec: FormSpec):
    """Register one form document with a draft A/0 holding its fields (and layout)."""
    data = {k: spec.meta[k] for k in DOCUMENT_KEYS if k in spec.meta}
    doc = documents.create_document(actor, {**data, "doc_type": "form"})
    rev = documents.start_revision(actor, doc, {"body_html": _body_html(spec), "fields": spec.fields,
                                                "change_summary": "首版发行", "change_level": "major"})
    if spec.template:
        documents.set_form_template(actor, rev, spec.template, f"{spec.code}.docx")
    return rev


def load_forms(actor, specs: list[FormSpec]) -> tuple[list, list[str]]:
    """Load every form whose code is not registered yet; returns (new drafts, skipped codes)."""
    loaded, skipped = [], []
    for spec in specs:
        exists = db.session.execute(select(Document.id).where(code_is(spec.code))).first()
        if exists:
            skipped.append(spec.code)
        else:
            loaded.append(load_form(actor, spec))
    return loaded, skipped
