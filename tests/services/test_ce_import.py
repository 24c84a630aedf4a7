"""Continuing-education hours imported from Excel: all rows or none, errors by Excel row."""

from __future__ import annotations

import io

import pytest
import xlsx_files
from sqlalchemy import func, select

from app.extensions import db
from app.models import CeRecord
from app.services import ce
from app.services.errors import FormInvalid, NotAllowed

NAMED_HEADER = ("姓名", "用户名", "年度", "专业科目", "公需科目", "一般公需科目")


def workbook(rows: list[list], header=NAMED_HEADER) -> io.BytesIO:
    return xlsx_files.workbook(rows, header)


def test_import_upserts_every_row(ctx, user):
    hr = user("city_hr")
    stream = workbook([["周晓岚", "teacher1", 2019, 66, 30, 18], ["周晓岚", "teacher1", 2020, 60, 30, 12], [],
                       ["叶海波", "engineer1", "2021", 64.0, 26, 13]])
    assert ce.import_excel(hr, stream) == 3
    names = {user("teacher1").id: "teacher1", user("engineer1").id: "engineer1"}
    saved = {(names[r.user_id], r.year): (r.professional, r.public, r.general_public)
             for r in db.session.scalars(select(CeRecord))}
    assert saved == {("teacher1", 2019): (66, 30, 18), ("teacher1", 2020): (60, 30, 12),
                     ("engineer1", 2021): (64, 26, 13)}


def test_import_reports_rows_and_saves_nothing(ctx, user):
    stream = workbook([["", "teacher1", 2019, 66, 30, 18], ["", "nobody", 2020, 60, 30, 12],
                       ["", "teacher1", 2021, -5, 10, 12]])
    with pytest.raises(FormInvalid) as caught:
        ce.import_excel(user("city_hr"), stream)
    assert caught.value.fields == {"第 3 行 用户名": ["用户不存在"], "第 4 行 专业科目": ["学时应为 0–2000 的整数"]}
    assert db.session.scalar(select(func.count()).select_from(CeRecord)) == 0


@pytest.mark.parametrize(("content", "message"), [
    (b"not an excel file", "不是有效的 Excel 文件"),
    (None, "第 1 行缺少列：一般公需科目"),
])
def test_bad_files_are_refused_in_chinese(ctx, user, content, message):
    stream = io.BytesIO(content) if content else workbook([["teacher1", 2020, 60, 30]],
                                                          header=("用户名", "年度", "专业科目", "公需科目"))
    with pytest.raises(FormInvalid) as caught:
        ce.import_excel(user("city_hr"), stream)
    assert message in str(caught.value.fields) or message in caught.value.message


def test_only_hr_staff_may_import(ctx, user):
    with pytest.raises(NotAllowed):
        ce.import_excel(user("school_hr"), workbook([["", "teacher1", 2020, 60, 30, 12]]))
