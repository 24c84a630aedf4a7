"""身份证号: whole for the applicant, the checking committee office and administrators; masked
for everyone else who may see the case, in every answer that carries it."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from page_client import Browser
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessVersion
from app.services import privacy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "title"))
from title_flow import P01, Flow, build_world  # noqa: E402

WHOLE = P01["id_number"]
MASKED = "332501********123X"
ENTITLED = ("teacher1", "edu_office", "admin")
OTHERS = ("school_hr", "liandu_edu", "liandu_hr", "city_hr", "manager")


@pytest.fixture()
def flow(ctx):
    build_world()
    return Flow(ctx.test_client())


def _answers(flow: Flow, username: str, cid: int, task_ids: list[int]) -> str:
    api = flow.api(username)
    browser = Browser(flow.client.application, username)
    texts = []
    for url in [f"/api/v1/process-instances/{cid}", f"/api/v1/process-instances/{cid}/events",
                *(f"/api/v1/tasks/{t}" for t in task_ids)]:
        response = api.get(url)
        if response.status_code == 200:
            texts.append(response.get_data(as_text=True))
    for url in [f"/instances/{cid}", *(f"/tasks/{t}" for t in task_ids),
                "/manage/instances?process=title_application&columns=f.id_number"]:
        response = browser.client.get(url)
        if response.status_code == 200:
            texts.append(response.get_data(as_text=True))
    export = browser.client.get("/manage/instances/export.xlsx?process=title_application&columns=f.id_number")
    if export.status_code == 200:
        sheet = load_workbook(io.BytesIO(export.data), read_only=True).active
        texts.extend(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)
    return "\n".join(texts)


def test_the_id_number_is_whole_only_for_whom_it_is_for(flow):
    cid = flow.p01_accepted()
    db.session.rollback()
    task_ids = list(db.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == cid)))
    for username in ENTITLED:
        assert WHOLE in _answers(flow, username, cid, task_ids), username
    for username in OTHERS:
        seen = _answers(flow, username, cid, task_ids)
        assert seen, f"{username} sees the case"
        assert WHOLE not in seen, username
        assert MASKED in seen, username  # the audit trail's submission shows it masked


def test_a_masked_prefill_sent_back_keeps_the_real_number():
    submitted = {"id_number": MASKED, "phone": "1"}
    privacy.keep_unmasked(submitted, {"id_number": WHOLE})
    assert submitted["id_number"] == WHOLE
    changed = {"id_number": "332501199202021234"}
    privacy.keep_unmasked(changed, {"id_number": WHOLE})
    assert changed["id_number"] == "332501199202021234"


def test_masking_reaches_nested_details_and_leaves_the_original_alone():
    details = {"name": "补正申报材料", "data": {"id_number": WHOLE, "list": [{"id_number": WHOLE}]}}
    shown = privacy.masked(details)
    assert shown["data"]["id_number"] == MASKED and shown["data"]["list"][0]["id_number"] == MASKED
    assert details["data"]["id_number"] == WHOLE
    assert privacy.mask_id_number("12345") == "*****"


def test_no_case_list_column_carries_an_id_number(ctx):
    from app.services import case_fields

    for process in db.session.scalars(select(ProcessVersion.process_id).distinct()):
        fields = {name: "string" for name in [*case_fields.fields_of(process), "id_number"]}
        columns = case_fields.result_columns(process, fields, {})
        assert all(c.field not in privacy.SENSITIVE for c in columns)
