"""The append-only audit trail. Events are added in the caller's transaction.

Every event is a link of a hash chain (one per instance, one for events without an instance).
The links are made when the events are flushed: the chain's head (on the instance row, read
with the instance lock; audit_chain row 0 for events without an instance) is locked, each new
event gets the next number and the hash of the previous link and its own fields, and the head
moves on. ``verify`` walks every chain and names the first broken link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import clock
from app.extensions import db
from app.models import AuditChain, Event, HumanTask, ProcessInstance, User
from app.models.event import canonical_details, link_hash

GLOBAL_CHAIN = 0
_HEADS = "audit_chain_heads"


def record(
    type_: str,
    *,
    actor: User | None = None,
    instance: ProcessInstance | None = None,
    task: HumanTask | None = None,
    bpmn_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        instance_id=instance.id if instance is not None else None,
        at=clock.now(),
        type=type_,
        actor_id=actor.id if actor is not None else None,
        task_id=task.id if task is not None else None,
        bpmn_id=bpmn_id or (task.bpmn_id if task is not None else None),
        details=details or {},
    )
    db.session.add(event)
    return event


def chain_of(event: Event) -> int:
    return event.instance_id if event.instance_id is not None else GLOBAL_CHAIN


def held(instance_id: int, seq: int, digest: str) -> None:
    """cases.lock read the instance's chain head with its lock: the next flush extends the chain
    from it without asking the database again."""
    db.session.info.setdefault(_HEADS, {}).setdefault(instance_id, (seq, digest))


def _lock_head(session: Session, chain: int) -> tuple[int, str]:
    """Lock the chain's head for this transaction and read it.

    An instance's head is on its row (FOR NO KEY UPDATE, the instance lock cases.lock takes:
    writers of the instance queue behind it); the chain without an instance has the audit_chain
    row 0 (created at 0 if missing), locked by a no-op UPDATE. On SQLite either statement comes
    with the database's write lock.
    """
    conn = session.connection()
    if chain != GLOBAL_CHAIN:
        table = ProcessInstance.__table__
        query = select(table.c.audit_seq, table.c.audit_hash).where(table.c.id == chain)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(key_share=True)
        row = conn.execute(query).first()
        return (row.audit_seq, row.audit_hash) if row is not None else (0, "")
    table = AuditChain.__table__
    touch = update(table).where(table.c.chain == chain).values(seq=table.c.seq).returning(table.c.seq, table.c.hash)
    row = conn.execute(touch).first()
    if row is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(table).values(chain=chain, seq=0, hash="").on_conflict_do_nothing())
        row = conn.execute(touch).first()
    return row.seq, row.hash


def _write_head(session: Session, chain: int, seq: int, digest: str) -> None:
    """Move the head on. An instance that this flush updates anyway carries it in that UPDATE (no
    statement of its own); otherwise one UPDATE of the two columns, which leaves the instance's
    version as it is (a comment is no change of the case)."""
    if chain == GLOBAL_CHAIN:
        table = AuditChain.__table__
        session.connection().execute(update(table).where(table.c.chain == chain).values(seq=seq, hash=digest))
        return
    instance = session.identity_map.get(session.identity_key(ProcessInstance, chain))
    if instance is not None and instance in session.dirty and session.is_modified(instance):
        instance.audit_seq, instance.audit_hash = seq, digest
        return
    table = ProcessInstance.__table__
    session.connection().execute(update(table).where(table.c.id == chain).values(audit_seq=seq, audit_hash=digest))
    if instance is not None:
        set_committed_value(instance, "audit_seq", seq)
        set_committed_value(instance, "audit_hash", digest)


def _link_new_events(session: Session, flush_context: Any, instances: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, Event) and obj.hash is None]
    if not new:
        return
    chains: dict[int, list[Event]] = {}
    for item in new:  # session.new keeps the order of add(), which is also the insert order
        chains.setdefault(chain_of(item), []).append(item)
    heads: dict[int, tuple[int, str]] = session.info.setdefault(_HEADS, {})
    for chain in sorted(chains):  # one lock order for every writer: no deadlock between chains
        seq, last = heads[chain] if chain in heads else _lock_head(session, chain)
        for item in chains[chain]:
            seq += 1
            item.details = canonical_details(item.details)
            item.at = item.at or clock.now()
            item.chain_seq = seq
            item.hash = last = link_hash(last, chain, seq, item.at, item.type, item.actor_id, item.task_id,
                                         item.bpmn_id, item.details)
        heads[chain] = (seq, last)
        _write_head(session, chain, seq, last)


def _forget_heads(session: Session, transaction: Any) -> None:
    # After a commit the lock is gone; after a (savepoint) rollback the cached head may be
    # ahead of the database. The next flush reads the head again under its lock.
    session.info.pop(_HEADS, None)


def install(target: Any = None) -> None:
    """Link events on every flush of ``target`` (default: the app's sessions)."""
    target = target if target is not None else db.session
    for name, listener in (("before_flush", _link_new_events), ("after_transaction_end", _forget_heads)):
        if not sa_event.contains(target, name, listener):
            sa_event.listen(target, name, listener)


@dataclass(frozen=True)
class BrokenLink:
    chain: int
    seq: int
    event_id: int | None
    reason: str

    def describe(self) -> str:
        where = "无实例事件链" if self.chain == GLOBAL_CHAIN else f"流程实例 {self.chain} 的事件链"
        event = f"事件 #{self.event_id}" if self.event_id is not None else "链尾"
        return f"{where}第 {self.seq} 环（{event}）：{self.reason}"


@dataclass(frozen=True)
class ChainReport:
    chains: int
    events: int
    broken_chains: int
    first_broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def _walk(chain: int, rows: Iterable[Any], head: tuple[int, str] | None) -> tuple[int, BrokenLink | None]:
    seq, last, count = 0, "", 0
    for row in rows:
        count += 1
        seq += 1
        if row.hash is None or row.chain_seq is None:
            return count, BrokenLink(chain, seq, row.id, "没有链接（未经审计服务写入）")
        if row.chain_seq != seq:
            reason = f"缺少第 {seq} 环" if row.chain_seq > seq else f"编号 {row.chain_seq} 重复或顺序被改"
            return count, BrokenLink(chain, seq, row.id, reason)
        expected = link_hash(last, chain, seq, row.at, row.type, row.actor_id, row.task_id, row.bpmn_id,
                             canonical_details(row.details))
        if row.hash != expected:
            return count, BrokenLink(chain, seq, row.id, "内容被改动或前一环被替换（哈希不符）")
        last = row.hash
    if head is None:
        return count, BrokenLink(chain, seq, None, "链头记录缺失")
    if head != (seq, last):
        if head[0] > seq:
            return count, BrokenLink(chain, seq + 1, None, f"链头记到第 {head[0]} 环，其后的记录被删除")
        return count, BrokenLink(chain, seq, None, "链头与最后一环不符")
    return count, None


def verify(*, batch: int = 5000) -> ChainReport:
    """Recompute every chain from its first link; report the first break in (chain, seq) order."""
    heads = {row.id: (row.audit_seq, row.audit_hash) for row in db.session.execute(
        select(ProcessInstance.id, ProcessInstance.audit_seq, ProcessInstance.audit_hash))}
    global_head = db.session.get(AuditChain, GLOBAL_CHAIN)
    if global_head is not None:
        heads[GLOBAL_CHAIN] = (global_head.seq, global_head.hash)
    columns = (Event.id, Event.instance_id, Event.chain_seq, Event.hash, Event.at, Event.type,
               Event.actor_id, Event.task_id, Event.bpmn_id, Event.details)
    chains = events = broken = 0
    first: BrokenLink | None = None
    seen: set[int] = set()

    def finish(chain: int, rows: list[Any]) -> None:
        nonlocal chains, events, broken, first
        count, problem = _walk(chain, rows, heads.get(chain))
        chains += 1
        events += count
        seen.add(chain)
        if problem is not None:
            broken += 1
            first = first or problem

    # Global chain first, then instances in id order; each chain by id (its insert order).
    global_rows = db.session.execute(
        select(*columns).where(Event.instance_id.is_(None)).order_by(Event.id)).all()
    if global_rows or GLOBAL_CHAIN in heads:
        finish(GLOBAL_CHAIN, global_rows)
    stream = db.session.execute(
        select(*columns).where(Event.instance_id.is_not(None)).order_by(Event.instance_id, Event.id)
        .execution_options(yield_per=batch))
    current: int | None = None
    rows: list[Any] = []
    for row in stream:
        if row.instance_id != current:
            if current is not None:
                finish(current, rows)
            current, rows = row.instance_id, []
        rows.append(row)
    if current is not None:
        finish(current, rows)
    for chain in sorted(set(heads) - seen):
        if heads[chain][0] > 0:
            finish(chain, [])
    return ChainReport(chains=chains, events=events, broken_chains=broken, first_broken=first)
