"""Crashes: the web server and a Celery worker killed (SIGKILL) in the middle of a load.

gunicorn (two workers) and Celery workers run as separate processes on a PostgreSQL database of
their own (``<test database>_crash``, created and seeded with ``flask --app app prepare``) and the
local Redis (databases 7 and 8). Client threads complete tasks through the REST API; the whole
gunicorn (master and workers) is killed mid-load and started again, and separately a Celery
worker is killed while it fires due timers and delivers messages, and another started. Then:
every instance loads with the engine; its open inbox rows are the engine's ready user tasks;
every inbox row's creation, completion and cancellation has its audit event and no such event
lacks its change; the audit chains are whole (race_support.invariant_problems); each task was
completed once, each timer fired once, each message delivered once.

gunicorn serves from a socket the test binds and listens on first (``fd://``): requests made
while the server is down wait in the socket's backlog and are answered by the restarted one, so
nothing polls for the server to come up. A request the kill cut off may or may not have been
applied: its client sends it again and gets 200 (it was not) or 409 (it was).

Only where PostgreSQL (TEST_DATABASE_URL) and Redis are reachable; otherwise skipped. The last
test needs neither: a completion that fails between writing and committing leaves no trace.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import redis
from race_support import APPROVE, GRADUATE, RETURN, by_name, events, invariant_problems, open_rows
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app import clock, create_app
from app.config import ROOT, TestConfig, database_url
from app.engine import read_model_folder
from app.extensions import db
from app.models import Event, HumanTask, OutboxMessage, ProcessInstance, Setting
from app.services import auth, cases, instances, outbox, registry, tasks, timers

BIN = Path(sys.executable).parent
BROKER = "redis://127.0.0.1:6379/7"
BACKEND = "redis://127.0.0.1:6379/8"
WAIT = 60  # seconds: a safety net, never a way of ordering steps
GRAD = "graduate_initial_determination"
PROBE = Path(__file__).resolve().parents[1] / "web" / "models" / "message_probe"
T0 = "2026-03-02T09:00:00+08:00"
# The two units and their applicants: each unit's tasks are worked by two clients at once.
UNITS = {"liandu_co_hr": "grad_liandu", "institute_hr": "grad_city"}


def _crash_url() -> str | None:
    url = database_url(os.environ.get("TEST_DATABASE_URL") or "")
    if not url.startswith("postgresql"):
        return None
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_crash").render_as_string(hide_password=False)


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _env(url: str, folder: Path, broker: str = "") -> dict[str, str]:
    return {**os.environ, "APP_ENV": "development", "SECRET_KEY": "crash-test", "DATABASE_URL": url,
            "CLOCK_OVERRIDE": "1", "DOCUMENT_DIR": str(folder / "documents"), "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": BACKEND if broker else "", "TIMER_INTERVAL": "0", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def crash_db(tmp_path_factory):
    """A fresh PostgreSQL database beside the test database, prepared as `flask prepare` does."""
    url = _crash_url()
    if url is None:
        pytest.skip("崩溃测试需要 PostgreSQL：设置 TEST_DATABASE_URL=postgresql+psycopg://…")
    if not _redis_up():
        pytest.skip("崩溃测试需要 Redis（127.0.0.1:6379）")
    name = make_url(url).database
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        server.dispose()
        pytest.skip(f"无法创建崩溃测试数据库 {name}：{exc.orig}")
    folder = tmp_path_factory.mktemp("crash")
    subprocess.run([str(BIN / "flask"), "--app", "app", "prepare"], cwd=ROOT, env=_env(url, folder), check=True,
                   capture_output=True, timeout=WAIT * 2)
    yield url, folder
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(scope="module")
def crash_app(crash_db, app):
    url, folder = crash_db

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        DOCUMENT_DIR = str(folder / "documents")
        CELERY_BROKER_URL = ""

    crash = create_app(Config)
    yield crash
    with crash.app_context():
        db.engine.dispose()
    from app import worker

    worker.init_celery(app)  # create_app made its own Celery app the default: the test app's again


@pytest.fixture()
def crash(crash_app):
    """An app context on the crash database; Redis databases 7 and 8 empty."""
    for url in (BROKER, BACKEND):
        redis.Redis.from_url(url).flushdb()
    registry.forget()
    with crash_app.app_context():
        clock.set_override(clock.parse_instant(T0))
        yield crash_app
        db.session.rollback()
        clock.set_override(None)
        db.session.remove()
    registry.forget()
    for url in (BROKER, BACKEND):
        redis.Redis.from_url(url).flushdb()


# -- processes ---------------------------------------------------------------------------------
class Server:
    """gunicorn with two workers, in a process group of its own (killed as one)."""

    def __init__(self, url: str, folder: Path, broker: str = ""):
        self.env = _env(url, folder, broker)
        self.log = folder / "gunicorn.log"
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.listener.set_inheritable(True)
        self.base = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"fd://{self.listener.fileno()}",
                 "--log-level", "warning", "app:create_app()"],
                cwd=ROOT, env=self.env, pass_fds=(self.listener.fileno(),), start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=log)

    def kill(self) -> None:
        """SIGKILL to the master and its workers at once: nothing of theirs runs to an end."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=WAIT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=WAIT)
        self.listener.close()


