"""Regenerate the diagram interchange (BPMN DI) of a BPMN 2.0 file from its semantic content.

Why this exists: the process models in ``bpmn/`` are often written by hand (or generated) as
semantic XML -- lanes, tasks, gateways, sequence flows.  bpmn-js (the bpmn.io modeler and
viewer used to show and edit them) draws nothing that has no ``bpmndi:BPMNDiagram``: every
flow node, lane, pool and sequence flow needs a shape or an edge with coordinates.  Drawing
those by hand is tedious and goes stale with every edit, so this tool throws the old diagram
away and lays out a new one.

It is an authoring aid only.  The ``.bpmn`` file stays the source of truth, the engine never
reads the DI, and the result remains an ordinary diagram that can be opened and polished in
the modeler.  Re-running the tool discards such polish (the layout is a pure function of the
semantic content, so running it twice gives the same bytes).

The layout is a simple layered one, left to right, aiming at "readable" rather than optimal:

* columns: each flow node is ranked by the longest path from the start events over sequence
  flows, ignoring back edges (flows that close a cycle, found by a depth-first search from the
  start events in document order);
* rows: a node sits in the band of its lane; nodes of one lane sharing a column are stacked in
  sub-rows (a node prefers the sub-row of its predecessor, so straight runs stay straight);
* boundary events sit on the bottom border of their host, and what follows them ranks after
  the host (preferring the sub-row below it);
* subprocesses are drawn expanded, their content laid out the same way in one band; event
  subprocesses are placed in their lane after the last column of the main flow;
* edges are orthogonal: out of the source's right side (or its top/bottom, going vertically
  first, when the target is on another row), into the target's left side; back edges go up
  from the source, left along a channel above the shapes of the upper lane, down into the
  target.  Among a few candidate routes the first one that crosses no other shape is used;
* labels of named events, gateways and sequence flows are put in the first free spot of a
  few candidates around the element or along the edge.

Only the diagram changes: the rest of the file is kept byte for byte when possible (otherwise,
e.g. when a pool or namespace declarations had to be added, it is re-serialised by lxml, which
changes nothing but formatting).  Not drawn: data objects/stores, text annotations, associations
and message flows (their old DI is dropped with the old diagram); nested lanes and more than one
pool are refused.

Usage::

    .venv/bin/python tools/bpmn_layout.py path/to/model.bpmn              # to stdout
    .venv/bin/python tools/bpmn_layout.py path/to/model.bpmn --in-place
    .venv/bin/python tools/bpmn_layout.py path/to/model.bpmn -o out.bpmn
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
DI_PREFIXES = (("bpmndi", BPMNDI_NS), ("dc", DC_NS), ("di", DI_NS))

TASK_TAGS = frozenset({"task", "userTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
                       "receiveTask", "manualTask", "callActivity"})
EVENT_TAGS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                        "boundaryEvent"})
GATEWAY_TAGS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                          "complexGateway"})
CONTAINER_TAGS = frozenset({"subProcess", "transaction", "adHocSubProcess"})
FLOW_NODE_TAGS = TASK_TAGS | EVENT_TAGS | GATEWAY_TAGS | CONTAINER_TAGS
LABELLED_TAGS = EVENT_TAGS | GATEWAY_TAGS

TASK_SIZE = (100, 80)
EVENT_SIZE = (36, 36)
GATEWAY_SIZE = (50, 50)

POOL_X, POOL_Y = 130, 60
POOL_HEADER = 30  # the pool's label column; lanes start after it
LANE_HEADER = 30  # each lane's own label column
PROCESS_INSET = LANE_HEADER + 20  # lane x -> left of the first column
PROCESS_RIGHT = 50
SUB_HEADER = 20  # room for an expanded subprocess's name above its content
SUB_INSET = 30
SUB_RIGHT = 30

MIN_COL_W = 100
COL_GAP = 50  # column pitch 150 for tasks
ROW_MIN = 80
ROW_GAP = 40  # sub-row pitch 120 for tasks
BAND_PAD_TOP = 30
BAND_PAD_BOTTOM = 40
CHANNEL_BASE = 15  # first back-edge channel, below the band's top border
CHANNEL_STEP = 12

BOUNDARY_INSET = 20  # boundary event centre, left of the host's right border
BOUNDARY_STEP = 46  # further boundary events on the same host go left

EDGE_MARGIN = 5
LABEL_MARGIN = 2
FAR_LABEL = TASK_SIZE[1] // 2 + 4  # label offset from an edge that clears a task's half height
LABEL_MAX_W = 90  # bpmn-js wraps external labels at 90px
LINE_H = 14
WIDE_CHAR_W = 12
NARROW_CHAR_W = 7

Point = tuple[int, int]
Segment = tuple[Point, Point]


class LayoutError(Exception):
    """The file is outside what this tool can lay out."""


# --- geometry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    def moved(self, dx: int, dy: int) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def grown(self, m: int) -> Rect:
        return Rect(self.x - m, self.y - m, self.w + 2 * m, self.h + 2 * m)

    def overlaps(self, other: Rect) -> bool:
        return (self.x < other.right and other.x < self.right
                and self.y < other.bottom and other.y < self.bottom)

    def contains(self, other: Rect) -> bool:
        return (self.x <= other.x and self.y <= other.y
                and other.right <= self.right and other.bottom <= self.bottom)

    def cut_by(self, a: Point, b: Point) -> bool:
        """Whether the axis-parallel segment a-b passes through the interior."""
        (x1, x2), (y1, y2) = sorted((a[0], b[0])), sorted((a[1], b[1]))
        if y1 == y2:
            return self.y < y1 < self.bottom and x1 < self.right and self.x < x2
        return self.x < x1 < self.right and y1 < self.bottom and self.y < y2


def left(r: Rect) -> Point:
    return (r.x, r.cy)


def right(r: Rect) -> Point:
    return (r.right, r.cy)


def top(r: Rect) -> Point:
    return (r.cx, r.y)


def bottom(r: Rect) -> Point:
    return (r.cx, r.bottom)


def even(n: int) -> int:
    return n + n % 2


def simplify(points: Sequence[Point]) -> list[Point] | None:
    """Drop repeated and collinear points; None when the route doubles back on itself."""
    pts: list[Point] = []
    for p in points:
        if not pts or pts[-1] != p:
            pts.append(p)
    out: list[Point] = pts[:1]
    for i in range(1, len(pts) - 1):
        a, b, c = out[-1], pts[i], pts[i + 1]
        if a[0] == b[0] == c[0] or a[1] == b[1] == c[1]:
            if (b[0] - a[0]) * (c[0] - b[0]) < 0 or (b[1] - a[1]) * (c[1] - b[1]) < 0:
                return None
            continue
        out.append(b)
    if len(pts) > 1:
        out.append(pts[-1])
    return out if len(out) > 1 else None


def crossings(points: Sequence[Point], rects: Iterable[Rect]) -> int:
    return sum(1 for r in rects for a, b in pairwise(points) if r.cut_by(a, b))


def pick_route(candidates: Iterable[Sequence[Point]], ends: Sequence[Rect],
               obstacles: Sequence[Rect]) -> list[Point] | None:
    """The first candidate crossing no obstacle, else the one crossing fewest.

    A candidate that runs through the interior of its own source or target is never used.
    """
    best: tuple[int, list[Point]] | None = None
    inner = [r.grown(-1) for r in ends]
    grown = [r.grown(EDGE_MARGIN) for r in obstacles]
    for candidate in candidates:
        pts = simplify(candidate)
        if pts is None or crossings(pts, inner):
            continue
        hits = crossings(pts, grown)
        if hits == 0:
            return pts
        if best is None or hits < best[0]:
            best = (hits, pts)
    return best[1] if best else None


# --- labels --------------------------------------------------------------------------------


def text_size(text: str) -> tuple[int, int]:
    """Approximate size of a bpmn-js external label (11px font, wrapped at 90px)."""
    width = sum(WIDE_CHAR_W if unicodedata.east_asian_width(ch) in "WF" else NARROW_CHAR_W
                for ch in " ".join(text.split()))
    lines = max(1, math.ceil(width / LABEL_MAX_W))
    return even(min(max(width, 10), LABEL_MAX_W)), LINE_H * lines


def node_label_spots(r: Rect, w: int, h: int, boundary: bool) -> list[Rect]:
    below, above = r.bottom + 4, r.y - 4 - h
    spots = [Rect(r.cx - w // 2, below, w, h), Rect(r.cx - w // 2, above, w, h),
             Rect(r.cx + 5, below, w, h), Rect(r.cx - 5 - w, below, w, h),
             Rect(r.cx + 5, above, w, h), Rect(r.cx - 5 - w, above, w, h),
             Rect(r.right + 4, r.cy + 4, w, h), Rect(r.right + 4, r.cy - 4 - h, w, h)]
    if boundary:
        spots.insert(0, Rect(r.right + 3, r.cy + 3, w, h))
    return spots


def edge_label_spots(points: Sequence[Point], w: int, h: int) -> list[Rect]:
    """Spots beside each segment, near its start, then near its end; the first segment first."""
    spots: list[Rect] = []
    for (ax, ay), (bx, by) in pairwise(points):
        if ay == by:
            step = 1 if bx > ax else -1
            xs = [ax + 10 if step > 0 else ax - 10 - w, bx - 10 - w if step > 0 else bx + 10]
            spots += [Rect(x, y, w, h) for x in xs for y in (ay - 4 - h, ay + 4)]
        else:
            step = 1 if by > ay else -1
            ys = [ay + 10 if step > 0 else ay - 10 - h, by - 10 - h if step > 0 else by + 10]
            spots += [Rect(x, y, w, h) for y in ys for x in (ax + 5, ax - 5 - w)]
    for (ax, ay), (bx, by) in pairwise(points):  # clear of a task-sized source or target
        mx, my = (ax + bx) // 2, (ay + by) // 2
        if ay == by:
            spots += [Rect(mx - w // 2, ay - FAR_LABEL - h, w, h), Rect(mx - w // 2, ay + FAR_LABEL, w, h)]
        else:
            spots += [Rect(ax + FAR_LABEL + 10, my - h // 2, w, h), Rect(ax - FAR_LABEL - 10 - w, my - h // 2, w, h)]
    return spots


@dataclass
class LabelSpace:
    """What a label must avoid: shapes, edges and the labels already placed."""

    shapes: list[Rect]
    segments: list[Segment]
    placed: list[Rect] = field(default_factory=list)

    def conflicts(self, spot: Rect, area: Rect) -> int:
        """How much a label there would cover: shapes and labels count more than edge lines."""
        m = spot.grown(LABEL_MARGIN)
        covered = sum(1 for r in self.shapes + self.placed if m.overlaps(r))
        crossed = sum(1 for a, b in self.segments if m.cut_by(a, b))
        return 4 * covered + crossed + (0 if area.contains(spot) else 2)

    def place(self, spots: Sequence[Rect], area: Rect) -> Rect:
        """The first spot that covers nothing, else the one covering least."""
        best, best_score = spots[0], math.inf
        for spot in spots:
            score = self.conflicts(spot, area)
            if score < best_score:
                best, best_score = spot, score
            if score == 0:
                break
        self.placed.append(best)
        return best


# --- the semantic graph of one flow container -------------------------------------------------


def local(el: etree._Element) -> str | None:
    """The BPMN local name of an element, None for anything else (comments, extensions)."""
    if not isinstance(el.tag, str):
        return None
    q = etree.QName(el)
    return q.localname if q.namespace == BPMN_NS else None


def bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def node_size(kind: str) -> tuple[int, int]:
    if kind in EVENT_TAGS:
        return EVENT_SIZE
    return GATEWAY_SIZE if kind in GATEWAY_TAGS else TASK_SIZE


@dataclass(frozen=True)
class Flow:
    id: str
    source: str
    target: str
    name: str


@dataclass
class Graph:
    """The flow nodes directly inside a process or subprocess, and the flows between them."""

    elements: dict[str, etree._Element]  # every flow node, document order
    nodes: list[str]  # ranked nodes: everything but boundary events and event subprocesses
    boundaries: list[str]
    event_subs: list[str]
    flows: list[Flow]
    host: dict[str, str]  # boundary event -> the node it is attached to

    def kind(self, node: str) -> str:
        return local(self.elements[node]) or ""

    def ranked(self, node: str) -> str:
        return self.host.get(node, node)


def build_graph(container: etree._Element) -> Graph:
    elements = {c.get("id"): c for c in container if local(c) in FLOW_NODE_TAGS and c.get("id")}
    g = Graph(elements, [], [], [], [], {})
    for node, el in elements.items():
        kind = local(el)
        if kind == "boundaryEvent" and el.get("attachedToRef") in elements:
            g.boundaries.append(node)
            g.host[node] = el.get("attachedToRef")
        elif kind in CONTAINER_TAGS and el.get("triggeredByEvent") == "true":
            g.event_subs.append(node)
        else:
            g.nodes.append(node)
    sources, targets = set(g.nodes) | set(g.boundaries), set(g.nodes)
    for el in container.iterchildren(bpmn("sequenceFlow")):
        flow = Flow(el.get("id"), el.get("sourceRef"), el.get("targetRef"), (el.get("name") or "").strip())
        if flow.source in sources and flow.target in targets:
            g.flows.append(flow)
        else:
            print(f"bpmn_layout: skipping sequence flow {flow.id}: its ends are not drawable nodes "
                  "of the same process or subprocess", file=sys.stderr)
    return g


def find_back_edges(nodes: Sequence[str], starts: Sequence[str],
                    succ: dict[str, list[tuple[str, str]]]) -> set[str]:
    """Flows that close a cycle: depth-first from the start events, then from the rest."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[str] = set()
    for root in [*starts, *nodes]:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, todo = stack[-1]
            for flow_id, target in todo:
                if state.get(target) == 1:
                    back.add(flow_id)
                elif target not in state:
                    state[target] = 1
                    stack.append((target, iter(succ[target])))
                    break
            else:
                state[node] = 2
                stack.pop()
    return back


