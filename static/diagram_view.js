// Read-only diagrams (bpmn-js NavigatedViewer from /vendor) shared by the version comparison,
// the instance page and the waiting heat map: read the page's JSON script tags, import the XML,
// let the page paint its markers, fit, hide the no-JS fallback and flag the container ready.
// Without bpmn-js, or when the XML does not import, the container stays hidden and the page's
// table remains the view.
(function () {
  "use strict";

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  // options: container (id), xml (string), paint(viewer), fallback (id, optional)
  function show(options) {
    var container = document.getElementById(options.container);
    if (!container || typeof options.xml !== "string" || typeof window.BpmnJS !== "function") { return; }
    container.hidden = false;
    var viewer = new window.BpmnJS({ container: container });
    viewer.importXML(options.xml).then(function () {
      options.paint(viewer);
      viewer.get("canvas").zoom("fit-viewport");
      var fallback = options.fallback && document.getElementById(options.fallback);
      if (fallback) { fallback.hidden = true; }
      container.setAttribute("data-ready", "1");
    }).catch(function () {
      viewer.destroy();
      container.hidden = true;
    });
  }

  function whenReady(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  window.DiagramView = { readJson: readJson, show: show, whenReady: whenReady };
}());
