/* The form editor page: schema and UI schema textareas, a live preview rendered by the server. */
(function () {
  'use strict';

  var Studio = window.Studio;
  var config = Studio.config;
  var schema = document.getElementById('schema-text');
  var ui = document.getElementById('ui-text');
  var preview = document.getElementById('form-preview');
  var timer = null;
  var sequence = 0;

  function refresh() {
    var mine = ++sequence;
    Studio.post(config.preview_url, { schema: schema.value, ui: ui.value }).then(function (result) {
      if (mine !== sequence) { return; }
      preview.innerHTML = typeof result.data === 'string' ? result.data : '<p class="error">' + Studio.errorText(result) + '</p>';
      preview.setAttribute('data-ok', result.ok ? 'true' : 'false');
      preview.setAttribute('data-version', String(mine));
      preview.querySelectorAll('input, select, textarea, button').forEach(function (n) { n.setAttribute('tabindex', '-1'); });
    });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  }

  schema.addEventListener('input', later);
  ui.addEventListener('input', later);
  refresh();

  var button = document.getElementById('save-draft');
  if (button) {
    button.addEventListener('click', function () {
      Studio.status('正在保存…');
      var body = { name: config.name, schema: schema.value };
      if (config.ui_name) { body.ui_name = config.ui_name; body.ui = ui.value; }
      Studio.post(config.save_url, body).then(function (result) {
        Studio.status(result.ok ? '草稿已保存' : Studio.errorText(result), result.ok ? 'ok' : 'error');
      });
    });
  }
})();
