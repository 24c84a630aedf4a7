"""Where a case stands on its diagram: completed, active, cancelled and errored elements.

The saved engine state keeps no finished history (runtime.prune_history), so what is finished
comes from the audit trail (one query over the instance's events, only the columns needed) and
what is live from the engine state, whose size does not grow with the case's history. Gateways
and start events are not audited; they count as passed when the diagram shows a passed element
before them and a reached one after them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app import clock
from app.engine import UnsafeXml, parse_xml
from app.extensions import db
from app.models import Event, HumanTask, ProcessInstance, ProcessVersion
from app.services import cases, deadlines

KINDS = ("completed", "active", "cancelled", "error")
_DONE_EVENTS = ("task_completed", "step_completed", "timer_fired", "message_delivered")
_EVENTS = (*_DONE_EVENTS, "task_cancelled", "engine_error")
_FINISHED = ("completed", "terminated")
_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


@dataclass
class Graph:
    """A BPMN file's nodes and sequence flows, for inferring unaudited gateways and flows."""

    file: str
    xml: str
    kinds: dict[str, str] = field(default_factory=dict)  # element id -> BPMN local tag name
    names: dict[str, str] = field(default_factory=dict)
    flows: dict[str, tuple[str, str]] = field(default_factory=dict)  # flow id -> (source, target)

    def inferred(self, element_id: str) -> bool:
        kind = self.kinds.get(element_id, "")
        return kind.endswith("Gateway") or kind == "startEvent"


_GRAPHS: dict[tuple[int, str], Graph] = {}


def bpmn_file(version: ProcessVersion) -> tuple[str, str] | None:
    """(file name, XML) of the version's BPMN file that holds its process."""
    files = (version.sources or {}).get("files") or {}
    names = sorted(n for n in files if n.endswith(".bpmn"))
    pattern = re.compile(r'<(?:[\w-]+:)?process\s[^>]*\bid="' + re.escape(version.process_id) + '"')
    name = next((n for n in names if pattern.search(files[n])), names[0] if names else None)
    return (name, files[name]) if name else None


def graph(version: ProcessVersion) -> Graph | None:
    """Parsed once per deployed version (versions never change once deployed)."""
    key = (version.id, version.content_hash)
    if key in _GRAPHS:
        return _GRAPHS[key]
    found = bpmn_file(version)
    if found is None:
        return None
    result = Graph(*found)
    try:
        tree = parse_xml(found[1])
    except UnsafeXml:
        return result
    for node in tree.iter(f"{{{_BPMN}}}*"):
        tag = node.tag.split("}", 1)[1]
        ident = node.get("id")
        if not ident:
            continue
        if tag == "sequenceFlow":
            result.flows[ident] = (node.get("sourceRef") or "", node.get("targetRef") or "")
        else:
            result.kinds[ident] = tag
            result.names[ident] = node.get("name") or ""
    if len(_GRAPHS) > 64:
        _GRAPHS.clear()
    _GRAPHS[key] = result
    return result


@dataclass
class Marks:
    completed: set[str] = field(default_factory=set)
    active: set[str] = field(default_factory=set)
    cancelled: set[str] = field(default_factory=set)
    error: set[str] = field(default_factory=set)
    counts: Counter = field(default_factory=Counter)
    flows: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, list[str]]:
        return {kind: sorted(getattr(self, kind)) for kind in KINDS}


def _audited(instance: ProcessInstance, marks: Marks) -> None:
    """Completed and cancelled elements from the trail; the latest of the two wins (a task
    cancelled by a reset and done again is done)."""
    rows = db.session.execute(
        select(Event.type, Event.bpmn_id)
        .where(Event.instance_id == instance.id, Event.type.in_(_EVENTS), Event.bpmn_id.is_not(None))
        .order_by(Event.id)
    ).all()
    last: dict[str, str] = {}
    last_error = None
    for kind, bpmn_id in rows:
        if kind in _DONE_EVENTS:
            marks.counts[bpmn_id] += 1
            last[bpmn_id] = "completed"
        elif kind == "task_cancelled":
            last[bpmn_id] = "cancelled"
        else:
            last_error = bpmn_id
    for bpmn_id, kind in last.items():
        (marks.completed if kind == "completed" else marks.cancelled).add(bpmn_id)
    if instance.status == "error" and last_error:
        marks.error.add(last_error)


