"""流程设计器: the browser editors of a draft (bpmn-js, dmn-js, forms with a live preview).

/vendor/<path>                         bpmn-js / dmn-js prebuilt files from node_modules (a whitelist)
/drafts/<id>/diagram                   GET the BPMN editor; POST JSON {bpmn, model_json?} saves
/drafts/<id>/validate.json             POST: {"ok", "problems": [{file, element_id, message}]}
/drafts/<id>/decision?name=<f.dmn>     GET the decision-table editor; POST JSON {name, dmn} saves
/drafts/<id>/form?name=<f.schema.json> GET the form editor; POST JSON {name, schema, ui_name?, ui?} saves
/drafts/<id>/form/preview              POST JSON {schema, ui} -> the HTML the task pages render for it

Saving goes through drafts.update_file and never requires the model to validate. The JSON
endpoints answer errors as JSON ({"error": {"code", "message", "fields"}}) with the CSRF token
in the X-CSRFToken header. Config: STUDIO_NODE_MODULES (default: node_modules beside app/).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_from_directory
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.models import ModelDraft
from app.services import drafts, forms, operations, panels, registry
from app.services.errors import DomainError, FormInvalid, NotFound
from app.web.errors import HTTP_MESSAGES, error_response

bp = Blueprint("studio", __name__)

CSRF_MESSAGE = "页面已过期或缺少安全令牌（CSRF），请刷新页面后重试"
VENDOR_MISSING = "编辑器组件未安装：请运行 make run 或 npm install"
BPMN_VENDOR = ("bpmn-js/dist/bpmn-modeler.production.min.js", "bpmn-js/dist/assets/diagram-js.css",
               "bpmn-js/dist/assets/bpmn-js.css", "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css")
DMN_VENDOR = ("dmn-js/dist/dmn-modeler.production.min.js", "dmn-js/dist/assets/diagram-js.css",
              "dmn-js/dist/assets/dmn-js-shared.css", "dmn-js/dist/assets/dmn-js-drd.css",
              "dmn-js/dist/assets/dmn-js-decision-table.css", "dmn-js/dist/assets/dmn-js-decision-table-controls.css",
              "dmn-js/dist/assets/dmn-js-literal-expression.css", "dmn-js/dist/assets/dmn-js-boxed-expression.css",
              "dmn-js/dist/assets/dmn-js-boxed-expression-controls.css",
              "dmn-js/dist/assets/dmn-font/css/dmn-embedded.css")
_FONTS = tuple(f"{pkg}/dist/assets/{font}-font/{leaf}"
               for pkg, font in (("bpmn-js", "bpmn"), ("dmn-js", "dmn"))
               for leaf in (*(f"font/{font}.{ext}" for ext in ("woff", "woff2", "ttf", "eot", "svg")),
                            f"css/{font}.css", f"css/{font}-codes.css", f"css/{font}-embedded.css"))
# The read-only viewer for comparisons of versions (templates/models/compare.html).
VIEWER_VENDOR = ("bpmn-js/dist/bpmn-navigated-viewer.production.min.js",)
# Charts of the managers' dashboard (templates/dashboard/).
CHART_VENDOR = ("chart.js/dist/chart.umd.min.js",)
VENDOR_FILES = frozenset(BPMN_VENDOR + DMN_VENDOR + VIEWER_VENDOR + CHART_VENDOR + _FONTS)
VENDOR_MAX_AGE = 7 * 24 * 3600
ROLE_LABELS = {"applicant": "申请人", "employer_hr": "用人单位", "competent_dept": "主管部门",
               "hr_staff": "人社部门", "committee_office": "评委会办公室", "committee_expert": "评审专家",
               "self_managed_admin": "自主评聘单位", "manager": "管理人员", "process_owner": "流程负责人",
               "system_admin": "系统管理员"}
_DECISION_ID = re.compile(r'<(?:[\w-]+:)?decision\s[^>]*?\bid="([^"]+)"')


@bp.before_request
def _managers_only():
    if request.endpoint == "studio.vendor":
        return None
    return _require_manager()


@login_required
def _require_manager():
    drafts.require_manager(current_user)
    return None


def _json_error(status: int, code: str, message: str, fields: dict | None = None):
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def _wants_json() -> bool:
    return request.method == "POST"


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    db.session.rollback()
    if _wants_json():
        return _json_error(exc.status, exc.code, exc.message, exc.fields)
    return error_response(exc.status, exc.code, exc.message, exc.fields)


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    if _wants_json():
        return _json_error(400, "csrf_failed", CSRF_MESSAGE)
    return error_response(400, "csrf_failed", CSRF_MESSAGE)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if _wants_json() and exc.code:
        return _json_error(exc.code, "http_error", {400: "请求格式不正确", 404: "草稿或文件不存在",
                                                   413: "提交内容过大"}.get(exc.code, "请求无法处理"))
    return error_response(exc.code or 500, "http_error", HTTP_MESSAGES.get(exc.code or 500, ""))


# -- vendor files -----------------------------------------------------------------------------
def node_modules() -> Path:
    configured = current_app.config.get("STUDIO_NODE_MODULES")
    return Path(configured) if configured else Path(current_app.root_path).parent / "node_modules"


def vendor_ready(paths: tuple[str, ...]) -> bool:
    root = node_modules()
    return all((root / p).is_file() for p in paths)


@bp.get("/vendor/<path:path>")
def vendor(path: str):
    if path not in VENDOR_FILES or not (node_modules() / path).is_file():
        abort(404)
    return send_from_directory(node_modules(), path, max_age=VENDOR_MAX_AGE)


# -- helpers ----------------------------------------------------------------------------------
def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise FormInvalid("请求内容应为 JSON 对象", {"body": ["应为 JSON 对象"]})
    return data


def _text(data: dict[str, Any], key: str, label: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise FormInvalid(f"缺少{label}", {key: [f"缺少{label}"]})
    return value


def _bpmn_name(draft: ModelDraft) -> str:
    name = next((n for n in sorted(draft.files or {}) if n.endswith(".bpmn")), None)
    if name is None:
        raise NotFound("草稿中没有 BPMN 文件")
    return name


def _named_file(draft: ModelDraft, name: str, suffix: str) -> str:
    files = draft.files or {}
    for candidate in (name, f"forms/{name}"):
        if candidate.endswith(suffix) and candidate in files:
            return candidate
    raise NotFound(f"草稿中没有文件 {name}")


def _save(draft: ModelDraft, changes: dict[str, str]) -> dict[str, Any]:
    """Check every file first, then store them: one bad file saves nothing."""
    clean = {name: drafts.check_file(name, text) for name, text in changes.items()}
    for name in clean:
        if name not in (draft.files or {}):
            raise FormInvalid(f"草稿中没有文件 {name}", {"name": ["文件不存在"]})
    for name, text in clean.items():
        drafts.update_file(draft, name, text, current_user)
    return {"ok": True, "saved": sorted(clean), "updated_at": draft.updated_at.isoformat()}


def _page(template: str, draft: ModelDraft, needs: tuple[str, ...], **context: Any):
    ready = vendor_ready(needs) if needs else True
    return render_template(template, draft=draft, vendor_ready=ready, vendor_missing=VENDOR_MISSING,
                           editable=draft.status == drafts.OPEN, **context), (200 if ready else 503)


def _decision_ids(files: dict[str, str]) -> list[dict[str, str]]:
    return [{"id": ident, "file": name} for name in sorted(files) if name.endswith(".dmn")
            for ident in _DECISION_ID.findall(files[name])]


def _ui_for(draft: ModelDraft, schema_name: str) -> str:
    """The UI schema that goes with a form: the one the diagram pairs it with, else by name."""
    short = schema_name.removeprefix("forms/")
    bpmn = next((t for n, t in (draft.files or {}).items() if n.endswith(".bpmn")), "")
    pattern = (rf'name="formJsonSchemaFilename" value="{re.escape(short)}"\s*/>\s*'
               r'<spiffworkflow:property name="formUiSchemaFilename" value="([^"]+)"')
    match = re.search(pattern, bpmn)
    guess = match.group(1) if match else short.removesuffix(".schema.json") + ".uischema.json"
    return f"forms/{guess}"


# -- BPMN -------------------------------------------------------------------------------------
def _diagram_context(draft: ModelDraft) -> dict[str, Any]:
    files = draft.files or {}
    try:
        model = json.loads(files.get("model.json") or "{}")
    except ValueError:
        model = {}
    return {
        "bpmn_name": _bpmn_name(draft),
        "model_json": files.get("model.json"),
        "forms": sorted(n.removeprefix("forms/") for n in files if n.startswith("forms/")),
        "decisions": _decision_ids(files),
        "helpers": sorted(registry.helpers()),
        "panels": sorted(panels.names()),
        "services": sorted(operations.names()),
        "roles": ROLE_LABELS,
        "lanes": model.get("lanes", {}) if isinstance(model, dict) else {},
    }


@bp.get("/drafts/<int:draft_id>/diagram")
def diagram(draft_id: int):
    draft = drafts.get(draft_id)
    context = _diagram_context(draft)
    return _page("studio/diagram.html", draft, BPMN_VENDOR, bpmn_xml=draft.files[context["bpmn_name"]],
                 config=context)


@bp.post("/drafts/<int:draft_id>/diagram")
def save_diagram(draft_id: int):
    draft = drafts.get(draft_id)
    data = _body()
    changes = {_bpmn_name(draft): _text(data, "bpmn", "流程图（bpmn）")}
    if data.get("model_json") is not None:
        changes["model.json"] = _text(data, "model_json", "model.json")
    return jsonify(_save(draft, changes))


@bp.post("/drafts/<int:draft_id>/validate.json")
def validate_json(draft_id: int):
    problems = drafts.validate(drafts.get(draft_id))
    blocking = [p for p in problems if p.get("severity", "error") == "error"]
    return jsonify({"ok": not blocking, "problems": problems})


# -- DMN --------------------------------------------------------------------------------------
@bp.get("/drafts/<int:draft_id>/decision")
def decision(draft_id: int):
    draft = drafts.get(draft_id)
    name = _named_file(draft, request.args.get("name", ""), ".dmn")
    return _page("studio/decision.html", draft, DMN_VENDOR, name=name, dmn_xml=draft.files[name])


@bp.post("/drafts/<int:draft_id>/decision")
def save_decision(draft_id: int):
    draft = drafts.get(draft_id)
    data = _body()
    name = _named_file(draft, _text(data, "name", "文件名"), ".dmn")
    return jsonify(_save(draft, {name: _text(data, "dmn", "决策表（dmn）")}))


# -- forms ------------------------------------------------------------------------------------
@bp.get("/drafts/<int:draft_id>/form")
def form(draft_id: int):
    draft = drafts.get(draft_id)
    name = _named_file(draft, request.args.get("name", ""), ".schema.json")
    ui_name = _ui_for(draft, name)
    return _page("studio/form.html", draft, (), name=name, schema_text=draft.files[name],
                 ui_name=ui_name if ui_name in draft.files else None, ui_text=draft.files.get(ui_name, ""))


@bp.post("/drafts/<int:draft_id>/form")
def save_form(draft_id: int):
    draft = drafts.get(draft_id)
    data = _body()
    name = _named_file(draft, _text(data, "name", "文件名"), ".schema.json")
    changes = {name: _text(data, "schema", "表单字段（schema）")}
    if data.get("ui_name"):
        changes[_named_file(draft, _text(data, "ui_name", "界面文件名"), ".json")] = _text(data, "ui", "表单界面")
    return jsonify(_save(draft, changes))


def _parsed(data: dict[str, Any], key: str, label: str, required: bool) -> dict[str, Any]:
    text = data.get(key)
    if not required and (text is None or (isinstance(text, str) and not text.strip())):
        return {}
    if not isinstance(text, str):
        raise FormInvalid(f"缺少{label}", {key: [f"缺少{label}"]})
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormInvalid(f"{label}不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}",
                          {key: [exc.msg]}) from exc
    if not isinstance(value, dict):
        raise FormInvalid(f"{label}应为 JSON 对象", {key: ["应为 JSON 对象"]})
    return value


def render_preview(schema: dict[str, Any], ui: dict[str, Any]) -> str:
    """The form's fields as a task page shows them (same builder, same macro), with no case data."""
    defn = forms.FormDefinition("preview", schema, ui)
    built = forms.build_form(defn, {})
    suggest = {name: forms.suggestions(defn, name, {}) for name in defn.order()}
    return render_template("studio/_form_preview.html", form=built, suggest=suggest, defn=defn)


@bp.post("/drafts/<int:draft_id>/form/preview")
def preview_form(draft_id: int):
    drafts.get(draft_id)
    data = _body()
    try:
        schema = _parsed(data, "schema", "表单字段（schema）", True)
        ui = _parsed(data, "ui", "表单界面（UI schema）", False)
        if not isinstance(schema.get("properties", {}), dict):
            raise FormInvalid("schema 的 properties 应为对象", {"schema": ["properties 应为对象"]})
        html = render_preview(schema, ui)
    except FormInvalid as exc:
        return render_template("studio/_preview_error.html", message=exc.message), 422
    except Exception as exc:  # noqa: BLE001 - a half-typed schema must give a message, not a 500
        return render_template("studio/_preview_error.html", message=f"表单定义无法预览：{exc}"), 422
    return html
