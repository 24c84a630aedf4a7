"""A new plan year in one step, the model side: drafts copied for the year, edited, compared with
last year's versions, published; instances keep the version they started on."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Event, ModelDraft, ProcessInstance, Setting
from app.services import drafts, instances, registry
from app.services.errors import Conflict, FormInvalid, NotAllowed

FORM = "forms/session_open.schema.json"
DMN = "authority_resolution.dmn"
OLD_ENTRY = '<outputEntry id="Out_city_letter"><text>"丽水市人力资源和社会保障局"</text></outputEntry>'
NEW_ENTRY = '<outputEntry id="Out_city_letter"><text>"浙江省人力资源和社会保障厅"</text></outputEntry>'


def _set_year(year: int) -> None:
    row = db.session.get(Setting, "current_plan_year")
    if row is None:
        db.session.add(Setting(key="current_plan_year", value={"year": year}))
    else:
        row.value = {"year": year}
    db.session.commit()


def _plan_2023_like_2022() -> None:
    """The 2023 plan: last year's carried forward and published by the city bureau."""
    from app.models import User
    from app.services import plans

    city_hr = db.session.scalar(select(User).where(User.username == "city_hr"))
    plans.publish(city_hr, plans.copy_year(city_hr, 2022, 2023)[0])
    db.session.commit()


def _draft(process_id: str, year: int = 2023) -> ModelDraft:
    found = drafts.open_draft(process_id, year)
    assert found is not None
    return found


def _edit_form_and_rule(draft: ModelDraft, owner) -> None:
    schema = json.loads(draft.files[FORM])
    schema["properties"]["members"]["title"] = "评委会出席委员人数"
    drafts.update_file(draft, FORM, json.dumps(schema, ensure_ascii=False, indent=2), owner)
    assert OLD_ENTRY in draft.files[DMN]
    drafts.update_file(draft, DMN, draft.files[DMN].replace(OLD_ENTRY, NEW_ENTRY), owner)


def _start_session(user) -> ProcessInstance:
    return instances.start_instance(user("edu_office"), "review_session",
                                    {"session_name": "2022年度评审会议", "meeting_date": "2099-09-20", "members": 15})


def test_copy_for_year_drafts_every_model_with_the_new_plan_year(ctx, user):
    owner = user("owner")
    created = drafts.copy_for_year(2023, owner)
    processes = {v.process_id for v in registry.published()}
    assert {d.process_id for d in created} == processes
    for draft in created:
        base = registry.latest(draft.process_id)
        assert draft.base_version_id == base.id and draft.plan_year == 2023 and draft.status == "draft"
        assert json.loads(draft.files["model.json"]) == {**json.loads(base.sources["files"]["model.json"]),
                                                         "plan_year": 2023}
        assert set(draft.files) == set(base.sources["files"])
        # Only model.json's plan year differs from last year's version.
        diff = drafts.compare_draft(draft)
        assert [(c["key"], c["old"], c["new"]) for c in diff["model"]] == [("plan_year", "2022", "2023")]
        assert diff["count"] == 1 and diff["files"]["changed"] == ["model.json"]
    events = db.session.scalars(select(Event).where(Event.type == "model_draft_created")).all()
    assert len(events) == len(created)
    # A second copy skips the processes that already have an open draft for the year.
    assert drafts.copy_for_year(2023, owner) == []
    assert len(drafts.drafts(year=2023)) == len(created)


