"""The scenario tests of every bundled model pass (run on the real services, isolated), a wrong
expectation fails naming its step, and a run leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import clock
from app.engine import read_model_folder
from app.extensions import db
from app.models import Document, Event, HumanTask, OutboxMessage, ProcessInstance, ProcessVersion
from app.services import registry, scenarios

ROOT = Path(__file__).resolve().parents[2]
BPMN, FORMS = ROOT / "bpmn", ROOT / "forms"


def bundled() -> list[tuple[str, str]]:
    return [(path.parents[1].name, path.name) for path in sorted(BPMN.glob("*/scenarios/*.json"))]


def model_files(model: str) -> dict[str, str]:
    return read_model_folder(BPMN / model, FORMS)


def one(files: dict[str, str], name: str) -> scenarios.Scenario:
    return next(s for s in scenarios.load(files) if s.file == f"scenarios/{name}")


def counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (ProcessInstance, Event, ProcessVersion, HumanTask, Document, OutboxMessage)}


def test_every_process_the_brief_names_has_scenarios():
    models = {m for m, _ in bundled()}
    assert {"graduate_initial_determination", "title_application", "self_managed_cycle", "supervision"} <= models
    assert {"p08_master_not_yet_intermediate.json", "p09_assistant_level_liandu.json"} <= {
        n for m, n in bundled() if m == "graduate_initial_determination"}


@pytest.mark.parametrize(("model", "name"), bundled(), ids=[f"{m}/{n[:-5]}" for m, n in bundled()])
def test_bundled_scenario_passes(ctx, model, name):
    files = model_files(model)
    result = scenarios.run(files, one(files, name))
    assert result.ok, f"{result.failed_description}：{result.message}"
    assert result.steps_done == result.steps_total
    assert result.path and result.path[0].startswith("StartEvent")


def test_scenario_files_travel_with_the_model_and_do_not_change_compilation(ctx):
    files = model_files("graduate_initial_determination")
    assert "scenarios/p09_assistant_level_liandu.json" in files
    deployed = registry.latest("graduate_initial_determination")
    assert "scenarios/p09_assistant_level_liandu.json" in deployed.sources["files"]
    without = {k: v for k, v in files.items() if not k.startswith("scenarios/")}
    assert registry.compile_files(without).meta["tasks"] == registry.compile_files(files).meta["tasks"]


def test_wrong_final_expectation_fails_naming_the_check(ctx):
    files = model_files("graduate_initial_determination")
    scenario = one(files, "p09_assistant_level_liandu.json")
    scenario.expect["data"]["reviewer_org"] = "丽水市人力资源和社会保障局"  # the defect P09 warns about
    result = scenarios.run(files, scenario)
    assert not result.ok
    assert result.failed_step == len(scenario.steps) + 1
    assert result.failed_description == "结果核对（expect）"
    assert result.message == "结果字段 reviewer_org：期望 丽水市人力资源和社会保障局，实际 莲都区人力资源和社会保障局"
    assert (result.expected, result.actual) == ("丽水市人力资源和社会保障局", "莲都区人力资源和社会保障局")


def test_wrong_step_expectation_fails_at_that_step(ctx):
    files = model_files("graduate_initial_determination")
    scenario = one(files, "p09_assistant_level_liandu.json")
    scenario.steps[1]["expect_open"] = ["初定审核"]  # before the batch opens nothing is open
    result = scenarios.run(files, scenario)
    assert not result.ok
    assert result.failed_step == 2
    assert result.failed_description == "第 2 步：时钟拨到 2022-08-10T08:00，触发到期定时器"
    assert result.message == "办理前的待办任务：期望 “初定审核”，实际 无"
    assert result.steps_done == 1
    assert result.path[-1] == "Task_eligible"  # what ran before the failure


def test_a_task_the_actor_may_not_do_names_step_and_actor(ctx):
    files = model_files("graduate_initial_determination")
    scenario = one(files, "p09_assistant_level_liandu.json")
    scenario.steps[2]["as"] = "city_hr"
    result = scenarios.run(files, scenario)
    assert result.failed_step == 3
    assert "city_hr 不能办理“初定审核”" in result.message
    scenario.steps[2]["as"] = "liandu_hr"
    scenario.steps[2]["task"] = "审核"
    result = scenarios.run(files, scenario)
    assert result.failed_step == 3 and result.message == "没有待办任务“审核”；当前待办：“初定审核”"


def test_wrong_path_fails(ctx):
    files = model_files("graduate_initial_determination")
    scenario = one(files, "p08_master_not_yet_intermediate.json")
    scenario.expect["path"] = ["Task_bureau_review", "Task_certificate"]
    result = scenarios.run(files, scenario)
    assert not result.ok and "Task_certificate" in result.message and "Task_reject" in result.message


def test_a_run_leaves_nothing_behind(ctx):
    clock.set_override(None)
    before = counts()
    compiled = set(registry._compiled)
    for model, name in bundled():
        files = model_files(model)
        assert scenarios.run(files, one(files, name)).ok
    assert counts() == before
    assert clock.override() is None
    assert set(registry._compiled) == compiled
    db.session.rollback()  # a fresh snapshot sees nothing either
    assert counts() == before


def test_a_draft_with_a_changed_model_runs_the_draft_not_the_deployed_version(ctx):
    files = model_files("graduate_initial_determination")
    model = json.loads(files["model.json"])
    model["title"] = "初定：{applicant_name}（场景）"
    files["model.json"] = json.dumps(model, ensure_ascii=False)
    scenario = one(files, "p09_assistant_level_liandu.json")
    versions = counts()["ProcessVersion"]
    result = scenarios.run(files, scenario)
    assert result.ok, result.message
    assert counts()["ProcessVersion"] == versions
    assert registry.latest("graduate_initial_determination").status == "published"


@pytest.mark.parametrize(("text", "message"), [
    ("[1]", "应为 JSON 对象"),
    ('{"start": {}}', "缺少 start（须含 as：发起人用户名）"),
    ('{"start": {"as": "x", "at": "7月1日"}}', "start.at 应为日期"),
    ('{"start": {"as": "x"}, "steps": [{"task": "a", "as": "b", "timers": true}]}', "第 1 步同时含有 task、timers"),
    ('{"start": {"as": "x"}, "steps": [{"data": {}}]}', "第 1 步应含 task"),
    ('{"start": {"as": "x"}, "setup": {"hours": {}}}', "未知的准备项 hours"),
])
def test_format_problems_are_reported_per_file(text, message):
    found = scenarios.problems({"model.json": "{}", "scenarios/bad.json": text})
    assert len(found) == 1 and found[0]["file"] == "scenarios/bad.json"
    assert message in found[0]["message"]


def test_a_scenario_moves_its_own_clock_only(ctx):
    """Another request (another context) keeps the process clock while a scenario runs."""
    import contextvars
    from datetime import datetime

    from app import clock

    clock.set_override(datetime.fromisoformat("2030-01-02T09:00:00+08:00"))
    try:
        with clock.scoped():
            clock.set_scoped(datetime.fromisoformat("2022-07-11T09:00:00+08:00"))
            assert clock.today().isoformat() == "2022-07-11"
            other = contextvars.Context().run(clock.today)
            assert other.isoformat() == "2030-01-02"
        assert clock.today().isoformat() == "2030-01-02"
    finally:
        clock.set_override(None)
