"""The generic job page (/jobs/<id>): a large case-list export and a plan import, as users meet them.

The browser is the test client with real logins and CSRF tokens; without Celery workers each poll
of /jobs/<id>.json advances the job by one item, as the page's script does.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook
from page_client import Browser, csrf_from
from sqlalchemy import select

from app.extensions import db
from app.models import AnnualPlan, BackgroundJob, Organisation, User
from app.services import case_export, instances, plan_import, plans
from app.services import clock as clock_service
from app.services.plan_io import read_table

GRAD = "graduate_initial_determination"
APPLICATION = {"education": "硕士", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
               "months_pre_degree": 0, "specialty": "农学", "requested_level": "中级"}
EXPORT = "/manage/instances/export.xlsx"
QUERY = f"process={GRAD}&sort=f.months_pre_degree&dir=desc&cols=months_pre_degree,graduation_date"
HEADER = "section,seq,committee_or_item,titles_evaluated,titles_recommended,start_month,finish_months,office,phone,scope\n"


def person(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture()
def cases(ctx):
    ids = []
    for k in range(8):
        clock_service.set_clock(person("admin"), datetime.fromisoformat(f"2022-07-{11 + k:02d}T09:00:00+08:00"))
        ids.append(instances.start_instance(person("grad_city" if k % 2 else "grad_liandu"), GRAD,
                                            {**APPLICATION, "months_pre_degree": (k % 3) * 10}).id)
    clock_service.set_clock(person("admin"), datetime.fromisoformat("2022-07-25T09:00:00+08:00"))
    db.session.rollback()
    return ids


def _job_id(response) -> int:
    assert response.status_code == 302, response.status_code
    match = re.fullmatch(r".*/jobs/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _rows(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def test_a_long_list_is_exported_by_a_job_with_progress_and_a_download(ctx, cases, monkeypatch):
    manager = Browser(ctx, "manager")
    at_once = manager.client.get(f"{EXPORT}?{QUERY}")  # 8 rows: under the default threshold, sent at once
    assert at_once.status_code == 200 and at_once.mimetype.endswith("spreadsheetml.sheet")

    monkeypatch.setitem(ctx.config, "EXPORT_SYNC_ROWS", 5)
    monkeypatch.setattr(case_export, "CHUNK_ROWS", 3)
    job_id = _job_id(manager.client.get(f"{EXPORT}?{QUERY}&page=2"))
    page = manager.page(f"/jobs/{job_id}")
    assert "案件导出" in page and 'id="job-progress"' in page and "jobs.js" in page
    assert "正在后台生成 Excel 文件" in page  # the flash message
    assert f'href="/jobs/{job_id}/download"' not in page
    manager.page(f"/jobs/{job_id}/download", status=404)  # not yet

    polls = [manager.client.get(f"/jobs/{job_id}.json").get_json() for _ in range(4)]
    assert [(p["done"], p["total"], p["finished"]) for p in polls] == [
        (1, 4, False), (2, 4, False), (3, 4, False), (4, 4, True)]  # 3 + 3 + 2 rows, then the workbook
    assert polls[-1]["download_url"] == f"/jobs/{job_id}/download" and polls[-1]["failed"] == 0
    assert [r["label"] for r in polls[-1]["results"]] == ["第 1–3 行", "第 4–6 行", "第 7–8 行", "生成 Excel 文件"]

    finished = manager.page(f"/jobs/{job_id}")
    assert f'href="/jobs/{job_id}/download"' in finished and "已完成" in finished
    download = manager.client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in download.headers["Content-Disposition"]
    exported = _rows(download.data)
    expected = _rows(at_once.data)
    # the same header and rows as the synchronous file (the title line differs only in the time)
    assert exported[1:] == expected[1:] and len(exported) == case_export.FIRST_ROW - 1 + 8
    assert exported[0][0].split("导出")[1] == expected[0][0].split("导出")[1]


def test_only_the_creator_and_administrators_follow_an_export(ctx, cases, monkeypatch):
    monkeypatch.setitem(ctx.config, "EXPORT_SYNC_ROWS", 5)
    manager = Browser(ctx, "manager")
    job_id = _job_id(manager.client.get(EXPORT))
    for _ in range(4):
        manager.client.get(f"/jobs/{job_id}.json")
    urls = (f"/jobs/{job_id}", f"/jobs/{job_id}.json", f"/jobs/{job_id}/download")
    for username in ("city_hr", "owner", "teacher1"):
        other = Browser(ctx, username)
        for url in urls:
            refused = other.client.get(url)
            assert refused.status_code == 403, (username, url)
            assert "您无权查看该后台作业" in refused.get_data(as_text=True)
    admin = Browser(ctx, "admin")
    assert admin.client.get(f"/jobs/{job_id}/download").status_code == 200
    assert manager.client.get("/jobs/424242").status_code == 404
    assert manager.client.get("/jobs/424242/download").status_code == 404
    assert ctx.test_client().get(f"/jobs/{job_id}").status_code in (302, 401)  # not logged in


def test_a_plan_import_runs_as_a_job_and_links_to_the_plan(ctx, monkeypatch):
    monkeypatch.setattr(plan_import, "CHUNK_ROWS", 25)
    content = (plans.DATA / "2021-city.csv").read_bytes()
    browser = Browser(ctx, "liandu_hr")
    response = browser.client.post("/plans/import", data={
        "csrf_token": csrf_from(browser.page("/plans/import")), "year": "2021", "doc_no": "莲人社〔2021〕3号",
        "file": (io.BytesIO(content), "附件1.csv")}, content_type="multipart/form-data")
    job_id = _job_id(response)
    page = browser.page(f"/jobs/{job_id}")
    assert "计划导入" in page and "计划表校验通过（62 行）" in page
    db.session.rollback()
    assert db.session.get(BackgroundJob, job_id).total == 3
    progress = [browser.client.get(f"/jobs/{job_id}.json").get_json() for _ in range(3)]
    assert [p["done"] for p in progress] == [1, 2, 3] and progress[-1]["finished"]
    db.session.rollback()
    liandu = db.session.scalar(select(Organisation).where(Organisation.name == "莲都区人力资源和社会保障局"))
    plan = db.session.scalar(select(AnnualPlan).where(AnnualPlan.year == 2021, AnnualPlan.issuer_org_id == liandu.id))
    assert progress[-1]["outcome_url"] == f"/plans/{plan.id}"
    assert f'href="/plans/{plan.id}"' in browser.page(f"/jobs/{job_id}")
    assert plan.status == "draft" and plan.doc_no == "莲人社〔2021〕3号"
    assert plans.rows_of(plan) == read_table("附件1.csv", content, 2021)  # the table, row for row
    assert Browser(ctx, "city_hr").client.get(f"/jobs/{job_id}").status_code == 403


def test_a_bad_plan_table_is_refused_on_the_form_without_a_job(ctx):
    browser = Browser(ctx, "city_hr")
    bad = (HEADER + "city_committee,1,,工程师,,2023-07,2023-05,x,abc,\n").encode()
    response = browser.client.post("/plans/import", data={
        "csrf_token": csrf_from(browser.page("/plans/import")), "year": "2023",
        "file": (io.BytesIO(bad), "附件1.csv")}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "未导入任何内容" in html
    assert re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>", html) == [
        ("2", "评委会名称（评审项目）", "此项为必填项"), ("2", "完成时间", "完成时间 2023-05 早于启动时间 2023-07"),
        ("2", "电话", "“abc”不是电话号码（7–8 位本地号码，或带区号）")]
    db.session.rollback()
    assert db.session.scalar(select(BackgroundJob.id)) is None
