"""The instance list as an Excel workbook: every row of the filtered list, in the list's order.

Layout (fixed, for whoever imports the file): row 1 holds the title, the filters and, when the
list is longer than the cap, how many rows were left out; row HEADER_ROW (2) holds the column
headers in Chinese, the same columns as the page shows; the rows start at FIRST_ROW (3). Cells
are typed: integers and numbers as numbers, dates as dates (number format yyyy-mm-dd), times as
local (Asia/Shanghai) date-times, yes/no as booleans; text as text, never as a formula.

The workbook is written in openpyxl's write-only mode from rows fetched in batches, so memory
stays bounded whatever the list's length.

A list longer than EXPORT_SYNC_ROWS is exported by a background job (kind ``case_export``,
``start_job``): the ids of the list, in its order, are taken when it is requested; each item
fetches CHUNK_ROWS of them again with the creator's filters and access scope and appends their
typed cells to a staging file (JSON lines under DOCUMENT_DIR/jobs), first cutting the file back
to the length the job recorded after the previous item, so an item run again never repeats a
row; the last item writes the workbook from the staging file (``write_rows``, the same layout)
and keeps it as a Document offered on the job's page.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from flask import current_app
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from app import background, clock
from app.extensions import db
from app.models import BackgroundJob, ProcessInstance, User
from app.paperwork.excel import sheet_text
from app.services import case_search, documents, jobs
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
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JOB_KIND = "case_export"
DOC_KIND = "case_export"
CHUNK_ROWS = 1000  # rows per job item
WORKBOOK_ITEM = "xlsx"  # the job's last item

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


def write_rows(columns: tuple[Column, ...], title: str, rows: Iterable[CaseRow], display: Display,
               out: IO[bytes]) -> int:
    """Write `rows` under `columns` to `out` as .xlsx; returns the number of rows written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    _size(sheet, columns)
    sheet.freeze_panes = f"A{FIRST_ROW}"
    heading = WriteOnlyCell(sheet, sheet_text(title))
    heading.font, heading.data_type = Font(bold=True, size=12), "s"
    sheet.append([heading])
    sheet.append(_header(sheet, columns))
    written = 0
    for row in rows:
        sheet.append([_cell(sheet, c, row.cells.get(c.key), display, row.overdue) for c in columns])
        written += 1
    book.save(out)
    return written


def write(query: CaseQuery, title: str, display: Display, out: IO[bytes],
          cap: int = case_search.EXPORT_CAP) -> int:
    """Write the list to `out` as .xlsx; returns the number of rows written (at most `cap`)."""
    return write_rows(query.columns, title, case_search.iter_rows(query, cap), display, out)


# -- in the background ---------------------------------------------------------------------------
_display: Display | None = None


def set_display(display: Display) -> None:
    """How text cells read (the web layer's, as on the page): the background export writes with it."""
    global _display
    _display = display


def in_background(total: int) -> bool:
    """Whether a list of `total` rows is exported by a job rather than in the request."""
    return min(total, case_search.EXPORT_CAP) > int(current_app.config.get("EXPORT_SYNC_ROWS", 2000))


def start_job(actor: User, query: CaseQuery, title: str, cap: int = case_search.EXPORT_CAP) -> BackgroundJob:
    """A queued job exporting the list as it stands now (its rows and their order). Commits."""
    ids = list(db.session.scalars(case_search.rows_statement(query).with_only_columns(ProcessInstance.id)
                                  .limit(cap)))
    chunks = -(-len(ids) // CHUNK_ROWS)
    params = {"query": {k: v for k, v in query.params.items() if k != "page"}, "title": title, "ids": ids,
              "chunk": CHUNK_ROWS, "columns": [asdict(c) for c in query.columns]}
    job = jobs.create(JOB_KIND, [*range(chunks), WORKBOOK_ITEM], actor, params=params)
    db.session.commit()
    background.start_job(job.id)
    return job


def staging_path(job: BackgroundJob) -> Path:
    return Path(current_app.config["DOCUMENT_DIR"]) / "jobs" / f"case-export-{job.id}.jsonl"


def _recorded(job: BackgroundJob) -> int:
    """The staging file's length after the last item the job recorded (0 before the first)."""
    return next((int(r["staged"]) for r in reversed(job.results or []) if "staged" in r), 0)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, tuple):
        return {"l": list(value)}
    return value  # None, bool, int, float, str


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        return tuple(value.get("l") or ())
    return value


