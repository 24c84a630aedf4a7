"""The title review through the staff pages: every task page renders its panel, the vote table is
submitted as a page form (real CSRF), and the case pages show what each party may see."""

from __future__ import annotations

import re

from page_client import Browser
from title_flow import LIANDU_TEACHERS, P01, P01_HOURS, hours

TEACHER = P01


def task_page(browser: Browser, flow, username: str, cid: int, name: str) -> tuple[int, str]:
    task = flow.task(username, cid, name)
    return task["id"], browser.page(f"/tasks/{task['id']}")


def test_task_pages_show_their_panels_and_the_vote_table_submits(flow):
    app = flow.client.application
    hours("teacher1", P01_HOURS)
    flow.at("2022-07-11")
    start = Browser(app, "teacher1").page("/start/title_application")
    assert "申报评委会" in start and LIANDU_TEACHERS in start and 'datalist id="suggest-specialty"' in start
    cid = flow.apply("teacher1", **TEACHER)["id"]

    school = Browser(app, "school_hr")
    _, html = task_page(school, flow, "school_hr", cid, "单位审核")
    assert 'id="panel-applicant_profile"' in html and "已审核" in html and "id=\"ce-years\"" in html
    flow.do("school_hr", cid, "单位审核", {"decision": "approve", "opinion": "单位同意"})
    flow.do("school_hr", cid, "单位内公示", {"notice_start": "2022-07-12", "notice_place": "学校公告栏"})
    flow.at("2022-07-19")
    flow.timers()
    flow.do("school_hr", cid, "公示结果及推荐意见", {"notice_result": "no_objection", "decision": "approve",
                                                 "opinion": "同意报送"})
    _, html = task_page(Browser(app, "liandu_edu"), flow, "liandu_edu", cid, "主管部门审核")
    # a review opens blank: never with the previous reviewer's decision or opinion
    assert re.search(r'<input[^>]*checked[^>]*name="decision"', html) is None
    assert "同意报送</textarea>" not in html
    flow.do("liandu_edu", cid, "主管部门审核", {"decision": "approve"})
    flow.at("2022-08-15")
    _, html = task_page(Browser(app, "edu_office"), flow, "edu_office", cid, "受理及资格审查")
    assert 'id="eligibility"' in html and "全部规则通过" in html and "山区26县单列（DT-04）" in html
    flow.do("edu_office", cid, "受理及资格审查", {"decision": "approve"})

    flow.at("2022-08-22")
    sid = flow.start_session("edu_office", "2022-09-20")["id"]
    office = Browser(app, "edu_office")
    _, html = task_page(office, flow, "edu_office", sid, "发布评前公示")
    assert 'id="candidates"' in html and "周晓岚" in html
    flow.to_meeting("edu_office", sid, pre_notice="2022-08-29", report="2022-09-08", meeting="2022-09-20",
                    opinion_by="liandu_hr", opinion_on="2022-09-14", filing_by="city_hr")
    task_id, html = task_page(office, flow, "edu_office", sid, "录入评审会议表决结果")
    assert 'id="votes-single"' in html and f'name="yes_{cid}"' in html
    bad = office.submit(f"/tasks/{task_id}", {"members": "15", "attending": "13", "on_platform": "yes",
                                              f"yes_{cid}": "14"})
    assert bad.status_code == 422 and "同意票数应为 0 到 13" in bad.get_data(as_text=True)
    assert f'name="yes_{cid}" value="14"' in bad.get_data(as_text=True)  # what was typed is kept
    done = office.submit(f"/tasks/{task_id}", {"members": "15", "attending": "13", "on_platform": "yes",
                                               f"yes_{cid}": "11", f"score_{cid}": "86.5"})
    assert done.status_code == 302, done.get_data(as_text=True)[:3000]
    assert flow.instance(sid)["data"]["passed_vote"] == 1

    flow.post_notice("edu_office", sid, "2022-09-22")
    flow.at("2022-09-29")
    flow.timers()
    _, html = task_page(office, flow, "edu_office", sid, "报送公布申请")
    assert 'id="generated-documents"' in html and "附件4-2" in html and "附件4-3 评审通过人员名单.xlsx" in html
    flow.do("edu_office", sid, "报送公布申请", {"decision": "approve"})
    flow.do("liandu_hr", sid, "审核并发文公布", {"decision": "approve"})

    session_page = office.page(f"/instances/{sid}")
    assert 'id="session-entries"' in session_page and "周晓岚" in session_page and "评后公示" in session_page
    case_page = Browser(app, "teacher1").page(f"/instances/{cid}")
    assert 'id="session-documents"' in case_page and "关于公布评审通过人员名单的通知" in case_page
    assert "评审通过（已公布）" in case_page and "LSPS2022" in case_page
    doc_id = re.search(r'/documents/([0-9a-f-]{36})">关于公布', case_page).group(1)
    teacher = Browser(app, "teacher1")
    response = teacher.client.get(f"/documents/{doc_id}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert Browser(app, "liandu_co_hr").client.get(f"/documents/{doc_id}").status_code == 403
    assert Browser(app, "school_hr").client.get(f"/instances/{sid}").status_code == 403
