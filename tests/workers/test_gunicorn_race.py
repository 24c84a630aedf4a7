"""Two gunicorn workers complete the same task at once: one succeeds, the other gets 409, and the
case moves on once (one completion in the audit trail, one next task).

gunicorn serves the test database from a socket this test binds and listens on first (`fd://`),
so requests queue in the socket's backlog until a worker accepts them: nothing polls or sleeps.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from api_client import Api
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, HumanTask

GRAD = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
        "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}
GUNICORN = Path(sys.executable).with_name("gunicorn")


@pytest.fixture()
def gunicorn(ctx, tmp_path):
    if ctx.config["SQLALCHEMY_DATABASE_URI"] in ("sqlite://", "sqlite:///:memory:"):
        pytest.skip("需要文件数据库或 PostgreSQL（进程之间共享）")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.set_inheritable(True)
    env = {**os.environ, "APP_ENV": "development", "SECRET_KEY": ctx.config["SECRET_KEY"],
           "DATABASE_URL": ctx.config["SQLALCHEMY_DATABASE_URI"], "CLOCK_OVERRIDE": "0",
           "DOCUMENT_DIR": str(tmp_path / "documents"), "CELERY_BROKER_URL": ""}
    process = subprocess.Popen(
        [str(GUNICORN), "--workers", "2", "--bind", f"fd://{listener.fileno()}", "--log-level", "warning",
         "app:create_app()"], env=env, pass_fds=(listener.fileno(),), cwd=Path(__file__).resolve().parents[2])
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        listener.close()


def _post(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_two_workers_complete_the_same_task_once(ctx, gunicorn):
    client = ctx.test_client()
    started = Api(client, "grad_city").post("/api/v1/process-instances", json={
        "process_model": "graduate_initial_determination", "data": GRAD}).get_json()
    unit = Api(client, "institute_hr")
    [task] = unit.tasks(instance_id=started["id"])
    token = unit.headers["Authorization"].removeprefix("Bearer ")
    db.session.commit()

    url = f"{gunicorn}/api/v1/tasks/{task['id']}/complete"
    body = {"data": {"decision": "return", "opinion": "请补充社保缴纳记录"}}
    ready, answers = threading.Barrier(2), []

    def complete() -> None:
        ready.wait()
        answers.append(_post(url, token, body))

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 409], answers
    refused = next(payload for status, payload in answers if status == 409)
    # The later one either waited for the lock and found the task done, or (SQLite) met the lock.
    assert refused["error"]["code"] in ("task_already_completed", "conflict"), refused
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused["error"]["message"])
    db.session.rollback()
    completions = db.session.scalar(select(func.count()).select_from(Event).where(
        Event.instance_id == started["id"], Event.type == "task_completed"))
    open_names = list(db.session.scalars(select(HumanTask.name).where(
        HumanTask.instance_id == started["id"], HumanTask.state == "open")))
    assert completions == 1 and open_names == ["修改申请"]
