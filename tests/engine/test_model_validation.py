"""compile_model refuses unsafe XML and reports every modelling error with its element and file."""

import json
import re

import pytest

from app.engine import ModelInvalid, UnsafeXml, parse_xml

BPMN = "graduate_initial_determination.bpmn"
LEVEL_DMN = "initial_determination_level.dmn"
ROUTING_DMN = "initial_determination_routing.dmn"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'

DOCTYPE = '<!DOCTYPE bpmn:definitions>\n'
XXE = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
BILLION_LAUGHS = (
    '<!DOCTYPE lolz [\n'
    '  <!ENTITY lol "lol">\n'
    + "".join(
        f'  <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
    )
    + ']>\n'
)


def problems_of(compile_files, files):
    with pytest.raises(ModelInvalid) as info:
        compile_files(files)
    problems = info.value.problems
    assert problems
    for p in problems:
        assert CHINESE.search(p.message), p
    return problems


def with_prolog(text: str, prolog: str, use_entity: str | None = None) -> str:
    assert text.startswith(XML_DECL)
    body = text[len(XML_DECL):]
    if use_entity:
        body = body.replace('name="初定审核"', f'name="&{use_entity};"', 1)
    return XML_DECL + prolog + body


# -- unsafe XML ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prolog", "entity"),
    [(DOCTYPE, None), (XXE, "xxe"), (BILLION_LAUGHS, "lol9"), ("<!doctype x>\n", None), ("<! DOCTYPE x>\n", None)],
    ids=["doctype", "xxe", "billion-laughs", "lowercase", "spaced"],
)
def test_bpmn_with_doctype_is_refused(compile_files, bundled_files, prolog, entity):
    bundled_files[BPMN] = with_prolog(bundled_files[BPMN], prolog, entity)
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [(BPMN, "")]
    assert "DOCTYPE" in problems[0].message
    assert "root:" not in problems[0].message  # nothing of /etc/passwd was read


@pytest.mark.parametrize("dmn", [LEVEL_DMN, ROUTING_DMN])
def test_dmn_with_external_entity_is_refused(compile_files, bundled_files, dmn):
    bundled_files[dmn] = with_prolog(bundled_files[dmn], XXE)
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [(dmn, "")]
    assert "DOCTYPE" in problems[0].message


@pytest.mark.parametrize("payload", [DOCTYPE, XXE, BILLION_LAUGHS])
def test_parse_xml_refuses_before_parsing(payload):
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        parse_xml(XML_DECL + payload + "<root>&xxe;</root>")
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        parse_xml((XML_DECL + payload + "<root/>").encode("utf-8"))


def test_parse_xml_limits():
    with pytest.raises(UnsafeXml, match="嵌套层级"):
        parse_xml("<a>" * 250 + "</a>" * 250)
    with pytest.raises(UnsafeXml, match="XML 格式错误"):
        parse_xml("<a><b></a>")
    assert parse_xml("<a><b/></a>").getroot().tag == "a"


def test_malformed_bpmn_is_reported_for_its_file(compile_files, bundled_files):
    bundled_files[BPMN] = bundled_files[BPMN].replace("</bpmn:process>", "", 1)
    problems = problems_of(compile_files, bundled_files)
    assert [p.file for p in problems] == [BPMN]
    assert "XML 格式错误" in problems[0].message


# -- forms -----------------------------------------------------------------------------------


def test_user_task_with_missing_form_file(compile_files, bundled_files):
    del bundled_files["forms/review_decision.schema.json"]
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [(BPMN, "Task_employer_assess")]
    assert "找不到表单文件 forms/review_decision.schema.json" in problems[0].message


def test_form_shared_by_two_elements_is_reported_for_both(compile_files, bundled_files):
    del bundled_files["forms/grad_application.uischema.json"]
    problems = problems_of(compile_files, bundled_files)
    assert sorted(p.element_id for p in problems) == ["StartEvent_apply", "Task_revise"]


def test_user_task_referencing_an_unknown_form(compile_files, bundled_files):
    bundled_files[BPMN] = bundled_files[BPMN].replace(
        'value="grad_determination.schema.json"', 'value="no_such_form.schema.json"', 1
    )
    problems = problems_of(compile_files, bundled_files)
    assert [p.element_id for p in problems] == ["Task_bureau_review"]
    assert "no_such_form.schema.json" in problems[0].message


