"""评审权管理 through the HTML pages: the overview, a committee's history and decision form, its documents."""

from __future__ import annotations

import io
import re

import pytest
from api_client import Api
from committee_names import LIANDU_TEACHERS
from page_client import Browser
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuthorityDecision, Committee, Document
from app.services import committees

PDF = b"%PDF-1.4 decision"


@pytest.fixture()
def today(ctx):
    """The app clock as every request sees it (requests re-read the persisted override)."""
    assert Api(ctx.test_client(), "admin").put("/api/v1/clock", json={"now": "2023-04-25T10:00:00+08:00"}).status_code == 200


@pytest.fixture()
def url(ctx) -> str:
    return f"/authority/{committees.committee_named(LIANDU_TEACHERS).id}"


def decide(browser: Browser, url: str, decision: str, reason: str, on: str, files=None):
    data = {"decision": decision, "reason": reason, "decided_on": on}
    if files is not None:
        data["documents"] = files
    return browser.submit(url, data, content_type="multipart/form-data")


def radios(html: str) -> list[str]:
    return re.findall(r'name="decision" type="radio" value="([a-z]+)"', html)


def state() -> str:
    db.session.rollback()  # end this test's read transaction: see what the requests committed
    return db.session.scalar(select(Committee.authority_state).where(Committee.id == committees.committee_named(
        LIANDU_TEACHERS).id))


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_warn_suspend_restore_through_the_pages(ctx, today, url):
    liandu = Browser(ctx, "liandu_hr")
    assert "评审权管理" in liandu.page("/inbox")
    listing = liandu.page("/authority")
    row = listing.partition(f'data-committee-id="{url.rsplit("/", 1)[1]}"')[2].partition("</tr>")[0]
    assert LIANDU_TEACHERS in listing and "正常" in row and "告诫、责令整改、暂停评审权、取消评审权" in row
    assert "丽水市汽车零部件" not in listing  # a 市本级 committee: the city bureau supervises it

    page = liandu.page(url)
    assert "尚无评审权决定" in page and radios(page) == ["warn", "rectify", "suspend", "revoke"]
    warned = decide(liandu, url, "warn", "未严格按照公布的评审方案组织评审", "2023-04-10",
                    [(io.BytesIO(PDF), "告诫决定书.pdf")])
    assert warned.status_code == 302 and warned.headers["Location"].endswith(url)
    page = liandu.page(url)
    assert "莲人社〔2023〕1号" in page and "告诫决定书.pdf" in page and "告诫、责令整改中" in page
    assert "已对莲都区中小学教师中评委作出“告诫”决定（莲人社〔2023〕1号）" in page
    doc_url = re.search(r'href="(/authority/documents/[^"]+)"', page).group(1)
    for viewer in ("liandu_hr", "city_hr", "manager"):
        download = (liandu if viewer == "liandu_hr" else Browser(ctx, viewer)).client.get(doc_url)
        assert download.status_code == 200 and download.data == PDF, viewer
    assert Browser(ctx, "longquan_hr").client.get(doc_url).status_code == 403

    assert decide(liandu, url, "suspend", "整改后仍未见明显成效", "2023-04-20").status_code == 302
    page = liandu.page(url)
    assert ("该评委会已于2023年4月20日被暂停评审权（莲人社〔2023〕2号）：整改后仍未见明显成效，"
            "暂停期间不能组织评审或受理申报") in page
    assert radios(page) == ["revoke", "restore"] and "恢复（解除暂停）" in page

    again = decide(liandu, url, "suspend", "再次暂停", "2023-04-25")
    assert again.status_code == 422
    assert "不能作出“暂停评审权”决定" in again.get_data(as_text=True)

    assert decide(liandu, url, "restore", "整改到位，经复查符合规定", "2023-04-25").status_code == 302
    page = liandu.page(url)
    assert state() == "ACTIVE" and 'id="blocked-reason"' not in page
    history = page.partition('id="authority-decisions"')[2].partition("</table>")[0]
    assert [n for n in re.findall(r"莲人社〔2023〕\d+号", history)] == [
        "莲人社〔2023〕1号", "莲人社〔2023〕2号", "莲人社〔2023〕3号"]


