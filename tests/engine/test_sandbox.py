"""The restricted environment for scripts, conditions, decision cells and timer expressions."""

import re
from xml.sax.saxutils import escape

import pytest

from app import clock
from app.engine import ModelInvalid, ScriptRejected
from app.engine.sandbox import BUILTINS, RestrictedEnvironment, compile_expression, compile_script

BPMN = "graduate_initial_determination.bpmn"
LEVEL_DMN = "initial_determination_level.dmn"
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# Expressions that must never compile in the sandbox.
REFUSED_EXPRESSIONS = [
    "__import__('os')",
    "__import__('os').system('id')",
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__bases__[0].__subclasses__()]",
    "open('/etc/passwd')",
    "open('/etc/passwd').read()",
    "eval('1 + 1')",
    "exec('x = 1')",
    "getattr(today, '__globals__')",
    "getattr(x, 'real')",
    "setattr(x, 'y', 1)",
    "globals()",
    "vars()",
    "type(x)",
    "compile('1', 'f', 'eval')",
    "x.__class__",
    "today.__globals__",
    "whole_months.__code__",
    "x._private",
    "__builtins__",
    "_getattr_",
    "(i for i in ()).gi_frame.f_globals",
    "'{0.__class__.__mro__}'.format(x)",
    "'{x.__class__}'.format_map({'x': 1})",
    "str.format('{0.__globals__}', today)",
    "f'{x.__class__}'",
    "f'{today.__globals__}'",
]

REFUSED_SCRIPTS = [
    "import os",
    "from os import path",
    "import subprocess\nsubprocess.run(['id'])",
    "data = open('/etc/passwd').read()",
    "x = ().__class__.__base__.__subclasses__()",
    "x = eval('1')",
    "exec('import os')",
    "f = getattr(today, '__globals__')",
    "template = '{0.__class__}'\nx = template.format(1)",
    "x = f'{today.__globals__}'",
    "__import__('os')",
    "class A:\n    def __init__(self):\n        self.__dict__ = {}",
]


@pytest.fixture
def env(helpers):
    return RestrictedEnvironment(helpers)


@pytest.mark.parametrize("source", REFUSED_EXPRESSIONS)
def test_refused_expressions(env, source):
    with pytest.raises(ScriptRejected):
        compile_expression(source)
    with pytest.raises(ScriptRejected):
        env.evaluate(source, {"x": 3})


@pytest.mark.parametrize("source", REFUSED_SCRIPTS)
def test_refused_scripts(env, source):
    with pytest.raises(ScriptRejected):
        compile_script(source)
    context = {"x": 3}
    with pytest.raises(ScriptRejected):
        env.execute(source, context)
    assert context == {"x": 3}


def test_refusals_name_the_reason_in_chinese():
    with pytest.raises(ScriptRejected, match="不允许调用 open"):
        compile_expression("open('/etc/passwd')")
    with pytest.raises(ScriptRejected, match="不允许 import"):
        compile_script("x = 1\nimport os")
    with pytest.raises(ScriptRejected, match="第 2 行"):
        compile_script("x = 1\nimport os")
    with pytest.raises(ScriptRejected, match="format"):
        compile_expression("'{}'.format(x)")


@pytest.mark.parametrize(
    "name", ["open", "getattr", "setattr", "eval", "exec", "compile", "globals", "vars", "type", "__import__"]
)
def test_dangerous_builtins_are_absent_at_run_time(env, name):
    assert name not in BUILTINS
    # A bare reference compiles but finds nothing.
    if not name.startswith("_"):
        with pytest.raises(NameError):
            env.evaluate(name, {})


def test_missing_attributes_do_not_reach_the_real_getattr(env):
    # The guard reads public attributes only; a dunder spelled as data is just a string.
    assert env.evaluate("x.real", {"x": 3}) == 3
    assert env.evaluate("d['__class__']", {"d": {"__class__": "plain"}}) == "plain"


