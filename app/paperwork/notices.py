"""Bureau documents after the meeting: the 委托评审函 to a provincial committee and the 发文公布 notice."""

from __future__ import annotations

from app.paperwork import pdf
from app.paperwork.columns import COMMISSIONED, PASSED
from app.paperwork.lists import list_story, list_table
from app.paperwork.model import CommissionLetter, PublicationNotice
from app.paperwork.text import format_date_cn, join_distinct

COMMISSION_TITLE = "委托评审函"


def commission_letter_pdf(letter: CommissionLetter) -> bytes:
    text = (
        f"经{letter.committee}评审，下列 {len(letter.persons)} 名同志符合推荐条件，予以推荐。"
        "根据职称评审管理有关规定，现委托你委对上述人员进行评审，请予支持。"
    )
    story = [
        *pdf.letter_head(COMMISSION_TITLE, letter.doc_no, letter.addressee),
        *pdf.body(text),
        pdf.gap(3),
        pdf.para(COMMISSIONED.subject, pdf.styles().subtitle),
        list_table(COMMISSIONED, letter.persons, pdf.PORTRAIT),
        *pdf.signature(letter.issuer, format_date_cn(letter.issued_on)),
    ]
    return pdf.build_pdf(story, orientation=pdf.PORTRAIT, title=COMMISSION_TITLE, author=letter.issuer)


def notice_title(notice: PublicationNotice) -> str:
    return f"关于公布{PASSED.title(notice.passed)}的通知"


def _notice_text(notice: PublicationNotice) -> str:
    lst = notice.passed
    titles = notice.titles or join_distinct((r.qualification for r in lst.rows), fallback="相应")
    return (
        f"经{lst.committee}评审，并经公示无异议，{len(lst.rows)}名同志具备{titles}专业技术资格，"
        f"资格取得时间为{format_date_cn(notice.granted_on)}。现予公布。"
    )


def publication_notice_pdf(notice: PublicationNotice) -> bytes:
    """The letter on a portrait page, then the full list on landscape pages as its attachment."""
    story = [
        *pdf.letter_head(notice_title(notice), notice.doc_no, notice.addressee),
        *pdf.body(_notice_text(notice)),
        *pdf.attachment(PASSED.title(notice.passed)),
        *pdf.signature(notice.issuer, format_date_cn(notice.issued_on)),
        *pdf.to_landscape(),
        *list_story(PASSED, notice.passed, label="附件"),
    ]
    return pdf.build_pdf(story, orientation=pdf.PORTRAIT, title=notice_title(notice), author=notice.issuer)