def _worker(url: str, folder: Path, name: str) -> subprocess.Popen:
    """A Celery worker (one task at a time) in a process group of its own."""
    with open(folder / f"{name}.log", "a") as log:
        return subprocess.Popen(
            [str(BIN / "celery"), "-A", "app.celery_app", "worker", "--pool=solo", "--loglevel=WARNING",
             f"--hostname={name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=_env(url, folder, BROKER), start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=log)


def _stop(process: subprocess.Popen) -> None:
    """A warm shutdown: the task it runs ends first."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=WAIT)


# -- clients -----------------------------------------------------------------------------------
def _post(base: str, path: str, token: str, body: dict) -> tuple[int, dict]:
    """(status, JSON body); OSError or HTTPException when the connection broke (the server died)."""
    request = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


class Load:
    """Client threads completing tasks through the REST API; a request cut off is sent again."""

    def __init__(self, base: str, work: dict[str, list[int]], clients_per_user: int = 2):
        self.base = base
        self.answers: list[tuple[int, int, str]] = []  # (task id, status, error code)
        self.cut: list[int] = []  # tasks whose request broke off (applied or not)
        self.done = 0
        self.lock = threading.Lock()
        self.reached = threading.Event()
        self.threshold = 0
        tokens = {username: auth.issue_token(by_name(username))[0] for username in work}
        db.session.commit()
        self.threads = []
        for username, task_ids in work.items():
            for n in range(clients_per_user):
                order = list(task_ids)
                random.Random(f"{username}{n}").shuffle(order)
                self.threads.append(threading.Thread(target=self._client, args=(tokens[username], order),
                                                     daemon=True))

    def start(self, threshold: int) -> None:
        """Go; ``reached`` is set once ``threshold`` completions were answered 200."""
        self.threshold = threshold
        for thread in self.threads:
            thread.start()

    def _client(self, token: str, order: list[int]) -> None:
        for task_id in order:
            data = RETURN if task_id % 2 else APPROVE
            for _ in range(20):
                try:
                    status, payload = _post(self.base, f"/api/v1/tasks/{task_id}/complete", token, {"data": data})
                except (OSError, http.client.HTTPException):
                    with self.lock:
                        self.cut.append(task_id)
                    continue  # waits in the listener's backlog for the restarted server
                with self.lock:
                    self.answers.append((task_id, status, (payload.get("error") or {}).get("code", "")))
                    if status == 200:
                        self.done += 1
                        if self.done >= self.threshold:
                            self.reached.set()
                break

    def join(self) -> None:
        for thread in self.threads:
            thread.join(WAIT * 2)
            assert not thread.is_alive(), "a client did not finish"

    def check(self, task_ids: list[int]) -> None:
        """Every task completed exactly once: at most one 200 each; a task without one had a
        request cut off (applied, its retry then got 409); every other answer is a 409 saying
        the task is done. All the tasks are completed."""
        statuses = Counter(status for _, status, _ in self.answers)
        assert set(statuses) <= {200, 409}, [a for a in self.answers if a[1] not in (200, 409)]
        assert {code for _, status, code in self.answers if status == 409} <= {"task_already_completed"}
        ok = Counter(task_id for task_id, status, _ in self.answers if status == 200)
        assert max(ok.values()) == 1
        assert set(task_ids) - set(ok) <= set(self.cut)
        db.session.rollback()
        states = dict(db.session.execute(select(HumanTask.id, HumanTask.state).where(HumanTask.id.in_(task_ids))).all())
        assert set(states.values()) == {"completed"}, Counter(states.values())


def _unit_tasks(per_unit: int) -> dict[str, list[int]]:
    """``per_unit`` new graduate cases per unit; their open 用人单位考核 task ids, by unit user."""
    work: dict[str, list[int]] = {}
    for unit, applicant in UNITS.items():
        for _ in range(per_unit):
            instance = instances.start_instance(by_name(applicant), GRAD, dict(GRADUATE))
            work.setdefault(unit, []).extend(row.id for row in open_rows(instance.id))
    return work


def _persist_clock(value) -> None:
    """The clock the server and the workers read (clock_service.sync) and this process's."""
    clock.set_override(value)
    row = db.session.get(Setting, "clock_override") or Setting(key="clock_override", value={})
    row.value = {"now": value.isoformat()}
    db.session.add(row)
    db.session.commit()


# -- the web server ----------------------------------------------------------------------------
def test_killing_the_web_server_mid_load_loses_and_doubles_nothing(crash):
    """Four clients (two per unit, racing on the same tasks) complete 60 tasks through gunicorn;
    after 20 completions the master and both workers get SIGKILL, and gunicorn is started again
    on the same socket. Every task ends completed once; the stored state is whole."""
    url, folder = crash.config["SQLALCHEMY_DATABASE_URI"], Path(crash.config["DOCUMENT_DIR"]).parent
    _persist_clock(clock.parse_instant(T0))
    work = _unit_tasks(30)
    task_ids = [t for ids in work.values() for t in ids]
    server = Server(url, folder)
    server.start()
    try:
        load = Load(server.base, work)
        load.start(threshold=20)
        assert load.reached.wait(WAIT), "the load never got going"
        server.kill()
        with load.lock:
            at_kill = load.done
        server.start()
        load.join()
    finally:
        server.stop()
    assert 20 <= at_kill < len(task_ids), at_kill  # killed mid-load
    load.check(task_ids)
    problems = invariant_problems()
    assert problems == [], problems
    for instance_id in {db.session.get(HumanTask, t).instance_id for t in task_ids}:
        assert len(events(instance_id, "task_completed")) == 1
        assert db.session.get(ProcessInstance, instance_id).status in ("running", "waiting")
    print(f"gunicorn killed after {at_kill} of {len(task_ids)} completions; {len(load.cut)} requests cut off")


# -- a Celery worker ---------------------------------------------------------------------------
def test_killing_a_celery_worker_mid_sweep_fires_and_delivers_each_once(crash):
    """Two Celery workers fire 40 due batch timers and deliver 20 messages (each in the outbox
    twice) while two clients complete 20 tasks through gunicorn; once a third of the timers have
    fired one worker gets SIGKILL and a new one starts; the sweep (as beat sends it) picks up what
    the dead worker left. Each timer fired once, each message delivered once, each task completed
    once; the stored state is whole."""
    from celery import Celery

    url, folder = crash.config["SQLALCHEMY_DATABASE_URI"], Path(crash.config["DOCUMENT_DIR"]).parent
    _persist_clock(clock.parse_instant(T0))
    registry.deploy(read_model_folder(PROBE, ROOT / "forms"))
    db.session.commit()
    due = []
    for n in range(40):
        unit = list(UNITS)[n % 2]
        instance = instances.start_instance(by_name(UNITS[unit]), GRAD, dict(GRADUATE))
        [row] = open_rows(instance.id)
        tasks.complete_task(by_name(unit), row.id, dict(APPROVE))
        due.append(instance.id)
    probes = [instances.start_instance(by_name("grad_liandu"), "message_probe", {}).id for _ in range(20)]
    for case_id in probes:
        for copy in range(2):
            outbox.enqueue("probe_reply", {"instance_id": case_id}, {"decision": f"copy-{copy}", "note": ""})
    outbox.take_pending()  # left for the workers, not delivered here
    db.session.commit()
    work = _unit_tasks(10)
    task_ids = [t for ids in work.values() for t in ids]
    later = max(db.session.get(ProcessInstance, i).next_timer_at for i in due)
    _persist_clock(clock.to_local(later) + clock.ONE_DAY / 24)
    assert len(timers.due_instance_ids()) >= len(due)

    client = Celery("crash-client", broker=BROKER, backend=BACKEND, set_as_current=False)
    workers = [_worker(url, folder, "crash1"), _worker(url, folder, "crash2")]
    server = Server(url, folder, broker=BROKER)
    server.start()
    try:
        # what beat's sweep would queue: small batches, so the kill lands inside one
        for n in range(0, len(due), 4):
            client.send_task("background.fire_timers", args=[due[n:n + 4]])
            if n % 12 == 0:
                client.send_task("background.dispatch_outbox")
        load = Load(server.base, work, clients_per_user=1)
        load.start(threshold=1)
        fired = text("SELECT count(DISTINCT instance_id) FROM event WHERE type = 'timer_fired' "
                     "AND instance_id = ANY(:ids)")
        deadline = time.monotonic() + WAIT
        while (at_kill := db.session.execute(fired, {"ids": due}).scalar_one()) < len(due) // 3:
            db.session.rollback()
            assert time.monotonic() < deadline, "the workers never got going"
            time.sleep(0.01)  # watching the workers' progress: the condition orders the kill
        os.killpg(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=WAIT)
        after_kill = db.session.execute(fired, {"ids": due}).scalar_one()
        delivered_at_kill = _delivered(probes)
        workers.append(_worker(url, folder, "crash3"))
        load.join()
        for _ in range(5):  # beat sweeps until nothing is left (a worker may hold a row meanwhile)
            swept = client.send_task("background.sweep").get(timeout=WAIT)
            for task_id in swept["timer_tasks"]:
                client.AsyncResult(task_id).get(timeout=WAIT)
            if not _left(due):
                break
    finally:
        server.stop()
        for process in workers:
            _stop(process)
    assert after_kill < len(due), after_kill  # killed while timers were still firing
    assert _left(due) == (0, 0)
    load.check(task_ids)
    problems = invariant_problems()
    assert problems == [], problems
    for case_id in due:
        assert len(events(case_id, "timer_fired")) == 1
        assert [r.name for r in open_rows(case_id)] == ["初定审核"]
    for case_id in probes:
        assert len(events(case_id, "message_delivered")) == 1 and events(case_id, "engine_error") == []
        assert db.session.get(ProcessInstance, case_id).status == "completed"
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.name == "probe_reply")).all()
    assert Counter(r.status for r in rows) == {"delivered": len(probes), "dropped": len(probes)}
    assert sorted(i for r in rows for i in r.delivered_to) == sorted(probes)
    print(f"worker killed after {at_kill} of {len(due)} timers fired and {delivered_at_kill} of {len(probes)} "
          "messages delivered")


