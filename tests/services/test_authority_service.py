"""评审权管理 through the service: who decides, the state machine on a real committee row, the numbers,
the audit trail and the sentence the session and routing code shows for a blocked committee."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from committee_names import AUTO, LIANDU_TEACHERS
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import AuthorityDecision, Committee, Event
from app.services import authority, committees, documents
from app.services.errors import FormInvalid, NotAllowed, NotFound

PDF = b"%PDF-1.4 decision"
HOSPITAL = "丽水市莲都区人民医院卫生技术人员自主评聘委员会"  # its self-managed committee (自主评聘委员会)
WARN_REASON = "2022年度评审中未严格按照公布的评审方案组织评审，群众投诉较多"
SUSPEND_REASON = "整改后仍未见明显成效"
RESTORE_REASON = "整改到位，经复查符合规定"


@pytest.fixture()
def today(ctx):
    clock.set_override(datetime.fromisoformat("2023-04-25T10:00:00+08:00"))


@pytest.fixture()
def teachers(ctx) -> Committee:
    """edu_office's committee, a 中 committee located in 莲都区."""
    return committees.committee_named(LIANDU_TEACHERS)


def decide(actor, committee, decision, reason="评审程序存在问题", on="2023-04-20", docs=None):
    return authority.decide(actor, committee.id, decision, reason, on, docs or [])


def refused(call) -> dict[str, list[str]]:
    with pytest.raises(FormInvalid) as info:
        call()
    return info.value.fields


def test_warn_suspend_restore_with_numbers_history_and_audit(today, teachers, user):
    liandu = user("liandu_hr")
    warned = decide(liandu, teachers, "warn", WARN_REASON, "2023-04-10")
    assert (warned.from_state, warned.to_state, warned.doc_no) == ("ACTIVE", "WARNED", "莲人社〔2023〕1号")
    assert teachers.authority_state == "WARNED" and authority.blocked_reason(teachers) is None

    suspended = decide(liandu, teachers, "suspend", SUSPEND_REASON, date(2023, 4, 20))
    assert (suspended.from_state, suspended.to_state, suspended.doc_no) == ("WARNED", "SUSPENDED", "莲人社〔2023〕2号")
    assert authority.blocked_reason(teachers) == (
        "该评委会已于2023年4月20日被暂停评审权（莲人社〔2023〕2号）：整改后仍未见明显成效，暂停期间不能组织评审或受理申报")

    again = refused(lambda: decide(liandu, teachers, "suspend", "再次暂停评审权", "2023-04-25"))
    assert again == {"decision": ["评审权当前为“暂停评审权”，不能作出“暂停评审权”决定（可作出的决定：取消评审权、恢复）"]}
    db.session.refresh(teachers)
    assert teachers.authority_state == "SUSPENDED"

    restored = decide(liandu, teachers, "restore", RESTORE_REASON, "2023-04-25")
    assert (restored.from_state, restored.to_state, restored.doc_no) == ("SUSPENDED", "ACTIVE", "莲人社〔2023〕3号")
    assert teachers.authority_state == "ACTIVE" and authority.blocked_reason(teachers) is None

    kept = authority.history(teachers.id)
    assert [(d.decision, d.doc_no, d.reason) for d in kept] == [
        ("warn", "莲人社〔2023〕1号", WARN_REASON), ("suspend", "莲人社〔2023〕2号", SUSPEND_REASON),
        ("restore", "莲人社〔2023〕3号", RESTORE_REASON)]
    assert {d.decided_by.username for d in kept} == {"liandu_hr"}
    events = list(db.session.scalars(select(Event).where(Event.type == "authority_decision").order_by(Event.id)))
    assert [(e.actor.username, e.details["decision"], e.details["from_state"], e.details["to_state"],
             e.details["doc_no"], e.details["bureau"]) for e in events] == [
        ("liandu_hr", "warn", "ACTIVE", "WARNED", "莲人社〔2023〕1号", "莲都区人力资源和社会保障局"),
        ("liandu_hr", "suspend", "WARNED", "SUSPENDED", "莲人社〔2023〕2号", "莲都区人力资源和社会保障局"),
        ("liandu_hr", "restore", "SUSPENDED", "ACTIVE", "莲人社〔2023〕3号", "莲都区人力资源和社会保障局")]
    assert events[1].details["committee"] == LIANDU_TEACHERS and events[1].details["decided_on"] == "2023-04-20"


def test_who_may_decide(today, teachers, user):
    with pytest.raises(NotAllowed) as info:
        decide(user("longquan_hr"), teachers, "warn")
    assert "莲都区人力资源和社会保障局" in info.value.message and "丽水市人力资源和社会保障局" in info.value.message
    for outsider in ("school_hr", "edu_office", "manager"):
        with pytest.raises(NotAllowed):
            decide(user(outsider), teachers, "warn")
    assert db.session.scalar(select(func.count()).select_from(AuthorityDecision)) == 0

    by_city = decide(user("city_hr"), teachers, "warn", on="2023-04-11")
    assert by_city.doc_no.startswith("丽人社〔2023〕") and teachers.authority_state == "WARNED"
    by_admin = decide(user("admin"), teachers, "rectify", on="2023-04-12")  # on the supervising bureau's behalf
    assert by_admin.doc_no == "莲人社〔2023〕1号" and by_admin.to_state == "WARNED"

    auto = committees.committee_named(AUTO)  # 市本级: the city bureau supervises it
    with pytest.raises(NotAllowed):
        decide(user("liandu_hr"), auto, "warn")
    assert decide(user("city_hr"), auto, "suspend").to_state == "SUSPENDED"


