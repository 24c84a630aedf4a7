"""Issue 8 targets measured so far (bench/RESULTS.md): B1 and B3. Prints figures; asserts nothing.

B1: one completion of 用人单位考核 through the services (tasks.complete_task: the task and access
    check, lock, load, complete, engine steps, save, inbox projection, checkpoint, audit, commit; the
    actor is the signed-in user as a request has it, roles loaded) against the bare library on the
    same model and the same saved state (its serializer's from_dict of the full serialization, spec
    included; run the task; engine steps; to_dict and JSON), side by side on each of N cases;
    target: services ≤ 3× bare.
B3: a graduate application sent back and resubmitted 40 times: the 41st 用人单位考核 completion
    (again a return) against the first, median of 5 cases; target ≤ 1.5×.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from uuid import UUID

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, User
from app.services import instances, registry, tasks

START = {"education": "大专", "graduation_date": "2019-06-30", "work_start_date": "2019-07-01",
         "months_pre_degree": 0, "specialty": "机械设计", "requested_level": "员级"}
RETURN = {"decision": "return", "opinion": "请补充材料"}


def machine() -> str:
    import os

    return f"{platform.node()} · {os.cpu_count()} 核 · Python {platform.python_version()} · {platform.platform()}"


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _open(instance_id: int) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open"))


def _bare_ms(instance: ProcessInstance, guid: str, data: dict) -> float:
    """The library on its own: its serializer restores the workflow from the full serialization
    (spec included, as `serialize_json` writes it), the task runs, engine steps, serialize to JSON."""
    runtime, model = registry.runtime(lambda *a: {}), registry.compiled(instance.version)
    serializer = runtime._serializer
    dct = json.loads(json.dumps(instance.state))  # what a load reads from the database
    dct.pop("serializer_version", None)
    dct["spec"], dct["subprocess_specs"] = runtime._spec_dict(model), runtime._subprocess_dicts(model)
    began = time.perf_counter()
    workflow = serializer.from_dict(dct)
    workflow.script_engine = runtime.script_engine()
    workflow.get_task_from_id(UUID(guid)).data.update(data)
    workflow.get_task_from_id(UUID(guid)).run()
    workflow.do_engine_steps()
    json.dumps(serializer.to_dict(workflow))
    return (time.perf_counter() - began) * 1000


def b1(count: int = 40) -> tuple[float, float]:
    applicant, employer = _user("grad_liandu"), _user("liandu_co_hr")
    bare, service = [], []
    for _ in range(count):
        case = instances.start_instance(applicant, "graduate_initial_determination", dict(START))
        task = _open(case.id)
        bare.append(_bare_ms(case, task.task_guid, {"decision": "approve"}))
        _ = employer.roles  # the signed-in user as the login layer hands it over (loaded with its roles)
        began = time.perf_counter()
        tasks.complete_task(employer, task.id, {"decision": "approve"})
        service.append((time.perf_counter() - began) * 1000)
    return statistics.median(bare), statistics.median(service)


def run(app) -> None:
    with app.app_context():
        bare, service = b1()
        first, last = _b3(app)
    print(f"\nB. 性能目标（{machine()}）")
    print(f"   B1 单次办理：服务 {service:.1f} ms / 裸库 {bare:.1f} ms = {service / bare:.2f}×（目标 ≤ 3×）")
    print(f"   B3 退回重交 40 次：第 41 次 {last:.1f} ms / 第 1 次 {first:.1f} ms = {last / first:.2f}×（目标 ≤ 1.5×）")


def _b3(app, cases: int = 5, rounds: int = 40) -> tuple[float, float]:
    applicant, employer = _user("grad_liandu"), _user("liandu_co_hr")
    first, last = [], []
    for _ in range(cases):
        case = instances.start_instance(applicant, "graduate_initial_determination", dict(START))
        for n in range(rounds + 1):
            task = _open(case.id)
            began = time.perf_counter()
            tasks.complete_task(employer, task.id, RETURN)
            elapsed = (time.perf_counter() - began) * 1000
            if n == 0:
                first.append(elapsed)
            if n == rounds:
                last.append(elapsed)
                break
            tasks.complete_task(applicant, _open(case.id).id, dict(START))
    return statistics.median(first), statistics.median(last)
