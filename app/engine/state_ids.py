"""Renaming tasks inside a saved instance state (an administrator's reset; see Runtime.restore_renewed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import uuid4


def renew_task_ids(dct: dict[str, Any], old_ids: set[str]) -> dict[str, str]:
    """Give the named tasks of a saved state fresh ids, in place; returns {old: new}.

    An administrator's reset restores a checkpoint whose ready tasks already have inbox rows
    (kept as history, their ids unique); the restored tasks need ids of their own. Every
    reference moves with the id: the parent's children, the children's parent, the root and
    last task of the (sub)workflow, and ids kept in internal data (a multi-instance task lists
    its merged children). Subprocess holders are never renamed (their id keys the subprocess).
    """
    subprocesses = dct.get("subprocesses") or {}
    mapping = {old: str(uuid4()) for old in sorted(old_ids) if old not in subprocesses}
    for flow in (dct, *subprocesses.values()):
        tasks: dict[str, dict[str, Any]] = flow.get("tasks") or {}
        if not any(old in tasks for old in mapping):
            continue
        renamed: dict[str, dict[str, Any]] = {}
        for tid, task in tasks.items():
            task["id"] = mapping.get(tid, tid)
            if task.get("parent") is not None:
                task["parent"] = mapping.get(task["parent"], task["parent"])
            task["children"] = [mapping.get(c, c) for c in task.get("children") or []]
            task["internal_data"] = _renamed(task.get("internal_data"), mapping)
            renamed[task["id"]] = task
        flow["tasks"] = renamed
        for key in ("root", "last_task"):
            if flow.get(key) in mapping:
                flow[key] = mapping[flow[key]]
    return mapping


def _renamed(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, list):
        return [_renamed(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, mapping) for k, v in value.items()}
    return value