def _live(instance: ProcessInstance, marks: Marks) -> None:
    if instance.status in _FINISHED:
        return
    marks.active.update(db.session.scalars(
        select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")))
    try:
        live = cases.load(instance, None).live_elements()
    except Exception:  # noqa: BLE001 - a state the engine cannot load still shows its audit trail
        return
    marks.active.update(live["active"])
    marks.error.update(live["error"])


def _infer(g: Graph, marks: Marks) -> None:
    """Gateways and start events passed, and sequence flows taken (see the module docstring)."""
    outgoing: dict[str, list[str]] = {}
    incoming: dict[str, list[str]] = {}
    for source, target in g.flows.values():
        outgoing.setdefault(source, []).append(target)
        incoming.setdefault(target, []).append(source)
    reached = marks.completed | marks.active

    def spread(seeds: set[str], links: dict[str, list[str]]) -> set[str]:
        found: set[str] = set()
        stack = list(seeds)
        while stack:
            for nxt in links.get(stack.pop(), []):
                if g.inferred(nxt) and nxt not in found and nxt not in reached:
                    found.add(nxt)
                    stack.append(nxt)
        return found

    starts = {e for e, kind in g.kinds.items() if kind == "startEvent"}
    ever = marks.completed | set(marks.counts)  # done at least once, even if active again (a loop)
    forward = spread(ever | starts, outgoing) | (starts - reached)
    backward = spread(reached, incoming)
    passed = forward & backward
    marks.completed |= passed
    done = ever | passed
    for flow_id, (source, target) in g.flows.items():
        if source not in done or target not in (done | marks.active):
            continue
        # gateway to gateway is ambiguous when the target was entered from elsewhere too
        if g.inferred(source) and g.inferred(target) and sum(s in done for s in incoming.get(target, [])) > 1:
            continue
        marks.flows.add(flow_id)


def compute(instance: ProcessInstance) -> Marks:
    marks = Marks()
    _audited(instance, marks)
    _live(instance, marks)
    # a loop: an element done before and reached again is where the case is now
    marks.completed -= marks.active | marks.error
    marks.cancelled -= marks.active | marks.error | marks.completed
    marks.active -= marks.error
    g = graph(instance.version)
    if g is not None:
        _infer(g, marks)
    return marks


def marks(instance: ProcessInstance) -> dict[str, list[str]]:
    """{"completed", "active", "cancelled", "error"}: BPMN element ids, each in one list."""
    return compute(instance).as_dict()


def diagram(instance: ProcessInstance) -> dict[str, Any]:
    """What the instance page's viewer needs (the caller has checked that the user may view)."""
    found = compute(instance)
    g = graph(instance.version)
    names = g.names if g is not None else {}
    listed = [{"id": e, "kind": kind, "name": names.get(e) or e, "count": found.counts.get(e, 0)}
              for kind in ("error", "active", "completed", "cancelled")
              for e in sorted(getattr(found, kind), key=lambda i: names.get(i) or i)
              if g is None or not g.inferred(e)]
    return {"xml": g.xml if g is not None else None, "file": g.file if g is not None else None,
            "marks": found.as_dict(), "counts": dict(found.counts), "flows": sorted(found.flows),
            "elements": listed}


def deadlines_of(tasks: list[HumanTask], today: date | None = None) -> list[dict[str, Any]]:
    """Each open task's due date, working days left (negative: overdue) and due state."""
    today = today or clock.today()
    none = {"state": None, "label": "", "days_left": None}
    return [{"task": task, "due_date": task.due_date,
             **(deadlines.standing(task.due_date, today) if task.due_date else none)} for task in tasks]


def next_timer(instance: ProcessInstance) -> datetime | None:
    """The next timer of a case still running (a suspended case's timers wait for its resumption)."""
    return instance.next_timer_at if instance.status not in _FINISHED else None
