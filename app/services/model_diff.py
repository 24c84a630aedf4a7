"""Structured differences between two sets of model files (BPMN, DMN, forms, model.json).

`compare(old_files, new_files)` answers "what changed" in the words of the people reviewing
a new plan year's models: diagram elements by id, decision-table rows by rule id, form fields
by property, model.json keys. Any file is accepted: a file on one side only is an added or
removed file (its contents are listed as added or removed), a file that does not parse is
compared line by line.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from app.engine.xmlsafe import UnsafeXml, parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI_NAMESPACES = frozenset({
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
})

# Diagram elements that are compared on their own; everything else (scripts, conditions, event
# definitions, extension properties, incoming/outgoing) belongs to the nearest such ancestor.
BPMN_TYPES = {
    "process": "流程",
    "collaboration": "协作",
    "participant": "参与者（池）",
    "laneSet": "泳道集",
    "lane": "泳道",
    "message": "消息",
    "signal": "信号",
    "error": "错误",
    "escalation": "升级",
    "startEvent": "开始事件",
    "endEvent": "结束事件",
    "intermediateCatchEvent": "中间捕获事件",
    "intermediateThrowEvent": "中间抛出事件",
    "boundaryEvent": "边界事件",
    "task": "任务",
    "userTask": "人工任务",
    "manualTask": "手工任务",
    "scriptTask": "脚本任务",
    "serviceTask": "服务任务",
    "businessRuleTask": "业务规则任务",
    "sendTask": "发送任务",
    "receiveTask": "接收任务",
    "callActivity": "调用活动",
    "subProcess": "子流程",
    "transaction": "事务子流程",
    "exclusiveGateway": "排他网关",
    "parallelGateway": "并行网关",
    "inclusiveGateway": "包容网关",
    "eventBasedGateway": "事件网关",
    "complexGateway": "复杂网关",
    "sequenceFlow": "顺序流（连线）",
    "messageFlow": "消息流",
    "dataObject": "数据对象",
    "dataObjectReference": "数据对象引用",
    "dataStoreReference": "数据存储引用",
    "textAnnotation": "注释",
    "association": "关联",
}

# What a change is about, by the last part of its key.
KIND_LABELS = {
    "name": "名称",
    "form": "表单",
    "property": "扩展属性",
    "script": "脚本",
    "condition": "条件",
    "timer": "定时器",
    "decision": "决策表",
    "service": "服务",
    "flow": "连线",
    "doc": "说明",
    "attribute": "属性",
    "message": "消息",
    "loop": "多实例",
    "other": "其他",
}

FORM_PROPS = {"formJsonSchemaFilename", "formUiSchemaFilename"}

SCHEMA_KEY_LABELS = {
    "title": "标题",
    "type": "类型",
    "enum": "可选值",
    "required": "必填",
    "default": "默认值",
    "format": "格式",
    "description": "说明",
    "pattern": "格式（正则）",
    "minimum": "最小值",
    "maximum": "最大值",
    "minLength": "最少字数",
    "maxLength": "最多字数",
    "minItems": "最少项数",
    "maxItems": "最多项数",
    "items": "列表项",
    "const": "固定值",
    "readOnly": "只读",
}

UI_KEY_LABELS = {
    "ui:widget": "控件",
    "ui:options": "控件选项",
    "ui:help": "帮助文字",
    "ui:placeholder": "占位提示",
    "ui:title": "显示标题",
    "ui:description": "说明",
    "ui:disabled": "禁用",
    "ui:readonly": "只读",
    "ui:order": "字段顺序",
}

MODEL_KEY_LABELS = {
    "id": "流程编号",
    "name": "流程名称",
    "plan_year": "计划年度",
    "description": "说明",
    "starter_roles": "可发起角色",
    "start_checks": "发起条件",
    "lanes": "泳道映射",
    "correlation_keys": "消息关联键",
    "title": "案件标题",
    "result_fields": "结果字段",
    "timer_samples": "定时器试算样例",
}

MAX_TEXT_DIFF_LINES = 400


# -- helpers ---------------------------------------------------------------------------------
def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _ns(tag: Any) -> str:
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""


def show(value: Any) -> str:
    """A value as one line of text for the comparison page."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


def _text_diff(old: str | None, new: str | None) -> list[str]:
    lines = list(difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(),
                                      "原版本", "新版本", lineterm="", n=2))
    if len(lines) > MAX_TEXT_DIFF_LINES:
        lines = lines[:MAX_TEXT_DIFF_LINES] + [f"……（其余 {len(lines) - MAX_TEXT_DIFF_LINES} 行从略）"]
    return lines


