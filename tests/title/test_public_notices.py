"""The public 公示 pages and the objection form (no login), on a real case of P01 周晓岚 at the 评前公示."""

from __future__ import annotations

import io
import re
from datetime import date

from page_client import Browser, csrf_from
from sqlalchemy import delete, func, select
from title_flow import LIANDU_HR

from app.extensions import db
from app.models import Document, Event, MessageSubscription, Objection, PublicNotice
from app.services import notices

D12_PRE = ["序号", "姓名", "工作单位", "现从事专业", "申报资格名称", "级别", "申报方式", "最高学历"]
RULES = "请实名反映问题，提供联系方式和证明材料；反映的问题将依规调查核实；个人信息予以保密"
INVESTIGATE = "调查核实并处理"


def to_pre_notice(flow) -> tuple[int, int, int]:
    """P01 up to the 评前公示 published on 2022-08-29 (open until 2022-09-02): (case, session, notice)."""
    cid = flow.p01_accepted()
    flow.at("2022-08-22")
    sid = flow.start_session("edu_office", "2022-09-20")["id"]
    flow.at("2022-08-29")
    flow.do("edu_office", sid, "发布评前公示", {"notice_start": "2022-08-29"})
    assert flow.instance(sid)["data"]["pre_notice_end"] == "2022-09-02"
    db.session.rollback()  # the requests committed in their own sessions
    notice = db.session.scalar(select(PublicNotice).where(PublicNotice.session_instance_id == sid))
    assert notice.kind == "pre_review" and notice.ends_on == date(2022, 9, 2)
    return cid, sid, notice.id


def counts() -> tuple[int, int]:
    db.session.rollback()
    return (db.session.scalar(select(func.count(Objection.id))),
            db.session.scalar(select(func.count(Document.id)).where(Document.kind == "objection_evidence")))


def entry_value(html: str) -> str:
    match = re.search(r'<option value="(\d+)">1\. 周晓岚', html)
    assert match, "the objection form offers no 周晓岚"
    return match.group(1)


def valid(html: str, **changes) -> dict:
    data = {"csrf_token": csrf_from(html), "entry": entry_value(html), "objector_name": "张明",
            "objector_contact": "13905781234", "content": "反映该申报人的论文存在一稿多投的问题，请核实。"}
    data.update(changes)
    return data


def post(client, notice_id: int, data: dict, addr: str = "127.0.0.1"):
    return client.post(f"/notices/{notice_id}/objections", data=data, content_type="multipart/form-data",
                       environ_base={"REMOTE_ADDR": addr})


