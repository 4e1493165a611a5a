"""The one Whoosh schema for every kind of searchable object.

One index document per searchable version: a document *revision* (kind "document",
key "revision:<id>"), a record (kind "record", key "record:<id>"), and later
findings, corrective actions and procedure runs with their own key prefixes.

Permission fields are written by the builders and used only inside queries:
``audience`` holds "all", "user:<id>", "dept:<department id>" and "controllers";
``tour`` is "yes" when an external reviewer may see the object.
"""
from whoosh.analysis import LowercaseFilter, RegexTokenizer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from portal.search.analyzer import ANALYZER

# Bump when fields or the on-disk layout change; like the analyzer version, a
# mismatch means a rebuild. 2: segments are no longer compound files (a searcher
# copied every compound segment into memory; see index.py). 3: a finding indexes its
# evidence as codes visible to all its readers, no longer as kind:id (builders.py).
SCHEMA_VERSION = "3"
KINDS = ("document", "record", "finding", "action", "run", "change_request", "management_review")
EXCERPT_CHARS = 8000  # stored for snippets; the whole body is indexed
OPEN_END = 99991231   # effective_to of a revision still in force
# Plain lower-cased ASCII words for "did you mean" (stemmed forms make poor suggestions).
SPELL_ANALYZER = RegexTokenizer(r"[A-Za-z]{3,}") | LowercaseFilter()


def build_schema() -> Schema:
    """A fresh Schema instance (Whoosh schemas are mutable; never share one)."""
    return Schema(
        key=ID(stored=True, unique=True),
        kind=ID(stored=True, sortable=True),
        obj_id=NUMERIC(int, bits=64, stored=True),
        doc_id=NUMERIC(int, bits=64, stored=True),
        ref=TEXT(analyzer=ANALYZER, stored=True),
        ref_exact=ID(),
        title=TEXT(analyzer=ANALYZER, stored=True),
        body=TEXT(analyzer=ANALYZER),
        excerpt=STORED(),
        spell=TEXT(analyzer=SPELL_ANALYZER, phrase=False),
        department=ID(stored=True, sortable=True),
        clauses=KEYWORD(commas=True, lowercase=True),
        clause_refs=STORED(),
        form=ID(stored=True),
        doc_type=ID(stored=True),
        state=ID(stored=True, sortable=True),
        # 0 for what is current (effective revisions, live records), 1 otherwise:
        # the first sort key of relevance order puts current revisions first.
        rank=NUMERIC(int, bits=32, sortable=True),
        revision_label=ID(stored=True),
        effective_from=NUMERIC(int, bits=32, stored=True),
        effective_to=NUMERIC(int, bits=32, stored=True),
        date=DATETIME(stored=True, sortable=True),
        confidentiality=ID(stored=True),
        audience=KEYWORD(),
        tour=ID(),
    )


def clause_terms(refs: list[str]) -> list[str]:
    """Clause filter terms: each ref, its number alone, and their parent clauses.

    "ISO 9001:2015 7.5.3" → that ref, "iso 9001:2015 7.5", "iso 9001:2015 7", and
    "7.5.3", "7.5", "7", so `clause=7.5` finds evidence for 7.5.x of any standard.
    """
    out: list[str] = []
    for ref in refs or []:
        ref = " ".join(str(ref).split()).lower().replace(",", " ")
        standard, _, number = ref.rpartition(" ")
        parts = number.split(".")
        for n in range(len(parts), 0, -1):
            prefix = ".".join(parts[:n])
            out.extend([f"{standard} {prefix}".strip(), prefix])
    return list(dict.fromkeys(t for t in out if t))


def clause_term(value: str) -> str:
    """The filter term for a user's clause value (same normalisation as clause_terms)."""
    return " ".join(value.split()).lower().replace(",", " ")


def yyyymmdd(day) -> int:
    """A date as an integer 20261105 (0 for None) for numeric range filters."""
    return day.year * 10000 + day.month * 100 + day.day if day else 0
