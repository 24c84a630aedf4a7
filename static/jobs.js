// Progress of a background job: polls its JSON (each poll advances the job) until it is finished.
(function () {
  var box = document.getElementById("job");
  if (!box || box.dataset.finished === "yes") { return; }
  var url = box.dataset.url;
  function text(id, value) { document.getElementById(id).textContent = value; }
  function cell(row, value) { var td = document.createElement("td"); td.textContent = value; row.appendChild(td); }
  function render(job) {
    text("job-status", job.status_label);
    text("job-done", job.done);
    text("job-total", job.total);
    text("job-failed", job.failed);
    document.getElementById("job-progress").value = job.percent;
    var body = document.querySelector("#job-results tbody");
    body.textContent = "";
    job.results.forEach(function (r) {
      var row = document.createElement("tr");
      row.dataset.item = r.id;
      row.dataset.ok = r.ok ? "yes" : "no";
      var first = document.createElement("td");
      var link = document.createElement("a");
      link.href = box.dataset.history.replace("/0/", "/" + encodeURIComponent(r.id) + "/");
      link.textContent = r.id;
      first.appendChild(link);
      if (r.title) { first.appendChild(document.createTextNode(" " + r.title)); }
      row.appendChild(first);
      cell(row, r.ok ? "已迁移" : "未迁移");
      cell(row, r.message);
      body.appendChild(row);
    });
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { text("job-status", "无法获取进度，请刷新页面"); return; }
        render(job);
        if (!job.finished) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 500);
})();