def test_notice_shows_d12_columns_only_and_objections_reach_the_case(flow, world):
    cid, sid, notice_id = to_pre_notice(flow)
    public = world.test_client()

    listing = public.get("/notices").get_data(as_text=True)
    assert f'href="/notices/{notice_id}"' in listing and "评前公示" in listing and "公示中" in listing
    assert "2022-08-29 至 2022-09-02" in listing and RULES in listing

    page = public.get(f"/notices/{notice_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("周晓岚", "丽水市莲都区示范中学", "一级教师", RULES, *D12_PRE):
        assert text in html
    headers = re.findall(r"<th>([^<]+)</th>", html.split('id="notice-table"')[1].split("</thead>")[0])
    assert headers == D12_PRE
    for secret in ("33250119900101123X", "0578-2123456", "身份证", "评审通过资格名称"):
        assert secret not in html
    assert 'id="objection-form"' in html

    first = post(public, notice_id, valid(html))
    assert first.status_code == 302, first.get_data(as_text=True)[:3000]
    receipt = public.get(first.headers["Location"]).get_data(as_text=True)
    assert "回执编号" in receipt and re.search(r"YY20220829\d{6}", receipt)
    assert "评委会办公室将依规调查核实" in receipt and "2022-09-13" in receipt
    assert "一稿多投" not in receipt and "13905781234" not in receipt
    # A receipt is shown to the browser that filed it, not to whoever guesses the number.
    assert world.test_client().get(first.headers["Location"]).status_code == 404

    second = post(public, notice_id, valid(html, objector_name="李华", objector_contact="lihua@example.com",
                                           content="该申报人任现职以来的业绩材料与实际不符，请调查。",
                                           evidence=[(io.BytesIO(b"%PDF-1.4 test"), "证明材料.pdf")]))
    assert second.status_code == 302, second.get_data(as_text=True)[:3000]

    db.session.rollback()
    objections = db.session.scalars(select(Objection).order_by(Objection.id)).all()
    assert len(objections) == 2
    for o in objections:
        assert o.status == "open" and o.application_instance_id == cid and o.session_instance_id == sid
        assert o.due_on == date(2022, 9, 13)  # 10 working days after 2022-08-29 (中秋 2022-09-12 off)
        assert o.report_to == LIANDU_HR
    assert objections[0].evidence == []
    [doc] = db.session.scalars(select(Document).where(Document.id.in_(objections[1].evidence))).all()
    assert doc.kind == "objection_evidence" and doc.audience == "officials" and doc.instance_id == cid
    audit = db.session.scalars(select(Event).where(Event.type == "objection_received")).all()
    assert len(audit) == 2 and all("13905781234" not in str(e.details) and "content" not in e.details for e in audit)

    investigations = [t for t in flow.api("edu_office").tasks(instance_id=cid) if t["name"] == INVESTIGATE]
    assert len(investigations) == 2

    task = investigations[0]
    if task["assignee"] is None:
        assert flow.api("edu_office").post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    done = flow.api("edu_office").complete(task["id"], {"findings": "经核实，反映问题不属实", "conclusion": "unfounded"})
    assert done.status_code == 200, done.get_json()
    db.session.rollback()
    assert sorted(o.status for o in db.session.scalars(select(Objection))) == ["concluded", "open"]
    assert flow.instance(cid)["status"] == "running"  # the other objection is still being investigated

    reports = Browser(world, "liandu_hr").page("/objection-reports")
    assert reports.count("data-objection-id=") == 2
    assert "周晓岚" in reports and "不属实" in reports and "已处理" in reports and "待处理" in reports
    assert f'href="/instances/{cid}"' in reports and "2022-09-13" in reports
    assert "异议报告" in reports and 'href="/notices"' in reports  # the navigation
    Browser(world, "liandu_co_hr").page("/objection-reports", status=403)


def test_bad_input_no_csrf_and_rate_limit_store_nothing(flow, world):
    _cid, _sid, notice_id = to_pre_notice(flow)
    public = world.test_client()
    html = public.get(f"/notices/{notice_id}").get_data(as_text=True)

    bad = post(public, notice_id, valid(html, content="", objector_contact="打电话给我",
                                        evidence=[(io.BytesIO(b"MZ\x90\x00"), "setup.exe")]))
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "请填写反映的问题" in page and "联系方式应为电话号码" in page and "setup.exe：只接受 PDF、PNG、JPG 文件" in page
    assert 'value="张明"' in page and 'value="打电话给我"' in page  # typed values kept
    assert "请重新选择文件" in page and 'id="objection-form"' in page
    assert counts() == (0, 0)

    # A good file stored before a refused one is removed again with it.
    mixed = post(public, notice_id, valid(html, evidence=[(io.BytesIO(b"%PDF-1.4 test"), "a.pdf"),
                                                         (io.BytesIO(b"not a pdf"), "b.pdf")]))
    assert mixed.status_code == 422
    assert "b.pdf：文件不是有效的 PDF 文件" in mixed.get_data(as_text=True)
    assert "一稿多投" in mixed.get_data(as_text=True)  # the textarea keeps the content
    assert counts() == (0, 0)

    no_token = {k: v for k, v in valid(html).items() if k != "csrf_token"}
    refused = post(public, notice_id, no_token)
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    assert counts() == (0, 0)

    world.config["OBJECTION_RATE_LIMIT"] = "2 per hour"
    try:
        for _ in range(2):
            assert post(public, notice_id, valid(html, content="太短"), addr="10.0.0.7").status_code == 422
        limited = post(public, notice_id, valid(html), addr="10.0.0.7")
        assert limited.status_code == 429 and "请求过于频繁" in limited.get_data(as_text=True)
    finally:
        world.config["OBJECTION_RATE_LIMIT"] = "5 per hour"
    assert counts() == (0, 0)


def test_after_the_period_the_form_is_gone_and_objections_are_refused(flow, world):
    _cid, _sid, notice_id = to_pre_notice(flow)
    public = world.test_client()
    html = public.get(f"/notices/{notice_id}").get_data(as_text=True)

    flow.at("2022-09-05")
    page = public.get(f"/notices/{notice_id}").get_data(as_text=True)
    assert 'id="objection-form"' not in page and "公示期已结束" in page and "周晓岚" in page
    listing = public.get("/notices").get_data(as_text=True)
    assert f'href="/notices/{notice_id}"' in listing and "已结束" in listing

    late = post(public, notice_id, valid(html, evidence=[(io.BytesIO(b"%PDF-1.4 test"), "a.pdf")]))
    assert late.status_code in (409, 422)
    assert "公示期已结束（2022-08-29至2022-09-02），不再受理异议" in late.get_data(as_text=True)
    assert counts() == (0, 0)


def test_an_objection_the_case_cannot_take_stays_open_and_is_recorded(flow):
    cid, _sid, notice_id = to_pre_notice(flow)
    # No API ends a running case; remove its message subscriptions as a finished case has none.
    db.session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == cid))
    db.session.commit()
    notice = notices.get_notice(notice_id)
    [row] = notices.rows(notice)
    assert set(row) == {*D12_PRE, "entry_id"}
    objection = notices.submit_objection(notice_id, row["entry_id"], "张明", "0578 2123 456",
                                         "反映该申报人的论文存在一稿多投的问题，请核实。", [])
    db.session.rollback()
    kept = db.session.get(Objection, objection.id)
    assert kept.status == "open" and kept.objector_contact == "0578 2123 456"
    types = db.session.scalars(select(Event.type).where(Event.instance_id == cid).order_by(Event.id)).all()
    assert types[-2:] == ["objection_received", "objection_undelivered"]
    assert "message_delivered" not in types[-3:]
    assert notices.columns(PublicNotice(kind="post_review"))[4] == "评审通过资格名称"


def test_the_applicant_never_sees_an_objection_or_its_evidence(flow):
    """The complaint, the objector and the evidence are for the committee office and the HR bureaus."""
    cid, _, notice_id = to_pre_notice(flow)
    flow.at("2022-08-30T10:00:00+08:00")
    notice = notices.get_notice(notice_id)
    evidence = [("证明.pdf", io.BytesIO(b"%PDF-1.4 evidence"))]
    notices.submit_objection(notice.id, notice.entry_ids[0], "钱某某", "13900000001", "反映其论文系他人代写，请核查。",
                             evidence)
    task = flow.task("edu_office", cid, INVESTIGATE)
    office = Browser(flow.client.application, "edu_office").page(f"/tasks/{task['id']}")
    assert "钱某某" in office and "他人代写" in office and "证明.pdf" in office
    applicant = Browser(flow.client.application, "teacher1")
    for url in (f"/tasks/{task['id']}", f"/instances/{cid}"):
        html = applicant.page(url)
        assert "钱某某" not in html and "13900000001" not in html and "他人代写" not in html and "证明.pdf" not in html