def test_user_task_without_a_form(compile_files, bundled_files):
    bundled_files[BPMN] = bundled_files[BPMN].replace(
        '<spiffworkflow:property name="formJsonSchemaFilename" value="grad_determination.schema.json" />', "", 1
    )
    problems = problems_of(compile_files, bundled_files)
    assert [p.element_id for p in problems] == ["Task_bureau_review"]
    assert "缺少表单" in problems[0].message


def test_form_that_is_not_json(compile_files, bundled_files):
    bundled_files["forms/review_decision.schema.json"] = "{not json"
    problems = problems_of(compile_files, bundled_files)
    assert [p.element_id for p in problems] == ["Task_employer_assess"]
    assert "不是合法 JSON" in problems[0].message


# -- lanes and model.json --------------------------------------------------------------------


def test_lane_not_mapped_in_model_json(compile_files, bundled_files):
    meta = json.loads(bundled_files["model.json"])
    del meta["lanes"]["用人单位"]
    bundled_files["model.json"] = json.dumps(meta, ensure_ascii=False)
    problems = problems_of(compile_files, bundled_files)
    assert {p.element_id for p in problems} == {
        "Gateway_merge",
        "Task_employer_assess",
        "Gateway_assess",
        "Task_employer_reject",
        "End_employer_rejected",
        "Task_reject",
        "End_rejected",
    }
    assert all("泳道“用人单位”" in p.message for p in problems)
    assert all(p.file == BPMN for p in problems)


def test_lane_renamed_in_the_diagram(compile_files, bundled_files):
    bundled_files[BPMN] = bundled_files[BPMN].replace('name="审核机关"', 'name="审批机关"', 1)
    problems = problems_of(compile_files, bundled_files)
    assert "Task_bureau_review" in {p.element_id for p in problems}
    assert "Task_employer_assess" not in {p.element_id for p in problems}
    assert all("审批机关" in p.message for p in problems)


def test_lane_mapping_without_role(compile_files, bundled_files):
    meta = json.loads(bundled_files["model.json"])
    meta["lanes"]["用人单位"] = {"org_var": "employer_org"}
    bundled_files["model.json"] = json.dumps(meta, ensure_ascii=False)
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [("model.json", "用人单位")]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda files: files.pop("model.json"), "缺少 model.json"),
        (lambda files: files.update({"model.json": "{"}), "JSON 格式错误"),
        (lambda files: files.update({"model.json": json.dumps({"id": "x", "name": "x", "lanes": {}})}), "starter_roles"),
    ],
)
def test_broken_model_json(compile_files, bundled_files, mutate, message):
    mutate(bundled_files)
    problems = problems_of(compile_files, bundled_files)
    assert [p.file for p in problems] == ["model.json"]
    assert message in problems[0].message


def test_process_id_must_match_model_json(compile_files, bundled_files):
    meta = json.loads(bundled_files["model.json"])
    meta["id"] = "graduate_initial"
    bundled_files["model.json"] = json.dumps(meta, ensure_ascii=False)
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [("model.json", "graduate_initial")]


# -- timers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "element_id", "message"),
    [
        ("batch_opens_at(batch)", "batch", "Timer_batch", "试算失败"),  # "2022-08" is no date
        ("batch_opens_at(batch)", "&quot;下个批次&quot;", "Timer_batch", "试算失败"),
        ("batch_opens_at(batch)", "42", "Timer_batch", "试算失败"),
        ("batch_opens_at(batch)", "batch_opens_at(batch) + &quot;前后&quot;", "Timer_batch", "试算失败"),
        ("batch_opens_at(batch)", "batch_opens_at(batch_month)", "Timer_batch", "timer_samples 缺少 batch_month"),
        ("batch_opens_at(batch)", "batch_opens_at(batch", "Timer_batch", "SyntaxError"),
        (
            "end_of_day(add_working_days(today(), correction_working_days))",
            "add_working_days(today(), correction_working_days) + &quot; 下班&quot;",
            "Timer_revise_deadline",
            "试算失败",
        ),
        (
            "end_of_day(add_working_days(today(), correction_working_days))",
            "add_working_days(today(), &quot;十&quot;)",
            "Timer_revise_deadline",
            "试算失败",
        ),
    ],
)
def test_timer_expression_must_give_an_iso_instant(compile_files, bundled_files, old, new, element_id, message):
    assert old in bundled_files[BPMN]
    bundled_files[BPMN] = bundled_files[BPMN].replace(old, new, 1)
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [(BPMN, element_id)]
    assert message in problems[0].message
    assert "定时器表达式" in problems[0].message