def longest_path_ranks(nodes: Sequence[str], succ: dict[str, list[tuple[str, str]]],
                       back: set[str]) -> tuple[dict[str, int], list[str]]:
    """Rank of each node (longest forward path reaching it) and a topological order."""
    indegree = dict.fromkeys(nodes, 0)
    for node in nodes:
        for flow_id, target in succ[node]:
            if flow_id not in back:
                indegree[target] += 1
    order = [n for n in nodes if indegree[n] == 0]
    rank = dict.fromkeys(nodes, 0)
    for node in order:  # grows while iterating (Kahn)
        for flow_id, target in succ[node]:
            if flow_id in back:
                continue
            rank[target] = max(rank[target], rank[node] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                order.append(target)
    return rank, order


# --- layout of one flow container --------------------------------------------------------------


@dataclass
class Drawing:
    """Laid-out shapes, edges and labels, keyed by the semantic id."""

    shapes: dict[str, Rect] = field(default_factory=dict)
    edges: dict[str, list[Point]] = field(default_factory=dict)
    labels: dict[str, Rect] = field(default_factory=dict)
    expanded: set[str] = field(default_factory=set)
    bands: list[Rect] = field(default_factory=list)
    right: int = 0
    bottom: int = 0

    def merge(self, other: Drawing, dx: int, dy: int) -> None:
        self.shapes.update({k: r.moved(dx, dy) for k, r in other.shapes.items()})
        self.edges.update({k: [(x + dx, y + dy) for x, y in pts] for k, pts in other.edges.items()})
        self.labels.update({k: r.moved(dx, dy) for k, r in other.labels.items()})
        self.expanded |= other.expanded


@dataclass(frozen=True)
class Frame:
    """Where a container's bands go: their left x, the top y, and insets."""

    left: int
    top: int
    inset: int  # band left -> first column
    right_pad: int
    label_inset: int  # band left -> where labels may start (a lane's header is off limits)


PROCESS_FRAME = Frame(POOL_X + POOL_HEADER, POOL_Y, PROCESS_INSET, PROCESS_RIGHT, LANE_HEADER)
SUB_FRAME = Frame(0, SUB_HEADER, SUB_INSET, SUB_RIGHT, 0)


class FlowLayout:
    """Layered left-to-right layout of the flow nodes directly inside one container."""

    def __init__(self, container: etree._Element, lane_refs: Sequence[Sequence[str]], frame: Frame):
        self.g = build_graph(container)
        self.lane_refs = list(lane_refs) or [[]]
        self.frame = frame
        self.order = {n: i for i, n in enumerate(self.g.elements)}
        self.succ: dict[str, list[tuple[str, str]]] = {n: [] for n in self.g.nodes}
        for f in self.g.flows:
            self.succ[self.g.ranked(f.source)].append((f.id, f.target))
        self.back: set[str] = set()
        self.rank: dict[str, int] = {}
        self.topo: list[str] = []
        self.lane: dict[str, int] = {}
        self.row: dict[str, int] = {}
        self.size: dict[str, tuple[int, int]] = {}
        self.inner: dict[str, Drawing] = {}
        self.rects: dict[str, Rect] = {}
        self.channel_index: dict[str, tuple[int, int]] = {}  # back flow -> (band, slot)
        self.channel_count: dict[int, int] = defaultdict(int)  # band -> back-edge channels
        self.col_left: list[int] = []
        self.col_w: list[int] = []
        self.bands: list[Rect] = []
        self.row_tops: list[list[int]] = []
        self.row_heights: list[list[int]] = []
        self.gaps: list[int] = []

    def run(self) -> Drawing:
        starts = [n for n in self.g.nodes if self.g.kind(n) == "startEvent"]
        self.back = find_back_edges(self.g.nodes, starts, self.succ)
        self.rank, self.topo = longest_path_ranks(self.g.nodes, self.succ, self.back)
        self._assign_lanes()
        self._assign_rows()
        self._assign_channels()
        self._measure()
        self._columns()
        sub_x = self._event_sub_offsets()
        self._bands(sub_x)
        self._place_nodes(sub_x)
        self._place_boundaries()
        edges = {f.id: self._route(f) for f in self.g.flows}
        return self._drawing(edges, self._labels(edges))

    # -- columns, lanes and rows --

    def _forward_in(self, node: str) -> list[Flow]:
        return [f for f in self.g.flows if f.target == node and f.id not in self.back]

    def _assign_lanes(self) -> None:
        listed: dict[str, int] = {}
        for i, refs in enumerate(self.lane_refs):
            for ref in refs:
                listed.setdefault(ref, i)
        for node in self.topo:  # unlisted nodes follow their first predecessor
            preds = [self.g.ranked(f.source) for f in self._forward_in(node)]
            self.lane[node] = listed.get(node, self.lane[preds[0]] if preds else 0)
        for node in self.g.event_subs:
            self.lane[node] = listed.get(node, 0)
        for node in self.g.boundaries:
            self.lane[node] = self.lane[self.g.host[node]]

    def _preferred_row(self, node: str) -> int:
        """The sub-row of a same-lane predecessor (below the host for a boundary event's)."""
        rows = [self.row[self.g.ranked(f.source)] + (f.source in self.g.host)
                for f in self._forward_in(node)
                if self.lane[self.g.ranked(f.source)] == self.lane[node]]
        return min(rows, default=0)

    def _assign_rows(self) -> None:
        used: dict[tuple[int, int], set[int]] = defaultdict(set)
        for node in sorted(self.g.nodes, key=lambda n: (self.rank[n], self.order[n])):
            row = self._preferred_row(node)
            taken = used[(self.lane[node], self.rank[node])]
            while row in taken:
                row += 1
            taken.add(row)
            self.row[node] = row

    def _assign_channels(self) -> None:
        """Each back edge gets its own horizontal channel at the top of the upper lane."""
        for f in self.g.flows:
            if f.id in self.back:
                band = min(self.lane[self.g.ranked(f.source)], self.lane[f.target])
                self.channel_index[f.id] = (band, self.channel_count[band])
                self.channel_count[band] += 1

    def _measure(self) -> None:
        for node in [*self.g.nodes, *self.g.event_subs, *self.g.boundaries]:
            el = self.g.elements[node]
            if local(el) in CONTAINER_TAGS:
                inner = FlowLayout(el, [], SUB_FRAME).run()
                self.inner[node] = inner
                self.size[node] = (even(inner.right), even(inner.bottom))
            else:
                self.size[node] = node_size(local(el) or "")

    def _columns(self) -> None:
        count = max(self.rank.values(), default=-1) + 1
        self.col_w = [MIN_COL_W] * count
        for node in self.g.nodes:
            self.col_w[self.rank[node]] = max(self.col_w[self.rank[node]], self.size[node][0])
        x = self.frame.left + self.frame.inset
        for w in self.col_w:
            self.col_left.append(x)
            x += w + COL_GAP

    def _main_right(self) -> int:
        if not self.col_left:  # nothing but event subprocesses, or an empty subprocess
            return self.frame.left + self.frame.inset + (MIN_COL_W if not self.g.event_subs else -COL_GAP)
        return self.col_left[-1] + self.col_w[-1]

    def _event_sub_offsets(self) -> dict[str, int]:
        """x of each event subprocess: side by side in its lane, after the last column."""
        cursor: dict[int, int] = defaultdict(lambda: self._main_right() + COL_GAP)
        xs: dict[str, int] = {}
        for node in self.g.event_subs:
            xs[node] = cursor[self.lane[node]]
            cursor[self.lane[node]] += self.size[node][0] + COL_GAP
        return xs

    # -- geometry --

    def _row_heights(self, band: int) -> list[int]:
        members = [n for n in self.g.nodes if self.lane[n] == band]
        heights = [ROW_MIN] * (max((self.row[n] for n in members), default=0) + 1)
        for n in members:
            heights[self.row[n]] = max(heights[self.row[n]], even(self.size[n][1]))
        return heights

    def _bands(self, sub_x: dict[str, int]) -> None:
        width = max([self._main_right(), *(x + self.size[n][0] for n, x in sub_x.items())])
        width += self.frame.right_pad - self.frame.left
        y = self.frame.top
        for band in range(len(self.lane_refs)):
            heights = self._row_heights(band)
            pad_top = BAND_PAD_TOP + CHANNEL_STEP * self.channel_count[band]
            tops = [y + pad_top + sum(heights[:i]) + ROW_GAP * i for i in range(len(heights))]
            content = sum(heights) + ROW_GAP * (len(heights) - 1)
            subs = [self.size[n][1] for n in self.g.event_subs if self.lane[n] == band]
            height = pad_top + max([content, *subs]) + BAND_PAD_BOTTOM
            self.row_tops.append(tops)
            self.row_heights.append(heights)
            self.gaps += [t + h + ROW_GAP // 2 for t, h in zip(tops, heights, strict=True)]
            self.bands.append(Rect(self.frame.left, y, width, height))
            y += height

    def _place_nodes(self, sub_x: dict[str, int]) -> None:
        for node in self.g.nodes:
            band, row, col = self.lane[node], self.row[node], self.rank[node]
            w, h = self.size[node]
            row_h = self.row_heights[band][row]
            x = self.col_left[col] + (self.col_w[col] - w) // 2
            self.rects[node] = Rect(x, self.row_tops[band][row] + (row_h - h) // 2, w, h)
        for node, x in sub_x.items():
            band = self.bands[self.lane[node]]
            pad_top = BAND_PAD_TOP + CHANNEL_STEP * self.channel_count[self.lane[node]]
            self.rects[node] = Rect(x, band.y + pad_top, *self.size[node])

    def _place_boundaries(self) -> None:
        """On the host's bottom border: centre x = host right - 20 (further ones to the left),
        top y = host bottom - 18, i.e. the centre on the border line as bpmn-js attaches them."""
        seen: dict[str, int] = defaultdict(int)
        for node in self.g.boundaries:
            host = self.rects[self.g.host[node]]
            w, h = self.size[node]
            cx = host.right - BOUNDARY_INSET - BOUNDARY_STEP * seen[self.g.host[node]]
            seen[self.g.host[node]] += 1
            self.rects[node] = Rect(cx - w // 2, host.bottom - h // 2, w, h)

    # -- edges --

    def _channel_after(self, node: str) -> int:
        col = self.rank[self.g.ranked(node)]
        return self.col_left[col] + self.col_w[col] + COL_GAP // 2

    def _channel_before(self, node: str) -> int:
        return self.col_left[self.rank[node]] - COL_GAP // 2

    def _gaps_near(self, y: int, below: int | None = None) -> list[int]:
        gaps = [g for g in self.gaps if below is None or g > below]
        return sorted(gaps, key=lambda g: (abs(g - y), g))[:6]

    def _route(self, f: Flow) -> list[Point]:
        s, t = self.rects[f.source], self.rects[f.target]
        if f.id in self.back:
            candidates = self._back_routes(f, s, t)
        elif f.source in self.g.host:
            candidates = self._boundary_routes(f, s, t)
        else:
            candidates = self._forward_routes(f, s, t)
        others = [r for n, r in self.rects.items() if n not in (f.source, f.target)]
        route = pick_route(candidates, [s, t], others)
        if route is None:  # cannot happen for a well-formed layout; keep the file drawable
            mid = self._channel_before(f.target)
            route = simplify([right(s), (mid, s.cy), (mid, t.cy), left(t)]) or [right(s), left(t)]
        return route

    def _forward_routes(self, f: Flow, s: Rect, t: Rect) -> list[list[Point]]:
        after, before = self._channel_after(f.source), self._channel_before(f.target)
        routes: list[list[Point]] = []
        if s.cy == t.cy:
            routes.append([right(s), left(t)])
        else:
            exit_ = bottom(s) if t.cy > s.cy else top(s)
            routes += [[exit_, (s.cx, t.cy), left(t)],
                       [right(s), (before, s.cy), (before, t.cy), left(t)],
                       [right(s), (after, s.cy), (after, t.cy), left(t)]]
        routes += [[right(s), (after, s.cy), (after, g), (before, g), (before, t.cy), left(t)]
                   for g in self._gaps_near(s.cy)]
        return routes

    def _boundary_routes(self, f: Flow, b: Rect, t: Rect) -> list[list[Point]]:
        """Out of the bottom of the boundary event, down, then right into the target."""
        before = self._channel_before(f.target)
        routes: list[list[Point]] = []
        if t.cy > b.bottom:
            routes.append([bottom(b), (b.cx, t.cy), left(t)])
        routes += [[bottom(b), (b.cx, g), (before, g), (before, t.cy), left(t)]
                   for g in self._gaps_near(b.bottom, below=b.bottom)]
        return routes

    def _back_routes(self, f: Flow, s: Rect, t: Rect) -> list[list[Point]]:
        """Up out of the source, left along the flow's channel, down into the target."""
        band, slot = self.channel_index[f.id]
        y = self.bands[band].y + CHANNEL_BASE + CHANNEL_STEP * slot
        after = self._channel_after(f.source)
        if f.source in self.g.host:
            below = min(self._gaps_near(s.bottom, below=s.bottom), default=s.bottom + 20)
            exits = [[bottom(s), (s.cx, below), (after, below)]]
        else:
            exits = [[top(s)], [right(s), (after, s.cy)]]
        entries = [[top(t)], [(self._channel_before(f.target), t.cy), left(t)]]
        return [[*out, (out[-1][0], y), (into[0][0], y), *into] for out in exits for into in entries]

    # -- labels and result --

    def _labels(self, edges: dict[str, list[Point]]) -> dict[str, Rect]:
        segments = [seg for pts in edges.values() for seg in pairwise(pts)]
        space = LabelSpace(list(self.rects.values()), segments)
        labels: dict[str, Rect] = {}
        for node, el in self.g.elements.items():
            name = (el.get("name") or "").strip()
            if name and local(el) in LABELLED_TAGS:
                band = self.bands[self.lane[node]]
                area = Rect(band.x + self.frame.label_inset, band.y, band.w - self.frame.label_inset, band.h)
                spots = node_label_spots(self.rects[node], *text_size(name), node in self.g.host)
                labels[node] = space.place(spots, area)
        first, last = self.bands[0], self.bands[-1]
        area = Rect(first.x + self.frame.label_inset, first.y, first.w - self.frame.label_inset,
                    last.bottom - first.y)
        for f in self.g.flows:
            if f.name:
                labels[f.id] = space.place(edge_label_spots(edges[f.id], *text_size(f.name)), area)
        return labels

    def _drawing(self, edges: dict[str, list[Point]], labels: dict[str, Rect]) -> Drawing:
        d = Drawing(bands=self.bands, right=self.bands[0].right, bottom=self.bands[-1].bottom)
        for node in self.g.elements:
            d.shapes[node] = self.rects[node]
            if node in self.inner:
                d.expanded.add(node)
                d.merge(self.inner[node], self.rects[node].x, self.rects[node].y)
        for f in self.g.flows:
            d.edges[f.id] = edges[f.id]
        d.labels.update(labels)
        return d


# --- the document --------------------------------------------------------------------------------


def unique_id(root: etree._Element, wanted: str) -> str:
    taken = {el.get("id") for el in root.iter(etree.Element)}
    candidate, n = wanted, 1
    while candidate in taken:
        n += 1
        candidate = f"{wanted}_{n}"
    return candidate


def find_process(root: etree._Element) -> etree._Element:
    processes = root.findall(bpmn("process"))
    if len(processes) != 1:
        raise LayoutError(f"expected exactly one bpmn:process, found {len(processes)}")
    return processes[0]


def ensure_participant(root: etree._Element, process: etree._Element) -> tuple[str, str]:
    """The ids of the collaboration and of the process's participant, created when missing."""
    collaborations = root.findall(bpmn("collaboration"))
    if len(collaborations) > 1:
        raise LayoutError("more than one bpmn:collaboration")
    if collaborations:
        collaboration = collaborations[0]
    else:
        collaboration = etree.SubElement(root, bpmn("collaboration"),
                                         {"id": unique_id(root, f"Collaboration_{process.get('id')}")})
        process.addprevious(collaboration)
        collaboration.tail = (collaboration.getprevious().tail if collaboration.getprevious() is not None
                              else root.text) or "\n  "
    participants = collaboration.findall(bpmn("participant"))
    mine = [p for p in participants if p.get("processRef") == process.get("id")]
    if len(participants) > len(mine) or len(mine) > 1:
        raise LayoutError("only a collaboration with a single participant (one pool) is supported")
    if not mine:
        attrib = {"id": unique_id(root, f"Participant_{process.get('id')}")}
        if process.get("name"):
            attrib["name"] = process.get("name")
        attrib["processRef"] = process.get("id")
        mine.append(etree.SubElement(collaboration, bpmn("participant"), attrib))
    return collaboration.get("id"), mine[0].get("id")


def read_lanes(process: etree._Element) -> list[tuple[str, list[str]]]:
    """(lane id, flowNodeRefs) of the process's lanes, in laneSet order."""
    lane_sets = process.findall(bpmn("laneSet"))
    if len(lane_sets) > 1:
        raise LayoutError("more than one bpmn:laneSet in the process")
    lanes = lane_sets[0].findall(bpmn("lane")) if lane_sets else []
    if any(lane.find(bpmn("childLaneSet")) is not None for lane in lanes):
        raise LayoutError("nested lanes (bpmn:childLaneSet) are not supported")
    return [(lane.get("id"), [(ref.text or "").strip() for ref in lane.iterchildren(bpmn("flowNodeRef"))])
            for lane in lanes]


def ensure_di_namespaces(root: etree._Element) -> None:
    """Declare bpmndi/dc/di on the root when absent, keeping every declaration already there."""
    declared = set(root.nsmap.values())
    missing: dict[str, str] = {}
    for prefix, uri in DI_PREFIXES:
        if uri in declared:
            continue
        name, n = prefix, 1
        while name in root.nsmap or name in missing:
            n += 1
            name = f"{prefix}{n}"
        missing[name] = uri
    if missing:
        keep = sorted({p for el in root.iter(etree.Element) for p in el.nsmap if p} | set(missing))
        etree.cleanup_namespaces(root, top_nsmap=missing, keep_ns_prefixes=keep)


def remove_diagrams(root: etree._Element) -> tuple[str | None, str | None, str | None]:
    """Drop every bpmndi:BPMNDiagram.

    Returns the ids of the first diagram and of its plane, and its namespace prefix ("" for a
    default namespace); all three None when there was no diagram.
    """
    diagrams = root.findall(f"{{{BPMNDI_NS}}}BPMNDiagram")
    if not diagrams:
        return None, None, None
    plane = diagrams[0].find(f"{{{BPMNDI_NS}}}BPMNPlane")
    ids = (diagrams[0].get("id"), plane.get("id") if plane is not None else None, diagrams[0].prefix or "")
    for diagram in diagrams:
        root.remove(diagram)
    return ids


def _bounds(parent: etree._Element, r: Rect) -> None:
    etree.SubElement(parent, f"{{{DC_NS}}}Bounds",
                     {"x": str(r.x), "y": str(r.y), "width": str(r.w), "height": str(r.h)})


def _shape(plane: etree._Element, element_id: str, r: Rect, extra: dict[str, str],
           label: Rect | None = None) -> None:
    shape = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNShape",
                             {"id": f"{element_id}_di", "bpmnElement": element_id, **extra})
    _bounds(shape, r)
    if label is not None:
        _bounds(etree.SubElement(shape, f"{{{BPMNDI_NS}}}BPMNLabel"), label)


def _edge(plane: etree._Element, element_id: str, points: Sequence[Point], label: Rect | None) -> None:
    edge = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNEdge",
                            {"id": f"{element_id}_di", "bpmnElement": element_id})
    for x, y in points:
        etree.SubElement(edge, f"{{{DI_NS}}}waypoint", {"x": str(x), "y": str(y)})
    if label is not None:
        _bounds(etree.SubElement(edge, f"{{{BPMNDI_NS}}}BPMNLabel"), label)


@dataclass(frozen=True)
class Pool:
    collaboration: str
    participant: str
    lanes: list[str]


def write_diagram(root: etree._Element, ids: tuple[str, str], pool: Pool, d: Drawing) -> etree._Element:
    """Append the new bpmndi:BPMNDiagram, indented like the rest of the file."""
    indent = (root.text or "").strip("\r\n") if (root.text or "").isspace() else "  "
    diagram = etree.SubElement(root, f"{{{BPMNDI_NS}}}BPMNDiagram", {"id": ids[0]})
    plane = etree.SubElement(diagram, f"{{{BPMNDI_NS}}}BPMNPlane",
                             {"id": ids[1], "bpmnElement": pool.collaboration})
    horizontal = {"isHorizontal": "true"}
    first, last = d.bands[0], d.bands[-1]
    _shape(plane, pool.participant, Rect(POOL_X, POOL_Y, first.right - POOL_X, last.bottom - POOL_Y), horizontal)
    for lane_id, band in zip(pool.lanes, d.bands, strict=False):
        _shape(plane, lane_id, band, horizontal)
    for node, r in d.shapes.items():
        _shape(plane, node, r, {"isExpanded": "true"} if node in d.expanded else {}, d.labels.get(node))
    for flow, points in d.edges.items():
        _edge(plane, flow, points, d.labels.get(flow))
    etree.indent(diagram, space=indent or "  ", level=1)
    previous = diagram.getprevious()
    if previous is not None:
        previous.tail = "\n" + (indent or "  ")
    else:
        root.text = "\n" + (indent or "  ")
    diagram.tail = "\n"
    return diagram


@dataclass(frozen=True)
class Rewrite:
    old_prefix: str | None  # the removed diagram's prefix ("" = default namespace); None: there was none
    new_prefix: str
    indent: str


def rewrite_tree(root: etree._Element) -> Rewrite:
    """Replace the diagram of a parsed document (adding the pool and namespaces it needs)."""
    if local(root) != "definitions":
        raise LayoutError("not a BPMN 2.0 document (no bpmn:definitions root)")
    process = find_process(root)
    collaboration, participant = ensure_participant(root, process)
    old_diagram, old_plane, old_prefix = remove_diagrams(root)
    ensure_di_namespaces(root)
    lanes = read_lanes(process)
    drawing = FlowLayout(process, [refs for _, refs in lanes], PROCESS_FRAME).run()
    ids = (old_diagram or unique_id(root, "BPMNDiagram_1"),
           old_plane or unique_id(root, "BPMNPlane_1"))
    diagram = write_diagram(root, ids, Pool(collaboration, participant, [lane for lane, _ in lanes]), drawing)
    return Rewrite(old_prefix, diagram.prefix or "", (diagram.getprevious().tail or "").strip("\r\n"))


def _diagram_pattern(prefix: str) -> re.Pattern[bytes]:
    tag = re.escape(f"{prefix}:BPMNDiagram" if prefix else "BPMNDiagram").encode()
    return re.compile(rb"<" + tag + rb"\b(?:[^>]*?/>|.*?</" + tag + rb"\s*>)", re.DOTALL)


def _same_document(a: bytes, b: bytes) -> bool:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)
    try:
        return (etree.tostring(etree.fromstring(a, parser), method="c14n")
                == etree.tostring(etree.fromstring(b, parser), method="c14n"))
    except etree.XMLSyntaxError:
        return False


def splice_diagram(original: bytes, relaid: bytes, rw: Rewrite) -> bytes:
    """The original bytes with only the diagram replaced, when that yields the same document.

    Keeps the rest of the file byte for byte (quoting, ``" />"``), so a re-layout diffs only in
    the DI; falls back to the fully re-serialised document otherwise.
    """
    new = _diagram_pattern(rw.new_prefix).findall(relaid)
    if len(new) != 1:
        return relaid
    snippet = new[0].replace(b"/>", b" />") if b" />" in original else new[0]
    spans = list(_diagram_pattern(rw.old_prefix).finditer(original)) if rw.old_prefix is not None else []
    if spans:
        kept = b"".join(original[a.end():b.start()] for a, b in pairwise(spans))
        out = original[:spans[0].start()] + snippet + kept + original[spans[-1].end():]
    else:
        end = list(re.finditer(rb"</(?:[\w.-]+:)?definitions\s*>", original))
        if not end:
            return relaid
        head = original[:end[-1].start()].rstrip(b" \t")
        head += b"" if head.endswith(b"\n") else b"\n"
        out = head + rw.indent.encode() + snippet + b"\n" + original[end[-1].start():]
    return out if _same_document(out, relaid) else relaid


def layout_document(data: bytes) -> bytes:
    """The BPMN document with a freshly laid-out diagram (the semantic part is kept as is)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(data, parser)
    rewrite = rewrite_tree(root)
    nodes = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]
    body = b"\n".join(etree.tostring(n, encoding="UTF-8", xml_declaration=False, with_tail=False) for n in nodes)
    relaid = b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"
    return splice_diagram(data, relaid, rewrite)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Regenerate the BPMN DI (diagram layout) of a .bpmn file.")
    ap.add_argument("path", type=Path, help="the .bpmn file")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--in-place", action="store_true", help="rewrite the file itself")
    where.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")
    args = ap.parse_args(argv)
    try:
        result = layout_document(args.path.read_bytes())
    except (LayoutError, etree.XMLSyntaxError, OSError) as exc:
        print(f"bpmn_layout: {args.path}: {exc}", file=sys.stderr)
        return 1
    target = args.path if args.in_place else args.output
    if target is None:
        sys.stdout.buffer.write(result)
    else:
        target.write_bytes(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
