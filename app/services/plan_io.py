"""Reading and writing the annual plan table (附件1) as CSV or Excel.

The columns are those of 附件1 (`plan-2021.csv`); headers may be given by key or by their Chinese
label. Every problem is reported with its row and column, and a table with any problem is
refused whole: the caller writes nothing.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils.exceptions import InvalidFileException

from app.rules.plan_text import join_months, join_titles, month_problem, split_months, split_titles
from app.services.errors import FormInvalid

COLUMNS: tuple[tuple[str, str], ...] = (
    ("section", "部分"),
    ("seq", "序号"),
    ("committee_or_item", "评委会名称（评审项目）"),
    ("titles_evaluated", "所评资格名称"),
    ("titles_recommended", "推荐资格名称"),
    ("start_month", "启动时间"),
    ("finish_months", "完成时间"),
    ("office", "办公室（主管、初审单位）"),
    ("phone", "电话"),
    ("scope", "申报对象"),
)
LABELS = dict(COLUMNS)
SECTION_LABELS = {
    "city_committee": "一、经市中评委评审、推荐的系列",
    "provincial_recommendation": "二、经审核推荐省高评委（中评委）评审的系列",
    "graduate_initial_determination": "三、大中专毕业生初定",
}
SECTION_ORDER = {name: i for i, name in enumerate(SECTION_LABELS)}
MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024


@dataclass
class PlanRow:
    section: str
    seq: int
    name: str
    titles_evaluated: list[str] = field(default_factory=list)
    titles_recommended: list[str] = field(default_factory=list)
    start_month: str | None = None
    finish_months: list[str] = field(default_factory=list)
    office: str | None = None
    phone: str | None = None
    scope: str | None = None

    def cells(self) -> list[str]:
        """The row as the CSV writes it (keys order of COLUMNS)."""
        return [self.section, str(self.seq), self.name, join_titles(self.titles_evaluated),
                join_titles(self.titles_recommended), self.start_month or "", join_months(self.finish_months),
                self.office or "", self.phone or "", self.scope or ""]


@dataclass(frozen=True)
class CellProblem:
    row: int  # 1-based line of the file / sheet row
    column: str  # Chinese label
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        return f"第 {self.row} 行“{self.column}”：{self.message}"


class PlanTableInvalid(FormInvalid):
    def __init__(self, problems: list[CellProblem]):
        shown = "；".join(str(p) for p in problems[:5])
        more = f"（另有 {len(problems) - 5} 处）" if len(problems) > 5 else ""
        super().__init__(f"计划表有 {len(problems)} 处错误，未导入任何内容：{shown}{more}",
                         {"file": [str(p) for p in problems]})
        self.problems = problems


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_map(header: Sequence[object], line: int) -> tuple[dict[str, int], list[CellProblem]]:
    by_label = {label: key for key, label in COLUMNS}
    found: dict[str, int] = {}
    problems: list[CellProblem] = []
    for index, cell in enumerate(header):
        name = _text(cell)
        key = name if name in LABELS else by_label.get(name)
        if key is not None:
            found.setdefault(key, index)
    for key, label in COLUMNS:
        if key not in found:
            problems.append(CellProblem(line, label, f"缺少此列（表头应为 {key} 或“{label}”）"))
    return found, problems


def _section(value: str) -> str | None:
    if value in SECTION_LABELS:
        return value
    for key, label in SECTION_LABELS.items():
        if value in {label, label.split("、", 1)[1]}:
            return key
    return None


def parse_rows(lines: Iterable[tuple[int, Sequence[object]]], year: int) -> list[PlanRow]:
    """Rows (line number, cells) after the header → PlanRows, or PlanTableInvalid."""
    problems: list[CellProblem] = []
    rows: list[PlanRow] = []
    header: dict[str, int] | None = None
    seen: dict[tuple[str, int], int] = {}
    for line, cells in lines:
        values = [_text(c) for c in cells]
        if header is None:
            if not any(values):
                continue
            if "序号" not in values and "seq" not in values:
                continue  # a title row above the header
            header, head_problems = _header_map(cells, line)
            problems += head_problems
            if head_problems:
                break
            continue
        if not any(values):
            continue
        if len(rows) >= MAX_ROWS:
            problems.append(CellProblem(line, LABELS["seq"], f"计划表最多 {MAX_ROWS} 行"))
            break

        def cell(key: str, values: list[str] = values, header: dict[str, int] = header) -> str:
            index = header[key]
            return values[index] if index < len(values) else ""

        def bad(key: str, message: str, line: int = line, found: list[CellProblem] = problems) -> None:
            found.append(CellProblem(line, LABELS[key], message))

        section = _section(cell("section"))
        if section is None:
            bad("section", f"“{cell('section')}”不是计划的部分（{'、'.join(SECTION_LABELS)}）")
        seq_text = cell("seq")
        seq = int(seq_text) if seq_text.isdigit() and int(seq_text) > 0 else None
        if seq is None:
            bad("seq", f"“{seq_text}”不是正整数" if seq_text else "此项为必填项")
        elif section is not None:
            if (section, seq) in seen:
                bad("seq", f"序号 {seq} 与第 {seen[(section, seq)]} 行重复")
            seen[(section, seq)] = line
        name = cell("committee_or_item")
        if not name:
            bad("committee_or_item", "此项为必填项")
        elif len(name) > 200:
            bad("committee_or_item", "不能超过 200 字")
        titles: dict[str, list[str]] = {}
        for key in ("titles_evaluated", "titles_recommended"):
            titles[key] = split_titles(cell(key))
            if any(not t for t in titles[key]):
                bad(key, "有空的资格名称（多余的“、”）")
        start = cell("start_month") or None
        if start is not None and (why := month_problem(start)):
            bad("start_month", why)
            start = None
        finish = split_months(cell("finish_months"))
        finish_ok = True
        for month in finish:
            if why := month_problem(month):
                bad("finish_months", why)
                finish_ok = False
        if not finish:
            bad("finish_months", "此项为必填项")
            finish_ok = False
        if finish_ok:
            if finish != sorted(finish) or len(set(finish)) != len(finish):
                bad("finish_months", "月份应从早到晚排列且不重复")
            if any(not year <= int(m[:4]) <= year + 1 for m in finish):
                bad("finish_months", f"完成时间应在 {year} 年或 {year + 1} 年")
        if start is not None and not year <= int(start[:4]) <= year:
            bad("start_month", f"启动时间应在 {year} 年")
        if section == "city_committee":
            if not titles["titles_evaluated"] and not titles["titles_recommended"]:
                bad("titles_evaluated", "评委会应至少评审或推荐一项资格")
            if start is None and not cell("start_month"):
                bad("start_month", "评委会应有启动时间")
            if len(finish) > 1:
                bad("finish_months", "评委会只有一个完成时间")
            if start is not None and finish_ok and finish and finish[0] < start:
                bad("finish_months", f"完成时间 {finish[0]} 早于启动时间 {start}")
        elif section == "provincial_recommendation":
            if len(finish) > 1:
                bad("finish_months", "推荐项目只有一个完成时间")
            if not titles["titles_recommended"]:
                bad("titles_recommended", "推荐项目应写明推荐资格名称")
        phone = cell("phone") or None
        if phone is not None and not (phone.replace("-", "").isdigit() and 7 <= len(phone.replace("-", "")) <= 12):
            bad("phone", f"“{phone}”不是电话号码（7–8 位本地号码，或带区号）")
        office = cell("office") or None
        if office is not None and len(office) > 200:
            bad("office", "不能超过 200 字")
        if section is None or seq is None or not name:
            continue
        rows.append(PlanRow(section=section, seq=seq, name=name, titles_evaluated=titles["titles_evaluated"],
                            titles_recommended=titles["titles_recommended"], start_month=start, finish_months=finish,
                            office=office, phone=phone, scope=cell("scope") or None))
    if header is None and not problems:
        problems.append(CellProblem(1, LABELS["seq"], "没有找到表头（应有“序号”等列）"))
    elif header is not None and not rows and not problems:
        problems.append(CellProblem(1, LABELS["seq"], "计划表没有数据行"))
    if problems:
        raise PlanTableInvalid(problems)
    return rows


def read_table(filename: str, content: bytes, year: int) -> list[PlanRow]:
    """A .csv (UTF-8, with or without BOM) or .xlsx plan table → rows."""
    if len(content) > MAX_BYTES:
        raise FormInvalid("文件过大", {"file": [f"计划表不能超过 {MAX_BYTES // 1024 // 1024} MB"]})
    lower = (filename or "").lower()
    if lower.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FormInvalid("文件编码应为 UTF-8", {"file": ["CSV 文件应以 UTF-8 编码保存"]}) from exc
        reader = csv.reader(io.StringIO(text))
        try:
            return parse_rows(((i, row) for i, row in enumerate(reader, start=1)), year)
        except csv.Error as exc:
            raise FormInvalid("CSV 格式错误", {"file": [f"CSV 格式错误：{exc}"]}) from exc
    if lower.endswith(".xlsx"):
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
            raise FormInvalid("无法读取 Excel 文件", {"file": ["不是有效的 .xlsx 文件"]}) from exc
        sheet = book.worksheets[0]
        return parse_rows(((i, row) for i, row in enumerate(sheet.iter_rows(values_only=True), start=1)), year)
    raise FormInvalid("文件类型不允许", {"file": ["只接受 .csv 或 .xlsx 计划表"]})


def write_csv(rows: Sequence[PlanRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180 line ends (CRLF), as 附件1 was issued
    writer.writerow([key for key, _ in COLUMNS])
    for row in rows:
        writer.writerow(row.cells())
    return buffer.getvalue()


def write_xlsx(rows: Sequence[PlanRow], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "附件1"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([label for _, label in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        cells = row.cells()
        cells[0] = SECTION_LABELS[row.section]
        values: list[object] = [cells[0], row.seq, *cells[2:]]
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            # Text stays text: a phone or month must not become a number or a date.
            if cell.column != 2:
                cell.number_format = "@"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = (22, 6, 44, 30, 22, 10, 16, 28, 10, 48)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=2, column=index).column_letter].width = width
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
