"""The graduate procedure through the HTML pages, as the demo users, with real CSRF tokens."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from api_client import Api
from page_client import Browser
from sqlalchemy import func, select

from app.extensions import db
from app.models import Document

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
APPLICATION = {
    "education": "本科",
    "graduation_date": "2021-06-30",
    "work_start_date": "2021-07-01",
    "months_pre_degree": "0",
    "specialty": "农学",
    "requested_level": "助理级",
}
INSTANCE_URL = re.compile(r"/instances/(\d+)$")


def files_in(folder: str) -> set[Path]:
    return {p for p in Path(folder).rglob("*") if p.is_file()}


@pytest.fixture()
def admin(ctx):
    return Api(ctx.test_client(), "admin")


def set_clock(admin: Api, value: str) -> None:
    assert admin.put("/api/v1/clock", json={"now": value}).status_code == 200


def test_city_graduate_through_the_pages(ctx, admin):
    set_clock(admin, "2022-07-15T09:00:00+08:00")
    grad = Browser(ctx, "grad_city")
    assert "待办" in grad.page("/inbox")
    assert "大中专毕业生初定" in grad.page("/start")
    form = grad.page("/start/graduate_initial_determination")
    assert "学历（学位）" in form and 'enctype="multipart/form-data"' in form

    response = grad.submit("/start/graduate_initial_determination", {
        **APPLICATION, "attachments": [(io.BytesIO(PDF), "学位证书.pdf")]}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    instance_id = int(INSTANCE_URL.search(response.headers["Location"]).group(1))
    page = grad.page(f"/instances/{instance_id}")
    assert "用人单位考核" in page and "学位证书.pdf" in page

    employer = Browser(ctx, "institute_hr")
    inbox = employer.inbox()
    assert inbox["mine"] == []
    [(name, task_id)] = inbox["group"]
    assert name == "用人单位考核"
    claimed = employer.submit(f"/tasks/{task_id}/claim", token_from="/inbox")
    assert claimed.status_code == 302
    assert employer.inbox() == {"mine": [("用人单位考核", task_id)], "group": []}
    task_page = employer.page(f"/tasks/{task_id}")
    assert "农学" in task_page and "学位证书.pdf" in task_page
    doc_id = re.search(r'href="/documents/([^"]+)"', task_page).group(1)
    download = employer.client.get(f"/documents/{doc_id}")
    assert download.status_code == 200 and download.data == PDF
    done = employer.submit(f"/tasks/{task_id}", {"decision": "approve"})
    assert done.status_code == 302
    assert employer.inbox() == {"mine": [], "group": []}
    assert "等待" in grad.page(f"/instances/{instance_id}")

    city = Browser(ctx, "city_hr")
    assert city.inbox()["group"] == []
    set_clock(admin, "2022-08-10T00:00:00+08:00")
    assert admin.post("/api/v1/timers/run").get_json() == {"fired": 1}
    [(name, review_id)] = city.inbox()["group"]
    assert name == "初定审核"
    review = city.page(f"/tasks/{review_id}")
    assert "助理级" in review and "本科" in review  # the rule's result and its reason
    refused = city.submit(f"/tasks/{review_id}", {"decision": "approve", "approved_level": "中级"})
    assert refused.status_code == 422
    assert "请选择有效的选项" in refused.get_data(as_text=True)
    done = city.submit(f"/tasks/{review_id}", {"decision": "approve", "approved_level": "助理级"})
    assert done.status_code == 302

    final = grad.page(f"/instances/{instance_id}")
    number = re.search(r"(LSCD2022\d+)", final).group(1)
    for step in ("用人单位考核", "初定审核", "已办结"):
        assert step in final
    verify = ctx.test_client().get("/certificates/verify", query_string={"number": number})
    assert "证书有效" in verify.get_data(as_text=True)
    listing = grad.page("/instances")
    assert f'href="/instances/{instance_id}"' in listing and "已办结" in listing


def test_liandu_graduate_reaches_the_district_bureau_through_the_pages(ctx, admin):
    set_clock(admin, "2022-07-15T09:00:00+08:00")
    grad = Browser(ctx, "grad_liandu")
    response = grad.submit("/start/graduate_initial_determination", {
        **APPLICATION, "education": "大专", "graduation_date": "2019-06-30", "work_start_date": "2019-07-01",
        "specialty": "机械设计"})
    assert response.status_code == 302
    employer = Browser(ctx, "liandu_co_hr")
    [(_, task_id)] = employer.inbox()["group"]
    assert employer.submit(f"/tasks/{task_id}", {"decision": "approve"}).status_code == 302
    set_clock(admin, "2022-08-10T08:00:00+08:00")
    admin.post("/api/v1/timers/run")
    assert Browser(ctx, "city_hr").inbox()["group"] == []
    district = Browser(ctx, "liandu_hr")
    [(name, review_id)] = district.inbox()["group"]
    assert name == "初定审核"
    done = district.submit(f"/tasks/{review_id}", {"decision": "approve", "approved_level": "助理级"})
    assert done.status_code == 302
    assert re.search(r"LSCD2022\d+", grad.page(done.headers["Location"]))


def test_a_form_without_csrf_is_refused_and_nothing_is_started(ctx, admin):
    set_clock(admin, "2022-07-15T09:00:00+08:00")
    grad = Browser(ctx, "grad_city")
    response = grad.client.post("/start/graduate_initial_determination", data=APPLICATION)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert Api(ctx.test_client(), "grad_city").get("/api/v1/process-instances").get_json()["total"] == 0


def test_a_bad_form_re_renders_with_field_errors_and_keeps_the_input(ctx, admin):
    set_clock(admin, "2022-07-15T09:00:00+08:00")
    grad = Browser(ctx, "grad_city")
    response = grad.submit("/start/graduate_initial_determination", {
        **APPLICATION, "graduation_date": "2030-01-01", "specialty": "农",
        "attachments": [(io.BytesIO(b"MZ\x90\x00 not a pdf"), "setup.exe")]}, content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "日期不能晚于今天" in html
    assert 'value="农"' in html  # the user's input is kept
    assert Api(ctx.test_client(), "grad_city").get("/api/v1/process-instances").get_json()["total"] == 0

    stored = files_in(ctx.config["DOCUMENT_DIR"])
    response = grad.submit("/start/graduate_initial_determination", {
        **APPLICATION, "attachments": [(io.BytesIO(PDF), "学位证书.pdf"),
                                       (io.BytesIO(b"MZ\x90\x00 not a pdf"), "setup.exe")]},
        content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "setup.exe：只接受 PDF、PNG、JPG 文件" in html and "附件请重新选择上传" in html
    # the good file of the failed form is not left behind
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    assert files_in(ctx.config["DOCUMENT_DIR"]) == stored


def test_pages_of_another_organisation_are_refused(ctx, admin):
    set_clock(admin, "2022-07-15T09:00:00+08:00")
    grad = Browser(ctx, "grad_city")
    response = grad.submit("/start/graduate_initial_determination", APPLICATION)
    instance_id = int(INSTANCE_URL.search(response.headers["Location"]).group(1))
    [(_, task_id)] = Browser(ctx, "institute_hr").inbox()["group"]
    other = Browser(ctx, "liandu_co_hr")
    assert other.inbox() == {"mine": [], "group": []}
    other.page(f"/instances/{instance_id}", status=403)
    other.page(f"/tasks/{task_id}", status=403)
    assert other.submit(f"/tasks/{task_id}/claim", token_from="/inbox").status_code == 403
    Browser(ctx, "grad_liandu").page(f"/instances/{instance_id}", status=403)


def test_login_is_chinese_and_logout_ends_the_session(ctx):
    client = ctx.test_client()
    response = client.get("/inbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "登录" in page
    bad = client.post("/login", data={"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1),
                                      "username": "grad_city", "password": "wrong"})
    assert bad.status_code == 401 and "用户名或密码" in bad.get_data(as_text=True)
    grad = Browser(ctx, "grad_city")
    assert grad.submit("/logout", token_from="/inbox").status_code == 302
    assert grad.client.get("/inbox").status_code == 302
