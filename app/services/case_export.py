"""The instance list as an Excel workbook: every row of the filtered list, in the list's order.

Layout (fixed, for whoever imports the file): row 1 holds the title, the filters and, when the
list is longer than the cap, how many rows were left out; row HEADER_ROW (2) holds the column
headers in Chinese, the same columns as the page shows; the rows start at FIRST_ROW (3). Cells
are typed: integers and numbers as numbers, dates as dates (number format yyyy-mm-dd), times as
local (Asia/Shanghai) date-times, yes/no as booleans; text as text, never as a formula.

The workbook is written in openpyxl's write-only mode from rows fetched in batches, so memory
stays bounded whatever the list's length.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from app import clock
from app.paperwork.excel import sheet_text
from app.services import case_search
from app.services.case_fields import BOOLEAN, DATE, DATETIME, INTEGER, LIST, NUMBER, Column
from app.services.case_search import CaseQuery, CaseRow

HEADER_ROW = 2
FIRST_ROW = 3
SHEET_TITLE = "案件跟踪"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E6E6E6")
_OVERDUE_FONT = Font(color="C00000", bold=True)
_WIDTHS = {INTEGER: 10, NUMBER: 10, BOOLEAN: 8, DATE: 12, DATETIME: 17, LIST: 24}
_TEXT_WIDTH = 20
_WIDE = {"title": 36, "committee": 40, "employer": 30}

# How a text or list cell reads on the page (status and outcome labels): the web layer's.
Display = Callable[[Column, Any], str]


def _cell(sheet: WriteOnlyWorksheet, column: Column, value: Any, display: Display, overdue: bool) -> WriteOnlyCell:
    if value is None or value == ():
        return WriteOnlyCell(sheet, None)
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, clock.to_local(value).replace(tzinfo=None))
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = DATE_FORMAT
        if column.key == "due" and overdue:
            cell.font = _OVERDUE_FONT
    elif isinstance(value, (bool, int, float)):
        cell = WriteOnlyCell(sheet, value)
    else:
        cell = WriteOnlyCell(sheet, sheet_text(display(column, value)))
        cell.data_type = "s"  # a name or an opinion starting with "=" is text, not a formula
    return cell


def _header(sheet: WriteOnlyWorksheet, columns: tuple[Column, ...]) -> list[WriteOnlyCell]:
    cells = []
    for column in columns:
        cell = WriteOnlyCell(sheet, column.label)
        cell.font, cell.fill, cell.data_type = _BOLD, _HEADER_FILL, "s"
        cells.append(cell)
    return cells


def _size(sheet: WriteOnlyWorksheet, columns: tuple[Column, ...]) -> None:
    # Write-only sheets take their column widths before the first row.
    for index, column in enumerate(columns, start=1):
        width = _WIDE.get(column.key) or _WIDTHS.get(column.kind, _TEXT_WIDTH)
        sheet.column_dimensions[get_column_letter(index)].width = max(width, 2 * len(column.label) + 2)


def write(query: CaseQuery, title: str, display: Display, out: IO[bytes],
          cap: int = case_search.EXPORT_CAP) -> int:
    """Write the list to `out` as .xlsx; returns the number of rows written (at most `cap`)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    _size(sheet, query.columns)
    sheet.freeze_panes = f"A{FIRST_ROW}"
    heading = WriteOnlyCell(sheet, sheet_text(title))
    heading.font, heading.data_type = Font(bold=True, size=12), "s"
    sheet.append([heading])
    sheet.append(_header(sheet, query.columns))
    written = 0
    row: CaseRow
    for row in case_search.iter_rows(query, cap):
        sheet.append([_cell(sheet, c, row.cells.get(c.key), display, row.overdue) for c in query.columns])
        written += 1
    book.save(out)
    return written
