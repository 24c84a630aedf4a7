"""Title applications in different states and modified copies of the title model, for the migration tests."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "title"))

from sqlalchemy import select  # noqa: E402
from title_flow import P01, P01_HOURS, Flow, build_world, hours  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models import HumanTask, ProcessInstance, ProcessVersion  # noqa: E402
from app.services import registry  # noqa: E402

BPMN = "title_application.bpmn"
MODEL = "title_application"


def variant(edit: Callable[[dict[str, str]], None]) -> ProcessVersion:
    """Deploy a modified copy of the bundled title model (version 1); the edit changes the files in place."""
    files = dict(bundled().sources["files"])
    edit(files)
    version = registry.deploy(files)
    db.session.commit()
    return version


def bundled() -> ProcessVersion:
    return db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == MODEL)
                             .order_by(ProcessVersion.version).limit(1))


def rename(old: str, new: str) -> Callable[[dict[str, str]], None]:
    """Give an element a new id (its flows, lane entry and shape follow)."""
    def edit(files: dict[str, str]) -> None:
        assert f'"{old}"' in files[BPMN]
        files[BPMN] = (files[BPMN].replace(f'"{old}"', f'"{new}"')
                       .replace(f">{old}</bpmn:flowNodeRef>", f">{new}</bpmn:flowNodeRef>"))
    return edit


def edit_form(name: str, change: Callable[[dict], None]) -> Callable[[dict[str, str]], None]:
    def edit(files: dict[str, str]) -> None:
        schema = json.loads(files[f"forms/{name}"])
        change(schema)
        files[f"forms/{name}"] = json.dumps(schema, ensure_ascii=False)
    return edit


def insert_after_unit_notice(files: dict[str, str]) -> None:
    """A new script step 登记公示材料 between 单位内公示 and 计算公示截止日."""
    text = files[BPMN]
    text = text.replace(
        '<bpmn:sequenceFlow id="Flow_Task_unit_notice_Task_unit_notice_end" sourceRef="Task_unit_notice" '
        'targetRef="Task_unit_notice_end" />',
        '<bpmn:sequenceFlow id="Flow_Task_unit_notice_Task_unit_notice_end" sourceRef="Task_unit_notice" '
        'targetRef="Task_notice_materials" />\n'
        '    <bpmn:sequenceFlow id="Flow_notice_materials" sourceRef="Task_notice_materials" '
        'targetRef="Task_unit_notice_end" />')
    text = text.replace(
        '<bpmn:scriptTask id="Task_unit_notice_end"',
        '<bpmn:scriptTask id="Task_notice_materials" name="登记公示材料" scriptFormat="python">'
        '<bpmn:incoming>Flow_Task_unit_notice_Task_unit_notice_end</bpmn:incoming>'
        '<bpmn:outgoing>Flow_notice_materials</bpmn:outgoing><bpmn:script>notice_materials = True</bpmn:script>'
        '</bpmn:scriptTask>\n    <bpmn:scriptTask id="Task_unit_notice_end"')
    text = text.replace('<bpmn:incoming>Flow_Task_unit_notice_Task_unit_notice_end</bpmn:incoming><bpmn:outgoing>'
                        'Flow_Task_unit_notice_end_Timer_unit_notice',
                        '<bpmn:incoming>Flow_notice_materials</bpmn:incoming><bpmn:outgoing>'
                        'Flow_Task_unit_notice_end_Timer_unit_notice')
    text = text.replace("<bpmn:flowNodeRef>Task_unit_notice_end</bpmn:flowNodeRef>",
                        "<bpmn:flowNodeRef>Task_notice_materials</bpmn:flowNodeRef>"
                        "<bpmn:flowNodeRef>Task_unit_notice_end</bpmn:flowNodeRef>")
    files[BPMN] = text


class Cases:
    """Three title applications of teacher1: at 单位审核, at 单位内公示, waiting for the notice to end."""

    def __init__(self, app):
        build_world()
        self.flow = Flow(app.test_client())
        hours("teacher1", P01_HOURS)
        self.flow.at("2022-07-11")
        self.at_review = self.flow.apply("teacher1", **P01)["id"]
        self.at_notice = self.flow.apply("teacher1", **P01)["id"]
        self.flow.do("school_hr", self.at_notice, "单位审核", {"decision": "approve"})
        self.notice_running = self.flow.apply("teacher1", **P01)["id"]
        self.flow.do("school_hr", self.notice_running, "单位审核", {"decision": "approve"})
        self.publish_notice(self.notice_running)
        db.session.rollback()

    def publish_notice(self, cid: int) -> None:
        self.flow.do("school_hr", cid, "单位内公示", {"notice_start": "2022-07-12", "notice_place": "学校公告栏"})

    def get(self, cid: int) -> ProcessInstance:
        db.session.rollback()
        instance = db.session.get(ProcessInstance, cid)
        db.session.refresh(instance)
        return instance

    def open_rows(self, cid: int) -> list[tuple[str, str]]:
        db.session.rollback()
        return [(r.task_guid, r.name) for r in db.session.query(HumanTask)
                .filter(HumanTask.instance_id == cid, HumanTask.state == "open").order_by(HumanTask.id)]
