"""Engine mechanics the title review relies on: thrown messages leave the case with their
correlation, a message-start event subprocess listens for as long as the case runs (one
subprocess per message) without speaking for the case's data, catches and service tasks
without a variable merge their dict into the task data, and a throw's payload is validated."""

import json

import pytest

from app.engine import EngineError, ModelInvalid, Runtime, compile_model

FORM = json.dumps({"type": "object", "properties": {"v": {"type": "integer"}}})
LANE = "<bpmn:laneSet id='ls'><bpmn:lane id='L' name='办理人'>{refs}</bpmn:lane></bpmn:laneSet>"
PROPS = ("<bpmn:extensionElements><spiffworkflow:properties>"
         "<spiffworkflow:property name='formJsonSchemaFilename' value='f.schema.json' />"
         "</spiffworkflow:properties></bpmn:extensionElements>")


def bpmn(payload: str = '{"correlate": {"session_id": session_id}, "v": v}') -> str:
    nodes = ["S", "A", "Svc", "T", "C", "B", "E", "ESP"]
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="x">
  <bpmn:message id="m1" name="ping" /><bpmn:message id="m2" name="pong" /><bpmn:message id="m3" name="objection" />
  <bpmn:process id="probe" isExecutable="true">
    {LANE.format(refs=refs)}
    <bpmn:startEvent id="S"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="A" name="甲">{PROPS}<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:serviceTask id="Svc" name="服务"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="probe_service">
      <spiffworkflow:parameters><spiffworkflow:parameter id="x" type="str" value="v" /></spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:intermediateThrowEvent id="T"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m1"><bpmn:extensionElements>
      <spiffworkflow:messagePayload>{payload}</spiffworkflow:messagePayload>
      </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>
    <bpmn:intermediateCatchEvent id="C"><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m2" /></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="B" name="乙">{PROPS}<bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="A" /><bpmn:sequenceFlow id="f2" sourceRef="A" targetRef="Svc" />
    <bpmn:sequenceFlow id="f3" sourceRef="Svc" targetRef="T" /><bpmn:sequenceFlow id="f4" sourceRef="T" targetRef="C" />
    <bpmn:sequenceFlow id="f5" sourceRef="C" targetRef="B" /><bpmn:sequenceFlow id="f6" sourceRef="B" targetRef="E" />
    <bpmn:subProcess id="ESP" triggeredByEvent="true">
      <bpmn:startEvent id="ES" isInterrupting="false"><bpmn:outgoing>g1</bpmn:outgoing>
        <bpmn:messageEventDefinition messageRef="m3" /></bpmn:startEvent>
      <bpmn:userTask id="Inv" name="核实">{PROPS}<bpmn:incoming>g1</bpmn:incoming><bpmn:outgoing>g2</bpmn:outgoing></bpmn:userTask>
      <bpmn:scriptTask id="Sx" scriptFormat="python"><bpmn:incoming>g2</bpmn:incoming><bpmn:outgoing>g3</bpmn:outgoing>
        <bpmn:script>stage = "from the subprocess"</bpmn:script></bpmn:scriptTask>
      <bpmn:endEvent id="EE"><bpmn:incoming>g3</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="g1" sourceRef="ES" targetRef="Inv" />
      <bpmn:sequenceFlow id="g2" sourceRef="Inv" targetRef="Sx" /><bpmn:sequenceFlow id="g3" sourceRef="Sx" targetRef="EE" />
    </bpmn:subProcess>
  </bpmn:process>
