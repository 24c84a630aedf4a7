"""The performance archive through the HTML pages: the applicant keeps it, their own unit audits it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from api_client import Api
from page_client import Browser
from sqlalchemy import func, select

from app.extensions import db
from app.models import Achievement, Document, User

PDF = b"%PDF-1.4 test"
PAPER = {"kind": "论文", "title": "初中物理探究式教学的实践研究", "achieved_on": "2023-05-20",
         "description": "《丽水教育》2023 年第 5 期"}


@pytest.fixture()
def today(ctx):
    """The app clock as every request sees it (requests re-read the persisted override)."""
    assert Api(ctx.test_client(), "admin").put("/api/v1/clock", json={"now": "2024-03-01T10:00:00+08:00"}).status_code == 200


def user_id(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def add_paper(browser: Browser, **extra):
    return browser.submit("/archive/achievements", {**PAPER, **extra}, token_from="/archive",
                          content_type="multipart/form-data")


def test_archive_from_entry_to_audit(ctx, today):
    teacher = Browser(ctx, "teacher1")
    page = teacher.page("/archive")
    assert "我的业绩档案" in page and "未提交" in page and 'href="/archive"' in page
    added = add_paper(teacher, attachments=[(io.BytesIO(PDF), "论文.pdf")])
    assert added.status_code == 302, added.get_data(as_text=True)[:3000]
    page = teacher.page("/archive")
    assert PAPER["title"] in page and "论文.pdf" in page
    assert teacher.submit("/archive/submit", token_from="/archive").status_code == 302
    assert "待审核" in teacher.page("/archive")

    school = Browser(ctx, "school_hr")
    assert "档案审核" in school.page("/inbox")
    listing = school.page("/archive/audits")
    pending = listing.partition('id="pending-audits"')[2].partition("</table>")[0]
    assert 'data-user="teacher1"' in pending
    audit_url = f"/archive/audits/{user_id('teacher1')}"
    audit_page = school.page(audit_url)
    assert PAPER["title"] in audit_page and "论文.pdf" in audit_page
    doc_id = re.search(r'href="/documents/([^"]+)"', audit_page).group(1)
    download = school.client.get(f"/documents/{doc_id}")
    assert download.status_code == 200 and download.data == PDF
    approved = school.submit(audit_url, {"decision": "approve", "opinion": ""})
    assert approved.status_code == 302 and approved.headers["Location"].endswith("/archive/audits")
    assert "暂无待审核的档案" in school.page("/archive/audits")

    page = teacher.page("/archive")
    assert "已审核" in page and "示范中学人事 冯丽" in page

    outsider = Browser(ctx, "liandu_co_hr")
    assert outsider.client.get(audit_url).status_code == 403
    refused = outsider.client.post(audit_url, data={
        "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', outsider.page("/archive/audits")).group(1),
        "decision": "approve"})
    assert refused.status_code == 403 and "本单位" in refused.get_data(as_text=True)
    assert "teacher1" not in outsider.page("/archive/audits")
    assert outsider.client.get(f"/documents/{doc_id}").status_code == 403


def test_return_with_opinion_and_change_after_audit(ctx, today):
    teacher, school = Browser(ctx, "teacher1"), Browser(ctx, "school_hr")
    assert add_paper(teacher).status_code == 302
    teacher.submit("/archive/submit", token_from="/archive")
    audit_url = f"/archive/audits/{user_id('teacher1')}"
    missing = school.submit(audit_url, {"decision": "return", "opinion": ""})
    assert missing.status_code == 422 and "退回修改时须填写审核意见" in missing.get_data(as_text=True)
    assert school.submit(audit_url, {"decision": "return", "opinion": "请补充刊物目录页"}).status_code == 302
    page = teacher.page("/archive")
    assert "已退回" in page and "请补充刊物目录页" in page

    teacher.submit("/archive/submit", token_from="/archive")
    school.submit(audit_url, {"decision": "approve"})
    assert "已审核" in teacher.page("/archive")
    item_id = db.session.scalar(select(Achievement.id))
    edit_url = f"/archive/achievements/{item_id}/edit"
    assert "须重新提交" in teacher.page(edit_url)
    saved = teacher.submit(edit_url, {**PAPER, "title": "初中物理探究式教学研究"}, content_type="multipart/form-data")
    assert saved.status_code == 302
    page = teacher.page("/archive")
    assert "初中物理探究式教学研究" in page and "未提交" in page and "须重新提交单位审核" in page


def test_bad_form_rerenders_with_chinese_errors_and_typed_values(ctx, today, app):
    teacher = Browser(ctx, "teacher1")
    before = {p for p in Path(app.config["DOCUMENT_DIR"]).rglob("*") if p.is_file()}
    response = add_paper(teacher, title="", achieved_on="2024-03-02", description="我输入的说明文字",
                         attachments=[(io.BytesIO(PDF), "证明.pdf")])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写业绩名称" in html and "取得时间不能晚于今天" in html
    assert 'value="2024-03-02"' in html and "我输入的说明文字" in html
    assert '<option selected value="论文">' in html or 'value="论文" selected' in html
    assert "附件请重新选择上传" in html
    assert db.session.scalar(select(func.count()).select_from(Achievement)) == 0
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0  # the upload was discarded
    assert {p for p in Path(app.config["DOCUMENT_DIR"]).rglob("*") if p.is_file()} == before

    wrong_type = add_paper(teacher, attachments=[(io.BytesIO(b"MZ"), "tool.exe")])
    assert wrong_type.status_code == 422
    assert "只接受 PDF、PNG、JPG 文件" in wrong_type.get_data(as_text=True)

    empty = teacher.submit("/archive/submit", token_from="/archive")
    assert empty.status_code == 302
    assert "至少应有一项业绩" in teacher.page("/archive")


def test_posts_without_csrf_are_refused(ctx, today):
    teacher = Browser(ctx, "teacher1")
    response = teacher.client.post("/archive/achievements", data=PAPER)
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert teacher.client.post("/archive/submit").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Achievement)) == 0


def test_others_achievements_cannot_be_edited(ctx, today):
    teacher = Browser(ctx, "teacher1")
    add_paper(teacher)
    item_id = db.session.scalar(select(Achievement.id))
    other = Browser(ctx, "grad_city")
    assert other.client.get(f"/archive/achievements/{item_id}/edit").status_code == 403
    deleted = other.submit(f"/archive/achievements/{item_id}/delete", token_from="/archive")
    assert deleted.status_code == 403 and "本人" in deleted.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Achievement)) == 1
    assert other.client.get("/archive/audits").status_code == 403


def test_navigation_by_role(ctx):
    assert "业绩档案" in Browser(ctx, "teacher1").page("/inbox")
    school = Browser(ctx, "school_hr").page("/inbox")
    assert "档案审核" in school and "学时登记" not in school and "业绩档案" not in school
    assert "学时登记" in Browser(ctx, "liandu_hr").page("/inbox")