def _parse(text: str | None):
    """The XML root, None for a missing file; raises UnsafeXml when it does not parse."""
    if text is None:
        return None
    return parse_xml(text).getroot()


# -- BPMN ------------------------------------------------------------------------------------
def _is_element(el) -> bool:
    return (_ns(el.tag) == BPMN_NS and _local(el.tag) in BPMN_TYPES and bool(el.get("id")))


def _kind(key: str) -> str:
    parts = [p.split("[", 1)[0] for p in key.split("/")]
    last = key.rsplit("/", 1)[-1]
    if key == "@name":
        return "name"
    if parts[-1] == "property" and last[9:-1] in FORM_PROPS:
        return "form"
    if "property" in parts:
        return "property"
    if {"script", "preScript", "postScript"} & set(parts):
        return "script"
    if {"conditionExpression", "completionCondition"} & set(parts):
        return "condition"
    if "timerEventDefinition" in parts:
        return "timer"
    if "calledDecisionId" in parts or last == "@decisionRef":
        return "decision"
    if "serviceTaskOperator" in parts:
        return "service"
    if last in {"incoming", "outgoing", "@sourceRef", "@targetRef", "flowNodeRef", "@attachedToRef"}:
        return "flow"
    if "documentation" in parts:
        return "doc"
    if {"messageEventDefinition", "messagePayload"} & set(parts) or last == "@messageRef":
        return "message"
    if {"multiInstanceLoopCharacteristics", "standardLoopCharacteristics"} & set(parts):
        return "loop"
    if last.startswith("@"):
        return "attribute"
    return "other"


def _attr_name(el, name: str) -> str:
    ns, local = _ns(name), _local(name)
    if ns and ns != BPMN_NS:
        prefix = next((p for p, uri in (el.nsmap or {}).items() if uri == ns and p), None)
        return f"@{prefix or ns}:{local}"
    return f"@{local}"


def _flatten(el, prefix: str, out: dict[str, str]) -> None:
    """Fold an element's own attributes, texts and non-element children into path → text."""
    for name, value in el.attrib.items():
        if _local(name) == "id":
            continue  # the element's id is its key; folded children's ids are not content
        out[f"{prefix}/{_attr_name(el, name)}" if prefix else _attr_name(el, name)] = value
    text = (el.text or "").strip()
    if text and len(el) == 0 and prefix:
        out[prefix] = text
    groups: dict[str, list] = {}
    for child in el:
        if not isinstance(child.tag, str) or _ns(child.tag) in DI_NAMESPACES or _is_element(child):
            continue
        groups.setdefault(_local(child.tag), []).append(child)
    for tag, children in groups.items():
        if tag in {"incoming", "outgoing", "flowNodeRef"} and all(len(c) == 0 for c in children):
            key = f"{prefix}/{tag}" if prefix else tag
            out[key] = ", ".join(sorted((c.text or "").strip() for c in children))
            continue
        for index, child in enumerate(children):
            label = child.get("name")
            if label:
                part = f"{tag}[{label}]"
            elif len(children) > 1:
                part = f"{tag}[{index + 1}]"
            else:
                part = tag
            key = f"{prefix}/{part}" if prefix else part
            if tag == "property" and child.get("value") is not None:
                out[key] = child.get("value")
                continue
            _flatten(child, key, out)


def _bpmn_elements(root) -> dict[str, dict[str, Any]]:
    elements: dict[str, dict[str, Any]] = {}
    if root is None:
        return elements
    for el in root.iter():
        if not isinstance(el.tag, str) or not _is_element(el):
            continue
        props: dict[str, str] = {}
        _flatten(el, "", props)
        tag = _local(el.tag)
        elements[el.get("id")] = {"type": tag, "type_label": BPMN_TYPES.get(tag, tag),
                                  "name": el.get("name") or "", "props": props}
    return elements


def _prop_changes(old: dict[str, str], new: dict[str, str]) -> list[dict[str, Any]]:
    changes = []
    for key in list(old) + [k for k in new if k not in old]:
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        kind = _kind(key)
        changes.append({"key": key, "kind": kind, "label": KIND_LABELS[kind], "old": before, "new": after})
    return changes