</bpmn:definitions>"""


def files(text: str) -> dict[str, str]:
    meta = {"id": "probe", "name": "探针", "lanes": {"办理人": {"role": "applicant"}}, "starter_roles": ["applicant"]}
    return {"probe.bpmn": text, "model.json": json.dumps(meta), "forms/f.schema.json": FORM}


@pytest.fixture
def compiled(helpers):
    return compile_model(files(bpmn()), helpers, Runtime(helpers).evaluate, services={"probe_service"})


@pytest.fixture
def runtime(helpers):
    calls = []

    def handle(operation, params, data):
        calls.append((operation, params))
        return {"doubled": params["x"] * 2, "stage": "服务之后"}

    rt = Runtime(helpers, handle)
    rt.calls = calls
    return rt


def ready(case):
    return sorted(t.bpmn_id for t in case.ready_user_tasks())


def complete(case, bpmn_id, data=None):
    task = next(t for t in case.ready_user_tasks() if t.bpmn_id == bpmn_id)
    case.complete(task.guid, data or {})


def roundtrip(runtime, compiled, case):
    return runtime.restore(compiled, json.loads(json.dumps(runtime.dump(case))))


def test_service_outputs_merge_and_the_throw_leaves_with_its_correlation(runtime, compiled):
    case = runtime.start(compiled, {"session_id": 7, "stage": "开始"})
    complete(case, "A", {"v": 3})
    assert runtime.calls == [("probe_service", {"x": 3})]
    assert case.data()["doubled"] == 6 and case.data()["stage"] == "服务之后"
    assert [(m.name, m.correlation, m.payload) for m in case.thrown] == [("ping", {"session_id": 7}, {"v": 3})]
    assert "spiff__Svc_result" not in case.data()


def test_catch_merges_a_dict_payload(runtime, compiled):
    case = runtime.start(compiled, {"session_id": 7})
    complete(case, "A", {"v": 3})
    case = roundtrip(runtime, compiled, case)
    waits = [(name, element) for name, element, _ in case.waiting_messages()]
    assert ("pong", "C") in waits
    case.deliver("pong", {"published_doc_no": "莲人社〔2022〕1号"})
    assert case.data()["published_doc_no"] == "莲人社〔2022〕1号"
    assert ready(case) == ["B"]


def test_event_subprocess_listens_until_the_case_ends_and_does_not_speak_for_it(runtime, compiled):
    # Restored from the stored spec before any message: the library wires a triggered subprocess
    # into the spec only when it triggers, and that wiring must not be needed after a restore.
    case = roundtrip(runtime, compiled, runtime.start(compiled, {"session_id": 7, "stage": "开始"}))
    assert ("objection", "ES") in [(n, e) for n, e, _ in case.waiting_messages()]
    complete(case, "A", {"v": 3})
    case.deliver("objection", {"objection_id": 1})
    case.deliver("objection", {"objection_id": 2})
    case = roundtrip(runtime, compiled, case)
    assert ready(case) == ["Inv", "Inv"]
    complete(case, "Inv")
    assert case.data()["stage"] == "服务之后"  # the subprocess's copy of old data is not the case's
    assert ("objection", "ES") in [(n, e) for n, e, _ in case.waiting_messages()]
    case.deliver("pong", {})
    complete(case, "B")
    assert not case.workflow.is_completed() and ready(case) == ["Inv"]  # the second objection is still open
    complete(case, "Inv")
    assert case.workflow.is_completed() and case.waiting_messages() == []


@pytest.mark.parametrize("payload", ['{"v": v}', "[session_id]", ""])
def test_a_throw_must_say_whom_it_goes_to(helpers, payload):
    with pytest.raises(ModelInvalid) as info:
        compile_model(files(bpmn(payload)), helpers, Runtime(helpers).evaluate, services={"probe_service"})
    assert [(p.element_id, "correlate" in p.message) for p in info.value.problems] == [("T", True)]


def test_unknown_services_and_panels_are_named(helpers):
    text = bpmn().replace("formJsonSchemaFilename' value='f.schema.json' />",
                          "formJsonSchemaFilename' value='f.schema.json' /><spiffworkflow:property name='panel' value='nope' />", 1)
    with pytest.raises(ModelInvalid) as info:
        compile_model(files(text), helpers, Runtime(helpers).evaluate, services=set(), panels={"votes"})
    found = {(p.element_id, p.message.split("；")[0]) for p in info.value.problems}
    assert found == {("A", "未知的任务面板 nope"), ("Svc", "未知的服务 probe_service")}


def test_a_failing_service_says_why(helpers, compiled):
    def refuse(operation, params, data):
        raise ValueError("评聘方案尚未同意")

    case = Runtime(helpers, refuse).start(compiled, {"session_id": 7})
    task = next(t for t in case.ready_user_tasks() if t.bpmn_id == "A")
    with pytest.raises(EngineError) as info:
        case.complete(task.guid, {"v": 1})
    assert "评聘方案尚未同意" in str(info.value) and "NameError" not in str(info.value)