def _delivered(probes: list[int]) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(func.distinct(Event.instance_id))).where(
        Event.type == "message_delivered", Event.instance_id.in_(probes))) or 0


def _left(due: list[int]) -> tuple[int, int]:
    """(timers of ``due`` still due, outbox rows still pending)."""
    db.session.rollback()
    still = sum(1 for i in timers.due_instance_ids(50_000) if i in set(due))
    pending = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == "pending")) or 0
    return still, pending


# -- in process: a failure between writing and committing --------------------------------------
def test_a_completion_cut_off_before_its_commit_leaves_no_trace(ctx, set_clock, monkeypatch):
    """The connection is lost after the completion's rows and events were written, before its
    COMMIT (what a kill does in the middle of one): the task is still open, no event of it
    remains, the chain is whole; completing it again works, once. Any database."""
    set_clock(T0)
    instance = instances.start_instance(by_name("grad_liandu"), GRAD, dict(GRADUATE))
    case_id = instance.id
    [row] = open_rows(case_id)
    real = cases.commit

    def cut_off() -> None:
        monkeypatch.setattr(cases, "commit", real)
        db.session.flush()  # everything written ...
        raise ConnectionError("连接中断")  # ... and never committed

    monkeypatch.setattr(cases, "commit", cut_off)
    with pytest.raises(ConnectionError):
        tasks.complete_task(by_name("liandu_co_hr"), row.id, dict(RETURN))
    db.session.rollback()
    assert [r.id for r in open_rows(case_id)] == [row.id] and events(case_id, "task_completed") == []
    assert invariant_problems([case_id]) == []
    tasks.complete_task(by_name("liandu_co_hr"), row.id, dict(RETURN))
    assert len(events(case_id, "task_completed")) == 1 and [r.name for r in open_rows(case_id)] == ["修改申请"]
    assert invariant_problems([case_id]) == []
