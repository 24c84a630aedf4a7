"""Document numbers (文号): 〔year〕n号 per issuer series, allocated under a row lock."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import DocSequence
from app.rules.title import CITY_HR, LISHUI_COUNTIES

# The short form each bureau's documents carry (丽人社〔2021〕53号, 莲人社〔2022〕55号).
HR_ABBREVIATIONS = {CITY_HR: "丽人社"} | {
    f"{county}人力资源和社会保障局": f"{county[0]}人社" for county in LISHUI_COUNTIES
}


def hr_prefix(org_name: str, letter: bool = False) -> str:
    """A bureau's series: 莲人社 for documents, 莲人社函 for letters; other issuers use their own name."""
    base = HR_ABBREVIATIONS.get(org_name, org_name)
    return f"{base}函" if letter else base


def next_number(prefix: str, year: int) -> int:
    row = db.session.scalar(
        select(DocSequence).where(DocSequence.prefix == prefix, DocSequence.year == year).with_for_update())
    if row is None:
        row = DocSequence(prefix=prefix, year=year, last=0)
        db.session.add(row)
    row.last += 1
    db.session.flush()
    return row.last


def allocate(prefix: str, year: int) -> str:
    """The next number of the series, e.g. 莲人社〔2022〕1号. The caller commits."""
    return f"{prefix}〔{year}〕{next_number(prefix, year)}号"
