"""Performance archives (业绩档案): the applicant keeps theirs, only their own unit audits it."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Achievement, Event
from app.services import archives, documents
from app.services.errors import Conflict, FormInvalid, NotAllowed, NotFound, RuleViolation

PAPER = {"kind": "论文", "title": "初中物理探究式教学的实践研究", "achieved_on": "2023-05-20",
         "description": "《丽水教育》2023 年第 5 期，第一作者"}


@pytest.fixture()
def today(set_clock):
    set_clock("2024-03-01T10:00:00+08:00")


def submitted(user) -> None:
    teacher = user("teacher1")
    archives.add_achievement(teacher, PAPER)
    archives.submit_for_audit(teacher)


def events(type_: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Event).where(Event.type == type_))


def test_add_update_delete_validate_every_field(ctx, user, today):
    teacher = user("teacher1")
    with pytest.raises(FormInvalid) as caught:
        archives.add_achievement(teacher, {"kind": "小说", "title": " 甲 ", "achieved_on": "2024-03-02",
                                           "description": "长" * 2001})
    assert set(caught.value.fields) == {"kind", "title", "achieved_on", "description"}
    assert caught.value.fields["achieved_on"] == ["取得时间不能晚于今天"]
    assert caught.value.fields["title"] == ["业绩名称应为 2–200 个字"]
    with pytest.raises(FormInvalid) as caught:
        archives.add_achievement(teacher, {"kind": "专利", "title": "", "achieved_on": "2023-13-01"})
    assert caught.value.fields == {"title": ["请填写业绩名称"], "achieved_on": ["日期格式应为 年-月-日，如 2023-06-30"]}

    item = archives.add_achievement(teacher, {**PAPER, "achieved_on": "2024-03-01"})  # today is allowed
    assert [a.title for a in archives.achievements_of(teacher)] == [PAPER["title"]]
    updated = archives.update_achievement(teacher, item.id, {**PAPER, "kind": "教学成果", "title": "  探究式教学  "})
    assert (updated.kind, updated.title, updated.achieved_on.isoformat()) == ("教学成果", "探究式教学", "2023-05-20")
    with pytest.raises(FormInvalid):
        archives.update_achievement(teacher, item.id, {**PAPER, "title": "x"})
    archives.delete_achievement(teacher, item.id)
    assert archives.achievements_of(teacher) == []
    with pytest.raises(NotFound):
        archives.delete_achievement(teacher, item.id)
    assert [events(t) for t in ("archive_achievement_added", "archive_achievement_updated",
                                "archive_achievement_deleted")] == [1, 1, 1]


def test_only_the_owner_changes_an_achievement(ctx, user, today):
    item = archives.add_achievement(user("teacher1"), PAPER)
    for other in ("grad_city", "school_hr"):
        with pytest.raises(NotAllowed):
            archives.update_achievement(user(other), item.id, PAPER)
        with pytest.raises(NotAllowed):
            archives.delete_achievement(user(other), item.id)
    assert db.session.get(Achievement, item.id).title == PAPER["title"]


def test_attachments_must_be_the_owners_uploads(ctx, user, today):
    teacher, other = user("teacher1"), user("grad_city")
    mine = documents.upload(teacher, "论文.pdf", io.BytesIO(b"%PDF-1.4 test"))
    theirs = documents.upload(other, "别人的.pdf", io.BytesIO(b"%PDF-1.4 test"))
    with pytest.raises(FormInvalid) as caught:
        archives.add_achievement(teacher, {**PAPER, "attachments": [mine.id, theirs.id]})
    assert list(caught.value.fields) == ["attachments"]
    item = archives.add_achievement(teacher, {**PAPER, "attachments": [mine.id, mine.id]})
    assert item.attachments == [mine.id]


def test_submit_requires_an_achievement(ctx, user, today):
    teacher = user("teacher1")
    with pytest.raises(RuleViolation):
        archives.submit_for_audit(teacher)
    assert archives.archive_for(teacher).status == "draft"
    submitted(user)
    assert archives.archive_for(teacher).status == "submitted"
    with pytest.raises(Conflict):
        archives.submit_for_audit(teacher)


def test_approve_then_any_change_resets_to_draft(ctx, user, today):
    teacher, hr = user("teacher1"), user("school_hr")
    submitted(user)
    assert [a.user.username for a in archives.pending_audits(hr)] == ["teacher1"]
    assert not archives.is_audited(teacher)
    archive = archives.audit(hr, teacher.id, "approve", "")
    assert archive.status == "audited" and archive.audited_by_id == hr.id and archive.audit_opinion is None
    assert archives.is_audited(teacher)
    assert archives.pending_audits(hr) == []
    with pytest.raises(Conflict):
        archives.audit(hr, teacher.id, "approve", "")

    archives.add_achievement(teacher, {**PAPER, "kind": "获奖", "title": "市优秀教师"})
    assert archives.archive_for(teacher).status == "draft"
    assert not archives.is_audited(teacher)
    assert events("archive_reset") == 1
    with pytest.raises(Conflict):
        archives.audit(hr, teacher.id, "approve", "")


def test_change_while_submitted_withdraws_the_submission(ctx, user, today):
    teacher = user("teacher1")
    submitted(user)
    [item] = archives.achievements_of(teacher)
    archives.update_achievement(teacher, item.id, {**PAPER, "description": "更正期次"})
    assert archives.archive_for(teacher).status == "draft"
    assert archives.pending_audits(user("school_hr")) == []


def test_return_needs_an_opinion_and_a_resubmission_is_audited_again(ctx, user, today):
    teacher, hr = user("teacher1"), user("school_hr")
    submitted(user)
    with pytest.raises(FormInvalid) as caught:
        archives.audit(hr, teacher.id, "return", "  ")
    assert caught.value.fields == {"opinion": ["退回修改时须填写审核意见"]}
    with pytest.raises(FormInvalid) as caught:
        archives.audit(hr, teacher.id, "maybe", "")
    assert list(caught.value.fields) == ["decision"]
    archive = archives.audit(hr, teacher.id, "return", "请补充刊物封面和目录页")
    assert (archive.status, archive.audit_opinion) == ("returned", "请补充刊物封面和目录页")
    assert not archives.is_audited(teacher)
    archives.submit_for_audit(teacher)
    _, archive, items = archives.archive_for_audit(hr, teacher.id)
    stale = archives.fingerprint(archive, items)
    archives.add_achievement(teacher, {**PAPER, "title": "补充：刊物目录页"})  # back to draft …
    archives.submit_for_audit(teacher)  # … and submitted again, at the same (frozen) instant
    with pytest.raises(Conflict):  # the auditor looked at the earlier submission (the clock is frozen)
        archives.audit(hr, teacher.id, "approve", "", seen=stale)
    _, archive, items = archives.archive_for_audit(hr, teacher.id)
    assert archive.status == "submitted"
    assert archives.audit(hr, teacher.id, "approve", "材料齐全",
                          seen=archives.fingerprint(archive, items)).status == "audited"
    assert (events("archive_returned"), events("archive_audited"), events("archive_submitted")) == (1, 1, 3)


@pytest.mark.parametrize("outsider", ["liandu_co_hr", "auto_hr", "hospital_admin", "city_hr", "grad_city"])
def test_an_employer_never_sees_or_audits_another_units_staff(ctx, user, today, outsider):
    teacher = user("teacher1")
    submitted(user)
    other = user(outsider)
    with pytest.raises(NotAllowed):
        archives.audit(other, teacher.id, "approve", "")
    with pytest.raises(NotAllowed):
        archives.archive_for_audit(other, teacher.id)
    if other.has_role("employer_hr", "self_managed_admin"):
        assert archives.pending_audits(other) == []
        assert archives.archives_in_scope(other) == []
    else:
        with pytest.raises(NotAllowed):
            archives.pending_audits(other)
    assert archives.archive_for(teacher).status == "submitted"


def test_self_managed_unit_audits_its_own_staff(ctx, user, today):
    doctor = user("doctor1")
    archives.add_achievement(doctor, {**PAPER, "kind": "科研项目", "title": "基层医院慢病管理研究"})
    archives.submit_for_audit(doctor)
    admin = user("hospital_admin")
    assert [a.user.username for a in archives.archives_in_scope(admin)] == ["doctor1"]
    assert archives.audit(admin, doctor.id, "approve", "").status == "audited"
    with pytest.raises(NotAllowed):
        archives.archive_for_audit(user("school_hr"), doctor.id)


def test_attachments_are_visible_to_the_own_unit_only(ctx, user, today):
    teacher = user("teacher1")
    doc = documents.upload(teacher, "论文.pdf", io.BytesIO(b"%PDF-1.4 test"))
    archives.add_achievement(teacher, {**PAPER, "attachments": [doc.id]})
    assert documents.get(user("school_hr"), doc.id)[1] == b"%PDF-1.4 test"
    for outsider in ("liandu_co_hr", "grad_city"):
        with pytest.raises(NotAllowed):
            documents.get(user(outsider), doc.id)
    loose = documents.upload(teacher, "未附上.pdf", io.BytesIO(b"%PDF-1.4 test"))
    with pytest.raises(NotAllowed):  # an upload not attached to any achievement stays private
        documents.get(user("school_hr"), loose.id)


def test_summary(ctx, user, today):
    teacher, hr = user("teacher1"), user("school_hr")
    assert archives.summary(teacher) == {
        "status": "draft", "status_label": "未提交", "achievements": 0, "by_kind": {}, "submitted_at": None,
        "audited_at": None, "audited_by": None, "updated_at": None}
    archives.add_achievement(teacher, PAPER)
    archives.add_achievement(teacher, {**PAPER, "title": "第二篇论文"})
    archives.add_achievement(teacher, {**PAPER, "kind": "获奖", "title": "市优秀教师"})
    archives.submit_for_audit(teacher)
    archives.audit(hr, teacher.id, "approve", "")
    result = archives.summary(teacher)
    assert result["status"] == "audited" and result["status_label"] == "已审核"
    assert result["achievements"] == 3 and result["by_kind"] == {"论文": 2, "获奖": 1}
    assert result["audited_at"] == "2024-03-01T02:00:00+00:00"
    assert result["audited_by"] == "示范中学人事 冯丽"
