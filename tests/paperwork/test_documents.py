"""Generated documents, read back as a recipient's software would: PDF text via pypdf, xlsx via openpyxl."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pypdf
import pytest
from openpyxl import load_workbook

from app.paperwork import (
    CommissionLetter,
    NameList,
    NameListRow,
    Objections,
    PublicationNotice,
    PublicationRequest,
    WrittenOpinion,
    commission_letter_pdf,
    format_date_cn,
    letter_4_2_pdf,
    passed_list_pdf,
    passed_list_xlsx,
    publication_notice_pdf,
    recommendation_list_pdf,
    recommendation_list_xlsx,
    written_opinion_pdf,
)
from app.paperwork.text import cn_numeral

D12 = ["序号", "姓名", "工作单位", "现从事专业", "评审通过资格名称", "级别", "申报方式", "最高学历"]
RECOMMENDATION_HEADER = [*D12[:4], "推荐资格名称", *D12[5:], "推荐至"]
COMMITTEE = "莲都区中小学教师中级职务评审委员会"
SESSION = "2022年度中小学教师中级职务评审会议"
MEETING = date(2022, 9, 20)

ROWS = [
    NameListRow("王晓明", "丽水市莲都区第一实验小学", "小学数学", "一级教师", "中级", "正常申报", "大学本科"),
    NameListRow("李婷", "丽水市莲都区囿山小学教育集团城东校区（丽水市莲都区城东小学）", "小学语文", "一级教师",
                "中级", "破格申报", "硕士研究生", recommended_to="省高评委"),
    NameListRow("陈国栋", "莲都区碧湖镇中心学校", "初中物理", "高级教师", "副高级", "正常申报", "大学本科",
                recommended_to="丽水市中小学教师高级职务评审委员会"),
]


def pages_text(data: bytes) -> list[str]:
    """Page texts without whitespace: wrapping puts line breaks anywhere, even inside a name."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return ["".join(page.extract_text().split()) for page in reader.pages]


def flat(text: str) -> str:
    return "".join(text.split())


def assert_contains(data: bytes, *needles: str) -> None:
    whole = "".join(pages_text(data))
    for needle in needles:
        assert flat(needle) in whole, needle


def name_list(rows: list[NameListRow] = ROWS) -> NameList:
    return NameList(committee=COMMITTEE, year=2022, session=SESSION, meeting_date=MEETING, rows=rows)


def many_rows(n: int) -> list[NameListRow]:
    return [NameListRow(f"申报人{i:04d}", f"丽水市第{i}中学", "中学数学", "一级教师", "中级", "正常申报", "大学本科")
            for i in range(1, n + 1)]


def sheet_rows(data: bytes) -> tuple[object, list[tuple[object, ...]]]:
    ws = load_workbook(io.BytesIO(data)).active
    return ws, list(ws.iter_rows(values_only=True))


def test_format_date_cn_drops_leading_zeros() -> None:
    assert format_date_cn(date(2022, 9, 20)) == "2022年9月20日"
    assert format_date_cn(date(2023, 1, 5)) == "2023年1月5日"


def test_cn_numeral() -> None:
    assert [cn_numeral(n) for n in (1, 9, 10, 11, 20, 35)] == ["一", "九", "十", "十一", "二十", "三十五"]
    with pytest.raises(ValueError):
        cn_numeral(0)


# --- 附件4-3 and the recommendation list ---------------------------------------------------


def test_passed_list_pdf_has_heading_title_session_and_rows() -> None:
    data = passed_list_pdf(name_list())
    assert_contains(data, "附件4-3", f"{COMMITTEE}2022年度评审通过人员名单", SESSION, "2022年9月20日", *D12,
                    "王晓明", "李婷", "陈国栋", ROWS[1].employer, "硕士研究生", "破格申报", "第 1 页")


def test_passed_list_pdf_is_landscape() -> None:
    box = pypdf.PdfReader(io.BytesIO(passed_list_pdf(name_list()))).pages[0].mediabox
    assert box.width > box.height


@pytest.fixture(scope="module")
def big_list() -> NameList:
    return name_list(many_rows(2000))


def test_passed_list_pdf_with_2000_rows_repeats_header_on_every_page(big_list: NameList) -> None:
    pages = pages_text(passed_list_pdf(big_list))
    assert len(pages) > 1
    for number, text in enumerate(pages, start=1):
        assert "评审通过资格名称" in text, f"page {number}"
        assert f"第{number}页" in text
    assert "申报人0001" in pages[0]
    assert "申报人2000" in pages[-1]
    whole = "".join(pages)
    assert all(f"申报人{i:04d}" in whole for i in range(1, 2001))


def test_passed_list_xlsx_with_2000_rows(big_list: NameList) -> None:
    _, rows = sheet_rows(passed_list_xlsx(big_list))
    assert len(rows) == 2 + 2000
    assert rows[-1][:2] == (2000, "申报人2000")


