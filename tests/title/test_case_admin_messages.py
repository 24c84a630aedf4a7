"""Messages to a suspended case wait for it (held, never lost) and arrive when it is resumed;
a terminated case's held messages are dropped with a note. Title review: waiting for a session."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Event, MessageSubscription, OutboxMessage
from app.services import outbox

ASSIGNED = {"name": "session_assigned", "payload": {"session_id": 99, "session_name": "2022年度第一次评审会议"}}


def accepted_case(flow) -> int:
    cid = flow.p01_accepted()
    assert flow.instance(cid)["status"] == "waiting"
    return cid


def held_rows() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "held")))


def test_a_message_to_a_suspended_case_waits_until_it_is_resumed(flow):
    cid = accepted_case(flow)
    admin = flow.api("admin")
    assert admin.post(f"/api/v1/process-instances/{cid}/suspend", json={"reason": "核查诚信记录"}).status_code == 200
    sent = admin.post("/api/v1/messages", json={**ASSIGNED, "correlation": {"instance_id": cid}})
    assert sent.status_code == 202, sent.get_json()
    case = flow.instance(cid)
    assert case["status"] == "suspended" and case["data"]["stage"] == "资格审查通过，等待评审会次"
    [row] = held_rows()
    assert row.correlation["instance_id"] == cid and row.payload == ASSIGNED["payload"]
    [note] = db.session.scalars(select(Event).where(Event.instance_id == cid, Event.type == "message_held"))
    assert "恢复后投递" in note.details["note"]

    # a message thrown by another case goes through the outbox: held the same way
    outbox.enqueue("session_assigned", {"instance_id": cid}, ASSIGNED["payload"])
    db.session.commit()
    outbox.dispatch()
    assert len(held_rows()) == 2

    resumed = admin.post(f"/api/v1/process-instances/{cid}/resume", json={"reason": "核查无问题"})
    assert resumed.status_code == 200, resumed.get_json()
    assert held_rows() == []
    case = flow.instance(cid)
    assert case["data"]["stage"] == "评审中（2022年度第一次评审会议）" and case["data"]["session_id"] == 99
    delivered = db.session.scalars(select(Event).where(Event.instance_id == cid, Event.type == "message_delivered"))
    assert len(list(delivered)) == 1  # the second copy found nobody waiting any more
    [event] = db.session.scalars(select(Event).where(Event.instance_id == cid, Event.type == "instance_resumed"))
    assert len(event.details["released_messages"]) == 2


def test_terminating_drops_held_messages_with_a_note(flow):
    cid = accepted_case(flow)
    admin = flow.api("admin")
    assert admin.post(f"/api/v1/process-instances/{cid}/suspend", json={"reason": "核查"}).status_code == 200
    assert admin.post("/api/v1/messages", json={**ASSIGNED, "correlation": {"instance_id": cid}}).status_code == 202
    assert admin.post(f"/api/v1/process-instances/{cid}/terminate", json={"reason": "申请人撤回"}).status_code == 200
    db.session.rollback()
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.name == "session_assigned"))
    assert row.status == "dropped" and "已终止" in row.error
    assert db.session.scalars(select(MessageSubscription).where(MessageSubscription.instance_id == cid)).all() == []
    missing = admin.post("/api/v1/messages", json={**ASSIGNED, "correlation": {"instance_id": cid}})
    assert missing.status_code == 404