def compare_bpmn(old_text: str | None, new_text: str | None) -> list[dict[str, Any]]:
    """Diagram elements added, removed or changed, by id (layout, BPMN DI, is ignored)."""
    old, new = _bpmn_elements(_parse(old_text)), _bpmn_elements(_parse(new_text))
    out = []
    for element_id in list(old) + [i for i in new if i not in old]:
        a, b = old.get(element_id), new.get(element_id)
        if a is None or b is None:
            item = b or a
            change = "added" if a is None else "removed"
            props = [{"key": k, "kind": _kind(k), "label": KIND_LABELS[_kind(k)],
                      "old": v if change == "removed" else None, "new": v if change == "added" else None}
                     for k, v in item["props"].items()]
            out.append({"id": element_id, "type": item["type"], "type_label": item["type_label"],
                        "name": item["name"], "change": change, "changes": props})
            continue
        changes = _prop_changes(a["props"], b["props"])
        if a["type"] != b["type"]:
            changes.insert(0, {"key": "type", "kind": "attribute", "label": "类型",
                               "old": a["type_label"], "new": b["type_label"]})
        if changes:
            out.append({"id": element_id, "type": b["type"], "type_label": b["type_label"],
                        "name": b["name"] or a["name"], "old_name": a["name"], "change": "changed",
                        "changes": changes})
    return out


# -- DMN -------------------------------------------------------------------------------------
def _child(el, tag: str):
    return next((c for c in el if isinstance(c.tag, str) and _local(c.tag) == tag), None)


def _children(el, tag: str) -> list:
    return [c for c in el if isinstance(c.tag, str) and _local(c.tag) == tag]


def _entry_text(el) -> str:
    if el is None:
        return ""
    text = _child(el, "text")
    return ((text.text if text is not None else el.text) or "").strip()


def _decisions(root) -> dict[str, dict[str, Any]]:
    decisions: dict[str, dict[str, Any]] = {}
    if root is None:
        return decisions
    for index, decision in enumerate(_children(root, "decision")):
        decision_id = decision.get("id") or f"decision[{index + 1}]"
        table = _child(decision, "decisionTable")
        columns: dict[str, dict[str, Any]] = {}
        inputs, outputs = [], []
        rules: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        if table is not None:
            for i, col in enumerate(_children(table, "input")):
                col_id = col.get("id") or f"input[{i + 1}]"
                expr = _child(col, "inputExpression")
                columns[col_id] = {"kind": "input", "label": col.get("label") or col_id,
                                   "expression": _entry_text(expr),
                                   "type": (expr.get("typeRef") if expr is not None else None) or ""}
                inputs.append(col_id)
            for i, col in enumerate(_children(table, "output")):
                col_id = col.get("id") or f"output[{i + 1}]"
                columns[col_id] = {"kind": "output", "label": col.get("label") or col.get("name") or col_id,
                                   "expression": col.get("name") or "", "type": col.get("typeRef") or ""}
                outputs.append(col_id)
            for i, rule in enumerate(_children(table, "rule")):
                rule_id = rule.get("id") or f"rule[{i + 1}]"
                cells = {}
                for col_id, entry in zip(inputs, _children(rule, "inputEntry"), strict=False):
                    cells[col_id] = _entry_text(entry)
                for col_id, entry in zip(outputs, _children(rule, "outputEntry"), strict=False):
                    cells[col_id] = _entry_text(entry)
                description = _child(rule, "description")
                rules[rule_id] = {"cells": cells, "number": i + 1,
                                  "description": ((description.text if description is not None else "") or "").strip()}
                order.append(rule_id)
        decisions[decision_id] = {
            "name": decision.get("name") or "", "hit_policy": (table.get("hitPolicy") if table is not None else None)
            or "UNIQUE", "columns": columns, "inputs": inputs, "outputs": outputs, "rules": rules, "order": order}
    return decisions


def _row(rule: dict[str, Any], column_ids: list[str]) -> list[str | None]:
    return [rule["cells"].get(c) for c in column_ids]