def test_recommendation_list_pdf_uses_its_own_columns() -> None:
    data = recommendation_list_pdf(name_list())
    assert_contains(data, f"{COMMITTEE}2022年度推荐人员名单", *RECOMMENDATION_HEADER, "省高评委",
                    "丽水市中小学教师高级职务评审委员会", "陈国栋")
    assert "评审通过资格名称" not in "".join(pages_text(data))


def test_empty_lists_render_header_and_none_line() -> None:
    for render, header in ((passed_list_pdf, D12), (recommendation_list_pdf, RECOMMENDATION_HEADER)):
        data = render(name_list([]))
        assert_contains(data, *header, "（无）")


def test_passed_list_xlsx_matches_input_row_for_row() -> None:
    ws, rows = sheet_rows(passed_list_xlsx(name_list()))
    assert ws.title == "评审通过人员名单"
    assert rows[0][0] == f"{COMMITTEE}2022年度评审通过人员名单"
    assert "A1:H1" in {str(r) for r in ws.merged_cells.ranges}
    assert list(rows[1]) == D12
    assert ws["A2"].font.b
    assert ws.freeze_panes == "A3"
    expected = [
        (i, r.name, r.employer, r.specialty, r.qualification, r.level, r.application_mode, r.education)
        for i, r in enumerate(ROWS, start=1)
    ]
    assert rows[2:] == expected


def test_recommendation_list_xlsx_matches_input_row_for_row() -> None:
    ws, rows = sheet_rows(recommendation_list_xlsx(name_list()))
    assert ws.title == "推荐人员名单"
    assert list(rows[1]) == RECOMMENDATION_HEADER
    assert [r[:2] for r in rows[2:]] == [(1, "王晓明"), (2, "李婷"), (3, "陈国栋")]
    assert [r[4] for r in rows[2:]] == ["一级教师", "一级教师", "高级教师"]
    assert [r[-1] or "" for r in rows[2:]] == ["", "省高评委", "丽水市中小学教师高级职务评审委员会"]


def test_empty_xlsx_has_title_and_header_only() -> None:
    _, rows = sheet_rows(passed_list_xlsx(name_list([])))
    assert len(rows) == 2
    assert list(rows[1]) == D12


def test_text_that_looks_like_markup_or_a_formula_stays_text() -> None:
    odd = replace(ROWS[0], name="=SUM(A1:A9)", employer="A&B<筹建>公司")
    assert_contains(passed_list_pdf(name_list([odd])), "A&B<筹建>公司", "=SUM(A1:A9)")
    ws, rows = sheet_rows(passed_list_xlsx(name_list([odd])))
    assert rows[2][1] == "=SUM(A1:A9)"
    assert ws["B3"].data_type == "s"


# --- 附件4-2 ------------------------------------------------------------------------------


def publication_request(objections: Objections | None = None) -> PublicationRequest:
    return PublicationRequest(
        doc_no="莲都区中小学教师中评委〔2022〕1号", addressee="莲都区人力资源和社会保障局", committee=COMMITTEE,
        session=SESSION, meeting_date=MEETING, members=25, attending=21, reviewed=130, passed=98,
        recommended=12, notice_start=date(2022, 9, 22), notice_end=date(2022, 9, 28),
        issued_on=date(2022, 10, 8), objections=objections or Objections(),
    )


def test_letter_4_2_without_objections() -> None:
    data = letter_4_2_pdf(publication_request())
    assert len(pages_text(data)) == 1
    assert_contains(
        data, "附件4-2", "关于要求公布评审通过人员名单的函", "莲都区中小学教师中评委〔2022〕1号",
        "莲都区人力资源和社会保障局：", COMMITTEE, SESSION, "2022年9月20日", "委员 25 名", "出席会议委员 21 名",
        "评审 130 人", "98 人评审通过", "12 人推荐至上级评委会", "2022年9月22日至2022年9月28日",
        "公示期间无异议", "请予审核并发文公布。", "附件：评审通过人员名单", f"{COMMITTEE}办公室", "2022年10月8日",
    )
    assert "收到异议" not in "".join(pages_text(data))


def test_letter_4_2_with_objections_states_the_counts() -> None:
    data = letter_4_2_pdf(publication_request(Objections(2, unfounded=1, founded=1, outcome="已取消该同志评审通过资格")))
    assert_contains(data, "公示期间收到异议 2 件，经调查核实，1 件不属实，1 件属实（已取消该同志评审通过资格）")
    assert "公示期间无异议" not in "".join(pages_text(data))


def test_letter_4_2_with_only_unfounded_objections() -> None:
    data = letter_4_2_pdf(publication_request(Objections(3, unfounded=3)))
    assert_contains(data, "公示期间收到异议 3 件，经调查核实，3 件不属实。")
    assert "件属实" not in "".join(pages_text(data))