def test_creating_2023_from_2022_shows_the_changed_form_field_and_rule_row(ctx, user):
    """The issue's test: a changed form field and a changed rule row show in the comparison;
    2022 instances keep their version."""
    owner = user("owner")
    _set_year(2022)
    v2022 = registry.latest("review_session")
    assert v2022.plan_year == 2022
    before = _start_session(user)
    assert before.version_id == v2022.id

    drafts.copy_for_year(2023, owner)
    draft = _draft("review_session")
    _edit_form_and_rule(draft, owner)
    assert drafts.validate(draft) == []

    diff = drafts.compare_draft(draft)
    assert diff["files"]["changed"] == ["model.json", DMN, FORM]
    assert [(c["key"], c["old"], c["new"]) for c in diff["model"]] == [("plan_year", "2022", "2023")]
    assert diff["bpmn"] == [] and diff["other"] == []
    [form] = diff["forms"]
    assert form["file"] == FORM and form["top"] == []
    [field] = form["fields"]
    assert (field["path"], field["change"]) == ("members", "changed")
    assert [(c["key"], c["old"], c["new"]) for c in field["changes"]] == [("title", "评委会委员人数", "评委会出席委员人数")]
    [dmn] = diff["dmn"]
    [decision] = dmn["decisions"]
    assert decision["id"] == "authority_resolution" and decision["columns"] == [] and decision["hit_policy"] is None
    [rule] = decision["rules"]
    assert (rule["id"], rule["change"]) == ("Rule_city", "changed")
    assert [(c["column"], c["kind"], c["old"], c["new"]) for c in rule["cells"]] == [
        ("Output_letter", "output", '"丽水市人力资源和社会保障局"', '"浙江省人力资源和社会保障厅"')]
    assert diff["count"] == 3

    v2023 = drafts.publish(draft, owner)
    assert (v2023.plan_year, v2023.version, v2023.process_id) == (2023, v2022.version + 1, "review_session")
    assert draft.status == "published" and draft.published_version_id == v2023.id
    assert draft.published_by_id == owner.id and draft.published_at is not None
    event = db.session.scalars(select(Event).where(Event.type == "model_published")).one()
    assert event.details["plan_year"] == 2023 and event.details["version"] == v2023.version
    assert any("Rule_city" in line for line in event.details["changes"])

    # The comparison of the two published versions says the same.
    assert drafts.compare_versions(v2022, v2023)["count"] == 3

    # Still 2022: new instances start on the 2022 version; the instance started before keeps it.
    assert registry.for_new_instances("review_session").id == v2022.id
    during = _start_session(user)
    assert during.version_id == v2022.id
    db.session.refresh(before)
    assert before.version_id == v2022.id

    # Once 2023 is the current plan year, new instances start on the 2023 version; old ones stay.
    _plan_2023_like_2022()
    _set_year(2023)
    assert registry.for_new_instances("review_session").id == v2023.id
    assert v2023.id in {v.id for v in registry.current()}
    after = _start_session(user)
    assert after.version_id == v2023.id
    for instance in (before, during):
        db.session.refresh(instance)
        assert instance.version_id == v2022.id
        assert instance.version.plan_year == 2022


def test_without_a_plan_year_new_instances_start_on_the_newest(ctx, user):
    owner = user("owner")
    drafts.copy_for_year(2023, owner)
    version = drafts.publish(_draft("supervision"), owner)
    _set_year(2022)
    assert registry.for_new_instances("supervision").plan_year == 2022
    # Only later years published for the current year: the newest is used rather than nothing.
    _set_year(2019)
    assert registry.for_new_instances("supervision").id == version.id


def test_an_invalid_draft_is_refused_at_publish_with_its_problems(ctx, user):
    owner = user("owner")
    drafts.copy_for_year(2023, owner)
    draft = _draft("review_session")
    bpmn = "review_session.bpmn"
    # Well-formed XML that is not a valid model: saving is allowed, publishing is not.
    broken = draft.files[bpmn].replace("<bpmn:script>session_invalid = Fal", "<bpmn:script>session_invalid = (Fal")
    assert broken != draft.files[bpmn]
    drafts.update_file(draft, bpmn, broken, owner)
    problems = drafts.validate(draft)
    assert problems and all(set(p) == {"file", "element_id", "message", "severity"} for p in problems)
    assert drafts.errors_of(problems)
    assert "Task_defaults" in {p["element_id"] for p in problems}
    with pytest.raises(drafts.DraftInvalid) as caught:
        drafts.publish(draft, owner)
    assert caught.value.problems == problems
    assert draft.status == "draft"
    assert registry.latest("review_session").plan_year == 2022

    # A plan year other than the draft's is a problem too.
    draft = _draft("supervision")
    drafts.update_file(draft, "model.json", drafts.with_plan_year(draft.files["model.json"], 2024), owner)
    assert [p["element_id"] for p in drafts.validate(draft)] == ["plan_year"]