@pytest.mark.parametrize(
    ("source", "context", "expected"),
    [
        ("[i * i for i in range(4)]", {}, [0, 1, 4, 9]),
        ("{k: v for k, v in pairs}", {"pairs": [("a", 1), ("b", 2)]}, {"a": 1, "b": 2}),
        ("{i % 3 for i in range(10)}", {}, {0, 1, 2}),
        ("sum(x for x in values if x > 1)", {"values": [1, 2, 3]}, 5),
        ("sorted(names, key=lambda n: len(n))", {"names": ["ccc", "a", "bb"]}, ["a", "bb", "ccc"]),
        ("f'{name}的初定申请（{level}）'", {"name": "何俊", "level": "助理级"}, "何俊的初定申请（助理级）"),
        ("'%s-%02d' % (year, month)", {"year": 2022, "month": 8}, "2022-08"),
        ("education in ('硕士', '博士')", {"education": "硕士"}, True),
        ("max(graduation_date, work_start_date)", {"graduation_date": "2019-06-30", "work_start_date": "2019-07-01"}, "2019-07-01"),
        ("whole_months('2019-07-01', '2022-07-15')", {}, 36),
        ("graduate_batch('2022-11-11')", {}, "2023-02"),
        ("add_working_days('2022-09-29', 5)", {}, "2022-10-11"),
        ("levels_up_to('助理级')", {}, ["员级", "助理级"]),
        ("level_at_most('中级', max_level)", {"max_level": "助理级"}, False),
        ("county_hr('莲都区')", {}, "莲都区人力资源和社会保障局"),
        ("batch_opens_at(batch)", {"batch": "2022-08"}, "2022-08-10T00:00:00+08:00"),
        ("data['a']['b'][1]", {"data": {"a": {"b": [0, 7]}}}, 7),
        ("name.strip().upper().startswith('AB')", {"name": " abc "}, True),
        ("len([a for a, b in zip(xs, ys) if a == b])", {"xs": [1, 2, 3], "ys": [1, 0, 3]}, 2),
        ("isinstance(x, int) and abs(x) == 3", {"x": -3}, True),
    ],
)
def test_allowed_expressions(env, source, context, expected):
    assert env.evaluate(source, context) == expected


def test_allowed_script_writes_only_data_back(env):
    context = {"scores": [3, 1, 2], "old": "gone"}
    script = (
        "ranked = sorted(scores, reverse=True)\n"
        "total = 0\n"
        "for s in ranked:\n"
        "    total += s\n"
        "first, *rest = ranked\n"
        "squares = {s: s * s for s in scores}\n"
        "def helper(v):\n"
        "    return v + 1\n"
        "bumped = [helper(s) for s in scores]\n"
        "try:\n"
        "    boom = 1 / 0\n"
        "except ZeroDivisionError:\n"
        "    boom = None\n"
        "months = whole_months('2020-07-01', '2023-01-10')\n"
        "del old\n"
    )
    env.execute(script, context)
    assert context == {
        "scores": [3, 1, 2],
        "ranked": [3, 2, 1],
        "total": 6,
        "first": 3,
        "rest": [2, 1],
        "squares": {3: 9, 1: 1, 2: 4},
        "bumped": [4, 2, 3],
        "boom": None,
        "months": 30,
        "s": 1,  # a for-loop variable is ordinary data
    }  # the `helper` function is not data; `old` was deleted


def test_data_may_not_shadow_a_helper(env):
    with pytest.raises(ValueError, match="同名"):
        env.execute("x = 1", {"today": "2022-07-15"})


def test_a_script_cannot_replace_a_helper_for_later_steps(env, helpers):
    context = {}
    env.execute("today = lambda: '1999-01-01'\nx = today()", context)
    assert context == {"x": "1999-01-01"}
    assert env.evaluate("today()", {}) != "1999-01-01"
    assert env.globals["today"] is helpers["today"]


def test_services_need_a_handler(env):
    with pytest.raises(ScriptRejected, match="issue_certificate"):
        env.call_service({}, operation_name="issue_certificate", operation_params={})


# -- compile_model reports refused code with the element it sits in --------------------------


def _replace_script(files, element_id, new_script):
    bpmn = files[BPMN]
    pattern = re.compile(rf'(<bpmn:scriptTask id="{element_id}"[^>]*>.*?<bpmn:script>)(.*?)(</bpmn:script>)', re.S)
    assert pattern.search(bpmn), element_id
    files[BPMN] = pattern.sub(lambda m: m.group(1) + escape(new_script) + m.group(3), bpmn, count=1)
    return files


def _problems(compile_files, files):
    with pytest.raises(ModelInvalid) as info:
        compile_files(files)
    return info.value.problems