def test_impossible_figures_are_refused() -> None:
    with pytest.raises(ValueError):
        Objections(2, unfounded=1)
    with pytest.raises(ValueError):
        replace(publication_request(), attending=26)
    with pytest.raises(ValueError):
        replace(publication_request(), passed=120, recommended=12)
    with pytest.raises(ValueError):
        replace(publication_request(), notice_end=date(2022, 9, 21))


# --- 书面意见 -----------------------------------------------------------------------------


def written_opinion(agreed: bool, reasons: tuple[str, ...] = ()) -> WrittenOpinion:
    return WrittenOpinion(
        doc_no="莲人社函〔2022〕12号", addressee=f"{COMMITTEE}办公室", committee=COMMITTEE, session=SESSION,
        report_date=date(2022, 9, 10), meeting_date=MEETING, agreed=agreed, issuer="莲都区人力资源和社会保障局",
        issued_on=date(2022, 9, 12), opinion="请严格执行回避制度。\n会后五个工作日内报送评审结果。", reasons=reasons,
    )


def test_written_opinion_agreeing() -> None:
    data = written_opinion_pdf(written_opinion(True))
    assert len(pages_text(data)) == 1
    assert_contains(
        data, f"关于{COMMITTEE}召开评审会议的书面意见", "莲人社函〔2022〕12号", f"{COMMITTEE}办公室：",
        "你委于2022年9月10日报送的", "评审准备情况报告收悉", "经审核，同意你委于 2022年9月20日 召开评审会议。",
        "请严格执行回避制度。", "会后五个工作日内报送评审结果。", "莲都区人力资源和社会保障局", "2022年9月12日",
    )
    assert "暂不同意" not in "".join(pages_text(data))


def test_written_opinion_disagreeing_gives_reasons() -> None:
    data = written_opinion_pdf(written_opinion(False, ("评委会委员抽取人数不足", "部分申报材料未经单位公示")))
    assert_contains(data, "经审核，暂不同意召开评审会议。", "（一）评委会委员抽取人数不足",
                    "（二）部分申报材料未经单位公示")
    assert "同意你委于" not in "".join(pages_text(data))


# --- 委托评审函 ---------------------------------------------------------------------------


def commission_letter(persons: list[NameListRow]) -> CommissionLetter:
    return CommissionLetter(
        doc_no="丽人社函〔2022〕35号", addressee="浙江省工程技术人员高级职务任职资格评审委员会",
        committee="莲都区工程技术人员中级职务评审委员会", issued_on=date(2022, 10, 10), persons=persons,
    )


def test_commission_letter_lists_the_persons() -> None:
    data = commission_letter_pdf(commission_letter(ROWS[1:]))
    assert_contains(
        data, "委托评审函", "丽人社函〔2022〕35号", "浙江省工程技术人员高级职务任职资格评审委员会：",
        "经莲都区工程技术人员中级职务评审委员会评审，下列 2 名同志", "委托你委", "序号", "姓名", "工作单位",
        "现从事专业", "推荐资格名称", "最高学历", "李婷", "陈国栋", "高级教师", "丽水市人力资源和社会保障局",
        "2022年10月10日",
    )
    assert "王晓明" not in "".join(pages_text(data))


def test_commission_letter_without_persons() -> None:
    assert_contains(commission_letter_pdf(commission_letter([])), "下列 0 名同志", "推荐资格名称", "（无）")


# --- 发文公布 -----------------------------------------------------------------------------


def publication_notice(rows: list[NameListRow], titles: str | None = None) -> PublicationNotice:
    return PublicationNotice(
        doc_no="莲人社〔2022〕88号", passed=name_list(rows), granted_on=MEETING,
        issuer="莲都区人力资源和社会保障局", issued_on=date(2022, 10, 20), titles=titles,
    )


def test_publication_notice_body_and_attachment() -> None:
    data = publication_notice_pdf(publication_notice(ROWS))
    title = f"{COMMITTEE}2022年度评审通过人员名单"
    assert_contains(
        data, f"关于公布{title}的通知", "莲人社〔2022〕88号", "各有关单位：",
        f"经{COMMITTEE}评审，并经公示无异议，3名同志具备一级教师、高级教师专业技术资格，"
        "资格取得时间为2022年9月20日。现予公布。",
        f"附件：{title}", "莲都区人力资源和社会保障局", "2022年10月20日", *D12, "王晓明", "李婷", "陈国栋",
    )
    reader = pypdf.PdfReader(io.BytesIO(data))
    first, attachment = reader.pages[0].mediabox, reader.pages[-1].mediabox
    assert first.width < first.height
    assert attachment.width > attachment.height
    assert "评审通过资格名称" in pages_text(data)[-1]


def test_publication_notice_with_given_titles_and_long_attachment() -> None:
    data = publication_notice_pdf(publication_notice(many_rows(300), titles="中小学一级教师"))
    pages = pages_text(data)
    assert len(pages) > 3
    assert_contains(data, "300名同志具备中小学一级教师专业技术资格", "申报人0300")
    assert all("评审通过资格名称" in text for text in pages[1:])
