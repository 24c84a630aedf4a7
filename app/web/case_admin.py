"""The instance page's diagram marks and administrators' actions on a case (each with a reason).

GET  /instances/<id>/diagram.json            the BPMN XML and where the case stands on it
GET  /instances/<id>/admin/<action>          the confirmation page of an action (administrators)
POST /instances/<id>/admin/<action>          perform it: reason, confirmation, and the action's inputs
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.models import HumanTask, ProcessInstance, User
from app.services import case_admin, case_marks, instances
from app.services.errors import FormInvalid

bp = Blueprint("case_admin", __name__)

ACTION_LABELS = {"suspend": "挂起流程", "resume": "恢复流程", "terminate": "终止流程",
                 "reset": "退回到之前的任务", "correct": "更正数据"}
ACTION_NOTES = {
    "suspend": "挂起后，定时器不再触发，任务不能办理，发给本流程的消息暂存，恢复后再投递。",
    "resume": "恢复后，流程状态按流程引擎重新确定；挂起期间到期的定时器将在下一次定时任务中触发，暂存的消息随即投递。",
    "terminate": "终止不可撤销：当前待办全部取消，消息订阅和定时器删除，流程不再继续。",
    "reset": "流程将回到所选任务生成时的状态：当前待办取消，重新生成所选任务（新的任务编号）。"
             "已经发生的其他效果不会撤销：已生成的文书和证书、已发出的通知和提醒、已发给其他流程的消息都保持不变。",
    "correct": "更正的值写入流程当前的数据，后续环节（分支判断、办理机构）将按新值办理；已办结环节的记录保持不变。"
               "已经发生的其他效果（文书、通知、发给其他流程的消息）不会随之改变。",
}


def instance_extras(actor: User, instance: ProcessInstance, open_tasks: list[HumanTask]) -> dict[str, Any]:
    """What the instance page shows besides the case context: diagram, deadlines, admin actions."""
    return {
        "diagram": case_marks.diagram(instance),
        "deadlines": case_marks.deadlines_of(open_tasks),
        "next_timer_at": case_marks.next_timer(instance),
        "admin_actions": case_admin.available(instance) if case_admin.is_admin(actor) else [],
        "ACTION_LABELS": ACTION_LABELS,
    }


@bp.get("/instances/<int:instance_id>/diagram.json")
@login_required
def diagram(instance_id: int):
    inst = instances.get_instance(current_user, instance_id)
    found = case_marks.diagram(inst)
    return jsonify({key: found[key] for key in ("xml", "marks", "counts", "flows")})


def as_text(value: Any) -> str:
    """A current value as the correction form shows it (and reads it back)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _page(inst: ProcessInstance, action: str, errors: dict[str, list[str]] | None = None,
          status: int = 200):
    context: dict[str, Any] = {"instance": inst, "action": action, "label": ACTION_LABELS[action],
                               "note": ACTION_NOTES[action], "errors": errors or {},
                               "allowed": action in case_admin.available(inst),
                               "posted": request.form if request.method == "POST" else {}}
    if action == "reset":
        context["candidates"] = case_admin.reset_candidates(inst)
    if action == "correct":
        context["fields"] = [(key, as_text(value)) for key, value in case_admin.correctable(inst, current_user).items()]
    return render_template("case_admin/action.html", **context), status


def _payload(inst: ProcessInstance, action: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"reason": request.form.get("reason", "")}
    if action == "reset":
        payload["task_id"] = request.form.get("task_id", "")
    if action == "correct":
        shown = {key: text for key, text in
                 ((k, as_text(v)) for k, v in case_admin.correctable(inst, current_user).items())}
        # only what the administrator changed: untouched fields are not re-validated
        payload["data"] = {key: request.form[f"data.{key}"] for key, text in shown.items()
                           if f"data.{key}" in request.form and request.form[f"data.{key}"] != text}
    return payload


@bp.route("/instances/<int:instance_id>/admin/<action>", methods=["GET", "POST"])
@login_required
def action(instance_id: int, action: str):
    if action not in ACTION_LABELS:
        abort(404)
    case_admin.require_admin(current_user)
    inst = instances.get_instance(current_user, instance_id)
    if request.method == "GET":
        return _page(inst, action)
    errors: dict[str, list[str]] = {}
    if request.form.get("confirm") != "yes":
        errors["confirm"] = ["请勾选确认后再提交"]
        try:
            case_admin.clean_reason(request.form.get("reason"))
        except FormInvalid as exc:
            errors.update(exc.fields)
        flash("请检查下面标出的问题", "error")
        return _page(inst, action, errors, 422)
    try:
        case_admin.run(current_user, instance_id, action, _payload(inst, action))
    except FormInvalid as exc:
        inst = instances.get_instance(current_user, instance_id)  # the session was rolled back
        flash(exc.message, "error")
        return _page(inst, action, exc.fields, 422)
    flash(f"已{ACTION_LABELS[action]}", "success")
    return redirect(url_for("pages.instance", instance_id=instance_id))
