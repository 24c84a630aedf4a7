"""User-task forms: JSON Schema + UI schema, rendered as WTForms and validated on the server.

The same definition serves the HTML page (a FlaskForm with CSRF) and the API (the JSON
body is turned into form data and goes through the very same validators).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import Form, validators
from wtforms.fields import (
    BooleanField,
    DateField,
    Field,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import FileInput

from app import clock
from app.services.errors import FormInvalid, NotFound


@dataclass
class FormDefinition:
    key: str
    schema: dict[str, Any]
    ui: dict[str, Any]

    def order(self) -> list[str]:
        props = list(self.schema.get("properties", {}))
        wanted = [n for n in self.ui.get("ui:order", []) if n in props]
        return wanted + [n for n in props if n not in wanted]


def load_definition(files: Mapping[str, str], schema_file: str | None, ui_file: str | None) -> FormDefinition:
    if not schema_file or f"forms/{schema_file}" not in files:
        raise NotFound(f"表单 {schema_file} 不存在")
    schema = json.loads(files[f"forms/{schema_file}"])
    ui = json.loads(files[f"forms/{ui_file}"]) if ui_file and f"forms/{ui_file}" in files else {}
    return FormDefinition(schema_file.removesuffix(".schema.json"), schema, ui)


def field_schemas(files: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Each form field's JSON Schemas across a version's forms (forms/*.schema.json), in the
    order of the forms' file names. Unreadable files are skipped."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(files):
        if not (name.startswith("forms/") and name.endswith(".schema.json")):
            continue
        try:
            props = (json.loads(files[name]) or {}).get("properties") or {}
        except (ValueError, AttributeError):
            continue
        for prop, spec in props.items():
            if isinstance(spec, dict):
                out.setdefault(prop, []).append(spec)
    return out


# -- dynamic options ------------------------------------------------------------------------
def _choices(prop: Mapping[str, Any]) -> list[tuple[str, str]]:
    if "oneOf" in prop:
        return [(str(o["const"]), o.get("title", str(o["const"]))) for o in prop["oneOf"]]
    if "enum" in prop:
        names = prop.get("enumNames") or prop["enum"]
        return [(str(v), str(n)) for v, n in zip(prop["enum"], names, strict=False)]
    return []


def choice_values(prop: Mapping[str, Any]) -> set[str]:
    """The values a choice field offers (as the form renders them)."""
    return {value for value, _ in _choices(prop)}


def _catalog(name: str) -> list[str] | None:
    """Options a form may take from the product's reference data ("enumFrom": "@plan_committees")."""
    from app.services import committees

    sources: dict[str, Callable[[], list[str]]] = {
        "plan_committees": committees.offered_committees,
        "plan_titles": committees.offered_titles,
        "plan_specialties": committees.offered_specialties,
    }
    source = sources.get(name)
    return source() if source is not None else None


def _options(source: str, task_data: Mapping[str, Any]) -> list[str]:
    if source.startswith("@"):
        return _catalog(source[1:]) or []
    return [str(v) for v in task_data.get(source) or []]


def suggestions(defn: FormDefinition, name: str, task_data: Mapping[str, Any]) -> list[str]:
    """Values offered for free text (an HTML datalist), from "ui:options": {"suggestFrom": ...}."""
    source = defn.ui.get(name, {}).get("ui:options", {}).get("suggestFrom")
    return _options(source, task_data) if source else []


def resolved_schema(defn: FormDefinition, task_data: Mapping[str, Any]) -> dict[str, Any]:
    """The schema as this task offers it: options narrowed and defaults taken from task data.

    "enumFrom" names a task-data list, or "@name" a catalogue of the product (the committees
    of the current plan...); with an enum or oneOf the options are narrowed, without one the
    catalogue becomes the enum.
    """
    schema = json.loads(json.dumps(defn.schema))
    for name, prop in schema.get("properties", {}).items():
        options = defn.ui.get(name, {}).get("ui:options", {})
        source = options.get("enumFrom")
        if source is not None:
            allowed = _options(source, task_data)
            if "oneOf" in prop:
                prop["oneOf"] = [o for o in prop["oneOf"] if str(o["const"]) in allowed]
            elif "enum" in prop and not source.startswith("@"):
                prop["enum"] = [v for v in prop["enum"] if str(v) in allowed]
            else:
                prop["enum"] = allowed
        default_from = options.get("defaultFrom")
        if default_from and task_data.get(default_from) is not None:
            prop["default"] = task_data[default_from]
    return schema