def test_who_sees_the_pages(ctx, today, url):
    school = Browser(ctx, "school_hr")
    assert "评审权管理" not in school.page("/inbox")
    assert school.client.get("/authority").status_code == 403
    assert school.client.get(url).status_code == 403
    refused = school.submit(url, {"decision": "warn", "reason": "告诫理由", "decided_on": "2023-04-20"},
                            token_from="/inbox")
    assert refused.status_code == 403

    longquan = Browser(ctx, "longquan_hr")
    # its own county's committees (the plan's template rows), not the district's or the city's
    page = longquan.page("/authority")
    assert "龙泉市中小学教师中级专业技术职务任职资格评审委员会" in page and "莲都区中小学教师" not in page
    assert longquan.client.get(url).status_code == 403

    manager = Browser(ctx, "manager")
    assert LIANDU_TEACHERS in manager.page("/authority")
    page = manager.page(url)
    assert "评审权状态" in page and 'id="decision-form"' not in page
    assert manager.submit(url, {"decision": "warn", "reason": "告诫理由", "decided_on": "2023-04-20"}).status_code == 403

    city = Browser(ctx, "city_hr")
    assert "丽水市汽车零部件" in city.page("/authority")
    assert decide(city, url, "warn", "群众投诉较多，予以告诫", "2023-04-20").status_code == 302
    assert "丽人社〔2023〕" in city.page(url)
    assert count(AuthorityDecision) == 1


def test_bad_form_rerenders_with_errors_and_typed_values(ctx, today, url):
    liandu = Browser(ctx, "liandu_hr")
    response = decide(liandu, url, "suspend", "", "2023-04-20", [(io.BytesIO(PDF), "决定书.pdf")])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写决定理由" in html and "文件请重新选择上传" in html
    assert 'value="2023-04-20"' in html
    assert re.search(r'<input checked[^>]*value="suspend"', html)
    assert count(AuthorityDecision) == 0
    assert count(Document) == 0  # the upload was discarded

    late = decide(liandu, url, "warn", "我输入的决定理由", "2023-04-26")
    html = late.get_data(as_text=True)
    assert late.status_code == 422 and "决定日期不能晚于今天" in html and "我输入的决定理由" in html

    wrong_type = decide(liandu, url, "warn", "我输入的决定理由", "2023-04-20", [(io.BytesIO(b"MZ"), "tool.exe")])
    assert wrong_type.status_code == 422 and "只接受 PDF、PNG、JPG 文件" in wrong_type.get_data(as_text=True)

    no_token = liandu.client.post(url, data={"decision": "warn", "reason": "告诫理由", "decided_on": "2023-04-20"})
    assert no_token.status_code == 400 and "CSRF" in no_token.get_data(as_text=True)
    assert state() == "ACTIVE"


def test_revoke_is_final(ctx, today, url):
    liandu = Browser(ctx, "liandu_hr")
    assert decide(liandu, url, "revoke", "评审中存在严重违规行为", "2023-04-21").status_code == 302
    page = liandu.page(url)
    assert "已于2023年4月21日被取消评审权（莲人社〔2023〕1号）" in page and "不能再作出任何决定" in page
    assert radios(page) == []
    listing = liandu.page("/authority")
    assert "无（评审权已取消）" in listing
    restore = liandu.submit(url, {"decision": "restore", "reason": "申请恢复评审权", "decided_on": "2023-04-25"},
                            token_from="/authority")
    assert restore.status_code == 422
    assert "该评委会的评审权已被取消，不能再作出任何决定" in restore.get_data(as_text=True)
    assert state() == "REVOKED"
