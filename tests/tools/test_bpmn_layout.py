"""tools/bpmn_layout.py: the generated BPMN DI covers every element, keeps shapes in their lanes and
apart, attaches edges to shape borders, and is stable (running the tool twice changes nothing)."""

from __future__ import annotations

import shutil
from itertools import combinations
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from tools import bpmn_layout

ROOT = Path(__file__).resolve().parents[2]
GRADUATE_DIR = ROOT / "bpmn" / "graduate_initial_determination"

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI}

FLOW_NODES = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "task", "userTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask", "receiveTask",
              "manualTask", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
              "subProcess"}
LABELLED = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
            "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}

DEFINITIONS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" {di}id="Definitions_{name}" '
    'targetNamespace="http://bpmn.io/schema/bpmn">\n{body}\n</bpmn:definitions>\n'
)
DI_DECLARATIONS = ('xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
                   'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
                   'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" ')


def lane(lane_id: str, *refs: str) -> str:
    items = "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs)
    return f'<bpmn:lane id="{lane_id}" name="{lane_id}">{items}</bpmn:lane>'


def flow(flow_id: str, source: str, target: str, name: str = "", condition: str = "") -> str:
    label = f' name="{name}"' if name else ""
    cond = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            if condition else "")
    return f'<bpmn:sequenceFlow id="{flow_id}"{label} sourceRef="{source}" targetRef="{target}">{cond}</bpmn:sequenceFlow>'


# Two lanes, an exclusive gateway and a loop back (fix -> fill) into the other lane's earlier task.
# It carries a stale diagram that must be replaced.
LANES_LOOP = DEFINITIONS.format(name="loop", di=DI_DECLARATIONS, body=f"""
  <bpmn:collaboration id="Collaboration_loop"><bpmn:participant id="Participant_loop" name="Loop" processRef="loop" /></bpmn:collaboration>
  <bpmn:process id="loop" name="Loop" isExecutable="true">
    <bpmn:laneSet id="LaneSet_loop">{lane("Lane_applicant", "start", "fill", "fix")}{lane("Lane_reviewer", "review", "decide", "done")}</bpmn:laneSet>
    <bpmn:startEvent id="start" name="Apply" />
    <bpmn:userTask id="fill" name="Fill in the form" />
    <bpmn:userTask id="review" name="Review" />
    <bpmn:exclusiveGateway id="decide" name="Complete?" default="to_fix" />
    <bpmn:userTask id="fix" name="Fix the form" />
    <bpmn:endEvent id="done" name="Accepted" />
    {flow("f1", "start", "fill")}
    {flow("f2", "fill", "review")}
    {flow("f3", "review", "decide")}
    {flow("yes", "decide", "done", "yes", "complete")}
    {flow("to_fix", "decide", "fix", "no")}
    {flow("again", "fix", "fill", "resubmit")}
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_old"><bpmndi:BPMNPlane id="BPMNPlane_old" bpmnElement="Collaboration_loop">
    <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="0" y="0" width="36" height="36" /></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>""")

# A task with two boundary timers (one interrupting, leading into the other lane). No collaboration
# and no DI namespace declarations: the tool adds both.
BOUNDARY_TIMER = DEFINITIONS.format(name="timer", di="", body=f"""
  <bpmn:process id="timer" name="Timer" isExecutable="true">
    <bpmn:laneSet id="LaneSet_timer">{lane("Lane_clerk", "start", "work", "timeout", "reminder", "remind", "ok")}{lane("Lane_boss", "escalate", "late")}</bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="work" name="Do the work" />
    <bpmn:endEvent id="ok" name="Done" />
    <bpmn:boundaryEvent id="timeout" name="5 days" attachedToRef="work"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="reminder" name="2 days" attachedToRef="work" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P2D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:scriptTask id="remind" name="Send reminder" scriptFormat="python"><bpmn:script>reminded = True</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="escalate" name="Escalate" />
    <bpmn:endEvent id="late" name="Escalated" />
    {flow("f1", "start", "work")}
    {flow("f2", "work", "ok")}
    {flow("f3", "timeout", "escalate", "overdue")}
    {flow("f4", "escalate", "late")}
    {flow("f5", "reminder", "remind")}
  </bpmn:process>""")