def prefill(defn: FormDefinition, task_data: Mapping[str, Any]) -> dict[str, Any]:
    """Initial values: the case's own values of the fields (an applicant correcting their application),
    unless the form says "ui:prefill": false (a review must not open with the previous reviewer's
    decision and opinion); then only defaults and "defaultFrom"."""
    schema = resolved_schema(defn, task_data)
    from_case = defn.ui.get("ui:prefill", True)
    values: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if from_case and task_data.get(name) is not None:
            values[name] = task_data[name]
        elif "default" in prop:
            values[name] = prop["default"]
    return values


# -- required, including JSON Schema if/then ------------------------------------------------
def _matches(condition: Mapping[str, Any], raw: Mapping[str, Any]) -> bool:
    for name, rule in condition.get("properties", {}).items():
        value = raw.get(name)
        if "not" in rule and _matches({"properties": {name: rule["not"]}}, raw):
            return False
        if "const" in rule and value != rule["const"]:
            return False
        if "enum" in rule and value not in rule["enum"]:
            return False
    return True


def required_fields(schema: Mapping[str, Any], raw: Mapping[str, Any]) -> set[str]:
    needed = set(schema.get("required", []))
    for clause in schema.get("allOf", []):
        if "if" in clause and _matches(clause["if"], raw):
            needed.update(clause.get("then", {}).get("required", []))
    return needed


# -- fields -----------------------------------------------------------------------------------
class DocumentListField(Field):
    """A list of uploaded document ids (the web view uploads files first, then passes ids)."""

    widget = FileInput(multiple=True)

    def process_formdata(self, valuelist):
        self.data = [str(v).strip() for v in valuelist if isinstance(v, str) and str(v).strip()]

    def _value(self):
        return ""


class NotAfterToday:
    def __call__(self, form, field):
        if field.data and field.data > clock.today():
            raise validators.ValidationError("日期不能晚于今天")


class NotBeforeToday:
    def __call__(self, form, field):
        if field.data and field.data < clock.today():
            raise validators.ValidationError("日期不能早于今天")


def _field(name: str, prop: Mapping[str, Any], ui: Mapping[str, Any], required: bool) -> Field:
    label = prop.get("title", name)
    help_text = ui.get("ui:help", "")
    presence = validators.InputRequired(message="此项为必填项") if required else validators.Optional()
    kind = prop.get("type")
    kwargs: dict[str, Any] = {"description": help_text}
    if kind == "array":
        checks = [validators.Length(max=prop.get("maxItems", 50), message="附件数量过多")]
        if required:
            checks.insert(0, validators.InputRequired(message="请至少上传一个文件"))
        return DocumentListField(label, checks, **kwargs)
    choices = _choices(prop)
    if choices:
        values = [c[0] for c in choices]
        chk = [presence, validators.AnyOf(values, message="请选择有效的选项")]
        cls = RadioField if ui.get("ui:widget") == "radio" else SelectField
        if cls is SelectField:
            choices = [("", "请选择")] + choices
        return cls(label, chk, choices=choices, validate_choice=False, **kwargs)
    if kind == "string" and prop.get("format") == "date":
        chk = [presence]
        if prop.get("x-not-after") == "today":
            chk.append(NotAfterToday())
        if prop.get("x-not-before") == "today":
            chk.append(NotBeforeToday())
        return DateField(label, chk, format="%Y-%m-%d", **kwargs)
    if kind in {"integer", "number"}:
        chk = [presence]
        if "minimum" in prop or "maximum" in prop:
            lo, hi = prop.get("minimum"), prop.get("maximum")
            chk.append(validators.NumberRange(lo, hi, message=_range_message(lo, hi)))
        cls = IntegerField if kind == "integer" else FloatField
        return cls(label, chk, **kwargs)
    if kind == "boolean":
        return BooleanField(label, [validators.Optional()], **kwargs)
    chk = [presence]
    if "minLength" in prop or "maxLength" in prop:
        lo, hi = prop.get("minLength", -1), prop.get("maxLength", -1)
        chk.append(validators.Length(lo, hi, message=_length_message(lo, hi)))
    if "pattern" in prop:
        chk.append(validators.Regexp(prop["pattern"], message="格式不正确"))
    cls = TextAreaField if ui.get("ui:widget") == "textarea" else StringField
    return cls(label, chk, **kwargs)


