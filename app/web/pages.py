"""Staff pages: inbox, start, task, my applications, instance."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app import clock
from app.services import case_views, documents, forms, instances, panels, privacy, registry, tasks
from app.services.access import can_act
from app.services.errors import FormInvalid, RuleViolation
from app.web import uploads
from app.web.case_admin import instance_extras
from app.web.form_errors import attach_errors

bp = Blueprint("pages", __name__)

# -- labels shared by the templates ----------------------------------------------------------
FIELD_LABELS = {
    "education": "学历",
    "graduation_date": "毕业时间",
    "work_start_date": "工作起始时间",
    "months_pre_degree": "学位前工作月数",
    "specialty": "专业",
    "requested_level": "申请级别",
    "submitted_on": "提交日期",
    "months_post_grad": "毕业后工作月数",
    "max_level": "规则允许的最高级别",
    "level_reason": "规则依据",
    "eligible": "是否符合",
    "suggested_level": "建议级别",
    "reviewer_org": "审核机关",
    "batch": "批次",
    "outcome": "结果",
    "approved_level": "确认级别",
    "certificate_no": "证书编号",
    "opinion": "审核意见",
    "attachments": "证明材料",
    # title review (评审程序)
    "committee": "评委会",
    "target_title": "申报资格",
    "title_level": "级别",
    "current_title": "现任资格",
    "title_year": "取得现资格年份",
    "application_mode": "申报方式",
    "years_in_m26": "山区26县工作年限",
    "applicant_name": "申报人",
    "employer_org": "工作单位",
    "unit_county": "所在地",
    "plan_year": "计划年度",
    "stage": "当前环节",
    "route": "受理情况",
    "route_reason": "受理说明",
    "route_ok": "属本评委会受理",
    "integrity_action": "诚信核验",
    "integrity_reason": "诚信核验说明",
    "jurisdiction_reason": "申报渠道说明",
    "bars": "其他限制条件",
    "ce_years": "逐年学时核验",
    "pre_notice_id": "评前公示编号",
    "post_notice_id": "评后公示编号",
    "routed_committee": "应申报的评委会",
    "recommendation_target": "推荐去向",
    "required_years": "任现职年限要求",
    "dept_org": "主管部门",
    "unit_notice_end": "单位公示截止",
    "return_count": "退回次数",
    "rejected_by": "不同意单位",
    "ce_ok": "继续教育学时",
    "ce_compliant_years": "学时达标年份数",
    "ce_reasons": "学时问题",
    "single_list": "山区26县单列",
    "m26_score": "山区26县赋分",
    "jurisdiction": "申报渠道",
    "eligibility_reasons": "资格审查问题",
    "checked_on": "资格审查日期",
    "session_id": "评审会次",
    "session_name": "会次名称",
    "meeting_date": "评审会议日期",
    "supervising_hr": "监督人社部门",
    "filing_hr": "备案人社部门",
    "publishing_hr": "公布人社部门",
    "letter_issuer": "委托评审函出具单位",
    "yes_votes": "同意票数",
    "result_note": "结果说明",
    "ban_until": "申报限制截止",
    "published_doc_no": "公布文号",
    "published_on": "公布日期",
    "commission_letter_no": "委托评审函文号",
    "provincial_result": "省级评审结果",
    "provincial_doc_no": "省级发文文号",
    # review session (评审会次)
    "members": "委员人数",
    "committee_level": "评委会级别",
    "committee_location": "评委会所在地",
    "plan_window": "计划评审时间",
    "window_warning": "计划提醒",
    "applicant_count": "参评人数",
    "pre_notice_start": "评前公示开始",
    "pre_notice_end": "评前公示截止",
    "report_date": "准备情况报告日期",
    "opinion_doc_no": "书面意见文号",
    "may_convene": "可以召开",
    "attending": "出席人数",
    "quorum": "有效出席人数",
    "vote_valid": "表决有效",
    "passed_vote": "表决通过人数",
    "failed_vote": "表决未通过人数",
    "post_notice_start": "评后公示开始",
    "post_notice_end": "评后公示截止",
    "open_objections": "未处理异议",
    "letter_doc_no": "公布申请函文号",
    "passed": "评审通过人数",
    "provincial_count": "推荐省高评委人数",
    "session_invalid": "结果无效",
}
OUTCOME_LABELS = {"approved": "通过", "rejected": "未通过", "lapsed": "已失效", "published": "评审通过（已公布）",
                  "recommended": "已推荐", "failed": "评审未通过", "rejected_routing": "不属该评委会受理",
                  "rejected_scope": "不在受理范围", "vetoed": "一票否决", "invalid": "评审结果无效"}
ENTRY_STATUS_LABELS = {"active": "参评", "removed": "已取消（异议属实）", "vetoed": "一票否决", "invalid": "结果无效"}
ENTRY_RESULT_LABELS = {"passed": "通过", "recommended": "通过（推荐）", "failed": "未通过"}
ROUTE_LABELS = {"accepted": "受理", "recommended": "受理（推荐）", "rejected_routing": "应向其他评委会申报",
                "rejected_scope": "不在受理范围", "self_managed": "由自主评聘单位评审", "manual": "人工分流",
                "blocked": "评委会评审权已暂停或取消"}
STATUS_LABELS = {
    "running": "办理中",
    "waiting": "等待中",
    "completed": "已办结",
    "suspended": "已挂起",
    "terminated": "已终止",
    "error": "出错",
}
EVENT_LABELS = {
    "instance_started": "发起申请",
    "task_created": "生成任务",
    "task_claimed": "认领",
    "task_released": "释放",
    "task_completed": "办理完成",
    "step_completed": "自动步骤",
    "timer_fired": "定时器触发",
    "certificate_issued": "颁发证书",
    "instance_completed": "流程结束",
    "engine_error": "流程出错",
    "task_cancelled": "任务取消",
    "message_sent": "发送消息",
    "message_delivered": "收到消息",
    "objection_received": "收到异议",
    "instance_migrated": "迁移到新版本",
    "instance_migration_undone": "撤销版本迁移",
    "instance_suspended": "挂起流程",
    "instance_resumed": "恢复流程",
    "instance_terminated": "终止流程",
    "instance_reset": "退回到之前的任务",
    "data_corrected": "更正数据",
    "task_delegated": "转办",
    "comment_added": "发表意见",
    "reminder_sent": "发送办理提醒",
    "message_held": "消息暂存（流程挂起）",
}
TASK_STATE_LABELS = {"open": "待办", "completed": "已办结", "cancelled": "已取消"}


def show_value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key == "outcome":
        return OUTCOME_LABELS.get(str(value), str(value))
    if key == "route":
        return ROUTE_LABELS.get(str(value), str(value))
    if key == "session_id":
        return f"第 {value} 号会次"
    if key == "attachments" and isinstance(value, (list, tuple)):
        return f"{len(value)} 份（见材料）"
    if key == "ce_years" and isinstance(value, list):
        return "、".join(f"{y.get('year')}年{'达标' if y.get('compliant') else '未达标'}" for y in value
                        if isinstance(y, dict)) or "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value) or "—"
    return str(value)


@bp.app_template_filter("local")
def local_time(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return clock.to_local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "FIELD_LABELS": FIELD_LABELS,
        "OUTCOME_LABELS": OUTCOME_LABELS,
        "STATUS_LABELS": STATUS_LABELS,
        "EVENT_LABELS": EVENT_LABELS,
        "TASK_STATE_LABELS": TASK_STATE_LABELS,
        "ENTRY_STATUS_LABELS": ENTRY_STATUS_LABELS,
        "ENTRY_RESULT_LABELS": ENTRY_RESULT_LABELS,
        "CONCLUSION_LABELS": case_views.CONCLUSION_LABELS,
        "show_value": show_value,
        "is_document_field": lambda field: isinstance(field, forms.DocumentListField),
    }


# -- helpers -----------------------------------------------------------------------------------
def _attach_errors(form, fields: dict[str, list[str]]) -> list[str]:
    return attach_errors(form, fields, FIELD_LABELS)


def _case_context(instance) -> dict[str, Any]:
    return {
        "instance": instance,
        "case_data": privacy.show(current_user, instance, instance.data),
        "events": instances.events(current_user, instance.id),
        "docs": documents.for_instance(instance, current_user),
        "extras": case_views.extras(current_user, instance),
    }


def _suggestions(defn, data: dict[str, Any]) -> dict[str, list[str]]:
    return {name: forms.suggestions(defn, name, data) for name in defn.order()} if defn is not None else {}


# -- pages -------------------------------------------------------------------------------------
@bp.get("/")
@login_required
def index():
    return redirect(url_for("pages.inbox"))


@bp.get("/inbox")
@login_required
def inbox():
    from app.web.inbox import inbox_page

    context, status = inbox_page(request.args)
    return render_template("pages/inbox.html", **context), status


def _back(task_id: int):
    if request.form.get("next") == "task":
        return redirect(url_for("pages.task", task_id=task_id))
    return redirect(url_for("pages.inbox"))


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim(task_id: int):
    task = tasks.claim(current_user, task_id)
    flash(f"已认领任务“{task.name}”", "success")
    return _back(task_id)


@bp.post("/tasks/<int:task_id>/release")
@login_required
def release(task_id: int):
    task = tasks.release(current_user, task_id)
    flash(f"已释放任务“{task.name}”", "info")
    return _back(task_id)


def _render_task(task, form, status: int = 200, form_errors: list[str] | None = None, defn=None, data=None):
    actionable = task.state == "open" and can_act(current_user, task)
    meta = task.instance.version.meta["tasks"].get(task.bpmn_id, {})
    panel = panels.get(meta.get("panel"))
    return render_template(
        "pages/task.html",
        task=task,
        form=form,
        defn=defn,
        panel_name=panel.name if panel else None,
        panel=panel.view(current_user, task, data or {}) if panel and task.state == "open" else {},
        posted=request.form if request.method == "POST" else {},
        suggest=_suggestions(defn, data or {}),
        actionable=actionable,
        can_claim=actionable and task.assignee_id is None and task.claimed_by_id is None,
        can_release=actionable and task.claimed_by_id == current_user.id and task.assignee_id is None,
        form_errors=form_errors or [],
        **_case_context(task.instance),
    ), status


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: int):
    task = tasks.get_task(current_user, task_id)
    defn, data = tasks.task_form(task)
    if request.method == "GET":
        prefill = privacy.show(current_user, task.instance, data)
        return _render_task(task, forms.build_form(defn, prefill, base=FlaskForm), defn=defn, data=data)
    form = forms.build_form(defn, data, formdata=request.form, base=FlaskForm)
    try:
        instance = uploads.submit(form, lambda submitted: tasks.complete_task(current_user, task_id, submitted),
                                  lambda submitted: forms.validate(defn, data, submitted))
    except FormInvalid as exc:
        task = tasks.get_task(current_user, task_id)  # session was rolled back
        form = forms.build_form(defn, data, formdata=request.form, base=FlaskForm)
        other = _attach_errors(form, exc.fields)
        flash(exc.message, "error")
        return _render_task(task, form, 422, other, defn=defn, data=data)
    flash("已提交", "success")
    return redirect(url_for("pages.instance", instance_id=instance.id))


@bp.get("/start")
@login_required
def start_list():
    return render_template("pages/start_list.html", versions=instances.startable(current_user))


@bp.route("/start/<process_id>", methods=["GET", "POST"])
@login_required
def start(process_id: str):
    version = registry.for_new_instances(process_id)
    defn = instances.start_form(version)
    title = (defn.schema.get("title") if defn else None) or version.name
    page = {"version": version, "title": title, "suggest": _suggestions(defn, {}),
            "blockers": instances.start_blockers(current_user, version)}
    if request.method == "GET":
        form = forms.build_form(defn, {}, base=FlaskForm) if defn else FlaskForm()
        return render_template("pages/start.html", form=form, form_errors=[], **page)
    form = forms.build_form(defn, {}, formdata=request.form, base=FlaskForm) if defn else FlaskForm()
    try:
        instance = uploads.submit(form, lambda submitted: instances.start_instance(current_user, process_id, submitted),
                                  (lambda submitted: forms.validate(defn, {}, submitted)) if defn else None)
    except (FormInvalid, RuleViolation) as exc:
        form = forms.build_form(defn, {}, formdata=request.form, base=FlaskForm) if defn else FlaskForm()
        other = _attach_errors(form, exc.fields)
        flash(exc.message, "error")
        return render_template("pages/start.html", form=form, form_errors=other, **page), 422
    flash("申请已提交", "success")
    return redirect(url_for("pages.instance", instance_id=instance.id))


@bp.get("/instances")
@login_required
def my_instances():
    page_no = request.args.get("page", 1, type=int) or 1
    status = request.args.get("status") or None
    page = instances.list_instances(current_user, status=status, page=page_no)
    pages = max(1, -(-page.total // page.per_page))
    return render_template("pages/instances.html", page=page, pages=pages, status=status)


@bp.get("/instances/<int:instance_id>")
@login_required
def instance(instance_id: int):
    inst = instances.get_instance(current_user, instance_id)
    open_tasks = instances.open_tasks(inst)
    return render_template("pages/instance.html", open_tasks=open_tasks,
                           **instance_extras(current_user, inst, open_tasks), **_case_context(inst))


@bp.get("/documents/<doc_id>")
@login_required
def document(doc_id: str):
    doc, content = documents.get(current_user, doc_id)
    return send_file(
        io.BytesIO(content),
        mimetype=doc.content_type,
        as_attachment=True,
        download_name=doc.name,
        max_age=0,
    )
