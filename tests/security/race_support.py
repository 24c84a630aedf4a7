"""What the race and crash tests share: two (or more) sessions in threads, one of them paused at a
chosen seam, and the invariants every instance must keep whatever happened to it.

A session is a thread with its own app context (so its own database session). A gate pauses the
named thread the first time it reaches a seam (a service function wrapped for that thread only)
and lets it go when the test opens the gate: steps are ordered by events, never by sleeping; the
timeouts are safety nets. ``wait_queued`` is how a test knows the second writer is queued behind
the first before it lets the first one commit (PostgreSQL: its backend waits for a lock,
pg_blocking_pids); ``finishes_unblocked`` that a session never waited for the one held.
``invariant_problems`` says what is wrong with the stored instances (the crash tests check the
whole database with it).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Event, HumanTask, ProcessInstance, User, UserRole

TIMEOUT = 60  # seconds: a safety net, never a way of ordering steps

GRADUATE = {"education": "本科", "graduation_date": "2024-07-01", "work_start_date": "2024-07-15",
            "months_pre_degree": 0, "specialty": "软件工程", "requested_level": "助理级"}
RETURN = {"decision": "return", "opinion": "请补充社保缴纳记录"}
APPROVE = {"decision": "approve"}


def postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def require_postgres(why: str) -> None:
    if not postgres():
        pytest.skip(f"仅 PostgreSQL：{why}")


_LIVE: list[Any] = []  # this test's gates and sessions, for release_all


class Gate:
    """Holds one thread at a seam: ``reached`` once it got there, it goes on when ``open``ed."""

    def __init__(self, name: str):
        self.name = name
        self.reached = threading.Event()
        self.opened = threading.Event()
        _LIVE.append(self)

    def hold(self) -> None:
        self.reached.set()
        if not self.opened.wait(TIMEOUT):
            raise TimeoutError(f"gate {self.name} was never opened")

    def wait_reached(self, session: Session) -> None:
        """Until ``session`` is held here (it failing first, or never coming, fails the test)."""
        deadline = time.monotonic() + TIMEOUT
        while not self.reached.wait(0.05):
            if not session.is_alive():
                raise AssertionError(f"session {session.name} ended before {self.name}: {session.outcome()!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"session {session.name} never reached {self.name}")

    def open(self) -> None:
        self.opened.set()


def pause(monkeypatch, target: Any, name: str, thread: str, *, after: bool = False) -> Gate:
    """Wrap ``target.name`` so that the thread named ``thread`` stops at its first call (before it
    runs, or with ``after`` once it returned); every other call goes straight through."""
    original = getattr(target, name)
    gate = Gate(f"{getattr(target, '__name__', target)}.{name}")

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        mine = threading.current_thread().name == thread and not gate.reached.is_set()
        if mine and not after:
            gate.hold()
        result = original(*args, **kwargs)
        if mine and after:
            gate.hold()
        return result

    monkeypatch.setattr(target, name, wrapper)
    return gate


class Session(threading.Thread):
    """One user's (or worker's) session: ``work()`` in its own app context; keeps what it returned
    or raised. On PostgreSQL ``pid`` is its backend, known once ``ready`` is set."""

    def __init__(self, app, name: str, work: Callable[[], Any]):
        super().__init__(name=name, daemon=True)
        self.app, self.work = app, work
        self.result: Any = None
        self.error: BaseException | None = None
        self.trace = ""
        self.pid: int | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        with self.app.app_context():
            try:
                if db.engine.dialect.name == "postgresql":
                    self.pid = db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
                self.ready.set()
                self.result = self.work()
            except BaseException as exc:  # noqa: BLE001 - the test reads it
                self.error = exc
                self.trace = traceback.format_exc()
            finally:
                self.ready.set()
                db.session.rollback()
                db.session.remove()

    def outcome(self) -> Any:
        """What the session ended with: its result, or the exception it raised."""
        self.join(TIMEOUT)
        assert not self.is_alive(), f"session {self.name} did not finish"
        return self.error if self.error is not None else self.result


def start(app, name: str, work: Callable[[], Any]) -> Session:
    db.session.commit()  # the test's own session holds nothing while the sessions run
    session = Session(app, name, work)
    _LIVE.append(session)
    session.start()
    return session


def release_all() -> None:
    """After a test (a failed one too): open its gates and let its sessions end, so none holds a
    lock into the next test."""
    for item in _LIVE:
        if isinstance(item, Gate):
            item.open()
    for item in _LIVE:
        if isinstance(item, Session):
            item.join(TIMEOUT)
    _LIVE.clear()


def arrives(monkeypatch, target: Any, name: str, thread: str) -> threading.Event:
    """An event set when the thread named ``thread`` calls ``target.name`` (which it then runs)."""
    original = getattr(target, name)
    arrived = threading.Event()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == thread:
            arrived.set()
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)
    return arrived


def wait_queued(session: Session, arrived: threading.Event) -> None:
    """Until the session is queued behind the writer that holds the instance.

    PostgreSQL: its backend waits for a lock another backend holds (pg_blocking_pids). SQLite: it
    has come to the statement that takes the write lock (``arrived``, see ``arrives``); it sleeps
    there in SQLite's busy handler, which nothing outside can watch, and whenever that statement
    gets the lock the outcome is the same: a transaction that read before the holder's commit is
    refused, one that had not read yet reads the holder's result.
    """
    if db.engine.dialect.name != "postgresql":
        deadline = time.monotonic() + TIMEOUT
        while not arrived.wait(0.05):
            assert session.is_alive(), f"session {session.name} ended before it queued: {session.outcome()!r}"
            assert time.monotonic() < deadline, f"session {session.name} never came to the lock"
        return
    assert session.ready.wait(TIMEOUT)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            assert session.is_alive(), f"session {session.name} ended instead of waiting: {session.outcome()!r}"
            if connection.execute(text("SELECT cardinality(pg_blocking_pids(:pid))"), {"pid": session.pid}).scalar():
                return
            time.sleep(0.005)  # polling the lock table: the condition, not the delay, orders the steps
    raise AssertionError(f"session {session.name} never waited for a lock")


def finishes_unblocked(session: Session) -> Any:
    """PostgreSQL: the session runs to its end without ever waiting for a lock (the test holds the
    other session at a seam: a wait would be for it, and end in a deadlock once it goes on)."""
    assert session.ready.wait(TIMEOUT)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        deadline = time.monotonic() + TIMEOUT
        while session.is_alive():
            waits = connection.execute(text("SELECT cardinality(pg_blocking_pids(:pid))"), {"pid": session.pid})
            assert not waits.scalar(), f"session {session.name} waits for the session held at the seam"
            assert time.monotonic() < deadline, f"session {session.name} did not finish"
            session.join(0.005)
    return session.outcome()


def refused(outcome: Any, on_postgres: type = Exception, says: str = "") -> None:
    """The session was refused with a Conflict (409). On PostgreSQL, where it waited and then read
    the other one's result, it is ``on_postgres`` saying ``says``; SQLite refuses the writer whose
    read is older than the other's commit as a Conflict of its own (流程正由他人同时办理)."""
    from app.services.errors import Conflict

    assert isinstance(outcome, Conflict), outcome
    if postgres():
        assert isinstance(outcome, on_postgres) and says in outcome.message, outcome
    else:
        assert "同时" in outcome.message, outcome


