// The comparison page's diagram: the new version read-only (bpmn-js NavigatedViewer), with
// added and changed elements coloured. Without bpmn-js (vendor files not installed) the page
// keeps the table of changes only.
(function () {
  "use strict";

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function mark(viewer, ids, marker) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    (ids || []).forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, marker); }
    });
  }

  function show() {
    var container = document.getElementById("compare-diagram");
    var changes = readJson("diagram-changes");
    var xml = readJson("diagram-xml");
    if (!container || !changes || typeof xml !== "string" || typeof window.BpmnJS !== "function") { return; }
    container.hidden = false;
    var viewer = new window.BpmnJS({ container: container });
    viewer.importXML(xml).then(function () {
      mark(viewer, changes.added, "diff-added");
      mark(viewer, changes.changed, "diff-changed");
      viewer.get("canvas").zoom("fit-viewport");
      var fallback = document.getElementById("compare-diagram-fallback");
      if (fallback) { fallback.hidden = true; }
      container.setAttribute("data-ready", "1");
    }).catch(function () {
      viewer.destroy();
      container.hidden = true;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", show);
  } else {
    show();
  }
}());
