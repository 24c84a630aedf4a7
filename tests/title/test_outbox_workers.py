"""Message delivery under Celery: a use case's messages are delivered by a worker after its commit,
and two dispatchers at once deliver each message once (the real worker, the local Redis)."""

from __future__ import annotations

from celery.result import AsyncResult
from celery_support import WAIT, needs_redis
from sqlalchemy import func, select

from app import background
from app.extensions import db
from app.models import Event, OutboxMessage
from app.services import cases, outbox

pytestmark = needs_redis
ASSIGNED = {"session_id": 99, "session_name": "2022年度第一次评审会议"}


def _delivered(cid: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Event).where(
        Event.instance_id == cid, Event.type == "message_delivered")) or 0


def test_a_use_cases_messages_go_to_a_worker_and_two_dispatchers_deliver_each_once(flow, celery_worker):
    cid = flow.p01_accepted()  # waits for session_assigned
    assert flow.instance(cid)["status"] == "waiting"
    outbox.enqueue("session_assigned", {"instance_id": cid}, ASSIGNED)
    handed = cases.commit()  # the worker's task, not a delivery in this process
    assert handed is not None
    other = background.dispatch_outbox.delay()  # a second dispatcher at the same moment
    counts = [AsyncResult(handed, app=celery_worker).get(timeout=WAIT), other.get(timeout=WAIT)]
    assert sorted(counts) == [0, 1]
    assert _delivered(cid) == 1
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.name == "session_assigned"))
    assert row.status == "delivered" and row.delivered_to == [cid] and row.attempts == 0
    case = flow.instance(cid)
    assert case["data"]["session_id"] == 99 and case["data"]["stage"] == "评审中（2022年度第一次评审会议）"
    # the same message sent again finds nobody waiting: dropped, never delivered twice
    outbox.enqueue("session_assigned", {"instance_id": cid}, ASSIGNED)
    assert AsyncResult(cases.commit(), app=celery_worker).get(timeout=WAIT) == 1
    assert _delivered(cid) == 1
