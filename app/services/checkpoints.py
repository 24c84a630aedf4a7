"""Reset checkpoints, packed: each one deflated with the instance's previous checkpoint as the
dictionary, so what a case stores per created task is close to what changed (B5: bytes per case).

A checkpoint's text is the compact JSON of the engine state (``encode``). The first checkpoint of
an instance, and every MAX_CHAIN-th after it, is deflated on its own (depth 0); the others name
the checkpoint before them (base_id) and are deflated against its text. Reading one inflates its
chain, at most MAX_CHAIN rows fetched in one query. Rows from before migration 0009 keep their
JSON state and serve as bases too.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import undefer

from app import clock
from app.extensions import db
from app.models import InstanceCheckpoint, ProcessInstance

MAX_CHAIN = 8
LEVEL = 6


def encode(state: dict[str, Any]) -> bytes:
    return json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode()


def _deflate(raw: bytes, base: bytes | None) -> bytes:
    packer = zlib.compressobj(LEVEL, zdict=base) if base is not None else zlib.compressobj(LEVEL)
    return packer.compress(raw) + packer.flush()


def _inflate(packed: bytes, base: bytes | None) -> bytes:
    if base is None:
        return zlib.decompress(packed)
    inflater = zlib.decompressobj(zdict=base)
    return inflater.decompress(packed) + inflater.flush()


def _chain(instance_id: int, upto: int | None, limit: int) -> list[InstanceCheckpoint]:
    """The instance's newest checkpoints (up to ``upto``), newest first, their packed bytes loaded."""
    query = (select(InstanceCheckpoint).options(undefer(InstanceCheckpoint.packed))
             .where(InstanceCheckpoint.instance_id == instance_id))
    if upto is not None:
        query = query.where(InstanceCheckpoint.id <= upto)
    return list(db.session.scalars(query.order_by(InstanceCheckpoint.id.desc()).limit(limit)))


def _text(point: InstanceCheckpoint, rows: dict[int, InstanceCheckpoint]) -> bytes:
    """The checkpoint's JSON text, inflating its chain (``rows``: the chain's rows by id)."""
    pending = []
    current: InstanceCheckpoint | None = point
    while current is not None and current.state is None and current.base_id is not None:
        pending.append(current)
        current = rows.get(current.base_id) or db.session.get(InstanceCheckpoint, current.base_id,
                                                               options=[undefer(InstanceCheckpoint.packed)])
    if current is None:
        raise LookupError(f"检查点 {point.id} 的基准缺失")
    text = encode(current.state) if current.state is not None else _inflate(current.packed, None)
    for row in reversed(pending):
        text = _inflate(row.packed, text)
    return text


def state_of(point: InstanceCheckpoint) -> dict[str, Any]:
    """The engine state a checkpoint saved."""
    if point.state is not None:
        return point.state
    rows = {row.id: row for row in _chain(point.instance_id, point.id, point.depth + 1)}
    return json.loads(_text(rows.get(point.id, point), rows))


def create(instance: ProcessInstance) -> InstanceCheckpoint:
    """A checkpoint of the instance's state as it is now (the caller has set it); flushed."""
    raw = encode(instance.state)
    recent = _chain(instance.id, None, MAX_CHAIN)
    previous = recent[0] if recent else None
    base_text, base_id, depth = None, None, 0
    if previous is not None and previous.depth + 1 < MAX_CHAIN:
        base_text = _text(previous, {row.id: row for row in recent})
        base_id, depth = previous.id, previous.depth + 1
    point = InstanceCheckpoint(instance_id=instance.id, version_id=instance.version_id, state=None,
                               packed=_deflate(raw, base_text), base_id=base_id, depth=depth,
                               status=instance.status, created_at=clock.now())
    db.session.add(point)
    db.session.flush()
    return point