def compare_dmn(old_text: str | None, new_text: str | None) -> list[dict[str, Any]]:
    """Per decision: hit policy, columns added/removed/changed, rule rows added/removed/changed."""
    old, new = _decisions(_parse(old_text)), _decisions(_parse(new_text))
    out = []
    for decision_id in list(old) + [d for d in new if d not in old]:
        a = old.get(decision_id) or {"name": "", "hit_policy": None, "columns": {}, "inputs": [], "outputs": [],
                                     "rules": {}, "order": []}
        b = new.get(decision_id) or {"name": "", "hit_policy": None, "columns": {}, "inputs": [], "outputs": [],
                                     "rules": {}, "order": []}
        change = "added" if decision_id not in old else "removed" if decision_id not in new else "changed"
        # Every column either side has, inputs first, in the new table's order.
        column_ids = [c for c in b["inputs"]] + [c for c in a["inputs"] if c not in b["inputs"]]
        column_ids += [c for c in b["outputs"]] + [c for c in a["outputs"] if c not in b["outputs"]]
        header = []
        for col_id in column_ids:
            ca, cb = a["columns"].get(col_id), b["columns"].get(col_id)
            col = cb or ca
            header.append({"id": col_id, "kind": col["kind"], "label": col["label"],
                           "change": "added" if ca is None else "removed" if cb is None else
                           ("changed" if ca != cb else "same")})
        columns = []
        for col in header:
            ca, cb = a["columns"].get(col["id"]), b["columns"].get(col["id"])
            if col["change"] == "same":
                continue
            diffs = []
            for key, label in (("label", "列名"), ("expression", "表达式/变量"), ("type", "类型")):
                before, after = (ca or {}).get(key), (cb or {}).get(key)
                if before != after:
                    diffs.append({"key": key, "label": label, "old": before, "new": after})
            columns.append({**col, "kind_label": "输入" if col["kind"] == "input" else "输出", "changes": diffs})
        rules = []
        for rule_id in a["order"] + [r for r in b["order"] if r not in a["rules"]]:
            ra, rb = a["rules"].get(rule_id), b["rules"].get(rule_id)
            old_row = _row(ra, column_ids) if ra else None
            new_row = _row(rb, column_ids) if rb else None
            if ra and rb:
                cells = [{"column": col["id"], "label": col["label"], "kind": col["kind"],
                          "old": ra["cells"].get(col["id"]), "new": rb["cells"].get(col["id"])}
                         for col in header if ra["cells"].get(col["id"]) != rb["cells"].get(col["id"])]
                if not cells and ra["description"] == rb["description"]:
                    continue
                rules.append({"id": rule_id, "change": "changed", "number": rb["number"], "cells": cells,
                              "old_row": old_row, "new_row": new_row,
                              "description": rb["description"], "old_description": ra["description"]})
            else:
                rule = rb or ra
                rules.append({"id": rule_id, "change": "added" if ra is None else "removed",
                              "number": rule["number"], "cells": [], "old_row": old_row, "new_row": new_row,
                              "description": rule["description"], "old_description": None})
        common_old = [r for r in a["order"] if r in b["rules"]]
        common_new = [r for r in b["order"] if r in a["rules"]]
        hit = None if a["hit_policy"] == b["hit_policy"] or change != "changed" else \
            {"old": a["hit_policy"], "new": b["hit_policy"]}
        renamed = change == "changed" and a["name"] != b["name"]
        order_changed = change == "changed" and common_old != common_new
        if change == "changed" and not (columns or rules or hit or renamed or order_changed):
            continue
        out.append({"id": decision_id, "name": b["name"] or a["name"], "old_name": a["name"], "change": change,
                    "renamed": renamed, "hit_policy": hit, "order_changed": order_changed,
                    "header": header, "columns": columns, "rules": rules})
    return out


