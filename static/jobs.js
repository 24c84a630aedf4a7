// Progress of a background job: polls its JSON (without workers each poll advances the job) until
// it is finished, then shows its file or result. Works for every job kind: the page gives the words
// for done / not done (data-ok, data-failed) and, for items that are pages, a link pattern (data-link).
(function () {
  var box = document.getElementById("job");
  if (!box || box.dataset.finished === "yes") { return; }
  var url = box.dataset.url;
  function el(id) { return document.getElementById(id); }
  function text(id, value) { el(id).textContent = value; }
  function cell(row, value) { var td = document.createElement("td"); td.textContent = value; row.appendChild(td); }
  function link(id, href, label) {
    var a = el(id);
    if (!href) { a.hidden = true; return false; }
    a.href = href;
    a.textContent = label;
    a.hidden = false;
    return true;
  }
  function first(r) {
    var td = document.createElement("td");
    if (box.dataset.link) {
      var a = document.createElement("a");
      a.href = box.dataset.link.replace("/0/", "/" + encodeURIComponent(r.id) + "/");
      a.textContent = r.id;
      td.appendChild(a);
    } else {
      td.textContent = r.label || r.id;
    }
    if (r.title) { td.appendChild(document.createTextNode(" " + r.title)); }
    return td;
  }
  function render(job) {
    text("job-status", job.status_label);
    text("job-done", job.done);
    text("job-total", job.total);
    text("job-failed", job.failed);
    el("job-progress").value = job.percent;
    el("job-error").hidden = !job.error;
    text("job-error", job.error || "");
    var body = document.querySelector("#job-results tbody");
    body.textContent = "";
    job.results.forEach(function (r) {
      var row = document.createElement("tr");
      row.dataset.item = r.id;
      row.dataset.ok = r.ok ? "yes" : "no";
      row.appendChild(first(r));
      cell(row, r.ok ? box.dataset.ok : box.dataset.failed);
      cell(row, r.message);
      body.appendChild(row);
    });
    var file = link("job-download", job.download_url, "下载 " + (job.file ? job.file.name : "文件"));
    var result = link("job-result", job.outcome_url, "查看" + (job.outcome ? job.outcome.label : "结果"));
    el("job-outcome").hidden = !(file || result);
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { text("job-status", "无法获取进度，请刷新页面"); return; }
        render(job);
        // Without workers the poll does the work: ask again soon; it returns after one batch.
        if (!job.finished) { window.setTimeout(poll, 300); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 300);
})();