def test_bad_files_are_refused_in_chinese_and_nothing_is_saved(ctx, user):
    owner = user("owner")
    drafts.copy_for_year(2023, owner)
    draft = _draft("review_session")
    original = dict(draft.files)
    for name, text in ((DMN, "<definitions><decision></definitions>"),
                       (DMN, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'),
                       (FORM, '{"title": "开启评审会次",'),
                       (FORM, "[1, 2]"),
                       ("model.json", "   "),
                       ("forms/nothing.schema.json", "{}")):
        with pytest.raises(FormInvalid) as caught:
            drafts.update_file(draft, name, text, owner)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message), caught.value.message
    db.session.refresh(draft)
    assert draft.files == original


def test_line_ends_from_a_textarea_do_not_count_as_changes(ctx, user):
    owner = user("owner")
    drafts.copy_for_year(2023, owner)
    draft = _draft("review_session")
    drafts.update_file(draft, DMN, draft.files[DMN].replace("\n", "\r\n"), owner)
    assert drafts.compare_draft(draft)["count"] == 1
    assert not db.session.scalars(select(Event).where(Event.type == "model_draft_updated")).all()


def test_only_process_owners_manage_drafts_and_closed_drafts_stay_closed(ctx, user):
    with pytest.raises(NotAllowed):
        drafts.copy_for_year(2023, user("edu_office"))
    admin = user("admin")
    drafts.copy_for_year(2023, admin)
    draft = _draft("supervision")
    with pytest.raises(NotAllowed):
        drafts.update_file(draft, "model.json", draft.files["model.json"], user("edu_office"))
    drafts.discard(draft, admin)
    assert draft.status == "discarded"
    with pytest.raises(Conflict):
        drafts.publish(draft, admin)
    with pytest.raises(Conflict):
        drafts.update_file(draft, "model.json", draft.files["model.json"], admin)
    # A discarded draft no longer blocks a new copy for the year.
    assert [d.process_id for d in drafts.copy_for_year(2023, admin)] == ["supervision"]
    with pytest.raises(FormInvalid):
        drafts.copy_for_year("二〇二三", admin)


def test_a_draft_for_a_later_year_starts_from_the_newest_earlier_version(ctx, user):
    owner = user("owner")
    drafts.copy_for_year(2023, owner)
    v2023 = drafts.publish(_draft("supervision"), owner)
    drafts.copy_for_year(2024, owner)
    assert _draft("supervision", 2024).base_version_id == v2023.id
    # A second 2023 draft (published version for 2023 exists) is based on 2022's.
    drafts.copy_for_year(2023, owner)
    assert _draft("supervision", 2023).base_version.plan_year == 2022


def test_compare_is_robust_to_any_files():
    old = {"model.json": '{"id": "x", "plan_year": 2022}', "a.bpmn": "<not xml", "notes.txt": "一\n二",
           "forms/f.schema.json": '{"properties": {"a": {"type": "string", "title": "甲"}}, "required": ["a"]}',
           "forms/f.uischema.json": '{"a": {"ui:widget": "textarea"}}'}
    new = {"model.json": '{"id": "x", "plan_year": 2023, "lanes": {}}', "a.bpmn": "<still not xml",
           "notes.txt": "一\n三", "b.dmn": "<definitions/>",
           "forms/f.schema.json": '{"properties": {"a": {"type": "string", "title": "甲", "enum": ["1"]},'
                                  ' "b": {"type": "integer"}}}',
           "forms/f.uischema.json": '{"a": {"ui:widget": "radio"}, "ui:order": ["a", "b"]}'}
    diff = drafts.compare(old, new)
    assert diff["files"]["added"] == ["b.dmn"]
    assert {c["key"] for c in diff["model"]} == {"plan_year", "lanes"}
    assert {o["file"] for o in diff["other"]} == {"a.bpmn", "notes.txt"}
    schema = next(f for f in diff["forms"] if f["kind"] == "schema")
    changes = {f["path"]: {c["key"]: (c["old"], c["new"]) for c in f["changes"]} for f in schema["fields"]}
    assert changes["a"] == {"enum": ("", '["1"]'), "required": ("true", "false")}
    assert changes["b"] == {"type": ("", "integer")}
    ui = next(f for f in diff["forms"] if f["kind"] == "ui")
    assert ui["fields"][0]["changes"][0]["old"] == "textarea" and ui["top"][0]["key"] == "ui:order"
    assert drafts.compare(new, new)["empty"] and drafts.compare(None, None)["empty"]