# -- forms -----------------------------------------------------------------------------------
def _schema_fields(schema: Any, prefix: str = "", required: frozenset[str] = frozenset(),
                   out: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """JSON Schema properties by dotted path → their own keywords (nested ones listed apart)."""
    out = {} if out is None else out
    if not isinstance(schema, dict):
        return out
    props = schema.get("properties")
    if not isinstance(props, dict):
        return out
    for name, spec in props.items():
        path = f"{prefix}{name}"
        if not isinstance(spec, dict):
            out[path] = {"定义": spec}
            continue
        own = {k: v for k, v in spec.items() if k not in {"properties", "required"}}
        items = own.get("items")
        if isinstance(items, dict) and isinstance(items.get("properties"), dict):
            own["items"] = {k: v for k, v in items.items() if k not in {"properties", "required"}}
            _schema_fields(items, f"{path}[].", frozenset(items.get("required") or []), out)
        own["required"] = name in required
        out[path] = own
        if isinstance(spec.get("properties"), dict):
            _schema_fields(spec, f"{path}.", frozenset(spec.get("required") or []), out)
    return out


def _key_changes(old: dict[str, Any], new: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    changes = []
    for key in list(old) + [k for k in new if k not in old]:
        before, after = old.get(key), new.get(key)
        if before == after or (key == "required" and not before and not after):
            continue
        change = {"key": key, "label": labels.get(key, key), "old": show(before), "new": show(after)}
        if isinstance(before, list) and isinstance(after, list):
            added = [show(v) for v in after if v not in before]
            removed = [show(v) for v in before if v not in after]
            change["note"] = "；".join(x for x in (added and f"增加：{'、'.join(added)}",
                                                 removed and f"去掉：{'、'.join(removed)}") if x) or "顺序调整"
        changes.append(change)
    return changes


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def compare_schema(old_text: str | None, new_text: str | None) -> dict[str, Any]:
    a, b = _json(old_text), _json(new_text)
    fa = _schema_fields(a, "", frozenset((a or {}).get("required") or []) if isinstance(a, dict) else frozenset())
    fb = _schema_fields(b, "", frozenset((b or {}).get("required") or []) if isinstance(b, dict) else frozenset())
    fields = []
    for path in list(fa) + [p for p in fb if p not in fa]:
        before, after = fa.get(path), fb.get(path)
        if before is None or after is None:
            item = after or before
            change = "added" if before is None else "removed"
            fields.append({"path": path, "title": show(item.get("title")), "change": change,
                           "changes": _key_changes({} if change == "added" else item,
                                                   item if change == "added" else {}, SCHEMA_KEY_LABELS)})
            continue
        changes = _key_changes(before, after, SCHEMA_KEY_LABELS)
        if changes:
            fields.append({"path": path, "title": show(after.get("title") or before.get("title")),
                           "change": "changed", "changes": changes})
    top = []
    for key in ("title", "description", "type"):
        va = a.get(key) if isinstance(a, dict) else None
        vb = b.get(key) if isinstance(b, dict) else None
        if va != vb and old_text is not None and new_text is not None:
            top.append({"key": key, "label": SCHEMA_KEY_LABELS.get(key, key), "old": show(va), "new": show(vb)})
    title = (b if isinstance(b, dict) else {}).get("title") or (a if isinstance(a, dict) else {}).get("title")
    return {"kind": "schema", "form_title": show(title), "top": top, "fields": fields}


def compare_uischema(old_text: str | None, new_text: str | None) -> dict[str, Any]:
    a, b = _json(old_text), _json(new_text)
    a = a if isinstance(a, dict) else {}
    b = b if isinstance(b, dict) else {}
    fields, top = [], []
    for key in list(a) + [k for k in b if k not in a]:
        before, after = a.get(key), b.get(key)
        if before == after:
            continue
        if key.startswith("ui:") or not (isinstance(before, dict) or isinstance(after, dict)):
            top.append({"key": key, "label": UI_KEY_LABELS.get(key, key), "old": show(before), "new": show(after)})
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        changes = _key_changes(before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {},
                               UI_KEY_LABELS)
        fields.append({"path": key, "title": "", "change": change, "changes": changes})
    return {"kind": "ui", "form_title": "", "top": top, "fields": fields}


# -- model.json and others -------------------------------------------------------------------
def compare_model_json(old_text: str | None, new_text: str | None) -> list[dict[str, Any]]:
    a, b = _json(old_text), _json(new_text)
    a = a if isinstance(a, dict) else {}
    b = b if isinstance(b, dict) else {}
    out = []
    for key in list(a) + [k for k in b if k not in a]:
        if a.get(key) == b.get(key):
            continue
        change = "added" if key not in a else "removed" if key not in b else "changed"
        out.append({"key": key, "label": MODEL_KEY_LABELS.get(key, key), "change": change,
                    "old": show(a.get(key)), "new": show(b.get(key))})
    return out


def _file_kind(name: str) -> str:
    if name == "model.json" or name.endswith("/model.json"):
        return "model"
    if name.endswith(".bpmn"):
        return "bpmn"
    if name.endswith(".dmn"):
        return "dmn"
    if name.endswith(".uischema.json"):
        return "ui"
    if name.endswith(".schema.json"):
        return "schema"
    return "text"


FILE_KIND_LABELS = {"model": "模型说明（model.json）", "bpmn": "流程图（BPMN）", "dmn": "决策表（DMN）",
                    "schema": "表单字段（JSON Schema）", "ui": "表单界面（UI Schema）", "text": "其他文件"}


def compare(old_files: dict[str, str] | None, new_files: dict[str, str] | None) -> dict[str, Any]:
    """Differences from `old_files` to `new_files` ({file name: text}).

    Returns {"files": {"added", "removed", "changed", "unchanged"}, "model": [key changes],
    "bpmn": [{"file", "elements"}], "dmn": [{"file", "decisions"}], "forms": [{"file", "kind",
    "fields", "top", ...}], "other": [{"file", "lines", "reason"}], "count": n, "empty": bool}.
    Only files with differences appear in the sections.
    """
    old_files, new_files = dict(old_files or {}), dict(new_files or {})
    names = sorted(set(old_files) | set(new_files), key=lambda n: (_file_kind(n) != "model", n))
    result: dict[str, Any] = {"files": {"added": [], "removed": [], "changed": [], "unchanged": []},
                              "model": [], "bpmn": [], "dmn": [], "forms": [], "other": []}
    for name in names:
        old, new = old_files.get(name), new_files.get(name)
        if old == new:
            result["files"]["unchanged"].append(name)
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        result["files"][status].append(name)
        kind = _file_kind(name)
        try:
            if kind == "model":
                result["model"].extend(compare_model_json(old, new))
                if status != "changed":
                    result["other"].append({"file": name, "change": status, "reason": "", "lines": []})
            elif kind == "bpmn":
                result["bpmn"].append({"file": name, "change": status, "elements": compare_bpmn(old, new)})
            elif kind == "dmn":
                result["dmn"].append({"file": name, "change": status, "decisions": compare_dmn(old, new)})
            elif kind in {"schema", "ui"}:
                diff = compare_schema(old, new) if kind == "schema" else compare_uischema(old, new)
                result["forms"].append({"file": name, "change": status, **diff})
            else:
                result["other"].append({"file": name, "change": status, "reason": "", "lines": _text_diff(old, new)})
        except (UnsafeXml, ValueError) as exc:
            result["other"].append({"file": name, "change": status, "reason": f"无法按结构比较（{exc}），按行比较",
                                    "lines": _text_diff(old, new)})
    result["count"] = (len(result["model"])
                       + sum(len(f["elements"]) for f in result["bpmn"])
                       + sum(len(d["rules"]) + len(d["columns"]) + bool(d["hit_policy"]) + (d["change"] != "changed")
                             + bool(d["renamed"]) + bool(d["order_changed"])
                             for f in result["dmn"] for d in f["decisions"])
                       + sum(len(f["fields"]) + len(f["top"]) for f in result["forms"])
                       + len(result["other"]))
    result["empty"] = result["count"] == 0 and not (result["files"]["added"] or result["files"]["removed"])
    return result


def summary(result: dict[str, Any]) -> list[str]:
    """One line per change, e.g. for audit details and plain-text listings."""
    lines = [f"model.json {c['key']}：{c['old']} → {c['new']}" for c in result["model"]]
    for f in result["bpmn"]:
        for e in f["elements"]:
            what = "、".join(sorted({c["label"] for c in e["changes"]})) if e["change"] == "changed" else ""
            lines.append(f"{f['file']} {e['type_label']} {e['id']}（{e['name']}）"
                         f"{ {'added': '新增', 'removed': '删除', 'changed': '修改'}[e['change']] }{what}")
    for f in result["dmn"]:
        for d in f["decisions"]:
            if d["hit_policy"]:
                lines.append(f"{f['file']} {d['id']} 命中策略：{d['hit_policy']['old']} → {d['hit_policy']['new']}")
            for c in d["columns"]:
                lines.append(f"{f['file']} {d['id']} {c['kind_label']}列 {c['id']}（{c['label']}）{c['change']}")
            for r in d["rules"]:
                cells = "；".join(f"{c['label']}：{c['old']} → {c['new']}" for c in r["cells"])
                lines.append(f"{f['file']} {d['id']} 规则 {r['id']} {r['change']} {cells}".rstrip())
    for f in result["forms"]:
        for fld in f["fields"]:
            cells = "；".join(f"{c['label']}：{c['old']} → {c['new']}" for c in fld["changes"])
            lines.append(f"{f['file']} 字段 {fld['path']} {fld['change']} {cells}".rstrip())
        for c in f["top"]:
            lines.append(f"{f['file']} {c['label']}：{c['old']} → {c['new']}")
    for f in result["other"]:
        lines.append(f"{f['file']} {f['change']}")
    return lines
