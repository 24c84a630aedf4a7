"""Structural checks and lint rules on a BPMN file's XML, in Chinese, each naming its element.

`structure_problems` finds what would make the SpiffWorkflow parser fail with an English or
misleading message (duplicate ids, sequence flows pointing nowhere, gateway flows without a
condition); the loader reports them instead of parsing. `lint_problems` finds what parses but
cannot work as drawn: missing or surplus start events, elements no path reaches, flow nodes
with no way out, flows into a start event or out of an end event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
OMG = "{http://www.omg.org/spec/"
FLOW_NODES = frozenset({
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway",
})
CONTAINERS = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})
CONDITIONAL_GATEWAYS = {"exclusiveGateway": "排他网关", "inclusiveGateway": "包容网关"}
# Flow nodes that must lead somewhere: an activity without an outgoing flow is an implicit end,
# which BPMN allows; a gateway or a non-end event that leads nowhere is a drawing mistake.
NEED_OUTGOING = frozenset({
    "startEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway",
})

Found = list[tuple[str, str]]


def _local(element: Any) -> str:
    tag = element.tag
    return tag[len(BPMN):] if isinstance(tag, str) and tag.startswith(BPMN) else ""


def label(element: Any) -> str:
    """How a message names an element: “名称”（编号） or just the id."""
    name, ident = (element.get("name") or "").strip(), element.get("id") or ""
    return f"“{name}”（{ident}）" if name else ident


def _containers(root: Any) -> Iterator[Any]:
    for element in root.iter():
        if _local(element) in CONTAINERS:
            if _local(element) == "process" and element.get("isExecutable") == "false":
                continue
            yield element


def _children(container: Any, kinds: frozenset[str]) -> list[Any]:
    return [c for c in container if _local(c) in kinds]


def _flows(container: Any) -> list[Any]:
    return [c for c in container if _local(c) == "sequenceFlow"]


def structure_problems(root: Any) -> Found:
    """What stops the file from being parsed as drawn."""
    found: Found = []
    # Extension elements (spiffworkflow:parameter) reuse ids freely; the BPMN and DI ones may not.
    counts = Counter(e.get("id") for e in root.iter()
                     if isinstance(e.tag, str) and e.tag.startswith(OMG) and e.get("id"))
    for ident, count in sorted(counts.items()):
        if count > 1:
            found.append((ident, f"元素编号“{ident}”在文件中出现了 {count} 次；编号必须唯一"))
    for container in _containers(root):
        nodes = {n.get("id"): n for n in _children(container, FLOW_NODES)}
        for flow in _flows(container):
            for attribute, what in (("sourceRef", "起点"), ("targetRef", "终点")):
                ref = flow.get(attribute) or ""
                if not ref:
                    found.append((flow.get("id") or "", f"顺序流缺少{what}（{attribute}）"))
                elif ref not in nodes:
                    where = "不在同一流程（或子流程）中" if ref in counts else "不存在"
                    found.append((flow.get("id") or "", f"顺序流的{what}“{ref}”{where}"))
        found += _gateway_problems(container, nodes)
        found += _split_problems(container, nodes)
        for boundary in _children(container, frozenset({"boundaryEvent"})):
            if boundary.get("attachedToRef") not in nodes:
                found.append((boundary.get("id") or "",
                              f"边界事件附着的活动“{boundary.get('attachedToRef') or ''}”不存在"))
    return found


def _gateway_problems(container: Any, nodes: dict[str | None, Any]) -> Found:
    found: Found = []
    flows = _flows(container)
    for ident, node in nodes.items():
        kind = CONDITIONAL_GATEWAYS.get(_local(node))
        if kind is None:
            continue
        outgoing = [f for f in flows if f.get("sourceRef") == ident]
        default = node.get("default")
        if default and default not in {f.get("id") for f in outgoing}:
            found.append((ident or "", f"{kind}{label(node)}的默认流“{default}”不是它流出的顺序流"))
        if len(outgoing) < 2:
            continue
        for flow in outgoing:
            condition = flow.find(f"{BPMN}conditionExpression")
            has_condition = condition is not None and (condition.text or "").strip()
            if flow.get("id") != default and not has_condition:
                found.append((flow.get("id") or "",
                              f"{kind}{label(node)}有 {len(outgoing)} 条流出的顺序流，此顺序流既没有条件表达式，"
                              "也不是网关的默认流；请填写条件，或把它设为默认流"))
    return found


def _split_problems(container: Any, nodes: dict[str | None, Any]) -> Found:
    """The engine branches only at gateways (and start events): a task with two outgoing flows fails to parse."""
    outgoing = Counter(f.get("sourceRef") for f in _flows(container))
    return [(ident or "", f"不支持从{label(node)}直接分出多条顺序流（共 {outgoing[ident]} 条）；"
                          "请在它之后加一个并行网关或排他网关来分支")
            for ident, node in nodes.items()
            if outgoing[ident] > 1 and not _local(node).endswith("Gateway") and _local(node) != "startEvent"]


def lint_problems(root: Any) -> Found:
    """What parses but cannot run as drawn."""
    found: Found = []
    for container in _containers(root):
        found += _start_problems(container)
        found += _flow_direction_problems(container)
        found += _unreachable(container)
    return found


def _has_event_definition(event: Any) -> bool:
    return any(_local(c).endswith("EventDefinition") for c in event)


def _start_problems(container: Any) -> Found:
    kind = _local(container)
    event_subprocess = kind == "subProcess" and container.get("triggeredByEvent") == "true"
    what = "事件子流程" if event_subprocess else ("流程" if kind == "process" else "子流程")
    starts = _children(container, frozenset({"startEvent"}))
    ident = container.get("id") or ""
    if not starts:
        return [(ident, f"{what}{label(container)}缺少开始事件")]
    if event_subprocess:
        return [(s.get("id") or "", f"事件子流程的开始事件{label(s)}须定义触发事件（消息、定时器等）")
                for s in starts if not _has_event_definition(s)]
    plain = [s for s in starts if not _has_event_definition(s)]
    if kind != "process" and len(starts) > 1:
        return [(s.get("id") or "", f"子流程{label(container)}只能有一个开始事件") for s in starts[1:]]
    if len(plain) > 1:
        names = "、".join(s.get("id") or "" for s in plain)
        return [(s.get("id") or "", f"{what}有多个无触发条件的开始事件（{names}），发起时会同时走多条路径；请只保留一个")
                for s in plain[1:]]
    return []


def _flow_direction_problems(container: Any) -> Found:
    found: Found = []
    flows = _flows(container)
    sources = {f.get("sourceRef") for f in flows}
    targets = {f.get("targetRef") for f in flows}
    for node in _children(container, FLOW_NODES):
        ident, kind = node.get("id") or "", _local(node)
        if kind in ("startEvent", "boundaryEvent") and ident in targets:
            what = "开始事件" if kind == "startEvent" else "边界事件"
            found.append((ident, f"{what}{label(node)}不能有流入的顺序流"))
        if kind == "endEvent" and ident in sources:
            found.append((ident, f"结束事件{label(node)}不能有流出的顺序流"))
        if kind in NEED_OUTGOING and ident not in sources:
            found.append((ident, f"{label(node)}没有流出的顺序流，流程会停在这里；请连接后续元素或结束事件"))
    return found


def _unreachable(container: Any) -> Found:
    nodes = {n.get("id"): n for n in _children(container, FLOW_NODES)}
    following: dict[str | None, list[str | None]] = {}
    for flow in _flows(container):
        following.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    boundaries: dict[str | None, list[str | None]] = {}
    for ident, node in nodes.items():
        if _local(node) == "boundaryEvent":
            boundaries.setdefault(node.get("attachedToRef"), []).append(ident)
    roots = [i for i, n in nodes.items() if _is_root(n)]
    reached: set[str | None] = set()
    while roots:
        ident = roots.pop()
        if ident in reached or ident not in nodes:
            continue
        reached.add(ident)
        roots += following.get(ident, []) + boundaries.get(ident, [])
    return [(ident or "", f"{label(node)}无法从开始事件到达（没有进入它的顺序流，或只能从同样无法到达的元素进入）")
            for ident, node in nodes.items() if ident not in reached]


def _is_root(node: Any) -> bool:
    kind = _local(node)
    if kind == "startEvent":
        return True
    if kind == "subProcess" and node.get("triggeredByEvent") == "true":
        return True
    if node.get("isForCompensation") == "true":
        return True
    # A link catch event is entered from its throw event, which no sequence flow shows.
    return kind == "intermediateCatchEvent" and any(_local(c) == "linkEventDefinition" for c in node)