def test_overview_by_role(today, teachers, user):
    decide(user("liandu_hr"), teachers, "warn", on="2023-04-10")
    liandu = authority.committees_overview(user("liandu_hr"))
    # the district's own committee and the 莲都区人民医院's self-managed one (自主评聘委员会)
    # …and the plan's other 莲都区 committees (the template rows “各县（市、区）…” of 附件1)
    assert sorted((c.name, last.doc_no if last else None) for c, last in liandu) == sorted([
        (HOSPITAL, None), (LIANDU_TEACHERS, "莲人社〔2023〕1号"),
        ("莲都区卫技人员中级专业技术职务任职资格评审委员会", None),
        ("莲都区中等职业学校教师中级专业技术职务任职资格评审委员会", None)])
    everyone = {c.name: last for c, last in authority.committees_overview(user("city_hr"))}
    assert len(everyone) == db.session.scalar(select(func.count()).select_from(Committee)) > 2
    assert everyone[LIANDU_TEACHERS].decision == "warn" and everyone[AUTO] is None
    assert len(authority.committees_overview(user("manager"))) == len(everyone)
    assert len(authority.committees_overview(user("admin"))) == len(everyone)
    assert {c.location for c, _ in authority.committees_overview(user("longquan_hr"))} == {"龙泉市"}
    with pytest.raises(NotAllowed):
        authority.committees_overview(user("school_hr"))
    with pytest.raises(NotAllowed):
        authority.committee_for(user("longquan_hr"), teachers.id)
    with pytest.raises(NotFound):
        authority.committee_for(user("city_hr"), 999999)
    assert authority.committee_for(user("manager"), teachers.id) is teachers


def test_every_field_is_checked_and_nothing_is_recorded(today, teachers, user):
    liandu, other = user("liandu_hr"), user("city_hr")
    foreign = documents.upload(other, "别人的文件.pdf", io.BytesIO(PDF))
    fields = refused(lambda: authority.decide(liandu, teachers.id, "restore", "", "2023-04-26", [foreign.id]))
    assert fields["decision"] == ["评审权当前为“正常”，不能作出“恢复”决定（可作出的决定：告诫、责令整改、暂停评审权、取消评审权）"]
    assert fields["reason"] == ["请填写决定理由"]
    assert fields["decided_on"] == ["决定日期不能晚于今天"]
    assert "不属于您" in fields["documents"][0]

    assert refused(lambda: decide(liandu, teachers, "", "abc", "2023/04/20")) == {
        "decision": ["请选择决定类型"], "reason": ["决定理由至少 4 个字"],
        "decided_on": ["日期格式应为 年-月-日，如 2023-04-20"]}
    assert refused(lambda: decide(liandu, teachers, "pardon", "x" * 2001, "")) == {
        "decision": ["未知的决定类型：pardon"], "reason": ["决定理由不得超过 2000 字"], "decided_on": ["请填写决定日期"]}
    assert db.session.scalar(select(func.count()).select_from(AuthorityDecision)) == 0
    assert teachers.authority_state == "ACTIVE"

    decide(liandu, teachers, "warn", on="2023-04-20")
    assert refused(lambda: decide(liandu, teachers, "suspend", on="2023-04-19")) == {
        "decided_on": ["决定日期不能早于上一次决定的日期（2023年4月20日）"]}
    assert decide(liandu, teachers, "rectify", "x" * 2000, "2023-04-20").doc_no == "莲人社〔2023〕2号"


def test_revoke_is_final(today, teachers, user):
    liandu = user("liandu_hr")
    revoked = decide(liandu, teachers, "revoke", "评审中存在严重违规行为。", "2023-04-21")
    assert revoked.to_state == "REVOKED"
    assert authority.blocked_reason(teachers) == (
        "该评委会已于2023年4月21日被取消评审权（莲人社〔2023〕1号）：评审中存在严重违规行为，不能再组织评审或受理申报")
    for decision in ("restore", "warn", "rectify", "suspend", "revoke"):
        assert refused(lambda d=decision: decide(liandu, teachers, d, "申请恢复评审权", "2023-04-25")) == {
            "decision": ["该评委会的评审权已被取消，不能再作出任何决定"]}
    assert teachers.authority_state == "REVOKED" and len(authority.history(teachers.id)) == 1


def test_blocked_without_a_recorded_decision(ctx, teachers):
    teachers.authority_state = "SUSPENDED"
    assert authority.blocked_reason(teachers) == "该评委会已被暂停评审权，暂停期间不能组织评审或受理申报"
    teachers.authority_state = "WARNED"
    assert authority.blocked_reason(teachers) is None
    db.session.rollback()


def test_decision_documents_are_served_to_overseers_only(today, teachers, user):
    liandu = user("liandu_hr")
    doc = documents.upload(liandu, "暂停评审权决定书.pdf", io.BytesIO(PDF))
    record = decide(liandu, teachers, "suspend", docs=[doc.id, doc.id])
    assert record.documents == [doc.id]
    assert authority.documents_of([record]) == {doc.id: doc}
    for viewer in ("liandu_hr", "city_hr", "manager", "admin"):
        served, content = authority.decision_document(user(viewer), doc.id)
        assert served.id == doc.id and content == PDF
    for outsider in ("longquan_hr", "school_hr", "edu_office"):
        with pytest.raises(NotAllowed):
            authority.decision_document(user(outsider), doc.id)
    loose = documents.upload(liandu, "未用于决定.pdf", io.BytesIO(PDF))
    with pytest.raises(NotFound):
        authority.decision_document(user("city_hr"), loose.id)
    with pytest.raises(NotFound):
        authority.decision_document(user("city_hr"), "no-such-document")
