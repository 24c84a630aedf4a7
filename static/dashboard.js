// The dashboard's charts (Chart.js from /vendor), drawn from the JSON next to each table: the
// same numbers as the table, with the instance-list URL of every bar. Without Chart.js the page
// keeps its tables and links.
(function () {
  "use strict";

  var COLOURS = {
    in_progress: "#9aa5b1", closed: "#cbd2d9", published: "#2f855a", recommended: "#68d391",
    approved: "#2f855a", failed: "#dd6b20", rejected: "#c53030", rejected_routing: "#b7791f",
    rejected_scope: "#d69e2e", vetoed: "#742a2a", lapsed: "#718096", invalid: "#9b2c2c",
    count: "#2f6fb3", overdue: "#e0685c", average: "#b36b00", rate: "#2f855a",
    applicants: "#2f6fb3", required: "#f6ad55", archives: "#2f855a"
  };
  var SPARE = ["#2f6fb3", "#805ad5", "#319795", "#d53f8c", "#dd6b20", "#4a5568"];

  function colour(key, index) {
    return COLOURS[key] || SPARE[index % SPARE.length];
  }

  function short(label) {
    return label.length > 14 ? label.slice(0, 13) + "…" : label;
  }

  function datasets(data) {
    var unit = data.datasets.length ? data.datasets[0].unit : "";
    return data.datasets.map(function (ds, i) {
      var second = ds.unit !== unit;  // another unit (e.g. working days next to counts): a line on its own axis
      return {
        label: ds.label, data: ds.data, urls: ds.urls, key: ds.key,
        type: second ? "line" : "bar", yAxisID: second ? "y1" : "y", order: second ? 0 : 1,
        backgroundColor: colour(ds.key, i), borderColor: colour(ds.key, i)
      };
    });
  }

  function scales(data, sets) {
    var stacked = data.type === "stacked";
    var unit = data.datasets.length ? data.datasets[0].unit : "";
    var result = {
      x: { stacked: stacked, ticks: { callback: function (value) { return short(this.getLabelForValue(value)); } } },
      y: { stacked: stacked, beginAtZero: true, title: { display: true, text: unit } }
    };
    var other = sets.filter(function (s) { return s.yAxisID === "y1"; });
    if (other.length) {
      var otherUnit = data.datasets.filter(function (d) { return d.unit !== unit; })[0].unit;
      result.y1 = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                    title: { display: true, text: otherUnit } };
    }
    return result;
  }

  function open(event, elements, chart) {
    if (!elements.length) { return; }
    var hit = elements[0];
    var urls = chart.data.datasets[hit.datasetIndex].urls || [];
    if (urls[hit.index]) { window.location.assign(urls[hit.index]); }
  }

  function hover(event, elements) {
    event.native.target.style.cursor = elements.length ? "pointer" : "default";
  }

  function draw(node) {
    var data;
    try { data = JSON.parse(node.textContent); } catch (e) { return; }
    var canvas = document.getElementById("canvas-" + data.key);
    if (!canvas || !data.labels.length) { return; }
    var sets = datasets(data);
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: sets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        onClick: open, onHover: hover, scales: scales(data, sets),
        plugins: { legend: { position: "bottom" }, title: { display: false } }
      }
    });
    canvas.setAttribute("data-ready", "1");
  }

  function show() {
    if (typeof window.Chart !== "function") { return; }
    Array.prototype.forEach.call(document.querySelectorAll("script.dash-chart-data"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", show);
  } else {
    show();
  }
}());
