"""Letters around the review meeting: the bureau's 书面意见 before it, the committee's 附件4-2 after it."""

from __future__ import annotations

from reportlab.platypus import Flowable

from app.paperwork import pdf
from app.paperwork.model import PublicationRequest, WrittenOpinion
from app.paperwork.text import cn_numeral, format_date_cn, objection_summary

PUBLICATION_REQUEST_TITLE = "关于要求公布评审通过人员名单的函"


def _request_body(r: PublicationRequest) -> list[Flowable]:
    meeting = (
        f"{r.committee}于{format_date_cn(r.meeting_date)}召开{r.session}。评委会现有委员 {r.members} 名，"
        f"出席会议委员 {r.attending} 名。会议共评审 {r.reviewed} 人，经评审，{r.passed} 人评审通过，"
        f"{r.recommended} 人推荐至上级评委会评审。"
    )
    notice = (
        f"评审结果已于{format_date_cn(r.notice_start)}至{format_date_cn(r.notice_end)}进行公示，"
        f"{objection_summary(r.objections)}。"
    )
    return pdf.body(meeting, notice, "现将评审通过人员名单随函报送，请予审核并发文公布。")


def letter_4_2_pdf(letter: PublicationRequest) -> bytes:
    story = [
        *pdf.letter_head(PUBLICATION_REQUEST_TITLE, letter.doc_no, letter.addressee, label="附件4-2"),
        *_request_body(letter),
        *pdf.attachment("评审通过人员名单"),
        *pdf.signature(f"{letter.committee}办公室", format_date_cn(letter.issued_on)),
    ]
    return pdf.build_pdf(story, orientation=pdf.PORTRAIT, title=PUBLICATION_REQUEST_TITLE,
                         author=f"{letter.committee}办公室")


def opinion_title(op: WrittenOpinion) -> str:
    return f"关于{op.committee}召开评审会议的书面意见"


def _decision(op: WrittenOpinion) -> list[str]:
    # The spaces around the date follow the bureau's template wording for this sentence.
    if op.agreed:
        return [f"经审核，同意你委于 {format_date_cn(op.meeting_date)} 召开评审会议。"]
    reasons = [r.strip() for r in op.reasons if r.strip()]
    lead = "经审核，暂不同意召开评审会议。" + ("主要原因如下：" if reasons else "")
    return [lead, *(f"（{cn_numeral(i)}）{r}" for i, r in enumerate(reasons, start=1))]


def _opinion_paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def written_opinion_pdf(op: WrittenOpinion) -> bytes:
    received = f"你委于{format_date_cn(op.report_date)}报送的{op.session}评审准备情况报告收悉。"
    story = [
        *pdf.letter_head(opinion_title(op), op.doc_no, op.addressee),
        *pdf.body(received, *_decision(op), *_opinion_paragraphs(op.opinion)),
        *pdf.signature(op.issuer, format_date_cn(op.issued_on)),
    ]
    return pdf.build_pdf(story, orientation=pdf.PORTRAIT, title=opinion_title(op), author=op.issuer)