@pytest.mark.parametrize("script", REFUSED_SCRIPTS)
def test_compile_model_refuses_a_script_task(compile_files, bundled_files, script):
    files = _replace_script(bundled_files, "Task_register", f"submitted_on = today()\nreturn_count = 0\n{script}")
    problems = _problems(compile_files, files)
    assert [(p.file, p.element_id) for p in problems] == [(BPMN, "Task_register")]
    assert "脚本不符合受限环境要求" in problems[0].message


@pytest.mark.parametrize("expression", ["open('/etc/passwd').read()", "x.__class__", "'{0.__class__}'.format(x)"])
def test_compile_model_refuses_a_script_in_another_task(compile_files, bundled_files, expression):
    files = _replace_script(bundled_files, "Task_eligible", f"eligible = {expression}")
    problems = _problems(compile_files, files)
    assert [p.element_id for p in problems] == ["Task_eligible"]
    assert CHINESE.search(problems[0].message)


def test_compile_model_refuses_a_gateway_condition(compile_files, bundled_files):
    files = bundled_files
    files[BPMN] = files[BPMN].replace(
        "decision == &quot;reject&quot;", "__import__(&quot;os&quot;).system(&quot;id&quot;) == 0", 1
    )
    problems = _problems(compile_files, files)
    assert [p.element_id for p in problems] == ["Flow_reject"]
    assert "条件表达式不符合受限环境要求" in problems[0].message


def test_compile_model_refuses_a_timer_expression(compile_files, bundled_files):
    files = bundled_files
    files[BPMN] = files[BPMN].replace("batch_opens_at(batch)", "open(&quot;/etc/passwd&quot;).read()", 1)
    problems = _problems(compile_files, files)
    assert [p.element_id for p in problems] == ["Timer_batch"]
    assert "定时器表达式不符合受限环境要求" in problems[0].message


def test_compile_model_refuses_a_service_parameter(compile_files, bundled_files):
    files = bundled_files
    files[BPMN] = files[BPMN].replace('value="approved_level"', 'value="approved_level.__class__"', 1)
    problems = _problems(compile_files, files)
    assert [p.element_id for p in problems] == ["Task_certificate"]
    assert "服务参数 level" in problems[0].message


def test_compile_model_refuses_a_post_script(compile_files, bundled_files):
    files = bundled_files
    files[BPMN] = files[BPMN].replace(
        'certificate_no = certificate["number"]', "certificate_no = getattr(certificate, 'number')", 1
    )
    problems = _problems(compile_files, files)
    assert [p.element_id for p in problems] == ["Task_certificate"]
    assert "后置脚本" in problems[0].message


@pytest.mark.parametrize(
    ("old", "new", "rule_id"),
    [
        ("<text>&gt;= 12</text></inputEntry>\n        <inputEntry id=\"Entry_master_mid_total\">",
         "<text>?.__class__ == 1</text></inputEntry>\n        <inputEntry id=\"Entry_master_mid_total\">",
         "Rule_master_mid"),
        ("<text>\"中专毕业，从事相关专业工作满1年，可初定员级\"</text>",
         "<text>open(\"/etc/passwd\").read()</text>",
         "Rule_secondary"),
    ],
)
def test_compile_model_refuses_a_decision_cell(compile_files, bundled_files, old, new, rule_id):
    files = bundled_files
    assert old in files[LEVEL_DMN]
    files[LEVEL_DMN] = files[LEVEL_DMN].replace(old, new, 1)
    problems = _problems(compile_files, files)
    assert [(p.file, p.element_id) for p in problems] == [(LEVEL_DMN, rule_id)]
    assert CHINESE.search(problems[0].message)


def test_allowed_code_in_a_script_task_compiles_and_runs(compile_files, bundled_files, runtime, p09):
    script = (
        "submitted_on = today()\n"
        "months_pre_degree = months_pre_degree or 0\n"
        "return_count = 0\n"
        "checked = [a for a in (attachments or []) if a.endswith('.pdf')]\n"
        "summary = {'months': whole_months(work_start_date, submitted_on), 'batch': graduate_batch(submitted_on)}\n"
        "label = f'{applicant_name}（{requested_level}）'\n"
    )
    model = compile_files(_replace_script(bundled_files, "Task_register", script))
    clock.set_override(clock.parse_instant("2022-07-15T10:00:00+08:00"))
    case = runtime.start(model, p09(attachments=["毕业证.pdf", "照片.jpg"]))
    data = case.data()
    assert data["checked"] == ["毕业证.pdf"]
    assert data["summary"] == {"months": 36, "batch": "2022-08"}
    assert data["label"] == "何俊（助理级）"