def _range_message(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"应在 {lo} 到 {hi} 之间"
    return f"不得小于 {lo}" if lo is not None else f"不得大于 {hi}"


def _length_message(lo: int, hi: int) -> str:
    if lo > 0 and hi > 0:
        return f"长度应在 {lo} 到 {hi} 个字符之间"
    return f"长度不得少于 {lo} 个字符" if lo > 0 else f"长度不得超过 {hi} 个字符"


def build_form(
    defn: FormDefinition,
    task_data: Mapping[str, Any],
    formdata: MultiDict | None = None,
    base: type[Form] = Form,
) -> Form:
    """A WTForms form for this task; `formdata` None renders it prefilled."""
    schema = resolved_schema(defn, task_data)
    raw = {k: formdata.get(k) for k in formdata} if formdata is not None else {}
    needed = required_fields(schema, raw) if formdata is not None else set(schema.get("required", []))

    class _Form(base):  # type: ignore[misc, valid-type]
        class Meta(getattr(base, "Meta", object)):  # type: ignore[misc]
            locales = ("zh",)

    for name in defn.order():
        prop = schema["properties"][name]
        setattr(_Form, name, _field(name, prop, defn.ui.get(name, {}), name in needed))
    if formdata is None:
        return _Form(data=_as_field_values(schema, prefill(defn, task_data)))
    return _Form(formdata=formdata)


def _as_field_values(schema: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Case data keeps dates as YYYY-MM-DD text; a date field renders a date."""
    out = dict(values)
    for name, prop in schema.get("properties", {}).items():
        if prop.get("format") == "date" and isinstance(out.get(name), str):
            try:
                out[name] = date.fromisoformat(out[name])
            except ValueError:
                out.pop(name)
    return out


def document_fields(defn: FormDefinition) -> list[str]:
    """The fields that hold uploaded document ids (JSON Schema arrays)."""
    return [n for n, p in defn.schema.get("properties", {}).items() if p.get("type") == "array"]


def clean_data(defn: FormDefinition, form: Form) -> dict[str, Any]:
    schema = defn.schema
    out: dict[str, Any] = {}
    for name in defn.order():
        value = form[name].data
        prop = schema["properties"][name]
        if isinstance(value, date):
            value = value.isoformat()
        if value in ("", None) and "default" in prop:
            value = prop["default"]
        if value == "":
            value = None
        out[name] = value
    return out


def errors_of(form: Form) -> dict[str, list[str]]:
    return {name: list(errs) for name, errs in form.errors.items() if name != "csrf_token"}


def _json_kind_errors(defn: FormDefinition, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """JSON values no field of a form takes: an object, a list where one value goes or a list of
    lists or objects, true/false where text or a number goes. to_formdata would turn them into text
    ("{'a': 1}", "y") that the text validators accept. A number for a text field stays its digits."""
    props = defn.schema.get("properties", {})
    fields: dict[str, list[str]] = {}
    for key, value in data.items():
        kind = (props.get(key) or {}).get("type")
        if isinstance(value, dict):
            fields[key] = ["应为单个值，不能是对象"]
        elif isinstance(value, list) and kind != "array":
            fields[key] = ["应为单个值，不能是列表"]
        elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
            fields[key] = ["列表中的每一项应为单个值"]
        elif isinstance(value, bool) and kind in ("string", "integer", "number"):
            fields[key] = ["应为文字或数字，不能是 true/false"]
    return fields


def to_formdata(data: Mapping[str, Any]) -> MultiDict:
    """JSON body → form data, so the API runs the very same validators as the page."""
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        if isinstance(value, list):
            pairs.extend((key, str(v)) for v in value)
        elif isinstance(value, bool):
            if value:
                pairs.append((key, "y"))
        elif value is not None:
            pairs.append((key, str(value)))
    return MultiDict(pairs)


def validate(
    defn: FormDefinition,
    task_data: Mapping[str, Any],
    data: Mapping[str, Any] | MultiDict,
) -> dict[str, Any]:
    """Validate submitted data (JSON or form data); return clean JSON values or raise FormInvalid."""
    if not isinstance(data, Mapping):
        raise FormInvalid("提交的数据格式不正确", {"data": ["应为对象"]})
    if not isinstance(data, MultiDict):
        wrong = _json_kind_errors(defn, data)
        if wrong:
            raise FormInvalid("表单填写有误，请按提示修改", wrong)
        # A JSON body that leaves out a field means its default (an unchecked box on a page is False).
        defaults = {k: p["default"] for k, p in defn.schema.get("properties", {}).items() if "default" in p}
        data = {**defaults, **data}
    formdata = data if isinstance(data, MultiDict) else to_formdata(data)
    unknown = [k for k in formdata if k not in defn.schema.get("properties", {}) and k != "csrf_token"]
    form = build_form(defn, task_data, formdata)
    if not form.validate() or unknown:
        fields = errors_of(form)
        for name in unknown:
            fields[name] = ["表单中没有此字段"]
        raise FormInvalid("表单填写有误，请按提示修改", fields)
    clean = clean_data(defn, form)
    problems = rule_checks(defn, task_data, clean)
    if problems:
        raise FormInvalid("表单填写有误，请按提示修改", problems)
    return clean


# -- rule-backed checks ("x-checks") ----------------------------------------------------------
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _check_input(spec: Any, task_data: Mapping[str, Any], clean: Mapping[str, Any]) -> Any:
    """"field:x" a submitted value, "data:x" the task's data, "today" the app's date, else a literal."""
    if isinstance(spec, str):
        if spec.startswith("field:"):
            return clean.get(spec[6:])
        if spec.startswith("data:"):
            return task_data.get(spec[5:])
        if spec == "today":
            return clock.today().isoformat()
    return spec


def rule_checks(defn: FormDefinition, task_data: Mapping[str, Any], clean: Mapping[str, Any]) -> dict[str, list[str]]:
    """Cross-field checks a form declares against the bundled rules, e.g. DT-06 on a meeting date:

    "x-checks": [{"rule": "lead_time_ok", "inputs": {"meeting_date": "field:meeting_date", ...},
                  "expect": {"may_convene": true}, "field": "meeting_date", "message": "... {earliest_meeting_date}"}]
    The message may name any output of the rule in braces.
    """
    from app.services import rules

    problems: dict[str, list[str]] = {}
    for check in defn.schema.get("x-checks", []):
        inputs = {k: _check_input(v, task_data, clean) for k, v in check.get("inputs", {}).items()}
        if any(v is None for v in inputs.values()):
            continue
        try:
            outputs = rules.evaluate(check["rule"], inputs)
        except FormInvalid as exc:  # the rule refuses its inputs: say so on the fields they came from
            for name, messages in exc.fields.items():
                source = str(check.get("inputs", {}).get(name, ""))
                target = source[6:] if source.startswith("field:") else check.get("field", "form")
                problems.setdefault(target, []).extend(messages)
            continue
        if all(outputs.get(k) == v for k, v in check.get("expect", {}).items()):
            continue
        message = _PLACEHOLDER.sub(lambda m, out=outputs: str(out.get(m.group(1), "")), check.get("message", "不符合规则"))
        problems.setdefault(check.get("field", "form"), []).append(message)
    return problems


def api_form(defn: FormDefinition, task_data: Mapping[str, Any]) -> dict[str, Any]:
    return {"key": defn.key, "schema": resolved_schema(defn, task_data), "ui_schema": defn.ui}
