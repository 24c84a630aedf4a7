"""Excel workbooks built in memory for import tests."""

from __future__ import annotations

import io

from openpyxl import Workbook

CE_HEADER = ("用户名", "年度", "专业科目", "公需科目", "一般公需科目")


def workbook(rows: list[list], header: tuple[str, ...] = CE_HEADER) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out
