"""One way to write the registers and lists the controller exports to Excel.

Every export goes through `workbook_bytes`, so two rules hold for all of them:
- a text is a text: openpyxl turns any str starting with "=" into a formula, so every str is
  written as a string cell (data_type "s"); one that starts with a character a spreadsheet
  reads as the start of a formula (OWASP "CSV injection": = + - @ tab CR) also gets the
  quotePrefix style, Excel's and LibreOffice's own "typed with a leading apostrophe" flag: the
  cell shows the text as it is stored (no apostrophe added to the value, so a re-import reads
  back the same text), and stays text even when someone edits it and presses Enter;
- whatever is stored, the file opens: control characters and lone surrogates are cleaned,
  texts are cut to Excel's cell limit, numbers Excel cannot hold are written as text.
"""
import io
import math
from datetime import date, datetime

from portal import clock
from portal.validation import xml_safe

EXCEL_MAX_CELL_CHARS = 32_767  # UTF-16 units; Excel reports a damaged file for a longer cell
EXCEL_MAX_EXACT_INT = 10**15  # Excel keeps 15 significant digits; longer numbers stay text
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
SHEET_TITLE_FORBIDDEN = str.maketrans({c: "_" for c in "\\/?*[]:"})


def workbook_bytes(title: str, header: list[str], rows: list[list], widths: list[int] | None = None) -> bytes:
    """A sheet with a title line (and export date), a bold header row and the rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(title)
    _write_row(ws, 1, [title, "", f"导出日期 {clock.today().isoformat()}"])
    _write_row(ws, 2, header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for index, row in enumerate(rows, start=3):
        _write_row(ws, index, row)
    for index, width in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _write_row(ws, row: int, values) -> None:
    for column, value in enumerate(values, start=1):
        value = cell_value(value)
        cell = ws.cell(row=row, column=column)
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # never "f": a stored "=…" is shown, not computed
            if value.startswith(FORMULA_TRIGGERS):
                cell.quotePrefix = True


def cell_value(value):
    """What a cell holds for `value`: numbers, booleans and dates as themselves when Excel can
    hold them exactly, anything else as a clean text of at most EXCEL_MAX_CELL_CHARS."""
    if value is None or isinstance(value, (bool, date)) and not _aware(value):
        return value
    if isinstance(value, int) and abs(value) < EXCEL_MAX_EXACT_INT:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return _text(value)


def _aware(value) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None


def _text(value) -> str:
    try:
        text = xml_safe(value)
    except ValueError:  # an int past Python's 4,300-digit str() limit
        text = f"({value.bit_length()}-bit number)"
    if len(text) > EXCEL_MAX_CELL_CHARS // 2 and _utf16_len(text) > EXCEL_MAX_CELL_CHARS:
        text = _cut_utf16(text, EXCEL_MAX_CELL_CHARS - 1) + "…"
    return text


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2  # Excel counts UTF-16 units: an emoji is two


def _cut_utf16(text: str, units: int) -> str:
    return text.encode("utf-16-le")[:units * 2].decode("utf-16-le", "ignore")


def sheet_title(title: str) -> str:
    """A sheet name Excel accepts: none of \\ / ? * [ ] :, no apostrophe at either end, at most
    31 UTF-16 units, never empty."""
    text = _cut_utf16(xml_safe(title).translate(SHEET_TITLE_FORBIDDEN).strip("'"), 31)
    return text.strip("'") or "Sheet"
