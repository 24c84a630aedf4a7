"""Checks of a model draft against the version already published.

Running instances hold their position by element id: an instance waiting in, or having passed
through, an element that the new version no longer has (deleted, or its id changed) cannot be
moved to the new version, and an element whose kind changed cannot be resumed as the same
task. These are warnings: publishing is still allowed, running instances stay on their version.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.engine import Problem
from app.engine.bpmn_checks import BPMN, CONTAINERS, FLOW_NODES, label
from app.engine.xmlsafe import UnsafeXml, parse_xml

KIND_LABELS = {
    "process": "流程", "subProcess": "子流程", "transaction": "事务子流程", "adHocSubProcess": "自由子流程",
    "task": "任务", "userTask": "用户任务", "manualTask": "手工任务", "scriptTask": "脚本任务",
    "serviceTask": "服务任务", "sendTask": "发送任务", "receiveTask": "接收任务", "businessRuleTask": "业务规则任务",
    "callActivity": "调用活动", "startEvent": "开始事件", "endEvent": "结束事件",
    "intermediateCatchEvent": "中间捕获事件", "intermediateThrowEvent": "中间抛出事件", "boundaryEvent": "边界事件",
    "exclusiveGateway": "排他网关", "inclusiveGateway": "包容网关", "parallelGateway": "并行网关",
    "eventBasedGateway": "事件网关", "complexGateway": "复杂网关",
}
_TRACKED = FLOW_NODES | CONTAINERS


def _elements(files: Mapping[str, str]) -> dict[str, tuple[str, str, str]]:
    """Every flow node and (sub)process of the BPMN files: id -> (file, kind, label)."""
    found: dict[str, tuple[str, str, str]] = {}
    for name in sorted(files):
        if not name.endswith(".bpmn"):
            continue
        try:
            root = parse_xml(files[name]).getroot()
        except (UnsafeXml, ValueError):
            continue  # reported by the validation of the draft itself
        for element in root.iter():
            tag = element.tag if isinstance(element.tag, str) else ""
            kind = tag[len(BPMN):] if tag.startswith(BPMN) else ""
            ident = element.get("id")
            if kind in _TRACKED and ident:
                found.setdefault(ident, (name, kind, label(element)))
    return found


def changed_ids(files: Mapping[str, str], published_files: Mapping[str, str] | None) -> list[Problem]:
    """Warnings for elements of the published version that the draft lost or changed the kind of."""
    if not published_files:
        return []
    old, new = _elements(published_files), _elements(files)
    problems: list[Problem] = []
    for ident, (file, kind, text) in old.items():
        what = KIND_LABELS.get(kind, kind)
        if ident not in new:
            problems.append(Problem(
                file, ident,
                f"已发布版本中的{what}{text}在草稿中不存在（已删除或改了编号）：正在办理或已经过该元素的案件"
                "无法迁移到新版本；如只是改名，请保留原编号",
                "warning",
            ))
        elif new[ident][1] != kind:
            now = KIND_LABELS.get(new[ident][1], new[ident][1])
            problems.append(Problem(
                new[ident][0], ident,
                f"{text}的类型由{what}改为{now}：停留在该元素的案件无法迁移到新版本",
                "warning",
            ))
    return problems
