"""Hostile models and inputs: each refused or stopped with a clear message; the server stays up."""

from __future__ import annotations

import io
import time
from xml.sax.saxutils import escape

import pytest
from api_client import Api

from app.engine import sandbox
from app.engine.sandbox import RestrictedEnvironment, ScriptLimitExceeded
from app.extensions import db
from app.services import registry

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_hostile" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="hostile_script" name="恶意脚本测试流程" isExecutable="true">
    <bpmn:laneSet id="LaneSet_h"><bpmn:lane id="Lane_applicant" name="申请人">
      <bpmn:flowNodeRef>Start_h</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_script</bpmn:flowNodeRef><bpmn:flowNodeRef>End_h</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Start_h" name="开始"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Task_script" name="计算" scriptFormat="python">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="End_h" name="结束"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_h" targetRef="Task_script" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_script" targetRef="End_h" />
  </bpmn:process>
</bpmn:definitions>"""
MODEL = """{"id": "hostile_script", "name": "恶意脚本测试流程", "starter_roles": ["applicant"],
 "lanes": {"申请人": {"role": "applicant", "assign": "starter"}}, "title": "恶意脚本", "result_fields": ["outcome"]}"""


@pytest.fixture()
def tight():
    """A small allowance, so that a runaway script is stopped quickly (it computes; nothing sleeps)."""
    before = sandbox.LIMITS
    sandbox.configure(seconds=0.3, memory_mb=64)
    yield sandbox.LIMITS
    sandbox.LIMITS = before


@pytest.fixture()
def env():
    return RestrictedEnvironment({})


LOOPS = {
    "while True": "n = 0\nwhile True:\n    n = n + 1",
    "nested comprehension": "x = [i for i in range(1000000) for j in range(1000000)]",
    "for over a growing list": "x = [1]\nfor i in x:\n    x.append(i)",
    "recursion that keeps computing": "def f(n):\n    return f(n - 1) + f(n - 2) if n > 1 else 1\nx = f(60)",
}


@pytest.mark.parametrize("script", LOOPS.values(), ids=LOOPS.keys())
def test_a_script_that_does_not_end_is_stopped_at_its_time_limit(env, tight, script):
    began = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match="超过 0.3 秒"):
        env.execute(script, {})
    assert time.monotonic() - began < 3


def test_an_expression_that_does_not_end_is_stopped(env, tight):
    with pytest.raises(ScriptLimitExceeded):
        env.evaluate("len([i for i in range(10000000) for j in range(10000000)])", {})


def test_a_script_that_allocates_without_bound_is_stopped_at_its_memory_limit(env, tight):
    with pytest.raises(ScriptLimitExceeded, match="内存超过 64 MB"):
        env.execute("x = []\nwhile True:\n    x.append('a' * 100000 + str(len(x)))", {})


BOMBS = {
    "power tower": "x = 10 ** 10 ** 10",
    "power in place": "x = 7\nx **= 100000000",
    "shift": "x = 1 << 10000000000",
    "string repeat": "x = 'a' * 10000000000",
    "list repeat": "x = [0] * 10000000000",
    "repeat in place": "x = 'ab'\nx *= 10000000000",
    "huge range": "x = sum(range(10 ** 15))",
    "padding": "x = 'a'.ljust(10 ** 10)",
    "zero fill": "x = '1'.zfill(10 ** 10)",
    "join": "x = ''.join(['a' * 1000000] * 100)",
    "replace": "x = ('a' * 1000000).replace('a', 'a' * 100)",
}


@pytest.mark.parametrize("script", BOMBS.values(), ids=BOMBS.keys())
def test_a_value_too_large_to_make_is_refused_before_it_is_made(env, script):
    began = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match="过大"):
        env.execute(script, {})
    assert time.monotonic() - began < 1


def test_ordinary_code_runs_unhindered(env):
    context = {"scores": [3, 4, 5]}
    env.execute("total = sum(s ** 2 for s in scores)\nlabel = '-'.join(str(s) for s in scores).rjust(8)\n"
                "grid = [[0] * 3 for _ in range(3)]\nbig = 2 ** 100\nn = 0\nwhile n < 1000:\n    n += 1", context)
    assert context["total"] == 50 and context["label"] == "   3-4-5" and context["big"] == 2 ** 100
    assert context["n"] == 1000 and context["grid"] == [[0] * 3] * 3


def test_the_limits_come_from_the_configuration(app):
    assert sandbox.LIMITS.seconds == app.config["SCRIPT_TIME_LIMIT"]
    assert sandbox.LIMITS.memory_mb == app.config["SCRIPT_MEMORY_MB"]


# -- through the product ------------------------------------------------------------------------
def _deploy(script: str) -> None:
    registry.deploy({"hostile_script.bpmn": BPMN.replace("{script}", escape(script)), "model.json": MODEL})
    db.session.commit()


def test_a_deployed_runaway_script_fails_its_case_with_a_message_and_the_server_answers(ctx, tight):
    _deploy("n = 0\nwhile True:\n    n = n + 1")
    client = ctx.test_client()
    api = Api(client, "teacher1")
    started = api.post("/api/v1/process-instances", json={"process_model": "hostile_script", "data": {}})
    assert started.status_code == 400
    assert started.get_json()["error"]["message"] == "流程启动失败：脚本运行超过 0.3 秒，已停止（请检查循环是否能结束）"
    assert client.get("/healthz").status_code == 200
    assert api.get("/api/v1/tasks").status_code == 200


def _validate(api: Api, name: str, content: bytes):
    files = [(io.BytesIO(content), name), (io.BytesIO(MODEL.encode()), "model.json")]
    return api.client.post("/api/v1/process-models/validate", headers=api.headers,
                           data={"files": files}, content_type="multipart/form-data")


XML_ATTACKS = {
    "xxe": (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>',
            "DOCTYPE"),
    "billion laughs": (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                       + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
                                  for i in range(1, 10))
                       + b']><lolz>&lol9;</lolz>', "DOCTYPE"),
    "deep nesting": (b"<a>" * 100000 + b"</a>" * 100000, "嵌套"),
    "parameter entity": (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]><d/>',
                         "DOCTYPE"),
    "not xml": (b"\x00\xff\xfe garbage", "UTF-8"),
    "not well formed": (b"<bpmn:definitions><unclosed>", "XML"),
}


@pytest.mark.parametrize(("content", "says"), XML_ATTACKS.values(), ids=XML_ATTACKS.keys())
def test_hostile_xml_is_refused_with_a_message(ctx, content, says):
    api = Api(ctx.test_client(), "admin")
    response = _validate(api, "attack.bpmn", content)
    assert response.status_code in (200, 400, 422), response.status_code
    body = response.get_json()
    text = str(body)
    assert says in text, text[:500]
    assert body.get("ok") is not True
    assert ctx.test_client().get("/healthz").status_code == 200


def test_a_50_mb_upload_is_refused_and_nothing_is_kept(ctx):
    from sqlalchemy import func, select

    from app.models import Document

    api = Api(ctx.test_client(), "teacher1")
    before = db.session.scalar(select(func.count()).select_from(Document))
    response = api.upload("big.pdf", b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024))
    assert response.status_code == 413
    assert "上限" in response.get_json()["error"]["message"] or "过大" in response.get_json()["error"]["message"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Document)) == before
    assert ctx.test_client().get("/healthz").status_code == 200


def test_a_50_mb_model_upload_is_refused(ctx):
    api = Api(ctx.test_client(), "admin")
    response = _validate(api, "huge.bpmn", b"<a>" + b" " * (50 * 1024 * 1024) + b"</a>")
    assert response.status_code == 413
    assert response.get_json()["error"]["message"]
