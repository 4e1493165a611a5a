"""Small input checks shared by every service; they collect per-field messages."""
import re
from datetime import date

from portal.errors import ValidationFailed

# Characters XML (and so Word and Excel files) cannot hold: C0 controls other than tab,
# line feed and carriage return, and the non-characters U+FFFE/U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def has_illegal_chars(text: str) -> bool:
    return bool(XML_ILLEGAL.search(text))


def strip_illegal_chars(text: str) -> str:
    return XML_ILLEGAL.sub("", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def xml_safe(text) -> str:
    """`text` (anything, as str) as a Word or Excel file can hold it, for exports of whatever
    is stored: surrogate pairs are joined, lone surrogates (UTF-8 cannot encode them) become
    U+FFFD and XML_ILLEGAL characters go."""
    text = text if isinstance(text, str) else str(text)
    if _SURROGATE.search(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return strip_illegal_chars(text)


def has_surrogates(text: str) -> bool:
    """A surrogate code point in a str is never text: JSON's \\ud800 escapes and CESU-8 bytes
    let lone ones in, and neither UTF-8 (the database) nor the trail hash can encode them."""
    return bool(_SURROGATE.search(text))


class Fields:
    """Collects field errors; `done()` raises them all at once as a 422."""

    def __init__(self, data: dict | None):
        if data is not None and not isinstance(data, dict):
            raise ValidationFailed("Expected a JSON object.", code="not_an_object")
        self.data = data or {}
        self.errors: dict[str, str] = {}

    def text(self, name: str, max_len: int, required: bool = False, default=None):
        value = self.data.get(name, default)
        if value is None or value == "":
            if required:
                self.errors[name] = "required"
            return default if value is None else value
        if not isinstance(value, str):
            self.errors[name] = "must be a string"
            return default
        value = value.strip()
        if has_illegal_chars(value):
            self.errors[name] = "contains control characters"
            return default
        if required and not value:
            self.errors[name] = "required"
        elif len(value) > max_len:
            self.errors[name] = f"at most {max_len} characters"
        return value

    def choice(self, name: str, allowed, required: bool = False, default=None):
        value = self.data.get(name, default)
        if value is None:
            if required:
                self.errors[name] = "required"
            return default
        if value not in allowed:
            self.errors[name] = "one of " + ", ".join(allowed)
            return default
        return value

    def integer(self, name: str, low: int, high: int, default=None):
        value = self.data.get(name, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors[name] = "must be a whole number"
            return default
        if not low <= value <= high:
            self.errors[name] = f"between {low} and {high}"
            return default
        return value

    def day(self, name: str, required: bool = False):
        value = self.data.get(name)
        if value in (None, ""):
            if required:
                self.errors[name] = "required"
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.errors[name] = "a date YYYY-MM-DD"
        return parsed

    def string_list(self, name: str, max_items: int, max_len: int, default=None):
        value = self.data.get(name, default)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.errors[name] = "must be a list of strings"
            return default
        if len(value) > max_items or any(len(v) > max_len for v in value):
            self.errors[name] = f"at most {max_items} items of {max_len} characters"
            return default
        return [v.strip() for v in value if v.strip()]

    def fail(self, name: str, message: str) -> None:
        self.errors[name] = message

    def done(self, message: str = "Some fields are invalid.") -> None:
        if self.errors:
            detail = "; ".join(f"{k}: {v}" for k, v in self.errors.items())
            raise ValidationFailed(f"{message} {detail}", fields=dict(self.errors))


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ASCII_INT = re.compile(r"[0-9]{1,18}")
# The largest id every database holds: ids are `integer` columns, 32 bits on PostgreSQL
# (SQLite's would take 2**63 - 1, and PostgreSQL then failed on 2**31 with a 500).
MAX_ID = 2**31 - 1


def parse_int(text, default=None):
    """A whole number typed as text ("12", " 12 "): ASCII digits only, at most 18 of them, so
    it fits a database integer (int() also takes "١٢" and "1_2", and refuses 4,300+ digits
    with a ValueError); anything else is `default`."""
    if isinstance(text, str) and _ASCII_INT.fullmatch(text.strip()):
        return int(text.strip())
    return default


_SIGNED_ASCII_INT = re.compile(r"[-+]?[0-9]+")


def form_int(text: str | None):
    """A whole number typed in a browser form, to hand to a service that checks it as it
    checks JSON: None when blank; an int for ASCII digits (past 18 digits ±10**18, out of
    every range, as int() refuses 4,300+ digits); else the text itself, which the service
    refuses as "must be a whole number" -- never dropped, never a silent default."""
    text = (text or "").strip()
    if not text:
        return None
    if not _SIGNED_ASCII_INT.fullmatch(text):
        return text
    return int(text) if len(text.lstrip("+-")) <= 18 else 10**18 * (-1 if text[0] == "-" else 1)


# ASCII digits only: float() also takes "٣", "1_000", "nan" and "infinity"; those stay text,
# so the service names the field as it does for the API.
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def form_number(text: str | None):
    """A number typed in a browser form, to hand to a service that checks it as it checks
    JSON: None when blank; an int or a float; else the text itself, for the service to refuse."""
    text = (text or "").strip()
    if not text:
        return None
    if not _DECIMAL.fullmatch(text):
        return text
    if _SIGNED_ASCII_INT.fullmatch(text) and len(text) <= 19:  # int() refuses 4,300+ digits
        return int(text)
    number = float(text)  # a longer integer or 1e999 is huge or inf: "too large", as in the API
    return int(number) if number.is_integer() and "." not in text else number


def parse_id(text: str | None) -> int | None:
    """An id typed as text: a positive parse_int, else None."""
    return parse_int(text) or None


def parse_date(value) -> date | None:
    """A YYYY-MM-DD string (or a date) as a date; None when it is not one."""
    if isinstance(value, date):
        return value
    # date.fromisoformat also takes week dates (2026-W11-2) and, in places, non-ASCII digits
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
