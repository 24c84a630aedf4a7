"""Typed input for the generated documents.

Plain dataclasses on purpose: the caller (a service, a script, a test) assembles them from
whatever store it uses, so this package never needs the database or the web layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

LISHUI_HRSS = "丽水市人力资源和社会保障局"


@dataclass(frozen=True)
class NameListRow:
    """One person on a name list; the same row feeds 4-3, the recommendation list and the
    commission letter."""

    name: str
    employer: str  # 工作单位
    specialty: str  # 现从事专业
    qualification: str  # 评审通过资格名称, or 推荐资格名称 on the recommendation list
    level: str  # 级别: 正高级、副高级、中级、初级
    application_mode: str  # 申报方式: 正常申报、破格申报、转评……
    education: str  # 最高学历
    recommended_to: str | None = None  # 推荐至: read only by the recommendation list


@dataclass(frozen=True)
class NameList:
    """A committee's list for one review session; rows keep the caller's order (序号 = position)."""

    committee: str  # 评委会全称
    year: int
    session: str  # 评审会议名称
    meeting_date: date
    rows: Sequence[NameListRow] = ()


@dataclass(frozen=True)
class Objections:
    """Objections raised while the review results were on public notice (公示)."""

    received: int = 0
    unfounded: int = 0  # 经核实不属实
    founded: int = 0  # 经核实属实
    outcome: str = ""  # what was done about the founded ones, e.g. "已取消该同志评审通过资格"

    def __post_init__(self) -> None:
        # The publication request goes out only after every objection is settled, so the counts must add up.
        if min(self.received, self.unfounded, self.founded) < 0:
            raise ValueError("异议件数不能为负数")
        if self.unfounded + self.founded != self.received:
            raise ValueError("异议核实结果（属实 + 不属实）应等于收到的异议件数")


@dataclass(frozen=True)
class PublicationRequest:
    """附件4-2: the committee office asks the publishing HR bureau to publish the passed list."""

    doc_no: str  # e.g. "莲都区中小学教师中评委〔2022〕1号"
    addressee: str  # the publishing HR bureau, e.g. "莲都区人力资源和社会保障局"
    committee: str
    session: str
    meeting_date: date
    members: int  # 评委会委员总数
    attending: int  # 出席会议委员数
    reviewed: int  # 参评人数
    passed: int
    recommended: int  # 推荐至上级评委会人数
    notice_start: date
    notice_end: date
    issued_on: date
    objections: Objections = field(default_factory=Objections)

    def __post_init__(self) -> None:
        # The letter vouches for these figures to the publishing bureau; impossible ones must not be printed.
        if min(self.members, self.attending, self.reviewed, self.passed, self.recommended) < 0:
            raise ValueError("人数不能为负数")
        if self.attending > self.members:
            raise ValueError("出席会议委员数不能多于评委会委员总数")
        if self.passed + self.recommended > self.reviewed:
            raise ValueError("评审通过人数与推荐人数之和不能多于参评人数")
        if self.notice_end < self.notice_start:
            raise ValueError("公示结束日期不能早于开始日期")


@dataclass(frozen=True)
class WrittenOpinion:
    """书面意见: the supervising HR bureau answers the committee's readiness report (评审准备情况报告)."""

    doc_no: str
    addressee: str  # the committee office, e.g. "莲都区中小学教师中级职务评审委员会办公室"
    committee: str
    session: str
    report_date: date  # when the readiness report was received
    meeting_date: date
    agreed: bool
    issuer: str
    issued_on: date
    opinion: str = ""  # further requirements; blank lines separate paragraphs
    reasons: Sequence[str] = ()  # why not, when agreed is False


@dataclass(frozen=True)
class CommissionLetter:
    """委托评审函: the city bureau entrusts a provincial senior committee with the recommended persons."""

    doc_no: str
    addressee: str  # e.g. "浙江省工程技术人员高级职务任职资格评审委员会"
    committee: str  # the committee that reviewed and recommended them
    issued_on: date
    persons: Sequence[NameListRow] = ()
    issuer: str = LISHUI_HRSS


@dataclass(frozen=True)
class PublicationNotice:
    """发文公布: the publishing HR bureau's notice, with the passed list as its attachment."""

    doc_no: str  # e.g. "莲人社〔2022〕88号"
    passed: NameList
    granted_on: date  # 资格取得时间
    issuer: str
    issued_on: date
    addressee: str = "各有关单位"
    titles: str | None = None  # qualification names for the body; None joins those of the rows
