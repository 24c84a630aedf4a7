"""Service-task operations: what a diagram's service tasks may call (spiffworkflow:serviceTaskOperator).

An operation receives the instance, the task data, the evaluated parameters and the actor, runs
inside the step's transaction and returns a flat dict of result fields (merged into the task
data when the service task names no resultVariable). The model validator accepts exactly the
operations registered here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.engine import EngineError
from app.models import ProcessInstance, User


@dataclass
class Call:
    instance: ProcessInstance
    data: Mapping[str, Any]
    params: Mapping[str, Any]
    actor: User | None


Operation = Callable[[Call], dict[str, Any]]
_OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Operation], Operation]:
    def register(func: Operation) -> Operation:
        _OPERATIONS[name] = func
        return func

    return register


def _load() -> None:
    # The modules that define operations register them on import.
    from app.services import certificates, review_sessions, self_managed, supervision, title_review  # noqa: F401


def names() -> frozenset[str]:
    _load()
    return frozenset(_OPERATIONS)


def call(name: str, call_: Call) -> dict[str, Any]:
    _load()
    func = _OPERATIONS.get(name)
    if func is None:
        raise EngineError(f"未知服务 {name}")
    return func(call_)
