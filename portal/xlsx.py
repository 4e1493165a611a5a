"""One way to write the registers and lists the controller exports to Excel."""
import io

from portal import clock


def workbook_bytes(title: str, header: list[str], rows: list[list], widths: list[int] | None = None) -> bytes:
    """A sheet with a title line (and export date), a bold header row and the rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append([title, "", f"导出日期 {clock.today().isoformat()}"])
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for index, width in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
