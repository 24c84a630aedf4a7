"""Administrators' engine operations: restoring a checkpoint with fresh task ids (reset), correcting
live data, and where a case stands (live elements). The renamed state must survive the serializer."""

from __future__ import annotations

import copy
import json
from datetime import datetime

from app.engine.state_ids import renew_task_ids

LIANDU_HR = "莲都区人力资源和社会保障局"
CITY_HR = "丽水市人力资源和社会保障局"


def consistent(dct: dict) -> None:
    """Every parent lists its children and every child names its parent, in every (sub)workflow."""
    for flow in (dct, *(dct.get("subprocesses") or {}).values()):
        tasks = flow["tasks"]
        assert flow["root"] in tasks and flow["last_task"] in tasks
        for tid, task in tasks.items():
            assert task["id"] == tid
            if task["parent"] is not None:
                assert tid in tasks[task["parent"]]["children"]
            for child in task["children"]:
                assert tasks[child]["parent"] == tid


def through_json(state: dict) -> dict:
    return json.loads(json.dumps(state, ensure_ascii=False))


def test_reset_to_the_correction_task_gets_fresh_ids_and_runs_to_the_end(driver, runtime, model, p09, certificates):
    case = driver.start(p09(), "2022-09-29T10:00:00+08:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "return", "opinion": "缺社保记录"})
    checkpoint = through_json(runtime.dump(case))  # what cases.save keeps when Task_revise became ready
    [old] = case.ready_user_tasks()
    deadline = case.next_timer_at()
    case = driver.complete(case, "Task_revise", {"attachments": ["社保缴纳证明.pdf"]}, when="2022-10-10T09:00:00+08:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": ""})
    assert case.status() == "waiting"

    restored, mapping = runtime.restore_renewed(model, checkpoint)
    [task] = restored.ready_user_tasks()
    assert task.bpmn_id == "Task_revise" and task.guid != old.guid and mapping == {old.guid: task.guid}
    assert restored.next_timer_at() == deadline  # the correction deadline still hangs on the task
    assert restored.data() == runtime.restore(model, checkpoint).data()
    assert restored.data()["decision"] == "return" and restored.data()["return_count"] == 0
    assert checkpoint == through_json(checkpoint) and old.guid in checkpoint["tasks"]  # the input is untouched

    saved = through_json(runtime.dump(restored))
    consistent(saved)
    assert old.guid not in json.dumps(saved)
    again = runtime.restore(model, saved)
    assert [(t.guid, t.bpmn_id) for t in again.ready_user_tasks()] == [(task.guid, "Task_revise")]
    assert again.data() == restored.data()

    case = driver.complete(again, "Task_revise", {"attachments": ["社保缴纳证明（盖章）.pdf"]},
                           when="2022-10-12T09:00:00+08:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": ""})
    case = driver.fire(case, "2022-11-10T00:00:00+08:00")
    case = driver.complete(case, "Task_bureau_review", {"decision": "approve", "approved_level": "助理级"})
    assert case.status() == "completed" and case.data()["outcome"] == "approved"
    assert len(certificates) == 1


def test_the_lapse_timer_still_fires_after_a_reset(driver, runtime, model, p09):
    case = driver.start(p09(), "2022-09-29T10:00:00+08:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "return", "opinion": "缺社保记录"})
    restored, _ = runtime.restore_renewed(model, through_json(runtime.dump(case)))
    case = driver.fire(driver.roundtrip(restored), "2022-10-19T00:00:00+08:00")
    assert case.status() == "completed" and case.data()["outcome"] == "lapsed"


def test_renaming_keeps_links_in_subprocesses_and_leaves_holders_alone():
    def task(tid, parent, children, spec="T"):
        return {"id": tid, "parent": parent, "children": children, "state": 16, "task_spec": spec,
                "internal_data": {"merged": [c for c in children]}, "data": {}, "delta": {}}

    dct = {
        "root": "r", "last_task": "u1",
        "tasks": {"r": task("r", None, ["u1", "holder"]), "u1": task("u1", "r", ["f1"]),
                  "f1": task("f1", "u1", []), "holder": task("holder", "r", [])},
        "subprocesses": {"holder": {"root": "s", "last_task": "u2", "parent_task_id": "holder",
                                    "tasks": {"s": task("s", None, ["u2"]), "u2": task("u2", "s", ["e"]),
                                              "e": task("e", "u2", [])}}},
    }
    before = copy.deepcopy(dct)
    mapping = renew_task_ids(dct, {"u1", "u2", "holder"})
    assert set(mapping) == {"u1", "u2"}
    assert len(set(mapping.values())) == 2 and not set(mapping.values()) & set(before["tasks"])
    consistent(dct)
    assert dct["last_task"] == mapping["u1"] and dct["subprocesses"]["holder"]["last_task"] == mapping["u2"]
    assert dct["tasks"]["r"]["internal_data"]["merged"] == [mapping["u1"], "holder"]
    assert "holder" in dct["tasks"] and dct["subprocesses"]["holder"]["parent_task_id"] == "holder"


def test_live_elements_name_where_the_case_stands(driver, p09):
    case = driver.start(p09(), "2022-09-29T10:00:00+08:00")
    assert case.live_elements() == {"active": ["Task_employer_assess"], "error": []}
    case = driver.complete(case, "Task_employer_assess", {"decision": "return", "opinion": "缺社保记录"})
    # the armed correction deadline is not a place of its own: the task it hangs on is
    assert case.live_elements() == {"active": ["Task_revise"], "error": []}
    case = driver.complete(case, "Task_revise", {"attachments": []}, when="2022-10-10T09:00:00+08:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": ""})
    assert case.live_elements() == {"active": ["Timer_batch"], "error": []}


def test_correcting_live_data_changes_what_later_steps_decide(driver, p09):
    case = driver.start(p09(), "2022-07-15T10:00:00+08:00")
    old = case.correct_data({"requested_level": "中级"})
    assert old == {"requested_level": "助理级"}
    case = driver.roundtrip(case)
    assert case.data()["requested_level"] == "中级"
    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": ""})
    # DT-11: a county's 中级 goes to the city bureau, its 助理级 would have stayed in the county
    assert case.data()["reviewer_org"] == CITY_HR
    assert case.next_timer_at() == datetime.fromisoformat("2022-08-10T00:00:00+08:00")
