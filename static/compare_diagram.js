// The comparison page's diagram: the new version read-only (bpmn-js NavigatedViewer), with
// added and changed elements coloured. Without bpmn-js (vendor files not installed) the page
// keeps the table of changes only.
(function () {
  "use strict";

  function mark(viewer, ids, marker) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    (ids || []).forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, marker); }
    });
  }

  window.DiagramView.whenReady(function () {
    var changes = window.DiagramView.readJson("diagram-changes");
    if (!changes) { return; }
    window.DiagramView.show({
      container: "compare-diagram", xml: window.DiagramView.readJson("diagram-xml"), fallback: "compare-diagram-fallback",
      paint: function (viewer) {
        mark(viewer, changes.added, "diff-added");
        mark(viewer, changes.changed, "diff-changed");
      }
    });
  });
}());
