// The instance page's diagram: the case's process read-only (bpmn-js NavigatedViewer), with
// completed, active, cancelled and errored elements marked ("mark-<kind>") and taken sequence
// flows drawn as completed. Without bpmn-js the page keeps its table of marked steps.
(function () {
  "use strict";

  var LABELS = { completed: "已完成", active: "进行中", cancelled: "已取消", error: "出错" };

  function tooltip(registry, id, text) {
    var gfx = registry.getGraphics(id);
    if (!gfx) { return; }
    var title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = text;
    gfx.appendChild(title);
  }

  function mark(viewer, data) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var counts = data.counts || {};
    Object.keys(LABELS).forEach(function (kind) {
      ((data.marks || {})[kind] || []).forEach(function (id) {
        var element = registry.get(id);
        if (!element) { return; }
        canvas.addMarker(id, "mark-" + kind);
        var name = (element.businessObject && element.businessObject.name) || id;
        var times = counts[id] ? "，已完成 " + counts[id] + " 次" : "";
        tooltip(registry, id, name + "：" + LABELS[kind] + times);
      });
    });
    (data.flows || []).forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, "mark-completed"); }
    });
  }

  window.DiagramView.whenReady(function () {
    var data = window.DiagramView.readJson("case-diagram-marks");
    if (!data) { return; }
    window.DiagramView.show({
      container: "case-diagram", xml: window.DiagramView.readJson("case-diagram-xml"),
      paint: function (viewer) { mark(viewer, data); }
    });
  });
}());