def test_timer_expressions_that_give_a_date_or_duration_are_accepted(compile_files, bundled_files):
    files = dict(bundled_files)
    files[BPMN] = files[BPMN].replace("batch_opens_at(batch)", "&quot;2022-08-10&quot;", 1)
    compile_files(files)
    files = dict(bundled_files)
    files[BPMN] = files[BPMN].replace(
        "end_of_day(add_working_days(today(), correction_working_days))", "&quot;P10D&quot;", 1
    )
    compile_files(files)


# -- decision tables -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dmn", "old", "new", "element_id", "message"),
    [
        (LEVEL_DMN, '<inputEntry id="Entry_master_mid_post"><text>&gt;= 12</text>',
         '<inputEntry id="Entry_master_mid_post"><text>&gt;= = 12</text>', "Rule_master_mid", "第 2 行条件不合法"),
        (LEVEL_DMN, '<inputEntry id="Entry_bachelor_edu"><text>"本科"</text>',
         '<inputEntry id="Entry_bachelor_edu"><text>"本科</text>', "Rule_bachelor", "第 4 行条件不合法"),
        # Output syntax is checked by the DMN parser, which names the cell itself.
        (LEVEL_DMN, '<outputEntry id="Out_secondary_level"><text>"员级"</text>',
         '<outputEntry id="Out_secondary_level"><text>"员级" +</text>', "Out_secondary_level", "模型校验失败"),
        (LEVEL_DMN, '<outputEntry id="Out_secondary_level"><text>"员级"</text>',
         '<outputEntry id="Out_secondary_level"><text>__import__("os").name</text>', "Rule_secondary", "第 7 行输出不合法"),
        (ROUTING_DMN, '<inputEntry id="Entry_cj_level"><text>? in ("员级", "助理级")</text>',
         '<inputEntry id="Entry_cj_level"><text>? in ("员级", "助理级"</text>', "Rule_county_junior", "第 4 行条件不合法"),
        (ROUTING_DMN, '<outputEntry id="Out_cm"><text>"丽水市人力资源和社会保障局"</text>',
         '<outputEntry id="Out_cm"><text>county_hr(</text>', "Out_cm", "模型校验失败"),
        (ROUTING_DMN, '<outputEntry id="Out_cm"><text>"丽水市人力资源和社会保障局"</text>',
         '<outputEntry id="Out_cm"><text>unit_county.__class__</text>', "Rule_county_mid", "第 3 行输出不合法"),
        (ROUTING_DMN, '<inputEntry id="Entry_city_county"><text>"市本级"</text>',
         '<inputEntry id="Entry_city_county"><text>open("/etc/passwd")</text>', "Rule_city_level", "第 2 行条件不合法"),
    ],
)
def test_invalid_decision_cell(compile_files, bundled_files, dmn, old, new, element_id, message):
    assert old in bundled_files[dmn]
    bundled_files[dmn] = bundled_files[dmn].replace(old, new, 1)
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [(dmn, element_id)]
    assert message in problems[0].message


@pytest.mark.parametrize(
    ("dmn", "old", "new", "table_id"),
    [
        (LEVEL_DMN, "<text>(months_pre_degree or 0) + months_post_grad</text>",
         "<text>(months_pre_degree or 0) +</text>", "DecisionTable_level"),
        (ROUTING_DMN, "<text>bool(self_managed)</text>", "<text>bool(self_managed</text>", "DecisionTable_routing"),
    ],
)
def test_invalid_decision_input_expression(compile_files, bundled_files, dmn, old, new, table_id):
    bundled_files[dmn] = bundled_files[dmn].replace(old, new, 1)
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [(dmn, table_id)]
    assert "决策输入" in problems[0].message