def _append(path: Path, start: int, rows: list[CaseRow], keys: list[str]) -> int:
    """Cut the staging file back to `start` bytes, append the rows; returns the new length."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(exist_ok=True)
    with path.open("r+b") as staged:
        if staged.seek(0, os.SEEK_END) < start:
            raise RuntimeError(f"staging file {path} is shorter than the job recorded")
        staged.truncate(start)
        staged.seek(start)
        for row in rows:
            line = [row.id, row.overdue, row.applicant_username, [_encode(row.cells.get(k)) for k in keys]]
            staged.write(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
        staged.flush()
        os.fsync(staged.fileno())
        return staged.tell()


def _staged_rows(path: Path, length: int, keys: list[str]) -> Iterator[CaseRow]:
    """The rows of the staging file's first `length` bytes (what the job recorded)."""
    if length == 0:
        return
    with path.open("rb") as staged:
        left = length
        for line in staged:
            if left <= 0:
                break
            left -= len(line)
            instance_id, overdue, username, cells = json.loads(line)
            yield CaseRow(instance_id, {k: _decode(v) for k, v in zip(keys, cells, strict=True)}, overdue, username)


def _rows_item(job: BackgroundJob, index: int, actor: User) -> jobs.ItemResult:
    params = job.params
    chunk = int(params["chunk"])
    ids = [int(i) for i in params["ids"][index * chunk:(index + 1) * chunk]]
    first, last = index * chunk + 1, index * chunk + len(ids)
    label = f"第 {first}–{last} 行"
    # The creator's filters and access scope, now: a case they may no longer see is left out.
    query = case_search.parse(actor, params["query"])
    query = replace(query, conditions=(*query.conditions, ProcessInstance.id.in_(ids)))
    position = {instance_id: n for n, instance_id in enumerate(ids)}
    rows = sorted(case_search.iter_rows(query, cap=len(ids)), key=lambda r: position[r.id])
    length = _append(staging_path(job), _recorded(job), rows, [c["key"] for c in params["columns"]])
    message = f"已整理{label}"
    if len(rows) < len(ids):
        message += f"（{len(ids) - len(rows)} 件已不在筛选结果或查看范围内，未导出）"
    return jobs.ItemResult(True, message, {"label": label, "rows": len(rows), "staged": length})


def _workbook_item(job: BackgroundJob) -> jobs.ItemResult:
    if _display is None:
        raise RuntimeError("case_export.set_display was not called (the web layer sets it)")
    params = job.params
    keys = [c["key"] for c in params["columns"]]
    columns = tuple(Column(**c) for c in params["columns"])
    # Spooled: a large workbook goes to a temporary file instead of memory.
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as out:
        written = write_rows(columns, params["title"], _staged_rows(staging_path(job), _recorded(job), keys),
                             _display, out)
        out.seek(0)
        content = out.read()
    name = f"案件跟踪-{clock.to_local(job.created_at):%Y%m%d}.xlsx"
    doc = documents.store_generated(None, DOC_KIND, name, content, XLSX, None, None)
    jobs.attach_file(job, doc)
    return jobs.ItemResult(True, f"已生成 Excel 文件（{written} 行）", {"label": "生成 Excel 文件", "rows": written})


def _job_item(job: BackgroundJob, item: Any, actor: User | None) -> jobs.ItemResult:
    if jobs.earlier_failures(job):
        message = "前面的部分未能导出，已停止，未生成文件；请重新导出"
        jobs.stop(job, message)
        return jobs.ItemResult(False, message)
    if actor is None:
        return jobs.ItemResult(False, "导出的发起人不存在")
    if item == WORKBOOK_ITEM:
        return _workbook_item(job)
    return _rows_item(job, int(item), actor)


def _remove_staging(job: BackgroundJob) -> None:
    staging_path(job).unlink(missing_ok=True)


jobs.register(JOB_KIND, _job_item, "案件导出", batch=1, cleanup=_remove_staging)
