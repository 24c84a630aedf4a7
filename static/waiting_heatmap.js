// The waiting heat map: the process's current diagram (bpmn-js NavigatedViewer from /vendor), each
// user task coloured by how many cases wait there, with an overlay of the count and the average
// wait linking to the instance list. Without bpmn-js the page keeps its table.
(function () {
  "use strict";

  function level(count, most) {
    // Five shades; the busiest step always gets the darkest.
    return Math.max(1, Math.ceil((count / most) * 5));
  }

  function badge(id, cell) {
    var link = document.createElement("a");
    link.className = "heat-badge";
    link.href = cell.url || "#";
    link.setAttribute("data-step", id);
    link.textContent = cell.count + " 件 · 平均 " + cell.average.toFixed(1) + " 个工作日";
    link.title = cell.name + "：待办 " + cell.count + " 件，平均等待 " + cell.average.toFixed(1) +
      " 个工作日，最长 " + cell.longest + " 个工作日，逾期 " + cell.overdue + " 件";
    return link;
  }

  function paint(viewer, cells) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    var ids = Object.keys(cells).filter(function (id) { return registry.get(id); });
    var most = Math.max.apply(null, ids.map(function (id) { return cells[id].count; }).concat([1]));
    ids.forEach(function (id) {
      canvas.addMarker(id, "heat-" + level(cells[id].count, most));
      overlays.add(id, "heat", { position: { top: -22, left: 0 }, html: badge(id, cells[id]) });
    });
  }

  window.DiagramView.whenReady(function () {
    var cells = window.DiagramView.readJson("heatmap-cells") || {};
    window.DiagramView.show({
      container: "waiting-diagram", xml: window.DiagramView.readJson("heatmap-xml"), fallback: "waiting-diagram-fallback",
      paint: function (viewer) { paint(viewer, cells); }
    });
  });
}());
