"""Which columns each name list has, shared by the PDF and the Excel renderings so they cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.paperwork.model import NameList, NameListRow


@dataclass(frozen=True)
class Column:
    title: str
    weight: float  # relative width; both renderings scale it to their page or sheet
    value: Callable[[int, NameListRow], str | int]  # (序号, row) → cell


@dataclass(frozen=True)
class ListSpec:
    subject: str  # also the Excel sheet name
    columns: tuple[Column, ...]
    label: str | None = None  # attachment number printed above the title

    def title(self, lst: NameList) -> str:
        return f"{lst.committee}{lst.year}年度{self.subject}"

    def headers(self) -> list[str]:
        return [c.title for c in self.columns]

    def values(self, rows: Sequence[NameListRow]) -> list[list[str | int]]:
        return [[c.value(i, row) for c in self.columns] for i, row in enumerate(rows, start=1)]


def _col(title: str, weight: float, attr: str) -> Column:
    return Column(title, weight, lambda _i, row: getattr(row, attr) or "")


SEQ = Column("序号", 5, lambda i, _row: i)
NAME = _col("姓名", 7, "name")
EMPLOYER = _col("工作单位", 30, "employer")
SPECIALTY = _col("现从事专业", 13, "specialty")
LEVEL = _col("级别", 6, "level")
MODE = _col("申报方式", 8, "application_mode")
EDUCATION = _col("最高学历", 8, "education")

# Decision D12 fixes these columns and their order for 附件4-3.
PASSED = ListSpec(
    subject="评审通过人员名单",
    label="附件4-3",
    columns=(SEQ, NAME, EMPLOYER, SPECIALTY, _col("评审通过资格名称", 14, "qualification"), LEVEL, MODE,
             EDUCATION),
)

RECOMMENDED = ListSpec(
    subject="推荐人员名单",
    columns=(SEQ, NAME, EMPLOYER, SPECIALTY, _col("推荐资格名称", 14, "qualification"), LEVEL, MODE, EDUCATION,
             _col("推荐至", 13, "recommended_to")),
)

COMMISSIONED = ListSpec(
    subject="委托评审人员名单",
    columns=(SEQ, NAME, EMPLOYER, SPECIALTY, _col("推荐资格名称", 14, "qualification"), EDUCATION),
)
