"""Name lists as PDF: 附件4-3 评审通过人员名单 and the separate 推荐人员名单."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Flowable

from app.paperwork import pdf
from app.paperwork.columns import PASSED, RECOMMENDED, ListSpec
from app.paperwork.model import NameList, NameListRow
from app.paperwork.text import format_date_cn


def list_table(spec: ListSpec, rows: Sequence[NameListRow], orientation: str) -> Flowable:
    widths = pdf.spread([c.weight for c in spec.columns], pdf.frame_width(orientation))
    cells = [[str(v) for v in row] for row in spec.values(rows)]
    return pdf.table(spec.headers(), cells, widths)


def list_story(spec: ListSpec, lst: NameList, *, label: str | None = None) -> list[Flowable]:
    """Heading, title, session line and table; the label can be overridden when the list is another
    document's attachment."""
    st = pdf.styles()
    story: list[Flowable] = []
    heading = label if label is not None else spec.label
    if heading:
        story.append(pdf.para(heading, st.label))
    story += [
        pdf.para(spec.title(lst), st.title),
        pdf.para(f"评审会议：{lst.session}　　会议日期：{format_date_cn(lst.meeting_date)}", st.subtitle),
        list_table(spec, lst.rows, pdf.LANDSCAPE),
    ]
    return story


def _render(spec: ListSpec, lst: NameList) -> bytes:
    return pdf.build_pdf(list_story(spec, lst), orientation=pdf.LANDSCAPE, title=spec.title(lst),
                         author=lst.committee)


def passed_list_pdf(lst: NameList) -> bytes:
    return _render(PASSED, lst)


def recommendation_list_pdf(lst: NameList) -> bytes:
    return _render(RECOMMENDED, lst)