def by_name(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def colleague(of: str, username: str) -> User:
    """A second holder of ``of``'s roles in the same organisation (both may claim its group tasks)."""
    first = by_name(of)
    other = User(username=username, display_name=f"{first.display_name}（同事）", password_hash="!", org_id=first.org_id)
    for role in first.roles:
        other.roles.append(UserRole(role=role.role, org_id=role.org_id))
    db.session.add(other)
    db.session.commit()
    return other


def events(instance_id: int, type_: str) -> list[Event]:
    db.session.rollback()
    return list(db.session.scalars(select(Event).where(Event.instance_id == instance_id, Event.type == type_)
                                   .order_by(Event.id)))


def open_rows(instance_id: int) -> list[HumanTask]:
    db.session.rollback()
    return list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.state == "open").order_by(HumanTask.id)))


# -- invariants --------------------------------------------------------------------------------
# Each inbox row's life in the audit trail: the event that made it and the one that ended it.
ROW_EVENTS = {"task_created": None, "task_completed": "completed", "task_cancelled": "cancelled"}


def invariant_problems(instance_ids: list[int] | None = None) -> list[str]:
    """What is wrong with the stored instances (empty: nothing).

    Each instance loads with the engine and is not in error; its open inbox rows are exactly the
    engine's ready user tasks; every row has exactly one task_created event, a completed row
    exactly one task_completed and a cancelled row one task_cancelled, and every such event names
    a row in that state (no change without its event, no event without its change); an instance
    has one instance_started event, and one instance_completed exactly when it is completed; the
    audit chains are whole.
    """
    from app.services import audit, cases

    db.session.rollback()
    problems: list[str] = []
    query = select(ProcessInstance).order_by(ProcessInstance.id)
    if instance_ids is not None:
        query = query.where(ProcessInstance.id.in_(instance_ids))
    for instance in db.session.scalars(query):
        where = f"instance {instance.id} ({instance.process_id}, {instance.status})"
        try:
            case = cases.load(instance, None)
        except Exception as exc:  # noqa: BLE001 - reported
            problems.append(f"{where} does not load: {type(exc).__name__}: {exc}")
            continue
        if instance.status == "error":
            problems.append(f"{where} is in error: {instance.error_message}")
        ready = {t.guid for t in case.ready_user_tasks()}
        rows = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
        inbox = {r.task_guid for r in rows if r.state == "open"}
        # (termination cancels the open rows and leaves the engine's state as it was)
        if instance.status != "terminated" and inbox != ready:
            problems.append(f"{where}: open rows {sorted(inbox)} != ready tasks {sorted(ready)}")
        trail = db.session.execute(select(Event.type, Event.task_id).where(Event.instance_id == instance.id)).all()
        kinds = Counter(type_ for type_, _ in trail)
        if kinds["instance_started"] != 1:
            problems.append(f"{where}: {kinds['instance_started']} instance_started events")
        if kinds["instance_completed"] != (1 if instance.status == "completed" else 0):
            problems.append(f"{where}: {kinds['instance_completed']} instance_completed events")
        states = {r.id: r.state for r in rows}
        for type_, state in ROW_EVENTS.items():
            seen = Counter(task_id for kind, task_id in trail if kind == type_)
            for row in rows:
                expected = 1 if state is None or row.state == state else 0
                if seen.get(row.id, 0) != expected:
                    problems.append(f"{where}: task {row.id} ({row.name}, {row.state}) has "
                                    f"{seen.get(row.id, 0)} {type_} events")
            for task_id in seen:
                if task_id not in states:
                    problems.append(f"{where}: {type_} event for task {task_id} of no row here")
    report = audit.verify()
    if not report.ok:
        problems.append(f"audit chain broken: {report.first_broken.describe()}")
    db.session.rollback()
    return problems


def count(model: Any, *where: Any) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
