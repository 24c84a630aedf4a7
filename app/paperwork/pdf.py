"""Shared PDF machinery: the Chinese font, paragraph styles, page templates and the list table."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, partial
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    LongTable,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)

FONT = "STSong-Light"
CELL_SIZE = 9.5
CELL_PAD = 3
NONE_MARK = "（无）"

PORTRAIT = "portrait"
LANDSCAPE = "landscape"
# Letters follow the generous margins of official documents; lists want the width for their columns.
_MARGINS = {PORTRAIT: (28 * mm, 26 * mm, 30 * mm, 28 * mm), LANDSCAPE: (15 * mm, 15 * mm, 15 * mm, 18 * mm)}
_SIZES = {PORTRAIT: A4, LANDSCAPE: landscape(A4)}


@cache
def font() -> str:
    """Register the CID font on first use.

    A CID font ships with reportlab and is not embedded: nothing is read from disk, files stay small,
    and the reader supplies the glyphs from its Simplified Chinese (Adobe-GB1) font support.
    """
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    label: ParagraphStyle  # "附件4-3" above a title
    subtitle: ParagraphStyle
    doc_no: ParagraphStyle
    salutation: ParagraphStyle
    body: ParagraphStyle
    attachment: ParagraphStyle
    signature: ParagraphStyle
    cell: ParagraphStyle
    header: ParagraphStyle


def _style(name: str, size: float, leading: float, **extra: object) -> ParagraphStyle:
    # CJK wrapping breaks between any two characters; the default only breaks at spaces.
    return ParagraphStyle(name, fontName=font(), fontSize=size, leading=leading, wordWrap="CJK", **extra)


@cache
def styles() -> Styles:
    return Styles(
        title=_style("title", 18, 28, alignment=TA_CENTER, spaceBefore=6, spaceAfter=10),
        label=_style("label", 12, 18, alignment=TA_LEFT),
        subtitle=_style("subtitle", 11, 16, alignment=TA_CENTER, spaceAfter=8),
        doc_no=_style("doc_no", 12, 18, alignment=TA_RIGHT, spaceAfter=6),
        salutation=_style("salutation", 14, 26, spaceBefore=6),
        body=_style("body", 14, 26, firstLineIndent=28),
        # Official layout: a wrapped attachment name continues under the name, not under "附件：".
        attachment=_style("attachment", 14, 26, leftIndent=70, firstLineIndent=-42),
        signature=_style("signature", 14, 26, alignment=TA_RIGHT),
        cell=_style("cell", CELL_SIZE, CELL_SIZE * 1.3, alignment=TA_CENTER),
        header=_style("header", CELL_SIZE + 0.5, (CELL_SIZE + 0.5) * 1.3, alignment=TA_CENTER),
    )


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """Paragraph markup is XML: a unit named "A&B" or "<筹>" must not be read as tags."""
    return Paragraph(escape(text), style)


def gap(height_mm: float) -> Spacer:
    return Spacer(1, height_mm * mm)


def letter_head(title: str, doc_no: str, addressee: str, *, label: str | None = None) -> list[Flowable]:
    st = styles()
    head: list[Flowable] = [para(label, st.label)] if label else []
    return [*head, para(doc_no, st.doc_no), para(title, st.title), para(f"{addressee}：", st.salutation)]


def body(*texts: str) -> list[Flowable]:
    return [para(t, styles().body) for t in texts if t]


def attachment(name: str) -> list[Flowable]:
    return [gap(4), para(f"附件：{name}", styles().attachment)]


def signature(issuer: str, date_text: str) -> list[Flowable]:
    st = styles().signature
    return [gap(12), para(issuer, st), para(date_text, st)]


def to_landscape() -> list[Flowable]:
    """Start a new landscape page, for an attachment list that follows a portrait letter."""
    return [NextPageTemplate(LANDSCAPE), PageBreak()]


def frame_width(orientation: str) -> float:
    left, right, _, _ = _MARGINS[orientation]
    return _SIZES[orientation][0] - left - right


def spread(weights: Sequence[float], total: float) -> list[float]:
    whole = sum(weights)
    return [total * w / whole for w in weights]


def _cell(text: str, width: float) -> str | Paragraph:
    # A Paragraph per cell is what makes big tables slow; most cells fit on one line and need none.
    if "\n" not in text and pdfmetrics.stringWidth(text, font(), CELL_SIZE) <= width - 2 * CELL_PAD:
        return text
    return para(text, styles().cell)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> LongTable:
    """A ruled table whose header row repeats on every page; no rows renders a single "（无）" line."""
    head = [para(h, styles().header) for h in header]
    body: list[list[str | Paragraph]] = [[_cell(t, w) for t, w in zip(r, widths, strict=True)] for r in rows]
    commands: list[tuple[object, ...]] = [
        ("FONT", (0, 0), (-1, -1), font(), CELL_SIZE),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E6E6E6")),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
    ]
    if not body:
        body = [[NONE_MARK] + [""] * (len(header) - 1)]
        commands.append(("SPAN", (0, 1), (-1, 1)))
    return LongTable([head, *body], colWidths=list(widths), repeatRows=1, style=TableStyle(commands))


def _page_number(page_width: float, canvas: Canvas, doc: BaseDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(font(), 9)
    canvas.drawCentredString(page_width / 2, 8 * mm, f"第 {doc.page} 页")
    canvas.restoreState()


def _template(orientation: str) -> PageTemplate:
    left, right, top, bottom = _MARGINS[orientation]
    width, height = _SIZES[orientation]
    frame = Frame(left, bottom, width - left - right, height - top - bottom, id=orientation,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    return PageTemplate(id=orientation, frames=[frame], onPage=partial(_page_number, width),
                        pagesize=(width, height))


def build_pdf(story: Sequence[Flowable], *, orientation: str, title: str, author: str) -> bytes:
    """Lay out the story starting in the given orientation; to_landscape() may switch later pages."""
    first, other = (orientation, LANDSCAPE if orientation == PORTRAIT else PORTRAIT)
    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=_SIZES[first], title=title, author=author, creator=author,
                          pageTemplates=[_template(first), _template(other)])
    doc.build(list(story))
    return buf.getvalue()