# -- gateway conditions and services ---------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "element_id"),
    [
        ("decision == &quot;approve&quot;</bpmn:conditionExpression></bpmn:sequenceFlow>\n    <bpmn:sequenceFlow id=\"Flow_return\"",
         "decision == = &quot;approve&quot;</bpmn:conditionExpression></bpmn:sequenceFlow>\n    <bpmn:sequenceFlow id=\"Flow_return\"",
         "Flow_approve"),
        ("decision != &quot;approve&quot;", "decision != (&quot;approve&quot;", "Flow_deny"),
    ],
)
def test_gateway_condition_with_syntax_error(compile_files, bundled_files, old, new, element_id):
    assert old in bundled_files[BPMN]
    bundled_files[BPMN] = bundled_files[BPMN].replace(old, new, 1)
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [(BPMN, element_id)]
    assert "条件表达式" in problems[0].message
    assert "SyntaxError" in problems[0].message


def test_script_with_syntax_error_names_the_line(compile_files, bundled_files):
    bundled_files[BPMN] = bundled_files[BPMN].replace("return_count = return_count + 1", "return_count = return_count +", 1)
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [(BPMN, "Task_resubmit")]
    assert problems[0].message.startswith("脚本")
    assert "Line 3: SyntaxError" in problems[0].message


def test_unknown_service(compile_files, bundled_files):
    bundled_files[BPMN] = bundled_files[BPMN].replace('id="issue_certificate"', 'id="send_sms"', 1)
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [(BPMN, "Task_certificate")]
    assert "未知的服务 send_sms" in problems[0].message


def test_all_problems_are_reported_together(compile_files, bundled_files):
    del bundled_files["forms/review_decision.schema.json"]
    bundled_files[BPMN] = bundled_files[BPMN].replace("batch_opens_at(batch)", "batch", 1)
    bundled_files[LEVEL_DMN] = bundled_files[LEVEL_DMN].replace(
        '<text>"博士"</text>', '<text>"博士</text>', 1
    )
    problems = problems_of(compile_files, bundled_files)
    assert {p.element_id for p in problems} == {"Task_employer_assess", "Timer_batch", "Rule_doctor"}


def test_bundled_model_compiles(model):
    assert model.process_id == "graduate_initial_determination"
    tasks = model.meta["tasks"]
    assert set(tasks) == {"StartEvent_apply", "Task_employer_assess", "Task_revise", "Task_bureau_review"}
    assert tasks["Task_employer_assess"]["due_working_days"] == "5"
    assert model.meta["start_form"] == {"form": "grad_application.schema.json", "ui": "grad_application.uischema.json"}


@pytest.mark.parametrize("reserved", ["Start", "End"])
def test_element_ids_reserved_by_the_engine_are_refused(compile_files, bundled_files, reserved):
    old = {"Start": "StartEvent_apply", "End": "End_approved"}[reserved]
    bundled_files[BPMN] = bundled_files[BPMN].replace(f'"{old}"', f'"{reserved}"').replace(
        f">{old}<", f">{reserved}<")
    problems = problems_of(compile_files, bundled_files)
    assert [(p.file, p.element_id) for p in problems] == [(BPMN, reserved)]
    assert "保留名" in problems[0].message


def test_bad_due_properties_are_reported_on_their_task(compile_files, bundled_files):
    text = bundled_files[BPMN]
    days = '<spiffworkflow:property name="dueWorkingDays" value="5" />'
    assert days in text
    bundled_files[BPMN] = text.replace(days, '<spiffworkflow:property name="dueWorkingDays" value="五天" />'
                                             '<spiffworkflow:property name="dueDate" value="add_working_days(x, " />', 1)
    problems = problems_of(compile_files, bundled_files)
    messages = [p.message for p in problems if p.element_id == "Task_employer_assess"]
    assert any("dueWorkingDays" in m and "五天" in m for m in messages), messages
    assert any("截止日期表达式" in m for m in messages), messages
