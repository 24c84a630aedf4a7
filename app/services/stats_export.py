"""A dashboard table as an Excel workbook: the same rows and columns as the page, typed cells."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from app.paperwork.excel import sheet_text
from app.services.stats import Filters, Table

SHEET_TITLE_MAX = 31  # Excel's limit


def _filters_line(filters: Filters) -> str:
    parts = [f"计划年度：{filters.year}"]
    if filters.county:
        parts.append(f"地区：{filters.county}")
    if filters.committee:
        parts.append(f"评审委员会：{filters.committee}")
    return "；".join(parts)


def workbook(table: Table, filters: Filters) -> bytes:
    """One sheet: a header row, then one row per table row; numbers as numbers, never as text."""
    book = Workbook()
    sheet = book.active
    sheet.title = table.row_header.replace("·", "")[:SHEET_TITLE_MAX] or "统计"
    sheet.append([table.row_header, *(c.label for c in table.columns)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E6E6E6")
    for row in table.rows:
        values = [c.value if c.value is not None else (sheet_text(c.text) if c.text and c.text != "—" else None)
                  for c in row.cells]
        sheet.append([sheet_text(row.label), *values])
        line = sheet.max_row
        sheet.cell(row=line, column=1).data_type = "s"  # a label is never a formula
        for index, column in enumerate(table.columns, start=2):
            cell = sheet.cell(row=line, column=index)
            if isinstance(cell.value, (int, float)):
                cell.number_format = column.number_format
    sheet.append([])
    sheet.append([sheet_text(f"{table.title}（{_filters_line(filters)}）")])
    if table.note:
        sheet.append([sheet_text(table.note)])
    sheet.freeze_panes = "B2"
    sheet.column_dimensions["A"].width = 48
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
