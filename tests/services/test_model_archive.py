"""Models as zip files (export, import, SpiffArena's layout), a new draft, retiring versions."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, ModelDraft, ProcessVersion
from app.services import committees, drafts, instances, model_archive, registry
from app.services.errors import Conflict, NotAllowed

SPIFF_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_1"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="Collaboration_1">
    <bpmn:participant id="Participant_1" processRef="leave_request" />
  </bpmn:collaboration>
  <bpmn:process id="leave_request" name="请假申请" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_staff" name="Staff">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_fill</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_fill" />
    <bpmn:userTask id="Task_fill" name="填写申请">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="x-schema.json" />
          <spiffworkflow:property name="formUiSchemaFilename" value="x-uischema.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_fill" targetRef="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
SPIFF_MODEL = {"description": "", "display_name": "请假申请", "display_order": 0,
               "exception_notification_addresses": [], "fault_or_suspend_on_exception": "fault",
               "files": [], "metadata_extraction_paths": None,
               "primary_file_name": "leave.bpmn", "primary_process_id": "leave_request"}
SCHEMA = {"title": "请假", "type": "object", "required": ["days"],
          "properties": {"days": {"type": "integer", "title": "天数"}}}


def _zip(entries: dict[str, bytes | str], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return buffer.getvalue()


def _spiff_zip(**extra: str) -> bytes:
    return _zip({"leave/process_model.json": json.dumps(SPIFF_MODEL, ensure_ascii=False),
                 "leave/leave.bpmn": SPIFF_BPMN,
                 "leave/x-schema.json": json.dumps(SCHEMA, ensure_ascii=False),
                 "leave/x-uischema.json": "{}",
                 **{f"leave/{k}": v for k, v in extra.items()}})


def _draft_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ModelDraft))


def _exported(name: str = "review_session") -> tuple[ProcessVersion, bytes]:
    version = registry.for_new_instances(name)
    return version, model_archive.export_zip(dict(version.sources["files"]),
                                             {"process_id": name, "version": version.version,
                                              "plan_year": version.plan_year, "exported_by": "owner"})


# -- export and import -----------------------------------------------------------------------
def test_export_holds_the_files_under_the_process_folder_and_a_manifest(ctx, user):
    name, data = model_archive.export_version(registry.for_new_instances("review_session"), user("owner"))
    assert name.startswith("review_session-v") and name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("MANIFEST.json"))
    assert {"review_session/model.json", "review_session/review_session.bpmn",
            "review_session/authority_resolution.dmn"} <= names
    assert any(n.startswith("review_session/forms/") for n in names)
    assert manifest["process_id"] == "review_session" and manifest["exported_by"] == "owner"
    assert manifest["plan_year"] == committees.current_plan_year() and manifest["version"] >= 1
    assert manifest["exported_at"]


def test_export_then_import_gives_a_draft_with_the_same_files(ctx, user):
    version, data = _exported()
    assert version.plan_year == committees.current_plan_year()
    draft = model_archive.import_zip(data, user("owner"))
    assert draft.status == "draft" and draft.process_id == "review_session"
    assert draft.plan_year == committees.current_plan_year()
    assert draft.files == version.sources["files"]
    assert draft.base_version_id == version.id
    assert drafts.validate(draft) == []
    assert drafts.compare_draft(draft)["empty"]
    event = db.session.scalars(select(Event).where(Event.type == "model_draft_imported")).one()
    assert event.details["draft_id"] == draft.id and event.details["layout"] == "ours"


def test_an_import_under_another_plan_year_is_set_to_the_current_one(ctx, user):
    version = registry.for_new_instances("supervision")
    files = dict(version.sources["files"])
    files["model.json"] = drafts.with_plan_year(files["model.json"], 2019)
    draft = model_archive.import_zip(model_archive.export_zip(files, {"process_id": "supervision"}), user("owner"))
    assert json.loads(draft.files["model.json"])["plan_year"] == committees.current_plan_year()


def test_a_second_import_for_the_same_process_and_year_is_refused_and_names_the_draft(ctx, user):
    _, data = _exported()
    first = model_archive.import_zip(data, user("owner"))
    with pytest.raises(drafts.DraftExists) as caught:
        model_archive.import_zip(data, user("owner"))
    assert caught.value.draft.id == first.id and "已有" in caught.value.message
    db.session.rollback()
    assert _draft_count() == 1


def test_only_model_managers_import_and_export(ctx, user):
    _, data = _exported()
    with pytest.raises(NotAllowed):
        model_archive.import_zip(data, user("city_hr"))
    with pytest.raises(NotAllowed):
        model_archive.export_version(registry.latest("review_session"), user("teacher1"))
    assert _draft_count() == 0


BOMB = b"\0" * (30 * 1024 * 1024)


@pytest.mark.parametrize(("entries", "expected"), [
    ({"../x.bpmn": "<a/>"}, "“..”"),
    ({"m/../../x.json": "{}"}, "“..”"),
    ({"/etc/model.json": "{}"}, "绝对路径"),
    ({"C:/model.json": "{}"}, "绝对路径"),
    ({"m\\model.json": "{}"}, "不允许的字符"),
    ({f"m/forms/f{i}.json": "{}" for i in range(201)}, "条目过多"),
    ({"m/model.json": BOMB}, "压缩炸弹"),
    ({"m/model.json": "{}", "m/run.py": "print(1)"}, "只接受 .bpmn、.dmn、.json"),
    ({"m/model.json": '{"id": "x", "name": "资格"}'.encode("gb18030")}, "UTF-8"),
    ({"m/model.json": "{}", "m/x.bpmn": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>'},
     "DOCTYPE"),
    ({"m/readme.json": "{}"}, "model.json"),
])
def test_unsafe_or_unusable_uploads_are_refused_in_chinese_and_nothing_is_saved(ctx, user, entries, expected):
    with pytest.raises(model_archive.ArchiveInvalid) as caught:
        model_archive.import_zip(_zip(entries), user("owner"))
    assert expected in caught.value.message
    db.session.rollback()
    assert _draft_count() == 0


def test_a_doctype_in_our_layout_is_refused_before_any_draft(ctx, user):
    version = registry.for_new_instances("supervision")
    files = dict(version.sources["files"])
    files["supervision.bpmn"] = files["supervision.bpmn"].replace(
        "?>", '?><!DOCTYPE lol [<!ENTITY lol "lol">]>', 1)
    with pytest.raises(model_archive.ArchiveInvalid, match="DOCTYPE"):
        model_archive.import_zip(model_archive.export_zip(files, {"process_id": "supervision"}), user("owner"))
    db.session.rollback()
    assert _draft_count() == 0


def test_many_entries_that_together_unpack_too_large_are_refused(ctx, user, monkeypatch):
    monkeypatch.setattr(model_archive, "MAX_RATIO", 10**9)
    entries = {f"m/forms/f{i}.json": b" " * (4 * 1024 * 1024) for i in range(6)}
    with pytest.raises(model_archive.ArchiveInvalid, match="解压后过大"):
        model_archive.import_zip(_zip(entries), user("owner"))
    assert _draft_count() == 0


def test_not_a_zip_and_oversized_uploads_are_refused(ctx, user):
    with pytest.raises(model_archive.ArchiveInvalid, match="不是有效的 zip"):
        model_archive.import_zip(b"PK not really", user("owner"))
    with pytest.raises(model_archive.ArchiveInvalid, match="过大"):
        model_archive.import_zip(b"0" * (model_archive.MAX_ZIP_BYTES + 1), user("owner"))
    with pytest.raises(model_archive.ArchiveInvalid, match="请选择"):
        model_archive.import_zip(b"", user("owner"))


def test_a_header_that_understates_the_size_is_caught_while_reading(ctx, user):
    data = bytearray(_zip({"m/model.json": "{" + " " * 100_000 + "}"}))
    # Lower the declared uncompressed size in the local header and the central directory.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        real = zf.getinfo("m/model.json").file_size
    needle = real.to_bytes(4, "little")
    assert data.count(needle) == 2
    data = data.replace(needle, (10).to_bytes(4, "little"))
    with pytest.raises(model_archive.ArchiveInvalid):
        model_archive.import_zip(bytes(data), user("owner"))


# -- SpiffArena's layout ---------------------------------------------------------------------
def test_a_spiffarena_model_folder_becomes_a_draft_that_asks_for_the_lane_mapping(ctx, user):
    result = model_archive.import_upload(_spiff_zip(**{"test_leave.json": "{}"}), user("owner"))
    draft = result.draft
    assert result.layout == "spiffarena" and draft.process_id == "leave_request" and draft.base_version_id is None
    assert set(draft.files) == {"model.json", "leave.bpmn", "forms/x-schema.json", "forms/x-uischema.json"}
    model = json.loads(draft.files["model.json"])
    assert model["id"] == "leave_request" and model["name"] == "请假申请"
    assert model["plan_year"] == committees.current_plan_year()
    assert model["lanes"] == {"Staff": {}} and model["starter_roles"] == []
    problems = drafts.validate(draft)
    assert any(p["file"] == "model.json" and p["element_id"] == "Staff" and "role" in p["message"] for p in problems)
    assert not any("找不到表单" in p["message"] for p in problems)
    notes = "\n".join(result.notes)
    assert "Staff" in notes and "test_leave.json" in notes and "starter_roles" in notes
    assert "校验发现" in notes


def test_spiffarena_connectors_and_data_stores_are_reported(ctx, user):
    bpmn = SPIFF_BPMN.replace(
        '<bpmn:endEvent id="EndEvent_1">',
        '<bpmn:dataStoreReference id="Store_1" name="客户库" />'
        '<bpmn:serviceTask id="Task_http" name="查询"><bpmn:extensionElements>'
        '<spiffworkflow:serviceTaskOperator id="http/GetRequestV2" resultVariable="r" />'
        '</bpmn:extensionElements></bpmn:serviceTask>'
        '<bpmn:callActivity id="Task_call" name="调用审批" calledElement="approval_process" />'
        '<bpmn:endEvent id="EndEvent_1">')
    entries = {"process_model.json": json.dumps({**SPIFF_MODEL, "primary_process_id": None,
                                                 "primary_file_name": None}),
               "leave.bpmn": bpmn, "x-schema.json": json.dumps(SCHEMA), "x-uischema.json": "{}"}
    result = model_archive.import_upload(_zip(entries), user("owner"))
    notes = "\n".join(result.notes)
    assert "http/GetRequestV2" in notes and "连接器" in notes and "客户库" in notes and "approval_process" in notes
    assert result.draft.process_id == "leave_request"


def test_a_spiffarena_folder_on_disk_imports_the_same_way(ctx, user, tmp_path):
    folder = tmp_path / "leave"
    folder.mkdir()
    (folder / "process_model.json").write_text(json.dumps(SPIFF_MODEL), encoding="utf-8")
    (folder / "leave.bpmn").write_text(SPIFF_BPMN, encoding="utf-8")
    (folder / "x-schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    (folder / "x-uischema.json").write_text("{}", encoding="utf-8")
    result = model_archive.import_folder(folder, user("owner"))
    assert "forms/x-schema.json" in result.draft.files


# -- a new draft; retiring and reinstating ---------------------------------------------------
def test_new_draft_copies_the_version_new_instances_use_for_the_current_year(ctx, user):
    current = registry.for_new_instances("supervision")
    draft = drafts.new_draft("supervision", user("owner"))
    assert draft.plan_year == committees.current_plan_year() and draft.base_version_id == current.id
    assert draft.files == current.sources["files"]
    later = drafts.new_draft("supervision", user("owner"), year=2030)
    assert json.loads(later.files["model.json"])["plan_year"] == 2030
    with pytest.raises(drafts.DraftExists) as caught:
        drafts.new_draft("supervision", user("owner"))
    assert caught.value.draft.id == draft.id
    with pytest.raises(NotAllowed):
        drafts.new_draft("review_session", user("manager"))


def _second_version(user) -> tuple[ProcessVersion, ProcessVersion]:
    first = registry.for_new_instances("review_session")
    draft = drafts.new_draft("review_session", user("owner"))
    name = "forms/session_open.schema.json"
    schema = json.loads(draft.files[name])
    schema["title"] = (schema.get("title") or "") + "（新）"
    drafts.update_file(draft, name, json.dumps(schema, ensure_ascii=False, indent=2), user("owner"))
    return first, drafts.publish(draft, user("owner"))


def test_a_retired_version_is_skipped_for_new_instances_and_can_be_reinstated(ctx, user):
    first, second = _second_version(user)
    assert registry.for_new_instances("review_session").id == second.id
    drafts.retire(second, user("owner"))
    assert second.status == "retired"
    assert registry.for_new_instances("review_session").id == first.id
    assert registry.latest("review_session").id == first.id
    started = instances.start_instance(user("edu_office"), "review_session",
                                       {"session_name": "2022年度评审会议", "meeting_date": "2099-09-20",
                                        "members": 15})
    assert started.version_id == first.id
    with pytest.raises(Conflict, match="唯一"):
        drafts.retire(first, user("owner"))
    with pytest.raises(Conflict):
        drafts.retire(second, user("owner"))
    drafts.reinstate(second, user("owner"))
    assert registry.for_new_instances("review_session").id == second.id
    with pytest.raises(Conflict):
        drafts.reinstate(second, user("owner"))
    types = [e.type for e in db.session.scalars(select(Event).where(Event.type.like("model_version_%"))
                                                .order_by(Event.id))]
    assert types == ["model_version_retired", "model_version_reinstated"]


def test_the_only_published_version_cannot_be_retired(ctx, user):
    only = registry.latest("supervision")
    with pytest.raises(Conflict, match="唯一已发布"):
        drafts.retire(only, user("owner"))
    with pytest.raises(NotAllowed):
        drafts.retire(only, user("city_hr"))
    assert only.status == "published"


def test_publishing_the_content_of_a_retired_version_brings_it_back(ctx, user):
    first, second = _second_version(user)
    drafts.retire(second, user("owner"))
    again = registry.deploy(dict(second.sources["files"]))
    assert again.id == second.id and again.status == "published"
    assert registry.for_new_instances("review_session").id == second.id
