"""Inbox ergonomics: filters and sorting, batch approve, delegation, comments on a case."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.extensions import db
from app.models import HumanTask, ProcessInstance
from app.services import batch, comments, deadlines, inbox_query, notifications, tasks
from app.services.access import can_act
from app.services.errors import DomainError, FormInvalid
from app.services.numbers import INT_MAX

bp = Blueprint("inbox", __name__)

FILTER_PARAMS = ("process", "task", "due", "q", "sort", "dir")
PAGE_PARAMS = ("page", "mine_page")


# -- template helpers (the instance and task pages use them without passing anything) -----------
def _due_info(task: HumanTask) -> dict[str, Any]:
    if task.due_date is None:
        return {"state": None, "label": "", "left": None, "text": ""}
    found = deadlines.standing(task.due_date)
    state, left = found["state"], found["days_left"]
    if state == "overdue":
        # Due on a Friday and looked at on the Saturday: late, though no working day has passed.
        text = f"逾期 {-left} 个工作日" if left < 0 else "已过截止日"
    elif state == "due":
        text = "今日截止"
    else:
        text = f"剩 {left} 个工作日" if left > 0 else "截止日前无工作日"
    return {"state": state, "label": found["label"], "left": left, "text": text}


def _case_comments(instance: ProcessInstance) -> list:
    try:
        return comments.comments_for(current_user, instance.id)
    except DomainError:
        return []


def _delegation_choices(task: HumanTask) -> list:
    """Colleagues the current user may hand this task to; empty when they may not delegate it."""
    if (task.state != "open" or task.assignee_id is not None or not can_act(current_user, task)
            or task.claimed_by_id not in (None, current_user.id)):
        return []
    return tasks.colleagues(current_user, task)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"case_comments": _case_comments, "delegation_choices": _delegation_choices, "due_info": _due_info,
            "COMMENT_MAX": comments.MAX_BODY}


# -- the inbox page (rendered by pages.inbox) ---------------------------------------------------
def inbox_page(args) -> tuple[dict[str, Any], int]:
    """The inbox's template context from its query parameters, and the status to answer with."""
    status, error = 200, None
    try:
        filters = inbox_query.parse_filters(args)
    except FormInvalid as exc:
        filters, status, error = inbox_query.InboxFilters(), 400, exc.message
    counts = inbox_query.counts(current_user, filters)
    mine_page = inbox_query.task_page(current_user, filters, "mine", inbox_query.page_number(args, "mine_page"),
                                      total=counts["mine"])
    group_page = inbox_query.task_page(current_user, filters, "group", inbox_query.page_number(args, "page"),
                                       total=counts["group"])
    mine, group = mine_page.tasks, group_page.tasks
    steps = batch.offered_steps(current_user, [*mine, *group])
    batchable = {task_id: key for key, step in steps.items() for task_id in step.task_ids}
    return {
        "mine": mine, "group": group, "mine_page": mine_page, "group_page": group_page,
        "page_url": lambda **pages: _inbox_url(args, **pages), "notices": notifications.for_user(current_user),
        "filters": filters, "filter_error": error, "choices": inbox_query.filter_choices(current_user),
        "counts": counts, "steps": steps, "batchable": batchable,
        "DUE_FILTERS": inbox_query.DUE_FILTERS, "SORTS": inbox_query.SORTS, "DIRECTIONS": inbox_query.DIRECTIONS,
        "here": _inbox_url(args),
    }, status


def _inbox_url(args, **pages: int) -> str:
    """The inbox with these filters (and page numbers: ``page``, ``mine_page``; 1 is left out)."""
    kept = {k: args.get(k) for k in (*FILTER_PARAMS, *PAGE_PARAMS) if args.get(k)}
    for name, number in pages.items():
        kept.pop(name, None)
        if number > 1:
            kept[name] = str(number)
    return url_for("pages.inbox") + (f"?{urlencode(kept)}" if kept else "")


def _back_to_inbox():
    """Back to the inbox with the filters the form was posted from (only the inbox's own parameters)."""
    target = request.form.get("back") or ""
    path, _, query = target.partition("?")
    if path != url_for("pages.inbox"):
        return redirect(url_for("pages.inbox"))
    params = {k: v[0] for k, v in parse_qs(query).items() if k in (*FILTER_PARAMS, *PAGE_PARAMS) and v}
    return redirect(url_for("pages.inbox", **params))


# -- batch approve --------------------------------------------------------------------------
@bp.post("/tasks/batch-approve")
@login_required
def batch_approve():
    try:
        ids = [int(v) for v in request.form.getlist("task_id") if v.strip()]
        if any(not 0 < i <= INT_MAX for i in ids):  # no task has such an id, and no database binds it
            raise ValueError("task id out of range")
        result = batch.batch_approve(current_user, ids, request.form.get("opinion", ""))
    except (ValueError, DomainError) as exc:
        # The whole submission is refused (mixed steps, a step that needs its form, too many...).
        db.session.rollback()
        flash(exc.message if isinstance(exc, DomainError) else "所选任务编号不正确", "error")
        context, _ = inbox_page(request.args)
        return render_template("pages/inbox.html", **context), exc.status if isinstance(exc, DomainError) else 400
    if result.done:
        flash(f"已同意 {len(result.done)} 项", "success")
    for _task_id, title, reason in result.failed:
        flash(f"“{title}”未办理：{reason}", "error")
    return _back_to_inbox()


# -- delegation ---------------------------------------------------------------------------------
@bp.post("/tasks/<int:task_id>/delegate")
@login_required
def delegate(task_id: int):
    task = tasks.delegate(current_user, task_id, request.form.get("to", ""))
    flash(f"已将任务“{task.name}”转办给{task.claimed_by.display_name}", "success")
    return redirect(url_for("pages.inbox"))


# -- comments -----------------------------------------------------------------------------------
@bp.post("/instances/<int:instance_id>/comments")
@login_required
def add_comment(instance_id: int):
    task_id = request.form.get("task_id", type=int)
    try:
        comments.add_comment(current_user, instance_id, request.form.get("body"))
    except FormInvalid as exc:
        from app.web import pages

        # The case page again, with the message and the text as typed (the partial reads the form).
        flash(exc.message, "error")
        return pages.instance(instance_id), 422
    flash("意见已发表", "success")
    if task_id:
        return redirect(url_for("pages.task", task_id=task_id, _anchor="comments"))
    return redirect(url_for("pages.instance", instance_id=instance_id, _anchor="comments"))