# An event subprocess started by a message, and an ordinary embedded subprocess in the main flow.
EVENT_SUBPROCESS = DEFINITIONS.format(name="events", di=DI_DECLARATIONS, body=f"""
  <bpmn:message id="Message_cancel" name="cancel" />
  <bpmn:collaboration id="Collaboration_events"><bpmn:participant id="Participant_events" name="Events" processRef="events" /></bpmn:collaboration>
  <bpmn:process id="events" name="Events" isExecutable="true">
    <bpmn:laneSet id="LaneSet_events">{lane("Lane_front", "start", "check", "end")}{lane("Lane_back", "approve", "on_cancel")}</bpmn:laneSet>
    <bpmn:startEvent id="start" name="Begin" />
    <bpmn:subProcess id="check" name="Check documents">
      <bpmn:startEvent id="check_start" />
      <bpmn:userTask id="check_docs" name="Check" />
      <bpmn:endEvent id="check_end" />
      {flow("c1", "check_start", "check_docs")}
      {flow("c2", "check_docs", "check_end")}
    </bpmn:subProcess>
    <bpmn:userTask id="approve" name="Approve" />
    <bpmn:endEvent id="end" name="Finished" />
    <bpmn:subProcess id="on_cancel" name="Cancellation" triggeredByEvent="true">
      <bpmn:startEvent id="cancel_start" name="Cancel requested"><bpmn:messageEventDefinition messageRef="Message_cancel" /></bpmn:startEvent>
      <bpmn:scriptTask id="cancel_work" name="Withdraw" scriptFormat="python"><bpmn:script>withdrawn = True</bpmn:script></bpmn:scriptTask>
      <bpmn:endEvent id="cancelled" name="Cancelled"><bpmn:terminateEventDefinition /></bpmn:endEvent>
      {flow("e1", "cancel_start", "cancel_work", "received")}
      {flow("e2", "cancel_work", "cancelled")}
    </bpmn:subProcess>
    {flow("f1", "start", "check")}
    {flow("f2", "check", "approve")}
    {flow("f3", "approve", "end")}
  </bpmn:process>""")

FIXTURES = {"loop": LANES_LOOP, "timer": BOUNDARY_TIMER, "events": EVENT_SUBPROCESS}


# --- reading the result --------------------------------------------------------------------------------


Box = tuple[float, float, float, float]  # x, y, width, height


def local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) and etree.QName(el).namespace == BPMN else ""


