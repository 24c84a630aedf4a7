"""Name lists as Excel workbooks, for bureaus that re-sort, filter or import them."""

from __future__ import annotations

import io
import unicodedata

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.paperwork.columns import PASSED, RECOMMENDED, ListSpec
from app.paperwork.model import NameList
from app.paperwork.text import format_date_cn

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_MAX_WIDTH = 60


def sheet_text(value: object) -> str:
    """Text as a cell can hold it: the control characters Excel refuses (a name typed with a
    stray \x0b, a query string with %00) are dropped instead of failing the whole export."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _display_width(value: str | int) -> int:
    # Column widths count Latin characters; a Chinese character takes two of them.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def _size_columns(ws: Worksheet, headers: list[str], values: list[list[str | int]]) -> None:
    for idx, header in enumerate(headers):
        widest = max([_display_width(header), *(_display_width(row[idx]) for row in values)])
        ws.column_dimensions[get_column_letter(idx + 1)].width = min(widest + 4, _MAX_WIDTH)


def _write_title(ws: Worksheet, title: str, ncols: int) -> None:
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    ws["A1"].font = Font(size=14, bold=True)
    ws["A1"].alignment = _CENTER
    ws.row_dimensions[1].height = 30


def _write_table(ws: Worksheet, headers: list[str], values: list[list[str | int]]) -> None:
    ws.append(headers)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E6E6E6")
        cell.alignment = _CENTER
        cell.border = _BORDER
    for row in values:
        ws.append(row)
    for cells in ws.iter_rows(min_row=3, max_row=ws.max_row):
        for cell in cells:
            cell.alignment = _CENTER
            cell.border = _BORDER
            if cell.data_type == "f":
                # openpyxl takes any text starting with "=" for a formula; names and units are never formulas.
                cell.data_type = "s"


def _setup_print(ws: Worksheet, lst: NameList) -> None:
    # Printed copies get the same landscape layout, repeated header and page numbers as the PDF.
    ws.freeze_panes = "A3"
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    # "&" starts a header control code in Excel, so a literal one is doubled.
    session = lst.session.replace("&", "&&")
    ws.oddHeader.center.text = f"评审会议：{session}　会议日期：{format_date_cn(lst.meeting_date)}"
    ws.oddFooter.center.text = "第 &P 页"


def _render(spec: ListSpec, lst: NameList) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = spec.subject
    headers, values = spec.headers(), spec.values(lst.rows)
    _write_title(ws, spec.title(lst), len(headers))
    _write_table(ws, headers, values)
    _size_columns(ws, headers, values)
    _setup_print(ws, lst)
    wb.properties.title = spec.title(lst)
    wb.properties.creator = lst.committee
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def passed_list_xlsx(lst: NameList) -> bytes:
    return _render(PASSED, lst)


def recommendation_list_xlsx(lst: NameList) -> bytes:
    return _render(RECOMMENDED, lst)
