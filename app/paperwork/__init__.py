"""Document generation for the review work: typed input in, PDF or Excel bytes out.

Deliberately free of Flask and the database, so documents can be produced and tested anywhere.
"""

from app.paperwork.excel import passed_list_xlsx, recommendation_list_xlsx
from app.paperwork.letters import letter_4_2_pdf, written_opinion_pdf
from app.paperwork.lists import passed_list_pdf, recommendation_list_pdf
from app.paperwork.model import (
    CommissionLetter,
    NameList,
    NameListRow,
    Objections,
    PublicationNotice,
    PublicationRequest,
    WrittenOpinion,
)
from app.paperwork.notices import commission_letter_pdf, publication_notice_pdf
from app.paperwork.text import format_date_cn

__all__ = [
    "CommissionLetter",
    "NameList",
    "NameListRow",
    "Objections",
    "PublicationNotice",
    "PublicationRequest",
    "WrittenOpinion",
    "commission_letter_pdf",
    "format_date_cn",
    "letter_4_2_pdf",
    "passed_list_pdf",
    "passed_list_xlsx",
    "publication_notice_pdf",
    "recommendation_list_pdf",
    "recommendation_list_xlsx",
    "written_opinion_pdf",
]