def box(bounds: etree._Element) -> Box:
    return tuple(float(bounds.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def inside(inner: Box, outer: Box) -> bool:
    return (outer[0] <= inner[0] and outer[1] <= inner[1]
            and inner[0] + inner[2] <= outer[0] + outer[2] and inner[1] + inner[3] <= outer[1] + outer[3])


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def on_border(point: tuple[float, float], b: Box, tol: float = 1.0) -> bool:
    x, y = point
    near = b[0] - tol <= x <= b[0] + b[2] + tol and b[1] - tol <= y <= b[1] + b[3] + tol
    deep = b[0] + tol < x < b[0] + b[2] - tol and b[1] + tol < y < b[1] + b[3] - tol
    return near and not deep


class Model:
    """The semantic elements of a laid-out document and their DI."""

    def __init__(self, xml: bytes):
        self.root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
        self.process = self.root.find("bpmn:process", NS)
        self.nodes: dict[str, etree._Element] = {}
        self.parent: dict[str, str | None] = {}
        self.flows: dict[str, etree._Element] = {}
        self._walk(self.process, None)
        self.lanes = {el.get("id"): el for el in self.process.iterfind("bpmn:laneSet/bpmn:lane", NS)}
        self.participants = {el.get("id"): el for el in self.root.iterfind("bpmn:collaboration/bpmn:participant", NS)}
        self.di: dict[str, list[etree._Element]] = {}
        for el in self.root.iterfind(".//bpmndi:BPMNPlane/*", NS):
            self.di.setdefault(el.get("bpmnElement"), []).append(el)

    def _walk(self, container: etree._Element, parent: str | None) -> None:
        for child in container:
            if local(child) in FLOW_NODES:
                self.nodes[child.get("id")] = child
                self.parent[child.get("id")] = parent
                if local(child) == "subProcess":
                    self._walk(child, child.get("id"))
            elif local(child) == "sequenceFlow":
                self.flows[child.get("id")] = child

    def bounds(self, element_id: str) -> Box:
        return box(self.di[element_id][0].find("dc:Bounds", NS))

    def label(self, element_id: str) -> Box | None:
        found = self.di[element_id][0].find("bpmndi:BPMNLabel/dc:Bounds", NS)
        return None if found is None else box(found)

    def waypoints(self, flow_id: str) -> list[tuple[float, float]]:
        return [(float(p.get("x")), float(p.get("y"))) for p in self.di[flow_id][0].iterfind("di:waypoint", NS)]

    def ancestors(self, node: str) -> set[str]:
        found, parent = set(), self.parent[node]
        while parent is not None:
            found.add(parent)
            parent = self.parent[parent]
        return found

    def host(self, node: str) -> str | None:
        return self.nodes[node].get("attachedToRef") if local(self.nodes[node]) == "boundaryEvent" else None

    def descendants(self, node: str) -> list[str]:
        return [n for n in self.nodes if node in self.ancestors(n)]


def assert_one_di_each(m: Model) -> None:
    expected = {**m.nodes, **m.flows, **m.lanes, **m.participants}
    for element_id, el in expected.items():
        found = m.di.get(element_id, [])
        assert len(found) == 1, f"{element_id}: {len(found)} DI elements"
        kind = "BPMNEdge" if local(el) == "sequenceFlow" else "BPMNShape"
        assert etree.QName(found[0]).localname == kind, element_id
        assert found[0].get("id") == f"{element_id}_di"
    assert set(m.di) == set(expected), "DI for elements that do not exist"
    plane = m.root.find(".//bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == m.root.find("bpmn:collaboration", NS).get("id")
    assert len(m.root.findall("bpmndi:BPMNDiagram", NS)) == 1


def assert_in_lanes(m: Model) -> None:
    pool = m.bounds(next(iter(m.participants)))
    for lane_id, lane_el in m.lanes.items():
        band = m.bounds(lane_id)
        assert inside(band, pool) and band[0] == pool[0] + 30, lane_id
        for ref in lane_el.iterfind("bpmn:flowNodeRef", NS):
            for node in [ref.text, *m.descendants(ref.text)]:
                assert inside(m.bounds(node), band), f"{node} outside {lane_id}"
    for node in m.nodes:
        for ancestor in m.ancestors(node):
            assert inside(m.bounds(node), m.bounds(ancestor)), f"{node} outside {ancestor}"


def assert_no_overlap(m: Model) -> None:
    for a, b in combinations(m.nodes, 2):
        if m.host(a) == b or m.host(b) == a or a in m.ancestors(b) or b in m.ancestors(a):
            continue
        assert not overlap(m.bounds(a), m.bounds(b)), f"{a} overlaps {b}"


def assert_edges_on_borders(m: Model) -> None:
    for flow_id, el in m.flows.items():
        points = m.waypoints(flow_id)
        assert len(points) >= 2, flow_id
        assert on_border(points[0], m.bounds(el.get("sourceRef"))), f"{flow_id} does not leave its source"
        assert on_border(points[-1], m.bounds(el.get("targetRef"))), f"{flow_id} does not reach its target"
        for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
            assert ax == bx or ay == by, f"{flow_id}: oblique segment"


def assert_boundaries_on_host(m: Model) -> None:
    for node in m.nodes:
        if m.host(node) is None:
            continue
        x, y, w, h = m.bounds(node)
        hx, hy, hw, hh = m.bounds(m.host(node))
        assert abs(y + h / 2 - (hy + hh)) <= 1, f"{node} not on the bottom border of its host"
        assert hx <= x + w / 2 <= hx + hw, f"{node} beside its host"


def assert_labels(m: Model) -> None:
    labels = {}
    for element_id, el in {**m.nodes, **m.flows}.items():
        wanted = bool(el.get("name")) and (local(el) in LABELLED or local(el) == "sequenceFlow")
        assert (m.label(element_id) is not None) == wanted, f"{element_id}: label expected: {wanted}"
        if wanted:
            labels[element_id] = m.label(element_id)
    for (a, la), (b, lb) in combinations(labels.items(), 2):
        assert not overlap(la, lb), f"labels of {a} and {b} overlap"
    for element_id, lab in labels.items():
        for node in m.nodes:
            if local(m.nodes[node]) != "subProcess":  # labels inside a subprocess are fine
                assert not overlap(lab, m.bounds(node)), f"label of {element_id} covers {node}"


def assert_invariants(xml: bytes) -> Model:
    m = Model(xml)
    assert_one_di_each(m)
    assert_in_lanes(m)
    assert_no_overlap(m)
    assert_edges_on_borders(m)
    assert_boundaries_on_host(m)
    assert_labels(m)
    return m


# --- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_invariants_and_idempotence(name: str) -> None:
    once = bpmn_layout.layout_document(FIXTURES[name].encode())
    assert_invariants(once)
    assert bpmn_layout.layout_document(once) == once


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_still_parses_and_validates(name: str) -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(bpmn_layout.layout_document(FIXTURES[name].encode()), filename=f"{name}.bpmn")
    assert parser.get_spec(name) is not None


def test_loop_is_routed_above_the_lanes() -> None:
    m = Model(bpmn_layout.layout_document(LANES_LOOP.encode()))
    points = m.waypoints("again")
    fix, fill = m.bounds("fix"), m.bounds("fill")
    assert points[0] == (fix[0] + fix[2] / 2, fix[1]), "leaves the top of its source"
    assert points[-1] == (fill[0] + fill[2] / 2, fill[1]), "enters the top of its target"
    channel = min(y for _, y in points)
    assert m.bounds("Lane_applicant")[1] < channel < min(m.bounds(n)[1] for n in ("start", "fill", "fix"))
    assert m.bounds("start")[0] < m.bounds("fill")[0] < m.bounds("review")[0] < m.bounds("decide")[0]
    assert m.bounds("decide")[0] < m.bounds("fix")[0] and m.bounds("decide")[0] < m.bounds("done")[0]


def test_missing_pool_and_namespaces_are_added() -> None:
    out = bpmn_layout.layout_document(BOUNDARY_TIMER.encode())
    m = Model(out)
    participant = m.root.find("bpmn:collaboration/bpmn:participant", NS)
    assert participant.get("processRef") == "timer" and participant.get("name") == "Timer"
    assert {"bpmndi": BPMNDI, "dc": DC, "di": DI}.items() <= m.root.nsmap.items()
    assert m.di["Participant_" + "timer"][0].get("isHorizontal") == "true"
    # Both boundary events on the bottom border of the same task, side by side.
    assert not overlap(m.bounds("timeout"), m.bounds("reminder"))


def test_event_subprocess_is_expanded_beside_the_main_flow() -> None:
    m = Model(bpmn_layout.layout_document(EVENT_SUBPROCESS.encode()))
    for sub in ("on_cancel", "check"):
        assert m.di[sub][0].get("isExpanded") == "true"
    box_ = m.bounds("on_cancel")
    main_flow = [n for n in m.nodes if m.parent[n] is None and n != "on_cancel"]
    assert all(m.bounds(n)[0] + m.bounds(n)[2] < box_[0] for n in main_flow), "after the last column"
    assert inside(box_, m.bounds("Lane_back"))
    xs = [m.bounds(n)[0] for n in ("cancel_start", "cancel_work", "cancelled")]
    assert xs == sorted(xs)


def test_graduate_model(tmp_path: Path) -> None:
    for file in GRADUATE_DIR.iterdir():
        if file.suffix in (".bpmn", ".dmn"):
            shutil.copy(file, tmp_path / file.name)
    path = tmp_path / "graduate_initial_determination.bpmn"
    original = path.read_bytes()
    assert bpmn_layout.main([str(path), "--in-place"]) == 0
    once = path.read_bytes()
    m = assert_invariants(once)
    assert m.root.nsmap == etree.fromstring(original).nsmap, "namespace prefixes kept"
    before, after = original.split(b"<bpmndi:BPMNDiagram")[0], once.split(b"<bpmndi:BPMNDiagram")[0]
    assert before == after, "only the diagram changes"
    assert bpmn_layout.main([str(path), "-o", str(tmp_path / "twice.bpmn")]) == 0
    assert (tmp_path / "twice.bpmn").read_bytes() == once
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(path))
    parser.add_dmn_files(sorted(str(p) for p in tmp_path.glob("*.dmn")))
    assert parser.get_spec("graduate_initial_determination") is not None
    assert (GRADUATE_DIR / "graduate_initial_determination.bpmn").read_bytes() == original


def test_refuses_what_it_cannot_draw(tmp_path: Path) -> None:
    two_pools = LANES_LOOP.replace(
        "</bpmn:collaboration>", '<bpmn:participant id="Other" name="Other" /></bpmn:collaboration>')
    with pytest.raises(bpmn_layout.LayoutError):
        bpmn_layout.layout_document(two_pools.encode())
    path = tmp_path / "bad.bpmn"
    path.write_text(two_pools)
    assert bpmn_layout.main([str(path), "--in-place"]) == 1
    assert path.read_text() == two_pools
